"""Runs the engine over many files: in this process for a handful, on every core otherwise."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Literal

from asynclint import memory
from asynclint.config import Settings
from asynclint.diagnostics import Diagnostic, Facts, FileResult, InternalError
from asynclint.project import uses_index

# Below this many files, starting worker processes costs more than it saves.
PARALLEL_THRESHOLD = 24

FixMode = Literal["fix", "diff"] | None


@dataclass(frozen=True)
class Job:
    settings: Settings
    fix: FixMode = None
    unsafe: bool = False
    facts: Facts = Facts.NONE  # also collect facts for project analysis
    project: object = None  # a ProjectIndex for rules that use one (ASL207)
    # Line noqa comments applied (flake8 applies its own instead).
    noqa: bool = True
    # The lint of what --fix wrote (a stage of the run, for the progress bar).
    after_fix: bool = False
    # Where the cache lives (`--cache-dir`); None: `cache.cache_folder`'s default.
    cache_dir: str | None = None
    # Text to lint instead of the file on disk, by absolute path (stdin, an editor's buffer).
    # Such files are never cached: the cache trusts what is on disk.
    sources: Mapping[str, str] = field(default_factory=dict, compare=False)

    def source(self, path: str) -> str | None:
        return self.sources.get(os.path.abspath(path)) if self.sources else None

    def cache_key(self) -> tuple[str, str]:
        """(fingerprint, salt) of the cache for this job's results."""
        fingerprint = self.settings.fingerprint() + _FACTS_KEY[self.facts]
        if not self.noqa:
            fingerprint += "-nonoqa"
        if self.project is None:
            return fingerprint, ""
        import hashlib

        from asynclint.project import index_to_json

        return fingerprint + "-project", hashlib.sha256(index_to_json(self.project).encode()).hexdigest()


# Part of a cache file's name: each kind of pass has its own cache.
_FACTS_KEY = {Facts.NONE: "", Facts.FIRST: "-facts", Facts.SEEDS: "-seeds-facts", Facts.ALL: "-all-facts"}


@dataclass
class RunResult:
    diagnostics: list[Diagnostic] = field(default_factory=list)
    errors: list[InternalError] = field(default_factory=list)
    fixed: list[Diagnostic] = field(default_factory=list)
    diffs: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    files: int = 0
    # --fix of in-memory sources: path -> fixed text (see `Job.sources`).
    outputs: dict[str, str] = field(default_factory=dict)


def _process(path: str, job: Job) -> FileResult:
    try:
        if job.fix is None:
            from asynclint.engine import lint_file, lint_text

            text = job.source(path)
            if text is not None:
                return lint_text(
                    text, path, job.settings, apply_noqa=job.noqa, collect_facts=job.facts, project=job.project
                )
            return lint_file(path, job.settings, collect_facts=job.facts, project=job.project, apply_noqa=job.noqa)
        return _fix_file(path, job)
    except Exception as exc:  # the engine itself failed on this file; the others go on
        import traceback

        from asynclint import __version__

        detail = f"asynclint {__version__}: {type(exc).__name__}: {exc}\n{traceback.format_exc(limit=-3)}"
        return FileResult(path=path, errors=[InternalError(path, "engine", detail)])


def _fix_file(path: str, job: Job) -> FileResult:
    from asynclint.atomic import WriteRefused, write_atomic
    from asynclint.engine import lint_file
    from asynclint.fixer import fix_text, unified_diff
    from asynclint.formatting import format_fixed
    from asynclint.source import UnreadableSource, read_source

    text = job.source(path)
    source = None
    if text is None:
        try:
            source = read_source(path)
        except UnreadableSource:
            return lint_file(path, job.settings)  # reports ASL002; such a file is never written
        text = source.text
    outcome = fix_text(text, path, job.settings, unsafe=job.unsafe)
    result = FileResult(path=path, diagnostics=outcome.remaining, fixed=outcome.fixed, notes=outcome.failures)
    new_text = text if outcome.text == text else format_fixed(outcome.text, path, job.settings)
    if job.fix == "diff":
        if new_text != text:
            result.diff = unified_diff(text, new_text, path)
        return result
    if source is None:  # text from stdin or an editor: the fixed text is handed back, not written
        result.output = new_text
        return result
    if new_text == text:
        return result
    try:
        if _orphaned():
            raise WriteRefused(f"{path}: the run was stopped; not written")
        if not _round_trips(source):
            # (`unicode_escape`: the whole file would come back as escapes on one line.)
            raise WriteRefused(
                f"{path}: its encoding ({source.encoding}) does not give back the bytes read; not written"
            )
        write_atomic(path, new_text.encode(source.encoding), source.raw)
    except UnicodeEncodeError:
        result.notes.append(f"{path}: the fixed text cannot be encoded as {source.encoding}; not written")
        result.fixed, result.diagnostics = [], outcome.found
    except WriteRefused as exc:
        result.notes.append(str(exc))
        # The file keeps its findings: report them, not what the fix would have left.
        result.fixed, result.diagnostics = [], outcome.found
    return result


def _round_trips(source) -> bool:
    """Does encoding the decoded text give the file's bytes again? Only then does a fix
    change nothing but what it fixes."""
    try:
        return source.text.encode(source.encoding) == source.raw
    except (UnicodeError, LookupError):
        return False


def _chunk(paths: list[str], job: Job) -> list[FileResult]:
    results = []
    for path in paths:
        if _orphaned():
            os._exit(1)
        results.append(_process(path, job))
        if _size(path) >= LARGE_FILE:
            memory.give_back()
    return results


# A file this large (bytes) may leave a tree of 15 MB or more behind when it is done.
LARGE_FILE = 64 * 1024


def _size(path: str) -> int:
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


def run(
    files: list[str],
    job: Job,
    jobs: int | None = None,
    use_cache: bool = False,
    project_files: list[str] | None = None,
) -> RunResult:
    """Lint `files`. With `project_files` (and ASL207 enabled, project analysis on, not
    fixing), facts of the whole project feed the project-wide rules."""
    global _pool
    owner = _pool is None
    try:
        result = _run(files, job, jobs, use_cache, project_files)
        if owner:
            # Once, at the end: a project-wide run reads facts in rounds (one module further
            # each along a long chain), and saving each round rewrote megabytes each time.
            for cache in _caches.values():
                cache.save()
        return result
    except BaseException:
        # Ctrl-C, SIGTERM (see cli.main) or a failure: the workers stop now, not after the
        # chunks already queued for them, and none writes a file once this returns.
        if owner:
            _stop_pool()
        raise
    finally:
        if owner:
            _caches.clear()
            if _pool is not None:
                _pool.shutdown()
                _pool = None


def _run(files, job: Job, jobs: int | None, use_cache: bool, project_files) -> RunResult:
    result = RunResult(files=len(files))
    jobs = jobs or os.cpu_count() or 1
    settings = job.settings
    use_project = project_files is not None and job.fix is None and uses_index(settings)
    run_cache = None
    if use_project:
        job = replace(job, facts=Facts.FIRST)
        if use_cache and not job.sources:
            from asynclint.cache import RunCache

            run_cache = RunCache(settings.root, job.cache_key()[0], files, project_files, job.cache_dir)
            cached = run_cache.get()
            if cached is not None:
                result.diagnostics, result.notes = cached
                return result
            changed = _rerun_changed(files, job, run_cache, jobs)
            if changed is not None:
                return changed
    results = _run_cached(files, job, jobs, use_cache)
    index = None
    if use_project:
        from asynclint.cache import facts_hash

        # Before the project pass, which fills in the facts of deferred modules it reads.
        facts = {r.path: facts_hash(r.facts) for r in results} if run_cache is not None else {}
        names: dict[str, set[str]] = {}
        index = _project_pass(files, project_files, results, job, jobs, use_cache, names)
    elif job.fix == "fix" and project_files is not None:
        # What remains after fixing, project-wide rules included: lint the written files.
        fixed_sources = {os.path.abspath(r.path): r.output for r in results if r.output is not None}
        lint_job = replace(job, fix=None, unsafe=False, sources={**job.sources, **fixed_sources}, after_fix=True)
        remaining = run(files, lint_job, jobs, use_cache, project_files)
        for file_result in results:
            file_result.diagnostics = []
        result.diagnostics.extend(remaining.diagnostics)
        result.errors.extend(remaining.errors)
    notes = []  # (file, note), for the run record
    for file_result in sorted(results, key=lambda r: r.path):
        result.diagnostics.extend(file_result.diagnostics)
        result.errors.extend(file_result.errors)
        result.fixed.extend(file_result.fixed)
        result.notes.extend(file_result.notes)
        notes += [(file_result.path, note) for note in file_result.notes]
        if file_result.diff:
            result.diffs.append(file_result.diff)
        if file_result.output is not None:
            result.outputs[file_result.path] = file_result.output
    result.diagnostics.sort(key=lambda d: d.sort_key)
    if run_cache is not None and not result.errors:
        from asynclint.project import index_to_json, is_deferred

        run_cache.put(
            result.diagnostics,
            notes,
            facts,
            index_to_json(index) if index is not None else None,
            unread=[r.path for r in results if not r.facts or is_deferred(r.facts)],
            names={last: sorted(holders) for last, holders in names.items()},
        )
    return result


def _same_facts(result: FileResult, job: Job, before: str | None, unread: set[str], names) -> bool:
    """Does the project pass read the same of this changed file as the run before did? Its
    facts are the same; or the index was built without them, and still would be: it has
    none now, or its facts are still deferred and it spells none of the names the deferred
    modules were checked for (then neither its calls nor its names lead there)."""
    from asynclint.cache import facts_hash

    now = facts_hash(result.facts)
    if now not in (None, "deferred"):
        return now == before
    if result.path not in unread:
        return False
    if now is None:
        return True
    return before == "deferred" and not _spells(result.path, names, job)


# At most this many changed files are linted again on their own (`_rerun_changed`); more
# (a checkout of another branch) take the whole run.
FEW_CHANGED = 16


def _rerun_changed(files: list[str], job: Job, run_cache, jobs: int) -> RunResult | None:
    """The run, from the last one's record, when only a few of the files asked for changed.
    Where each one's facts are what they were (a comment, a function's body: most edits),
    the project index is the one that run built and every other file's findings are what
    they were: only the changed files are linted, both passes, as `_project_pass` would.
    Where their facts changed only in what they call of libraries (a helper that starts or
    stops calling `time.sleep`), the index is updated (`_rerun_new_facts`) and the files
    whose findings it may change are linted again too. None where neither holds: the whole
    run is needed."""
    from asynclint.cache import _diagnostic_from, facts_hash
    from asynclint.project import index_to_json, merge_rerun, rerun_plan

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
    fresh = [_process(path, job) for path in changed]
    try:
        unread = set(record["unread"])
        names = {last: frozenset(holders) for last, holders in record["names"].items()}
    except (TypeError, AttributeError):
        return None
    again: list[FileResult] = []  # unchanged files whose findings the new index may change
    new_index = None
    if any(r.errors or not _same_facts(r, job, record["facts"].get(r.path), unread, names) for r in fresh):
        updated = None if any(r.errors for r in fresh) else _rerun_new_facts(files, job, run_cache, record, fresh)
        # Their first pass stands either way (read above for the facts they had).
        cache = _cache(job)
        for r in fresh:
            cache.put(r)
        if updated is None:
            return None  # the rest of the run is the whole one
        new_index, again = updated
        index = new_index
    else:
        index = run_cache.index(record)
        if index is None:
            return None
    redo = [*fresh, *again]
    if not index.is_empty():
        plan = rerun_plan(index, redo, job.settings, lambda path: _text(path, job))
        if plan:
            codes = frozenset().union(*plan.values())
            second = replace(job, settings=replace(job.settings, select=tuple(sorted(codes)), extend_select=()))
            done = {
                r.path: r
                for r in _run_cached(list(plan), replace(second, facts=Facts.NONE, project=index), jobs, False)
            }
            for r in redo:
                if r.path in plan:
                    merge_rerun(r, done[r.path], plan[r.path])
        if any(r.errors for r in redo):
            return None
    redone = {r.path for r in redo}
    linted = set(changed)  # their notes are new; the others' (of the first pass) stand
    result = RunResult(files=len(files))
    try:
        result.diagnostics = [_diagnostic_from(d) for d in record["diagnostics"] if d["path"] not in redone]
        notes = [(path, note) for path, note in record["notes"] if path not in linted]
    except (ValueError, TypeError, KeyError, AttributeError):
        return None
    for r in redo:
        result.diagnostics.extend(r.diagnostics)
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


def _rerun_new_facts(files: list[str], job: Job, run_cache, record, fresh: list[FileResult]):
    """(the index, the unchanged files to lint again) when the changed files' facts changed
    only in what they call of libraries; else None. Then a run without the cache would read
    the same modules' facts, in the same rounds (`_index_on_demand` follows only names of
    the project, and the index's names do not change), and `IndexBuild.update` gives its
    index exactly: its blocking chains change, nothing else. The files to lint again are
    those that call into what may block, before or after, and spell a name whose chain
    changed (as the language server decides: `workspace.changed_names`). Each one's first
    pass comes from the cache, its second is run with the new index."""
    import hashlib

    from asynclint.cache import facts_hash
    from asynclint.project import IndexBuild, index_to_json, is_deferred, words
    from asynclint.server.workspace import changed_names

    requested = {os.path.abspath(path) for path in files}
    if any(os.path.abspath(path) not in requested for path in run_cache.project_files):
        return None  # the rest of the project was read another way (`_project_pass`)
    first = _cache(job)
    on_demand = _cache(replace(job, settings=_facts_only(job.settings), facts=Facts.ALL))
    unread = set(record["unread"])
    new = {r.path: r.facts for r in fresh}
    loaded: dict[str, dict] = {}
    old: dict[str, dict] = {}
    for path, digest in sorted(record["facts"].items()):
        if path in new:
            # The facts the last run read: the cache's entry before this run replaces it.
            facts = first.facts(path, stored=True)
            if (
                digest in (None, "deferred")
                or facts_hash(facts) != digest
                or facts_hash(new[path]) in (None, "deferred")
            ):
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
        if names.isdisjoint(words(_text(path, job))):
            continue
        result = first.get(path)
        if result is None:
            return None
        again.append(result)
    return build.index, again


def _library_calls_only(old: dict, new: dict, is_ours) -> bool:
    """Do a module's facts differ only in names of libraries (what its functions call, its
    imports), none of which `is_ours` (a name of the project: its module, or one it defines)?
    Such a name leads nowhere in the project: neither what `_index_on_demand` reads nor any
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
    calls = {"calls", "blocking", "guarded_calls"}
    for name, info in after.items():
        was = before[name]
        if was == info:
            continue
        if was.keys() - calls != info.keys() - calls or any(was[key] != info[key] for key in was.keys() - calls):
            return False
        guarded = [[call for call, _ in facts.get("guarded_calls", ())] for facts in (was, info)]
        if not (_names_only(was["calls"], info["calls"], is_ours) and _names_only(*guarded, is_ours)):
            return False
    return True


def _names_only(old, new, is_ours) -> bool:
    """Are `old` and `new` equal, or lists of names that differ only in names none of which
    `is_ours`?"""
    if old == new:
        return True
    if not all(isinstance(names, list) or names is None for names in (old, new)):
        return False
    old, new = old or [], new or []
    if not all(isinstance(name, str) for name in (*old, *new)):
        return False
    return not any(map(is_ours, set(old) ^ set(new)))


def _project_names(build, paths: list[str], root: str):
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
        return name.partition(".")[0] in tops or any(is_module(prefix) for prefix in _prefixes(name))

    return is_ours


def _run_cached(
    files: list[str], job: Job, jobs: int, use_cache: bool, facts_from: Job | None = None
) -> list[FileResult]:
    """`job` on each file, from the cache where it has the file's result. `facts_from`: a job
    whose cached facts may stand in for this one's (which wants only facts)."""
    cache = None
    results: list[FileResult] = []
    todo = files
    if use_cache:
        # --fix and --diff read the lint results too: a file whose findings have no fix to
        # apply needs no fixing pass (and no parse).
        cache = _cache(job if job.fix is None else replace(job, fix=None, unsafe=False))
        todo = []
        for path in files:
            hit = None if job.source(path) is not None else cache.get(path)
            if hit is None or (job.fix is not None and _has_fixes(hit, job.unsafe)):
                todo.append(path)
            else:
                results.append(hit)
        if todo and facts_from is not None:
            todo = _facts_from_cache(todo, _cache(facts_from), cache, results)
    if PROGRESS is not None and files:
        PROGRESS.start(_pass_name(job), len(files))
        PROGRESS.advance(len(files) - len(todo))  # answered by the cache
    if jobs == 1 or not todo or (len(todo) < PARALLEL_THRESHOLD and _pool is None):
        # (Once the workers run, a few files go to them too: parsed here, their trees would
        # stay in this process's memory beside everything it holds for the whole run.)
        fresh = _chunk(todo, job)
        if PROGRESS is not None and todo:
            PROGRESS.advance(len(todo))
    else:
        fresh = _parallel(todo, job, jobs)
    results.extend(fresh)
    if cache is not None:
        for file_result in fresh:
            if job.source(file_result.path) is None and _lint_of_disk(file_result, job):
                cache.put(file_result)
    return results


def _lint_of_disk(result: FileResult, job: Job) -> bool:
    """Are `result`'s findings those of the file now on disk? After --fix, of the text
    written, unless it was formatted after them (fix-format) or not written (a note says
    why); after --diff, of the fixed text, which is not on disk."""
    if job.fix is None:
        return True  # its notes are lint warnings (a noqa directive read as blanket), cached with it
    if not result.fixed:
        return not result.notes
    return job.fix == "fix" and job.settings.fix_format is None and not result.notes


def _has_fixes(result: FileResult, unsafe: bool) -> bool:
    return any(d.fix is not None and (unsafe or d.fix.applicability == "safe") for d in result.diagnostics)


def _project_pass(files, project_files, results, job: Job, jobs: int, use_cache: bool, names=None):
    """Facts for the rest of the project (on demand), the index, then the project-wide rules
    (ASL207, sessions, resources) again where they may find more; their findings replace the
    first pass's in `results`. Returns the index; `names`, if given, gets the names deferred
    modules were checked for (see `_index_on_demand`)."""
    from asynclint.project import merge_rerun, rerun_plan

    settings = job.settings

    # The same file may be named relatively on the command line and absolutely by discovery.
    requested = {os.path.abspath(path) for path in files}
    others = [path for path in project_files if os.path.abspath(path) not in requested]
    facts_only = _facts_only(settings)
    # The rest of the project: its async code matters only where what the requested files
    # call leads (`wanted_calls`), so only its sessions and resources are read first.
    # A whole-project run's facts of them, where cached, stand in (a superset: they were read
    # from async code too, which only lets `_index_on_demand` find sooner what it would find).
    everything = [
        *results,
        *_run_cached(
            others,
            replace(job, settings=facts_only, facts=Facts.SEEDS),
            jobs,
            use_cache,
            facts_from=replace(job, facts=Facts.FIRST),
        ),
    ]
    # In path order: results arrive in completion order, and the chain the index shows
    # must not depend on which worker finished first (nor on the cache, whose order differs).
    everything.sort(key=lambda r: r.path)
    index = _index_on_demand(everything, replace(job, settings=facts_only, facts=Facts.ALL), jobs, use_cache, names)
    if index.is_empty():
        return index
    # The project-wide rules again, with the index, where they may find more.
    plan = rerun_plan(index, results, settings, lambda path: _text(path, job))
    if not plan:
        return index
    codes = frozenset().union(*plan.values())
    second = replace(settings, select=tuple(sorted(codes)), extend_select=())
    again = {
        r.path: r
        for r in _run_cached(
            list(plan), replace(job, settings=second, facts=Facts.NONE, project=index), jobs, use_cache
        )
    }
    for r in results:
        if r.path in again:
            merge_rerun(r, again[r.path], plan[r.path])
    return index


def _facts_only(settings: Settings) -> Settings:
    """The settings of a pass that only reads facts."""
    return replace(settings, select=(), extend_select=(), per_file_ignores=())


def _index_on_demand(everything: list[FileResult], fetch: Job, jobs: int, use_cache: bool, spelled=None):
    """The project index, after reading the facts of deferred modules as they are wanted:
    once async code calls into one (directly or through sync helpers: a blocking chain may go
    on there), or it spells a session or resource name the index found; and those facts may
    lead further. `everything`'s facts are filled in on the way; `spelled`, if given, gets
    every name (with its holders) the deferred modules were checked for, in any round: a
    module spelling none of them was not read for them (`_rerun_changed`)."""
    from asynclint.modules import module_name
    from asynclint.project import ProjectIndex, is_deferred, wanted_calls, wanted_types

    deferred: dict[str, list[FileResult]] = {}
    for r in everything:
        if is_deferred(r.facts):
            deferred.setdefault(module_name(r.path, fetch.settings.root), []).append(r)
    checked: dict[str, frozenset[str]] = {}  # names every deferred module was checked for
    index = None
    while deferred:
        known = [r.facts for r in everything if r.facts]
        wanted_modules = {
            module
            for name in wanted_calls(known) | wanted_types(known)
            for module in _prefixes(name)
            if module in deferred
        }
        if not wanted_modules:
            # The calls lead nowhere new: now the names, of an index built only this once per
            # round (the last one's is the final index), and only those not looked for before.
            index = ProjectIndex.build(known)
            names = index.names()
            new = {last: holders for last, holders in names.items() if checked.get(last) != holders}
            checked.update(new)
            if spelled is not None:
                for last, holders in new.items():
                    spelled.setdefault(last, set()).update(holders)
            wanted_modules = {
                module for module, found in deferred.items() if new and any(_spells(r.path, new, fetch) for r in found)
            }
        wanted = [r for module in sorted(wanted_modules) for r in deferred.pop(module)]
        if not wanted:
            break
        index = None
        fresh = {f.path: f for f in _run_cached([r.path for r in wanted], fetch, jobs, use_cache)}
        for r in wanted:
            r.facts = fresh[r.path].facts or None
    return index if index is not None else ProjectIndex.build([r.facts for r in everything if r.facts])


def _cache(job: Job):
    """The run's one `Cache` of `job`'s results. A run's passes use the same cache files
    several times (facts on demand go round until nothing new is wanted), and the facts of a
    large project are megabytes of JSON: each is read once a run."""
    from asynclint.cache import Cache

    key = (job.settings.root, *job.cache_key(), job.cache_dir)
    cache = _caches.get(key)
    if cache is None:
        cache = _caches[key] = Cache(*key)
    return cache


# The caches the current run has opened (see `_cache`); forgotten when it ends.
_caches: dict[tuple, object] = {}


def _facts_from_cache(todo: list[str], other, cache, results: list[FileResult]) -> list[str]:
    """The files of `todo` whose facts `other` cache has (a whole-project run's facts answer
    for a run of a few files, whose other modules only need facts); the rest still to do."""
    left = []
    for path in todo:
        hit = other.get(path)
        if hit is None or hit.facts is None:
            left.append(path)
        else:
            found = FileResult(path=path, facts=hit.facts)
            results.append(found)
            cache.put(found)
    return left


def _prefixes(name: str) -> list[str]:
    """`a.b.f` -> `a.b.f`, `a.b`, `a`: the modules that may define (or re-export) it."""
    parts = name.split(".")
    return [".".join(parts[:end]) for end in range(len(parts), 0, -1)]


def _spells(path: str, names: dict[str, frozenset[str]], job: Job) -> bool:
    """Does the file spell a name of `ProjectIndex.names()` (see `project.names_any`)? Read
    anew each round: the words of thousands of files would cost more memory than reading
    them costs time. (Its words, not a substring scan per name: the index names hundreds.)"""
    from asynclint.knowledge import has_relative_import
    from asynclint.project import names_any, words

    text = _text(path, job)
    spelled = words(text)
    if names.keys().isdisjoint(spelled):
        return False
    return names_any(names, spelled, has_relative_import(text))


def _text(path: str, job: Job) -> str:
    text = job.source(path)
    if text is not None:
        return text
    from asynclint.source import UnreadableSource, read_source

    try:
        return read_source(path).text
    except UnreadableSource:
        return ""


def _parallel(files: list[str], job: Job, jobs: int) -> list[FileResult]:
    # Large files first so no worker is left with a big one at the end; small chunks
    # keep the pickling overhead low without starving a core.
    ordered = sorted(files, key=_size, reverse=True)
    chunk = max(1, min(32, len(ordered) // (jobs * 8) or 1))
    chunks = [ordered[i : i + chunk] for i in range(0, len(ordered), chunk)]
    global _pool
    if _pool is None:
        _pool = _start_pool(jobs)
    from concurrent.futures import as_completed

    results: list[FileResult] = []
    # As each chunk is done, not in the order given: the first chunks hold the largest files.
    for future in as_completed([_pool.submit(_chunk, chunk, job) for chunk in chunks]):
        batch = future.result()
        results.extend(batch)
        if PROGRESS is not None:
            PROGRESS.advance(len(batch))
    return results


def _start_pool(jobs: int, start_method: str | None = None):
    # Imported here: a one-file run never starts a pool.
    import gc
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    return ProcessPoolExecutor(
        max_workers=jobs,
        mp_context=multiprocessing.get_context(start_method),
        initializer=_worker_start,
        initargs=(gc.get_threshold(), os.getpid()),
    )


def read_all(files: list[str], job: Job, jobs: int, use_cache: bool = True) -> list[FileResult]:
    """`job` on each file, through the cache, on every core, for a caller that runs threads
    (the language server): the workers are not forked, since a child forked while another
    thread holds a lock could hang on it. The workers stop when it returns."""
    global _pool
    if jobs > 1 and len(files) >= PARALLEL_THRESHOLD and _pool is None:
        _pool = _start_pool(jobs, "forkserver")
    try:
        return _run_cached(files, job, jobs, use_cache)
    finally:
        _caches.clear()
        pool, _pool = _pool, None
        if pool is not None:
            pool.shutdown()


def _worker_start(thresholds: tuple[int, ...], parent: int) -> None:
    import gc
    import signal

    global _parent
    _parent = parent
    # The workers collect garbage as this process does, whatever the start method.
    gc.set_threshold(*thresholds)
    # Ctrl-C reaches the whole process group: the main process alone decides, and stops the
    # workers with SIGTERM. That ends a worker at once; a file being replaced is finished
    # first (atomic holds signals back meanwhile) and a half-written copy is removed.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _worker_stop)


def _worker_stop(signum, frame) -> None:
    from asynclint.atomic import discard_pending

    discard_pending()
    os._exit(128 + signum)


# In a worker: the main process's id. Its parent changes when the main process is gone.
_parent: int | None = None


def _orphaned() -> bool:
    return _parent is not None and os.getppid() != _parent


def _stop_pool() -> None:
    global _pool
    pool, _pool = _pool, None
    if pool is None:
        return
    workers = list((getattr(pool, "_processes", None) or {}).values())
    for worker in workers:
        worker.terminate()
    pool.shutdown(wait=False, cancel_futures=True)
    for worker in workers:
        worker.join(10)


def _pass_name(job: Job) -> str:
    if job.project is not None:
        return "project-wide rules"
    if job.facts in (Facts.SEEDS, Facts.ALL):  # only facts of the rest of the project
        return "reading the project"
    if job.after_fix:
        return "checking the fixed files"
    return "fixing" if job.fix else "linting"


# The worker processes of the current run: started on first need, kept for its later passes
# (facts on demand, the second pass), which would each pay for starting them again.
_pool = None


# Set by the CLI on a terminal for large runs: `start(name, files)` as each pass begins
# ("linting" or "fixing" the files asked for; then "reading the project", "project-wide
# rules", "checking the fixed files"), then `advance(files)` as files are done (cache hits
# at once).
PROGRESS = None
