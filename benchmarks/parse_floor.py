"""The bare LibCST parse floor: read every file and call libcst.parse_module, nothing else.

No linter built on LibCST can beat this on cold runs with the same number of processes,
so run.py reports every tool's time as a ratio of it. Run it with a python that has
libcst; prints one JSON object: {"files", "lines", "failed", "jobs"}.

Usage: ``python parse_floor.py [--jobs N] (--files-from LIST | FILE...)``.
"""

from __future__ import annotations

import argparse
import json
import os
from multiprocessing import Pool

import libcst


def parse_one(path: str) -> tuple[int, bool]:
    with open(path, "rb") as f:
        source = f.read()
    try:
        libcst.parse_module(source)  # bytes: LibCST detects the encoding itself
        ok = True
    except Exception:  # syntax errors and templates count as failed, not fatal
        ok = False
    return source.count(b"\n"), ok


def parse_all(paths: list[str], jobs: int) -> list[tuple[int, bool]]:
    if jobs <= 1 or len(paths) <= 1:  # no pool start-up cost for a single file
        return [parse_one(p) for p in paths]
    # Largest first, small chunks: the long tail of big files is what makes workers
    # idle at the end; chunks amortise the per-task IPC over many small files.
    paths = sorted(paths, key=os.path.getsize, reverse=True)
    chunksize = max(1, min(16, len(paths) // (jobs * 16)))
    with Pool(jobs) as pool:
        return list(pool.imap_unordered(parse_one, paths, chunksize))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--files-from", help="file with one path per line")
    parser.add_argument("files", nargs="*")
    args = parser.parse_args()
    paths = list(args.files)
    if args.files_from:
        with open(args.files_from) as f:
            paths += [line.rstrip("\n") for line in f if line.strip()]
    results = parse_all(paths, args.jobs)
    print(
        json.dumps(
            {
                "files": len(results),
                "lines": sum(lines for lines, _ in results),
                "failed": sum(1 for _, ok in results if not ok),
                "jobs": args.jobs,
            }
        )
    )


if __name__ == "__main__":
    main()
