"""What the project index derives from the joined facts: which sync functions block and
through which chain, which run only at startup, which give a session or create a resource,
which coroutines are only ever started as tasks. Each is computed to a fixed point over the
project's call graph."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, cast

from asynclint import knowledge
from asynclint.diagnostics import ModuleFacts
from asynclint.project.arguments import bind as arguments_bind
from asynclint.project.arguments import inherited
from asynclint.project.facts_format import FACTS_VERSION
from asynclint.project.joined import FunctionFacts, Joined

if TYPE_CHECKING:
    from asynclint.project.index import ProjectIndex

# For a function that blocks only under `if p is None:` on parameters: (its signature,
# ((the parameters a path is skipped for, the chain it shows), ...)); see `ProjectIndex.guards`.
Guards = tuple[tuple[tuple[str, ...], tuple[str, ...]], tuple[tuple[tuple[str, ...], list[str]], ...]]


def session_dependency(project: Joined, index: ProjectIndex, all_facts: list[ModuleFacts]) -> bool:
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


# A sync function's calls that run project code: [(function, chain steps shown before it,
# the call's guard, its arguments as `project.arguments` records them or None where the
# facts do not say), ...].
Targets = list[tuple[str, tuple[str, ...], tuple[str, ...], tuple[str, ...] | None]]


def runs_its_calls(info: FunctionFacts) -> bool:
    """Does calling this function run its body (and its blocking calls) on the caller's
    thread, every time: sync, not memoised, not run in a thread by its decorator?"""
    return not info["async"] and not info["cached"] and not info.get("off_loop", False)


def project_calls(info: FunctionFacts, guarded: bool = False) -> list[str]:
    """The project functions a sync function calls on every call, and with `guarded` also
    those it calls under a parameter's guard (its `passing`)."""
    return [cast(str, entry[0]) for entry in info.get("passing", ()) if guarded or not entry[1]]


def call_targets(project: Joined, followed: dict[str, Any]) -> dict[str, Targets]:
    """Sync, uncached project function -> what its calls run. `followed`: called name -> what
    it runs, filled on the way (most names are called from many places, and most are
    libraries' names, which lead nowhere)."""
    return {
        name: targets_of(project, info, followed) for name, info in project.functions.items() if runs_its_calls(info)
    }


def targets_of(project: Joined, info: FunctionFacts, followed: dict[str, Any]) -> Targets:
    functions, classes, resolve = project.functions, project.classes, project.resolve
    found: Targets = []
    # Those made on every call first, as the chain shown takes the first that blocks.
    calls = sorted(
        ((call, params, tuple(arguments)) for call, params, arguments in info.get("passing", ())),
        key=lambda c: bool(c[1]),
    )
    for call, params, arguments in calls:
        target = followed.get(call, _UNSEEN)
        if target is _UNSEEN:
            target = followed[call] = callable_target(resolve(call), functions, classes)
        if target is not None:
            found.append((target[0], target[1], tuple(params), arguments))
    return found


def chains(project: Joined, targets: dict[str, Targets]) -> tuple[dict[str, list[str]], dict[str, Guards]]:
    """The blocking chains (and their guards) from the functions' call targets."""
    functions, classes = project.functions, project.classes
    chains: dict[str, list[str]] = {}
    # Direct blockers first, then their sync callers, one layer of calls at a time: each
    # caller takes the chain through its first callee known to block in the layer before,
    # so the chain shown is a shortest one and does not depend on the order of the facts.
    # A call made only when a parameter is left out counts here (some call site may leave
    # it out); the call sites that pass it are told apart by `guards`.
    for name, info in functions.items():
        if runs_its_calls(info) and info["blocking"]:
            first = next((entry for entry in info["blocking"] if len(entry) == 2), info["blocking"][0])
            chains[name] = [info["display"], first[1]]
    callers: dict[str, list[str]] = {}
    for name, found in targets.items():
        if name in chains:
            continue
        for target, _, _, _ in found:
            called_by = callers.get(target)
            if called_by is None:
                callers[target] = [name]
            else:
                called_by.append(name)
    layer = set(chains)
    while layer:
        reached = {caller for done in layer for caller in callers.get(done, ()) if caller not in chains}
        added = {}
        for name in sorted(reached):  # in order: `guards` reads each layer's in turn
            for target, steps, _, _ in targets[name]:
                if target in chains and target != name:
                    added[name] = [functions[name]["display"], *steps, *chains[target]]
                    break
        chains.update(added)
        layer = set(added)
    guards: dict[str, Guards] = {}
    for name in _callees_first(chains, targets):
        guarded = _guards(name, functions[name], targets.get(name, []), chains, guards)
        if guarded is not None:
            guards[name] = guarded
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
                signature, paths = guards[init]
                guards[name] = (signature, tuple((guard, [shown, *chain]) for guard, chain in paths))
    return blocking, guards


def _callees_first(chains: dict[str, list[str]], targets: dict[str, Targets]) -> list[str]:
    """The blocking functions, each after the blocking functions it calls (depth first, in
    the order of `chains`, then of its calls); in a cycle, the one reached first comes
    last. Not the order of `chains` by layers: a caller may reach the blocking call through
    one callee as soon as another callee does (mage-ai's `fetch` calls `Git.get_manager`
    and `get_username`, which calls it too), and its guards need both callees' first."""
    order: list[str] = []
    seen: set[str] = set()
    for root in chains:
        if root in seen:
            continue
        seen.add(root)
        stack = [(root, iter(targets.get(root, ())))]
        while stack:
            name, calls = stack[-1]
            for target, _, _, _ in calls:
                if target in chains and target not in seen:
                    seen.add(target)
                    stack.append((target, iter(targets.get(target, ()))))
                    break
            else:
                order.append(name)
                stack.pop()
    return order


# Each guarded path of a helper is a path of each caller: along a call graph of many
# branches their number grows with every layer. Past this many, a function's calls are all
# taken to run the chain shown (and reported, as before guards were read).
MAX_GUARDED_PATHS = 64


def _guards(
    name: str, info: FunctionFacts, found: Targets, chains: dict[str, list[str]], guards: dict[str, Guards]
) -> Guards | None:
    """A blocking function's paths with their guards, where a call may not run the chain
    `chains` shows: all of them are guarded (by its own checks on parameters, or by what it
    hands the guarded helpers it calls: `project.arguments`), or its arguments leave out
    the path that chain takes. Then a call site's arguments choose the chain it runs, if
    any (`ProjectIndex.guards`); those run on every call first. None: every call runs the
    chain shown."""
    display = info["display"]
    items = [(tuple(entry[2]) if len(entry) > 2 else (), [display, entry[1]]) for entry in info["blocking"]]
    for target, steps, guard, arguments in found:
        if target not in chains or target == name:
            continue
        if target not in guards or arguments is None:  # blocks on every call (or not known yet: as if it did)
            items.append((guard, [display, *steps, *chains[target]]))
            continue
        signature, paths = guards[target]
        bound = arguments_bind(arguments, signature)
        for path_guard, chain in paths:
            marks = inherited(path_guard, bound)
            if marks is not None:
                items.append(((*guard, *marks), [display, *steps, *chain]))
    if "signature" not in info or len(items) > MAX_GUARDED_PATHS:
        return None
    shown = chains[name]
    if any(not guard and chain == shown for guard, chain in items):
        return None
    positional, keyword_only = info["signature"]
    return (tuple(positional), tuple(keyword_only)), tuple(sorted(items, key=lambda item: bool(item[0])))


def startup_functions(project: Joined, all_facts: list[ModuleFacts]) -> tuple[frozenset[str], frozenset[str]]:
    """Async functions run only at startup or shutdown: the ones registered as such, a
    program's main coroutine (`asyncio.run(main())`) that starts no tasks or server of its
    own and that no coroutine of the project awaits and nothing hands on, and, to a fixed
    point, those that only they await (not decorated, handed on, spawned, or called from
    sync code: any of those may run them while the app serves). And the program's mains
    alone at their start, whatever they start later (`ProjectIndex.mains`)."""
    functions = project.functions
    current = [facts for facts in all_facts if facts.get("version") == FACTS_VERSION]
    startup = {found for facts in current for found in map(project.function, facts.get("startup", ())) if found}
    mains = {found for facts in current for found in map(project.function, facts.get("mains", ())) if found}
    # ... also what a runner of the project is handed (`run_async(deploy())`, where
    # `def run_async(coro): return asyncio.run(coro)`).
    runners = {name: set(info["runs"]) for name, info in functions.items() if info.get("runs")}
    if runners:
        for facts in current:
            for outer, position, inner in facts.get("handed", ()):
                if position in runners.get(project.function(outer) or "", ()):
                    found = project.function(inner)
                    if found:
                        mains.add(found)
    if not startup and not mains:
        return frozenset(), frozenset()
    escapes = {
        project.function(name) or project.resolve(name) for facts in current for name in facts.get("escapes", ())
    }
    awaited_by: dict[str, set[str]] = {}
    function = project.function
    for name, info in functions.items():
        # A sync caller hands the coroutine on (`asyncio.run(f())`): not startup-only.
        caller = name if info["async"] else ""
        for call in info.get("awaits", ()) if info["async"] else project_calls(info):
            target = function(call)
            if target is not None:
                by = awaited_by.get(target)
                if by is None:
                    awaited_by[target] = {caller}
                else:
                    by.add(caller)
    # A main coroutine runs alone on its loop, unless it starts tasks or a server itself;
    # awaited by a coroutine (or started, handed on), it may run beside anything.
    # A command-line command is called by its framework, and its name, a command object once
    # decorated, is handed on to register it (`cli.add_command(setup)`): neither runs it elsewhere.
    alone = frozenset(
        name
        for name in mains
        if functions[name]["async"]
        and (functions[name].get("cli") or (not functions[name].get("entry") and name not in escapes))
        and awaited_by.get(name, set()) <= {""}
    )
    startup |= {name for name in alone if not functions[name].get("concurrent")}
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
    return frozenset(startup), alone


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


def session_givers(project: Joined, values: dict[str, str]) -> dict[str, str]:
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

    def gives_session(info: FunctionFacts) -> str | None:
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


def task_roots(project: Joined, all_facts: list[ModuleFacts]) -> frozenset[str]:
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


def resource_factories(project: Joined) -> dict[str, str]:
    """Project functions that return a new resource on every call, to a fixed point."""
    factories: dict[str, str] = {}
    candidates = {
        name: info
        for name, info in project.functions.items()
        if info.get("via") in ("call", "await") and info.get("gives") != "session" and not info["cached"]
    }

    def creates(info: FunctionFacts) -> str | None:
        made = info.get("gives")
        for callee, _awaited in info.get("from", ()):
            function = project.function(callee)
            if function not in factories:
                return None
            made = made or factories[function]
        return made

    return _to_fixed_point(candidates, creates, factories)


def resource_churn(project: Joined, factories: dict[str, str]) -> dict[str, list[str]]:
    """Project functions each call of which creates and drops a resource, with the chain:
    one that does it itself, or drops what a factory returns, then their callers, one layer
    of calls at a time (as `chains`), so the chain shown is a shortest one."""
    functions = project.functions
    chains: dict[str, list[str]] = {}
    callers: dict[str, list[tuple[str, bool]]] = {}
    for name, info in functions.items():
        if info["cached"]:
            continue
        if info.get("drops"):
            chains[name] = [info["display"], info["drops"]]
        for callee, dropped, *bare in info.get("drop_calls", ()):
            target = project.function(callee)
            if target is None or target == name:
                continue
            if bare and functions[target]["async"]:
                continue  # `refresh()` not awaited: the coroutine is dropped, its body never runs
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


def _to_fixed_point(
    candidates: dict[str, FunctionFacts], derive: Callable[[FunctionFacts], str | None], found: dict[str, str]
) -> dict[str, str]:
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


def resource_classes(project: Joined, factories: dict[str, str]) -> dict[str, tuple[str, bool]]:
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


def session_aliases(aliases: dict[str, str]) -> list[str]:
    return [name for name, kind in aliases.items() if kind == knowledge.ASYNC_SESSION]


def attributes(project: Joined) -> dict[str, dict[str, str]]:
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


def methods(project: Joined, interesting: set[str]) -> dict[str, dict[str, str]]:
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


def with_prefixes(names: Iterable[str]) -> frozenset[str]:
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


def callable_target(
    name: str, functions: dict[str, FunctionFacts], classes: dict[str, dict[str, Any]]
) -> tuple[str, tuple[str, ...]] | None:
    """A called name -> (function to follow, extra chain steps shown before it)."""
    if name in functions:
        return name, ()
    if name in classes:
        return f"{name}.__init__", (f"{classes[name]['display']}()",)
    return None


# "Not looked up yet", where None is an answer.
_UNSEEN = object()
