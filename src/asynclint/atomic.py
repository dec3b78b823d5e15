"""Writing a fixed file so that it is always either the old file or the new one, and so
that an edit someone else makes meanwhile is never lost."""

from __future__ import annotations

import contextlib
import os
import signal
import stat
import sys
import tempfile
from collections.abc import Callable, Iterator
from typing import Literal


class WriteRefused(Exception):
    """The file was not written; the message says why."""


def write_atomic(path: str, data: bytes, expected_original: bytes) -> None:
    """Replace the file at `path` with `data` if it still holds `expected_original`.

    A symlink is written through: its target gets the fix and the link stays. The new
    content goes to a temporary file in the target's folder (same file system, so the
    rename is atomic) with the original's owner and permission bits. Right before the
    rename the file is compared again; on Linux the rename is an atomic exchange, after
    which the file it displaced is compared once more and put back if someone changed it
    in between. A file with other hard links, or whose owner a new file cannot get, is
    rewritten in place instead (a new file would split the links or change the owner).
    A read-only file is not written. On any failure, or a signal, the original stays and
    the temporary file is removed.
    """
    target = os.path.realpath(path)
    try:
        with open(target, "rb") as handle:
            before = os.fstat(handle.fileno())
            if not stat.S_ISREG(before.st_mode):
                raise WriteRefused(f"{path}: not a regular file; not written")
            if handle.read() != expected_original:
                raise _changed(path)
    except OSError as exc:
        raise WriteRefused(f"{path}: cannot read before writing: {exc.strerror}") from None
    if _read_only(target, before):
        raise WriteRefused(f"{path}: read-only file; not written (make it writable to let --fix change it)")
    if before.st_nlink > 1:
        _write_in_place(path, target, data, expected_original)
        return
    folder = os.path.dirname(target)
    temp = None
    try:
        with _signals_held():
            fd, temp = tempfile.mkstemp(prefix=".asynclint-", suffix=".tmp", dir=folder)
            _PENDING.add(temp)
        with os.fdopen(fd, "wb") as handle:
            if not _same_owner(handle.fileno(), before):
                raise _InPlace
            # After chown: changing the owner may clear the setuid bits.
            os.fchmod(handle.fileno(), stat.S_IMODE(before.st_mode))
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        with _signals_held():
            _check_unchanged(path, target, expected_original)
            if _exchange(temp, target):
                # `temp` now names the file just displaced: was it still the one checked?
                if _content(temp) != expected_original:
                    _exchange(temp, target)
                    raise _changed(path)
            else:
                os.replace(temp, target)
                _PENDING.discard(temp)
                temp = None
    except _InPlace:
        _write_in_place(path, target, data, expected_original)
    except OSError as exc:
        raise WriteRefused(f"{path}: cannot write: {exc.strerror}") from None
    finally:
        if temp is not None:
            with contextlib.suppress(OSError):
                os.unlink(temp)
            _PENDING.discard(temp)


# Temporary files being written, for `discard_pending`.
_PENDING: set[str] = set()


def discard_pending() -> None:
    """Remove the temporary files of writes under way: a worker process calls this from
    its SIGTERM handler, just before it exits without unwinding. (The replacing step holds
    signals back, so a name here is never the fixed file itself.)"""
    for temp in list(_PENDING):
        with contextlib.suppress(OSError):
            os.unlink(temp)


class _InPlace(Exception):
    """A new file cannot carry the original's owner: write in place."""


def _changed(path: str) -> WriteRefused:
    return WriteRefused(f"{path}: changed on disk while asynclint was fixing it; not written")


def _read_only(target: str, info: os.stat_result) -> bool:
    # Root may write anything; a file nobody may write is still meant to stay as it is.
    return not os.access(target, os.W_OK) or not info.st_mode & 0o222


def _same_owner(fd: int, original: os.stat_result) -> bool:
    """Give the new file the original's owner and group; False when not allowed to."""
    made = os.fstat(fd)
    if (made.st_uid, made.st_gid) == (original.st_uid, original.st_gid):
        return True
    try:
        os.fchown(fd, original.st_uid, original.st_gid)
    except PermissionError:
        return False
    return True


def _content(path: str) -> bytes:
    with open(path, "rb") as handle:
        return handle.read()


def _check_unchanged(path: str, target: str, expected: bytes) -> None:
    try:
        if _content(target) != expected:
            raise _changed(path)
    except FileNotFoundError:
        raise _changed(path) from None


def _write_in_place(path: str, target: str, data: bytes, expected: bytes) -> None:
    """Rewrite the file's own bytes: every hard link sees the fix and the owner stays. Not
    atomic against a crash (a new file is, but would not be the same file)."""
    try:
        with open(target, "r+b") as handle:
            if handle.read() != expected:
                raise _changed(path)
            with _signals_held():
                handle.seek(0)
                handle.write(data)
                handle.truncate()
                handle.flush()
                os.fsync(handle.fileno())
    except OSError as exc:
        raise WriteRefused(f"{path}: cannot write: {exc.strerror}") from None


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """Ctrl-C and SIGTERM wait until the file is written (or not): the handler then stops
    the run, and no write is left half done."""
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    held = {signal.SIGINT, signal.SIGTERM}
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


_RENAME_EXCHANGE = 2
# The C function once looked up; False where there is none.
_renameat2: Callable[..., int] | Literal[False] | None = None


def _exchange(first: str, second: str) -> bool:
    """Swap two names atomically (Linux renameat2). False where that is not available
    (another system, an old C library, a file system without it): the caller renames."""
    global _renameat2
    if not sys.platform.startswith("linux"):
        return False
    if _renameat2 is None:
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            function = libc.renameat2
            function.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
            function.restype = ctypes.c_int
            _renameat2 = function
        except (OSError, AttributeError):
            _renameat2 = False
    if _renameat2 is False:
        return False
    at_cwd = -100
    if _renameat2(at_cwd, os.fsencode(first), at_cwd, os.fsencode(second), _RENAME_EXCHANGE) == 0:
        return True
    import ctypes

    error = ctypes.get_errno()
    if error in (_errno("EINVAL"), _errno("ENOSYS"), _errno("EOPNOTSUPP"), _errno("ENOTSUP")):
        return False
    raise OSError(error, os.strerror(error), second)


def _errno(name: str) -> int:
    import errno

    return getattr(errno, name, -1)
