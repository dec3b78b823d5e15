"""ASL205 blocking-db-driver: a synchronous database driver used in async code.

`connect()` of psycopg2, psycopg (its sync API), pymysql, MySQLdb,
mysql.connector, oracledb/cx_Oracle and pyodbc, and the commands of a sync Redis
client or of a pymongo `MongoClient`, wait on the database socket while holding
the thread that runs the event loop: every query stops every other request.

A client's type comes from evidence (`ctx.type_of`): `redis.Redis(...)`,
`redis.StrictRedis(...)`, `redis.from_url(...)` or `pymongo.MongoClient(...)`
bound in the function, in a `with`, on `self.x` in any method or at module level,
or an annotation. Creating a client does no I/O and is not flagged, nor are its
helper builders (`pipeline()`, `pubsub()`, `lock()`, `get_database()`, ...) or
`close()`. A pymongo command is usually called on a collection reached from the
client (`client.shop.orders.find_one(...)`, `client["shop"].get_collection("x")`),
so the receiver chain is followed back to the client. `redis.asyncio`, `motor` and
psycopg's async classes resolve to other names and are fine. `sqlite3.connect` opens a file
of a database in the process, no server: ASL204's (opt-in), as file I/O.

No fix: use an async driver, or `asyncio.to_thread`.
"""

from __future__ import annotations

import libcst as cst

from asynclint import knowledge
from asynclint.rules._blocking import BlockingCallRule


class BlockingDbDriver(BlockingCallRule):
    code = "ASL205"
    name = "blocking-db-driver"
    summary = "a synchronous database driver call in async code blocks the event loop"
    # The driver's module must be named in the file for a name to resolve to it.
    tokens = (
        "psycopg",
        "pymysql",
        "MySQLdb",
        "mysql",
        "oracledb",
        "cx_Oracle",
        "pyodbc",
        "redis",
        "Redis",
        "mongo",
        "Mongo",
    )
    calls = knowledge.BLOCKING_DB_CONNECT
    remedy = "Use an async driver (`asyncpg`, `aiosqlite`, `redis.asyncio`, `motor`, ...) or `asyncio.to_thread`"

    def blocking_method(self, node: cst.Call, func: cst.Attribute) -> str | None:
        method = func.attr.value
        receiver = func.value
        # The receiver itself first: a Redis command or a MongoClient method.
        kind = self.ctx.type_of(receiver)
        if kind == knowledge.SYNC_REDIS:
            if method in knowledge.REDIS_NO_IO_METHODS or method in knowledge.REDIS_COMMAND_GROUPS:
                return None
            return f"`.{method}()` on a sync `{kind}`"
        if kind == knowledge.MONGO_CLIENT:
            return None if method in knowledge.MONGO_NO_IO_METHODS else f"`.{method}()` on a `{kind}`"
        if method in knowledge.REDIS_NO_IO_METHODS or method in knowledge.MONGO_NO_IO_METHODS:
            return None
        root = self._client_behind(receiver)
        if root == knowledge.SYNC_REDIS:
            return f"`.{method}()` on a command group of a sync `{root}`"
        if root == knowledge.MONGO_CLIENT:
            return f"`.{method}()` on a database or collection of a `{root}`"
        return None

    def _client_behind(self, receiver: cst.BaseExpression) -> str | None:
        """The sync client a derived receiver comes from: `r.json()` -> Redis;
        `mongo.shop.orders`, `mongo["shop"].get_collection("x")` -> MongoClient."""
        if (
            isinstance(receiver, cst.Call)
            and isinstance(receiver.func, cst.Attribute)
            and receiver.func.attr.value in knowledge.REDIS_COMMAND_GROUPS
            and self.ctx.type_of(receiver.func.value) == knowledge.SYNC_REDIS
        ):
            return knowledge.SYNC_REDIS
        expr = receiver
        for _ in range(4):  # client -> database -> collection (-> sub-collection)
            if isinstance(expr, cst.Call) and isinstance(expr.func, cst.Attribute):
                if expr.func.attr.value not in knowledge.MONGO_NO_IO_METHODS:
                    return None
                expr = expr.func.value
            elif isinstance(expr, cst.Attribute):
                if expr.attr.value in knowledge.MONGO_PROPERTIES or expr.attr.value.startswith("_"):
                    return None
                expr = expr.value
            elif isinstance(expr, cst.Subscript):
                expr = expr.value
            else:
                return None
            if self.ctx.type_of(expr) == knowledge.MONGO_CLIENT:
                return knowledge.MONGO_CLIENT
        return None


RULE = BlockingDbDriver
