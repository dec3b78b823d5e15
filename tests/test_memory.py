"""A file's tree is freed as soon as its lint is done, by reference counting alone.

The engine keeps no reference cycle through a tree (a recursive closure, bound methods
cached on an object, a binding pointing back at its scope): one would keep every node of
the file alive until the garbage collector ran, which the CLI runs rarely (`cli.main`),
and a worker would carry a large file's tree on into the next files.
"""

from __future__ import annotations

import gc
import shutil
from pathlib import Path

import pytest
from fixture_format import fixture_files
from helpers import settings_for

from asynclint import runner
from asynclint.config import Settings
from asynclint.diagnostics import Facts
from asynclint.engine import lint_text

PROJECTS = Path(__file__).parent / "fixtures" / "projects"


def _trees_left_in_cycles(action) -> list[str]:
    """Run `action` with the collector off; the LibCST objects it left in cyclic garbage."""
    enabled = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        action()
        gc.set_debug(gc.DEBUG_SAVEALL)
        gc.collect()
        return sorted({type(o).__name__ for o in gc.garbage if type(o).__module__.startswith("libcst")})
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.collect()
        if enabled:
            gc.enable()


def test_the_check_sees_a_tree_kept_by_a_cycle():
    import libcst as cst

    def keep_in_cycle():
        holder = {"tree": cst.parse_module("x = 1\n")}
        holder["self"] = holder

    assert "Module" in _trees_left_in_cycles(keep_in_cycle)


@pytest.mark.parametrize("path", fixture_files(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_linting_a_fixture_leaves_no_tree_in_a_cycle(path):
    text = path.read_text(encoding="utf-8")
    settings = settings_for(text, path.parent.name)
    assert _trees_left_in_cycles(lambda: lint_text(text, str(path), settings, collect_facts=Facts.ALL)) == []


@pytest.mark.parametrize("name", sorted(p.name for p in PROJECTS.iterdir()))
def test_project_analysis_leaves_no_tree_in_a_cycle(tmp_path, name):
    # The second pass lints with the project index: its rules walk the index's facts too.
    root = tmp_path / name
    shutil.copytree(PROJECTS / name, root)
    files = sorted(str(p) for p in root.rglob("*.py"))
    # Opt-in: the ORM projects' one rule, and sqlite_app's routes that open sessions.
    settings = Settings(root=str(root), extend_select=("ASL301", "ASL401"))
    found = []
    assert (
        _trees_left_in_cycles(
            lambda: found.extend(runner.run(files, runner.Job(settings), jobs=1, project_files=files).diagnostics)
        )
        == []
    )
    assert found or name == "orm_sync"  # the projects have findings: the second pass ran (orm_sync stays quiet)
