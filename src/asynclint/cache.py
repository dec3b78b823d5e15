"""Per-file results cached in `.asynclint_cache/` (or `--cache-dir`, `ASYNCLINT_CACHE_DIR`).

One folder per (asynclint version and code, effective settings) maps each file's path,
relative to the project root, to its size, mtime, content hash and result, in `SHARDS` JSON
files chosen by the path's hash: a run reads only the shards of the files it asks about, and
writes only those it changed (a re-check after one edit rewrites one shard of a project's
megabytes). Nothing in the key
names the installation or the checkout's place: every installation of the same asynclint
shares the cache, and a checkout moved elsewhere (or a CI cache restored into another path)
keeps its results. A file whose size and mtime are unchanged is trusted without reading it,
only where the cache was written for this same root; otherwise its bytes are hashed and the
result reused if the hash matches. The cache is an optimisation only: a missing, truncated,
garbage or concurrently written cache file is ignored, and writes are atomic (last writer
wins; entries are validated on every read). JSON, not pickle: a cache folder checked out
from a stranger's repository must not be able to run code.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import tempfile
import zlib
from collections.abc import Callable, Iterable
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from asynclint import __version__
from asynclint.diagnostics import Diagnostic, Edit, FileResult, Fix

if TYPE_CHECKING:
    from asynclint.project import ProjectIndex

CACHE_DIR = ".asynclint_cache"
# The first line of the `.gitignore` asynclint writes in every cache folder it makes.
_IGNORE_MARK = "# Created by asynclint"
_T = TypeVar("_T")


def _diagnostic_from(data: dict[str, Any]) -> Diagnostic:
    """A cached finding, its fields' types checked: a damaged entry is a miss (TypeError),
    never a finding printed as `app.py:four:5`."""
    fix = None
    cached = data.get("fix")
    if cached is not None:
        fix = Fix(cached["applicability"], cached["message"], tuple(_typed(Edit, edit) for edit in cached["edits"]))
        if not isinstance(fix.message, str) or fix.applicability not in ("safe", "unsafe"):
            raise TypeError("malformed cached fix")
    return _typed(Diagnostic, {**data, "fix": fix})


_FIELD_TYPES = {
    "content": str,
    "code": str,
    "message": str,
    "path": str,
    "row": int,
    "col": int,
    "end_row": int,
    "end_col": int,
}


def _typed(kind: Callable[..., _T], data: dict[str, Any]) -> _T:
    for name, value in data.items():
        expected = _FIELD_TYPES.get(name)
        if expected is not None and (type(value) is not expected):
            raise TypeError(f"cached {name} is not a {expected.__name__}")
    return kind(**data)


def cache_folder(root: str, cache_dir: str | None = None) -> Path:
    """`--cache-dir`, else `ASYNCLINT_CACHE_DIR`, else `.asynclint_cache` in the project root."""
    chosen = _chosen_folder(cache_dir)
    return Path(chosen) if chosen else Path(root) / CACHE_DIR


def _chosen_folder(cache_dir: str | None) -> str | None:
    """The cache folder chosen for every project: `--cache-dir`, else `ASYNCLINT_CACHE_DIR`."""
    return cache_dir or os.environ.get("ASYNCLINT_CACHE_DIR")


# Where no project keeps its cache, and whose thousands of files would make `clean` slow.
_NOT_SEARCHED = frozenset(
    {CACHE_DIR, ".git", ".hg", ".svn", ".venv", "venv", "node_modules", "__pycache__", ".tox", ".nox"}
)


def cache_folders(paths: Iterable[str], cache_dir: str | None = None) -> list[Path]:
    """The cache folders `asynclint clean` removes: every `.asynclint_cache` at or below
    `paths`, and `cache_dir` or `ASYNCLINT_CACHE_DIR` where it exists. FileNotFoundError
    for a path that does not exist."""
    found: dict[str, Path] = {}
    for path in paths:
        if not os.path.exists(path):
            raise FileNotFoundError(2, "no such file or directory", path)
        for folder, subfolders, _ in os.walk(path):
            if CACHE_DIR in subfolders:
                found.setdefault(os.path.realpath(os.path.join(folder, CACHE_DIR)), Path(folder) / CACHE_DIR)
            subfolders[:] = [name for name in subfolders if name not in _NOT_SEARCHED]
    chosen = _chosen_folder(cache_dir)
    if chosen and os.path.isdir(chosen):
        found.setdefault(os.path.realpath(chosen), Path(chosen))
    return list(found.values())


def is_ours(folder: Path) -> bool:
    """Is this folder asynclint's cache: named so, or holding the `.gitignore` asynclint
    writes? `clean` removes a chosen folder only then: `--cache-dir ~/.cache` must not take
    the user's other caches."""
    if folder.name == CACHE_DIR:
        return True
    try:
        return (folder / ".gitignore").read_text(encoding="utf-8").startswith(_IGNORE_MARK)
    except (OSError, UnicodeDecodeError):
        return False


@functools.lru_cache(maxsize=1)
def _code_stamp() -> str:
    """asynclint's version and a hash of its source files' contents: the same for every
    installation of one release (so they share a cache), and different as soon as a
    development checkout's code is edited under the same version number (so it never reads
    results of older code). Reading the ~60 modules costs about 2 ms."""
    return stamp_of(Path(__file__).resolve().parent)


def stamp_of(package: Path) -> str:
    digest = hashlib.sha256(__version__.encode())
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode())
        with contextlib.suppress(OSError):
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def _relative(path: str, root: str) -> str:
    """The key of a file: its path relative to the project root, `/`-separated."""
    absolute = os.path.abspath(path)
    try:
        return os.path.relpath(absolute, root).replace(os.sep, "/")
    except ValueError:  # another drive than the root's
        return absolute


# How many files a cache's entries are spread over: enough that one shard of a large
# project's cache (14 MB for 4,400 files) reads and writes in a few milliseconds, few enough
# that a run reading all of them opens few files.
SHARDS = 32


class Cache:
    """`salt` names what else the results depend on (the project index, for the rules that
    consult it): a shard written under another salt is ignored and replaced, so a stage
    keeps one folder however often its salt changes."""

    def __init__(self, root: str, fingerprint: str, salt: str = "", cache_dir: str | None = None) -> None:
        self.root = os.path.abspath(root)
        self.folder = cache_folder(root, cache_dir)
        self.file = self.folder / __version__ / f"{fingerprint}-{_code_stamp()}"  # a folder of shards
        self.salt = salt
        self._shards: dict[int, dict[str, list[Any]]] = {}
        self._dirty: set[int] = set()

    def _entries(self, key: str) -> tuple[int, dict[str, list[Any]]]:
        """The shard `key` (a path relative to the root) is kept in, read on first use."""
        number = zlib.crc32(key.encode("utf-8", "surrogateescape")) % SHARDS
        entries = self._shards.get(number)
        if entries is None:
            entries = self._shards[number] = self._read(number)
        return number, entries

    def _read(self, number: int) -> dict[str, list[Any]]:
        try:
            with open(self.file / f"{number:02d}.json", encoding="utf-8") as handle:
                loaded = json.load(handle)
        except (OSError, ValueError, RecursionError):
            return {}  # no cache yet, or a damaged one (nested too deeply for json, too): start empty
        if not (
            isinstance(loaded, dict) and loaded.get("salt") == self.salt and isinstance(loaded.get("entries"), dict)
        ):
            return {}
        entries: dict[str, list[Any]] = loaded["entries"]
        if loaded.get("root") != self.root:
            # Written for a checkout elsewhere: sizes and mtimes say nothing here, every
            # entry is checked by its content hash before it is used.
            for entry in entries.values():
                if isinstance(entry, list) and len(entry) > 1:
                    entry[0] = entry[1] = -1
        return entries

    @staticmethod
    def _stat(path: str) -> tuple[int, int] | None:
        try:
            st = os.stat(path)
        except OSError:
            return None
        return st.st_size, st.st_mtime_ns

    def get(self, path: str) -> FileResult | None:
        # By path from the root: `check src` names files relatively, the project walk absolutely.
        key = _relative(path, self.root)
        number, entries = self._entries(key)
        entry = entries.get(key)
        stat = self._stat(path)
        if entry is None or stat is None:
            return None
        try:
            size, mtime, digest, diagnostics, facts, notes, sites = entry
            if (size, mtime) != stat:
                with open(path, "rb") as handle:
                    if hashlib.sha256(handle.read()).hexdigest() != digest:
                        return None
                entry[0], entry[1] = stat
                self._dirty.add(number)
            # Reported under the name asked for now, whichever named the file when it was cached.
            return FileResult(
                path=path,
                diagnostics=[_diagnostic_from({**d, "path": path}) for d in diagnostics],
                facts=facts,
                notes=[path + note if note.startswith(":") else note for note in notes],
                sites=sites if isinstance(sites, list) else None,
            )
        except (OSError, ValueError, TypeError, KeyError, AttributeError):
            return None  # a malformed entry is a miss

    def facts(self, path: str, stored: bool = False) -> dict[str, Any] | None:
        """The facts cached for `path`, trusted by its size and modification time (None when
        they differ, or none are cached); `stored`: whatever facts the entry holds, of the
        file as it was when cached (`incremental._rerun_new_facts` checks them by their hash)."""
        key = _relative(path, self.root)
        entry = self._entries(key)[1].get(key)
        if not isinstance(entry, list) or len(entry) != 7:
            return None
        if not stored and entry[:2] != list(self._stat(path) or ()):
            return None
        facts = entry[4]
        return facts if isinstance(facts, dict) else None

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
        key = _relative(result.path, self.root)
        number, entries = self._entries(key)
        entries[key] = [
            *stat,
            digest,
            [asdict(d) for d in result.diagnostics],
            result.facts,
            # Lint warnings (`path:row: ...`), kept without the name the file was asked by.
            [note.removeprefix(result.path) if note.startswith(result.path + ":") else note for note in result.notes],
            result.sites,
        ]
        self._dirty.add(number)

    def save(self) -> None:
        for number in sorted(self._dirty):
            shard = {"salt": self.salt, "root": self.root, "entries": self._shards[number]}
            _write(self.folder, self.file / f"{number:02d}.json", shard)
        self._dirty.clear()  # written (or not writable): a later save has only news to add


class RunCache:
    """The findings of a whole project-wide run, reused while no file of the project (nor
    the list of files) has changed: then nothing needs reading, not even the per-file
    results and facts, and the index need not be built again.

    The record also keeps what a run after a few files changed needs to redo only those
    (`incremental.rerun_changed`): each file's findings and notes, a hash of each file's facts,
    and (in a file of its own, read only then) the project index the run built."""

    def __init__(
        self, root: str, fingerprint: str, files: list[str], project_files: list[str], cache_dir: str | None = None
    ) -> None:
        self.folder = cache_folder(root, cache_dir)
        self.file = self.folder / __version__ / f"run-{fingerprint}-{_code_stamp()}.json"
        self.index_file = self.folder / __version__ / f"index-{fingerprint}-{_code_stamp()}.json"
        self.files, self.project_files = files, project_files
        # Taken before the run: a file edited while it runs makes the record unsafe to keep.
        self.stamps = self._stamps()

    def _stamps(self) -> dict[str, list[int]] | None:
        stamps = {}
        for path in dict.fromkeys([*self.files, *self.project_files]):
            stat = Cache._stat(path)
            if stat is None:
                return None
            stamps[path] = list(stat)
        return stamps

    def get(self) -> tuple[list[Diagnostic], list[str]] | None:
        """The findings of the last run, if it had the same files, each of the same size
        and modification time (the per-file caches' trust, too); else None."""
        record = self.previous()
        if record is None or record["stamps"] != self.stamps:
            return None
        try:
            return [_diagnostic_from(d) for d in record["diagnostics"]], [str(n) for _, n in record["notes"]]
        except (ValueError, TypeError, KeyError, AttributeError):
            return None

    def previous(self) -> dict[str, Any] | None:
        """The last run's record, if it had the same files (changed or not); else None."""
        if self.stamps is None:
            return None
        try:
            with open(self.file, encoding="utf-8") as handle:
                record = json.load(handle)
            if record["files"] != self.files or list(record["stamps"]) != list(self.stamps):
                return None
            return record if isinstance(record["facts"], dict) else None
        except (OSError, ValueError, TypeError, KeyError, AttributeError, RecursionError):
            return None  # none yet, or damaged: run

    def changed(self, record: dict[str, Any]) -> list[str]:
        """The files whose size or modification time differ from `record`'s."""
        assert self.stamps is not None
        return [path for path, stamp in self.stamps.items() if record["stamps"].get(path) != stamp]

    def index(self, record: dict[str, Any]) -> ProjectIndex | None:
        """The project index `record`'s run built, or None (none kept, or not that run's)."""
        from asynclint.project import index_from_json

        try:
            with open(self.index_file, encoding="utf-8") as handle:
                text = handle.read()
            if record.get("index") != hashlib.sha256(text.encode()).hexdigest():
                return None
            return index_from_json(text)
        except (OSError, ValueError, TypeError, KeyError, AttributeError, RecursionError):
            return None

    def put(
        self,
        diagnostics: list[Diagnostic],
        notes: list[tuple[str, str]],
        facts: dict[str, str | None],
        index: str | None = None,
        index_hash: str | None = None,
        unread: list[str] | None = None,
        names: dict[str, list[str]] | None = None,
    ) -> None:
        """`notes`: (file, note) in the run's order; `facts`: file -> `facts_hash`; `index`:
        the run's index as JSON (`project.index_to_json`), or its hash when the file already
        holds it; `unread`: the files whose facts the index was built without; `names`: the
        names those were checked for (`runner._index_on_demand`)."""
        if self.stamps is None or self._stamps() != self.stamps:
            return
        if index is not None:
            index_hash = hashlib.sha256(index.encode()).hexdigest()
            _write_text(self.folder, self.index_file, index)
        record = {
            "files": self.files,
            "stamps": self.stamps,
            "diagnostics": [asdict(d) for d in diagnostics],
            "notes": notes,  # the run's lint warnings, said again each time
            "facts": facts,
            "index": index_hash,
            "unread": unread or [],
            "names": names or {},
        }
        _write(self.folder, self.file, record)


def facts_hash(facts: dict[str, Any] | None) -> str | None:
    """A hash of a module's facts; None for none, "deferred" for deferred ones (whose text,
    not facts, decides whether the project pass reads them). Equal facts serialize alike: a
    cached entry keeps the order the facts were collected in."""
    from asynclint.project import is_deferred

    if not facts:
        return None
    if is_deferred(facts):
        return "deferred"
    return hashlib.sha256(json.dumps(facts, separators=(",", ":")).encode()).hexdigest()


def _write(folder: Path, file: Path, data: dict[str, Any]) -> None:
    # dumps, not dump: dump streams through the pure-Python encoder, ten times slower.
    _write_text(folder, file, json.dumps(data, separators=(",", ":")))


def _write_text(folder: Path, file: Path, text: str) -> None:
    """Atomically; a read-only tree still gets linted, just not cached."""
    temp = None
    try:
        file.parent.mkdir(parents=True, exist_ok=True)
        ignore = folder / ".gitignore"
        if not ignore.exists():
            ignore.write_text(f"{_IGNORE_MARK}\n*\n", encoding="utf-8")
        fd, temp = tempfile.mkstemp(dir=file.parent, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(temp, file)
        temp = None
    except OSError:
        pass
    finally:
        if temp is not None:
            with contextlib.suppress(OSError):
                os.unlink(temp)
