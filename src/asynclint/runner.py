"""Runs the engine over many files: in this process for a handful, on every core otherwise."""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field

from asynclint.config import Settings
from asynclint.diagnostics import Diagnostic, FileResult, InternalError

# Below this many files, starting worker processes costs more than it saves.
PARALLEL_THRESHOLD = 24


@dataclass
class RunResult:
    diagnostics: list[Diagnostic] = field(default_factory=list)
    errors: list[InternalError] = field(default_factory=list)
    files: int = 0


def _lint_one(path: str, settings: Settings) -> FileResult:
    from asynclint.engine import lint_file

    try:
        return lint_file(path, settings)
    except Exception as exc:  # the engine itself failed on this file; the others go on
        import traceback

        from asynclint import __version__

        detail = f"asynclint {__version__}: {type(exc).__name__}: {exc}\n{traceback.format_exc(limit=-3)}"
        return FileResult(path=path, errors=[InternalError(path, "engine", detail)])


def _lint_chunk(paths: list[str], settings: Settings) -> list[FileResult]:
    return [_lint_one(path, settings) for path in paths]


def _size(path: str) -> int:
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


def lint_paths(files: list[str], settings: Settings, jobs: int | None = None) -> RunResult:
    result = RunResult(files=len(files))
    jobs = jobs or os.cpu_count() or 1
    if jobs == 1 or len(files) < PARALLEL_THRESHOLD:
        results = _lint_chunk(files, settings)
    else:
        results = _parallel(files, settings, jobs)
    for file_result in results:
        result.diagnostics.extend(file_result.diagnostics)
        result.errors.extend(file_result.errors)
    result.diagnostics.sort(key=lambda d: d.sort_key)
    return result


def _parallel(files: list[str], settings: Settings, jobs: int) -> list[FileResult]:
    # Large files first so no worker is left with a big one at the end; small chunks
    # keep the pickling overhead low without starving a core.
    ordered = sorted(files, key=_size, reverse=True)
    chunk = max(1, min(32, len(ordered) // (jobs * 8) or 1))
    chunks = [ordered[i : i + chunk] for i in range(0, len(ordered), chunk)]
    results: list[FileResult] = []
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        for batch in pool.map(_lint_chunk, chunks, [settings] * len(chunks)):
            results.extend(batch)
    return results
