"""The facts of every module of a project joined, with name resolution across them."""

from __future__ import annotations

from typing import Any

from asynclint.diagnostics import ModuleFacts
from asynclint.project.facts_format import FACTS_VERSION

# One function's facts (`facts["functions"][qualname]`).
FunctionFacts = dict[str, Any]


def join(all_facts: list[ModuleFacts]) -> Joined:
    tables: dict[str, dict[str, Any]] = {key: {} for key in ("functions", "classes", "exports", "values", "aliases")}
    for facts in all_facts:
        if facts.get("version") == FACTS_VERSION:
            for key, table in tables.items():
                table.update(facts.get(key, {}))
    return Joined(**tables)


class Joined:
    """The facts of every module joined, with name resolution across them."""

    def __init__(
        self,
        functions: dict[str, FunctionFacts],
        classes: dict[str, dict[str, Any]],
        exports: dict[str, str],
        values: dict[str, str],
        aliases: dict[str, str],
    ) -> None:
        self.functions = functions
        self.classes = classes
        self.exports = exports
        self.values = values
        self.aliases = aliases
        self._defined: dict[str, list[str]] | None = None
        # Every call of every function is resolved, some many times (each index table, each
        # round of the runner's): once each is enough, for `function` and `mro` too.
        self._resolved: dict[str, str] = {}
        self._functions: dict[str, str | None] = {}
        self._mros: dict[str, list[str]] = {}
        # Most calls are to libraries: a name outside the project's packages resolves to itself.
        self._tops = {key.partition(".")[0] for table in (functions, classes, exports) for key in table}

    def resolve(self, name: str) -> str:
        found = self._resolved.get(name)
        if found is None:
            found = self._resolve(name) if name.partition(".")[0] in self._tops else name
            self._resolved[name] = found
        return found

    def _resolve(self, name: str, depth: int = 0) -> str:
        # Follow re-exports (`from .impl import helper` in a package __init__).
        seen: set[str] = set()
        while name in self.exports and name not in seen:
            seen.add(name)
            name = self.exports[name]
        if depth < 4 and name not in self.functions and name not in self.classes and "." in name:
            # `pkg.Class.method` where `pkg.Class` is a re-export.
            owner, _, attr = name.rpartition(".")
            if owner in self.exports:
                return f"{self._resolve(owner, depth + 1)}.{attr}"
        return name

    def mro(self, name: str) -> list[str]:
        """The project class and its project base classes, depth first. (The same list for
        the same name: not to be changed.)"""
        found = self._mros.get(name)
        if found is None:
            found = self._mros[name] = self._mro(name)
        return found

    def _mro(self, name: str) -> list[str]:
        order: list[str] = []
        todo = [name]
        while todo:
            current = self.resolve(todo.pop(0))
            if current in order or current not in self.classes:
                continue
            order.append(current)
            todo[:0] = self.classes[current].get("bases", [])
        return order

    def function(self, name: str) -> str | None:
        """The project function a called name runs: a function, or a method found through
        the class and its bases (`pkg.Db.session` defined on `pkg.BaseDb`), also of a
        module-level instance of a project class (`values`)."""
        if name in self._functions:
            return self._functions[name]
        found = self._functions[name] = self._function(name)
        return found

    def _function(self, name: str) -> str | None:
        if name.partition(".")[0] not in self._tops:
            return None  # a library's name: it and its owner resolve to themselves, not ours
        name = self.resolve(name)
        if name in self.functions:
            return name
        owner, _, attr = name.rpartition(".")
        if owner in self.values:  # `server.init_async` on a module's `server = SyncServer()`
            owner = self.resolve(self.values[owner])
        for klass in self.mro(owner) if owner else ():
            method = f"{klass}.{attr}"
            if method in self.functions:
                return method
        return None

    def defined(self) -> dict[str, list[str]]:
        """Class -> the names of the methods it defines."""
        if self._defined is None:
            self._defined = {}
            for name in self.functions:
                owner, _, attr = name.rpartition(".")
                if owner in self.classes:
                    self._defined.setdefault(owner, []).append(attr)
        return self._defined
