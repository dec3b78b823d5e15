"""Gives the heap a large file's parse took back to the system once the file is done.

glibc keeps freed memory for the process's next allocations: parsing a 17k-line module
takes 150 MB (most of it LibCST's native parser's working memory, the rest the tree), and
once the file is done a worker would hold that much to the end of the run, beside the next
large file's parse in the other worker. `malloc_trim` returns it. Not after
every file: memory given back costs page faults when it is taken again (about 5% on the
largest files), so only once the process holds more than HELD_LIMIT.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Literal

# A process holding more than this (bytes, resident) gives the freed part back.
HELD_LIMIT = 80 * 1024 * 1024


def give_back() -> None:
    global _malloc_trim
    if _malloc_trim is None:
        try:
            import ctypes

            _malloc_trim = ctypes.CDLL("libc.so.6").malloc_trim
        except (OSError, AttributeError):  # not glibc (macOS, Windows, musl): nothing to do
            _malloc_trim = False
    if _malloc_trim and resident() > HELD_LIMIT:
        _malloc_trim(0)


def resident() -> int:
    """This process's resident memory in bytes (0 where /proc does not tell)."""
    try:
        with open("/proc/self/statm", "rb") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


# libc's function once looked up; False where there is none.
_malloc_trim: Callable[[int], int] | Literal[False] | None = None
