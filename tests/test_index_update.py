"""`IndexBuild.update` (the language server's index between keystrokes) gives exactly the
index a full build of the changed facts gives, on every fixture project."""

from __future__ import annotations

import copy
import random
import shutil
from pathlib import Path

import pytest

from asynclint.project import IndexBuild, ProjectIndex, index_to_json
from asynclint.server import pipeline

PROJECTS = Path(__file__).parent / "fixtures" / "projects"
NAMES = sorted(path.name for path in PROJECTS.iterdir() if path.is_dir())


def project_facts(name: str) -> list[dict]:
    settings = pipeline.default_settings(str(PROJECTS / name))
    found = []
    for path in sorted(pipeline.project_files(settings)):
        facts = pipeline.text_facts(Path(path).read_text(), path, settings)
        if facts:
            found.append(facts)
    return found


def call_edits(facts: dict, names: list[str], rng: random.Random):
    """The module's facts changed only in what one of its functions calls: a blocking call
    added or all taken away, project calls added or all taken away, a guarded call added."""
    for function in facts.get("functions", {}):
        for kind in range(5):
            new = copy.deepcopy(facts)
            info = new["functions"][function]
            if kind == 0:
                info["blocking"] = [["ASL201", "time.sleep"], *info["blocking"]]
            elif kind == 1:
                info["blocking"] = []
                info["passing"] = [entry for entry in info.get("passing", ()) if not entry[1]]
            elif kind == 2:
                added = [[name, [], []] for name in rng.sample(names, min(3, len(names)))]
                info["passing"] = [*info.get("passing", ()), *added]
            elif kind == 3:
                info.pop("passing", None)
            else:
                info["passing"] = [*info.get("passing", ()), [rng.choice(names), ["p"], []]]
                info["blocking"] = [*info["blocking"], ["ASL201", "time.sleep", ["p"]]]
            if new != facts:
                yield new


def same(one: ProjectIndex, other: ProjectIndex) -> bool:
    # The order too: a chain's locations are looked up in it.
    return index_to_json(one) == index_to_json(other) and list(one.blocking) == list(other.blocking)


@pytest.mark.parametrize("name", NAMES)
def test_update_equals_a_full_build(name):
    all_facts = project_facts(name)
    names = sorted(
        {n for facts in all_facts for key in ("functions", "classes", "exports") for n in facts.get(key, {})}
    )
    rng = random.Random(17)
    updated = 0
    for position, facts in enumerate(all_facts):
        for new in call_edits(facts, names, rng):
            build = IndexBuild(all_facts)
            after = [*all_facts[:position], new, *all_facts[position + 1 :]]
            if not build.update(facts, new):
                continue
            updated += 1
            assert same(build.index, ProjectIndex.build(after)), (name, new["module"])
            # Then back, and once more forward with equal facts of another object.
            assert build.update(new, facts)
            assert same(build.index, ProjectIndex.build(all_facts))
            again = copy.deepcopy(new)
            assert build.update(facts, again)
            assert same(build.index, ProjectIndex.build(after))
    if any(facts.get("functions") for facts in all_facts):
        assert updated


def test_update_refuses_what_it_cannot_follow():
    all_facts = project_facts("helpers")
    facts = next(f for f in all_facts if f.get("functions"))
    build = IndexBuild(all_facts)
    index = build.index
    for change in (
        # A name bound to a project function (a library's, `import time`, is followed: below).
        lambda new: new["exports"].update({f"{new['module']}.alias": next(iter(new["functions"]))}),
        lambda new: new["functions"].pop(next(iter(new["functions"]))),
        lambda new: next(iter(new["functions"].values())).update({"cached": True}),
    ):
        new = copy.deepcopy(facts)
        change(new)
        assert not build.update(facts, new)
        assert build.index is index


def indexed_workspace(root: Path, *opened: Path):
    """A server workspace at `root` with these files open (the first one's project indexed)."""
    from asynclint.server.workspace import Workspace

    workspace = Workspace([str(root)])
    for path in opened:
        workspace.check(str(path), path.read_text())
    project = workspace.open[str(opened[0])].project
    workspace.index_project(project)
    workspace.update_index()
    return workspace, project


def test_the_server_updates_its_index_on_a_call_edit(tmp_path):
    root = tmp_path / "helpers"
    shutil.copytree(PROJECTS / "helpers", root)
    helper = root / "app" / "util" / "slow.py"
    quiet = "import time\n\n\ndef fetch_rates():\n    return {}\n"
    blocking = "import time\n\n\ndef fetch_rates():\n    time.sleep(1)\n    return {}\n"
    helper.write_text(quiet)
    route = root / "app" / "route.py"
    route.write_text("from app.util.slow import fetch_rates\n\n\nasync def rates():\n    return fetch_rates()\n")
    workspace, project = indexed_workspace(root, route, helper)
    assert not [d for d in workspace.check(str(route), route.read_text()) if d.code == "ASL207"]
    kept = project.build
    for text, found in ((blocking, True), (quiet, False)):
        workspace.check(str(helper), text)
        assert str(route) in workspace.update_index()
        assert project.build is kept  # updated, not built again
        assert same(project.index, ProjectIndex.build(list(project.facts.values())))
        codes = [d.code for d in workspace.check(str(route), route.read_text())]
        assert ("ASL207" in codes) == found


def test_the_server_builds_again_when_what_a_module_calls_changes(tmp_path):
    # Handing a coroutine to `asyncio.wait_for` at the module's top level changes only the
    # module's `called`: it is no longer only ever started as a task, and what ASL102 says
    # changes. (`asyncio.run(...)` would not do: it starts a task's root too.)
    root = tmp_path / "tasks"
    shutil.copytree(PROJECTS / "tasks", root)
    workers, other = root / "app" / "workers.py", root / "app" / "other.py"
    other.write_text(
        "import asyncio\n" + other.read_text().replace("import also_awaited", "import also_awaited, poll_forever")
    )
    workspace, project = indexed_workspace(root, workers, other)

    def findings() -> list[int]:
        return [d.row for d in workspace.check(str(workers), workers.read_text()) if d.code in ("ASL102", "ASL107")]

    before = findings()
    assert before
    text = other.read_text() + "\n\nWAITED = asyncio.wait_for(poll_forever(), 1)\n"
    workspace.check(str(other), text)
    assert str(workers) in workspace.update_index()
    assert same(project.index, ProjectIndex.build(list(project.facts.values())))
    assert findings() != before


@pytest.mark.parametrize("name", NAMES)
def test_update_with_a_library_import_equals_a_full_build(name):
    # The edit the issue names: a helper gains `import time` and a `time.sleep(...)`.
    all_facts = project_facts(name)
    updated = 0
    for position, facts in enumerate(all_facts):
        if not facts.get("functions") or f"{facts['module']}.time" in facts.get("exports", {}):
            continue
        new = copy.deepcopy(facts)
        new.setdefault("exports", {})[f"{facts['module']}.time"] = "time"
        first = next(iter(new["functions"].values()))
        first["blocking"] = [["ASL201", "time.sleep"], *first["blocking"]]
        after = [*all_facts[:position], new, *all_facts[position + 1 :]]
        build = IndexBuild(all_facts)
        assert build.update(facts, new), facts["module"]
        updated += 1
        assert same(build.index, ProjectIndex.build(after)), (name, facts["module"])
        assert build.update(new, facts)  # and the import taken away again
        assert same(build.index, ProjectIndex.build(all_facts))
    assert updated or not any(facts.get("functions") for facts in all_facts)


def test_an_import_of_a_project_name_or_one_resolved_before_builds_again():
    all_facts = project_facts("helpers")
    position, facts = next((i, f) for i, f in enumerate(all_facts) if f.get("functions"))
    module = facts["module"]
    project_target = copy.deepcopy(facts)
    project_target.setdefault("exports", {})[f"{module}.other"] = next(iter(facts["functions"]))
    assert not IndexBuild(all_facts).update(facts, project_target)
    # A call spelled through the new name was resolved (to itself) by the first build.
    through = copy.deepcopy(facts)
    first = next(iter(through["functions"].values()))
    first["passing"] = [*first.get("passing", ()), [f"{module}.zz.sleep", [], []]]
    before = [*all_facts[:position], through, *all_facts[position + 1 :]]
    build = IndexBuild(before)
    imported = copy.deepcopy(through)
    imported.setdefault("exports", {})[f"{module}.zz"] = "time"
    assert not build.update(through, imported)


def test_changed_names_of_a_project_wide_flag_is_every_file():
    """`asyncio_orm` (or `session_dependency`) turning on changes what every open file's
    relationships or routes mean: the server re-checks them all, and does not fail on it."""
    from dataclasses import replace

    from asynclint.project import changed_names

    before = ProjectIndex()
    assert changed_names(before, replace(before, asyncio_orm=True)) == {"*"}
    assert changed_names(before, replace(before, session_dependency=True)) == {"*"}
    assert changed_names(before, replace(before, blocking={"app.util.stamp": ["time.sleep"]})) == {"stamp"}
