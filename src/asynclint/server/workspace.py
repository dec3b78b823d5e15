"""The projects an editor has open, held in memory between keystrokes.

A project is the folder of a pyproject.toml (the one `asynclint check` would use for a
file), else the workspace folder holding the file. Its modules' facts are read from disk
once; from then on, a module's facts are recomputed only when its text changes (in the
editor or on disk), the index is updated (its blocking chains, when only what functions
call changed) or rebuilt from the facts in memory, and the open files whose findings may
depend on what changed in the index are named for re-checking.

Nothing here knows the protocol: `asynclint.server.lsp` turns these results into LSP
messages. Calls into the linter go through `asynclint.server.pipeline`.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from asynclint.config import ConfigError, Settings
from asynclint.diagnostics import Diagnostic, ModuleFacts
from asynclint.project import changed_names
from asynclint.server import pipeline

if TYPE_CHECKING:
    from asynclint.project import IndexBuild, ProjectIndex

# (path, row, first column, end column): where a definition or a call is, 1-based.
Place = tuple[str, int, int, int]


@dataclass
class Project:
    key: str  # its pyproject.toml, or the folder standing in for one
    settings: Settings
    error: str | None = None  # why the config could not be used (defaults apply)
    facts: dict[str, ModuleFacts] = field(default_factory=dict)  # path -> facts, editor text where open
    index: ProjectIndex | None = None  # once `index_project` ran
    build: IndexBuild | None = None  # what made `index`, to update it
    # path -> its facts when `build` was made, for the modules changed since (None: added,
    # removed, or moved in the order of the facts: build again)
    since: dict[str, ModuleFacts | None] = field(default_factory=dict)
    indexed: bool = False
    indexing: bool = False
    stale: bool = False  # facts changed since the index was built
    lookup: tuple[ProjectIndex | None, set[str], dict[str, str]] | None = None  # for chain locations


@dataclass
class _Open:
    text: str
    project: Project
    checked: bool = False  # `facts` are those of `text`
    facts: ModuleFacts | None = None  # of the last text checked, for the project's index


class Workspace:
    def __init__(self, folders: list[str] | None = None) -> None:
        self.folders = [os.path.abspath(folder) for folder in folders or ()]
        self.projects: dict[str, Project] = {}
        self.open: dict[str, _Open] = {}
        self.first_passes = pipeline.first_passes()

    # -- projects -----------------------------------------------------------------------

    def project_for(self, path: str) -> Project:
        try:
            config, settings = pipeline.config_for(path)
            error = None
        except ConfigError as exc:
            config, settings, error = None, None, str(exc)
        if config is None:
            config = self._folder_of(path)
        project = self.projects.get(config)
        if project is None:
            if settings is None:
                settings = pipeline.default_settings(config if os.path.isdir(config) else os.path.dirname(config))
            project = self.projects[config] = Project(config, settings, error)
        return project

    def _folder_of(self, path: str) -> str:
        inside = [folder for folder in self.folders if path.startswith(folder.rstrip(os.sep) + os.sep)]
        return max(inside, key=len) if inside else os.path.dirname(path)

    def index_project(self, project: Project) -> None:
        """Read the facts of every module of the project (the open ones from the editor)."""
        if pipeline.wants_project(project.settings):
            facts = pipeline.project_facts(pipeline.project_files(project.settings), project.settings)
            for path, state in self.open.items():
                if state.project is project:
                    facts.pop(path, None)
                    if state.checked and state.facts:
                        facts[path] = state.facts
            project.facts = facts
            project.build = pipeline.build_index(facts.values())
            project.index = project.build.index
            project.since = {}
        project.indexed = True

    def reload_config(self, config: str) -> list[str]:
        """A pyproject.toml changed, appeared or went: the projects it may configure are
        forgotten (read again on next use); the open files to check again."""
        folder = os.path.dirname(os.path.abspath(config))
        stale = [
            key
            for key, project in self.projects.items()
            if key == config or _under(project.settings.root, folder) or _under(key, folder)
        ]
        for key in stale:
            del self.projects[key]
        again = []
        for path, state in self.open.items():
            if state.project.key in stale or _under(path, folder):
                state.project = self.project_for(path)
                state.checked = False
                again.append(path)
        return again

    # -- files --------------------------------------------------------------------------

    def check(self, path: str, text: str) -> list[Diagnostic]:
        """The findings of the editor's text of `path`, with the project index as it is (see
        `update_index`, which may change it)."""
        state = self.open.get(path)
        if state is None:
            state = self.open[path] = _Open(text, self.project_for(path))
        project = state.project
        index = project.index if project.indexed else None
        findings, facts = pipeline.check(text, path, project.settings, index, self.first_passes)
        state.text, state.facts, state.checked = text, facts, True
        return findings

    def update_index(self) -> list[str]:
        """After `check`s: the open files' facts go into their projects' indexes (each index
        built once however many changed); the open files (those checked included) to check
        again because what an index says changed with them."""
        again: list[str] = []
        for path, state in list(self.open.items()):
            if state.checked and state.project.indexed:
                again += [
                    other
                    for other in self._set_facts(state.project, path, state.facts, build=False)
                    if other not in again
                ]
        for project in self.projects.values():
            if project.stale:
                again += [other for other in self._rebuild(project) if other not in again]
        return again

    def close(self, path: str) -> list[str]:
        """The editor closed the file: its facts are the file's on disk again."""
        state = self.open.pop(path, None)
        self.first_passes.forget(path)
        if state is None or not state.project.indexed:
            return []
        return self.file_changed(path, project=state.project)

    def file_changed(self, path: str, project: Project | None = None) -> list[str]:
        """A file not open in the editor changed (or appeared, or went) on disk."""
        if path in self.open:
            return []  # the editor's text is what counts
        project = project or self.project_for(path)
        if not project.indexed:
            return []
        facts = None
        if os.path.isfile(path):
            try:
                from asynclint.source import read_source

                facts = pipeline.text_facts(read_source(path).text, path, project.settings)
            except Exception:  # unreadable now: as if it were gone
                facts = None
        return self._set_facts(project, path, facts)

    def _set_facts(self, project: Project, path: str, facts: ModuleFacts | None, build: bool = True) -> list[str]:
        if not pipeline.wants_project(project.settings) or project.facts.get(path) == facts:
            return []
        before = pipeline.index_view(project.facts.get(path))
        project.since.setdefault(path, project.facts.get(path))
        if facts is None:
            project.since[path] = None
            project.facts.pop(path, None)
        else:
            project.facts[path] = facts
        if pipeline.index_view(facts) != before:
            project.stale = True
        return self._rebuild(project) if build and project.stale else []

    def _rebuild(self, project: Project) -> list[str]:
        old = project.index
        changes = [(before, project.facts.get(path)) for path, before in project.since.items()]
        # Most edits change only what some functions call: then only the blocking chains are
        # derived again, from what the build keeps (exactly what building it again would give).
        if project.build is None or not pipeline.update_index(project.build, changes):
            project.build = pipeline.build_index(project.facts.values())
        project.index = project.build.index
        project.since = {}
        project.stale = False
        names = changed_names(old, project.index)
        if not names:
            return []
        return [
            other for other, state in self.open.items() if state.project is project and _spells_any(state.text, names)
        ]

    def diagnostics_texts(self) -> dict[str, str]:
        return {path: state.text for path, state in self.open.items()}

    def source_of(self, path: str) -> str | None:
        state = self.open.get(path)
        if state is not None:
            return state.text
        try:
            from asynclint.source import read_source

            return read_source(path).text
        except Exception:
            return None

    # -- where a chain's steps are (ASL207) -----------------------------------------------

    def chain_locations(self, path: str, diagnostic: Diagnostic) -> list[tuple[str, int, int, int, str]]:
        """(path, row, col, end col, step) for each step of an ASL207 finding's chain whose
        definition (or, for the last step, call) can be found; 1-based rows and columns."""
        state = self.open.get(path)
        project = state.project if state else None
        if project is None or project.index is None:
            return []
        chain = _chain_of(diagnostic.message)
        if not chain:
            return []
        blocking = project.index.blocking
        functions, modules = self._lookup(project)
        found = []
        previous = None
        # Each step's chain is the rest of the finding's: `Step()` is the class, the next
        # step `Step.__init__`, and so on down to the sync function that makes the call.
        for position in range(len(chain) - 1):
            rest = chain[position:]
            name = next(
                (key for key, value in blocking.items() if value == rest and key in functions),
                None,
            )
            where = self._definition(name, modules) if name is not None else None
            if where is not None:
                found.append((*where, rest[0]))
                previous = where
        if previous is not None:
            call = self._call_after(previous, chain[-1])
            if call is not None:
                found.append((*call, chain[-1]))
        return found

    def _lookup(self, project: Project) -> tuple[set[str], dict[str, str]]:
        """(every project function and class, module -> path), once per index."""
        if project.lookup is None or project.lookup[0] is not project.index:
            functions: set[str] = set()
            modules: dict[str, str] = {}
            for module_path, facts in project.facts.items():
                modules[facts.get("module", "")] = module_path
                functions.update(facts.get("functions", ()))
                functions.update(facts.get("classes", ()))
            project.lookup = (project.index, functions, modules)
        return project.lookup[1], project.lookup[2]

    def _definition(self, name: str, modules: dict[str, str]) -> Place | None:
        module = max(
            (m for m in modules if m and (name == m or name.startswith(m + "."))),
            key=len,
            default=None,
        )
        if module is None:
            return None
        path = modules[module]
        text = self.source_of(path)
        if text is None:
            return None
        parts = name[len(module) + 1 :].split(".")
        row = 0
        lines = text.splitlines()
        for part in parts:
            pattern = re.compile(rf"^\s*(?:async\s+def|def|class)\s+{re.escape(part)}\b")
            for number in range(row, len(lines)):
                if pattern.match(lines[number]):
                    row = number
                    break
            else:
                return None
        col = lines[row].find(parts[-1]) + 1
        return path, row + 1, col, col + len(parts[-1])

    def _call_after(self, where: Place, call: str) -> Place | None:
        """The first call of `call` (`time.sleep`: `sleep(`) after a definition's line."""
        path, row = where[0], where[1]
        text = self.source_of(path)
        if text is None:
            return None
        last = call.rpartition(".")[2].rstrip("()")
        pattern = re.compile(rf"\b{re.escape(last)}\s*\(")
        lines = text.splitlines()
        indent = len(lines[row - 1]) - len(lines[row - 1].lstrip())
        for number in range(row, len(lines)):
            line = lines[number]
            if number > row and line.strip() and len(line) - len(line.lstrip()) <= indent:
                return None  # past the end of the function
            match = pattern.search(line)
            if match and number > row - 1:
                return (
                    path,
                    number + 1,
                    match.start() + 1,
                    match.start() + 1 + len(last),
                )
        return None


def _spells_any(text: str, names: set[str]) -> bool:
    return "*" in names or any(name in text for name in names)


def _under(path: str, folder: str) -> bool:
    path, folder = os.path.abspath(path), os.path.abspath(folder)
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def _chain_of(message: str) -> list[str]:
    """The steps of an ASL207 message: "`x` blocks ...: a -> b -> c; run it ..."."""
    _, _, rest = message.partition(" in async code: ")
    chain, _, _ = rest.partition("; ")
    return [step.strip() for step in chain.split(" -> ")] if chain else []
