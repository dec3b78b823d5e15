"""Writing a fixed file so that it is always either the old file or the new one."""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile


class WriteRefused(Exception):
    """The file was not written; the message says why."""


def write_atomic(path: str, data: bytes, expected_original: bytes) -> None:
    """Replace `path` with `data` if it still holds `expected_original`.

    The new content goes to a temporary file in the same folder (same file
    system, so the rename is atomic), keeps the original's permission bits, and
    replaces the original with os.replace. On any failure, or Ctrl-C, the
    original stays and the temporary file is removed.
    """
    try:
        with open(path, "rb") as handle:
            if handle.read() != expected_original:
                raise WriteRefused(f"{path}: changed on disk while asynclint was fixing it; not written")
        mode = stat.S_IMODE(os.stat(path).st_mode)
    except OSError as exc:
        raise WriteRefused(f"{path}: cannot read before writing: {exc.strerror}") from None
    folder = os.path.dirname(os.path.abspath(path))
    temp = None
    try:
        fd, temp = tempfile.mkstemp(prefix=".asynclint-", suffix=".tmp", dir=folder)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, mode)
        os.replace(temp, path)
        temp = None
    except OSError as exc:
        raise WriteRefused(f"{path}: cannot write: {exc.strerror}") from None
    finally:
        if temp is not None:
            with contextlib.suppress(OSError):
                os.unlink(temp)
