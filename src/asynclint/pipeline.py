"""One pipeline for every entry point.

`asynclint check` (and its `--fix`, `--diff`, `--add-noqa`), the flake8 plugin, `--stdin-filename`
and the language server all describe what they want as a `Request` and call `run`. The passes,
in order:

1. **discover**: the paths -> the files to lint (`discovery`), each with the settings of the
   nearest `pyproject.toml` with a `[tool.asynclint]` table above it (ruff's model), the command
   line's options on top;
2. **group** the files by project: the folder of that configuration, else the nearest folder
   holding a `pyproject.toml`, `setup.cfg` or `.git`; project analysis never reads above it.
   Files with no such folder above them form one project of just the files asked for;
3. per project, the runner: **lint** the files and **collect facts**, **build the index** from the
   facts of the project's modules (read on demand), **run the project-wide rules** again where
   they may find more, **apply noqa**, and **fix** (`--fix` / `--diff`). The language server
   holds its projects' indexes in memory: it gives its index (`Request.index`), and no index
   is built; before it has one, the project is the file it asks for (`requested_only`);
4. **merge** the projects' results in path order, whatever order the paths were given in.

Reporting (and `--add-noqa`'s writing) is the caller's.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from asynclint.config import (
    Settings,
    load_settings,
    with_overrides,
)
from asynclint.diagnostics import Facts
from asynclint.discovery import Skipped, nearest_project, real_folder
from asynclint.job import FixMode, Job, RunResult

if TYPE_CHECKING:
    from asynclint.passes import FirstPasses
    from asynclint.project import ProjectIndex


@dataclass(frozen=True)
class Overrides:
    """What the command line says on top of every file's configuration."""

    select: tuple[str, ...] | None = None
    extend_select: tuple[str, ...] | None = None
    ignore: tuple[str, ...] | None = None
    target_version: tuple[int, int] | None = None
    project_analysis: bool | None = None

    def apply(self, settings: Settings) -> Settings:
        return with_overrides(
            settings,
            select=self.select,
            extend_select=self.extend_select,
            ignore=self.ignore,
            target_version=self.target_version,
            project_analysis=self.project_analysis,
        )


@dataclass(frozen=True)
class Request:
    paths: tuple[str, ...] = (".",)
    overrides: Overrides = Overrides()
    # One configuration for every file (`--config`), instead of each file's nearest.
    config_file: str | None = None
    # Every file's settings, as the caller found them (the language server's project's,
    # kept until its configuration changes), instead of each file's nearest configuration.
    settings: Settings | None = None
    force_exclude: bool = False
    fix: FixMode = None
    unsafe: bool = False
    use_cache: bool = True
    # The cache's folder (`--cache-dir`); None: ASYNCLINT_CACHE_DIR, else each project's `.asynclint_cache`.
    cache_dir: str | None = None
    # Line noqa comments applied; flake8 applies its own.
    apply_noqa: bool = True
    jobs: int | None = None
    # Text to lint instead of what is on disk, by path (stdin, an editor's unsaved buffer).
    # The path need not exist: it only places the text in a project.
    sources: Mapping[str, str] = field(default_factory=dict)
    # Project analysis as an editor needs it (the language server):
    # - `index`: the project's index, held by the caller and kept up to date as files change.
    #   The project is not read and no index is built: the project-wide rules run again
    #   with this one where they may find more.
    # - `requested_only`: the project is the files asked for, nothing else (a file on its own,
    #   its own helpers seen; before the caller has an index).
    # - `facts`: each file's module facts (all of them) come back in `RunResult.facts`, for
    #   the caller's own index.
    index: ProjectIndex | None = None
    requested_only: bool = False
    facts: bool = False
    # The first pass of `sources`, kept from run to run by a caller that checks the same
    # texts again (see `passes.FirstPasses`).
    first_passes: FirstPasses | None = None


@dataclass
class Project:
    """Files that share one configuration and one project root."""

    settings: Settings
    root: str | None  # None: no project folder above the files; the project is the files asked for
    files: list[str] = field(default_factory=list)

    def every_file(self, request: Request, discovered: dict[str, list[str]]) -> list[str] | None:
        """Every Python file of the project, for project analysis (None: analysis is off)."""
        if not self.settings.project_analysis or request.fix == "diff" or request.index is not None:
            return None
        if self.root is None or request.requested_only:
            return list(self.files)
        from asynclint.discovery import DiscoveryError, discover

        if self.root in discovered:  # the project is a folder that was asked for: no second walk
            return discovered[self.root]
        try:
            found = discover([self.root], self.settings)
        except DiscoveryError:
            return list(self.files)
        known = {os.path.abspath(f) for f in found}
        return found + [f for f in self.files if os.path.abspath(f) not in known]


@dataclass
class Plan:
    """What `run` will lint: the projects (sorted by root), the files found under each folder
    that was asked for (by absolute path), and what discovery left out with a reason."""

    projects: list[Project]
    discovered: dict[str, list[str]]
    skipped: list[Skipped]


def run(request: Request, planned: Plan | None = None) -> RunResult:
    """Every pass for every project the request's files belong to; results merged in path order."""
    from asynclint import runner

    planned = planned or plan(request)
    total = RunResult()
    sources = {os.path.abspath(path): text for path, text in request.sources.items()}
    for project in planned.projects:
        job = Job(
            project.settings,
            fix=request.fix,
            unsafe=request.unsafe,
            facts=Facts.ALL if request.facts else Facts.NONE,
            noqa=request.apply_noqa,
            sources=sources,
            cache_dir=request.cache_dir,
        )
        every_file = project.every_file(request, planned.discovered)
        result = runner.run(
            project.files, job, request.jobs, request.use_cache, every_file, request.index, request.first_passes
        )
        _merge(total, result)
    total.diagnostics.sort(key=lambda d: d.sort_key)
    return total


def plan(request: Request) -> Plan:
    """Discover the request's files and group them by project."""
    from asynclint.discovery import discover

    fixed = _fixed_settings(request)
    projects: dict[tuple[str | None, str | None], Project] = {}
    discovered: dict[str, list[str]] = {}
    skipped: list[Skipped] = []
    seen: set[str] = set()
    # Per folder, once: a run names thousands of files in a few hundred folders.
    by_folder: dict[str, Settings] = {}
    roots: dict[tuple[str | None, str | None], str | None] = {}
    projects_above: dict[str, str | None] = {}  # nearest_project's answers, per folder
    sources = {os.path.abspath(p) for p in request.sources}
    cwd = os.getcwd()  # once: os.path.abspath asks for it on every call

    stamps: dict[str, Stamps] = {}
    reals: dict[str, str] = {}  # each folder's real path (`real_folder`)

    def absolute_of(path: str) -> str:
        return os.path.normpath(path if os.path.isabs(path) else os.path.join(cwd, path))

    def settings_of(folder: str) -> Settings:
        """The settings of the files in `folder` (absolute and normalized)."""
        if fixed is not None:
            return fixed
        if folder not in by_folder:
            start = real_folder(folder if os.path.exists(folder) else cwd, reals)
            by_folder[folder] = _settings_at(Path(start), request.overrides, stamps)
        return by_folder[folder]

    def root_of(own: Settings, folder: str) -> str | None:
        # A configuration file's folder is its files' root wherever they are: once for all.
        key = (own.config_file, None if own.config_file else folder)
        if key not in roots:
            roots[key] = project_root(real_folder(folder, reals), own, projects_above)
        return roots[key]

    def add(found: list[str], settings: Settings, named: bool) -> None:
        for path in found:
            absolute = absolute_of(path)
            if absolute in seen:
                continue  # named twice (`a.py` and `$PWD/a.py`): linted and reported once
            seen.add(absolute)
            folder = os.path.dirname(absolute)
            own = settings_of(folder)
            if own.config_file != settings.config_file and not named and _excluded_by(path, own):
                continue  # a sub-project's own excludes
            root = root_of(own, folder)
            key = (own.config_file, root)
            if key not in projects:
                projects[key] = Project(own, root)
            projects[key].files.append(path)

    # Files named on the command line are discovered together, per configuration (pre-commit
    # and the benchmark name thousands); each folder is walked on its own.
    named_files: dict[int, tuple[Settings, list[str]]] = {}
    for raw in request.paths:
        absolute = absolute_of(raw)
        is_folder = os.path.isdir(absolute)
        settings = settings_of(absolute if is_folder else os.path.dirname(absolute))
        if absolute in sources and not os.path.isfile(absolute):
            add([os.path.normpath(raw)], settings, named=True)
        elif is_folder:
            found = discover([raw], settings, force_exclude=request.force_exclude, skipped=skipped)
            discovered[absolute] = found
            add(found, settings, named=False)
        else:
            named_files.setdefault(id(settings), (settings, []))[1].append(raw)
    for settings, group in named_files.values():
        add(discover(group, settings, force_exclude=request.force_exclude, skipped=skipped), settings, named=True)
    ordered = sorted(projects.values(), key=lambda p: p.root or "")
    for project in ordered:
        project.files.sort()
    return Plan(ordered, discovered, skipped)


def settings_for(path: str, overrides: Overrides = Overrides(), memo: dict[str, Stamps] | None = None) -> Settings:
    """The settings `check` uses for the file or folder at `path`. `memo`: the pyproject.toml
    files found above each folder so far (a run asks for hundreds of folders)."""
    target = Path(path)
    folder = target if target.is_dir() else target.parent
    return _settings_at(folder.resolve() if folder.exists() else Path.cwd().resolve(), overrides, memo)


def _settings_at(folder: Path, overrides: Overrides, memo: dict[str, Stamps] | None) -> Settings:
    """The settings of the files in `folder` (a real path)."""
    return overrides.apply(_settings_in(_config_stamps(folder, memo)))


# The pyproject.toml files at and above a folder, nearest first: (folder, mtime, size).
Stamps = tuple[tuple[str, int, int], ...]


def _config_stamps(folder: Path, memo: dict[str, Stamps] | None = None) -> Stamps:
    """Which pyproject.toml files, as they are now, decide a folder's settings: the same
    files give the same settings (flake8 and the server ask again and again), a changed one
    new settings."""
    key = str(folder)
    if memo is not None and key in memo:
        return memo[key]
    try:
        stat = (folder / "pyproject.toml").stat()
        own: Stamps = ((key, stat.st_mtime_ns, stat.st_size),)
    except OSError:
        own = ()
    stamps = own + (() if folder.parent == folder else _config_stamps(folder.parent, memo))
    if memo is not None:
        memo[key] = stamps
    return stamps


@lru_cache(maxsize=256)
def _settings_in(stamps: Stamps) -> Settings:
    if not stamps:
        return Settings(root=str(Path.cwd()))  # no pyproject.toml above: the defaults
    # From the nearest pyproject.toml's folder the search finds what it finds from below it.
    return load_settings([stamps[0][0]])


def _fixed_settings(request: Request) -> Settings | None:
    """`--config FILE` (or the caller's settings): one configuration for every file."""
    if request.settings is not None:
        return request.overrides.apply(request.settings)
    if request.config_file is None:
        return None
    return request.overrides.apply(load_settings((), request.config_file))


def project_root(folder: str, settings: Settings, memo: dict[str, str | None] | None = None) -> str | None:
    """The folder project analysis reads for the files in `folder` (a real path): their
    configuration's folder, else the nearest folder at or above it with a project marker,
    else None (no folder is walked). `memo`: `nearest_project`'s."""
    if settings.config_file:
        return str(Path(settings.config_file).resolve().parent)
    return nearest_project(folder, memo)


def _excluded_by(path: str, settings: Settings) -> bool:
    from asynclint.discovery import discover

    return not discover([path], settings, force_exclude=True)


def _merge(total: RunResult, result: RunResult) -> None:
    total.files += result.files
    total.diagnostics.extend(result.diagnostics)
    total.errors.extend(result.errors)
    total.fixed.extend(result.fixed)
    total.diffs.extend(result.diffs)
    total.notes.extend(result.notes)
    total.outputs.update(result.outputs)
    total.facts.update(result.facts)


def lint_source(text: str, path: str, settings: Settings, *, apply_noqa: bool = True) -> RunResult:
    """One file's text on its own, with these settings: project analysis sees only the file
    (so ASL207 still finds helpers defined in it). Fixture tests use it."""
    request = Request(
        paths=(path,),
        settings=settings,
        apply_noqa=apply_noqa,
        use_cache=False,
        jobs=1,
        sources={path: text},
        requested_only=True,
    )
    return run(request)
