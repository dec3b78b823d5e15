"""Paths on the command line -> the Python files to lint.

Directories are walked for `*.py` (not `*.pyi`: a stub never runs, and its module
name is its `.py` twin's), skipping default excludes,
configured excludes and whatever `.gitignore` files say. A file named
explicitly is always linted, unless `force_exclude` asks for excludes to win
(pre-commit passes every staged file by name).
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    import pathspec

    from asynclint.config import Settings

DEFAULT_EXCLUDES = (
    ".git",
    ".hg",
    ".svn",
    ".venv",
    "venv",
    ".tox",
    ".nox",
    "__pycache__",
    "build",
    "dist",
    "node_modules",
    ".asynclint_cache",
    ".mypy_cache",
    ".pytest_cache",
    ".ruff_cache",
    "site-packages",
)
PYTHON_SUFFIXES = (".py",)


class DiscoveryError(Exception):
    """A path that does not exist: one line, exit code 2."""


@dataclass(frozen=True)
class Skipped:
    """A path discovery did not lint, for a warning. `lost`: Python files may be missed
    (a folder that cannot be read), which makes the run incomplete."""

    path: str
    reason: str
    lost: bool = False


@dataclass
class _Ignore:
    base: Path
    spec: pathspec.PathSpec[Any]

    def matches(self, path: Path, is_dir: bool) -> bool:
        try:
            relative = path.relative_to(self.base).as_posix()
        except ValueError:
            return False
        return self.spec.match_file(relative + "/" if is_dir else relative)


def _gitignore(folder: Path) -> _Ignore | None:
    candidate = folder / ".gitignore"
    try:
        lines = candidate.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    return _Ignore(folder, _spec(lines, strict=False))


def _spec(lines: Iterable[str], strict: bool = True) -> pathspec.PathSpec[Any]:
    """The patterns as git reads them. A pattern pathspec rejects (a lone `!`) is an error
    in asynclint's own `exclude` (`strict`); in a .gitignore git skips it, and so do we."""
    import pathspec  # only once there is a pattern to match: a one-file run rarely has one

    try:
        return pathspec.GitIgnoreSpec.from_lines(lines)
    except ValueError:  # pathspec's pattern errors are ValueErrors
        pass
    valid = []
    for line in lines:
        try:
            pathspec.GitIgnoreSpec.from_lines([line])
        except ValueError:
            if strict:
                raise DiscoveryError(f"exclude: invalid pattern {line!r}") from None
            continue
        valid.append(line)
    return pathspec.GitIgnoreSpec.from_lines(valid)


PROJECT_MARKERS = ("pyproject.toml", "setup.cfg", ".git")


def nearest_project(path: str, memo: dict[str, str | None] | None = None) -> str | None:
    """The nearest folder at or above `path` that holds a pyproject.toml, setup.cfg or .git:
    where a project ends, and project analysis with it. None outside any project. `memo`:
    the answers for folders asked before (a run names files in hundreds of folders that
    share their parents)."""
    folder = os.path.abspath(path)
    if not os.path.isdir(folder):
        folder = os.path.dirname(folder)
    memo = {} if memo is None else memo
    walked = []
    found: str | None = None
    while True:
        if folder in memo:
            found = memo[folder]
            break
        walked.append(folder)
        if any(os.path.exists(os.path.join(folder, marker)) for marker in PROJECT_MARKERS):
            found = folder
            break
        parent = os.path.dirname(folder)
        if parent == folder:
            break
        folder = parent
    for below in walked:
        memo[below] = found
    return found


def _parent_gitignores(folder: Path) -> list[_Ignore]:
    """.gitignore files above a walked folder, up to the root of the repository it is in;
    none outside a repository, and none when the folder is a repository's root (as git
    does: an outer repository's .gitignore says nothing about a nested one)."""
    if (folder / ".git").exists():
        return []
    found = []
    for parent in folder.parents:
        ignore = _gitignore(parent)
        if ignore:
            found.append(ignore)
        if (parent / ".git").exists():
            return found
    return []


def discover(
    paths: Iterable[str], settings: Settings, *, force_exclude: bool = False, skipped: list[Skipped] | None = None
) -> list[str]:
    """The files to lint. What is left out for a reason the user should hear (a FIFO or
    device named *.py, a folder that cannot be read) goes to `skipped`."""
    root = Path(settings.root).resolve()
    files: list[str] = []
    seen: set[str] = set()
    skipped = skipped if skipped is not None else []

    def add(path: str, real: str) -> None:
        # `real`: the file itself, so that one named twice (`a.py` and its absolute path,
        # a symlink and its target) is linted and reported once.
        if real not in seen:
            seen.add(real)
            files.append(path)

    # The walk checks the default excludes by name; only the configured patterns need
    # pathspec, which costs more than the rest of the walk.
    configured = [*settings.exclude, *settings.extend_exclude]
    walk_excludes = _Ignore(root, _spec(configured)) if configured else None
    named_excludes = None  # for files named on the command line, under force_exclude
    real_folders: dict[str, str] = {}
    for raw in paths:
        # One lstat (and a stat behind a link) per named path: pre-commit and the benchmark
        # name thousands of files.
        try:
            own_mode = os.lstat(raw).st_mode
        except OSError:
            raise DiscoveryError(f"{raw}: no such file or directory") from None
        mode: int | None = own_mode
        link = stat.S_ISLNK(own_mode)
        if link:
            try:
                mode = os.stat(raw).st_mode
            except OSError:
                mode = None  # a broken link: linted, and ASL002 says why it cannot be read
        if mode is not None and stat.S_ISDIR(mode):
            _walk(Path(raw), walk_excludes, settings.respect_gitignore, add, skipped)
            continue
        if force_exclude:
            named_excludes = named_excludes or _Ignore(root, _spec([*DEFAULT_EXCLUDES, *configured]))
            if _excluded(Path(raw).resolve(), named_excludes, root):
                continue
        if mode is not None and not stat.S_ISREG(mode):
            skipped.append(Skipped(raw, "not a regular file"))  # a FIFO, device or socket
            continue
        add(os.path.normpath(raw), os.path.realpath(raw) if link else _realpath(raw, real_folders))
    return files


def _realpath(path: str, folders: dict[str, str]) -> str:
    """`os.path.realpath` of a path that is not a link itself: a run names thousands of
    files in a few hundred folders."""
    folder, name = os.path.split(os.path.abspath(path))
    return os.path.join(real_folder(folder, folders), name)


def real_folder(folder: str, memo: dict[str, str]) -> str:
    """`os.path.realpath` of an absolute, normalized folder, from its parent's: one `lstat`
    per folder, where realpath takes one per part of the path (a run names hundreds of
    folders, deep in a tree)."""
    found = memo.get(folder)
    if found is None:
        parent = os.path.dirname(folder)
        if parent == folder or os.path.islink(folder):
            found = os.path.realpath(folder)
        else:
            found = os.path.join(real_folder(parent, memo), os.path.basename(folder))
        memo[folder] = found
    return found


def _special(path: str) -> bool:
    """A FIFO, device or socket: reading one may block forever or never end."""
    try:
        return not stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return False  # a broken link or an unreadable file: ASL002 says why


def _excluded(path: Path, excludes: _Ignore, root: Path) -> bool:
    if excludes.matches(path, False):
        return True
    # A file inside an excluded folder (e.g. build/x.py) is excluded too.
    return any(excludes.matches(parent, True) for parent in path.parents if parent != root and root in parent.parents)


def _walk(
    top: Path,
    excludes: _Ignore | None,
    respect_gitignore: bool,
    add: Callable[[str, str], None],
    skipped: list[Skipped],
) -> None:
    top_resolved = top.resolve()
    ignores = _parent_gitignores(top_resolved) if respect_gitignore else []
    stack = [(top, top_resolved, ignores)]
    while stack:
        folder, resolved, active = stack.pop()
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as exc:
            skipped.append(Skipped(os.path.normpath(folder), f"cannot read folder: {exc.strerror or exc}", lost=True))
            continue
        # (The listing says whether there is a .gitignore to read: most folders have none.)
        if respect_gitignore and any(entry.name == ".gitignore" for entry in entries):
            own = _gitignore(resolved)
            if own:
                active = [*active, own]
        # Paths are built for the pattern matching only: most walks have no pattern to match.
        matching = excludes is not None or bool(active)
        resolved_text = str(resolved)
        subfolders = []
        for entry in entries:
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
            except OSError:
                continue
            if not is_dir and not entry.name.endswith(PYTHON_SUFFIXES):
                continue  # before the pattern matching, which costs more than this
            if entry.name in DEFAULT_EXCLUDES:
                continue
            if matching:
                entry_resolved = resolved / entry.name
                if excludes is not None and excludes.matches(entry_resolved, is_dir):
                    continue
                if any(ignore.matches(entry_resolved, is_dir) for ignore in active):
                    continue
            if is_dir:
                subfolders.append((Path(entry.path), resolved / entry.name, active))
            elif entry.is_symlink():
                if _special(entry.path):
                    skipped.append(Skipped(os.path.normpath(entry.path), "not a regular file"))
                else:
                    add(os.path.normpath(entry.path), os.path.realpath(entry.path))
            elif entry.is_file(follow_symlinks=False):
                add(os.path.normpath(entry.path), os.path.join(resolved_text, entry.name))
            else:
                skipped.append(Skipped(os.path.normpath(entry.path), "not a regular file"))
        stack.extend(reversed(subfolders))
