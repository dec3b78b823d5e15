"""ASL503 engine-pool-pre-ping: an SQLAlchemy engine whose pool does not test its connections.

A pooled connection may have been idle for hours; meanwhile the database restarted, failed
over, or a proxy or firewall dropped it. Without `pool_pre_ping=True` the first query on such a
connection fails, and with it the request that got it. With it, the pool pings each connection
at checkout and replaces dead ones.

Flags `create_engine(...)` / `create_async_engine(...)` without a `pool_pre_ping=` argument.
Not flagged: any explicit `pool_pre_ping=` (`False` is a deliberate opt-out, an expression
is configuration); `poolclass=` anything but a queue pool (`NullPool` has nothing to ping,
`StaticPool` and friends are for SQLite and tests; an unknown expression could be either);
a prebuilt `pool=` (`create_engine` raises TypeError for `pool_pre_ping` next to it: the
pool's own `pre_ping=` is the place);
an in-process database, SQLite or DuckDB, with no server to drop a connection (a URL string
starting with `sqlite` or `duckdb`, an f-string or a concatenation starting so, a name bound
to one, anything in the call naming either such as `_sqlite_url(path)`, or
`connect_args={"check_same_thread": ...}`, which only SQLite takes, an engine made in a class
whose name names either (`class SqliteDb`), or a connect listener on
the engine, registered where it is created, that runs `PRAGMA ...`, neither under an `if`);
an engine used once in place, never bound (`create_engine(url).raw_connection()`);
a one-off engine bound to
a local name that the same function disposes (`engine.dispose()`), or that the function only
uses as `engine.attr` outside loops and nested functions (never stored, returned, yielded or
handed on: its pool lives for one call); and calls with a `**kwargs` splat (any option may be
in it).

Fix (safe): add `pool_pre_ping=True` after the last argument (never where `pool=` is given:
such a call is not flagged). Queries and results do not
change; the pool only checks connections before handing them out.
"""

from __future__ import annotations

from collections.abc import Iterator

import libcst as cst

from asynclint import analysis, knowledge
from asynclint.fixes import FixSpec, add_keyword
from asynclint.rule import Rule
from asynclint.rules._resources import FUNCTION_NODES, function_path, one_shot_local, use_of, walk
from asynclint.scope import dotted_name
from asynclint.walk import children

# Pools that hold connections open between checkouts: the ones a ping helps.
_QUEUE_POOLS = frozenset({"QueuePool", "AsyncAdaptedQueuePool"})
_MAX_DEPTH = 4


class EnginePoolPrePing(Rule):
    code = "ASL503"
    name = "engine-pool-pre-ping"
    summary = "SQLAlchemy engine created without `pool_pre_ping=True`"
    tokens = ("create_engine", "create_async_engine")
    fix_applicability = "safe"

    def visit_Call(self, node: cst.Call) -> None:
        ctx = self.ctx
        name = ctx.call_name(node)
        if name not in knowledge.ENGINE_CONSTRUCTORS or analysis.has_star_kwargs(node):
            return
        if analysis.keyword(node, "pool_pre_ping") is not None:
            return  # set on purpose, to True, False or a configured value
        if (
            self._unpooled(node)
            or self._in_process(node)
            or self._sqlite_pragmas(node)
            or self._throwaway(node)
            or one_shot_local(ctx)
            # `create_engine(url).raw_connection()`: an engine never bound to a name, used
            # once in place (a connection factory's new connection each call); nothing can
            # check a connection out of its pool again, so none sits idle there.
            or use_of(function_path(ctx)).kind == "receiver"
        ):
            return
        ctx.report(
            node,
            f"`{_short(name)}(...)` without `pool_pre_ping=True`: a connection dropped while idle in the pool "
            "fails the first query that gets it",
            help="Pass `pool_pre_ping=True`",
            fix=FixSpec(
                "safe", "Add `pool_pre_ping=True`", [(node, add_keyword(node, "pool_pre_ping", cst.Name("True")))]
            ),
        )

    def _unpooled(self, call: cst.Call) -> bool:
        """`poolclass=` given and not known to be a queue pool, or a prebuilt `pool=`
        (`create_engine` rejects `pool_pre_ping` next to it: the pool has its own options)."""
        if analysis.keyword(call, "pool") is not None:
            return True
        arg = analysis.keyword(call, "poolclass")
        if arg is None:
            return False
        name = self.ctx.qualname(arg.value)
        return name is None or name.rsplit(".", 1)[-1] not in _QUEUE_POOLS

    def _throwaway(self, call: cst.Call) -> bool:
        """`engine = create_engine(url)` ... `engine.dispose()` in the same function: a one-off
        engine (a connection check, a migration step) whose connections never sit idle."""
        path = function_path(self.ctx)
        use = use_of(path)
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

    def _sqlite_pragmas(self, call: cst.Call) -> bool:
        """`engine = create_engine(url)` and, in the same function (or at module level for a
        module-level engine), a connect listener on `engine` (or on `engine.sync_engine`)
        that runs `PRAGMA ...` on every new connection: a statement only SQLite accepts, so
        the engine is SQLite whatever its URL says. The listener must be registered outside
        any `if`, and the PRAGMA run outside any `if` (`if engine.dialect.name == "sqlite":`
        says the engine may be something else)."""
        path = function_path(self.ctx)
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
                    if self._connect_listener(decorator.decorator, 2) in names and _runs_pragma(node):
                        return True
            elif isinstance(node, cst.Call) and len(node.args) == 3 and isinstance(node.args[2].value, cst.Name):
                listens.append(node)  # `event.listen(engine, "connect", set_pragmas)`
        for node in listens:
            handler = functions.get(node.args[2].value.value)  # type: ignore[attr-defined]
            if handler is not None and self._connect_listener(node, 3) in names and _runs_pragma(handler):
                return True
        return False

    def _connect_listener(self, expr: cst.BaseExpression, arity: int) -> str | None:
        """The engine named by `event.listens_for(X, "connect")` (arity 2) or
        `event.listen(X, "connect", fn)` (arity 3), with `.sync_engine` dropped from X."""
        if not isinstance(expr, cst.Call) or len(expr.args) != arity:
            return None
        name = self.ctx.call_name(expr) or ""
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

    def _in_process(self, call: cst.Call) -> bool:
        """SQLite, or another database that runs in the process (DuckDB)."""
        # The class it is made in names one: `class SqliteDb:` building its engine from a URL
        # its user gives (`create_engine(db_url)`) is still a SQLite engine.
        if any(isinstance(node, cst.ClassDef) and _names_in_process(node.name.value) for node in self.ctx.ancestors()):
            return True
        # Anything in the call that names one: `_sqlite_url(path)`, `sqlite_connection_factory()`.
        for node in walk(call):
            if node is call.func:
                continue
            if isinstance(node, (cst.Name, cst.SimpleString)) and _names_in_process(node.value):
                return True
        connect_args = analysis.keyword(call, "connect_args")
        if connect_args is not None and isinstance(connect_args.value, cst.Dict):
            for element in connect_args.value.elements:
                key = getattr(element, "key", None)
                if isinstance(key, cst.SimpleString) and key.evaluated_value == "check_same_thread":
                    return True
        url = analysis.keyword(call, "url")
        if url is None and call.args and call.args[0].keyword is None and not call.args[0].star:
            url = call.args[0]
        return url is not None and self._starts_in_process(url.value, 0)

    def _starts_in_process(self, expr: cst.BaseExpression, depth: int) -> bool:
        if depth > _MAX_DEPTH:
            return False
        if isinstance(expr, cst.SimpleString):
            value = expr.evaluated_value
            return isinstance(value, str) and value.lower().startswith(knowledge.IN_PROCESS_DATABASES)
        if isinstance(expr, cst.ConcatenatedString):
            return self._starts_in_process(expr.left, depth + 1)
        if isinstance(expr, cst.FormattedString):
            first = expr.parts[0] if expr.parts else None
            return isinstance(first, cst.FormattedStringText) and first.value.lower().startswith(
                knowledge.IN_PROCESS_DATABASES
            )
        if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, cst.Add):
            return self._starts_in_process(expr.left, depth + 1)
        if isinstance(expr, cst.Name):
            # `DATABASE_URL = "sqlite:///./app.db"` then `create_engine(DATABASE_URL)`.
            found = self.ctx.scope.lookup(expr.value)
            if (
                found is not None
                and found[1]
                and all(b.kind in ("assign", "annassign") and b.value is not None for b in found[1])
            ):
                return all(b.value is not None and self._starts_in_process(b.value, depth + 1) for b in found[1])
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


def _names_in_process(name: str) -> bool:
    lowered = name.lower()
    return any(database in lowered for database in knowledge.IN_PROCESS_DATABASES)


def _short(name: str) -> str:
    return name.rsplit(".", 1)[-1]


RULE = EnginePoolPrePing
