"""The one place the editor integration calls into asynclint's engine, runner and project
analysis for a project held in memory (an index updated as modules change, which the
command line's `asynclint.pipeline` rebuilds each run). Everything else in
`asynclint.server` goes through these few functions.

Nothing here imports pygls.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from asynclint.config import ConfigError, Settings, find_pyproject, settings_from_data
from asynclint.diagnostics import Diagnostic, Facts, FileResult

if TYPE_CHECKING:
    from asynclint.project import IndexBuild, ProjectIndex

# A module's facts, as the facts collector writes them (JSON-like).
ModuleFacts = dict[str, Any]


def config_for(path: str) -> tuple[str | None, Settings | None]:
    """(pyproject.toml that configures `path`, its settings), as `asynclint check PATH`
    finds them; (None, None) where there is none. A bad config raises ConfigError."""
    source, data = find_pyproject(Path(path))
    if source is None:
        return None, None
    return str(source), settings_from_data(data, source)


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


def _facts_only(settings: Settings) -> Settings:
    return replace(settings, select=(), extend_select=(), per_file_ignores=())


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
    from asynclint.project import is_deferred

    job = Job(_facts_only(settings), facts=Facts.ALL)
    results = runner.read_all(files, job, jobs or os.cpu_count() or 1, use_cache)
    return {os.path.abspath(r.path): r.facts for r in results if r.facts and not is_deferred(r.facts)}


def text_facts(text: str, path: str, settings: Settings) -> ModuleFacts | None:
    """The facts of one module's text (a file changed on disk, or the editor's buffer)."""
    from asynclint.engine import lint_text
    from asynclint.project import is_deferred

    facts = lint_text(text, path, _facts_only(settings), collect_facts=Facts.ALL).facts
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
        name: ({k: v for k, v in info.items() if k not in ("calls", "blocking")} if info.get("async") else info)
        for name, info in facts.get("functions", {}).items()
    }
    return (facts.get("version"), functions, *(facts.get(key) for key in INDEXED_MODULE_KEYS))


def build_index(all_facts: Iterable[ModuleFacts]) -> IndexBuild:
    """An `IndexBuild` of the facts: its `index`, and what updating it needs."""
    from asynclint.project import IndexBuild

    return IndexBuild(list(all_facts))


def update_index(build: IndexBuild, changes: list[tuple[ModuleFacts | None, ModuleFacts | None]]) -> bool:
    """Update an `IndexBuild` for modules' facts changed in place ([(before, after), ...],
    before: the facts it was built from); False when it must be built again (a module was
    added or removed, or the change is not one it updates exactly)."""
    return all(before is not None and after is not None and build.update(before, after) for before, after in changes)


def first_pass(text: str, path: str, settings: Settings) -> FileResult:
    """Findings without the project index, and (where project analysis is on) the facts of
    the text. What `with_index` completes; its result may be kept while the text is the same."""
    from asynclint.engine import lint_text
    from asynclint.project import is_deferred

    result = lint_text(text, path, settings, collect_facts=Facts.ALL if wants_project(settings) else Facts.NONE)
    if result.facts is not None and is_deferred(result.facts):
        result.facts = None
    return result


def with_index(
    first: FileResult, text: str, path: str, settings: Settings, index: ProjectIndex | None
) -> list[Diagnostic]:
    """The findings of the text with the project-wide rules run again with the index, as
    `asynclint check` merges its second pass (a finding only the index shows has no fix)."""
    from asynclint import passes
    from asynclint.job import Job

    merged = FileResult(path=path, diagnostics=list(first.diagnostics), errors=list(first.errors), facts=first.facts)
    if index is None or first.facts is None:
        return merged.diagnostics
    passes.project_wide_again([merged], index, Job(settings, sources={os.path.abspath(path): text}), 1, use_cache=False)
    return merged.diagnostics


def standalone(text: str, path: str, settings: Settings) -> list[Diagnostic]:
    """The file on its own, before its project is indexed."""
    from asynclint.pipeline import lint_source

    return lint_source(text, path, settings).diagnostics


def fix_all(
    text: str, path: str, settings: Settings, *, unsafe: bool = False
) -> tuple[str, list[Diagnostic], list[str]]:
    """(fixed text, findings fixed, notes): exactly what `asynclint check --fix` writes for
    this text (fixes file by file, then the configured formatter)."""
    from asynclint.fixer import fix_text
    from asynclint.formatting import format_fixed

    outcome = fix_text(text, path, settings, unsafe=unsafe)
    fixed = outcome.text if outcome.text == text else format_fixed(outcome.text, path, settings)
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
    "config_for",
    "default_settings",
    "first_pass",
    "fix_all",
    "project_facts",
    "project_files",
    "rule_url",
    "standalone",
    "text_facts",
    "update_index",
    "wants_project",
    "with_index",
]
