"""A cached run after a few files changed: redone from the last run's record when their
facts are what they were, else the whole run; either way the findings of `--no-cache`."""

from __future__ import annotations

import ast
import json
import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from asynclint import engine, runner
from asynclint.cli import cli
from asynclint.config import Settings
from asynclint.diagnostics import Facts
from asynclint.engine import lint_file
from asynclint.project import ProjectIndex, index_from_json, index_to_json

PROJECTS = Path(__file__).parent / "fixtures" / "projects"
NAMES = ["helpers", "sessions", "resources", "orm_async", "orm_sync", "tasks", "types", "sqlite_app"]


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


def test_an_engine_moved_to_a_server_brings_back_the_sessions_queries(tmp_path, whole_runs):
    # The project's only engine is SQLite's: its sessions' queries are local file I/O. Point
    # it at a server and every query in the routes (another module) is a round trip again.
    project = tmp_path / "sqlite_app"
    shutil.copytree(PROJECTS / "sqlite_app", project)
    assert report(project) == []
    db = project / "app" / "db.py"
    original = db.read_text()
    server = 'engine = create_engine("postgresql+psycopg://app@db/app", pool_pre_ping=True)'
    edit(
        db, original.replace('engine = create_engine(get_db_url(), connect_args={"check_same_thread": False})', server)
    )
    found = report(project)
    assert found == report(project, "--no-cache")
    assert sorted((Path(d["filename"]).name, d["location"]["row"], d["code"]) for d in found) == [
        ("views.py", 12, "ASL206"),
        ("views.py", 17, "ASL206"),
        ("views.py", 25, "ASL206"),
    ]
    edit(db, original)
    assert report(project) == report(project, "--no-cache") == []


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


def sync_functions(project: Path, most: int = 3) -> list[tuple[Path, int, int]]:
    """(file, row, indent) of the first statement of sync functions where a blocking call
    can be added: first in modules whose facts are read first (they have async code), then
    in the others."""
    found = []
    for path in sorted(project.rglob("*.py"), key=lambda path: ("async" not in path.read_text(), path)):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef) and node.body[0].lineno > node.lineno:
                found.append((path, node.body[0].lineno, node.body[0].col_offset))
    return found[:most]


def with_sleep(text: str, row: int, indent: int) -> str:
    lines = text.splitlines(keepends=True)
    lines.insert(row - 1, " " * indent + "time.sleep(1)\n")
    return "import time\n" + "".join(lines)


@pytest.mark.parametrize("name", NAMES)
def test_a_helper_that_starts_or_stops_blocking_gives_the_findings_of_a_fresh_run(tmp_path, name, whole_runs):
    project = tmp_path / name
    shutil.copytree(PROJECTS / name, project)
    if not sync_functions(project):
        # Models only: a helper to change, and a route calling it.
        (project / "app" / "helper.py").write_text(
            "def helper():\n    return 1\n\n\nasync def route():\n    helper()\n"
        )
    assert report(project) == report(project, "--no-cache")
    cases = sync_functions(project)
    assert cases
    for path, row, indent in cases:
        text = path.read_text()
        for new in (with_sleep(text, row, indent), text):  # a chain may appear, and go again
            edit(path, new)
            runs = len(whole_runs)
            cached = report(project)
            if "async" in text:
                # Only what it calls of libraries changed: the index is updated, and only
                # the files its chains reach are linted again.
                assert len(whole_runs) == runs, (path, row)
            assert cached == report(project, "--no-cache"), (path, row)


def write_app(root: Path, helpers: str) -> Path:
    package = root / "app"
    package.mkdir(exist_ok=True)
    (package / "__init__.py").write_text("")
    (package / "helpers.py").write_text(helpers)
    (package / "routes.py").write_text(
        "from app.helpers import stamp\n\n\nasync def view():\n    return stamp()\n\n\nasync def other():\n    return 1\n"
    )
    return package / "helpers.py"


HELPERS = "import asyncio\n\n\ndef inner():\n    return 1\n\n\ndef stamp():\n    return inner()\n"


@pytest.mark.parametrize("imports", ["import asyncio", "import asyncio, time"])
def test_a_chain_appears_in_the_route_file_when_a_helper_it_calls_starts_blocking(
    tmp_path, imports, monkeypatch, whole_runs
):
    before = HELPERS.replace("import asyncio", imports)
    helpers = write_app(tmp_path, before)
    assert report(tmp_path) == report(tmp_path, "--no-cache") == []
    builds = []
    build = ProjectIndex._build.__func__  # type: ignore[attr-defined]
    monkeypatch.setattr(ProjectIndex, "_build", classmethod(lambda cls, *args: builds.append(1) or build(cls, *args)))
    parsed: list[str] = []
    parse = engine.parse_or_report
    monkeypatch.setattr(
        engine, "parse_or_report", lambda text, path, *a: parsed.append(Path(path).name) or parse(text, path, *a)
    )
    for blocks in (True, False):  # the chain appears, and goes again
        runs = len(whole_runs)
        blocking = before.replace("    return 1\n", "    time.sleep(1)\n    return 1\n")
        if "time" not in imports:
            blocking = blocking.replace("import asyncio", "import asyncio, time")
        edit(helpers, blocking if blocks else before)
        del builds[:], parsed[:]
        found = report(tmp_path)
        assert len(whole_runs) == runs  # the index updated: no whole run
        # routes.py's chain is judged at the places its first pass recorded: it is not parsed.
        assert parsed == ["helpers.py"]
        # Where the imports stay the same, the record's index is updated, not built again.
        assert len(builds) == ("time" not in imports), blocks
        assert found == report(tmp_path, "--no-cache")
        shown = [(Path(d["filename"]).name, d["code"], d["location"]["row"]) for d in found]
        assert shown == ([("routes.py", "ASL207", 5)] if blocks else [])
        assert not blocks or "stamp -> inner -> time.sleep" in found[0]["message"]


def test_a_helper_read_only_on_demand_keeps_the_fast_path_when_its_facts_stay(tmp_path, monkeypatch, whole_runs):
    # helpers.py has no async code: its first pass defers its facts, and the run reads them
    # because routes.py calls into it. Edited, it is read again the same way (a facts-only
    # lint): the same facts, so nothing else is redone.
    helpers = write_app(tmp_path, HELPERS)
    assert report(tmp_path) == []
    parsed: list[str] = []
    parse = engine.parse_or_report
    monkeypatch.setattr(
        engine, "parse_or_report", lambda text, path, *a: parsed.append(Path(path).name) or parse(text, path, *a)
    )
    runs = len(whole_runs)
    edit(helpers, HELPERS + "\n# a comment\n")
    assert report(tmp_path) == [] and len(whole_runs) == runs
    assert parsed == ["helpers.py"]
    # Facts that changed otherwise (what `stamp` returns) take the whole run, as before.
    edit(helpers, HELPERS.replace("return inner()", "return inner() + 1"))
    assert report(tmp_path) == [] and len(whole_runs) == runs + 1


def test_a_helper_changed_after_another_file_was_edited_is_still_answered_without_the_whole_run(tmp_path, whole_runs):
    # The re-check after the route's edit (its facts the same) keeps the route's first pass
    # in the cache: the next re-check, a helper's, reads every file's facts from there.
    helpers = write_app(tmp_path, HELPERS)
    routes = tmp_path / "app" / "routes.py"
    assert report(tmp_path) == []
    runs = len(whole_runs)
    edit(routes, routes.read_text() + "\n# a comment\n")
    assert report(tmp_path) == []
    edit(
        helpers,
        HELPERS.replace("    return 1\n", "    time.sleep(1)\n    return 1\n").replace("asyncio", "asyncio, time"),
    )
    found = report(tmp_path)
    assert len(whole_runs) == runs
    assert [d["code"] for d in found] == ["ASL207"] and found == report(tmp_path, "--no-cache")


@pytest.mark.parametrize(
    "helpers",
    [
        # A project call added: the index may read other modules, or name more.
        HELPERS.replace("    return 1\n", "    return app.other.pause()\n").replace("asyncio", "app.other"),
        # A session factory appears: sessions, not only chains, change.
        HELPERS + "\n\ndef make_session():\n    return AsyncSession()\n",
        # Its facts are gone.
        "",
        # A resource factory appears.
        HELPERS.replace("import asyncio", "import httpx") + "\n\ndef client():\n    return httpx.AsyncClient()\n",
    ],
)
def test_facts_changed_otherwise_take_the_whole_run(tmp_path, helpers, whole_runs):
    write_app(tmp_path, HELPERS)
    (tmp_path / "app" / "other.py").write_text("import time\n\n\ndef pause():\n    time.sleep(1)\n")
    report(tmp_path)
    runs = len(whole_runs)
    edit(tmp_path / "app" / "helpers.py", helpers)
    found = report(tmp_path)
    assert len(whole_runs) == runs + 1
    assert found == report(tmp_path, "--no-cache")
