"""What asynclint knows about the libraries it polices, in one place.

Rules ask questions of these tables instead of carrying their own copies:
which qualified names block, which constructors build which kind of object,
which types are SQLAlchemy sessions, which decorators make a FastAPI route.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable

# --- Blocking calls (ASL201-ASL206): qualified names called directly -------------

BLOCKING_SLEEP = frozenset({"time.sleep"})

_REQUEST_VERBS = ("get", "post", "put", "patch", "delete", "head", "options", "request")
BLOCKING_HTTP = frozenset(
    {f"requests.{verb}" for verb in _REQUEST_VERBS}
    | {f"requests.api.{verb}" for verb in _REQUEST_VERBS}
    | {f"httpx.{verb}" for verb in (*_REQUEST_VERBS, "stream")}
    | {"urllib.request.urlopen", "urllib.request.urlretrieve", "urllib2.urlopen"}
)
# Methods that do network I/O on a sync HTTP client instance.
HTTP_CLIENT_METHODS = frozenset({*_REQUEST_VERBS, "send"})
HTTP_CONNECTION_METHODS = frozenset({"request", "getresponse"})

# Not `subprocess.Popen`: creating one returns at once (a daemon started, a child polled);
# waiting for it blocks (`BLOCKING_SUBPROCESS_METHODS`).
BLOCKING_SUBPROCESS = frozenset(
    {f"subprocess.{name}" for name in ("run", "call", "check_call", "check_output", "getoutput", "getstatusoutput")}
    | {"os.system", "os.popen", "os.wait", "os.wait3", "os.wait4", "os.waitpid", "os.waitid"}
    | {f"os.spawn{suffix}" for suffix in ("l", "le", "lp", "lpe", "v", "ve", "vp", "vpe")}
    | {"os.posix_spawn", "os.posix_spawnp"}
)
# Flags with which those return at once (ASL203 leaves the call alone): `os.waitpid(pid,
# os.WNOHANG)` (also `wait3`/`wait4`/`waitid`) polls, `os.spawnl(os.P_NOWAIT, ...)` starts
# the child and returns its pid, as creating a `Popen` does.
NON_BLOCKING_PROCESS_FLAGS = frozenset({"os.WNOHANG", "os.P_NOWAIT", "os.P_NOWAITO", "os.P_DETACH"})

# `sqlite3.connect` opens a database file in the process: file I/O, as an in-process engine's
# session is for ASL206 (blind reviews: 1 TRUE of 12 judged as a database driver's call).
BLOCKING_FILE_IO = frozenset(
    {"builtins.open", "io.open", "sqlite3.connect"}
    | {f"shutil.{name}" for name in ("copy", "copy2", "copyfile", "copyfileobj", "copytree", "move", "rmtree")}
)
PATH_IO_METHODS = frozenset({"read_text", "read_bytes", "write_text", "write_bytes", "open"})
# Calls that take an open file and do its reads and writes elsewhere: a worker thread
# (`asyncio.to_thread(f.write, data)`, and any `loop.run_in_executor(...)`), or a child
# process (`stdout=f`). Opening a file only to hand it to them is one quick system call.
FILE_HANDOFF_CALLS = frozenset(
    {
        "asyncio.to_thread",
        "anyio.to_thread.run_sync",
        "asyncio.create_subprocess_exec",
        "asyncio.create_subprocess_shell",
        "subprocess.Popen",
    }
)
FILE_HANDOFF_METHODS = frozenset({"run_in_executor"})
# Whole-file and whole-tree operations that neither `aiofiles` nor `anyio.Path` offers: the
# only remedy is a worker thread.
THREAD_ONLY_FILE_IO = frozenset(name for name in BLOCKING_FILE_IO if name.startswith("shutil."))

BLOCKING_DB_CONNECT = frozenset(
    {
        "psycopg2.connect",
        "psycopg.connect",
        "psycopg.Connection.connect",
        "pymysql.connect",
        "MySQLdb.connect",
        "mysql.connector.connect",
        "oracledb.connect",
        "pyodbc.connect",
        "pymysql.Connect",
        "MySQLdb.Connect",
        "cx_Oracle.connect",
    }
)
# Sync Redis client methods that do no I/O (they build helpers); every other method is a command.
REDIS_NO_IO_METHODS = frozenset(
    {
        "pipeline",
        "pubsub",
        "lock",
        "register_script",
        "get_encoder",
        "get_connection_kwargs",
        "set_response_callback",
        "get_retry",
        "set_retry",
        "close",
        "client",
    }
)
# `r.json().get(...)`: these return a command group of the same client; its methods do I/O.
REDIS_COMMAND_GROUPS = frozenset({"json", "ft", "ts", "bf", "cf", "cms", "topk", "tdigest", "graph"})
# pymongo: `client.db.users`, `client["db"]`, `client.get_database("db")` lead to a database or
# collection without I/O; a method called at the end of such a chain is a command.
MONGO_NO_IO_METHODS = frozenset({"get_database", "get_default_database", "get_collection", "with_options", "close"})
# Attributes of a client, database or collection that are plain values, not a database or
# collection: a method called on them is not a command.
MONGO_PROPERTIES = frozenset(
    {
        "name",
        "full_name",
        "database",
        "client",
        "codec_options",
        "read_preference",
        "write_concern",
        "read_concern",
        "options",
        "address",
        "nodes",
        "topology_description",
        "primary",
        "secondaries",
        "arbiters",
        "is_primary",
        "is_mongos",
    }
)

# --- Types: what a constructor or factory call gives -----------------------------
# Canonical type names used by every rule; aliases map onto them.

ASYNC_SESSION = "sqlalchemy.ext.asyncio.AsyncSession"

# A function decorated so is test code wherever it is (`registry.NOT_IN_TESTS`).
TEST_FIXTURE_DECORATORS = frozenset({"pytest.fixture", "pytest_asyncio.fixture"})
# The last part of a decorator's name that marks a class or function as on its way out:
# PEP 702's `warnings.deprecated` (`typing_extensions.deprecated`), the `deprecated` and
# `deprecation` packages, a project's own. Nothing is reported in such code: a blind review
# judged semantic-kernel's five blocking Redis calls in its `@deprecated` memory store NOISE,
# its replacement on `redis.asyncio` already shipped.
DEPRECATED_DECORATOR = "deprecated"
SYNC_SESSION = "sqlalchemy.orm.Session"
ASYNC_SESSIONMAKER = "sqlalchemy.ext.asyncio.async_sessionmaker"
SYNC_SESSIONMAKER = "sqlalchemy.orm.sessionmaker"
# `sessionmaker(class_=AsyncSession)`: a sync-spelled factory that makes async sessions.
ASYNC_SESSIONMAKER_VIA_CLASS = "asynclint.sessionmaker[AsyncSession]"
SYNC_ENGINE = "sqlalchemy.Engine"
ASYNC_ENGINE = "sqlalchemy.ext.asyncio.AsyncEngine"
REQUESTS_SESSION = "requests.Session"
HTTPX_CLIENT = "httpx.Client"
HTTP_CONNECTION = "http.client.HTTPConnection"
POPEN = "subprocess.Popen"
SYNC_REDIS = "redis.Redis"
MONGO_CLIENT = "pymongo.MongoClient"
PATH = "pathlib.Path"
EVENT_LOOP = "asyncio.AbstractEventLoop"
TASK_GROUP = "asyncio.TaskGroup"

TYPE_ALIASES = {
    "sqlalchemy.ext.asyncio.session.AsyncSession": ASYNC_SESSION,
    "sqlmodel.ext.asyncio.session.AsyncSession": ASYNC_SESSION,
    "sqlmodel.ext.asyncio.AsyncSession": ASYNC_SESSION,
    "sqlalchemy.ext.asyncio.session.async_sessionmaker": ASYNC_SESSIONMAKER,
    "sqlalchemy.orm.session.Session": SYNC_SESSION,
    "sqlalchemy.orm.Session": SYNC_SESSION,
    "sqlmodel.Session": SYNC_SESSION,
    "sqlmodel.orm.session.Session": SYNC_SESSION,
    "sqlalchemy.orm.session.sessionmaker": SYNC_SESSIONMAKER,
    "sqlalchemy.engine.Engine": SYNC_ENGINE,
    "sqlalchemy.engine.base.Engine": SYNC_ENGINE,
    "sqlalchemy.ext.asyncio.engine.AsyncEngine": ASYNC_ENGINE,
    "requests.sessions.Session": REQUESTS_SESSION,
    "http.client.HTTPSConnection": HTTP_CONNECTION,
    "redis.StrictRedis": SYNC_REDIS,
    "redis.client.Redis": SYNC_REDIS,
    "redis.client.StrictRedis": SYNC_REDIS,
    "pymongo.mongo_client.MongoClient": MONGO_CLIENT,
    "pathlib.PosixPath": PATH,
    "pathlib.WindowsPath": PATH,
    "pathlib.PurePath": PATH,
    "asyncio.BaseEventLoop": EVENT_LOOP,
    "asyncio.events.AbstractEventLoop": EVENT_LOOP,
    "asyncio.taskgroups.TaskGroup": TASK_GROUP,
}

# Calling one of these qualified names gives a value of that type.
CALL_RESULT_TYPES = {
    "sqlalchemy.create_engine": SYNC_ENGINE,
    "sqlalchemy.engine.create_engine": SYNC_ENGINE,
    "sqlalchemy.ext.asyncio.create_async_engine": ASYNC_ENGINE,
    "sqlmodel.create_engine": SYNC_ENGINE,
    "requests.session": REQUESTS_SESSION,
    "redis.from_url": SYNC_REDIS,
    "redis.client.Redis.from_url": SYNC_REDIS,
    "redis.StrictRedis.from_url": SYNC_REDIS,
    "sqlalchemy.engine_from_config": SYNC_ENGINE,
    "sqlalchemy.engine.engine_from_config": SYNC_ENGINE,
    "redis.Redis.from_url": SYNC_REDIS,
    "asyncio.get_running_loop": EVENT_LOOP,
    "asyncio.get_event_loop": EVENT_LOOP,
    "asyncio.new_event_loop": EVENT_LOOP,
    "pathlib.Path.cwd": PATH,
    "pathlib.Path.home": PATH,
}

# Calling a value of this type gives a value of that type.
INSTANCE_CALL_TYPES = {
    ASYNC_SESSIONMAKER: ASYNC_SESSION,
    ASYNC_SESSIONMAKER_VIA_CLASS: ASYNC_SESSION,
    SYNC_SESSIONMAKER: SYNC_SESSION,
}

# Methods whose result has the receiver's type (Path arithmetic and friends).
PATH_PRESERVING_METHODS = frozenset(
    {"resolve", "absolute", "joinpath", "with_name", "with_suffix", "with_stem", "expanduser", "parent"}
)
# Methods of a Path whose items are Paths (`for p in d.glob("*.py")`).
PATH_ITERATING_METHODS = frozenset({"glob", "rglob", "iterdir"})
# Builtins that hand back the items of what they are given (`sorted(d.glob("*.py"))`).
ITEM_PRESERVING_BUILTINS = frozenset({"builtins.sorted", "builtins.list", "builtins.reversed"})

SESSION_FACTORIES = frozenset({ASYNC_SESSIONMAKER, ASYNC_SESSIONMAKER_VIA_CLASS})


def may_name(text: str, qualified_names: frozenset[str] | tuple[str, ...]) -> bool:
    """Can a module with this text refer to one of these qualified names? Names resolve
    through the module's imports, so it spells the last part (`AsyncClient`) of the name
    and the top-level package (`import httpx`, `from httpx import AsyncClient`), unless it
    imports relatively (the package's own modules: `from ... import create_engine`)."""
    tops = [top for last, top in _spelled_parts(qualified_names) if last in text]
    if not tops:
        return False
    return any(top in text for top in tops) or has_relative_import(text)


@functools.lru_cache(maxsize=64)
def _spelled_parts(qualified_names: frozenset[str] | tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """(last part, top-level package) of each name: the prefilters ask it of every module,
    for the same few sets of names."""
    return tuple((name.rpartition(".")[2], name.partition(".")[0]) for name in qualified_names)


# Prefilter patterns begin with a literal: Python's `re` then scans for it quickly, where a
# leading `\b` or lookbehind makes it try every position (thirty times slower on a corpus).
_RELATIVE_IMPORT = re.compile(r"from\s+\.")


def has_relative_import(text: str) -> bool:
    return _RELATIVE_IMPORT.search(text) is not None


def has_word(pattern: re.Pattern[str], text: str) -> bool:
    """Does `pattern` (a literal or alternation of literals, ending in `\b`) match a whole
    word of `text`? The start of the word is checked here, not by the pattern (see above)."""
    for match in pattern.finditer(text):
        start = match.start()
        if start == 0 or not (text[start - 1].isalnum() or text[start - 1] == "_"):
            return True
    return False


def mentions_session(text: str, session_types: Iterable[str] = ()) -> bool:
    """Can a module know of an AsyncSession by itself (without the project index)? Every
    spelling of one (`AsyncSession`, SQLModel's, `sessionmaker(class_=AsyncSession)`, an
    `async_sessionmaker`, a configured session type) names one of these in the text."""
    return (
        "AsyncSession" in text
        or "async_sessionmaker" in text
        or any(name.rpartition(".")[2] in text for name in session_types)
    )


# Blocking methods by receiver type (ASL202, ASL204).
BLOCKING_HTTP_METHODS = {
    REQUESTS_SESSION: HTTP_CLIENT_METHODS,
    HTTPX_CLIENT: HTTP_CLIENT_METHODS,
    HTTP_CONNECTION: HTTP_CONNECTION_METHODS,
}
BLOCKING_FILE_IO_METHODS = {PATH: PATH_IO_METHODS}
# Methods of a `subprocess.Popen` that wait for the child (ASL203).
BLOCKING_SUBPROCESS_METHODS = {POPEN: frozenset({"wait", "communicate"})}
# What sync SQLAlchemy objects a call can make (ASL206).
SYNC_SQLALCHEMY_TYPES = frozenset({SYNC_ENGINE, SYNC_SESSION})
# Methods of a sync `Session` that query or talk to the database (ASL206); `exec` is SQLModel's.
SYNC_SESSION_IO_METHODS = frozenset(
    {
        "execute",
        "exec",
        "scalar",
        "scalars",
        "get",
        "get_one",
        "query",
        "commit",
        "flush",
        "refresh",
        "rollback",
        "merge",
        "connection",
    }
)

# Coroutine methods of AsyncSession (ASL304).
ASYNC_SESSION_COROUTINES = frozenset(
    {
        "close",
        "commit",
        "connection",
        "delete",
        "execute",
        "flush",
        "get",
        "get_one",
        "invalidate",
        "merge",
        "refresh",
        "reset",
        "rollback",
        "run_sync",
        "scalar",
        "scalars",
        "stream",
        "stream_scalars",
    }
)

# --- ORM relationships (ASL301) -----------------------------------------------------

RELATIONSHIP_FUNCTIONS = frozenset(
    {
        "sqlalchemy.orm.relationship",
        "sqlalchemy.orm.relation",  # the 1.x synonym
        "sqlalchemy.orm._orm_constructors.relationship",
        "sqlalchemy.orm.relationships.relationship",
    }
)
SQLMODEL_RELATIONSHIP = frozenset({"sqlmodel.Relationship", "sqlmodel.main.Relationship"})
# A project importing from one of these uses the ORM under asyncio (ASL301); matched against
# an imported name plus a dot (the module itself, or anything in it).
ASYNCIO_ORM_MODULES = ("sqlalchemy.ext.asyncio.", "sqlmodel.ext.asyncio.")
# `Mapped` variants whose annotation itself chooses the loader strategy.
STRATEGY_ANNOTATIONS = frozenset({"WriteOnlyMapped", "DynamicMapped"})

# --- asyncio spawning and structure ---------------------------------------------

GATHER = "asyncio.gather"
SPAWN_FUNCTIONS = frozenset({"asyncio.create_task", "asyncio.ensure_future"})
# Return annotations of a function that never returns: it always raises.
NEVER_RETURNS = frozenset({"typing.NoReturn", "typing.Never", "typing_extensions.NoReturn", "typing_extensions.Never"})
# Not `concurrent.futures.CancelledError`: since 3.8 that is an unrelated `Exception` subclass.
CANCELLED_ERROR = frozenset({"asyncio.CancelledError", "asyncio.exceptions.CancelledError"})
# ...but raising it is how a coroutine run for a thread (`run_coroutine_threadsafe`) tells that
# thread it was cancelled: a conversion to it keeps the cancellation's meaning (ASL102).
THREAD_CANCELLED_ERROR = frozenset({"concurrent.futures.CancelledError", "concurrent.futures._base.CancelledError"})
# Waits for tasks without raising their exceptions or cancellation.
ASYNCIO_WAIT = frozenset({"asyncio.wait", "asyncio.tasks.wait"})
# Methods that create a task on an event loop or a task group.
CREATE_TASK_METHOD = "create_task"
# For "is this coroutine the root of a task?" (ASL102; silence only grows): any method ending
# so (Home Assistant's `hass.async_create_task`, `async_create_background_task`, a loop's
# `run_until_complete`, whose coroutine is the root of that run).
TASK_STARTER_SUFFIXES = ("create_task", "create_background_task", "run_until_complete")
# ...and calls that run their coroutine argument as the root of a task nothing else awaits:
# `run_coroutine_threadsafe` wraps it in a task on the loop it is given; `asyncio.run` runs it
# as the main task of a loop of its own; a streaming response iterates its body in a task of
# an anyio task group, whose cancel scope cancels again at the response's next await, so a
# body that ends on its cancellation still ends the response cancelled.
ROOT_STARTERS = frozenset(
    {
        "asyncio.run_coroutine_threadsafe",
        "asyncio.tasks.run_coroutine_threadsafe",
        "asyncio.run",
        "asyncio.runners.run",
        "starlette.responses.StreamingResponse",
        "fastapi.responses.StreamingResponse",
        "sse_starlette.EventSourceResponse",
        "sse_starlette.sse.EventSourceResponse",
    }
)


def may_start_task(text: str) -> bool:
    """Can a module with this text start a task, or run a coroutine as the root of one (see
    `analysis.starts_task`)?"""
    return (
        "create_task" in text
        or "ensure_future" in text
        or "create_background_task" in text
        or "run_coroutine_threadsafe" in text
        or "run_until_complete" in text
        or "asyncio.run(" in text
        or "StreamingResponse" in text
        or "EventSourceResponse" in text
    )


# --- FastAPI --------------------------------------------------------------------

APP_CONSTRUCTORS = frozenset(
    {
        "fastapi.FastAPI",
        "fastapi.APIRouter",
        "fastapi.routing.APIRouter",
        "fastapi.applications.FastAPI",
        "starlette.applications.Starlette",
        "starlette.routing.Router",
    }
)
ROUTE_METHODS = frozenset(
    {"get", "post", "put", "patch", "delete", "head", "options", "trace", "api_route", "route", "websocket"}
)
DEPENDS = frozenset({"fastapi.Depends", "fastapi.params.Depends", "fastapi.Security"})
# Code that runs only when an app starts or stops (ASL207 leaves it alone): what an app
# constructor takes as such (FastAPI/Starlette/Litestar `lifespan=`, `on_startup=[...]`), the
# events of `@app.on_event(...)`/`app.add_event_handler(...)`, and aiohttp's signal lists
# (`app.on_startup.append(f)`).
LIFECYCLE_KEYWORDS = frozenset({"lifespan", "on_startup", "on_shutdown"})
LIFECYCLE_EVENTS = frozenset({"startup", "shutdown"})
LIFECYCLE_EVENT_METHODS = frozenset({"on_event", "add_event_handler"})
LIFECYCLE_SIGNALS = frozenset({"on_startup", "on_shutdown", "on_cleanup", "cleanup_ctx"})
# A loop's methods that run one coroutine to completion, and those that then serve for the
# rest of the process: asyncio's `loop.run_until_complete(setup()); loop.run_forever()` and
# tornado's `io_loop.run_sync(setup); io_loop.start()`. A coroutine the same code runs to
# completion on the loop it also serves forever runs once, before serving or after it stops.
RUN_TO_COMPLETION = frozenset({"run_until_complete", "run_sync"})
RUN_FOREVER = frozenset({"run_forever", "start"})
# A program's main coroutine, run to completion on a loop of its own: `asyncio.run(main())`
# (also uvloop's), `anyio.run(main)`, `trio.run(main)`. Nothing else runs on that loop but
# what it starts: a command-line command, a benchmark, a script.
RUN_MAIN = frozenset({"asyncio.run", "asyncio.runners.run", "uvloop.run", "anyio.run", "trio.run"})
# A command-line command written as a coroutine is such a main too: click, typer, asyncclick
# and cyclopts commands (`@cli.command()`), run by a wrapper (`@coro` with `asyncio.run`, a
# synchronizer, the framework's own runner). Told by a `command` decorator in a module that
# imports one of these frameworks: a chat bot's `@bot.command()` is a handler on a busy loop.
CLI_PACKAGES = frozenset({"click", "asyncclick", "rich_click", "typer", "cyclopts"})
CLI_COMMAND_DECORATORS = frozenset({"command"})
# cyclopts also registers an app's default command with `@app.default` (prefect's `deploy`).
CYCLOPTS_DEFAULT_DECORATOR = "default"
# Reading the terminal: a coroutine that waits for its user this way is an interactive
# program's, whose loop serves nothing else meanwhile (blind reviews: every blocking call
# reported beside one was NOISE, open-interpreter's CLI loop, skyvern's ngrok set-up).
TERMINAL_PROMPTS = frozenset(
    {"builtins.input", "getpass.getpass", "click.prompt", "click.confirm", "typer.prompt", "typer.confirm"}
    | {f"rich.prompt.{kind}.ask" for kind in ("Prompt", "Confirm", "IntPrompt", "FloatPrompt")}
)
# ...unless it starts concurrent work itself: tasks, a group of them, a server (then what
# it blocks stalls that work).
CONCURRENT_STARTERS = frozenset(
    {
        "asyncio.gather",
        "asyncio.wait",
        "asyncio.as_completed",
        "asyncio.TaskGroup",
        "asyncio.start_server",
        "asyncio.start_unix_server",
        "anyio.create_task_group",
        "trio.open_nursery",
    }
)
SERVING_METHODS = frozenset(
    {"serve", "serve_forever", "start_serving", "start", "start_soon", "start_server", "create_server", "run_app"}
)
# (A module running one it imports, `from asyncio import run` then `run(main())`, is read
# only when something else asks for it.)
_RUNS_MAIN = re.compile(r"\b(?:asyncio|uvloop|anyio|trio)\.run\(|run_until_complete")


def may_register_lifecycle(text: str) -> bool:
    """Can a module with this text register a function to run at startup or shutdown, or
    run a program's main coroutine?"""
    # The regex only where its literal part is: searching every module's text with it was
    # a few per cent of a cold run.
    runs = (".run(" in text or "run_until_complete" in text) and _RUNS_MAIN.search(text) is not None
    return runs or any(
        word in text
        for word in (
            "lifespan",
            "on_startup",
            "on_shutdown",
            # The methods themselves (`LIFECYCLE_EVENT_METHODS`): `_event` alone also let in
            # every module with a `track_event` or `send_event`, read for nothing.
            *LIFECYCLE_EVENT_METHODS,
            "cleanup_ctx",
            "on_cleanup",
            "run_forever",
            "run_sync",
        )
    )


def may_have_routes(text: str) -> bool:
    """Can a module with this text hold a route handler? Its decorator is on an app or router
    (`APP_CONSTRUCTORS`) or, in a module importing fastapi, looks like one
    (`analysis.is_route_decorator`): either way the module names one of them."""
    return "fastapi" in text or may_name(text, APP_CONSTRUCTORS)


def may_serve_requests(text: str) -> bool:
    """Can code in this module run per request or per iteration (ASL501): a route handler,
    a dependency (`Depends(f)`), or a loop in async code?"""
    return has_async_def(text) or may_have_routes(text) or may_name(text, DEPENDS)


# Async code is the body of an `async def` (`async with` and `async for` are only found
# there): a module without one has none. (A backslash may continue the line between.)
_ASYNC_DEF = re.compile(r"\basync[\s\\]+def\b")


def has_async_def(text: str) -> bool:
    """Can this module hold async code? The word "async" alone is in every module that
    imports asyncio. (Every rule's prefilter asks it of the same text in turn: the last
    answer is kept, for that text object.)"""
    global _last_async_def
    last = _last_async_def
    if last[0] is text:
        return last[1]
    found = "async" in text and _ASYNC_DEF.search(text) is not None
    _last_async_def = (text, found)  # one rebinding: another thread sees the pair or the last
    return found


_last_async_def: tuple[str | None, bool] = (None, False)


# --- Resources (ASL5xx) -----------------------------------------------------------

# Awaited, these wait without blocking: a loop that sleeps on every pass is paced by it (a
# poll, a retry with backoff), not by the requests it serves (ASL501).
ASYNC_SLEEPS = frozenset({"asyncio.sleep", "anyio.sleep", "trio.sleep"})

RESOURCE_CONSTRUCTORS = frozenset(
    {
        "sqlalchemy.create_engine",
        "sqlalchemy.engine.create_engine",
        "sqlmodel.create_engine",
        "sqlalchemy.ext.asyncio.create_async_engine",
        "httpx.AsyncClient",
        "httpx.Client",
        "aiohttp.ClientSession",
        "aiohttp.client.ClientSession",
        "asyncpg.create_pool",
        "asyncpg.connect",
        "redis.asyncio.Redis",
        "redis.asyncio.from_url",
        "redis.asyncio.client.Redis",
        "motor.motor_asyncio.AsyncIOMotorClient",
    }
)
ENGINE_CONSTRUCTORS = frozenset(
    {
        "sqlalchemy.create_engine",
        "sqlalchemy.engine.create_engine",
        "sqlmodel.create_engine",
        "sqlalchemy.ext.asyncio.create_async_engine",
    }
)
# (A context manager's exit called by hand, `await self.client.__aexit__(None, None, None)`,
# closes it as leaving `async with` would.)
CLOSE_METHODS = frozenset({"close", "aclose", "dispose", "terminate", "__exit__", "__aexit__"})
# Closing the attribute closes its owner: `engine.sync_engine.dispose()` disposes the
# AsyncEngine's pool.
CLOSED_THROUGH_ATTRIBUTES = frozenset({"sync_engine"})
# Iterating one of these is a retry loop: it ends at the first attempt that does not raise.
RETRYING_ITERATORS = frozenset(
    {
        "tenacity.AsyncRetrying",
        "tenacity.Retrying",
        "tenacity.asyncio.AsyncRetrying",
        "stamina.retry_context",
    }
)
# Clients that run on a transport, connector or pool they are given: `httpx.AsyncClient(transport=)`,
# `aiohttp.ClientSession(connector=)`, `redis.asyncio.Redis(connection_pool=)` (which then
# leaves the pool open when it closes). The pool is the transport's, connector's or pool's.
POOL_ARGUMENTS = frozenset({"transport", "connector", "connection_pool"})
# Transports that call an app in the same process: they open no connections.
IN_PROCESS_TRANSPORTS = frozenset({"httpx.ASGITransport", "httpx.WSGITransport", "httpx.MockTransport"})
# Transports and connectors bound to one Unix socket, by the argument naming the socket
# (position, keyword): a client on one whose socket the call chooses talks to that one
# destination (a per-replica tunnel), with no TCP or TLS handshake to save by sharing (ASL501).
UNIX_SOCKET_TRANSPORTS = {
    "httpx.AsyncHTTPTransport": (None, "uds"),
    "httpx.HTTPTransport": (None, "uds"),
    "aiohttp.UnixConnector": (0, "path"),
    "aiohttp.connector.UnixConnector": (0, "path"),
}
# Decorators that run the function's body in a thread and hand the caller an awaitable:
# calling it blocks nothing (ASL207 does not follow it).
OFF_LOOP_DECORATORS = frozenset(
    {
        "tornado.concurrent.run_on_executor",
        "asgiref.sync.sync_to_async",
        "channels.db.database_sync_to_async",
        "asyncer.asyncify",
    }
)
# Decorators that memoise a function: what it creates is built once per argument set
# (`cached_property`: once per instance).
CACHING_DECORATORS = frozenset(
    {
        "functools.lru_cache",
        "functools.cache",
        "functools.cached_property",
        "async_lru.alru_cache",
        "cachetools.cached",
        "cachetools.func.lru_cache",
        "cachetools.func.ttl_cache",
        "aiocache.cached",
    }
)
# A memoising decorator we do not list, named as those are: a project's own drop-in for
# `lru_cache` (cognee's `closing_lru_cache`), `timed_lru_cache`, `async_ttl_cache`, `memoize`.
_MEMO_SUFFIXES = ("lru_cache", "ttl_cache")
_MEMO_NAMES = frozenset({"memoize", "memoized"})


def caches(decorator: str | None) -> bool:
    """Does the decorator with this qualified name memoise the function it wraps?"""
    if decorator is None:
        return False
    if decorator in CACHING_DECORATORS:
        return True
    last = decorator.rpartition(".")[2].lower()
    return last.endswith(_MEMO_SUFFIXES) or last in _MEMO_NAMES


def canonical(qualname: str | None) -> str | None:
    if qualname is None:
        return None
    return TYPE_ALIASES.get(qualname, qualname)


# --- Project-wide analysis: sessions and resources across modules ----------------------
# Types the resolver gives calls of the project's own session factories (see `project`):
# `async with f() as s` enters a session; `await f()` gives one.
SESSION_CONTEXT = "asynclint.context[AsyncSession]"
SESSION_AWAITABLE = "asynclint.awaitable[AsyncSession]"
# `async for s in f()`: an async generator of sessions (a FastAPI dependency such as `get_db`).
SESSION_ITERATOR = "asynclint.iterator[AsyncSession]"
ASYNC_CONTEXT_MANAGER_DECORATORS = frozenset({"contextlib.asynccontextmanager"})
# Databases that run inside the process (the URL's scheme starts so): no server, no network,
# nothing to drop a pooled connection (ASL503).
IN_PROCESS_DATABASES = ("sqlite", "duckdb")
# `-> AsyncIterator[AsyncSession]`: an `@asynccontextmanager` function yields a session (or,
# undecorated, an async generator of them).
ASYNC_ITERATOR_TYPES = frozenset(
    {
        f"{module}.{name}"
        for module in ("typing", "typing_extensions", "collections.abc")
        for name in ("AsyncIterator", "AsyncGenerator", "AsyncIterable")
    }
)
# `def f() -> AsyncContextManager[AsyncSession]`: `async with f() as s` gives a session.
ASYNC_CONTEXT_MANAGER_TYPES = frozenset(
    {"typing.AsyncContextManager", "typing_extensions.AsyncContextManager", "contextlib.AbstractAsyncContextManager"}
)
# Module-level values whose type other modules learn from the project index.
SHARED_VALUE_TYPES = frozenset({ASYNC_SESSIONMAKER, ASYNC_SESSIONMAKER_VIA_CLASS, SYNC_SESSIONMAKER, ASYNC_SESSION})
# Types other modules learn from a project function's return annotation (`-> Path`), an
# instance attribute of a project class (`self.path: Path` in a base class), or a type alias
# (`SessionDep = Annotated[Session, Depends(get_session)]`): evidence for ASL204 and ASL206.
SHARED_RETURN_TYPES = frozenset({PATH, SYNC_SESSION})
SHARED_ATTRIBUTE_TYPES = frozenset({PATH})
SHARED_ALIAS_TYPES = frozenset({ASYNC_SESSION, SYNC_SESSION})
PROPERTY_DECORATORS = frozenset({"builtins.property", "functools.cached_property"})
# Decorators that keep a function's parameters as they are written (positional arguments
# of a call still line up with them); any other decorator may change the signature.
SIGNATURE_KEEPING_DECORATORS = frozenset(
    {
        "builtins.staticmethod",
        "builtins.classmethod",
        "abc.abstractmethod",
        "typing.override",
        "typing_extensions.override",
        "functools.cache",
        "functools.lru_cache",
        "typing.overload",
    }
)
# Words in the name of a method or function that closes what it is given or owns.
CLOSING_WORDS = ("close", "dispose", "shutdown", "cleanup", "teardown", "terminate")


def says_it_closes(name: str) -> bool:
    """Does a function's or method's name say it closes something (`aclose`, `shutdown_pool`,
    `_close_clients`)?"""
    lowered = name.lower()
    return any(word in lowered for word in CLOSING_WORDS)


# Types asynclint knows to be something other than an AsyncSession: a name holding one is
# never taken for a session because it is passed to an `AsyncSession` parameter.
NOT_SESSION_TYPES = frozenset(
    {
        SYNC_SESSION,
        ASYNC_SESSIONMAKER,
        SYNC_SESSIONMAKER,
        ASYNC_SESSIONMAKER_VIA_CLASS,
        SYNC_ENGINE,
        ASYNC_ENGINE,
        REQUESTS_SESSION,
        HTTPX_CLIENT,
        HTTP_CONNECTION,
        SYNC_REDIS,
        MONGO_CLIENT,
        POPEN,
        PATH,
        EVENT_LOOP,
        TASK_GROUP,
        SESSION_CONTEXT,
        SESSION_AWAITABLE,
        SESSION_ITERATOR,
    }
    | RESOURCE_CONSTRUCTORS
    | APP_CONSTRUCTORS
)


def is_other_than_session(type_name: str | None) -> bool:
    """Is `type_name` known to be something other than an AsyncSession?"""
    if type_name is None or type_name == ASYNC_SESSION:
        return False
    return type_name in NOT_SESSION_TYPES or type_name.startswith("builtins.")
