"""A run over many files: the first pass, then (with project analysis) the project's facts,
its index and the project-wide rules again where they may find more; `--fix` and the lint of
what it wrote. The passes themselves are `asynclint.passes`; the incremental re-check of a
few changed files, `asynclint.incremental`."""

from __future__ import annotations

import os
from dataclasses import replace

from asynclint import incremental, passes, workers
from asynclint.diagnostics import Facts, FileResult
from asynclint.job import FixMode, Job, RunResult
from asynclint.project import ProjectIndex, uses_index

__all__ = ["FixMode", "Job", "RunResult", "read_all", "run"]


def run(
    files: list[str],
    job: Job,
    jobs: int | None = None,
    use_cache: bool = False,
    project_files: list[str] | None = None,
    index: ProjectIndex | None = None,
    first_passes: passes.FirstPasses | None = None,
) -> RunResult:
    """Lint `files`. With `project_files` (and ASL207 enabled, project analysis on, not
    fixing), facts of the whole project feed the project-wide rules; with `index` instead,
    the caller's index of the project does (no facts of other files are read). A job
    collecting `Facts.ALL` gets the files' facts back (`RunResult.facts`). `first_passes`: the
    first pass of in-memory texts, kept from one run to the next."""
    owner = not workers.pool_running()
    try:
        result = _run(files, job, jobs, use_cache, project_files, index, first_passes)
        if owner:
            # Once, at the end: a project-wide run reads facts in rounds (one module further
            # each along a long chain), and saving each round rewrote megabytes each time.
            passes.save_caches()
        return result
    except BaseException:
        # Ctrl-C, SIGTERM (see cli.main) or a failure: the workers stop now, not after the
        # chunks already queued for them, and none writes a file once this returns.
        if owner:
            workers.stop_pool()
        raise
    finally:
        if owner:
            passes.forget_caches()
            workers.shutdown_pool()


def _run(
    files: list[str],
    job: Job,
    jobs: int | None,
    use_cache: bool,
    project_files: list[str] | None,
    given: ProjectIndex | None = None,
    first_passes: passes.FirstPasses | None = None,
) -> RunResult:
    result = RunResult(files=len(files))
    jobs = jobs or os.cpu_count() or 1
    settings = job.settings
    facts_back = job.facts is Facts.ALL
    analysis = job.fix is None and uses_index(settings)
    # The whole project's files, where its index feeds the project-wide rules.
    project = project_files if project_files is not None and given is None and analysis else None
    given = given if analysis else None
    run_cache = None
    if project is not None or given is not None:
        job = replace(job, facts=Facts.ALL if facts_back or given is not None else Facts.FIRST)
    elif facts_back:
        job = replace(job, facts=Facts.NONE)  # no project analysis: no facts to give back
    if project is not None:
        if use_cache and not job.sources:
            from asynclint.cache import RunCache

            run_cache = RunCache(settings.root, job.cache_key()[0], files, project, job.cache_dir)
            cached = run_cache.get()
            if cached is not None:
                result.diagnostics, result.notes = cached
                return result
            changed = incremental.rerun_changed(files, job, run_cache, jobs)
            if changed is not None:
                return changed
    if first_passes is not None:
        results = first_passes.run(files, job, jobs, use_cache)
    else:
        results = passes.run_cached(files, job, jobs, use_cache)
    index = None
    if project is not None:
        from asynclint.cache import facts_hash

        # Before the project pass, which fills in the facts of deferred modules it reads.
        facts = {r.path: facts_hash(r.facts) for r in results} if run_cache is not None else {}
        names: dict[str, set[str]] = {}
        index = _project_pass(files, project, results, job, jobs, use_cache, names)
    elif given is not None:
        passes.project_wide_again(results, given, job, jobs, use_cache)
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
    if job.facts is Facts.ALL and facts_back:
        from asynclint.project import is_deferred

        result.facts = {
            os.path.abspath(r.path): r.facts for r in results if r.facts is not None and not is_deferred(r.facts)
        }
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


def _project_pass(
    files: list[str],
    project_files: list[str],
    results: list[FileResult],
    job: Job,
    jobs: int,
    use_cache: bool,
    names: dict[str, set[str]] | None = None,
) -> ProjectIndex:
    """Facts for the rest of the project (on demand), the index, then the project-wide rules
    (ASL207, sessions, resources) again where they may find more; their findings replace the
    first pass's in `results`. Returns the index; `names`, if given, gets the names deferred
    modules were checked for (see `_index_on_demand`)."""

    settings = job.settings

    # The same file may be named relatively on the command line and absolutely by discovery.
    requested = {os.path.abspath(path) for path in files}
    others = [path for path in project_files if os.path.abspath(path) not in requested]
    facts_only = passes.facts_only(settings)
    # The rest of the project: its async code matters only where what the requested files
    # call leads (`wanted_calls`), so only its sessions and resources are read first.
    # A whole-project run's facts of them, where cached, stand in (a superset: they were read
    # from async code too, which only lets `_index_on_demand` find sooner what it would find).
    everything = [
        *results,
        *passes.run_cached(
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
    index = _index_on_demand(everything, passes.on_demand(job), jobs, use_cache, names)
    if not index.is_empty():
        passes.project_wide_again(results, index, job, jobs, use_cache)
    return index


def _index_on_demand(
    everything: list[FileResult], fetch: Job, jobs: int, use_cache: bool, spelled: dict[str, set[str]] | None = None
) -> ProjectIndex:
    """The project index, after reading the facts of deferred modules as they are wanted:
    once async code calls into one (directly or through sync helpers: a blocking chain may go
    on there), or it spells a session or resource name the index found; and those facts may
    lead further. `everything`'s facts are filled in on the way; `spelled`, if given, gets
    every name (with its holders) the deferred modules were checked for, in any round: a
    module spelling none of them was not read for them (`incremental.rerun_changed`)."""
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
            for module in passes.module_prefixes(name)
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
                module
                for module, found in deferred.items()
                if new and any(passes.spells(r.path, new, fetch) for r in found)
            }
        wanted = [r for module in sorted(wanted_modules) for r in deferred.pop(module)]
        if not wanted:
            break
        index = None
        fresh = {f.path: f for f in passes.run_cached([r.path for r in wanted], fetch, jobs, use_cache)}
        for r in wanted:
            r.facts = fresh[r.path].facts or None
    return index if index is not None else ProjectIndex.build([r.facts for r in everything if r.facts])


def read_all(files: list[str], job: Job, jobs: int, use_cache: bool = True) -> list[FileResult]:
    """`job` on each file, through the cache, on every core, for a caller that runs threads
    (the language server): the workers are not forked, since a child forked while another
    thread holds a lock could hang on it. The workers stop when it returns."""
    if jobs > 1 and len(files) >= workers.PARALLEL_THRESHOLD:
        workers.start_pool(jobs, "forkserver")
    try:
        return passes.run_cached(files, job, jobs, use_cache)
    finally:
        passes.forget_caches()
        workers.shutdown_pool()
