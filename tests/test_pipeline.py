"""One pipeline for every entry point: `check`, the flake8 plugin and `--add-noqa` see the same
findings (cross-module ones included); each file gets its nearest configuration; the order of
the paths never changes the result."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from asynclint import discovery, pipeline
from asynclint.cli import cli

REPO = Path(__file__).resolve().parents[1]
PROJECTS = REPO / "tests" / "fixtures" / "projects"
SAMPLES = [*sorted(p.name for p in PROJECTS.iterdir() if p.is_dir()), "examples"]
# A sync-only ORM (ASL301) and a project whose only engine is SQLite's (ASL206) are quiet there.
QUIET_BY_DESIGN = {"orm_sync", "sqlite_app"}


def copy_sample(tmp_path: Path, name: str) -> Path:
    source = REPO / "examples" if name == "examples" else PROJECTS / name
    target = tmp_path / name
    shutil.copytree(source, target)
    return target


def check_findings(*args: str, cwd: Path) -> tuple[int, set[tuple[str, int, int, str]]]:
    done = subprocess.run(
        [sys.executable, "-m", "asynclint", "check", "--no-cache", "--output-format", "json", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
    )
    assert done.returncode in (0, 1), done.stderr
    found = {
        (os.path.relpath(d["filename"], cwd), d["location"]["row"], d["location"]["column"], d["code"])
        for d in json.loads(done.stdout)
    }
    return done.returncode, found


def flake8_findings(cwd: Path) -> set[tuple[str, int, int, str]]:
    done = subprocess.run(
        [sys.executable, "-m", "flake8", "--select", "ASL", "--format", "%(path)s|%(row)d|%(col)d|%(code)s", "."],
        capture_output=True,
        text=True,
        cwd=cwd,
    )
    assert done.returncode in (0, 1), done.stderr
    found = set()
    for line in done.stdout.splitlines():
        path, row, col, code = line.split("|")
        found.add((os.path.normpath(path), int(row), int(col), code))
    return found


@pytest.mark.parametrize("name", SAMPLES)
def test_check_flake8_and_add_noqa_agree(tmp_path, name):
    root = copy_sample(tmp_path, name)
    _, found = check_findings(".", cwd=root)
    cross_module = {f for f in found if f[3] == "ASL207"}
    # Parity over nothing would prove nothing; only the look-alike project is quiet by design.
    assert bool(found) == (name not in QUIET_BY_DESIGN), name
    # flake8 reports syntax errors itself (E999), never ASL001/ASL002.
    assert flake8_findings(root) == {f for f in found if f[3] not in ("ASL001", "ASL002")}
    if name in ("helpers", "examples"):
        assert cross_module, "the sample should hold a finding that needs another module"
    added = CliRunner().invoke(cli, ["check", "--no-cache", "--add-noqa", str(root)])
    assert added.exit_code == 0, added.output
    code, left = check_findings(".", cwd=root)
    assert (code, left) == (0, set())


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")


BLOCKING_APP = """\
    import time

    from .helpers import slow


    async def handler():
        time.sleep(1)
        slow()
"""
HELPERS = """\
    import subprocess


    def slow():
        subprocess.run(["ls"])
"""


@pytest.fixture
def monorepo(tmp_path: Path) -> Path:
    """Two services, each its own project with its own `[tool.asynclint]`."""
    write(
        tmp_path,
        {
            "svc_a/pyproject.toml": '[tool.asynclint]\nignore = ["ASL201"]\n',
            "svc_a/app/__init__.py": "",
            "svc_a/app/main.py": BLOCKING_APP,
            "svc_a/app/helpers.py": HELPERS,
            "svc_b/pyproject.toml": '[tool.asynclint]\nselect = ["ASL201"]\n',
            "svc_b/app/__init__.py": "",
            "svc_b/app/main.py": BLOCKING_APP,
            "svc_b/app/helpers.py": HELPERS,
        },
    )
    return tmp_path


def test_each_file_gets_its_nearest_configuration(monorepo):
    _, found = check_findings(".", cwd=monorepo)
    assert {(path, code) for path, _, _, code in found} == {
        ("svc_a/app/main.py", "ASL207"),  # ASL201 ignored there; the helper in another module found
        ("svc_b/app/main.py", "ASL201"),  # only ASL201 selected there
    }


def test_the_order_of_paths_changes_nothing(monorepo):
    forward = check_findings("svc_a", "svc_b", cwd=monorepo)
    backward = check_findings("svc_b", "svc_a", cwd=monorepo)
    whole = check_findings(".", cwd=monorepo)
    assert forward == backward == whole
    assert forward[1]


def test_a_file_named_alone_still_sees_its_project(monorepo):
    _, found = check_findings("svc_a/app/main.py", cwd=monorepo)
    assert {code for *_, code in found} == {"ASL207"}


def test_project_analysis_stops_at_the_project_root(tmp_path):
    # Without any configuration the project is the nearest folder with a marker: a sibling
    # folder's helper (outside it) is not read, however the paths are given.
    write(
        tmp_path,
        {
            "one/.git/HEAD": "",
            "one/main.py": "from helpers import slow\n\nasync def f():\n    slow()\n",
            "helpers.py": HELPERS,
        },
    )
    main = str(tmp_path / "one" / "main.py")
    [project] = pipeline.plan(pipeline.Request(paths=(main,))).projects
    assert project.root == str((tmp_path / "one").resolve())
    assert project.every_file(pipeline.Request(), {}) == [main]


def test_without_a_project_folder_only_the_files_asked_for_are_read(tmp_path):
    write(tmp_path, {"a/main.py": "async def f():\n    pass\n", "b/other.py": HELPERS})
    if any((parent / marker).exists() for parent in tmp_path.parents for marker in discovery.PROJECT_MARKERS):
        pytest.skip("the temporary folder lies inside a project")
    paths = (str(tmp_path / "b" / "other.py"), str(tmp_path / "a"))
    [project] = pipeline.plan(pipeline.Request(paths=paths)).projects
    assert project.root is None
    assert sorted(project.every_file(pipeline.Request(), {})) == sorted([paths[0], str(tmp_path / "a" / "main.py")])


def test_show_files_names_each_files_configuration(monorepo):
    result = CliRunner().invoke(cli, ["check", "--show-files", str(monorepo)])
    assert result.exit_code == 0, result.output
    lines = sorted(result.output.splitlines())
    assert len(lines) == 6
    assert all(("svc_a" in line) == ("svc_a/pyproject.toml" in line) for line in lines)


def test_show_settings_of_a_file(monorepo):
    result = CliRunner().invoke(cli, ["check", "--show-settings", str(monorepo / "svc_b" / "app" / "main.py")])
    assert result.exit_code == 0, result.output
    assert "svc_b/pyproject.toml" in result.output
    assert "enabled: ASL201\n" in result.output


def test_text_in_memory_is_linted_as_if_it_were_at_its_path(monorepo):
    path = str(monorepo / "svc_a" / "app" / "main.py")
    request = pipeline.Request(paths=(path,), use_cache=False, sources={path: "async def handler():\n    pass\n"})
    assert pipeline.run(request).diagnostics == []
    request = pipeline.Request(paths=(path,), use_cache=False, sources={path: textwrap.dedent(BLOCKING_APP)})
    assert [d.code for d in pipeline.run(request).diagnostics] == ["ASL207"]


@pytest.mark.parametrize("name", sorted(p.name for p in PROJECTS.iterdir() if p.is_dir()))
def test_a_file_checked_with_an_index_the_caller_holds_is_reported_as_in_a_whole_run(name):
    """The language server's check of one text: its project index held in memory (built from
    every module's facts), the file's facts given back for it, its findings those of a run
    over the whole project."""
    from asynclint.passes import FirstPasses
    from asynclint.server import pipeline as server

    root = str(PROJECTS / name)
    settings = server.default_settings(root)
    files = sorted(server.project_files(settings))
    every = {path: server.text_facts(Path(path).read_text(), path, settings) for path in files}
    index = server.build_index(facts for facts in every.values() if facts).index
    whole = pipeline.run(pipeline.Request(paths=(root,), settings=settings, use_cache=False, jobs=1))
    kept = FirstPasses()
    for path in files:
        request = pipeline.Request(
            paths=(path,),
            settings=settings,
            use_cache=False,
            jobs=1,
            sources={path: Path(path).read_text()},
            index=index,
            facts=True,
            first_passes=kept,
        )
        expected = [d for d in whole.diagnostics if os.path.abspath(d.path) == path]
        for _ in range(2):  # the second time from the first pass kept
            result = pipeline.run(request)
            assert result.diagnostics == expected
            assert result.facts.get(path) == every[path]


@pytest.mark.parametrize("name", SAMPLES)
def test_findings_judged_from_recorded_places_are_those_of_parsing_again(name, monkeypatch):
    """ASL207 and ASL304 record their places in the first pass (`Rule.records_sites`): the
    index judges ASL207's, and a file without ASL304 places is not linted again for it. The
    findings must be what running the rules again with the index on each file's tree gives,
    message and range included."""
    from asynclint import registry

    root = str(REPO / "examples" if name == "examples" else PROJECTS / name)
    request = pipeline.Request(paths=(root,), use_cache=False, jobs=1)
    recorded = pipeline.run(request).diagnostics
    recording = [registry.load_rule(code) for code in ("ASL207", "ASL304")]
    assert all(rule.records_sites for rule in recording)
    for rule in recording:
        monkeypatch.setattr(rule, "records_sites", False)
    parsed_again = pipeline.run(request).diagnostics
    assert recorded == parsed_again
    if name in ("helpers", "examples"):
        assert any(d.code == "ASL207" for d in recorded), "the sample should hold an ASL207 finding"


def test_show_settings_names_the_codes_of_that_file(tmp_path):
    """In test code (`test-files`) and after per-file-ignores: what `check` runs there."""
    (tmp_path / "pyproject.toml").write_text(
        '[tool.asynclint]\nextend-select = ["ASL103"]\nper-file-ignores = { "app/cli.py" = ["ASL201"] }\n'
    )
    for relative in ("tests/test_api.py", "app/cli.py", "app/main.py"):
        (tmp_path / relative).parent.mkdir(exist_ok=True)
        (tmp_path / relative).write_text("async def f():\n    pass\n")

    def enabled(relative):
        result = CliRunner().invoke(cli, ["check", "--show-settings", str(tmp_path / relative)])
        assert result.exit_code == 0, result.output
        line = next(line for line in result.output.splitlines() if line.startswith("  enabled: "))
        return set(line.removeprefix("  enabled: ").split(", "))

    everywhere = enabled("app/main.py")
    assert {"ASL201", "ASL203", "ASL103"} <= everywhere  # ASL103 opt-in, selected
    assert "ASL107" not in everywhere  # opt-in, not selected
    assert enabled("tests/test_api.py") == everywhere - {
        "ASL103",
        "ASL202",
        "ASL203",
        "ASL205",
        "ASL206",
        "ASL207",
        "ASL501",
        "ASL502",
        "ASL503",
    }
    assert enabled("app/cli.py") == everywhere - {"ASL201"}
