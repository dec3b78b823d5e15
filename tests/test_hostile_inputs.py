"""Hostile environments: special files, odd configs, broken outputs and caches, unreadable
folders (issue 19, reliability probe F13-F22, F26, F29-F33). Each is one line and the right
exit code, never a traceback or a hang."""

from __future__ import annotations

import glob
import json
import os
import subprocess
import sys

import pytest
from click.testing import CliRunner

from asynclint import cli as cli_module
from asynclint import pipeline
from asynclint.cli import cli

BAD = "import time\nasync def main():\n    time.sleep(1)\n"


def _check(*args, **kwargs):
    return CliRunner().invoke(cli, ["check", *map(str, args)], **kwargs)


def _asynclint(*args, cwd, timeout=60, **kwargs):
    return subprocess.run(
        [sys.executable, "-m", "asynclint", *map(str, args)],
        cwd=cwd,
        timeout=timeout,
        **(kwargs or {"capture_output": True}),
    )


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_fifo_named_py_is_skipped_not_read(tmp_path):
    # F13: a FIFO anywhere in the project hung every run (discovery and project analysis
    # opened it, waiting for a writer forever).
    (tmp_path / "app.py").write_text(BAD)
    (tmp_path / "tools").mkdir()
    os.mkfifo(tmp_path / "tools" / "pipe.py")
    one = _asynclint("check", "--no-cache", "app.py", cwd=tmp_path, timeout=30)
    assert one.returncode == 1 and b"ASL201" in one.stdout, one.stderr
    walked = _asynclint("check", "--no-cache", ".", cwd=tmp_path, timeout=30)
    assert walked.returncode == 1 and b"ASL201" in walked.stdout
    assert b"tools/pipe.py: not a regular file; skipped" in walked.stderr
    named = _asynclint("check", "--no-cache", "tools/pipe.py", cwd=tmp_path, timeout=30)
    assert named.returncode == 0 and b"not a regular file; skipped" in named.stderr


def test_device_named_on_the_command_line_is_skipped(tmp_path):
    # F13: /dev/zero was read until memory ran out; /dev/null stands in for any device.
    result = _check("--no-cache", os.devnull)
    assert result.exit_code == 0, result.output
    assert f"{os.devnull}: not a regular file; skipped" in result.stderr


def test_read_source_refuses_special_files():
    from asynclint.source import UnreadableSource, read_source

    with pytest.raises(UnreadableSource, match="not a regular file"):
        read_source(os.devnull)


def test_project_analysis_stays_inside_the_project(tmp_path):
    # F14: without a config, two paths in different folders made the common folder (up to
    # the filesystem root) the project, and every file below it was read.
    for folder, name in (("a", "x.py"), ("b", "y.py"), ("c", "z.py")):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / name).write_text("x = 1\n")
    files = [str(tmp_path / "a" / "x.py"), str(tmp_path / "b" / "y.py")]

    def project_files(paths):
        request = pipeline.Request(paths=tuple(paths))
        planned = pipeline.plan(request)
        return sorted(f for p in planned.projects for f in p.every_file(request, planned.discovered))

    assert project_files(files) == files
    (tmp_path / "setup.cfg").write_text("")
    assert len(project_files(files)) == 3
    # Within a project, a named file's project is the project, not its folder's neighbours above.
    (tmp_path / "a" / ".git").mkdir()
    one = [str(tmp_path / "a" / "x.py")]
    assert project_files(one) == one


def test_flake8_plugin_survives_a_config_error(tmp_path, monkeypatch, capsys):
    # F15: a typo in [tool.asynclint] aborted the whole flake8 run, every plugin with it.
    from asynclint import flake8_plugin

    (tmp_path / "pyproject.toml").write_text('[tool.asynclint]\nselec = ["ASL"]\n')
    path = tmp_path / "good.py"
    path.write_text(BAD)
    pipeline._settings_in.cache_clear()
    for _ in range(2):
        assert list(flake8_plugin.Plugin(None, BAD.splitlines(True), str(path)).run()) == []
    err = capsys.readouterr().err
    assert err.count("unknown key 'selec'") == 1


@pytest.mark.parametrize("content", ["tool = 5\n", 'tool = "asynclint"\n'])
def test_tool_not_a_table_is_one_line(tmp_path, monkeypatch, content):
    # F16
    (tmp_path / "pyproject.toml").write_text(content)
    (tmp_path / "x.py").write_text(BAD)
    monkeypatch.chdir(tmp_path)
    result = _check("--no-cache", ".")
    assert result.exit_code == 2, result.output
    assert "`tool` must be a table" in result.stderr and "Traceback" not in result.output


@pytest.mark.parametrize("content", ["project = 5\n", 'project = "x"\n'])
def test_project_not_a_table_is_ignored(tmp_path, monkeypatch, content):
    # F16: not asynclint's table; its requires-python is simply not there.
    (tmp_path / "pyproject.toml").write_text(content)
    (tmp_path / "x.py").write_text(BAD)
    monkeypatch.chdir(tmp_path)
    result = _check("--no-cache", ".")
    assert result.exit_code == 1 and "ASL201" in result.output


def test_lone_bang_in_gitignore_is_skipped_as_git_does(tmp_path, monkeypatch):
    # F17
    (tmp_path / ".gitignore").write_text("*.log\n!\n")
    (tmp_path / ".git").mkdir()
    (tmp_path / "x.py").write_text(BAD)
    monkeypatch.chdir(tmp_path)
    result = _check("--no-cache", ".")
    assert result.exit_code == 1 and "ASL201" in result.output


def test_lone_bang_in_exclude_is_one_line(tmp_path, monkeypatch):
    (tmp_path / "pyproject.toml").write_text('[tool.asynclint]\nexclude = ["!"]\n')
    (tmp_path / "x.py").write_text(BAD)
    monkeypatch.chdir(tmp_path)
    result = _check("--no-cache", ".")
    assert result.exit_code == 2 and "exclude: invalid pattern '!'" in result.stderr


@pytest.mark.skipif(sys.platform == "darwin", reason="macOS refuses names that are not UTF-8")
def test_sarif_with_a_file_name_that_is_not_utf8(tmp_path, monkeypatch):
    # F18
    with open(os.path.join(os.fsencode(tmp_path), b"bad\xff.py"), "w") as handle:
        handle.write(BAD)
    monkeypatch.chdir(tmp_path)
    result = _check("--no-cache", "--output-format", "sarif", "-o", "out.sarif", ".")
    assert result.exit_code == 1, result.output
    sarif = json.loads((tmp_path / "out.sarif").read_text())
    location = sarif["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert location["uri"] == "bad%FF.py"


@pytest.mark.parametrize("target", ["missing/r.txt", "/dev/full"])
@pytest.mark.parametrize("statistics", [[], ["--statistics"]])
def test_report_that_cannot_be_written_is_one_line(tmp_path, monkeypatch, target, statistics):
    # F19
    if target == "/dev/full" and not os.path.exists(target):
        pytest.skip("no /dev/full")
    (tmp_path / "x.py").write_text(BAD)
    monkeypatch.chdir(tmp_path)
    result = _check("--no-cache", *statistics, "-o", target, ".")
    assert result.exit_code == 2, result.output
    assert "cannot write the report" in result.stderr and target in result.stderr


def test_failed_report_keeps_the_old_one(tmp_path, monkeypatch):
    # F19: -o no longer truncates the old report before the new one is ready.
    (tmp_path / "x.py").write_text(BAD)
    monkeypatch.chdir(tmp_path)
    report = tmp_path / "r.txt"
    report.write_text("old report\n")

    def broken(*args, **kwargs):
        raise RuntimeError("renderer failed")

    monkeypatch.setattr(cli_module, "_render", broken)
    _check("--no-cache", "-o", report, ".")
    assert report.read_text() == "old report\n"


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full")
def test_stdout_on_a_full_disk_is_one_line(tmp_path):
    (tmp_path / "x.py").write_text(BAD)
    with open("/dev/full", "w") as full:
        result = _asynclint(
            "check",
            "--no-cache",
            ".",
            cwd=tmp_path,
            stdout=full,
            stderr=subprocess.PIPE,
        )
    assert result.returncode == 2 and b"Traceback" not in result.stderr
    assert b"cannot write the report" in result.stderr


def test_deeply_nested_cache_file_is_ignored(tmp_path, monkeypatch):
    # F20
    (tmp_path / "pyproject.toml").write_text("[tool.asynclint]\n")
    (tmp_path / "x.py").write_text(BAD)
    monkeypatch.chdir(tmp_path)
    assert _check(".").exit_code == 1
    caches = glob.glob(".asynclint_cache/**/*.json", recursive=True)
    assert caches
    for path in caches:
        with open(path, "w") as handle:
            handle.write("[" * 100_000 + "]" * 100_000)
    result = _check(".")
    assert result.exit_code == 1 and "ASL201" in result.output


def test_closed_stdout(tmp_path):
    # F21: `asynclint check x.py >&-`
    (tmp_path / "x.py").write_text(BAD)
    result = subprocess.run(
        f"{sys.executable} -m asynclint check --no-cache x.py >&-",
        shell=True,
        cwd=tmp_path,
        capture_output=True,
    )
    assert result.returncode == 1 and b"Traceback" not in result.stderr, result.stderr


def test_gitignore_of_an_outer_repository_does_not_apply(tmp_path, monkeypatch):
    # F22: a nested repository ignored by its parent repository is still linted at its root.
    (tmp_path / ".git").mkdir()
    (tmp_path / ".gitignore").write_text("libs/\n")
    nested = tmp_path / "libs" / "mylib"
    (nested / "src").mkdir(parents=True)
    (nested / ".git").mkdir()
    (nested / "src" / "app.py").write_text(BAD)
    monkeypatch.chdir(nested)
    result = _check("--no-cache", ".")
    assert result.exit_code == 1 and "ASL201" in result.output


def test_gitignore_outside_any_repository_does_not_apply(tmp_path, monkeypatch):
    # F22: outside a repository, no ancestor's .gitignore applies (git reads none).
    (tmp_path / ".gitignore").write_text("*\n")
    (tmp_path / "proj").mkdir()
    (tmp_path / "proj" / "app.py").write_text(BAD)
    monkeypatch.chdir(tmp_path / "proj")
    result = _check("--no-cache", ".")
    assert result.exit_code == 1 and "ASL201" in result.output


def test_unreadable_folder_is_a_warning_and_exit_2(tmp_path, monkeypatch):
    # F26: (as root, permissions cannot hide a folder: its scandir fails instead)
    (tmp_path / "pkg" / "locked").mkdir(parents=True)
    (tmp_path / "pkg" / "locked" / "bad.py").write_text(BAD)
    real_scandir = os.scandir

    def scandir(path="."):
        if os.path.basename(os.fspath(path)) == "locked":
            raise PermissionError(13, "Permission denied")
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    monkeypatch.chdir(tmp_path)
    result = _check("--no-cache", "pkg")
    assert result.exit_code == 2, result.output
    assert "pkg/locked: cannot read folder: Permission denied; skipped" in result.stderr
    assert "All checks passed" not in result.output
    assert _check("--no-cache", "--exit-zero", "pkg").exit_code == 0


def test_file_named_twice_is_reported_once(tmp_path, monkeypatch):
    # F29
    (tmp_path / "good.py").write_text(BAD)
    monkeypatch.chdir(tmp_path)
    result = _check("--no-cache", "--output-format", "json", "good.py", tmp_path / "good.py")
    assert len(json.loads(result.stdout)) == 1


def test_cached_finding_with_wrong_types_is_a_miss(tmp_path, monkeypatch):
    # F30
    (tmp_path / "pyproject.toml").write_text('[tool.asynclint]\nselect = ["ASL201"]\n')
    (tmp_path / "x.py").write_text(BAD)
    monkeypatch.chdir(tmp_path)
    assert _check("--output-format", "concise", ".").exit_code == 1
    for path in glob.glob(".asynclint_cache/**/*.json", recursive=True):
        with open(path) as handle:
            text = handle.read()
        with open(path, "w") as handle:
            handle.write(text.replace('"row":3', '"row":"four"'))
    result = _check("--output-format", "concise", ".")
    assert "x.py:3:5: ASL201" in result.output and "four" not in result.output


def test_no_all_checks_passed_after_an_internal_error(tmp_path, monkeypatch):
    # F31
    from asynclint import workers
    from asynclint.diagnostics import FileResult, InternalError

    def broken(path, job):
        return FileResult(path=path, errors=[InternalError(path, "engine", "boom")])

    monkeypatch.setattr(workers, "process", broken)
    (tmp_path / "x.py").write_text("x = 1\n")
    result = _check("--no-cache", tmp_path / "x.py")
    assert result.exit_code == 2
    assert "All checks passed" not in result.output


def test_long_blocking_chain_is_shortened():
    # F33: a 2,000-module chain printed 2,000 hops on one line.
    from asynclint.rules.asl207_blocking_call_in_helper import MAX_SHOWN, _shown

    chain = [f"m{i}.f" for i in range(2000)] + ["time.sleep"]
    shown = _shown(chain)
    assert shown.startswith("m0.f -> m1.f") and shown.endswith("-> time.sleep")
    assert f"... ({len(chain) - MAX_SHOWN} more)" in shown and len(shown) < 200
    assert _shown(["a", "b", "time.sleep"]) == "a -> b -> time.sleep"


def test_each_cache_file_is_written_once_a_run(tmp_path, monkeypatch):
    # F32: the cache was saved after every on-demand round of project analysis, and a long
    # chain advances one module a round: quadratic in the chain's length.
    from asynclint import cache

    (tmp_path / "pyproject.toml").write_text("[tool.asynclint]\n")
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "app.py").write_text("from pkg.m0 import f\nasync def main():\n    f()\n")
    for i in range(6):
        call = (
            f"from pkg.m{i + 1} import f as g\ndef f():\n    g()\n"
            if i < 5
            else "import time\ndef f():\n    time.sleep(1)\n"
        )
        (pkg / f"m{i}.py").write_text(call)
    written = []
    real_write = cache._write
    monkeypatch.setattr(
        cache,
        "_write",
        lambda folder, file, data: (
            written.append(file),
            real_write(folder, file, data),
        ),
    )
    monkeypatch.chdir(tmp_path)
    result = _check("pkg/app.py")
    assert result.exit_code == 1 and "ASL207" in result.output, result.output
    assert written and len(written) == len(set(written))
