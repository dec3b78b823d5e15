"""Paths on the command line -> the Python files to lint.

Directories are walked for `*.py` (and `*.pyi`), skipping default excludes,
configured excludes and whatever `.gitignore` files say. A file named
explicitly is always linted, unless `force_exclude` asks for excludes to win
(pre-commit passes every staged file by name).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pathspec

DEFAULT_EXCLUDES = (
    ".git", ".hg", ".svn", ".venv", "venv", ".tox", ".nox", "__pycache__", "build", "dist",
    "node_modules", ".asynclint_cache", ".mypy_cache", ".pytest_cache", ".ruff_cache", "site-packages",
)
PYTHON_SUFFIXES = (".py", ".pyi")


class DiscoveryError(Exception):
    """A path that does not exist: one line, exit code 2."""


@dataclass
class _Ignore:
    base: Path
    spec: pathspec.PathSpec

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
    return _Ignore(folder, _spec(lines))


def _spec(lines) -> pathspec.PathSpec:
    import pathspec  # only once there is a pattern to match: a one-file run rarely has one

    return pathspec.GitIgnoreSpec.from_lines(lines)


def _parent_gitignores(folder: Path) -> list[_Ignore]:
    """.gitignore files above a walked folder, up to the repository root."""
    found = []
    for parent in folder.parents:
        ignore = _gitignore(parent)
        if ignore:
            found.append(ignore)
        if (parent / ".git").exists():
            break
    return found


def discover(paths, settings, *, force_exclude: bool = False) -> list[str]:
    root = Path(settings.root).resolve()
    files: list[str] = []
    seen: set[str] = set()

    def add(path: str) -> None:
        if path not in seen:
            seen.add(path)
            files.append(path)

    # The walk checks the default excludes by name; only the configured patterns need
    # pathspec, which costs more than the rest of the walk.
    configured = [*settings.exclude, *settings.extend_exclude]
    walk_excludes = _Ignore(root, _spec(configured)) if configured else None
    named_excludes = None  # for files named on the command line, under force_exclude
    for raw in paths:
        path = Path(raw)
        if not os.path.lexists(raw):
            raise DiscoveryError(f"{raw}: no such file or directory")
        if path.is_dir():
            _walk(path, walk_excludes, settings.respect_gitignore, add)
            continue
        if force_exclude:
            named_excludes = named_excludes or _Ignore(root, _spec([*DEFAULT_EXCLUDES, *configured]))
            if _excluded(path.resolve(), named_excludes, root):
                continue
        add(os.path.normpath(raw))
    return files


def _excluded(path: Path, excludes: _Ignore, root: Path) -> bool:
    if excludes.matches(path, False):
        return True
    # A file inside an excluded folder (e.g. build/x.py) is excluded too.
    return any(excludes.matches(parent, True) for parent in path.parents if parent != root and root in parent.parents)


def _walk(top: Path, excludes: _Ignore | None, respect_gitignore: bool, add) -> None:
    top_resolved = top.resolve()
    ignores = _parent_gitignores(top_resolved) if respect_gitignore else []
    stack = [(top, top_resolved, ignores)]
    while stack:
        folder, resolved, active = stack.pop()
        if respect_gitignore:
            own = _gitignore(resolved)
            if own:
                active = [*active, own]
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError:
            continue  # unreadable folder: nothing to lint in it
        subfolders = []
        for entry in entries:
            entry_resolved = resolved / entry.name
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
            except OSError:
                continue
            if not is_dir and not entry.name.endswith(PYTHON_SUFFIXES):
                continue  # before the pattern matching, which costs more than this
            if entry.name in DEFAULT_EXCLUDES or (excludes is not None and excludes.matches(entry_resolved, is_dir)):
                continue
            if any(ignore.matches(entry_resolved, is_dir) for ignore in active):
                continue
            if is_dir:
                subfolders.append((Path(entry.path), entry_resolved, active))
            else:
                add(os.path.normpath(entry.path))
        stack.extend(reversed(subfolders))
