"""The work on one file (lint, or fix and lint), and the worker processes that do it for many
files on every core."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING

from asynclint import memory
from asynclint.diagnostics import FileResult, InternalError
from asynclint.job import Job

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor
    from types import FrameType

    from asynclint.source import SourceText

# Below this many files, starting worker processes costs more than it saves.
PARALLEL_THRESHOLD = 24


def process(path: str, job: Job) -> FileResult:
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
    new_text = format_fixed(text, outcome.text, path, job.settings)
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


def _round_trips(source: SourceText) -> bool:
    """Does encoding the decoded text give the file's bytes again? Only then does a fix
    change nothing but what it fixes."""
    try:
        return bool(source.text.encode(source.encoding) == source.raw)
    except (UnicodeError, LookupError):
        return False


def chunk(work: list[tuple[str, Job]]) -> list[FileResult]:
    """Each (file, job) of `work`, in order."""
    results = []
    for path, job in work:
        if _orphaned():
            os._exit(1)
        results.append(process(path, job))
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


def parallel(work: list[tuple[str, Job]], jobs: int, done: Callable[[int], None]) -> list[FileResult]:
    """Each (file, job) of `work` on `jobs` worker processes (started on first need), the
    results in the order of `work`; `done(n)` as each batch of n files is done."""
    # Large files first so no worker is left with a big one at the end; small chunks
    # keep the pickling overhead low without starving a core. (A chunk's items that share
    # a job pickle it once.)
    ordered = sorted(range(len(work)), key=lambda item: _size(work[item][0]), reverse=True)
    size = max(1, min(32, len(ordered) // (jobs * 8) or 1))
    chunks = [ordered[i : i + size] for i in range(0, len(ordered), size)]
    pool = start_pool(jobs)
    from concurrent.futures import as_completed

    results: list[FileResult | None] = [None] * len(work)
    futures = {pool.submit(chunk, [work[item] for item in items]): items for items in chunks}
    # As each chunk is done, not in the order given: the first chunks hold the largest files.
    for future in as_completed(futures):
        batch = future.result()
        for item, result in zip(futures[future], batch, strict=True):
            results[item] = result
        done(len(batch))
    return [result for result in results if result is not None]


def pool_running() -> bool:
    return _pool is not None


def start_pool(jobs: int, start_method: str | None = None) -> ProcessPoolExecutor:
    """The run's worker processes, started now if they are not yet. `start_method`: "forkserver"
    for a caller that runs threads (a child forked while another thread holds a lock could
    hang on it); the platform's default otherwise."""
    global _pool
    if _pool is None:
        _pool = _new_pool(jobs, start_method)
    return _pool


def _new_pool(jobs: int, start_method: str | None) -> ProcessPoolExecutor:
    # Imported here: a one-file run never starts a pool.
    import gc
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    return ProcessPoolExecutor(
        max_workers=jobs,
        mp_context=multiprocessing.get_context(start_method),
        initializer=_worker_start,
        initargs=(gc.get_threshold(), os.getpid(), start_method),
    )


def _worker_start(thresholds: tuple[int, ...], parent: int, start_method: str | None) -> None:
    import gc
    import signal

    global _parent
    # Under "forkserver" (the language server) a worker's parent is the fork server, not the
    # main process; the fork server exits when the main process does.
    _parent = os.getppid() if start_method == "forkserver" else parent
    # The workers collect garbage as this process does, whatever the start method.
    gc.set_threshold(*thresholds)
    # Ctrl-C reaches the whole process group: the main process alone decides, and stops the
    # workers with SIGTERM. That ends a worker at once; a file being replaced is finished
    # first (atomic holds signals back meanwhile) and a half-written copy is removed.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _worker_stop)


def _worker_stop(signum: int, frame: FrameType | None) -> None:
    from asynclint.atomic import discard_pending

    discard_pending()
    os._exit(128 + signum)


# In a worker: its parent's id (the main process, or its fork server). Its parent changes
# when the main process is gone.
_parent: int | None = None


def _orphaned() -> bool:
    return _parent is not None and os.getppid() != _parent


def shutdown_pool() -> None:
    """The end of a run: the workers finish and exit."""
    global _pool
    pool, _pool = _pool, None
    if pool is not None:
        pool.shutdown()


def stop_pool() -> None:
    """Ctrl-C, SIGTERM or a failure: the workers stop now, not after the chunks queued for them."""
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


# The worker processes of the current run: started on first need, kept for its later passes
# (facts on demand, the second pass), which would each pay for starting them again.
_pool: ProcessPoolExecutor | None = None
