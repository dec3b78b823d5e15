"""`ProjectIndex`, what project-wide analysis tells the rules, and `IndexBuild`, which builds it
from the facts and updates it as modules change."""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import TYPE_CHECKING, Any

from asynclint import knowledge
from asynclint.diagnostics import ModuleFacts
from asynclint.project import derive
from asynclint.project.facts_format import FACTS_VERSION
from asynclint.project.families import (
    BLOCKING_CODES,
    ORM_CODES,
    RESOURCE_CODES,
    SESSION_CODES,
    TASK_CODES,
)
from asynclint.project.joined import Joined, join
from asynclint.project.spelling import holding, spelled

# Receivers of unknown type in async code (`facts["untyped_io"]`): whose I/O method it is.
_UNTYPED_IO_CODES = {"path": "ASL204", "session": "ASL206"}

if TYPE_CHECKING:
    from asynclint.config import Settings
    from asynclint.rule import Rule

# A function's parameters annotated `AsyncSession`: (((position or -1, name), ...), binding,
# decorated); see `ProjectIndex.session_params`.
SessionParams = tuple[tuple[tuple[int, str], ...], str, bool]


@dataclass
class ProjectIndex:
    """What project-wide analysis tells the rules.

    - `blocking`: project function or class -> the chain showing why calling it blocks (ASL207).
    - `guards`: for those of them that block only under `if p is None:` on parameters:
      (signature, ((parameters, chain), ...)): a call site that passes one of an item's
      parameters does not run it.
    - `startup`: async functions that run only when an app starts or stops: the lifespan, the
      startup/shutdown handlers, a coroutine run to completion on a loop that then serves for
      good (`facts.FactsCollector._run_before_serving`), a program's main coroutine alone on
      its loop (`asyncio.run(main())`: facts' `mains`), and what only they await.
    - `mains`: a program's main coroutines, run by a runner or as a command-line command and
      awaited by no coroutine, whatever they start: the opening of each, before it first
      suspends, runs alone on a new loop (ASL207).
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
    - `raisers`: project functions annotated `-> NoReturn` (or `Never`): a handler that
      calls one (`_raise_redacted(err)`) re-raises (ASL102).
    - `task_roots`: project coroutine functions only ever started as tasks (by a task
      starter or a spawn helper of the project), never called otherwise (ASL102).
    - `asyncio_orm`: some module imports SQLAlchemy's (or SQLModel's) asyncio extension, so
      the project's ORM models are loaded under asyncio (ASL301).
    - `in_process_engines`: the project creates sync engines, and every one of them is of a
      database in the process (SQLite, DuckDB): a sync session's query is local file I/O
      there, not a round trip to a server (ASL206).
    - `returns`: sync project function -> the type its return annotation names, for the
      types of `knowledge.SHARED_RETURN_TYPES` (`def data_dir() -> Path`).
    - `attributes`: project class -> {attribute: type} that it or a base class declares or
      assigns to `self` (`knowledge.SHARED_ATTRIBUTE_TYPES`), the nearest class first.
    Re-exported names (`from .impl import helper` in a package) are keys too.
    """

    blocking: dict[str, list[str]] = field(default_factory=dict)
    guards: dict[str, derive.Guards] = field(default_factory=dict)
    startup: frozenset[str] = frozenset()
    mains: frozenset[str] = frozenset()
    sessions: dict[str, str] = field(default_factory=dict)
    session_params: dict[str, SessionParams] = field(default_factory=dict)
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
    session_names: frozenset[str] = frozenset()
    param_names: frozenset[str] = frozenset()
    resource_names: frozenset[str] = frozenset()
    type_names: frozenset[str] = frozenset()  # ... and `returns`, `attributes`, `type_aliases`
    param_functions: frozenset[str] = frozenset()  # the short names of `session_params` functions
    asyncio_orm: bool = False
    in_process_engines: bool = False
    task_roots: frozenset[str] = frozenset()
    raisers: frozenset[str] = frozenset()
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
            or self.in_process_engines
            or self.task_roots
            or self.raisers
        )

    def attribute_type(self, owner: str, name: str) -> str | None:
        """The type of `obj.name` for an instance of the project class `owner`, when known."""
        return self.attributes.get(owner, {}).get(name)

    def rerun_codes(self, facts: ModuleFacts) -> frozenset[str]:
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
        if self.raisers and not self.raisers.isdisjoint(facts.get("async_calls", ())):
            codes |= TASK_CODES  # a handler may re-raise through one
        untyped = facts.get("untyped_io", ())
        if self.type_names and untyped and any(name in self.type_names for name in names):
            # Path I/O is ASL204's, Session I/O ASL206's: the other rule has nothing to gain.
            codes |= {_UNTYPED_IO_CODES[kind] for kind in untyped if kind in _UNTYPED_IO_CODES}
        return frozenset(codes)

    def wants(self, rule: type[Rule], text: str, settings: Settings) -> bool:
        """The token prefilter of a rule run with the index: a name from another module
        (`make_client()`, `get_db()`) can create a resource or a session without any of the
        rule's own tokens in the text; the other rules keep their prefilter."""
        return bool(rule.wants_with_index(text, settings))

    def names(self) -> dict[str, frozenset[str]]:
        """The last part of every session and resource name the index knows -> where it is
        held, each as `holding`: the top-level package, a dot, and the module or class
        holding it (`shop.db` for `shop.api.db.get_db`). A module can neither use these nor
        add to them without spelling such a name and, since names resolve through imports,
        its module or class and its top-level package (`from shop.api.db import get_db`,
        `from shop.api import db` ... `db.get_db()`), or importing relatively (`from . import
        get_db`) inside the same top-level package: `spelling.names_any`. (A model `Run` of
        one application does not send every module of another that says `run` and `Run`, or
        imports relatively, to be read.) (Blocking chains are followed from the calls
        instead: `wanted_calls`.) A function deemed to run only at startup is in too: a
        module awaiting it from elsewhere would say otherwise."""
        # (A task root: a module calling it otherwise would make it no root. `-> Path`
        # functions and Path attributes are not among them: a module that spells none of
        # ASL204's calls cannot gain a finding from them; one that uses them is found through
        # its calls and `type_refs` instead. Nor `raisers`: async code calling one has the
        # runner read its module already, as a blocking chain's call does.)
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
            self.mains,
        )
        found: dict[str, set[str]] = {}
        for table in tables:
            for name in table:
                holder, _, last = spelled(name).rpartition(".")
                found.setdefault(last, set()).add(holding(holder))
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
    def build(cls, all_facts: list[ModuleFacts]) -> ProjectIndex:
        return IndexBuild(all_facts).index

    @classmethod
    def _build(cls, project: Joined, targets: dict[str, derive.Targets], all_facts: list[ModuleFacts]) -> ProjectIndex:
        functions, exports, values, aliases = project.functions, project.exports, project.values, project.aliases
        index = cls()
        index.blocking, index.guards = derive.chains(project, targets)
        index.startup, index.mains = derive.startup_functions(project, all_facts)
        index.sessions = derive.session_givers(project, values)
        index.session_params = {
            name: (
                tuple((position, param) for position, param in info["params"]),
                info.get("bind", "function"),
                bool(info.get("decorated")),
            )
            for name, info in functions.items()
            if info.get("params")
        }
        index.resource_factories = derive.resource_factories(project)
        index.resource_classes = derive.resource_classes(project, index.resource_factories)
        index.resource_churn = derive.resource_churn(project, index.resource_factories)
        index.returns = {name: info["returns"] for name, info in functions.items() if "returns" in info}
        index.attributes = derive.attributes(project)
        interesting = {
            *index.sessions,
            *index.session_params,
            *index.resource_factories,
            *index.resource_churn,
            *index.returns,
        }
        index.methods = derive.methods(project, interesting)
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
        factory_keys = [*index.sessions, *index.session_values(), *derive.session_aliases(index.type_aliases)]
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
            set(derive.with_prefixes(keys)) for keys in (factory_keys, param_keys, resource_keys, type_keys)
        )
        # What a call site may name: the definition, or a re-export of it.
        tables: tuple[dict[str, Any], ...] = (
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
        engines = {kind for f in current for kind in f.get("engines", ())}
        index.in_process_engines = engines == {"in_process"}
        index.task_roots = derive.task_roots(project, current)
        raisers = {name for name, info in functions.items() if info.get("never_returns")}
        if raisers:
            raisers |= {alias for alias in exports if resolve(alias) in raisers}
        index.raisers = frozenset(raisers)
        index.session_dependency = derive.session_dependency(project, index, current)
        index.type_names = frozenset(type_names)
        return index


# What `ProjectIndex.build` reads of a module's facts besides its functions.
INDEXED_MODULE_KEYS = (
    "classes",
    "exports",
    "values",
    "aliases",
    "startup",
    "mains",
    "escapes",
    "spawned",
    "called",
    "handed",
    "asyncio_orm",
    "engines",
    "session_dependency",
    "depends",
)


class IndexBuild:
    """A project index with what it was built from, to update it when a module's facts
    change only in what its functions call (`blocking`, `passing`, and the `signature` the
    guards read): the blocking chains are derived again from the
    call targets kept (those of the changed functions followed again), and the rest of the
    index is kept. Anything else changed
    needs `IndexBuild(all_facts)` again. (The language server, between keystrokes.)"""

    # What of a function's facts only the blocking chains depend on (and, through a sync
    # function's calls, which functions run only at startup: checked in `update`).
    _CALL_KEYS = frozenset({"blocking", "passing", "signature"})

    def __init__(self, all_facts: list[ModuleFacts], index: ProjectIndex | None = None) -> None:
        """`index`: the index of these facts, known already (a run's record): not built
        again. (Then `update` cannot tell whether a name was resolved through an import its
        edit adds or takes away: an update of module-level imports needs a build.)"""
        self._project = join(all_facts)
        self._followed: dict[str, Any] = {}
        self._targets = derive.call_targets(self._project, self._followed)
        self.index = index if index is not None else ProjectIndex._build(self._project, self._targets, all_facts)
        self._reexports: list[tuple[str, str]] | None = None

    def update(self, old: ModuleFacts, new: ModuleFacts) -> bool:
        """The module these facts describe changed from `old` to `new` (both in the facts
        the index was built from, in the same place): True when `index` is now the index of
        the facts with `new`, False (nothing changed here) when it must be built again."""
        imports = self._library_imports(old.get("exports", {}), new.get("exports", {}))
        changed = self._changed_functions(old, new) if imports is not None else None
        if imports is None or changed is None:
            return False
        project, index = self._project, self.index
        functions = project.functions
        # Where two modules define the same name the last one's facts count (`join`): a
        # function this module does not define in the end changes nothing.
        effective = [name for name, info in old.get("functions", {}).items() if functions.get(name) is info]
        changed = [name for name in changed if functions.get(name) is old["functions"][name]]
        if index.startup or index.mains:
            # A sync caller keeps a coroutine function out of `startup` and `mains`: which
            # ones it calls must stay the same.
            for name in changed:
                if not functions[name]["async"]:
                    before = {project.function(call) for call in derive.project_calls(old["functions"][name])}
                    after = {project.function(call) for call in derive.project_calls(new["functions"][name])}
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
            if derive.runs_its_calls(info):
                self._targets[name] = derive.targets_of(project, info, self._followed)
        blocking, guards = derive.chains(project, self._targets)
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

    def _changed_functions(self, old: ModuleFacts, new: ModuleFacts) -> list[str] | None:
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
    sets = {
        "startup",
        "mains",
        "session_names",
        "param_names",
        "resource_names",
        "type_names",
        "param_functions",
        "task_roots",
        "raisers",
    }
    for name in sets:
        data[name] = frozenset(data[name])
    data["asyncio_orm"] = bool(data["asyncio_orm"])
    data["in_process_engines"] = bool(data["in_process_engines"])
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


def changed_names(old: ProjectIndex | None, new: ProjectIndex | None) -> set[str]:
    """The last parts of the names whose entry in the project index differs (every table)."""
    if old is None or new is None:
        return {"*"} if old is not new else set()
    names: set[str] = set()
    for item in fields(new):
        before, after = getattr(old, item.name), getattr(new, item.name)
        if before == after:
            continue
        if isinstance(after, bool):
            return {"*"}  # `asyncio_orm`, `session_dependency`...: every open file may differ
        if isinstance(after, dict):
            keys = {key for key in before.keys() | after.keys() if before.get(key) != after.get(key)}
        else:
            keys = set(before) ^ set(after)
        for key in keys:
            holder, _, last = key.rpartition(".")
            names.add(last)
            if last.startswith("__") and holder:
                names.add(holder.rpartition(".")[2])  # `Tx.__init__` is spelled `Tx(...)`
    return names
