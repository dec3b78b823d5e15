"""Which files the project-wide rules run on again once the index exists, and how their findings
replace the first pass's."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from collections.abc import Set as AbstractSet

from asynclint import registry
from asynclint.config import Settings
from asynclint.diagnostics import FileResult
from asynclint.project import derive
from asynclint.project.facts_format import is_deferred
from asynclint.project.families import SESSION_CODES, TYPE_CODES
from asynclint.project.index import ProjectIndex
from asynclint.project.spelling import spelled, words


def rerun_plan(
    index: ProjectIndex, results: Iterable[FileResult], settings: Settings, text: Callable[[str], str]
) -> dict[str, frozenset[str]]:
    """path -> the project-wide rules to run again on that file with the index (the ones
    enabled for it that may find more there). `text(path)`: the file's text. Importing a
    module that holds a session factory is not using it: a module that never spells one of
    the factories' own names cannot reach them; and each rule may know more exactly where
    the index can reach its findings (`Rule.index_may_change`)."""
    plan: dict[str, frozenset[str]] = {}
    sessions = {
        spelled(name).rpartition(".")[2]
        for table in (
            index.sessions,
            index.session_params,
            index.session_values(),
            derive.session_aliases(index.type_aliases),
        )
        for name in table
    }
    types = {
        spelled(name).rpartition(".")[2]
        for table in (index.returns, index.attributes, index.type_aliases, index.values)
        for name in table
    }
    for result in results:
        if result.facts and not is_deferred(result.facts):
            codes = index.rerun_codes(result.facts) & settings.codes_for(result.path)
            if codes:
                source = text(result.path)  # read once, for every check
                if codes & (SESSION_CODES | TYPE_CODES):
                    spelled_words = words(source)
                    if sessions.isdisjoint(spelled_words):
                        codes -= SESSION_CODES
                    if types.isdisjoint(spelled_words):
                        codes -= TYPE_CODES
                found = {d.code for d in result.diagnostics}
                rules = [registry.load_rule(code) for code in codes]
                codes = frozenset(
                    rule.code
                    for rule in rules
                    if (rule.code in found or not rule.index_removes_only) and rule.index_may_change(index, source)
                )
            # What the project as a whole says can silence what the first pass reported: a
            # route making its own session where the project provides no session dependency
            # (ASL401), a sync session's query where every engine is in-process (ASL206).
            for code, silenced in (("ASL401", not index.session_dependency), ("ASL206", index.in_process_engines)):
                if (
                    silenced
                    and code in settings.codes_for(result.path)
                    and any(d.code == code for d in result.diagnostics)
                ):
                    codes |= {code}
            if codes:
                plan[result.path] = codes
    return plan


def merge_rerun(first: FileResult, again: FileResult, codes: AbstractSet[str]) -> None:
    """Replace the findings of `codes` in the first result by those of the run with the
    index (which sees everything the first saw, and more). `--fix` works file by file,
    without the index: a finding only the index shows is reported without its fix."""
    from dataclasses import replace

    before = {(d.code, d.row, d.col) for d in first.diagnostics if d.code in codes}
    kept = [d for d in first.diagnostics if d.code not in codes]
    for diagnostic in again.diagnostics:
        if diagnostic.code in codes:
            if diagnostic.fix is not None and (diagnostic.code, diagnostic.row, diagnostic.col) not in before:
                diagnostic = replace(diagnostic, fix=None)
            kept.append(diagnostic)
    first.diagnostics = sorted(kept, key=lambda d: d.sort_key)
    first.errors.extend(e for e in again.errors if e not in first.errors)
