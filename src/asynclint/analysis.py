"""Predicates several rules share that need the context (scopes, resolution).

Static tables belong in `knowledge`; this module answers questions about code:
is this function a FastAPI route handler? is this call spawning a task?
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import NamedTuple, TypeGuard, cast

import libcst as cst

from asynclint import knowledge
from asynclint.context import Context
from asynclint.scope import Scope, dotted_name, last_name
from asynclint.walk import COMPREHENSIONS, nodes, walk


def keyword(call: cst.Call, name: str) -> cst.Arg | None:
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == name:
            return arg
    return None


def argument(call: cst.Call, name: str, position: int | None = None) -> cst.Arg | None:
    """The argument given for the parameter `name`: by keyword, or at `position` (0-based)
    as a plain positional argument (a `*args` splat there gives no one argument)."""
    found = keyword(call, name)
    if found is None and position is not None and len(call.args) > position:
        arg = call.args[position]
        if arg.keyword is None and not arg.star:
            found = arg
    return found


def has_star_kwargs(call: cst.Call) -> bool:
    """A `**kwargs` splat: any keyword may be in it, so the call's options are unknown."""
    return any(arg.star == "**" for arg in call.args)


def is_true(expr: cst.BaseExpression) -> bool:
    return isinstance(expr, cst.Name) and expr.value == "True"


def is_false(expr: cst.BaseExpression) -> bool:
    return isinstance(expr, cst.Name) and expr.value == "False"


def is_string(expr: cst.BaseExpression) -> bool:
    """A string literal: plain, implicitly concatenated, or an f-string."""
    return isinstance(expr, (cst.SimpleString, cst.ConcatenatedString, cst.FormattedString))


# --- Walking the whole module with scopes ---------------------------------------------
# Some questions need the whole module before the traversal reaches the code asking them
# (a function can be defined above the `Depends(f)` that names it); their answers are
# computed once per module and kept in `ctx.cache`.


def walk_with_scopes(ctx: Context, on_node: Callable[[cst.CSTNode, Scope], object]) -> None:
    """Calls `on_node(node, scope)` for every structural node of the module, in source order,
    with the scope it is evaluated in, as the engine's traversal would: a def's decorators and
    defaults in the outer scope, its body inside."""
    scopes = ctx.scopes
    current = [scopes[ctx.module]]

    def enter(node: cst.CSTNode) -> None:
        if type(node) in COMPREHENSIONS and node in scopes:
            current.append(scopes[node])
        on_node(node, current[-1])

    def leave(node: cst.CSTNode) -> None:
        if type(node) in COMPREHENSIONS and node in scopes:
            current.pop()

    def enter_body(owner: cst.CSTNode) -> None:
        current.append(scopes[owner])

    def leave_body(owner: cst.CSTNode) -> None:
        current.pop()

    walk(ctx.module, enter, leave, enter_body, leave_body)


# --- FastAPI: applications, route handlers, dependencies --------------------------------


def _imports(ctx: Context, key: str, wanted: Callable[[str], bool]) -> bool:
    """Does the module import a name whose qualified name is `wanted` (anywhere, in any form)?"""
    if key not in ctx.cache:
        ctx.cache[key] = any(
            binding.kind == "import" and binding.qualname is not None and wanted(binding.qualname)
            for scope in ctx.scopes.values()
            for bindings in scope.bindings.values()
            for binding in bindings
        )
    return bool(ctx.cache[key])


def imports_fastapi(ctx: Context) -> bool:
    """Does the module import `fastapi` (anywhere, in any form)?"""
    return _imports(ctx, "imports_fastapi", lambda name: name == "fastapi" or name.startswith("fastapi."))


def imports_alembic_context(ctx: Context) -> bool:
    """Is the module an Alembic environment (`env.py`): does it import `alembic.context`?"""
    return _imports(ctx, "imports_alembic_context", lambda name: name == "alembic.context")


def is_cli_command(ctx: Context, function: cst.FunctionDef) -> bool:
    """Is `function` a command-line command written as a coroutine: an `async def` decorated
    `@cli.command()` (`@click.command("setup")`, `@app.command()`) in a module that imports a
    command-line framework (`knowledge.CLI_PACKAGES`), or `@app.default` in one that imports
    cyclopts? A chat bot's `@bot.command()`, in a module importing none, is a handler on a
    busy loop."""
    if function.asynchronous is None:
        return False
    names = {last_name(_decorator_callee(d)) for d in function.decorators}
    if not names.isdisjoint(knowledge.CLI_COMMAND_DECORATORS):
        return _imports(ctx, "imports_cli", lambda name: name.partition(".")[0] in knowledge.CLI_PACKAGES)
    return knowledge.CYCLOPTS_DEFAULT_DECORATOR in names and _imports(
        ctx, "imports_cyclopts", lambda name: name.partition(".")[0] == "cyclopts"
    )


def _decorator_callee(decorator: cst.Decorator) -> cst.BaseExpression:
    expr = decorator.decorator
    return expr.func if isinstance(expr, cst.Call) else expr


def lone_main(ctx: Context, function: cst.FunctionDef) -> bool:
    """Is the coroutine function `function` a program's main alone on its loop, as this
    module shows: run by a runner here (`asyncio.run(main())`, `anyio.run(main)`, from the
    code that defines it) or a command-line command, and starting no task, group of tasks or
    server of its own? What blocks there stalls nothing else (ASL207 reads the same across
    modules: `derive.startup_functions`)."""
    key = f"lone_main:{id(function)}"
    if key not in ctx.cache:
        ctx.cache[key] = (
            function.asynchronous is not None and _is_main(ctx, function) and _serves_nothing(ctx, function)
        )
    return bool(ctx.cache[key])


def _is_main(ctx: Context, function: cst.FunctionDef) -> bool:
    """Is the coroutine function a program's main, as this module shows: a command-line
    command, run by a runner here, or run by a decorator of the module on a loop of its own?"""
    return is_cli_command(ctx, function) or _run_as_main(ctx, function) or _run_by_decorator(ctx, function)


def in_opening_of_main(ctx: Context, function: cst.FunctionDef, call: cst.Call) -> bool:
    """Is `call` in the opening of a program's main coroutine (`in_opening`): one run by a
    runner here, a command-line command, or run by a decorator of the module on a loop of
    its own, whatever it starts later? `asyncio.run` makes a new loop with this coroutine as
    its only task; until the coroutine first suspends nothing else can run on the loop, so
    what blocks there delays the program's start and stalls no one. (ASL207 asks the index
    which functions are mains, across modules: `ProjectIndex.mains`.)"""
    return function.asynchronous is not None and in_opening(ctx, function, call) and _is_main(ctx, function)


def in_opening(ctx: Context, function: cst.FunctionDef, call: cst.Call) -> bool:
    """Does `call` run before the coroutine function `function` first suspends or starts a
    task (`_opening`)?"""
    key = f"opening:{id(function)}"
    opening = ctx.cache.get(key)
    if opening is None:
        found: set[int] = set()
        _opening(ctx, function.body.body, found)
        opening = ctx.cache[key] = frozenset(found)
    return id(call) in cast("frozenset[int]", opening)


def _opening(ctx: Context, statements: Sequence[cst.BaseStatement | cst.BaseSmallStatement], found: set[int]) -> bool:
    """Add to `found` the calls in `statements` that run before the first suspension point
    (`await`, `async for`, `async with`) or the first task or group of tasks started (what
    blocks after `create_task(heartbeat())` holds the heartbeat back, which the author meant
    to run beside it); True once one is reached. Both branches of an `if` and the body of a
    `try` or a sync `with` are read up to their first one; a loop that suspends anywhere in
    it ends the opening where it starts (its second round comes after)."""
    for statement in statements:
        if not _ends_opening(ctx, statement):
            found.update(id(node) for node in nodes(statement) if isinstance(node, cst.Call))
            continue
        if isinstance(statement, cst.If) and not _ends_opening(ctx, statement.test):
            found.update(id(node) for node in nodes(statement.test) if isinstance(node, cst.Call))
            _opening(ctx, statement.body.body, found)
            orelse = statement.orelse
            if isinstance(orelse, cst.Else):
                _opening(ctx, orelse.body.body, found)
            elif isinstance(orelse, cst.If):
                _opening(ctx, [orelse], found)
        elif isinstance(statement, cst.Try):
            _opening(ctx, statement.body.body, found)
        elif isinstance(statement, cst.With) and statement.asynchronous is None:
            if not any(_ends_opening(ctx, item) for item in statement.items):
                found.update(id(node) for item in statement.items for node in nodes(item) if isinstance(node, cst.Call))
                _opening(ctx, statement.body.body, found)
        return True
    return False


def _ends_opening(ctx: Context, node: cst.CSTNode) -> bool:
    """Does `node` hold a suspension point of its function (not in a nested def), or a call
    starting a task, a group of tasks or a server?"""
    for found in nodes(node):
        kind = type(found)
        if kind is cst.Await:
            return True
        if kind in (cst.For, cst.With, cst.CompFor) and cast("cst.For | cst.With | cst.CompFor", found).asynchronous:
            return True
        if kind is cst.Call:
            call = cast(cst.Call, found)
            if starts_task(ctx, call) or starts_concurrent_work(call, ctx.call_name(call)):
                return True
    return False


def decorated_main(ctx: Context, function: cst.FunctionDef) -> bool:
    """`lone_main` for the one kind ASL207 cannot learn from the index: a coroutine function
    that a decorator of this module runs on a loop of its own (`_run_by_decorator`)."""
    return function.asynchronous is not None and _run_by_decorator(ctx, function) and _serves_nothing(ctx, function)


def _run_by_decorator(ctx: Context, function: cst.FunctionDef) -> bool:
    """Is `function` decorated by a function of this module that runs what it decorates on
    a loop of its own (`asyncio.run(f(*args))` in its wrapper, as a decorator does that hands
    a heavy route to a thread: `run_in_executor(pool, lambda: asyncio.run(f(request)))`)?
    Wherever that wrapper runs, the body runs alone on the new loop: a running loop refuses
    `asyncio.run`."""
    scope = ctx.scopes.get(function)
    outer = scope.parent if scope is not None else None
    if outer is None:
        return False
    for decorator in function.decorators:
        expr = decorator.decorator
        found = outer.lookup(expr.value) if isinstance(expr, cst.Name) else None
        if found is None:
            continue
        definitions = [binding.node for binding in found[1] if binding.kind != "import"]
        if len(definitions) == 1 and isinstance(definitions[0], cst.FunctionDef):
            if _runs_first_parameter(ctx, definitions[0]):
                return True
    return False


def _runs_first_parameter(ctx: Context, decorator: cst.FunctionDef) -> bool:
    """Does `decorator` (a def of the module), or a def nested in it, always hand the
    decorator's first parameter, or a call of it, to a runner: `return asyncio.run(f(request))`
    (or `anyio.run(f)`) as a statement of that def's own body that nothing returns before?
    A runner under an `if` or `try` is a fallback: prefect-style `sync_compatible` runs the
    coroutine on its own loop only where no loop is running, and hands it back to be
    awaited on the caller's loop otherwise."""
    key = f"runs_first_parameter:{id(decorator)}"
    if key not in ctx.cache:
        params = [*decorator.params.posonly_params, *decorator.params.params]
        first = params[0].name.value if params else None
        # (Names in nested defs resolve through the decorator's scope: the runner is an import.)
        scope = ctx.scopes.get(decorator)
        ctx.cache[key] = first is not None and any(
            isinstance(node, cst.FunctionDef) and _always_runs(ctx, node, first, scope)
            for node in nodes(decorator, into_functions=True)
        )
    return bool(ctx.cache[key])


def _always_runs(ctx: Context, function: cst.FunctionDef, name: str, scope: Scope | None) -> bool:
    """Is a call of a runner with `name` (or `name(...)`) first a statement of `function`'s
    own body, before any `return`?"""
    for statement in function.body.body:
        if isinstance(statement, cst.SimpleStatementLine):
            for small in statement.body:
                value = getattr(small, "value", None)
                if (
                    isinstance(small, (cst.Return, cst.Expr, cst.Assign))
                    and isinstance(value, cst.Call)
                    and value.args
                    and _called_name(value.args[0].value) == name
                    and ctx.call_name(value, scope) in knowledge.RUN_MAIN
                ):
                    return True
        if any(isinstance(node, cst.Return) for node in nodes(statement)):
            return False
    return False


# The last part of every `knowledge.TERMINAL_PROMPTS` name, as a word.
_PROMPT_WORDS = re.compile(
    r"\b(?:{})\b".format("|".join(sorted({name.rpartition(".")[2] for name in knowledge.TERMINAL_PROMPTS})))
)


def reads_terminal(ctx: Context, function: cst.FunctionDef) -> bool:
    """Does the coroutine function `function` itself wait for its user on the terminal
    (`input()`, `Confirm.ask(...)`: `knowledge.TERMINAL_PROMPTS`)? An interactive program's
    loop serves nothing else while it does; what else blocks there stalls no one."""
    if "spells_prompt" not in ctx.cache:
        # Walking every coroutine for its calls cost more than the rest of ASL207's first
        # pass; a module that spells no prompt's name calls none.
        ctx.cache["spells_prompt"] = ctx.text is None or _PROMPT_WORDS.search(ctx.text) is not None
    if not ctx.cache["spells_prompt"]:
        return False
    key = f"reads_terminal:{id(function)}"
    if key not in ctx.cache:
        scope = ctx.scopes.get(function)
        ctx.cache[key] = scope is not None and any(
            isinstance(node, cst.Call) and ctx.call_name(node, scope) in knowledge.TERMINAL_PROMPTS
            for node in nodes(function.body)
        )
    return bool(ctx.cache[key])


def _run_as_main(ctx: Context, function: cst.FunctionDef) -> bool:
    """Does the code that defines `function` (the enclosing function, or the module) hand it
    to a runner: `asyncio.run(setup())`, `anyio.run(setup)`?"""
    owner: cst.CSTNode = ctx.module
    for node in ctx.stack:
        if node is function:
            break
        if isinstance(node, cst.FunctionDef):
            owner = node
    return function.name.value in _run_names(ctx, owner)


def _called_name(value: cst.BaseExpression) -> str | None:
    """`f` for `f` or `f(...)`."""
    value = value.func if isinstance(value, cst.Call) else value
    return value.value if isinstance(value, cst.Name) else None


def _run_names(ctx: Context, owner: cst.CSTNode) -> frozenset[str]:
    """The names `owner` (a function, or the module) hands to a runner anywhere in it:
    `main` in `asyncio.run(main())` or `anyio.run(main)`. Read once per owner: every
    coroutine defined there asks."""
    key = f"run_names:{id(owner)}"
    found = ctx.cache.get(key)
    if found is None:
        names = set()
        for node in nodes(owner, into_functions=True):
            if isinstance(node, cst.Call) and node.args and ctx.call_name(node) in knowledge.RUN_MAIN:
                value = node.args[0].value
                value = value.func if isinstance(value, cst.Call) else value
                if isinstance(value, cst.Name):
                    names.add(value.value)
        found = ctx.cache[key] = frozenset(names)
    return cast("frozenset[str]", found)


def starts_concurrent_work(call: cst.Call, callee: str | None) -> bool:
    """Does this call start work that runs beside the function, other than a task
    (`starts_task` knows those): a group of tasks, a server (`site.start()`,
    `server.serve()`)? `callee`: the call's qualified name."""
    func = call.func
    return callee in knowledge.CONCURRENT_STARTERS or (
        isinstance(func, cst.Attribute) and func.attr.value in knowledge.SERVING_METHODS
    )


def _serves_nothing(ctx: Context, function: cst.FunctionDef) -> bool:
    """Does the coroutine start no task, group of tasks or server of its own?"""
    return not any(
        isinstance(node, cst.Call) and (starts_task(ctx, node) or starts_concurrent_work(node, ctx.call_name(node)))
        for node in nodes(function.body)
    )


def imports_asyncio_orm(ctx: Context) -> bool:
    """Does the module import SQLAlchemy's (or SQLModel's) asyncio extension, anywhere and in
    any form (`from sqlalchemy.ext.asyncio import AsyncSession`, `import sqlalchemy.ext.asyncio`)?"""
    key = "imports_asyncio_orm"
    if key not in ctx.cache:
        found = False
        for scope in ctx.scopes.values():
            for bindings in scope.bindings.values():
                for binding in bindings:
                    if binding.kind != "import":
                        continue
                    if isinstance(binding.node, cst.Import):  # `import a.b.c` binds `a`
                        names = [dotted_name(alias.name) for alias in binding.node.names]
                    else:
                        names = [ctx.resolver.import_target(binding)]
                    if any(name and f"{name}.".startswith(knowledge.ASYNCIO_ORM_MODULES) for name in names):
                        found = True
        ctx.cache[key] = found
    return bool(ctx.cache[key])


def is_app(ctx: Context, expr: cst.BaseExpression, scope: Scope | None = None) -> bool:
    """Evidence that `expr` is a FastAPI/Starlette application or router: bound to
    `FastAPI(...)`/`APIRouter(...)`/`Starlette(...)`, annotated so, or `<app>.router`."""
    if ctx.type_of(expr, scope) in knowledge.APP_CONSTRUCTORS:
        return True
    return (
        isinstance(expr, cst.Attribute)
        and expr.attr.value == "router"
        and ctx.type_of(expr.value, scope) in knowledge.APP_CONSTRUCTORS
    )


def is_route_decorator(ctx: Context, decorator: cst.Decorator, scope: Scope | None = None) -> bool:
    """`@X.get(...)` (or another route method) where X is an app or router; or, in a module
    that imports fastapi, such a decorator whose first argument is a string path and whose
    X is not known to be something else (`@cache.get("key")` on a known cache object)."""
    expr = decorator.decorator
    if not (isinstance(expr, cst.Call) and isinstance(expr.func, cst.Attribute)):
        return False
    if expr.func.attr.value not in knowledge.ROUTE_METHODS:
        return False
    receiver = expr.func.value
    if is_app(ctx, receiver, scope):
        return True
    if not imports_fastapi(ctx) or ctx.type_of(receiver, scope) is not None:
        return False
    first = expr.args[0] if expr.args else None
    return first is not None and first.keyword is None and not first.star and is_string(first.value)


def is_route_handler(ctx: Context, func: cst.CSTNode) -> bool:
    """A FastAPI/Starlette route handler (RULES.md, ASL4xx): a function with a route decorator."""
    if not isinstance(func, cst.FunctionDef):
        return False
    key = "route_handlers"
    known = cast("dict[cst.FunctionDef, bool]", ctx.cache.setdefault(key, {}))  # set only here
    if func not in known:
        scope = ctx.scopes[func].parent  # decorators are evaluated where the def statement is
        known[func] = any(is_route_decorator(ctx, d, scope) for d in func.decorators)
    return known[func]


def function_defs(scope: Scope, name: str) -> list[cst.FunctionDef]:
    """The `def` statements a name refers to as seen from `scope` (empty if it is anything else too)."""
    found = scope.lookup(name)
    if found is None or not found[1] or any(b.kind != "def" for b in found[1]):
        return []
    return [cast(cst.FunctionDef, b.node) for b in found[1]]  # a "def" binding's node is its def


def depends_target(call: cst.Call) -> cst.BaseExpression | None:
    """The dependency of `Depends(f)` / `Depends(dependency=f)` / `Security(f)`."""
    for index, arg in enumerate(call.args):
        if arg.star:
            return None
        if (arg.keyword is None and index == 0) or (arg.keyword is not None and arg.keyword.value == "dependency"):
            return arg.value
    return None


def depends_functions(ctx: Context) -> frozenset[cst.CSTNode]:
    """The functions of this module used as `Depends(f)` (or `Security(f)`) anywhere in it:
    in parameter defaults, `Annotated[...]` aliases, `dependencies=[...]` of a route or router."""
    if "depends_functions" not in ctx.cache:
        found: set[cst.CSTNode] = set()
        short_names = {name.rsplit(".", 1)[-1] for name in knowledge.DEPENDS}

        def on_node(node: cst.CSTNode, scope: Scope) -> None:
            if not isinstance(node, cst.Call):
                return
            func = node.func
            short = last_name(func)
            if short not in short_names or ctx.call_name(node, scope) not in knowledge.DEPENDS:
                return
            target = depends_target(node)
            if isinstance(target, cst.Name):
                found.update(function_defs(scope, target.value))

        walk_with_scopes(ctx, on_node)
        ctx.cache["depends_functions"] = frozenset(found)
    return cast("frozenset[cst.CSTNode]", ctx.cache["depends_functions"])  # set only here


# --- Resources (ASL5xx) --------------------------------------------------------------------


def resource_constructor(ctx: Context, call: cst.Call, scope: Scope | None = None) -> str | None:
    """The qualified name of the resource `call` creates (an engine, pool or client:
    `knowledge.RESOURCE_CONSTRUCTORS` plus the user's `extra-resources`), else None."""
    name = ctx.call_name(call, scope)
    if name is not None and (name in knowledge.RESOURCE_CONSTRUCTORS or name in ctx.settings.extra_resources):
        return name
    return None


class ProjectResource(NamedTuple):
    resource: str  # the resource constructor, e.g. `httpx.AsyncClient`
    label: str  # how the creating call is shown in a message
    instance: bool  # an instance of a project class that owns the resource, not the resource
    closes: bool  # can what the call gives be closed (a class with a close()/aclose()...)?


def project_resource(ctx: Context, call: cst.Call, scope: Scope | None = None) -> ProjectResource | None:
    """A call of the project's own code that creates a resource (project analysis): a
    function that returns a new one on every call (`make_client()`), or a class whose
    `__init__` creates one (`Database(url)`)."""
    project = ctx.project
    if project is None or not (project.resource_factories or project.resource_classes):
        return None
    found = ctx.resolver.project_callee(call, scope or ctx.scope)
    if found is None:
        return None
    shown = dotted_name(call.func) or "call"
    if found[0] in project.resource_factories:
        made = project.resource_factories[found[0]]
        return ProjectResource(made, f"`{shown}(...)` (a new `{made}`)", False, True)
    if found[0] in project.resource_classes:
        made, closes = project.resource_classes[found[0]]
        return ProjectResource(made, f"`{shown}(...)` (its `__init__` creates a `{made}`)", True, closes)
    return None


def project_churn(ctx: Context, call: cst.Call, scope: Scope | None = None) -> list[str] | None:
    """The chain through which a call of the project's own code creates and drops a
    resource on every call (`fetch -> httpx.AsyncClient`), from the project index."""
    project = ctx.project
    if project is None or not project.resource_churn:
        return None
    found = ctx.resolver.project_callee(call, scope or ctx.scope)
    return project.resource_churn.get(found[0]) if found is not None else None


# --- asyncio: event loops, task groups, spawned tasks (ASL1xx, ASL302) ---------------------


def is_event_loop(ctx: Context, expr: cst.BaseExpression, scope: Scope | None = None) -> bool:
    """Evidence that `expr` is an asyncio event loop: `asyncio.get_running_loop()`,
    `get_event_loop()` or `new_event_loop()` called in place or bound to the name, an
    `AbstractEventLoop` annotation; or, by convention, a name or attribute called `loop` or
    ending in `_loop` (`loop`, `self._loop`, `hass.loop`) not known to be something else."""
    kind = ctx.type_of(expr, scope)
    if kind is not None:
        return kind == knowledge.EVENT_LOOP
    if isinstance(expr, cst.Name):
        name = expr.value
    elif isinstance(expr, cst.Attribute):
        name = expr.attr.value
    else:
        return False
    return name == "loop" or name.endswith("_loop")


def is_task_group(ctx: Context, expr: cst.BaseExpression, scope: Scope | None = None) -> bool:
    """`asyncio.TaskGroup()` itself, or a name bound to one (`async with TaskGroup() as tg`,
    a `tg: asyncio.TaskGroup` annotation)."""
    return ctx.type_of(expr, scope) == knowledge.TASK_GROUP


def task_spawn(ctx: Context, call: cst.Call, scope: Scope | None = None) -> str | None:
    """How `call` starts a task: "asyncio" for `asyncio.create_task`/`ensure_future`, "loop"
    for `create_task` on an event loop, "task_group" for `create_task` on a TaskGroup; else None
    (including a project's own function or method that happens to be called `create_task`)."""
    func = call.func
    if isinstance(func, cst.Attribute) and func.attr.value == knowledge.CREATE_TASK_METHOD:
        if is_task_group(ctx, func.value, scope):
            return "task_group"
        if is_event_loop(ctx, func.value, scope):
            return "loop"
    if ctx.call_name(call, scope) in knowledge.SPAWN_FUNCTIONS:
        return "asyncio"
    return None


def starts_task(ctx: Context, call: cst.Call, scope: Scope | None = None) -> bool:
    """Does `call` start its coroutine argument as a task? asyncio's spawns, and for the
    question of task roots (silence only grows) also frameworks' own task starters such as
    Home Assistant's `hass.async_create_task`, and what runs a coroutine as the root of a
    task (`knowledge.ROOT_STARTERS`: `asyncio.run`, a streaming response's body)."""
    func = call.func
    if isinstance(func, cst.Attribute) and func.attr.value.endswith(knowledge.TASK_STARTER_SUFFIXES):
        return True
    return task_spawn(ctx, call, scope) is not None or ctx.call_name(call, scope) in knowledge.ROOT_STARTERS


def started_arguments(call: cst.Call, scope: Scope) -> list[cst.Call]:
    """The coroutine calls a task starter's positional arguments give it (see
    `starts_task`): a call written there (`create_task(f())`), or one bound to a local name
    of the same function, once, and handed on by that name (`streamer = events(q); return
    StreamingResponse(streamer)`)."""
    found = []
    for arg in call.args:
        if arg.star or arg.keyword is not None:
            break
        value: cst.BaseExpression | None = arg.value
        if isinstance(value, cst.Name):
            bound = scope.lookup(value.value)
            if bound is None or bound[0] is not scope or len(bound[1]) != 1 or bound[1][0].kind != "assign":
                continue
            value = bound[1][0].value
        if isinstance(value, cst.Call):
            found.append(value)
    return found


def spawned_call(call: cst.Call) -> cst.BaseExpression | None:
    """The coroutine a spawn call starts: its first positional argument (or `coro=`)."""
    for index, arg in enumerate(call.args):
        if arg.star:
            return None
        if (arg.keyword is None and index == 0) or (
            arg.keyword is not None and arg.keyword.value in ("coro", "coro_or_future")
        ):
            return arg.value
    return None


_SESSION_TYPES = frozenset({knowledge.ASYNC_SESSION, knowledge.SYNC_SESSION})


def session_dependencies(ctx: Context) -> tuple[bool, frozenset[str]]:
    """Does this module provide a FastAPI session dependency: a `Depends(...)` that is the
    default of a parameter annotated with a session, or sits in `Annotated[Session,
    Depends(...)]`, or names a function of the module that returns a session or is a
    generator (the shape of `get_db`)?
    Also the qualified names of the other `Depends(f)` targets (functions of other modules,
    which the project index judges)."""
    key = "session_dependencies"
    if key not in ctx.cache:
        found = False
        others: set[str] = set()
        short_names = {name.rsplit(".", 1)[-1] for name in knowledge.DEPENDS}

        def is_depends(node: cst.CSTNode | None) -> TypeGuard[cst.Call]:
            return (
                isinstance(node, cst.Call)
                and last_name(node.func) in short_names
                and ctx.call_name(node) in knowledge.DEPENDS
            )

        def on_node(node: cst.CSTNode, scope: Scope) -> None:
            nonlocal found
            if found:
                return
            if isinstance(node, cst.Param) and node.annotation is not None and is_depends(node.default):
                found = ctx.annotation_type(node.annotation.annotation, scope) in _SESSION_TYPES
            elif isinstance(node, cst.Subscript) and any(
                isinstance(element.slice, cst.Index) and is_depends(element.slice.value) for element in node.slice
            ):
                found = ctx.annotation_type(node, scope) in _SESSION_TYPES
            elif is_depends(node):
                target = depends_target(node)
                if isinstance(target, cst.Name):
                    defs = function_defs(scope, target.value)
                    if defs:
                        found = any(_gives_session(ctx, fdef) or _is_generator(fdef) for fdef in defs)
                        return
                name = ctx.qualname(target, scope) if target is not None else None
                if name is not None:
                    others.add(name)

        walk_with_scopes(ctx, on_node)
        ctx.cache[key] = (found, frozenset() if found else frozenset(others))
    return ctx.cache[key]  # type: ignore[return-value]


def _is_generator(function: cst.FunctionDef) -> bool:
    """A generator dependency has the shape of `get_db`: its session may come from where
    the types cannot tell, so it counts as one."""
    from asynclint.rules._statements import descendants

    return any(isinstance(node, cst.Yield) for node in descendants(function.body))


def _gives_session(ctx: Context, function: cst.FunctionDef) -> bool:
    """Does the function return or yield a session (by value or return annotation)?"""
    from asynclint.rules._statements import descendants

    scope = ctx.scopes.get(function)
    if scope is None:
        return False
    if function.returns is not None:
        annotation = function.returns.annotation
        if ctx.annotation_type(annotation, scope.parent) in _SESSION_TYPES:
            return True
        if isinstance(annotation, cst.Subscript) and isinstance(annotation.slice[0].slice, cst.Index):
            if ctx.annotation_type(annotation.slice[0].slice.value, scope.parent) in _SESSION_TYPES:
                return True
    for node in descendants(function.body):
        value = node.value if isinstance(node, (cst.Return, cst.Yield)) else None
        if isinstance(value, cst.BaseExpression) and ctx.type_of(value, scope) in _SESSION_TYPES:
            return True
    return False
