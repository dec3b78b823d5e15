"""The command line behaves as ruff's does where users expect it to: statistics, hints, exit
codes, no-files warning, colour and silence, progress on stderr only."""

from __future__ import annotations

import json
import os

import pytest
from click.testing import CliRunner

from asynclint.cli import cli

# One finding with a safe fix (ASL201), one whose only fix is unsafe (ASL303).
MIXED = """\
import time
from sqlalchemy.ext.asyncio import async_sessionmaker

Session = async_sessionmaker(engine)

async def f():
    time.sleep(1)
"""
UNSAFE_ONLY = "from sqlalchemy.ext.asyncio import async_sessionmaker\n\nSession = async_sessionmaker(engine)\n"


def invoke(*args, env=None):
    return CliRunner().invoke(cli, ["check", "--no-cache", *args], env=env)


# ASL303 is opt-in: the projects of these tests select it.
OPT_IN_303 = '[tool.asynclint]\nextend-select = ["ASL303"]\n'


@pytest.fixture
def mixed(tmp_path):
    (tmp_path / "pyproject.toml").write_text(OPT_IN_303)
    path = tmp_path / "app.py"
    path.write_text(MIXED)
    return path


def test_statistics_mark_only_what_the_flags_would_fix_and_end_with_a_total(mixed):
    result = invoke("--statistics", str(mixed))
    assert result.output.splitlines() == [
        "1\tASL201\t[*] blocking-sleep",
        "1\tASL303\t[ ] expire-on-commit",
        "Found 2 errors.",
        "[*] 1 fixable with `--fix` (1 unsafe fix available with `--fix --unsafe-fixes`).",
    ]
    unsafe = invoke("--statistics", "--unsafe-fixes", str(mixed))
    assert unsafe.output.splitlines()[1] == "1\tASL303\t[*] expire-on-commit"
    assert unsafe.output.splitlines()[-1] == "[*] 2 fixable with `--fix`."
    assert invoke("--statistics", "-q", str(mixed)).output.splitlines()[-1] == "1\tASL303\t[ ] expire-on-commit"


def test_statistics_as_json(mixed):
    result = invoke("--statistics", "--output-format", "json", str(mixed))
    assert result.exit_code == 1
    assert json.loads(result.output) == [
        {
            "code": "ASL201",
            "name": "blocking-sleep",
            "count": 1,
            "fixable": True,
            "fixable_count": 1,
        },
        {
            "code": "ASL303",
            "name": "expire-on-commit",
            "count": 1,
            "fixable": False,
            "fixable_count": 0,
        },
    ]


def test_unsafe_hint_is_right_and_singular(tmp_path):
    (tmp_path / "pyproject.toml").write_text(OPT_IN_303)
    path = tmp_path / "s.py"
    path.write_text(UNSAFE_ONLY)
    plain = invoke("--output-format", "concise", str(path))
    assert plain.output.splitlines()[-1] == "1 unsafe fix available with `--fix --unsafe-fixes`."
    assert "hidden fixes" not in plain.output
    # --unsafe-fixes given: the fix is applicable, marked, and no hint to pass it again.
    given = invoke("--output-format", "concise", "--unsafe-fixes", str(path))
    assert "ASL303 [*]" in given.output
    assert given.output.splitlines()[-1] == "[*] 1 fixable with `--fix`."
    assert "--unsafe-fixes`" not in given.output.replace("`--fix`", "")


def test_diff_exit_zero_exits_zero_and_names_what_unsafe_fixes_would_add(mixed):
    result = invoke("--diff", "--exit-zero", str(mixed))
    assert result.exit_code == 0
    assert "+    await asyncio.sleep(1)" in result.stdout
    assert result.stderr == "Would fix 1 error (1 additional fix available with `--unsafe-fixes`).\n"
    assert invoke("--diff", str(mixed)).exit_code == 1


def test_diff_with_only_unsafe_fixes_exits_zero(tmp_path):
    (tmp_path / "pyproject.toml").write_text(OPT_IN_303)
    path = tmp_path / "s.py"
    path.write_text(UNSAFE_ONLY)
    result = invoke("--diff", str(path))
    assert result.exit_code == 0 and result.stdout == ""
    assert result.stderr == "No errors would be fixed (1 fix available with `--unsafe-fixes`).\n"


def test_exit_non_zero_on_fix(tmp_path):
    path = tmp_path / "f.py"
    path.write_text("import time\n\nasync def f():\n    time.sleep(1)\n")
    assert invoke("--fix", str(path)).exit_code == 0  # fixed, nothing remains
    path.write_text("import time\n\nasync def f():\n    time.sleep(1)\n")
    result = invoke("--fix", "--exit-non-zero-on-fix", str(path))
    assert result.exit_code == 1
    assert "Found 1 error (1 fixed, 0 remaining)." in result.output
    assert invoke("--fix", "--exit-non-zero-on-fix", str(path)).exit_code == 0  # nothing left to fix


def test_no_python_files_is_a_warning_and_exit_zero(tmp_path):
    (tmp_path / "empty").mkdir()
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    (notebooks / "analysis.ipynb").write_text('{"cells": []}')
    for target in (tmp_path / "empty", notebooks):
        result = invoke(str(target))
        assert result.exit_code == 0
        assert result.stderr == "warning: No Python files found under the given path(s)\n"
    assert "warning" not in invoke(str(tmp_path / "empty"), "--silent").output


def test_silent_prints_nothing_and_keeps_the_exit_code(mixed):
    result = invoke("--silent", str(mixed))
    assert result.exit_code == 1 and result.output == ""
    short = invoke("-s", "--diff", str(mixed))
    assert short.exit_code == 1 and short.output == ""


def test_colour_follows_the_flag_and_the_environment(mixed):
    bare = {"NO_COLOR": None, "FORCE_COLOR": None}
    assert "\x1b[" not in invoke(str(mixed), env=bare).output  # not a terminal
    assert "\x1b[" in invoke("--color", "always", str(mixed), env=bare).output
    assert "\x1b[" in invoke(str(mixed), env={**bare, "FORCE_COLOR": "1"}).output
    assert "\x1b[" not in invoke(str(mixed), env={"NO_COLOR": "1", "FORCE_COLOR": "1"}).output
    assert "\x1b[" not in invoke("--color", "never", str(mixed), env={**bare, "FORCE_COLOR": "1"}).output
    assert "\x1b[" in invoke("--color", "always", str(mixed), env={**bare, "NO_COLOR": "1"}).output


def test_progress_goes_to_stderr_as_one_bar_that_advances_per_file(tmp_path, monkeypatch):
    from asynclint import cli as cli_module

    # 40 files asked for; 30 more of the project are read for project analysis (a stage).
    (tmp_path / "app").mkdir()
    (tmp_path / "lib").mkdir()
    for i in range(40):
        (tmp_path / "app" / f"m{i}.py").write_text("import time\n\nasync def f():\n    time.sleep(1)\n")
    for i in range(30):
        (tmp_path / "lib" / f"s{i}.py").write_text("from sqlalchemy.ext.asyncio import AsyncSession\n")
    (tmp_path / "pyproject.toml").write_text("")

    monkeypatch.setattr(cli_module, "_stderr_is_a_terminal", lambda: True)
    monkeypatch.setattr(cli_module, "PROGRESS_THRESHOLD", 10)
    seen = []
    real_bar = cli_module._Bar

    class Watched(real_bar):
        def advance(self, files):
            super().advance(files)
            task = self.bar.tasks[0]
            seen.append((task.completed, task.total))

    monkeypatch.setattr(cli_module, "_Bar", Watched)
    result = CliRunner().invoke(cli, ["check", "--no-cache", "--output-format", "json", str(tmp_path / "app")])
    assert result.exit_code == 1
    assert len(json.loads(result.stdout)) == 40  # the report is untouched by the bar
    assert seen and seen[-1] == (40, 40)
    assert all(total == 40 for _, total in seen)  # one total for the run, never restarted
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)


def test_progress_stays_off_when_stderr_is_not_a_terminal(tmp_path, monkeypatch):
    from asynclint import cli as cli_module
    from asynclint import passes

    monkeypatch.setattr(cli_module, "PROGRESS_THRESHOLD", 0)
    monkeypatch.setattr(cli_module.sys, "stderr", open(os.devnull, "w"))  # noqa: SIM115
    with cli_module._progress(5):
        assert passes.PROGRESS is None


def test_a_slow_one_file_check_says_project_analysis_reads_the_project(tmp_path, monkeypatch):
    from asynclint import cli as cli_module

    (tmp_path / "pyproject.toml").write_text("")
    (tmp_path / "helpers.py").write_text("import time\n\ndef pause():\n    time.sleep(1)\n")
    (tmp_path / "views.py").write_text("from helpers import pause\n\nasync def view():\n    pause()\n")
    monkeypatch.setattr(cli_module, "SLOW_NOTE_AFTER", 0.0)
    result = invoke(str(tmp_path / "views.py"))
    assert "project analysis is reading the project" in result.stderr
    assert "--no-project-analysis skips it" in result.stderr
    assert "project analysis" not in invoke("--no-project-analysis", str(tmp_path / "views.py")).stderr
    monkeypatch.setattr(cli_module, "SLOW_NOTE_AFTER", 60.0)
    assert "project analysis" not in invoke(str(tmp_path / "views.py")).stderr  # fast: nothing said


def test_a_folder_check_says_nothing_about_reading_the_project(tmp_path, monkeypatch):
    from asynclint import cli as cli_module

    (tmp_path / "pyproject.toml").write_text("")
    (tmp_path / "views.py").write_text("x = 1\n")
    monkeypatch.setattr(cli_module, "SLOW_NOTE_AFTER", 0.0)
    assert "project analysis" not in invoke(str(tmp_path)).stderr


def test_test_code_keeps_only_what_goes_wrong_anywhere(tmp_path):
    """A project's tests, by pytest's conventions: no blocking I/O or dangling tasks there
    (a test's loop serves the test alone), but a blocking sleep still; `test-files = []`
    checks them as any code."""
    body = "import asyncio, subprocess, time\n\nasync def test_x():\n    subprocess.run(['ls'])\n    time.sleep(1)\n"
    for relative in ("tests/test_api.py", "app/jobs.py"):
        (tmp_path / relative).parent.mkdir(exist_ok=True)
        (tmp_path / relative).write_text(body)
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")

    def found():
        result = invoke("--output-format", "json", str(tmp_path))
        assert result.exit_code == 1, result.output
        return sorted((os.path.relpath(d["filename"], tmp_path), d["code"]) for d in json.loads(result.output))

    assert found() == [
        ("app/jobs.py", "ASL201"),
        ("app/jobs.py", "ASL203"),
        ("tests/test_api.py", "ASL201"),
    ]
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n\n[tool.asynclint]\ntest-files = []\n")
    assert found() == [
        ("app/jobs.py", "ASL201"),
        ("app/jobs.py", "ASL203"),
        ("tests/test_api.py", "ASL201"),
        ("tests/test_api.py", "ASL203"),
    ]
