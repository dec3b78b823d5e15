"""Project-wide analysis: facts per module, and an index that joins them.

Single-file linters cannot see that `Step()` in an async route blocks because
`Step.__init__`, two modules away, calls `time.sleep`; nor that `db.session_context()`
enters an AsyncSession because `session_context` is an `@asynccontextmanager` method of
a class in another module; nor that `make_client()` builds a new `httpx.AsyncClient` on
every call. Here every module of the project contributes plain facts, collected in the
engine's traversal (`asynclint.facts`) and cached by content hash; the index derives,
to a fixed point, which sync project functions block and through which chain, which
project functions give a session, and which create a resource.

Facts are small JSON-able dicts so they cache and cross process boundaries; keys with
nothing to say are left out:
    {"version": FACTS_VERSION,
     "module": "shop.helpers",
     "functions": {qualname: {
         "async": bool, "cached": bool, "display": str,
         "calls": [qualname, ...], "blocking": [[code, what], ...],
         # calls and blocking calls under `if p is None:` on parameters: skipped when a call
         # site passes one of them ("blocking" entries then carry the names as a third
         # item); and how a caller fills the parameters: [[positional...], [keyword-only...]]
         # (calls under a lazy-singleton guard are left out altogether)
         "guarded_calls": [[qualname, [param, ...]], ...], "signature": [[...], [...]],
         # async functions: the project calls they await directly; "entry" when a decorator
         # (a route, a registered callback) may call it from outside
         "awaits": [qualname, ...], "entry": bool,
         # what a call hands back: how ("call" | "await" | "enter" for an
         # @asynccontextmanager | "iterate" for an async generator), what ("session" or a
         # resource constructor), and the
         # project calls whose results it returns or yields ([[qualname, awaited], ...])
         "via": str, "gives": str, "from": [...],
         # parameters annotated AsyncSession: [[position or -1, name], ...], how the
         # function is bound ("method" | "class" | "static") and whether a decorator may
         # have changed its signature
         "params": [...], "bind": str, "decorated": bool,
         # __init__ only: the resource it creates, or project calls it stores the result of
         "creates": str, "creates_from": [qualname, ...],
         # a resource created and dropped on every call, and the project calls (not under
         # a lazy-singleton guard) with whether their result is dropped there too
         "drops": str, "drop_calls": [[qualname, bool], ...],
         # a sync function's return annotation, when other modules care (`-> Path`)
         "returns": type}},
     "classes": {qualname: {"display": str, "bases": [qualname, ...],
                            "special": bool,    # metaclass, __new__ or a decorator
                            "closes": bool,     # a close()/aclose()/__aexit__... that
                                                # closes something `self` holds
                            "attrs": {name: type}}},  # `self.path: Path`, for subclasses
     "exports": {qualname: qualname},     # module-level imports, for re-exports
     "values": {qualname: type},          # module-level session factories, project objects
     "aliases": {qualname: type},         # `SessionDep = Annotated[AsyncSession, ...]`
                                          # (or `Session`)
     "imports": [qualname, ...],          # other imports (in functions, `import a.b.c`)
     "untyped_args": [name, ...],         # functions called with a name nothing annotates
     # coroutines and tasks (ASL102): project calls handed to a task starter, handed
     # positionally to another call ([[outer, position, inner], ...]), called otherwise;
     # in "functions", a spawn helper's "spawns": [parameter position, ...] and "forwards":
     # [[outer, argument position, parameter position], ...]
     "spawned": [qualname, ...], "handed": [...], "called": [qualname, ...],
     "asyncio_orm": True,                 # imports SQLAlchemy's/SQLModel's asyncio extension
     "relationships": True,               # may call `relationship()`/`Relationship()` (ASL301)
     "untyped_io": bool,                  # Path/Session I/O in async code on an unknown type
     "type_refs": [qualname, ...],        # project names that may tell that type (annotations,
                                          # base classes)
     "async_calls": [qualname, ...],      # project calls made from async code
     "startup": [qualname, ...],          # functions run at startup/shutdown (`lifespan=`)
     "escapes": [qualname, ...]}          # project names used otherwise than awaited from a
                                          # named async function (callbacks, spawns)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields, replace

from asynclint import knowledge, registry

# Bumped whenever the shape of the facts changes: facts of another shape are ignored.
FACTS_VERSION = 7
# The facts of a module not wanted before the index exists (`facts.wanted_first`) and not
# parsed for a rule: collected once they are seen to be wanted (`runner._index_on_demand`).
DEFERRED = {"deferred": True}


def _spelled(name: str) -> str:
    """How code using it spells a name: `Tx.__init__` (and other dunder methods) is reached
    through the class, `Tx(...)`; anything else by its last part."""
    holder, _, last = name.rpartition(".")
    return holder if last.startswith("__") and last.endswith("__") and holder else name


def spelled_last(names) -> frozenset[str]:
    """The last name code spells to use each of these (`_spelled`)."""
    return frozenset(_spelled(name).rpartition(".")[2] for name in names)


def is_deferred(facts) -> bool:
    return bool(facts) and facts.get("deferred") is True


def words(text: str) -> frozenset[str]:
    """The words a module spells: its names, keywords and the words in its strings."""
    return frozenset(re.findall(r"\w+", text))


def names_any(names: dict[str, frozenset[str]], words: frozenset[str], relative: bool) -> bool:
    """Does a module spelling these words (importing relatively or not) name anything of
    `ProjectIndex.names()`?"""
    return any(last in names and (relative or not names[last].isdisjoint(words)) for last in words)


# The rules that consult the project index (each rule's `index_family`).
BLOCKING_CODES = registry.INDEX_FAMILIES["blocking"]
SESSION_CODES = registry.INDEX_FAMILIES["sessions"]
RESOURCE_CODES = registry.INDEX_FAMILIES["resources"]
ORM_CODES = registry.INDEX_FAMILIES["orm"]
TASK_CODES = registry.INDEX_FAMILIES["tasks"]
TYPE_CODES = registry.INDEX_FAMILIES["types"]
PROJECT_CODES = frozenset().union(*registry.INDEX_FAMILIES.values())


def uses_index(settings) -> bool:
    """Does a run with these settings build the project index: project analysis on, and a
    rule enabled that consults it?"""
    return bool(settings.project_analysis and PROJECT_CODES & settings.enabled_codes())


@dataclass
class ProjectIndex:
    """What project-wide analysis tells the rules.

    - `blocking`: project function or class -> the chain showing why calling it blocks (ASL207).
    - `guards`: for those of them that block only under `if p is None:` on parameters:
      (signature, ((parameters, chain), ...)): a call site that passes one of an item's
      parameters does not run it.
    - `startup`: async functions that run only when an app starts or stops: the lifespan, the
      startup/shutdown handlers, a coroutine run to completion on a loop that then serves for
      good (`facts.FactsCollector._run_before_serving`), and what only they await.
    - `sessions`: project function -> how a caller gets an AsyncSession from it: "call"
      (`s = f()`), "await" (`s = await f()`), "enter" (`async with f() as s`) or "iterate"
      (`async for s in f()`, and `Depends(f)`: a FastAPI dependency that yields one).
    - `session_params`: project function -> (((position or -1, name), ...), binding, decorated)
      for its parameters annotated `AsyncSession`; binding is "function", "method", "class"
      (classmethod) or "static"; a decorated function's positions may not line up.
    - `values`: module-level name -> its type: a session factory or session, or a project
      class that has any of the methods above.
    - `type_aliases`: `SessionDep = Annotated[AsyncSession, Depends(...)]` -> AsyncSession.
    - `methods`: project class -> {method name: function} for the methods of the maps above
      and of `resource_factories`, inherited ones included.
    - `resource_factories`: project function -> the resource it returns, new on every call.
    - `resource_classes`: project class -> (resource its `__init__` creates, whether the class
      has a method that closes it).
    - `resource_churn`: project function -> the chain showing how each call of it creates
      and drops a resource (`fetch -> httpx.AsyncClient`), through project calls.
    - `task_roots`: project coroutine functions only ever started as tasks (by a task
      starter or a spawn helper of the project), never called otherwise (ASL102).
    - `asyncio_orm`: some module imports SQLAlchemy's (or SQLModel's) asyncio extension, so
      the project's ORM models are loaded under asyncio (ASL301).
    - `returns`: sync project function -> the type its return annotation names, for the
      types of `knowledge.SHARED_RETURN_TYPES` (`def data_dir() -> Path`).
    - `attributes`: project class -> {attribute: type} that it or a base class declares or
      assigns to `self` (`knowledge.SHARED_ATTRIBUTE_TYPES`), the nearest class first.
    Re-exported names (`from .impl import helper` in a package) are keys too.
    """

    blocking: dict[str, list[str]] = field(default_factory=dict)
    guards: dict[str, tuple] = field(default_factory=dict)
    startup: frozenset = frozenset()
    sessions: dict[str, str] = field(default_factory=dict)
    session_params: dict[str, tuple] = field(default_factory=dict)
    values: dict[str, str] = field(default_factory=dict)
    type_aliases: dict[str, str] = field(default_factory=dict)
    methods: dict[str, dict[str, str]] = field(default_factory=dict)
    resource_factories: dict[str, str] = field(default_factory=dict)
    resource_classes: dict[str, tuple[str, bool]] = field(default_factory=dict)
    resource_churn: dict[str, list[str]] = field(default_factory=dict)
    returns: dict[str, str] = field(default_factory=dict)
    attributes: dict[str, dict[str, str]] = field(default_factory=dict)
    # Names a module imports when it may use the above (with the modules and packages
    # holding them): session factories, functions with `AsyncSession` parameters, resources.
    session_names: frozenset = frozenset()
    param_names: frozenset = frozenset()
    resource_names: frozenset = frozenset()
    type_names: frozenset = frozenset()  # ... and `returns`, `attributes`, `type_aliases`
    param_functions: frozenset = frozenset()  # the short names of `session_params` functions
    asyncio_orm: bool = False
    task_roots: frozenset = frozenset()
    # Some `Depends(...)` of the project gives a session (ASL401: then a route making its
    # own session departs from the project's convention).
    session_dependency: bool = False

    def is_empty(self) -> bool:
        return not (
            self.blocking
            or self.session_names
            or self.param_names
            or self.resource_names
            or self.type_names
            or self.asyncio_orm
            or self.task_roots
        )

    def attribute_type(self, owner: str, name: str) -> str | None:
        """The type of `obj.name` for an instance of the project class `owner`, when known."""
        return self.attributes.get(owner, {}).get(name)

    def rerun_codes(self, facts: dict) -> frozenset[str]:
        """The project-wide rules that may find more in the module these facts describe."""
        codes: set[str] = set()
        if self.blocking and any(call in self.blocking for call in facts.get("async_calls", ())):
            codes |= BLOCKING_CODES
        names = [facts.get("module", ""), *facts.get("exports", {}).values(), *facts.get("imports", ())]
        if self.session_names and any(name in self.session_names for name in names):
            codes |= SESSION_CODES
        elif (
            self.param_names
            and any(name in self.param_names for name in names)
            and (self.param_functions.intersection(facts.get("untyped_args", ())))
        ):
            # A name nothing annotates handed to what may be an `AsyncSession` parameter
            # (no new session is created: no ASL401).
            codes |= SESSION_CODES - {"ASL401"}
        if self.resource_names and any(name in self.resource_names for name in names):
            codes |= RESOURCE_CODES
        # A module importing the extension itself was judged so without the index.
        if self.asyncio_orm and facts.get("relationships") and not facts.get("asyncio_orm"):
            codes |= ORM_CODES
        if self.task_roots and not self.task_roots.isdisjoint(facts.get("functions", ())):
            codes |= TASK_CODES
        if self.type_names and facts.get("untyped_io") and any(name in self.type_names for name in names):
            codes |= TYPE_CODES
        return frozenset(codes)

    def wants(self, rule, text: str, settings) -> bool:
        """The token prefilter of a rule run with the index: a name from another module
        (`make_client()`, `get_db()`) can create a resource or a session without any of the
        rule's own tokens in the text; the other rules keep their prefilter."""
        return bool(rule.wants_with_index(text, settings))

    def names(self) -> dict[str, frozenset[str]]:
        """The last part of every session and resource name the index knows -> the parts
        before it (the module or class holding it). A module can neither use these nor add
        to them without spelling such a name and, since names resolve through imports, its
        module or class (`from shop.db import get_db`, `db.get_db()`, `class D(Base)`), or
        importing relatively (`from . import get_db`). (Blocking chains are followed from
        the calls instead: `wanted_calls`.) A function deemed to run only at startup is in
        too: a module awaiting it from elsewhere would say otherwise."""
        # (A task root: a module calling it otherwise would make it no root. `-> Path`
        # functions and Path attributes are not among them: a module that spells none of
        # ASL204's calls cannot gain a finding from them; one that uses them is found through
        # its calls and `type_refs` instead.)
        session_returns = [name for name, kind in self.returns.items() if kind == knowledge.SYNC_SESSION]
        tables = (
            self.sessions,
            self.session_params,
            self.session_values(),
            self.type_aliases,
            self.session_classes(),
            self.resource_factories,
            self.resource_classes,
            session_returns,
            self.resource_churn,
            self.task_roots,
            self.startup,
        )
        found: dict[str, set[str]] = {}
        for table in tables:
            for name in table:
                holder, _, last = _spelled(name).rpartition(".")
                found.setdefault(last, set()).add(holder.rpartition(".")[2])
        return {last: frozenset(holders) for last, holders in found.items()}

    def session_classes(self) -> list[str]:
        """The classes of `methods` with a method that gives or takes a session or makes a
        resource (not only one annotated `-> Path`)."""
        return [
            owner
            for owner, found in self.methods.items()
            if any(f not in self.returns or self.returns[f] == knowledge.SYNC_SESSION for f in found.values())
        ]

    def session_values(self) -> list[str]:
        """The names of `values` holding a session factory or an instance of `session_classes`."""
        classes = set(self.session_classes())
        return [name for name, kind in self.values.items() if kind in knowledge.SHARED_VALUE_TYPES or kind in classes]

    def method(self, owner: str | None, name: str) -> str | None:
        """The project function `owner().name` runs, when it matters to a rule."""
        if owner is None:
            return None
        return self.methods.get(owner, {}).get(name)

    @classmethod
    def build(cls, all_facts: list[dict]) -> ProjectIndex:
        return IndexBuild(all_facts).index

    @classmethod
    def _build(cls, project: _Project, targets: dict[str, _Targets], all_facts: list[dict]) -> ProjectIndex:
        functions, exports, values, aliases = project.functions, project.exports, project.values, project.aliases
        index = cls()
        index.blocking, index.guards = _chains(project, targets)
        index.startup = _startup(project, all_facts)
        index.sessions = _sessions(project, values)
        index.session_params = {
            name: (
                tuple((position, param) for position, param in info["params"]),
                info.get("bind", "function"),
                bool(info.get("decorated")),
            )
            for name, info in functions.items()
            if info.get("params")
        }
        index.resource_factories = _resource_factories(project)
        index.resource_classes = _resource_classes(project, index.resource_factories)
        index.resource_churn = _resource_churn(project, index.resource_factories)
        index.returns = {name: info["returns"] for name, info in functions.items() if "returns" in info}
        index.attributes = _attributes(project)
        interesting = {
            *index.sessions,
            *index.session_params,
            *index.resource_factories,
            *index.resource_churn,
            *index.returns,
        }
        index.methods = _methods(project, interesting)
        index.type_aliases = dict(aliases)
        for name, kind in values.items():
            if kind in knowledge.SHARED_VALUE_TYPES:
                index.values[name] = kind
            else:
                owner = project.resolve(kind)
                if owner in index.methods:
                    index.values[name] = owner
        # What a module must import (or be) to use them: the definitions, the modules and
        # packages holding them, and (below) their re-exports.
        factory_keys = [*index.sessions, *index.session_values(), *_session_aliases(index.type_aliases)]
        factory_keys += [
            name for name, methods in index.methods.items() if any(f in index.sessions for f in methods.values())
        ]
        # Instances of project classes (`settings.data_dir()`) and sync session factories.
        type_keys = [
            name
            for name, kind in index.values.items()
            if kind not in knowledge.SHARED_VALUE_TYPES or kind == knowledge.SYNC_SESSIONMAKER
        ]
        param_keys = [*index.session_params]
        param_keys += [
            name for name, methods in index.methods.items() if any(f in index.session_params for f in methods.values())
        ]
        resource_keys = [*index.resource_factories, *index.resource_classes, *index.resource_churn]
        resource_keys += [
            name
            for name, methods in index.methods.items()
            if any(f in index.resource_factories or f in index.resource_churn for f in methods.values())
        ]
        type_keys += [
            *index.returns,
            *index.attributes,
            *(name for name, kind in index.type_aliases.items() if kind != knowledge.ASYNC_SESSION),
        ]
        type_keys += [
            name for name, methods in index.methods.items() if any(f in index.returns for f in methods.values())
        ]
        factory_names, param_names, resource_names, type_names = (
            set(_with_prefixes(keys)) for keys in (factory_keys, param_keys, resource_keys, type_keys)
        )
        # What a call site may name: the definition, or a re-export of it.
        tables = (
            index.blocking,
            index.guards,
            index.sessions,
            index.session_params,
            index.values,
            index.type_aliases,
            index.methods,
            index.resource_factories,
            index.resource_classes,
            index.resource_churn,
            index.returns,
            index.attributes,
        )
        all_names = (factory_names, param_names, resource_names, type_names)
        # Every key of the tables and names above (kept so as they grow): most re-exports are
        # of names none of them holds, and are passed over on one lookup.
        known = set().union(*tables, *all_names)
        resolve = project.resolve
        for alias in exports:
            target = resolve(alias)
            if target not in known:
                continue
            for table in tables:
                if target in table:
                    table[alias] = table[target]
                    known.add(alias)
            for names in all_names:
                if target in names and target != alias:
                    names.add(alias)  # the re-exported name itself, not its package
                    known.add(alias)
        index.param_functions = frozenset(name.rpartition(".")[2] for name in index.session_params)
        index.session_names = frozenset(factory_names)
        index.param_names = frozenset(param_names)
        index.resource_names = frozenset(resource_names)
        current = [f for f in all_facts if f.get("version") == FACTS_VERSION]
        index.asyncio_orm = any(f.get("asyncio_orm") for f in current)
        index.task_roots = _task_roots(project, current)
        index.session_dependency = _session_dependency(project, index, current)
        index.type_names = frozenset(type_names)
        return index


# What `ProjectIndex.build` reads of a module's facts besides its functions.
INDEXED_MODULE_KEYS = (
    "classes",
    "exports",
    "values",
    "aliases",
    "startup",
    "escapes",
    "spawned",
    "called",
    "handed",
    "asyncio_orm",
    "session_dependency",
    "depends",
)


class IndexBuild:
    """A project index with what it was built from, to update it when a module's facts
    change only in what its functions call (`calls`, `blocking`, `guarded_calls`): the
    blocking chains are derived again from the call targets kept (those of the changed
    functions followed again), and the rest of the index is kept. Anything else changed
    needs `IndexBuild(all_facts)` again. (The language server, between keystrokes.)"""

    # What of a function's facts only the blocking chains depend on (and, through a sync
    # function's calls, which functions run only at startup: checked in `update`).
    _CALL_KEYS = frozenset({"calls", "blocking", "guarded_calls"})

    def __init__(self, all_facts: list[dict], index: ProjectIndex | None = None) -> None:
        """`index`: the index of these facts, known already (a run's record): not built
        again. (Then `update` cannot tell whether a name was resolved through an import its
        edit adds or takes away: an update of module-level imports needs a build.)"""
        self._project = _join(all_facts)
        self._followed: dict = {}
        self._targets = _call_targets(self._project, self._followed)
        self.index = index if index is not None else ProjectIndex._build(self._project, self._targets, all_facts)
        self._reexports: list[tuple[str, str]] | None = None

    def update(self, old: dict, new: dict) -> bool:
        """The module these facts describe changed from `old` to `new` (both in the facts
        the index was built from, in the same place): True when `index` is now the index of
        the facts with `new`, False (nothing changed here) when it must be built again."""
        imports = self._library_imports(old.get("exports", {}), new.get("exports", {}))
        changed = self._changed_functions(old, new) if imports is not None else None
        if imports is None or changed is None:
            return False
        project, index = self._project, self.index
        functions = project.functions
        # Where two modules define the same name the last one's facts count (`_join`): a
        # function this module does not define in the end changes nothing.
        effective = [name for name, info in old.get("functions", {}).items() if functions.get(name) is info]
        changed = [name for name in changed if functions.get(name) is old["functions"][name]]
        if index.startup:
            # A sync caller keeps a coroutine function out of `startup`: which ones it calls
            # must stay the same.
            for name in changed:
                if not functions[name]["async"]:
                    before = {project.function(call) for call in old["functions"][name]["calls"]}
                    after = {project.function(call) for call in new["functions"][name]["calls"]}
                    if any(target and functions[target]["async"] for target in before ^ after):
                        return False
        for alias, target in imports.items():
            project._resolved.pop(alias, None)
            if target is None:
                project.exports.pop(alias, None)
            else:
                project.exports[alias] = target
        for name in effective:
            # The next update names these facts as the ones it changes.
            functions[name] = new["functions"][name]
        if not changed:
            return True
        for name in changed:
            info = functions[name]
            if not info["async"] and not info["cached"]:
                self._targets[name] = _targets_of(project, info, self._followed)
        blocking, guards = _chains(project, self._targets)
        if self._reexports is None:
            # Re-exports of what may block: of a function, a class, or another re-export.
            held = (functions, project.classes, project.exports)
            self._reexports = [
                (alias, target)
                for alias, target in ((alias, project.resolve(alias)) for alias in project.exports)
                if any(target in table for table in held)
            ]
        for alias, target in self._reexports:
            if target in blocking:
                blocking[alias] = blocking[target]
            if target in guards:
                guards[alias] = guards[target]
        self.index = replace(index, blocking=blocking, guards=guards)
        return True

    def _changed_functions(self, old: dict, new: dict) -> list[str] | None:
        """The functions whose calls differ, or None when anything else the index reads does
        (exports aside: `_library_imports` judges them)."""
        if old.get("version") != FACTS_VERSION or new.get("version") != FACTS_VERSION:
            return None
        if any(old.get(key) != new.get(key) for key in INDEXED_MODULE_KEYS if key != "exports"):
            return None
        before, after = old.get("functions", {}), new.get("functions", {})
        if before.keys() != after.keys():
            return None
        changed = []
        for name, info in after.items():
            was = before[name]
            if was == info:
                continue
            keys = self._CALL_KEYS
            if was.keys() - keys != info.keys() - keys or any(was[key] != info[key] for key in was.keys() - keys):
                return None
            changed.append(name)
        return changed

    def _library_imports(self, before: dict[str, str], after: dict[str, str]) -> dict[str, str | None] | None:
        """The module-level names bound to a library that an edit adds or takes away
        (`import time`: alias -> target, None for one taken away), or None when its exports
        changed otherwise. Such a name changes nothing the index holds as long as no name
        was ever resolved through it (facts record a call of `time.sleep` already resolved):
        a project target, or a name looked up before, needs a build."""
        if before == after:
            return {}
        project = self._project
        changes: dict[str, str | None] = {}
        for alias in before.keys() | after.keys():
            was, now = before.get(alias), after.get(alias)
            if was == now:
                continue
            if was is not None and now is not None:
                return None  # rebound
            target = was if was is not None else now
            assert target is not None
            if target.partition(".")[0] in project._tops or alias.partition(".")[0] not in project._tops:
                return None
            changes[alias] = now
        # The alias's own resolution is asked by every build (for re-exports of what the index
        # holds; a library's name is none), and is dropped when applied; what was looked up
        # through it, or called or subclassed as it, needs a build.
        prefixes = tuple(f"{alias}." for alias in changes)
        if any(name.startswith(prefixes) for name in project._resolved):
            return None
        if any(name in changes or name.startswith(prefixes) for name in (*project._functions, *project._mros)):
            return None
        return changes


def _session_dependency(project: _Project, index: ProjectIndex, all_facts: list[dict]) -> bool:
    """A module provides a session dependency itself, a `Depends(f)` names a project
    function that gives a session or is a generator (the shape of `get_db`, whose session
    may come from where the facts cannot tell), or an `Annotated[AsyncSession, Depends(...)]`
    alias."""
    if any(kind in (knowledge.ASYNC_SESSION, knowledge.SYNC_SESSION) for kind in index.type_aliases.values()):
        return True
    for facts in all_facts:
        if facts.get("session_dependency"):
            return True
        for target in facts.get("depends", ()):
            if index.sessions.get(target) in ("call", "await", "iterate"):
                return True
            if index.returns.get(target) == knowledge.SYNC_SESSION:
                return True
            function = project.function(target)
            if function is not None and project.functions.get(function, {}).get("generator"):
                return True
    return False


def index_to_json(index: ProjectIndex) -> str:
    """The index as JSON (sets sorted): what a run's cached results were computed with, and
    what `index_from_json` gives back equal."""
    import json

    return json.dumps(vars(index), sort_keys=True, separators=(",", ":"), default=sorted)


def index_from_json(text: str) -> ProjectIndex:
    """The `ProjectIndex` of `index_to_json`, each field of its own type again (tuples,
    frozensets: a rule may compare or add them). Raises ValueError, TypeError or KeyError
    on anything else."""
    import json

    data = json.loads(text)
    if not isinstance(data, dict) or set(data) != {f.name for f in fields(ProjectIndex)}:
        raise ValueError("not a project index")
    sets = {"startup", "session_names", "param_names", "resource_names", "type_names", "param_functions", "task_roots"}
    for name in sets:
        data[name] = frozenset(data[name])
    data["asyncio_orm"] = bool(data["asyncio_orm"])
    data["guards"] = {
        name: (tuple(map(tuple, signature)), tuple((tuple(guard), list(chain)) for guard, chain in items))
        for name, (signature, items) in data["guards"].items()
    }
    data["session_params"] = {
        name: (tuple((position, param) for position, param in params), bind, bool(decorated))
        for name, (params, bind, decorated) in data["session_params"].items()
    }
    data["resource_classes"] = {name: (made, bool(closes)) for name, (made, closes) in data["resource_classes"].items()}
    return ProjectIndex(**data)


def _join(all_facts: list[dict]) -> _Project:
    tables: dict[str, dict] = {key: {} for key in ("functions", "classes", "exports", "values", "aliases")}
    for facts in all_facts:
        if facts.get("version") == FACTS_VERSION:
            for key, table in tables.items():
                table.update(facts.get(key, {}))
    return _Project(**tables)


class _Project:
    """The facts of every module joined, with name resolution across them."""

    def __init__(self, functions: dict, classes: dict, exports: dict, values: dict, aliases: dict) -> None:
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
        the class and its bases (`pkg.Db.session` defined on `pkg.BaseDb`)."""
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


def wanted_calls(all_facts: list[dict]) -> set[str]:
    """Names that async code calls, directly or through the project's sync functions, and
    that no facts define yet: where a blocking chain (ASL207) may go on. Only these modules'
    facts matter to the chains; a sync helper nothing async reaches cannot be reported."""
    project = _join(all_facts)
    functions, classes = project.functions, project.classes

    def follow(name: str):
        target = _callable_target(name, functions, classes)
        info = functions.get(target[0]) if target else None
        if info is None:
            return (), target[0] if target else name
        if info["async"] or info["cached"]:
            return (), None
        return [*info["calls"], *(call for call, _ in info.get("guarded_calls", ()))], None

    return _missing(project, [call for facts in all_facts for call in facts.get("async_calls", ())], follow)


def wanted_types(all_facts: list[dict]) -> set[str]:
    """Project names that may say what a receiver of Path or Session I/O in async code is
    (`facts["type_refs"]`: an annotation such as `SessionDep`, the base classes of a class
    using an inherited `self.root`), with their base classes in turn, that no facts define yet."""
    todo = [name for facts in all_facts for name in facts.get("type_refs", ())]
    if not todo:
        return set()
    project = _join(all_facts)

    def follow(name: str):
        if name in project.classes:
            return project.classes[name].get("bases", ()), None
        return (), None if name in project.aliases else name

    return _missing(project, todo, follow)


def _missing(project: _Project, todo: list[str], follow) -> set[str]:
    """The names no facts define, reached from `todo`: `follow(name)` gives (names it leads
    to, the missing name to want or None)."""
    seen: set[str] = set()
    missing: set[str] = set()
    while todo:
        name = project.resolve(todo.pop())
        if name in seen:
            continue
        seen.add(name)
        further, absent = follow(name)
        if absent is not None:
            missing.add(absent)
        todo.extend(further)
    return missing


def _blocking(project: _Project) -> tuple[dict[str, list[str]], dict[str, tuple]]:
    """Sync project functions that block, with the chain; then the classes whose __init__ does.
    And for those that block only under `if p is None:` on parameters, what each such path
    needs (`ProjectIndex.guards`)."""
    return _chains(project, _call_targets(project, {}))


# A sync function's calls that run project code: [(function, chain steps shown before it,
# the parameters the call is made only without), ...] in the order of its facts.
_Targets = list[tuple[str, tuple[str, ...], tuple]]


def _call_targets(project: _Project, followed: dict) -> dict[str, _Targets]:
    """Sync, uncached project function -> what its calls run. `followed`: called name -> what
    it runs, filled on the way (most names are called from many places, and most are
    libraries' names, which lead nowhere)."""
    return {
        name: _targets_of(project, info, followed)
        for name, info in project.functions.items()
        if not info["async"] and not info["cached"]
    }


def _targets_of(project: _Project, info: dict, followed: dict) -> _Targets:
    functions, classes, resolve = project.functions, project.classes, project.resolve
    found = []
    for call in info["calls"]:
        target = followed.get(call, _UNSEEN)
        if target is _UNSEEN:
            target = followed[call] = _callable_target(resolve(call), functions, classes)
        if target is not None:
            found.append((target[0], target[1], ()))
    for call, params in info.get("guarded_calls", ()):
        target = followed.get(call, _UNSEEN)
        if target is _UNSEEN:
            target = followed[call] = _callable_target(resolve(call), functions, classes)
        if target is not None:
            found.append((target[0], target[1], tuple(params)))
    return found


def _chains(project: _Project, targets: dict[str, _Targets]) -> tuple[dict[str, list[str]], dict[str, tuple]]:
    """`_blocking` from the functions' call targets."""
    functions, classes = project.functions, project.classes
    chains: dict[str, list[str]] = {}
    # Direct blockers first, then their sync callers, one layer of calls at a time: each
    # caller takes the chain through its first callee known to block in the layer before,
    # so the chain shown is a shortest one and does not depend on the order of the facts.
    # A call made only when a parameter is left out counts here (some call site may leave
    # it out); the call sites that pass it are told apart by `guards`.
    for name, info in functions.items():
        if not info["async"] and not info["cached"] and info["blocking"]:
            first = next((entry for entry in info["blocking"] if len(entry) == 2), info["blocking"][0])
            chains[name] = [info["display"], first[1]]
    callers: dict[str, list[str]] = {}
    for name, found in targets.items():
        if name in chains:
            continue
        for target, _, _ in found:
            called_by = callers.get(target)
            if called_by is None:
                callers[target] = [name]
            else:
                called_by.append(name)
    layer = set(chains)
    while layer:
        reached = {caller for done in layer for caller in callers.get(done, ()) if caller not in chains}
        added = {}
        for name in reached:
            for target, steps, _ in targets[name]:
                if target in chains and target != name:
                    added[name] = [functions[name]["display"], *steps, *chains[target]]
                    break
        chains.update(added)
        layer = set(added)
    guards = {}
    for name in chains:
        info = functions[name]
        items = [(tuple(entry[2]) if len(entry) > 2 else (), [info["display"], entry[1]]) for entry in info["blocking"]]
        items += [
            (guard, [info["display"], *steps, *chains[target]])
            for target, steps, guard in targets[name]
            if target in chains and target != name
        ]
        if items and all(guard for guard, _ in items) and "signature" in info:
            guards[name] = (tuple(map(tuple, info["signature"])), tuple(items))
    blocking: dict[str, list[str]] = {}
    # What a call site may name: a function, or a class whose __init__ blocks.
    for name in functions:
        if name in chains:
            blocking[name] = chains[name]
    for name, info in classes.items():
        init = f"{name}.__init__"
        if init in chains:
            shown = f"{info['display']}()"
            blocking[name] = [shown, *chains[init]]
            if init in guards:
                signature, items = guards[init]
                guards[name] = (signature, tuple((guard, [shown, *chain]) for guard, chain in items))
    return blocking, guards


def _startup(project: _Project, all_facts: list[dict]) -> frozenset:
    """Async functions run only at startup or shutdown: the ones registered as such, and,
    to a fixed point, those that only they await (not decorated, handed on, spawned, or
    called from sync code: any of those may run them while the app serves)."""
    functions = project.functions
    current = [facts for facts in all_facts if facts.get("version") == FACTS_VERSION]
    startup = {found for facts in current for found in map(project.function, facts.get("startup", ())) if found}
    if not startup:
        return frozenset()
    escapes = {
        project.function(name) or project.resolve(name) for facts in current for name in facts.get("escapes", ())
    }
    awaited_by: dict[str, set[str]] = {}
    function = project.function
    for name, info in functions.items():
        # A sync caller hands the coroutine on (`asyncio.run(f())`): not startup-only.
        caller = name if info["async"] else ""
        for call in info.get("awaits", ()) if info["async"] else info["calls"]:
            target = function(call)
            if target is not None:
                by = awaited_by.get(target)
                if by is None:
                    awaited_by[target] = {caller}
                else:
                    by.add(caller)
    # Only an async function with every caller at startup can join, and it joins for good (the
    # set only grows): so to a fixed point, look again only at what a new member awaits.
    awaits: dict[str, set[str]] = {}
    for target, by in awaited_by.items():
        info = functions[target]
        if info["async"] and not info.get("entry") and target not in escapes:
            for caller in by:
                awaits.setdefault(caller, set()).add(target)
    todo = [target for callees in (awaits.get(name, ()) for name in startup) for target in callees]
    while todo:
        name = todo.pop()
        if name not in startup and awaited_by[name] <= startup:
            startup.add(name)
            todo.extend(awaits.get(name, ()))
    return frozenset(startup)


# What calling a function that hands back a value gives, by how the value was had:
# (the function's "via", what the returned value is) -> how its caller gets a session.
_COMPOSE = {
    ("call", "session"): "call",
    ("call", "context"): "enter",
    ("call", "awaitable"): "await",
    ("await", "session"): "await",
    ("enter", "session"): "enter",
    ("iterate", "session"): "iterate",
    ("call", "iterator"): "iterate",
}


def _sessions(project: _Project, values: dict[str, str]) -> dict[str, str]:
    """Project functions that give a session, to a fixed point: by annotation, by what they
    return or yield (a session, or the result of another such function)."""
    sessions: dict[str, str] = {}

    def value_of(callee: str, awaited: bool) -> str | None:
        """What a returned `callee(...)` (or `await callee(...)`) is."""
        resolved = project.resolve(callee)
        kind = values.get(resolved)
        if kind is not None:
            made = knowledge.INSTANCE_CALL_TYPES.get(kind)
            return "session" if made == knowledge.ASYNC_SESSION and not awaited else None
        function = project.function(callee)
        kind = sessions.get(function) if function else None
        if kind is None:
            return None
        if awaited:
            return "session" if kind == "await" else None
        return {"call": "session", "enter": "context", "await": "awaitable", "iterate": "iterator"}[kind]

    def gives_session(info: dict) -> str | None:
        gives = info.get("gives")
        if gives not in (None, "session"):
            return None
        made = ["session"] if gives == "session" else []
        for callee, awaited in info.get("from", ()):
            value = value_of(callee, awaited)
            if value is None:
                return None
            made.append(value)
        kinds = {_COMPOSE.get((info["via"], value)) for value in made}
        return kinds.pop() if len(kinds) == 1 and None not in kinds else None

    candidates = {name: info for name, info in project.functions.items() if "via" in info}
    return _to_fixed_point(candidates, gives_session, sessions)


def _task_roots(project: _Project, all_facts: list[dict]) -> frozenset:
    """Project `async def`s started as tasks (by a task starter, or a spawn helper of the
    project) and never called otherwise anywhere in the project."""
    functions = project.functions
    # Spawn helpers: function -> positions of parameters it starts as tasks, to a fixed point
    # through helpers handing their parameter on to another helper.
    helpers: dict[str, set[int]] = {name: set(info["spawns"]) for name, info in functions.items() if info.get("spawns")}
    forwarding = [(name, info["forwards"]) for name, info in functions.items() if info.get("forwards")]
    changed = bool(helpers)
    while changed:
        changed = False
        for name, forwards in forwarding:
            for outer, position, param in forwards:
                if position in helpers.get(project.function(outer) or "", ()) and param not in helpers.get(name, ()):
                    helpers.setdefault(name, set()).add(param)
                    changed = True
    spawned: set[str] = set()
    other: set[str] = set()
    if not helpers and not any(facts.get("spawned") for facts in all_facts):
        return frozenset()  # nothing is started as a task
    for facts in all_facts:
        spawned.update(facts.get("spawned", ()))
        other.update(facts.get("called", ()))
        for outer, position, inner in facts.get("handed", ()):
            (spawned if position in helpers.get(project.function(outer) or "", ()) else other).add(inner)
    roots = {project.function(name) for name in spawned} - {project.function(name) for name in other}
    return frozenset(name for name in roots if name is not None and functions[name]["async"])


def _resource_factories(project: _Project) -> dict[str, str]:
    """Project functions that return a new resource on every call, to a fixed point."""
    factories: dict[str, str] = {}
    candidates = {
        name: info
        for name, info in project.functions.items()
        if info.get("via") in ("call", "await") and info.get("gives") != "session" and not info["cached"]
    }

    def creates(info: dict) -> str | None:
        made = info.get("gives")
        for callee, _awaited in info.get("from", ()):
            function = project.function(callee)
            if function not in factories:
                return None
            made = made or factories[function]
        return made

    return _to_fixed_point(candidates, creates, factories)


def _resource_churn(project: _Project, factories: dict[str, str]) -> dict[str, list[str]]:
    """Project functions each call of which creates and drops a resource, with the chain:
    one that does it itself, or drops what a factory returns, then their callers, one layer
    of calls at a time (as `_blocking`), so the chain shown is a shortest one."""
    functions = project.functions
    chains: dict[str, list[str]] = {}
    callers: dict[str, list[tuple[str, bool]]] = {}
    for name, info in functions.items():
        if info["cached"]:
            continue
        if info.get("drops"):
            chains[name] = [info["display"], info["drops"]]
        for callee, dropped in info.get("drop_calls", ()):
            target = project.function(callee)
            if target is None or target == name:
                continue
            if dropped and target in factories and name not in chains:
                chains[name] = [info["display"], functions[target]["display"], factories[target]]
            callers.setdefault(target, []).append((name, dropped))
    layer = set(chains)
    while layer:
        added: dict[str, list[str]] = {}
        for done in sorted(layer):
            for caller, _dropped in callers.get(done, ()):
                if caller not in chains and caller not in added:
                    added[caller] = [functions[caller]["display"], *chains[done]]
        chains.update(added)
        layer = set(added)
    return chains


def _to_fixed_point(candidates: dict[str, dict], derive, found: dict[str, str]) -> dict[str, str]:
    """Fills `found` with `derive(info)` for every candidate it is not None for, again and
    again until nothing new is found (a candidate may depend on others found before it)."""
    changed = True
    while changed:
        changed = False
        for name, info in candidates.items():
            if name not in found:
                value = derive(info)
                if value is not None:
                    found[name] = value
                    changed = True
    return found


def _resource_classes(project: _Project, factories: dict[str, str]) -> dict[str, tuple[str, bool]]:
    """Project classes whose `__init__` creates a resource on every instantiation. Not a class
    with a metaclass, `__new__` or a decorator (it may hand out one shared instance)."""
    found: dict[str, tuple[str, bool]] = {}
    for name in project.classes:
        mro = project.mro(name)
        if any(project.classes[klass].get("special") for klass in mro):
            continue
        init = next((f"{klass}.__init__" for klass in mro if f"{klass}.__init__" in project.functions), None)
        if init is None:
            continue
        info = project.functions[init]
        made = info.get("creates")
        if made is None:
            made = next(
                (factories[f] for f in map(project.function, info.get("creates_from", ())) if f in factories), None
            )
        if made is not None:
            found[name] = (made, any(project.classes[klass].get("closes") for klass in mro))
    return found


def _session_aliases(aliases: dict[str, str]) -> list[str]:
    return [name for name, kind in aliases.items() if kind == knowledge.ASYNC_SESSION]


def _attributes(project: _Project) -> dict[str, dict[str, str]]:
    """Class -> the typed attributes it or its project bases declare, the nearest first. (A
    class's facts name only attributes of a shared type: one between it and the declaring base
    that rebinds the name to something else is not seen.)"""
    declaring = {name for name, info in project.classes.items() if info.get("attrs")}
    if not declaring:
        return {}
    found: dict[str, dict[str, str]] = {}
    for name in project.classes:
        mro = project.mro(name)
        if declaring.isdisjoint(mro):
            continue
        merged: dict[str, str] = {}
        for klass in reversed(mro):
            merged.update(project.classes[klass].get("attrs", {}))
        found[name] = merged
    return found


def _methods(project: _Project, interesting: set[str]) -> dict[str, dict[str, str]]:
    """Class -> {method: function} for the interesting methods it has (its own or inherited)."""
    owners = {name.rpartition(".")[0] for name in interesting}
    if not owners & set(project.classes):
        return {}
    defined = project.defined()
    methods: dict[str, dict[str, str]] = {}
    for name in project.classes:
        mro = project.mro(name)
        if not any(klass in owners for klass in mro):
            continue
        seen: set[str] = set()
        for klass in mro:
            for attr in defined.get(klass, ()):
                if attr in seen:
                    continue
                seen.add(attr)
                function = f"{klass}.{attr}"
                if function in interesting:
                    methods.setdefault(name, {})[attr] = function
    return methods


def _with_prefixes(names) -> frozenset:
    """The names, and the modules and packages a module may import to reach them. A bare
    top-level package (`import prefect`) counts only for what it defines itself (`db` for
    `db.get_session` in a flat project): nearly every module of a package imports it."""
    found: set[str] = set()
    for name in names:
        parts = name.split(".")
        for end in range(2, len(parts) + 1):
            found.add(".".join(parts[:end]))
        if len(parts) <= 2:
            found.add(parts[0])
    return frozenset(found)


def _callable_target(name: str, functions: dict, classes: dict) -> tuple[str, tuple[str, ...]] | None:
    """A called name -> (function to follow, extra chain steps shown before it)."""
    if name in functions:
        return name, ()
    if name in classes:
        return f"{name}.__init__", (f"{classes[name]['display']}()",)
    return None


# "Not looked up yet", where None is an answer.
_UNSEEN = object()


def rerun_plan(index: ProjectIndex, results, settings, text) -> dict[str, frozenset[str]]:
    """path -> the project-wide rules to run again on that file with the index (the ones
    enabled for it that may find more there). `text(path)`: the file's text. Importing a
    module that holds a session factory is not using it: a module that never spells one of
    the factories' own names cannot reach them; and each rule may know more exactly where
    the index can reach its findings (`Rule.index_may_change`)."""
    plan: dict[str, frozenset[str]] = {}
    sessions = {
        _spelled(name).rpartition(".")[2]
        for table in (
            index.sessions,
            index.session_params,
            index.session_values(),
            _session_aliases(index.type_aliases),
        )
        for name in table
    }
    types = {
        _spelled(name).rpartition(".")[2]
        for table in (index.returns, index.attributes, index.type_aliases, index.values)
        for name in table
    }
    for result in results:
        if result.facts and not is_deferred(result.facts):
            codes = index.rerun_codes(result.facts) & settings.codes_for(result.path)
            if codes:
                source = text(result.path)  # read once, for every check
                if codes & (SESSION_CODES | TYPE_CODES):
                    spelled = words(source)
                    if sessions.isdisjoint(spelled):
                        codes -= SESSION_CODES
                    if types.isdisjoint(spelled):
                        codes -= TYPE_CODES
                codes = frozenset(code for code in codes if registry.load_rule(code).index_may_change(index, source))
            if (
                not index.session_dependency
                and "ASL401" in settings.codes_for(result.path)
                and any(d.code == "ASL401" for d in result.diagnostics)
            ):
                # The first pass reported a route making its own session; the project
                # provides no session dependency, so the run with the index silences it.
                codes |= {"ASL401"}
            if codes:
                plan[result.path] = codes
    return plan


def merge_rerun(first, again, codes) -> None:
    """Replace the findings of `codes` in the first result by those of the run with the
    index (which sees everything the first saw, and more). `--fix` works file by file,
    without the index: a finding only the index shows is reported without its fix."""
    from dataclasses import replace

    before = {(d.code, d.row, d.col) for d in first.diagnostics if d.code in codes}
    kept = [d for d in first.diagnostics if d.code not in codes]
    for diagnostic in again.diagnostics:
        if diagnostic.code in codes:
            if diagnostic.fix is not None and (diagnostic.code, diagnostic.row, diagnostic.col) not in before:
                diagnostic = replace(diagnostic, fix=None)
            kept.append(diagnostic)
    first.diagnostics = sorted(kept, key=lambda d: d.sort_key)
    first.errors.extend(e for e in again.errors if e not in first.errors)
