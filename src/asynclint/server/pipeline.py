"""The one place the editor integration calls into asynclint's engine, runner and project
analysis for a project held in memory (an index updated as modules change, which the
command line's `asynclint.pipeline` rebuilds each run). Everything else in
`asynclint.server` goes through these few functions.

Nothing here imports pygls.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from asynclint.config import ConfigError, Settings
from asynclint.diagnostics import Diagnostic, Facts, ModuleFacts

if TYPE_CHECKING:
    from asynclint.passes import FirstPasses
    from asynclint.project import IndexBuild, ProjectIndex


def config_for(path: str) -> tuple[str | None, Settings | None]:
    """(pyproject.toml that configures `path`, its settings): what `asynclint check PATH`
    finds (`pipeline.settings_for`, read again once the file changes); (None, None) where
    there is none. A bad config raises ConfigError."""
    from asynclint.pipeline import settings_for

    settings = settings_for(path)
    if settings.config_file is None:
        return None, None
    return settings.config_file, settings


def default_settings(root: str) -> Settings:
    return Settings(root=root)


def project_files(settings: Settings, root: str | None = None) -> list[str]:
    """The Python files of the project rooted at `root` (default: `settings.root`), with the
    settings' excludes applied."""
    from asynclint.discovery import DiscoveryError, discover

    try:
        return [os.path.abspath(path) for path in discover([root or settings.root], settings)]
    except DiscoveryError:
        return []


def wants_project(settings: Settings) -> bool:
    from asynclint.project import uses_index

    return uses_index(settings)


def project_facts(
    files: list[str],
    settings: Settings,
    jobs: int | None = None,
    use_cache: bool = True,
) -> dict[str, ModuleFacts]:
    """path -> facts of every module of the project (read from disk, through the cache,
    on every core). All of them, not only those a CLI run would read on demand: any module
    may be edited next, and the index must then be right without reading the rest again."""
    from asynclint import runner
    from asynclint.job import Job
    from asynclint.passes import facts_only
    from asynclint.project import is_deferred

    job = Job(facts_only(settings), facts=Facts.ALL)
    results = runner.read_all(files, job, jobs or os.cpu_count() or 1, use_cache)
    return {os.path.abspath(r.path): r.facts for r in results if r.facts and not is_deferred(r.facts)}


def text_facts(text: str, path: str, settings: Settings) -> ModuleFacts | None:
    """The facts of one module's text (a file changed on disk, or the editor's buffer)."""
    from asynclint.engine import lint_text
    from asynclint.passes import facts_only
    from asynclint.project import is_deferred

    facts = lint_text(text, path, facts_only(settings), collect_facts=Facts.ALL).facts
    return facts if facts and not is_deferred(facts) else None


def index_view(facts: ModuleFacts | None) -> tuple[Any, ...] | None:
    """The part of a module's facts `ProjectIndex.build` reads: its functions, minus what
    it skips in async functions (their calls and blocking calls: chains run through sync
    functions only), and the rest it reads (`INDEXED_MODULE_KEYS`: its tables, and what it
    starts as tasks, calls, registers at startup...). Typing in an async function's body
    changes the facts but most often not this, and then the index need not be built again."""
    from asynclint.project import INDEXED_MODULE_KEYS

    if not facts:
        return None
    functions = {
        name: ({k: v for k, v in info.items() if k != "blocking"} if info.get("async") else info)
        for name, info in facts.get("functions", {}).items()
    }
    return (facts.get("version"), functions, *(facts.get(key) for key in INDEXED_MODULE_KEYS))


def first_passes() -> FirstPasses:
    """What `check` keeps of the open files' texts between checks."""
    from asynclint.passes import FirstPasses

    return FirstPasses()


def build_index(all_facts: Iterable[ModuleFacts]) -> IndexBuild:
    """An `IndexBuild` of the facts: its `index`, and what updating it needs."""
    from asynclint.project import IndexBuild

    return IndexBuild(list(all_facts))


def update_index(build: IndexBuild, changes: list[tuple[ModuleFacts | None, ModuleFacts | None]]) -> bool:
    """Update an `IndexBuild` for modules' facts changed in place ([(before, after), ...],
    before: the facts it was built from); False when it must be built again (a module was
    added or removed, or the change is not one it updates exactly)."""
    return all(before is not None and after is not None and build.update(before, after) for before, after in changes)


def check(
    text: str, path: str, settings: Settings, index: ProjectIndex | None, first_passes: FirstPasses
) -> tuple[list[Diagnostic], ModuleFacts | None]:
    """(findings, module facts) of the editor's text of `path`, by `asynclint.pipeline.run`
    as `asynclint check` finds them: with the project's index held in memory, else (before
    the project is indexed) the file on its own. The facts (where project analysis is on)
    are what the index is updated with. `first_passes`: the open files' first passes, kept
    (a file checked again for a changed index, its text the same, is not linted again)."""
    from asynclint.pipeline import Request, run

    request = Request(
        paths=(path,),
        settings=settings,
        use_cache=False,
        jobs=1,
        sources={path: text},
        index=index,
        requested_only=index is None,
        facts=True,
        first_passes=first_passes,
    )
    result = run(request)
    return result.diagnostics, result.facts.get(os.path.abspath(path))


def fix_all(
    text: str, path: str, settings: Settings, *, unsafe: bool = False
) -> tuple[str, list[Diagnostic], list[str]]:
    """(fixed text, findings fixed, notes): exactly what `asynclint check --fix` writes for
    this text (fixes file by file, then the configured formatter)."""
    from asynclint.fixer import fix_text
    from asynclint.formatting import format_fixed

    outcome = fix_text(text, path, settings, unsafe=unsafe)
    fixed = format_fixed(text, outcome.text, path, settings)
    return fixed, outcome.fixed, outcome.failures


def add_noqa(text: str, row: int, codes: Iterable[str]) -> str:
    """The text with `# noqa: <codes>` added to (or merged into the comment of) a row."""
    from asynclint.add_noqa import add_noqa_to_text

    return add_noqa_to_text(text, {row: list(codes)})[0]


def rule_url(code: str) -> str:
    from asynclint.reporters import rule_url as url

    return url(code)


__all__ = [
    "ConfigError",
    "add_noqa",
    "build_index",
    "check",
    "config_for",
    "default_settings",
    "first_passes",
    "fix_all",
    "project_facts",
    "project_files",
    "rule_url",
    "text_facts",
    "update_index",
    "wants_project",
]
