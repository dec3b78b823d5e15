"""Per-file results cached in `.asynclint_cache/`, keyed by content hash.

One JSON file per (asynclint version, effective settings) maps each path to
its size, mtime, content hash and result. A file whose size and mtime are
unchanged is trusted without reading it; otherwise its bytes are hashed and the
result reused if the hash matches. The cache is an optimisation only: a
missing, truncated, garbage or concurrently written cache file is ignored, and
writes are atomic (last writer wins; entries are validated on every read).
JSON, not pickle: a cache folder checked out from a stranger's repository must
not be able to run code.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from dataclasses import asdict
from pathlib import Path

from asynclint import __version__
from asynclint.diagnostics import Diagnostic, Edit, FileResult, Fix

CACHE_DIR = ".asynclint_cache"


def _diagnostic_from(data: dict) -> Diagnostic:
    fix = data.get("fix")
    if fix is not None:
        fix = Fix(fix["applicability"], fix["message"], tuple(Edit(**edit) for edit in fix["edits"]))
    return Diagnostic(**{**data, "fix": fix})


def _code_stamp() -> str:
    """Changes whenever asynclint's own code does, so a development checkout
    (same version number, edited rules) never reads results of older code."""
    package = Path(__file__).resolve().parent
    newest = max((p.stat().st_mtime_ns for p in package.rglob("*.py")), default=0)
    return hashlib.sha256(f"{__version__}:{newest}".encode()).hexdigest()[:12]


class Cache:
    """`salt` names what else the results depend on (the project index, for the rules that
    consult it): a cache file written under another salt is ignored and replaced, so a
    stage keeps one file however often its salt changes."""

    def __init__(self, root: str, fingerprint: str, salt: str = "") -> None:
        self.folder = Path(root) / CACHE_DIR
        self.file = self.folder / __version__ / f"{fingerprint}-{_code_stamp()}.json"
        self.salt = salt
        self.entries: dict[str, list] = {}
        self.dirty = False
        try:
            with open(self.file, encoding="utf-8") as handle:
                loaded = json.load(handle)
            if isinstance(loaded, dict) and loaded.get("salt") == salt and isinstance(loaded.get("entries"), dict):
                self.entries = loaded["entries"]
        except (OSError, ValueError):
            pass  # no cache yet, or a damaged one: start empty

    @staticmethod
    def _stat(path: str) -> tuple[int, int] | None:
        try:
            st = os.stat(path)
        except OSError:
            return None
        return st.st_size, st.st_mtime_ns

    def get(self, path: str) -> FileResult | None:
        entry = self.entries.get(path)
        stat = self._stat(path)
        if entry is None or stat is None:
            return None
        try:
            size, mtime, digest, diagnostics, facts = entry
            if (size, mtime) != stat:
                with open(path, "rb") as handle:
                    if hashlib.sha256(handle.read()).hexdigest() != digest:
                        return None
                entry[0], entry[1] = stat
                self.dirty = True
            return FileResult(path=path, diagnostics=[_diagnostic_from(d) for d in diagnostics], facts=facts)
        except (OSError, ValueError, TypeError, KeyError):
            return None  # a malformed entry is a miss

    def put(self, result: FileResult) -> None:
        if result.errors:
            return  # an internal error must show up again next time
        stat = self._stat(result.path)
        try:
            with open(result.path, "rb") as handle:
                digest = hashlib.sha256(handle.read()).hexdigest()
        except OSError:
            return
        if stat is None or self._stat(result.path) != stat:
            return  # changed while we looked: do not cache
        self.entries[result.path] = [*stat, digest, [asdict(d) for d in result.diagnostics], result.facts]
        self.dirty = True

    def save(self) -> None:
        if not self.dirty:
            return
        temp = None
        try:
            self.file.parent.mkdir(parents=True, exist_ok=True)
            ignore = self.folder / ".gitignore"
            if not ignore.exists():
                ignore.write_text("# Created by asynclint\n*\n", encoding="utf-8")
            fd, temp = tempfile.mkstemp(dir=self.file.parent, suffix=".tmp")
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                # dumps, not dump: dump streams through the pure-Python encoder, ten times slower.
                handle.write(json.dumps({"salt": self.salt, "entries": self.entries}, separators=(",", ":")))
            os.replace(temp, self.file)
            temp = None
        except OSError:
            pass  # a read-only tree still gets linted, just not cached
        finally:
            if temp is not None:
                with contextlib.suppress(OSError):
                    os.unlink(temp)
