"""Project-wide analysis: facts per module, the index, and ASL207 across modules."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from fixture_format import expectations

from asynclint.cli import cli
from asynclint.project import ProjectIndex, absolute_import, module_name

PROJECTS = Path(__file__).parent / "fixtures" / "projects"


def findings(*args) -> set[tuple[str, int, int, str]]:
    result = CliRunner().invoke(cli, ["check", "--output-format", "json", *args])
    assert result.exit_code in (0, 1), result.output
    return {(Path(d["filename"]).name, d["location"]["row"], d["location"]["column"], d["code"])
            for d in json.loads(result.output)}


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
        "functions": {
            "m.a": {"async": False, "cached": False, "display": "a", "calls": ["m.b"], "blocking": []},
            "m.b": {"async": False, "cached": False, "display": "b", "calls": ["m.c"], "blocking": []},
            "m.c": {"async": False, "cached": False, "display": "c", "calls": [], "blocking": [["ASL203", "os.system"]]},
            "m.d": {"async": True, "cached": False, "display": "d", "calls": ["m.c"], "blocking": []},
            "m.e": {"async": False, "cached": True, "display": "e", "calls": ["m.c"], "blocking": []},
            "m.f": {"async": False, "cached": False, "display": "f", "calls": ["m.e"], "blocking": []},
        },
        "classes": {},
        "exports": {},
    }
    index = ProjectIndex.build([facts])
    assert index.blocking == {"m.a": ["a", "b", "c", "os.system"], "m.b": ["b", "c", "os.system"], "m.c": ["c", "os.system"]}
