"""Which SQLAlchemy engines talk to a database in the process (SQLite, DuckDB): no server
to drop a pooled connection (ASL503), and a query is local file I/O, not a round trip
(ASL206, by the project's engines)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING

import libcst as cst

from asynclint import analysis, knowledge
from asynclint.rules._resources import FUNCTION_NODES, function_path, local_binding, one_shot_local, use_of
from asynclint.scope import dotted_name
from asynclint.walk import children
from asynclint.walk import nodes as walk

if TYPE_CHECKING:
    from asynclint.context import Context

_MAX_DEPTH = 4


def in_process(ctx: Context, call: cst.Call) -> bool:
    """Is the engine `call` creates (`create_engine(...)`, at the node the visit is at) one of
    an in-process database: by its URL, its options, the class it is made in, the test of
    the `if` it is made under, or a connect listener that runs a `PRAGMA`?"""
    return _named_in_process(ctx, call) or _under_in_process_test(ctx) or _sqlite_pragmas(ctx, call)


def database_of(ctx: Context, call: cst.Call) -> str | None:
    """What the sync engine `call` creates talks to, "in_process" or "server"; None for a
    one-off engine, which backs no session (the project's facts:
    `ProjectIndex.in_process_engines`)."""
    if one_off(ctx):
        return None
    return "in_process" if in_process(ctx, call) else "server"


def one_off(ctx: Context) -> bool:
    """Is the engine created at the node the visit is at used for one call's work and gone:
    never bound, used in place (`create_engine(url).raw_connection()`); bound to a local
    name the function disposes (`engine.dispose()`: a connection check, a migration step);
    or one that the function only uses as `engine.attr` (`with engine.connect() as c:` in
    Alembic's `env.py`), never stored, returned or handed on? Its pool lives for that call:
    no connection sits idle in it, and no session of the application is bound to it."""
    path = function_path(ctx)
    use = use_of(path)
    if use.kind == "receiver" or one_shot_local(ctx):
        return True
    if not isinstance(path[0], FUNCTION_NODES) or use.kind != "target":
        return False
    names = {t.value for t in use.targets if isinstance(t, cst.Name)}
    return any(
        isinstance(node, cst.Attribute)
        and node.attr.value == "dispose"
        and isinstance(node.value, cst.Name)
        and node.value.value in names
        for node in walk(path[0].body, into_functions=True)
    )


def one_run(ctx: Context) -> bool:
    """Is the engine created at the node the visit is at made for one run of a one-shot
    program, not for a server's life: in an Alembic environment (a module importing
    `alembic.context`: each migration command runs it once), in a function whose name says
    it migrates (`migrate`, `run_migrations_online`), or bound to a local name that is only
    handed to a coroutine run to completion (`asyncio.run(init_db(engine))`), or a local of
    a coroutine this module runs so (`asyncio.run(setup())`) that serves nothing itself?
    Its pool lives for one command: no connection sits idle in it long enough to drop."""
    if any(isinstance(node, cst.FunctionDef) and "migrat" in node.name.value.lower() for node in ctx.stack):
        return True
    if analysis.imports_alembic_context(ctx):
        return True
    bound = local_binding(ctx)  # a global or an attribute may outlive the run
    if bound is None:
        return False
    function, target = bound
    return _only_run_to_completion(ctx, function, target.value) or analysis.lone_main(ctx, function)


def _only_run_to_completion(ctx: Context, function: cst.FunctionDef, name: str) -> bool:
    """Is every use of the local `name` (but its binding) an argument of a call that a
    runner runs to completion: `asyncio.run(init_db(engine))`?"""
    run_arguments: set[cst.CSTNode] = set()
    uses = 0
    for node in walk(function.body, into_functions=True):
        if isinstance(node, cst.Call) and ctx.call_name(node) in knowledge.RUN_MAIN and node.args:
            inner = node.args[0].value
            if isinstance(inner, cst.Call):
                run_arguments.update(arg.value for arg in inner.args)
        elif isinstance(node, cst.Name) and node.value == name:
            uses += 1
    handed = sum(1 for arg in run_arguments if isinstance(arg, cst.Name) and arg.value == name)
    return handed > 0 and uses == handed + 1  # the binding, and the arguments


def _sqlite_pragmas(ctx: Context, call: cst.Call) -> bool:
    """`engine = create_engine(url)` and, in the same function (or at module level for a
    module-level engine), a connect listener on `engine` (or on `engine.sync_engine`)
    that runs `PRAGMA ...` on every new connection: a statement only SQLite accepts, so
    the engine is SQLite whatever its URL says. The listener must be registered outside
    any `if`, and the PRAGMA run outside any `if` (`if engine.dialect.name == "sqlite":`
    says the engine may be something else)."""
    path = function_path(ctx)
    use = use_of(path)
    if use.kind != "target":
        return False
    names = {dotted_name(t) for t in use.targets} - {None}
    if not names:
        return False
    body = path[0].body if isinstance(path[0], cst.FunctionDef) else path[0]
    functions: dict[str, cst.FunctionDef] = {}
    listens: list[cst.Call] = []
    for node in _unconditional(body):
        if isinstance(node, cst.FunctionDef):
            functions[node.name.value] = node
            for decorator in node.decorators:
                if _connect_listener(ctx, decorator.decorator, 2) in names and _runs_pragma(node):
                    return True
        elif isinstance(node, cst.Call) and len(node.args) == 3 and isinstance(node.args[2].value, cst.Name):
            listens.append(node)  # `event.listen(engine, "connect", set_pragmas)`
    for node in listens:
        handler = functions.get(node.args[2].value.value)  # type: ignore[attr-defined]
        if handler is not None and _connect_listener(ctx, node, 3) in names and _runs_pragma(handler):
            return True
    return False


def _connect_listener(ctx: Context, expr: cst.BaseExpression, arity: int) -> str | None:
    """The engine named by `event.listens_for(X, "connect")` (arity 2) or
    `event.listen(X, "connect", fn)` (arity 3), with `.sync_engine` dropped from X."""
    if not isinstance(expr, cst.Call) or len(expr.args) != arity:
        return None
    name = ctx.call_name(expr) or ""
    wanted = "listens_for" if arity == 2 else "listen"
    if not (name.startswith("sqlalchemy.") and name.rsplit(".", 1)[-1] == wanted):
        return None
    kind = expr.args[1].value
    if not (isinstance(kind, cst.SimpleString) and kind.evaluated_value in ("connect", "first_connect")):
        return None
    target = expr.args[0].value
    if isinstance(target, cst.Attribute) and target.attr.value == "sync_engine":
        target = target.value
    return dotted_name(target)


def _under_in_process_test(ctx: Context) -> bool:
    """Made where an `if` says the database runs in the process: in the body of `if
    is_sqlite():`, `if url.startswith("sqlite")`, `if dialect == "sqlite":`, or in the
    `else` of `if not is_sqlite():`, `if dialect != "sqlite":`."""
    child: cst.CSTNode | None = None
    for node in ctx.ancestors():
        if isinstance(node, cst.If) and child is not None:
            if (node.body is child and _says_in_process(node.test, True)) or (
                node.orelse is child and _says_in_process(node.test, False)
            ):
                return True
        child = node
    return False


def _says_in_process(test: cst.BaseExpression, holds: bool) -> bool:
    """Does `test`, true (`holds`) or false, say the database runs in the process?"""
    if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
        return _says_in_process(test.expression, not holds)
    if isinstance(test, cst.BooleanOperation):
        if not holds:
            return False  # which side was false is not known
        sides = (_says_in_process(test.left, True), _says_in_process(test.right, True))
        return any(sides) if isinstance(test.operator, cst.And) else all(sides)
    if isinstance(test, cst.Comparison):
        # `dialect == "sqlite"` when true; `dialect != "sqlite"` when false.
        same = (cst.Equal, cst.In, cst.Is) if holds else (cst.NotEqual, cst.NotIn, cst.IsNot)
        if not all(isinstance(target.operator, same) for target in test.comparisons):
            return False
    elif not holds:
        return False
    return _mentions_in_process(test)


def _named_in_process(ctx: Context, call: cst.Call) -> bool:
    """SQLite, or another database that runs in the process (DuckDB)."""
    # The class it is made in names one: `class SqliteDb:` building its engine from a URL
    # its user gives (`create_engine(db_url)`) is still a SQLite engine; so is one whose
    # own constants do (`_DIALECT = "sqlite"`, `_DB_NAME = "run_metadata.sqlite"`).
    if any(isinstance(node, cst.ClassDef) and _class_names_in_process(node) for node in ctx.ancestors()):
        return True
    # So does the module's file: `storage/agent/sqlite.py` is the SQLite back end of a
    # storage layer that has others beside it (`postgres.py`).
    if _names_in_process(os.path.splitext(os.path.basename(ctx.path))[0]):
        return True
    # Anything in the call that names one: `_sqlite_url(path)`, `sqlite_connection_factory()`.
    if _mentions_in_process(call, skip=call.func):
        return True
    connect_args = analysis.keyword(call, "connect_args")
    if connect_args is not None and isinstance(connect_args.value, cst.Dict):
        for element in connect_args.value.elements:
            key = getattr(element, "key", None)
            if isinstance(key, cst.SimpleString) and key.evaluated_value == "check_same_thread":
                return True
    url = analysis.argument(call, "url", 0)
    return url is not None and _starts_in_process(ctx, url.value, 0)


def _starts_in_process(ctx: Context, expr: cst.BaseExpression, depth: int) -> bool:
    if depth > _MAX_DEPTH:
        return False
    if isinstance(expr, cst.SimpleString):
        value = expr.evaluated_value
        return isinstance(value, str) and value.lower().startswith(knowledge.IN_PROCESS_DATABASES)
    if isinstance(expr, cst.ConcatenatedString):
        return _starts_in_process(ctx, expr.left, depth + 1)
    if isinstance(expr, cst.FormattedString):
        first = expr.parts[0] if expr.parts else None
        return isinstance(first, cst.FormattedStringText) and first.value.lower().startswith(
            knowledge.IN_PROCESS_DATABASES
        )
    if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, cst.Add):
        return _starts_in_process(ctx, expr.left, depth + 1)
    if isinstance(expr, cst.Name):
        # `DATABASE_URL = "sqlite:///./app.db"` then `create_engine(DATABASE_URL)`.
        found = ctx.scope.lookup(expr.value)
        if (
            found is not None
            and found[1]
            and all(b.kind in ("assign", "annassign") and b.value is not None for b in found[1])
        ):
            return all(b.value is not None and _starts_in_process(ctx, b.value, depth + 1) for b in found[1])
    return False


_CONDITIONAL = (cst.If, cst.IfExp, cst.Match)


def _unconditional(body: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """The nodes of `body` that run whenever it runs: not under an `if` or `match`, not in
    nested functions or classes (a nested def itself is yielded, not its body)."""
    todo: list[cst.CSTNode] = [body]
    while todo:
        node = todo.pop()
        if isinstance(node, _CONDITIONAL):
            continue
        yield node
        if node is not body and isinstance(node, (*FUNCTION_NODES, cst.ClassDef)):
            continue
        todo.extend(children(node))


def _runs_pragma(function: cst.FunctionDef) -> bool:
    """A `"PRAGMA ..."` string in the function, outside any `if`."""
    for node in _unconditional(function.body):
        if isinstance(node, cst.SimpleString):
            value = node.evaluated_value
            if isinstance(value, str) and value.lstrip().upper().startswith("PRAGMA "):
                return True
    return False


def _class_names_in_process(node: cst.ClassDef) -> bool:
    """Does the class's name, or a string constant assigned in its body, name an in-process
    database?"""
    if _names_in_process(node.name.value):
        return True
    for statement in node.body.body:
        for small in statement.body if isinstance(statement, cst.SimpleStatementLine) else ():
            if isinstance(small, (cst.Assign, cst.AnnAssign)) and isinstance(small.value, cst.SimpleString):
                value = small.value.evaluated_value
                if isinstance(value, str) and _names_in_process(value):
                    return True
    return False


def _mentions_in_process(root: cst.CSTNode, skip: cst.CSTNode | None = None) -> bool:
    """Does a name or a string in `root` (but the node `skip` itself) name an in-process
    database?"""
    return any(
        node is not skip and isinstance(node, (cst.Name, cst.SimpleString)) and _names_in_process(node.value)
        for node in walk(root)
    )


def _names_in_process(name: str) -> bool:
    lowered = name.lower()
    return any(database in lowered for database in knowledge.IN_PROCESS_DATABASES)
