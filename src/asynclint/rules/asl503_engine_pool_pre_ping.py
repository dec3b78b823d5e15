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
whose name, or a string constant of whose body, names either (`class SqliteDb`,
`_DIALECT = "sqlite"`), or in a module whose file name does (`storage/sqlite.py`), or a
connect listener on
the engine, registered where it is created, that runs `PRAGMA ...`, neither under an `if`);
an engine used once in place, never bound (`create_engine(url).raw_connection()`);
a one-off engine bound to
a local name that the same function disposes (`engine.dispose()`), or that the function only
uses as `engine.attr` outside loops and nested functions (never stored, returned, yielded or
handed on: its pool lives for one call); an engine made for one run of a one-shot program (in
an Alembic environment, in a function named as a migration, a local only handed to the
coroutine `asyncio.run(...)` runs, or a local of a main coroutine that serves nothing); and
calls with a `**kwargs` splat (any option may be in it).

Fix (safe): add `pool_pre_ping=True` after the last argument (never where `pool=` is given:
such a call is not flagged). Queries and results do not
change; the pool only checks connections before handing them out.
"""

from __future__ import annotations

import libcst as cst

from asynclint import analysis, knowledge
from asynclint.fixes import FixSpec, add_keyword
from asynclint.rule import Rule
from asynclint.rules._engines import in_process, one_off, one_run

# Pools that hold connections open between checkouts: the ones a ping helps.
_QUEUE_POOLS = frozenset({"QueuePool", "AsyncAdaptedQueuePool"})


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
        if self._unpooled(node) or in_process(ctx, node) or one_off(ctx) or one_run(ctx):
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


def _short(name: str) -> str:
    return name.rsplit(".", 1)[-1]


RULE = EnginePoolPrePing
