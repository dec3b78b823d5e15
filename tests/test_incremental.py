"""A cached run after a few files changed: redone from the last run's record when their
facts are what they were, else the whole run; either way the findings of `--no-cache`."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from asynclint import runner
from asynclint.cli import cli
from asynclint.config import Settings
from asynclint.diagnostics import Facts
from asynclint.engine import lint_file
from asynclint.project import ProjectIndex, index_from_json, index_to_json

PROJECTS = Path(__file__).parent / "fixtures" / "projects"
NAMES = ["helpers", "sessions", "resources", "orm_async", "orm_sync", "tasks", "types"]


def report(project: Path, *options: str) -> list[dict]:
    result = CliRunner().invoke(cli, ["check", "--output-format", "json", *options, str(project)])
    assert result.exit_code in (0, 1), result.output
    return json.loads(result.output)


def edit(path: Path, text: str) -> None:
    # A different mtime whatever the clock's resolution: the run record trusts size and mtime.
    stamp = path.stat().st_mtime_ns + 1_000_000_000
    path.write_text(text)
    os.utime(path, ns=(stamp, stamp))


@pytest.fixture
def whole_runs(monkeypatch) -> list[int]:
    """How many runs went through the whole project pass (not only the changed files)."""
    calls = []
    project_pass = runner._project_pass

    def counting(*args, **kwargs):
        calls.append(1)
        return project_pass(*args, **kwargs)

    monkeypatch.setattr(runner, "_project_pass", counting)
    return calls


@pytest.mark.parametrize("name", NAMES)
def test_a_comment_added_anywhere_gives_the_findings_of_a_fresh_run(tmp_path, name, whole_runs):
    project = tmp_path / name
    shutil.copytree(PROJECTS / name, project)
    assert report(project) == report(project, "--no-cache")
    for path in sorted(project.rglob("*.py")):
        before = len(whole_runs)
        text = path.read_text()
        edit(path, text + "\n# a comment\n")
        cached = report(project)
        if "async def" in text:
            # A module with async code has its facts read first: equal facts, nothing else redone.
            assert len(whole_runs) == before, path
        assert cached == report(project, "--no-cache"), path
        edit(path, text)
        assert report(project) == report(project, "--no-cache"), path


def test_a_helper_that_starts_blocking_reaches_the_route_in_another_file(tmp_path, whole_runs):
    project = tmp_path / "helpers"
    shutil.copytree(PROJECTS / "helpers", project)
    first = report(project)
    names = project / "app" / "util" / "names.py"
    original = names.read_text()
    edit(names, "import time\n\n\ndef compute():\n    time.sleep(1)\n")
    blocking = report(project)
    assert blocking == report(project, "--no-cache")
    new = [d for d in blocking if d not in first]
    assert [(Path(d["filename"]).name, d["code"]) for d in new] == [("orders.py", "ASL207")]
    edit(names, original)
    assert report(project) == report(project, "--no-cache") == first


def test_a_route_that_starts_calling_a_blocking_helper_is_not_answered_from_the_record(tmp_path, whole_runs):
    package = tmp_path / "app"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "helpers.py").write_text(
        "import time\n\ndef pause():\n    time.sleep(1)\n\ndef quiet():\n    return 1\n"
    )
    views = package / "views.py"
    views.write_text("from app.helpers import pause, quiet\n\nasync def view():\n    quiet()\n")
    assert report(tmp_path) == report(tmp_path, "--no-cache") == []
    edit(views, "from app.helpers import pause, quiet\n\nasync def view():\n    pause()\n")
    found = report(tmp_path)
    assert found == report(tmp_path, "--no-cache") and [d["code"] for d in found] == ["ASL207"]
    runs = len(whole_runs)
    # The same facts, the rows moved: only views.py is linted again, its finding moves along.
    edit(views, "from app.helpers import pause, quiet\n\n\n# spacing\nasync def view():\n    pause()\n")
    moved = report(tmp_path)
    assert len(whole_runs) == runs
    assert moved == report(tmp_path, "--no-cache") and [d["location"]["row"] for d in moved] == [6]


def test_a_run_record_without_its_index_takes_the_whole_run(tmp_path, whole_runs):
    project = tmp_path / "helpers"
    shutil.copytree(PROJECTS / "helpers", project)
    report(project)
    for index in (project / ".asynclint_cache").rglob("index-*.json"):
        index.write_text(index.read_text().replace("time.sleep", "time.nap"))
    routes = project / "app" / "web" / "routes.py"
    edit(routes, routes.read_text() + "\n# a comment\n")
    runs = len(whole_runs)
    cached = report(project)
    assert len(whole_runs) == runs + 1
    assert cached == report(project, "--no-cache")


@pytest.mark.parametrize("name", NAMES)
def test_the_index_comes_back_from_json_as_it_was(tmp_path, name):
    project = tmp_path / name
    shutil.copytree(PROJECTS / name, project)
    settings = Settings(root=str(project))
    facts = [lint_file(str(p), settings, collect_facts=Facts.ALL).facts for p in sorted(project.rglob("*.py"))]
    index = ProjectIndex.build([f for f in facts if f])
    again = index_from_json(index_to_json(index))
    assert again == index and not index.is_empty()
    assert index_to_json(again) == index_to_json(index)


def test_a_module_the_index_was_built_without_is_redone_alone_while_it_stays_so(tmp_path, whole_runs):
    project = tmp_path / "sessions"
    shutil.copytree(PROJECTS / "sessions", project)
    extra = project / "app" / "extra.py"
    extra.write_text("def helper():\n    return 1\n")  # sync, nothing calls it: never read
    first = report(project)
    runs = len(whole_runs)
    edit(extra, "def helper():\n    return 2\n\n\n# a comment\n")
    assert report(project) == first
    assert len(whole_runs) == runs
    # Now it spells a name of the index: it may add to it, the whole run decides.
    for text in (
        "import app.db\n\n\ndef helper():\n    return app.db.make_session\n",
        "from app.db import make_session\n\n\ndef helper():\n    return make_session()\n",
    ):
        edit(extra, text)
        runs = len(whole_runs)
        cached = report(project)
        assert len(whole_runs) == runs + 1, text
        assert cached == report(project, "--no-cache"), text


def test_one_file_asked_for_by_a_relative_name_is_redone_alone(tmp_path, monkeypatch, whole_runs):
    project = tmp_path / "helpers"
    shutil.copytree(PROJECTS / "helpers", project)
    monkeypatch.chdir(project)
    routes = Path("app", "web", "routes.py")
    first = report(routes)
    assert any(d["code"] == "ASL207" for d in first)
    edit(routes, routes.read_text() + "\n# a comment\n")
    runs = len(whole_runs)
    cached = report(routes)
    assert len(whole_runs) == runs
    assert cached == report(routes, "--no-cache") == first
