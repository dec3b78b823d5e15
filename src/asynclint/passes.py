"""One pass over files: each file's result from the cache where it has it, the rest done in
this process or on the workers; with the run's caches and progress reporting."""

from __future__ import annotations

import os
from dataclasses import replace
from typing import TYPE_CHECKING, Protocol

from asynclint import registry, workers
from asynclint.config import Settings
from asynclint.diagnostics import Diagnostic, Facts, FileResult
from asynclint.job import Job

if TYPE_CHECKING:
    from collections.abc import Set as AbstractSet

    from asynclint.cache import Cache
    from asynclint.project import ProjectIndex


def run_cached(
    files: list[str], job: Job, jobs: int, use_cache: bool, facts_from: Job | None = None, stage: bool = True
) -> list[FileResult]:
    """`job` on each file, from the cache where it has the file's result. `facts_from`: a job
    whose cached facts may stand in for this one's (which wants only facts). `stage`: start
    a stage of the progress display for these files (else the caller started one for them
    and more)."""
    if PROGRESS is not None and files and stage:
        PROGRESS.start(_pass_name(job), len(files))
    return run_batches([(files, job)], jobs, use_cache, facts_from)[0]


def run_batches(
    batches: list[tuple[list[str], Job]], jobs: int, use_cache: bool, facts_from: Job | None = None
) -> list[list[FileResult]]:
    """`run_cached` of several (files, job) at once, without a stage of their own: the
    workers take the files of all of them together (a second pass runs each file with its
    own rules: many small groups, which one by one would leave a core idle at each's end)."""
    found: list[list[FileResult]] = []
    todo: list[tuple[str, int]] = []  # (file, its batch's number)
    caches: list[Cache | None] = []
    for number, (files, job) in enumerate(batches):
        cache = None
        results: list[FileResult] = []
        left = files
        if use_cache:
            # --fix and --diff read the lint results too: a file whose findings have no fix
            # to apply needs no fixing pass (and no parse).
            cache = cache_of(job if job.fix is None else replace(job, fix=None, unsafe=False))
            left = []
            for path in files:
                hit = None if job.source(path) is not None else cache.get(path)
                if hit is None or (job.fix is not None and _has_fixes(hit, job.unsafe)):
                    left.append(path)
                else:
                    results.append(hit)
            if left and facts_from is not None:
                left = _facts_from_cache(left, cache_of(facts_from), cache, results)
        if PROGRESS is not None:
            PROGRESS.advance(len(files) - len(left))  # answered by the cache
        found.append(results)
        caches.append(cache)
        todo += [(path, number) for path in left]
    if jobs == 1 or not todo or (len(todo) < workers.PARALLEL_THRESHOLD and not workers.pool_running()):
        # (Once the workers run, a few files go to them too: parsed here, their trees would
        # stay in this process's memory beside everything it holds for the whole run.)
        fresh = workers.chunk([(path, batches[number][1]) for path, number in todo])
        if PROGRESS is not None and todo:
            PROGRESS.advance(len(todo))
    else:
        fresh = workers.parallel([(path, batches[number][1]) for path, number in todo], jobs, _advance)
    for (_, number), file_result in zip(todo, fresh, strict=True):
        found[number].append(file_result)
        cache, job = caches[number], batches[number][1]
        if cache is not None and job.source(file_result.path) is None and _lint_of_disk(file_result, job):
            cache.put(file_result)
    return found


class FirstPasses:
    """The first pass of in-memory texts (`Job.sources`), kept by a caller from run to run:
    the language server checks an open file again, its text unchanged, when the project's
    index changed, and then only the project-wide rules need to run again. (The disk cache
    never holds such texts.)"""

    def __init__(self) -> None:
        self._kept: dict[str, tuple[str, Job, FileResult]] = {}  # absolute path -> (text, job, result)

    def run(self, files: list[str], job: Job, jobs: int, use_cache: bool) -> list[FileResult]:
        """`run_cached`, but a text done before with the same job is not done again."""
        reused, todo = [], []
        for path in files:
            kept = self._kept.get(os.path.abspath(path))
            if kept is not None and kept[0] == job.source(path) and kept[1] == job:
                reused.append(_copy(kept[2]))
            else:
                todo.append(path)
        fresh = run_cached(todo, job, jobs, use_cache)
        for result in fresh:
            text = job.source(result.path)
            if text is not None and job.fix is None:
                self._kept[os.path.abspath(result.path)] = (text, job, _copy(result))
        return reused + fresh

    def forget(self, path: str) -> None:
        self._kept.pop(os.path.abspath(path), None)


def _copy(result: FileResult) -> FileResult:
    """A copy a later pass may change (`project.merge_rerun`) without changing the kept one."""
    return replace(result, diagnostics=list(result.diagnostics), errors=list(result.errors), notes=list(result.notes))


def project_wide_again(results: list[FileResult], index: ProjectIndex, job: Job, jobs: int, use_cache: bool) -> None:
    """The project-wide rules again, with the index, on the files of `results` where they may
    find more (`project.rerun_plan`); their findings replace the first pass's in `results`
    (`project.merge_rerun`). The second pass of a whole run, of an incremental re-check and
    of the language server's check of one text."""
    from asynclint.project import merge_rerun, rerun_plan

    plan = rerun_plan(index, results, job.settings, lambda path: text_of(path, job))
    for r in results:
        codes = plan.get(r.path)
        if codes and r.sites is not None:
            left = codes - _answered_by_places(r, codes, index, job)
            if left:
                plan[r.path] = left
            else:
                del plan[r.path]
    # Each file with its own rules, not all of them: one that none of its own wants is not
    # parsed again. The groups go to the workers together.
    groups: dict[frozenset[str], list[str]] = {}
    for path, codes in plan.items():
        groups.setdefault(codes, []).append(path)
    if PROGRESS is not None and plan:
        PROGRESS.start(PROJECT_WIDE, len(plan))
    batches = []
    for codes, paths in sorted(groups.items(), key=lambda group: sorted(group[0])):
        second = replace(job.settings, select=tuple(sorted(codes)), extend_select=())
        batches.append((paths, replace(job, settings=second, facts=Facts.NONE, project=index)))
    again = {r.path: r for done in run_batches(batches, jobs, use_cache) for r in done}
    for r in results:
        if r.path in again:
            merge_rerun(r, again[r.path], plan[r.path])


def _answered_by_places(result: FileResult, codes: frozenset[str], index: ProjectIndex, job: Job) -> frozenset[str]:
    """The rules of `codes` that the places `result`'s first pass recorded answer for, so
    that the file is not parsed again for them: those that judge their places (their
    findings merged into `result` here), and those that mark where the index may add a
    finding and marked nothing."""
    from asynclint.project import merge_rerun

    rules = [registry.load_rule(code) for code in codes]
    marked = {site["code"] for site in result.sites or ()}
    answered = {rule.code for rule in rules if rule.records_sites and not rule.judges_sites and rule.code not in marked}
    judging = frozenset(rule.code for rule in rules if rule.records_sites and rule.judges_sites)
    found = judged_at_sites(result, judging, index, job) if judging else None
    if found is not None:
        merge_rerun(result, FileResult(result.path, diagnostics=found), judging)
        answered |= judging
    return frozenset(answered)


def judged_at_sites(
    result: FileResult, codes: AbstractSet[str], index: ProjectIndex, job: Job
) -> list[Diagnostic] | None:
    """The findings of the rules of `codes` (which judge their places) at the places
    `result`'s first pass recorded, judged by the index, located and silenced by `# noqa`
    as the rules would have; None where it recorded none, or a finding's place could not be
    located: the file must be linted again for them."""
    if result.sites is None or not all(registry.load_rule(code).judges_sites for code in codes):
        return None
    judged = []
    for site in result.sites:
        if site["code"] in codes:
            finding = registry.load_rule(site["code"]).from_site(site["data"], index)
            if finding is not None:
                if site["range"] is None:
                    return None
                judged.append((site, finding))
    if not judged:
        return []
    from asynclint import noqa
    from asynclint.source import split_lines

    text = text_of(result.path, job)  # the text the first pass read: the cache checked it
    lines = split_lines(text)
    exempt = noqa.file_exemptions(text) if job.noqa else None
    found = []
    for site, (message, help) in judged:
        row, col, end_row, end_col = site["range"]
        if not job.noqa or not noqa.suppressed(site["code"], row, lines, exempt):
            found.append(Diagnostic(site["code"], message, result.path, row, col, end_row, end_col, None, help))
    return found


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


def facts_only(settings: Settings) -> Settings:
    """The settings of a pass that only reads facts."""
    return replace(settings, select=(), extend_select=(), per_file_ignores=())


def on_demand(job: Job) -> Job:
    """The job that reads a deferred module's facts once they are wanted (`runner`'s rounds,
    and a re-check comparing them: the same job, so the same cache)."""
    return replace(job, settings=facts_only(job.settings), facts=Facts.ALL)


def cache_of(job: Job) -> Cache:
    """The run's one `Cache` of `job`'s results. A run's passes use the same cache files
    several times (facts on demand go round until nothing new is wanted), and the facts of a
    large project are megabytes of JSON: each is read once a run."""
    from asynclint.cache import Cache

    key = (job.settings.root, *job.cache_key(), job.cache_dir)
    cache = _caches.get(key)
    if cache is None:
        cache = _caches[key] = Cache(*key)
    return cache


# The caches the current run has opened (see `cache_of`); forgotten when it ends.
_caches: dict[tuple[str, str, str, str | None], Cache] = {}


def save_caches() -> None:
    for cache in _caches.values():
        cache.save()


def forget_caches() -> None:
    """The end of a run: the next one reads the cache files again."""
    _caches.clear()


def _advance(files: int) -> None:
    if PROGRESS is not None:
        PROGRESS.advance(files)


def _facts_from_cache(todo: list[str], other: Cache, cache: Cache, results: list[FileResult]) -> list[str]:
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


def module_prefixes(name: str) -> list[str]:
    """`a.b.f` -> `a.b.f`, `a.b`, `a`: the modules that may define (or re-export) it."""
    parts = name.split(".")
    return [".".join(parts[:end]) for end in range(len(parts), 0, -1)]


def spells(path: str, names: dict[str, frozenset[str]], job: Job) -> bool:
    """Does the file spell a name of `ProjectIndex.names()` (see `project.names_any`)? Read
    anew each round: the words of thousands of files would cost more memory than reading
    them costs time. (Its words, not a substring scan per name: the index names hundreds.)"""
    from asynclint.knowledge import has_relative_import
    from asynclint.project import names_any, words

    text = text_of(path, job)
    spelled = words(text)
    if names.keys().isdisjoint(spelled):
        return False
    package = None
    if has_relative_import(text):
        from asynclint.modules import module_name

        package = module_name(path, job.settings.root).partition(".")[0]
    return names_any(names, spelled, package)


def text_of(path: str, job: Job) -> str:
    text = job.source(path)
    if text is not None:
        return text
    from asynclint.source import UnreadableSource, read_source

    try:
        return read_source(path).text
    except UnreadableSource:
        return ""


PROJECT_WIDE = "project-wide rules"  # the progress stage of `project_wide_again`


def _pass_name(job: Job) -> str:
    if job.project is not None:
        return PROJECT_WIDE
    if job.facts in (Facts.SEEDS, Facts.ALL):  # only facts of the rest of the project
        return "reading the project"
    if job.after_fix:
        return "checking the fixed files"
    return "fixing" if job.fix else "linting"


class Progress(Protocol):
    """What the CLI's progress bar is told: `start(name, files)` as each pass begins
    ("linting" or "fixing" the files asked for; then "reading the project", "project-wide
    rules", "checking the fixed files"), then `advance(files)` as files are done (cache hits
    at once)."""

    def start(self, name: str, files: int) -> None: ...

    def advance(self, files: int) -> None: ...


# Set by the CLI on a terminal for large runs.
PROGRESS: Progress | None = None
