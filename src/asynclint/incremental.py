"""A run from the last one's record, when only a few files changed: only they are linted
again (and, where a helper's blocking changed, the files whose chains did)."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from asynclint import passes, workers
from asynclint.diagnostics import Diagnostic, FileResult, ModuleFacts
from asynclint.job import Job, RunResult
from asynclint.project.families import BLOCKING_CODES

if TYPE_CHECKING:
    from asynclint.cache import RunCache
    from asynclint.project import IndexBuild, ProjectIndex


def _same_facts(
    result: FileResult,
    job: Job,
    before: str | None,
    names: dict[str, frozenset[str]],
    read: tuple[ModuleFacts | None, ModuleFacts | None] | None,
) -> bool:
    """Does the project pass read the same of this changed file as the run before did?
    `read`: (then, now) where that run read its facts (`_facts_read`): they are the same.
    Else the index was built without them, and still would be: it has none now, or its
    facts are still deferred and it spells none of the names the deferred modules were
    checked for (then neither its calls nor its names lead there)."""
    from asynclint.cache import facts_hash

    if read is not None:
        then, now = map(facts_hash, read)
        return then not in (None, "deferred") and now == then
    now = facts_hash(result.facts)
    if now is None:
        return True
    return now == "deferred" and before == "deferred" and not passes.spells(result.path, names, job)


def _facts_read(
    fresh: list[FileResult], job: Job, record: dict[str, Any], unread: set[str]
) -> dict[str, tuple[ModuleFacts | None, ModuleFacts | None]]:
    """For each changed file whose facts the last run's project pass read, (those facts, as
    the cache held them before this run; its facts now). Either may be its first pass's or,
    where that defers them (a sync helper that async code calls), those read on demand:
    now, a facts-only lint, as `runner._index_on_demand` would read it. Each one's results
    are cached, so that a later re-check finds every file's facts there (one missing sends
    it the whole way)."""
    from asynclint.cache import facts_hash
    from asynclint.project import is_deferred

    first = passes.cache_of(job)
    fetch = passes.on_demand(job)
    on_demand = passes.cache_of(fetch)
    read: dict[str, tuple[ModuleFacts | None, ModuleFacts | None]] = {}
    for r in fresh:
        digest = record["facts"].get(r.path)
        cached = first.facts(r.path, stored=True)  # before the first pass replaces it
        first.put(r)
        if digest not in (None, "deferred"):
            then = cached if facts_hash(cached) == digest else None
        elif digest == "deferred" and r.path not in unread:
            then = on_demand.facts(r.path, stored=True)
        else:
            continue  # the index was built without its facts
        now = r.facts
        if is_deferred(now) and not r.errors:
            full = workers.process(r.path, fetch)
            now = None if full.errors else full.facts
            on_demand.put(full)
        read[r.path] = (then, now)
    return read


# At most this many changed files are linted again on their own (`rerun_changed`); more
# (a checkout of another branch) take the whole run.
FEW_CHANGED = 16


def rerun_changed(files: list[str], job: Job, run_cache: RunCache, jobs: int) -> RunResult | None:
    """The run, from the last one's record, when only a few of the files asked for changed.
    Where each one's facts are what they were (a comment, a function's body: most edits),
    the project index is the one that run built and every other file's findings are what
    they were: only the changed files are linted, both passes, as `runner._project_pass` would.
    Where their facts changed only in what they call of libraries (a helper that starts or
    stops calling `time.sleep`), the index is updated (`_rerun_new_facts`) and the files
    whose findings it may change are linted again too. None where neither holds: the whole
    run is needed."""
    from asynclint.cache import _diagnostic_from, facts_hash
    from asynclint.project import index_to_json

    record = run_cache.previous()
    if record is None:
        return None
    # (A file may be named twice, relatively as asked for and absolutely as discovered.)
    requested = {os.path.abspath(path): path for path in files}
    changed = run_cache.changed(record)
    if any(os.path.abspath(path) not in requested for path in changed):
        return None  # a file only read for its facts changed: they may have, too
    changed = sorted({requested[os.path.abspath(path)] for path in changed})
    if not changed or len(changed) > FEW_CHANGED:
        return None
    try:
        unread = set(record["unread"])
        names = {last: frozenset(holders) for last, holders in record["names"].items()}
    except (TypeError, AttributeError):
        return None
    fresh = [workers.process(path, job) for path in changed]
    read = _facts_read(fresh, job, record, unread)
    again: list[FileResult] = []  # unchanged files whose findings the new index may change
    chains: dict[str, list[Diagnostic]] = {}  # unchanged files -> their blocking findings now
    new_index = None
    if any(r.errors or not _same_facts(r, job, record["facts"].get(r.path), names, read.get(r.path)) for r in fresh):
        updated = None if any(r.errors for r in fresh) else _rerun_new_facts(files, job, run_cache, record, fresh, read)
        if updated is None:
            return None  # the rest of the run is the whole one
        new_index, again = updated
        index = new_index
        # In a file that did not change, only the blocking chains' findings can (the index
        # changed in nothing else): judged at the places its first pass recorded, where it can.
        still = []
        for r in again:
            found = passes.judged_at_sites(r, BLOCKING_CODES & job.settings.codes_for(r.path), index, job)
            if found is None:
                still.append(r)
            else:
                chains[r.path] = found
        again = still
    else:
        stored = run_cache.index(record)
        if stored is None:
            return None
        index = stored
    redo = [*fresh, *again]
    if not index.is_empty():
        passes.project_wide_again(redo, index, job, jobs, use_cache=False)
        if any(r.errors for r in redo):
            return None
    redone = {r.path for r in redo}
    linted = set(changed)  # their notes are new; the others' (of the first pass) stand
    result = RunResult(files=len(files))
    try:
        result.diagnostics = [
            _diagnostic_from(d)
            for d in record["diagnostics"]
            if d["path"] not in redone and (d["path"] not in chains or d["code"] not in BLOCKING_CODES)
        ]
        notes = [(path, note) for path, note in record["notes"] if path not in linted]
    except (ValueError, TypeError, KeyError, AttributeError):
        return None
    for r in redo:
        result.diagnostics.extend(r.diagnostics)
    for found in chains.values():
        result.diagnostics.extend(found)
    for r in fresh:
        notes += [(r.path, note) for note in r.notes]
    result.diagnostics.sort(key=lambda d: d.sort_key)
    notes.sort(key=lambda item: item[0])  # stable: a file's own notes keep their order
    result.notes = [note for _, note in notes]
    run_cache.put(
        result.diagnostics,
        notes,
        {**record["facts"], **{r.path: facts_hash(r.facts) for r in fresh}},
        index=index_to_json(new_index) if new_index is not None else None,
        index_hash=record["index"],
        unread=record["unread"],
        names=record["names"],
    )
    return result


def _rerun_new_facts(
    files: list[str],
    job: Job,
    run_cache: RunCache,
    record: dict[str, Any],
    fresh: list[FileResult],
    read: dict[str, tuple[ModuleFacts | None, ModuleFacts | None]],
) -> tuple[ProjectIndex, list[FileResult]] | None:
    """(the index, the unchanged files to lint again) when the changed files' facts changed
    only in what they call of libraries; else None. Then a run without the cache would read
    the same modules' facts, in the same rounds (`runner._index_on_demand` follows only names of
    the project, and the index's names do not change), and `IndexBuild.update` gives its
    index exactly: its blocking chains change, nothing else. The files to lint again are
    those that call into what may block, before or after, and spell a name whose chain
    changed (as the language server decides: `project.changed_names`). Each one's first
    pass comes from the cache, its second is run with the new index. `read`: what the
    project pass read of the changed files then, and reads now (`_facts_read`)."""
    import hashlib

    from asynclint.cache import facts_hash
    from asynclint.project import IndexBuild, changed_names, index_to_json, is_deferred, words

    requested = {os.path.abspath(path) for path in files}
    if any(os.path.abspath(path) not in requested for path in run_cache.project_files):
        return None  # the rest of the project was read another way (`runner._project_pass`)
    first = passes.cache_of(job)
    on_demand = passes.cache_of(passes.on_demand(job))
    unread = set(record["unread"])
    new: dict[str, ModuleFacts] = {}
    for r in fresh:
        now = read.get(r.path, (None, None))[1]
        if now is None:
            return None  # not read by the last run, or no facts now: the whole run decides
        new[r.path] = now
    loaded: dict[str, ModuleFacts] = {}
    old: dict[str, ModuleFacts] = {}
    for path, digest in sorted(record["facts"].items()):
        if path in new:
            # The facts the last run read: the cache's entry before this run replaced it
            # (the first pass's, or those read on demand where the first pass deferred them).
            facts = read[path][0]
            if facts_hash(facts) in (None, "deferred") or facts_hash(new[path]) in (None, "deferred"):
                return None
            assert facts is not None
            old[path] = facts
        elif digest is None:
            continue
        elif digest == "deferred":
            facts = {"deferred": True} if path in unread else on_demand.facts(path)
        else:
            facts = first.facts(path)
        if facts is None:
            return None
        loaded[path] = facts
    if len(old) != len(new):
        return None
    if all(facts.get("exports") == new[path].get("exports") for path, facts in old.items()):
        # The index that run built (the record's), its chains derived again from the facts.
        stored = run_cache.index(record)
        if stored is None:
            return None
        build = IndexBuild(list(loaded.values()), stored)
    else:
        # An import added or taken away: `IndexBuild.update` must know what the build
        # resolved through it.
        build = IndexBuild(list(loaded.values()))
        if hashlib.sha256(index_to_json(build.index).encode()).hexdigest() != record["index"]:
            return None  # not the facts that run read
    before = build.index
    is_ours = _project_names(build, list(record["facts"]), job.settings.root)
    for path, facts in old.items():
        if not _library_calls_only(facts, new[path], is_ours) or not build.update(facts, new[path]):
            return None
    # A library bound to a name of a module, or no longer: no other module may call through it.
    bound = tuple(
        f"{alias}."
        for path in old
        for alias in old[path].get("exports", {}).keys() ^ new[path].get("exports", {}).keys()
    )
    if bound and any(
        name.startswith(bound)
        for facts in loaded.values()
        for key in ("async_calls", "type_refs")
        for name in facts.get(key, ())
    ):
        return None
    names = changed_names(before, build.index)
    if "*" in names:
        return None
    blocking = before.blocking.keys() | build.index.blocking.keys()
    again = []
    for path, facts in loaded.items():
        if path in new or is_deferred(facts) or blocking.isdisjoint(facts.get("async_calls", ())):
            continue  # no chain is looked up there, before or after
        if names.isdisjoint(words(passes.text_of(path, job))):
            continue
        result = first.get(path)
        if result is None:
            return None
        again.append(result)
    return build.index, again


def _library_calls_only(old: ModuleFacts, new: ModuleFacts, is_ours: Callable[[str], bool]) -> bool:
    """Do a module's facts differ only in names of libraries (what its functions call, its
    imports), none of which `is_ours` (a name of the project: its module, or one it defines)?
    Such a name leads nowhere in the project: neither what `runner._index_on_demand` reads nor any
    name of the index depends on it; blocking calls may change freely."""
    for key in old.keys() | new.keys():
        if key == "exports":
            # `import time` added or taken away: the name bound is the module's own, what
            # it is bound to must be a library's (`IndexBuild.update` checks the rest).
            before, after = old.get(key) or {}, new.get(key) or {}
            if any(before[alias] != after[alias] for alias in before.keys() & after.keys()):
                return False
            if any(is_ours((before | after)[alias]) for alias in before.keys() ^ after.keys()):
                return False
        elif key != "functions" and not _names_only(old.get(key), new.get(key), is_ours):
            return False
    before, after = old.get("functions", {}), new.get("functions", {})
    if before.keys() != after.keys():
        return False
    calls = {"blocking", "passing", "signature"}
    for name, info in after.items():
        was = before[name]
        if was == info:
            continue
        if was.keys() - calls != info.keys() - calls or any(was[key] != info[key] for key in was.keys() - calls):
            return False
        # The project's calls, and what they hand on, the same.
        passing = [[entry for entry in facts.get("passing", ()) if is_ours(entry[0])] for facts in (was, info)]
        if passing[0] != passing[1]:
            return False
    return True


def _names_only(old: object, new: object, is_ours: Callable[[str], bool]) -> bool:
    """Are `old` and `new` equal, or lists of names that differ only in names none of which
    `is_ours`?"""
    if old == new:
        return True
    if not (isinstance(old, list) or old is None) or not (isinstance(new, list) or new is None):
        return False
    before, after = old or [], new or []
    if not all(isinstance(name, str) for name in (*before, *after)):
        return False
    return not any(map(is_ours, set(before) ^ set(after)))


def _project_names(build: IndexBuild, paths: list[str], root: str) -> Callable[[str], bool]:
    """A test of names: does it (or a part before a dot) name a module of the project, or is
    it one of the names the project's facts define?"""
    from asynclint.modules import module_name

    tops = build._project._tops
    by_last: dict[str, list[str]] = {}
    for path in paths:
        stem = os.path.splitext(os.path.abspath(path))[0]
        if os.path.basename(stem) == "__init__":
            stem = os.path.dirname(stem)
        by_last.setdefault(os.path.basename(stem), []).append(path)
    modules: dict[str, bool] = {}

    def is_module(prefix: str) -> bool:
        found = modules.get(prefix)
        if found is None:
            last = prefix.rpartition(".")[2]
            found = modules[prefix] = any(module_name(path, root) == prefix for path in by_last.get(last, ()))
        return found

    def is_ours(name: str) -> bool:
        return name.partition(".")[0] in tops or any(is_module(prefix) for prefix in passes.module_prefixes(name))

    return is_ours
