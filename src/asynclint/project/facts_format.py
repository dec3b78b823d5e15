"""Facts are small JSON-able dicts so they cache and cross process boundaries; keys with
nothing to say are left out:
    {"version": FACTS_VERSION,
     "module": "shop.helpers",
     "functions": {qualname: {
         "async": bool, "cached": bool, "display": str,
         # a sync function whose decorator runs it in a thread (`@sync_to_async`): its
         # blocking calls block no caller
         "off_loop": bool,
         "blocking": [[code, what], ...],
         # blocking calls under `if p is None:` on parameters: skipped when a call site
         # passes one of them; under `if p:` ("+p"): skipped when it leaves p out (the
         # entry then carries the names as a third item); and how a caller fills the
         # parameters: [[positional...], [keyword-only...]]
         # (calls under a lazy-singleton guard are left out altogether)
         "signature": [[...], [...]],
         # a sync function's project calls: [qualname, [guarding param, ...], [argument, ...]]
         # (`project.arguments`: what it hands each parameter of the callee)
         "passing": [...],
         # async functions: the project calls they await directly; "entry" when a decorator
         # (a route, a registered callback) may call it from outside; "concurrent" when it
         # starts tasks or a server itself; "cli" when it is a command-line command
         "awaits": [qualname, ...], "entry": bool, "concurrent": bool, "cli": bool,
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
         "drops": str, "drop_calls": [[qualname, bool], ...],  # + True: a bare statement
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
     # [[outer, argument position, parameter position], ...], and a runner's "runs": the
     # positions of those it runs as a program's main (`asyncio.run(coro)`, ASL207)
     "spawned": [qualname, ...], "handed": [...], "called": [qualname, ...],
     "asyncio_orm": True,                 # imports SQLAlchemy's/SQLModel's asyncio extension
     "relationships": True,               # may call `relationship()`/`Relationship()` (ASL301)
     "engines": ["in_process", "server"], # what the sync engines it creates talk to (ASL206)
     "untyped_io": ["path", "session"],   # Path/Session I/O in async code on an unknown type
     "type_refs": [qualname, ...],        # project names that may tell that type (annotations,
                                          # base classes)
     "async_calls": [qualname, ...],      # project calls made from async code
     "startup": [qualname, ...],          # functions run at startup/shutdown (`lifespan=`)
     "mains": [qualname, ...],            # coroutine functions run as a program's main
                                          # (`asyncio.run(main())`, `anyio.run(main)`, a
                                          # command-line command: `@cli.command()`)
     "escapes": [qualname, ...]}          # project names used otherwise than awaited from a
                                          # named async function (callbacks, spawns)
"""

from __future__ import annotations

from asynclint.diagnostics import ModuleFacts

# Bumped whenever the shape of the facts changes: facts of another shape are ignored.
FACTS_VERSION = 20


# The facts of a module not wanted before the index exists (`facts.wanted_first`) and not
# parsed for a rule: collected once they are seen to be wanted (`runner._index_on_demand`).
DEFERRED = {"deferred": True}


def is_deferred(facts: ModuleFacts | None) -> bool:
    return facts is not None and facts.get("deferred") is True
