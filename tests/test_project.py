"""Project-wide analysis: facts per module, the index, and ASL207 across modules."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from fixture_format import FIXTURES, expectations
from hypothesis import given, settings
from hypothesis import strategies as st

from asynclint.cli import cli
from asynclint.modules import absolute_import, module_name
from asynclint.project import FACTS_VERSION, ProjectIndex

PROJECTS = Path(__file__).parent / "fixtures" / "projects"


def findings(*args) -> set[tuple[str, int, int, str]]:
    result = CliRunner().invoke(cli, ["check", "--output-format", "json", *args])
    assert result.exit_code in (0, 1), result.output
    return {
        (Path(d["filename"]).name, d["location"]["row"], d["location"]["column"], d["code"])
        for d in json.loads(result.output)
    }


def expected_in(folder: Path) -> set[tuple[str, int, str]]:
    found = set()
    for path in folder.rglob("*.py"):
        for e in expectations(path.read_text()):
            found.add((path.name, e.row, e.code))
    return found


@pytest.fixture
def helpers_project(tmp_path):
    target = tmp_path / "helpers"
    shutil.copytree(PROJECTS / "helpers", target)
    return target


def test_whole_project_matches_inline_expectations(helpers_project):
    got = findings("--no-cache", str(helpers_project))
    assert {(name, row, code) for name, row, _, code in got} == expected_in(helpers_project)


def copy_project(tmp_path, name: str) -> Path:
    target = tmp_path / name
    shutil.copytree(PROJECTS / name, target)
    return target


@pytest.mark.parametrize(
    "name",
    [
        "sessions",
        "resources",
        "orm_async",
        "orm_sync",
        "tasks",
        "types",
        "sqlite_app",
        "session_registry",
        "session_registry_dep",
    ],
)
def test_cross_module_projects_match_inline_expectations(tmp_path, name):
    # Sessions (ASL302, ASL304, ASL401) and resources (ASL501, ASL502) learned from the
    # project's own factories, classes and parameter annotations in other modules; Paths and
    # sync Sessions (ASL204, ASL206) from return annotations, base classes and aliases; the
    # look-alikes (shared on purpose, same name elsewhere, recursion, import cycles) stay quiet.
    project = copy_project(tmp_path, name)
    got = findings("--no-cache", str(project))
    assert {(name, row, code) for name, row, _, code in got} == expected_in(project)


@pytest.mark.parametrize(
    "name, relative",
    [
        ("sessions", "app/routes.py"),
        ("sessions", "app/jobs.py"),
        ("resources", "app/routes.py"),
        ("resources", "app/lifespan.py"),
        ("resources", "app/pages.py"),
        ("orm_async", "app/models.py"),
        ("tasks", "app/workers.py"),
        ("types", "app/routes.py"),
        ("types", "app/services.py"),
        # the lifespan is registered in another module, a function it awaits is awaited by
        # a route elsewhere: a file checked alone reads those modules too
        ("helpers", "app/web/startup.py"),
        ("helpers", "app/web/routes.py"),
        ("helpers", "app/web/launch.py"),
        ("helpers", "app/web/commands.py"),  # run by asyncio.run in app/__main__.py
    ],
)
def test_one_file_of_a_project_reports_its_cross_module_findings(tmp_path, name, relative):
    project = copy_project(tmp_path, name)
    target = project / relative
    got = findings("--no-cache", str(target))
    wanted = {e for e in expected_in(project) if e[0] == target.name}
    assert wanted
    assert {(name, row, code) for name, row, _, code in got} == wanted


def test_resource_churn_message_shows_the_chain(tmp_path):
    # ASL501 across modules: a call of a project function that creates and drops a resource
    # on every call is reported at the call, with the chain, like ASL207.
    project = copy_project(tmp_path, "resources")
    result = CliRunner().invoke(
        cli, ["check", "--no-cache", "--output-format", "concise", str(project / "app" / "pages.py")]
    )
    assert "(g -> fetch_json -> fetch -> httpx.AsyncClient)" in result.output
    assert "(h -> ping -> make_client -> httpx.AsyncClient)" in result.output
    assert "`Fetcher.get(...)` creates a new `httpx.AsyncClient` on every call" in result.output


def test_one_file_reads_the_modules_of_its_base_classes(tmp_path):
    # Nothing calls into app/paths.py: its facts are read because a class in services.py
    # inherits from one of its classes (`project.wanted_types`).
    project = copy_project(tmp_path, "types")
    (project / "app" / "routes.py").unlink()
    target = project / "app" / "services.py"
    wanted = {e for e in expected_in(project) if e[0] == target.name}
    assert len(wanted) == 3
    assert {(name, row, code) for name, row, _, code in findings("--no-cache", str(target))} == wanted


def test_cross_module_findings_carry_no_fix(tmp_path):
    # `--fix` works file by file, without the index: it could not apply these.
    project = copy_project(tmp_path, "sessions")
    result = CliRunner().invoke(cli, ["check", "--no-cache", "--output-format", "json", str(project)])
    found = [d for d in json.loads(result.output) if d["code"] == "ASL304"]
    assert found and all(d["fix"] is None for d in found)


def test_without_project_analysis_only_single_module_findings_remain(tmp_path):
    project = copy_project(tmp_path, "resources")
    config = project / "pyproject.toml"
    config.write_text(config.read_text() + "project-analysis = false\n")
    clients = (project / "app" / "clients.py").read_text().splitlines()
    row = next(i for i, line in enumerate(clients, 1) if "self.http = httpx.AsyncClient()" in line)
    assert {(name, row, code) for name, row, _, code in findings("--no-cache", str(project))} == {
        ("clients.py", row, "ASL502")
    }


def test_one_file_still_sees_across_modules(helpers_project):
    orders = helpers_project / "app" / "services" / "orders.py"
    got = findings("--no-cache", str(orders))
    assert {(name, row, code) for name, row, _, code in got} == expected_in(orders.parent) - {
        e for e in expected_in(orders.parent) if e[0] != "orders.py"
    }
    assert len(got) == 7


def test_warm_cache_gives_same_findings(helpers_project):
    cold = findings(str(helpers_project))
    assert (helpers_project / ".asynclint_cache").is_dir()
    assert findings(str(helpers_project)) == cold
    # orders.py is unchanged (a cache hit), but the helper it calls now blocks:
    # the warm run must see it through the other module's fresh facts.
    names = helpers_project / "app" / "util" / "names.py"
    names.write_text("import time\n\n\ndef compute():\n    time.sleep(1)\n")
    warm = findings(str(helpers_project))
    assert warm - cold == {("orders.py", 21, 5, "ASL207")}


def test_message_shows_the_chain(helpers_project):
    result = CliRunner().invoke(cli, ["check", "--no-cache", "--output-format", "concise", str(helpers_project)])
    assert "`Step()` blocks the event loop in async code: Step() -> Step.__init__ -> time.sleep" in result.output
    assert "render -> _run -> subprocess.run" in result.output


def test_project_analysis_can_be_turned_off(helpers_project):
    config = helpers_project / "pyproject.toml"
    config.write_text(config.read_text() + "project-analysis = false\n")
    assert findings("--no-cache", str(helpers_project)) == set()


# The helpers project's findings whose chain ends in network, subprocess, sleep or database
# work: all ASL207 reports without `helper-file-io` (the others end in a file operation).
NOT_FILE_CHAINS = {
    ("orders.py", 16, "ASL207"),
    ("orders.py", 17, "ASL207"),
    ("orders.py", 18, "ASL207"),
    ("orders.py", 19, "ASL207"),
    ("orders.py", 20, "ASL207"),
    ("orders.py", 24, "ASL207"),
    ("orders.py", 27, "ASL207"),
    # (once.py:85's chain ends in `sqlite3.connect`: a database file opened, file I/O)
    ("launch.py", 34, "ASL207"),
    ("launch.py", 70, "ASL207"),
    ("launch.py", 76, "ASL207"),
    ("commands.py", 17, "ASL207"),  # app/util/connect.py's `Client`: `time.sleep`
    ("routes.py", 20, "ASL207"),  # app/util/memo.py's `reload_engine`: `subprocess.run`
    # app/util/connect.py's chains end in `time.sleep`
    *(("routes.py", row, "ASL207") for row in (56, 57, 60, 63, 65, 66, 68, 70, 71)),
    # app/util/content.py's chains end in `time.sleep`
    *(("routes.py", row, "ASL207") for row in (93, 94, 97, 98, 99, 100, 102, 103, 105, 106, 107, 109)),
}


def test_chains_ending_in_file_io_need_helper_file_io(helpers_project, tmp_path):
    # One cache for both settings: a run of one must not be answered with the other's
    # findings (facts, per-file results and the run record all depend on it).
    cache = ["--cache-dir", str(tmp_path / "cache")]
    config = helpers_project / "pyproject.toml"
    with_file_io = config.read_text()
    without = with_file_io.replace("helper-file-io = true\n", "")
    assert without != with_file_io
    expected = expected_in(helpers_project)
    assert expected > NOT_FILE_CHAINS
    for text, wanted in ((with_file_io, expected), (without, NOT_FILE_CHAINS), (with_file_io, expected)):
        config.write_text(text)
        got = findings(*cache, str(helpers_project))
        assert {(name, row, code) for name, row, _, code in got} == wanted


def test_helper_file_io_is_a_checked_boolean(helpers_project):
    config = helpers_project / "pyproject.toml"
    config.write_text(config.read_text().replace("helper-file-io = true", 'helper-file-io = "yes"'))
    result = CliRunner().invoke(cli, ["check", str(helpers_project)])
    assert result.exit_code == 2
    assert "helper-file-io: expected true or false" in result.output


@pytest.mark.parametrize(
    "relative, module, is_package, expected",
    [
        (".x", "a.b.c", False, "a.b.x"),
        ("..x.y", "a.b.c", False, "a.x.y"),
        (".", "a.b.c", False, "a.b"),
        (".impl", "a.b", True, "a.b.impl"),
        ("os.path", "a.b", False, "os.path"),
    ],
)
def test_absolute_import(relative, module, is_package, expected):
    assert absolute_import(module, relative, is_package) == expected


def test_module_name_follows_packages_and_src_layout(tmp_path):
    package = tmp_path / "src" / "shop" / "api"
    package.mkdir(parents=True)
    (tmp_path / "src" / "shop" / "__init__.py").write_text("")
    (package / "__init__.py").write_text("")
    assert module_name(str(package / "routes.py"), str(tmp_path)) == "shop.api.routes"
    assert module_name(str(package / "__init__.py"), str(tmp_path)) == "shop.api"
    (tmp_path / "scripts").mkdir()
    assert module_name(str(tmp_path / "scripts" / "tool.py"), str(tmp_path)) == "scripts.tool"


def test_index_fixed_point_ignores_async_and_cached():
    facts = {
        "version": FACTS_VERSION,
        "functions": {
            "m.a": {"async": False, "cached": False, "display": "a", "passing": [["m.b", [], []]], "blocking": []},
            "m.b": {"async": False, "cached": False, "display": "b", "passing": [["m.c", [], []]], "blocking": []},
            "m.c": {
                "async": False,
                "cached": False,
                "display": "c",
                "blocking": [["ASL203", "os.system"]],
            },
            "m.d": {"async": True, "cached": False, "display": "d", "passing": [["m.c", [], []]], "blocking": []},
            "m.e": {"async": False, "cached": True, "display": "e", "passing": [["m.c", [], []]], "blocking": []},
            "m.f": {"async": False, "cached": False, "display": "f", "passing": [["m.e", [], []]], "blocking": []},
        },
        "classes": {},
        "exports": {},
    }
    index = ProjectIndex.build([facts])
    assert index.blocking == {
        "m.a": ["a", "b", "c", "os.system"],
        "m.b": ["b", "c", "os.system"],
        "m.c": ["c", "os.system"],
    }


def _function(**info):
    return {"async": False, "cached": False, "display": "f", "blocking": [], **info}


def test_index_sessions_to_a_fixed_point():
    facts = {
        "version": FACTS_VERSION,
        "module": "m",
        "functions": {
            "m.scope": _function(**{"async": True}, via="enter", gives="session"),
            "m.wrap": _function(via="call", **{"from": [["m.scope", False]]}),
            "m.opened": _function(**{"async": True}, via="await", gives="session"),
            "m.ctx": _function(**{"async": True}, via="enter", **{"from": [["m.Db.opened", True]]}),
            "m.wrong": _function(**{"async": True}, via="enter", **{"from": [["m.opened", False]]}),
            "m.ping": _function(via="call", **{"from": [["m.pong", False]]}),
            "m.pong": _function(via="call", **{"from": [["m.ping", False]]}),
            "m.Base.opened": _function(**{"async": True}, via="await", gives="session"),
            "m.maker": _function(via="call", **{"from": [["m.SessionLocal", False]]}),
            "m.client": _function(via="call", gives="httpx.AsyncClient"),
            "m.client2": _function(via="call", **{"from": [["m.client", False]]}),
            "m.Api.__init__": _function(creates_from=["m.client2"]),
            "m.load": _function(params=[[0, "session"]]),
        },
        "classes": {
            "m.Base": {"display": "Base"},
            "m.Db": {"display": "Db", "bases": ["m.Base"]},
            "m.Api": {"display": "Api", "closes": True},
        },
        "exports": {"pkg.scope": "m.scope"},
        "values": {"m.SessionLocal": "sqlalchemy.ext.asyncio.async_sessionmaker"},
    }
    index = ProjectIndex.build([facts])
    assert index.sessions == {
        "m.scope": "enter",
        "m.wrap": "enter",
        "m.opened": "await",
        "m.ctx": "enter",
        "m.Base.opened": "await",
        "m.maker": "call",
        "pkg.scope": "enter",
    }
    assert index.methods["m.Db"] == {"opened": "m.Base.opened"}
    assert index.resource_factories == {"m.client": "httpx.AsyncClient", "m.client2": "httpx.AsyncClient"}
    assert index.resource_classes == {"m.Api": ("httpx.AsyncClient", True)}
    assert index.rerun_codes({"module": "other", "imports": ["pkg.scope"]}) == {"ASL302", "ASL304", "ASL401"}
    assert index.rerun_codes({"module": "other", "imports": ["m"]}) == {
        "ASL302",
        "ASL304",
        "ASL401",
        "ASL501",
        "ASL502",
    }
    # a re-export counts by its own name, not through the package that re-exports it
    assert index.rerun_codes({"module": "other", "imports": ["pkg"]}) == set()
    assert index.rerun_codes({"module": "other", "imports": ["m.client"]}) == {"ASL501", "ASL502"}
    assert index.rerun_codes({"module": "other", "imports": ["json"]}) == set()
    # only functions with `AsyncSession` parameters: no new session, so no ASL401
    assert index.rerun_codes({"module": "other", "imports": ["m.load"], "untyped_args": ["load"]}) == {
        "ASL302",
        "ASL304",
    }
    assert index.rerun_codes({"module": "other", "imports": ["m.load"], "untyped_args": ["other"]}) == set()


def test_resource_rules_run_again_only_where_a_call_reaches_the_index():
    """ASL501/502 learn from the index only at a call of a project factory, class or churn:
    a module that names them otherwise (an annotation, a plain import, the definition
    itself) is not parsed again for them (issue 18: most of a second pass on letta)."""
    from asynclint.rules._resources import ResourceRule

    facts = {
        "version": FACTS_VERSION,
        "module": "m",
        "functions": {
            "m.client": _function(via="call", gives="httpx.AsyncClient"),
            "m.Api.__init__": _function(creates="httpx.AsyncClient"),
        },
        "classes": {"m.Api": {"display": "Api"}},
    }
    index = ProjectIndex.build([facts])
    assert index.resource_factories and index.resource_classes

    def rerun(text: str) -> bool:
        return ResourceRule.index_may_change(index, text)

    assert rerun("async def route():\n    c = client()\n")
    assert rerun("async def route():\n    c = m.client (\n        1)\n")
    assert rerun("async def route():\n    return Api(url)\n")
    assert rerun("from m import client as make\n")  # then `make()`
    assert rerun("make = m.client\n")
    assert rerun("c = client \\\n    ()\n")
    assert not rerun("from m import Api, client\n")
    assert not rerun("async def route(api: Api = Depends(get_api)) -> Api:\n    return api\n")
    assert not rerun("def client():\n    return httpx.AsyncClient()\nclass Api(Base):\n    pass\n")
    assert not rerun("async def route():\n    c = other_client()\n")

    # A method, only on a receiver the module can know to be of its class.
    facts["functions"]["m.Api.fetch"] = _function(via="call", gives="httpx.AsyncClient")
    facts["classes"]["m.Sub"] = {"display": "Sub", "bases": ["m.Api"]}
    index = ProjectIndex.build([facts])
    assert rerun("async def route(api: Sub):\n    await api.fetch()\n")
    assert rerun("class Api:\n    async def get(self):\n        return self.fetch()\n")
    assert not rerun("async def route(response):\n    data = await response.fetch()\n")


def test_a_call_that_creates_and_drops_a_resource_reaches_asl501_not_asl502():
    """A project function that makes and closes a client on every call (`resource_churn`)
    can make an ASL501 finding at a call per request; ASL502 has nothing to say at such a
    call (the function closes what it makes), so a module calling only that is not parsed
    again for ASL502."""
    from asynclint.rules.asl501_resource_per_request import ResourcePerRequest
    from asynclint.rules.asl502_resource_not_closed import ResourceNotClosed

    facts = {
        "version": FACTS_VERSION,
        "module": "m",
        "functions": {
            "m.fetch": _function(**{"async": True}, drops="httpx.AsyncClient"),
            "m.client": _function(via="call", gives="httpx.AsyncClient"),
        },
    }
    index = ProjectIndex.build([facts])
    assert "m.fetch" in index.resource_churn and "m.client" in index.resource_factories
    churn = "async def route():\n    await fetch()\n"
    assert ResourcePerRequest.index_may_change(index, churn)
    assert not ResourceNotClosed.index_may_change(index, churn)
    factory = "async def route():\n    c = client()\n"
    assert ResourcePerRequest.index_may_change(index, factory)
    assert ResourceNotClosed.index_may_change(index, factory)


def test_index_guards_and_startup():
    facts = {
        "version": FACTS_VERSION,
        "module": "m",
        "functions": {
            "m.read": _function(display="read", blocking=[["ASL204", "open"]]),
            # blocks only when `meta` is left out, directly or through `read`
            "m.log": _function(display="log", passing=[["m.read", ["meta"], []]], signature=[["msg", "meta"], []]),
            "m.note": _function(
                display="note", blocking=[["ASL204", "open", ["meta", "tags"]]], signature=[["msg"], ["meta", "tags"]]
            ),
            # also blocks unguarded: no guards
            "m.both": _function(
                display="both",
                passing=[["m.read", [], []], ["m.read", ["meta"], []]],
                signature=[["meta"], []],
            ),
            "m.Report.__init__": _function(
                display="Report.__init__", passing=[["m.read", ["config"], []]], signature=[["config"], []]
            ),
            "m.lifespan": _function(**{"async": True}, awaits=["m.prepare"], entry=True),
            "m.prepare": _function(**{"async": True}, awaits=["m.deeper"]),
            "m.deeper": _function(**{"async": True}),
            "m.shared": _function(**{"async": True}),
            "m.route": _function(**{"async": True}, awaits=["m.shared"], entry=True),
            "m.spawned": _function(**{"async": True}),
            "m.from_sync": _function(**{"async": True}),
            "m.main": _function(passing=[["m.from_sync", [], []]]),
        },
        "classes": {"m.Report": {"display": "Report"}},
        "exports": {},
        "startup": ["m.lifespan"],
        "escapes": ["m.spawned"],
    }
    facts["functions"]["m.lifespan"]["awaits"] += ["m.shared", "m.spawned", "m.from_sync"]
    index = ProjectIndex.build([facts])
    assert index.blocking["m.log"] == ["log", "read", "open"]
    assert index.guards["m.log"] == ((("msg", "meta"), ()), ((("meta",), ["log", "read", "open"]),))
    assert index.guards["m.note"] == ((("msg",), ("meta", "tags")), ((("meta", "tags"), ["note", "open"]),))
    assert "m.both" not in index.guards and index.blocking["m.both"] == ["both", "read", "open"]
    assert index.guards["m.Report"][1] == ((("config",), ["Report()", "Report.__init__", "read", "open"]),)
    assert index.startup == {"m.lifespan", "m.prepare", "m.deeper"}


def test_index_ignores_facts_of_another_shape():
    stale = {
        "version": FACTS_VERSION - 1,
        "module": "m",
        "functions": {"m.f": _function(blocking=[["ASL201", "time.sleep"]])},
    }
    assert ProjectIndex.build([stale]).blocking == {}


def test_index_survives_re_export_cycles():
    # `from .y import y` in package `pkg.x`: `pkg.x.y` names the module and the function.
    facts = {
        "version": FACTS_VERSION,
        "module": "pkg.x",
        "functions": {"pkg.x.f": _function(via="call", **{"from": [["pkg.x.y.z", False]]})},
        "exports": {"pkg.x.y": "pkg.x.y.y", "pkg.x.y.y": "pkg.x.y"},
    }
    assert ProjectIndex.build([facts]).sessions == {}


def test_warm_cache_follows_a_factory_changed_in_another_module(tmp_path):
    project = copy_project(tmp_path, "sessions")
    cold = findings(str(project))
    assert findings(str(project)) == cold
    routes = (project / "app" / "routes.py").read_text().splitlines()
    row = next(i for i, line in enumerate(routes, 1) if line.strip() == "session.close()  # error: ASL304")
    assert ("routes.py", row, 5, "ASL304") in cold
    # routes.py is unchanged (a cache hit), but `make_session` no longer gives a session.
    db = project / "app" / "db.py"
    db.write_text(
        db.read_text().replace(
            "def make_session():\n    return SessionLocal()", "def make_session():\n    return object()"
        )
    )
    assert cold - findings(str(project)) == {("routes.py", row, 5, "ASL304")}


def test_relationships_speak_only_where_the_project_uses_the_asyncio_extension(tmp_path):
    # ASL301 learns "this project loads its models under asyncio" from another module's
    # facts: on a warm cache too, and it follows that module when it changes.
    project = copy_project(tmp_path, "orm_async")
    cold = findings(str(project))
    assert {code for *_, code in cold} == {"ASL301"}
    assert findings(str(project)) == cold
    db = project / "app" / "db.py"
    db.write_text("from sqlalchemy import create_engine\n\nengine = create_engine('sqlite://')\n")
    assert findings(str(project)) == set()
    # Without project analysis, only a module importing the extension itself speaks.
    config = project / "pyproject.toml"
    config.write_text(config.read_text() + "project-analysis = false\n")
    db.write_text("from sqlalchemy.ext.asyncio import create_async_engine\n")
    assert findings("--no-cache", str(project)) == set()


def test_session_in_route_without_project_analysis_asks_the_module():
    # ASL401's advice fits only where a `Depends(...)` gives a session: with project analysis
    # off, the module itself is asked.
    from helpers import lint

    quiet = (FIXTURES / "ASL401" / "no_session_dependency.py").read_text()
    assert lint(quiet, "ASL401", project_analysis=False) == []
    firing = (FIXTURES / "ASL401" / "traps.py").read_text()
    assert [code for _, _, code in lint(firing, "ASL401", project_analysis=False)] == ["ASL401"] * 3


@given(st.text(alphabet=st.characters(max_codepoint=0x2100)))
@settings(max_examples=300, derandomize=True)
def test_words_are_the_runs_of_word_characters(text):
    # `words` splits ASCII text its own faster way: the same words as `\w+`, for any text.
    from asynclint.project import words

    assert words(text) == frozenset(re.findall(r"\w+", text))
    every_ascii = "".join(map(chr, range(128)))
    assert words(every_ascii + text) == frozenset(re.findall(r"\w+", every_ascii + text))


def test_an_unknown_receivers_io_runs_again_only_the_rule_of_that_io():
    # Path I/O on a receiver the module cannot type is ASL204's to judge with the index,
    # Session I/O ASL206's: a module with only the one is not linted again for the other.
    index = ProjectIndex()
    index.type_names = {"app.storage"}
    facts = {"module": "app.views", "imports": ["app.storage"]}
    assert index.rerun_codes({**facts, "untyped_io": ["path"]}) == {"ASL204"}
    assert index.rerun_codes({**facts, "untyped_io": ["session"]}) == {"ASL206"}
    assert index.rerun_codes({**facts, "untyped_io": ["path", "session"]}) == {"ASL204", "ASL206"}
    assert index.rerun_codes(facts) == set()


def test_an_awaited_session_method_is_no_unknown_receivers_io(tmp_path):
    # `await session.execute(q)` says the session is no sync one: ASL206 reports nothing on
    # that name whatever the index says, so the module is not linted again for it.
    from asynclint.config import Settings
    from asynclint.diagnostics import Facts
    from asynclint.engine import lint_file

    package = tmp_path / "app"
    package.mkdir()
    (package / "__init__.py").write_text("")
    path = package / "views.py"

    def untyped(call: str) -> list[str] | None:
        path.write_text(
            "from app.db import get_session\n\n"
            "async def view(q):\n"
            "    async with get_session() as session:\n"
            f"        return {call}\n"
        )
        result = lint_file(str(path), Settings(root=str(tmp_path)), collect_facts=Facts.ALL)
        return result.facts.get("untyped_io")

    assert untyped("await session.execute(q)") is None
    assert untyped("session.execute(q)") == ["session"]
