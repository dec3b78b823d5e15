"""ASL503's safe fix, called for real: every `create_engine`/`create_async_engine` call the fix
rewrites must be one SQLAlchemy accepts (no TypeError, no ArgumentError).

Each rewritten call is taken from the fixed text (the ASL503 fix fixtures and generated
variants), its arguments evaluated (literals as written; a name or expression that cannot be
evaluated here by a placeholder of the type that keyword takes) and passed to SQLAlchemy's own
function. Creating an engine connects to nothing: it only loads the dialect and its driver, so
the URL is a placeholder with a driver the test extras install (pg8000, asyncpg)."""

from __future__ import annotations

import ast
import itertools

import pytest
from fixture_format import FIXTURES
from helpers import settings_for
from sqlalchemy import create_engine
from sqlalchemy import pool as sa_pool
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import create_async_engine

from asynclint.config import Settings
from asynclint.fixer import fix_text

SYNC_URL = "postgresql+pg8000://app@db/app"
ASYNC_URL = "postgresql+asyncpg://app@db/app"
# What a keyword whose value is a name or an expression stands for, when it cannot be evaluated.
PLACEHOLDERS = {
    "pool_size": 5,
    "max_overflow": 5,
    "pool_recycle": 3600,
    "pool_timeout": 30,
    "echo": True,
    "echo_pool": True,
    "pool_pre_ping": True,
    "connect_args": {},
    "isolation_level": "READ COMMITTED",
}
ASL503 = Settings(select=("ASL503",))


def _imports(tree: ast.Module) -> dict[str, str]:
    names = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                names[alias.asname or alias.name] = f"{node.module}.{alias.name}"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                names[alias.asname or alias.name.split(".")[0]] = (
                    alias.name if alias.asname else alias.name.split(".")[0]
                )
    return names


def _callee(call: ast.Call, imports: dict[str, str]) -> str | None:
    func = call.func
    if isinstance(func, ast.Name):
        return imports.get(func.id)
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id in imports:
        return f"{imports[func.value.id]}.{func.attr}"
    return None


def rewritten_calls(before: str, after: str) -> list[tuple[str, ast.Call]]:
    """(callee, call) for each call of the fixed text that the fix changed: the fix adds a
    keyword and no call, so the calls of both texts pair up in walk order."""
    old, new = ast.parse(before), ast.parse(after)
    olds = [n for n in ast.walk(old) if isinstance(n, ast.Call)]
    news = [n for n in ast.walk(new) if isinstance(n, ast.Call)]
    assert len(olds) == len(news)
    imports = _imports(new)
    found = []
    for was, now in zip(olds, news, strict=True):
        if ast.dump(was) != ast.dump(now):
            callee = _callee(now, imports)
            assert callee and callee.rsplit(".", 1)[-1] in (
                "create_engine",
                "create_async_engine",
            ), ast.unparse(now)
            found.append((callee, now))
    return found


def call_for_real(callee: str, call: ast.Call) -> None:
    """Call SQLAlchemy's function with the call's arguments; raises what SQLAlchemy raises."""
    is_async = callee.endswith("create_async_engine")
    url = ASYNC_URL if is_async else SYNC_URL
    kwargs = {}
    for keyword in call.keywords:
        assert keyword.arg is not None, "a **splat is never flagged, so never rewritten"
        name = keyword.arg
        if name == "url":
            continue
        if name == "pool":
            # A prebuilt pool: of the kind each function takes.
            kind = sa_pool.AsyncAdaptedQueuePool if is_async else sa_pool.QueuePool
            kwargs[name] = kind(lambda: None)
        elif name == "poolclass":
            kwargs[name] = getattr(sa_pool, ast.unparse(keyword.value).rsplit(".", 1)[-1])
        else:
            try:
                kwargs[name] = ast.literal_eval(keyword.value)
            except ValueError:
                assert name in PLACEHOLDERS, f"add a placeholder for `{name}=`"
                kwargs[name] = PLACEHOLDERS[name]
    function = create_async_engine if is_async else create_engine
    engine = function(url, **kwargs)
    (engine.sync_engine if is_async else engine).dispose()


def assert_fix_accepted(before: str, after: str) -> int:
    calls = rewritten_calls(before, after)
    for callee, call in calls:
        try:
            call_for_real(callee, call)
        except (TypeError, ArgumentError) as error:
            pytest.fail(f"the fix wrote a call SQLAlchemy rejects: {ast.unparse(call)}: {error}")
    return len(calls)


def _fix_fixtures():
    """The fixtures that expect a finding, so a fix to check (not those of clauses alone)."""
    return sorted(
        p
        for p in (FIXTURES / "ASL503").glob("*.py")
        if not p.name.endswith(".fixed.py") and "# error: ASL503" in p.read_text(encoding="utf-8")
    )


@pytest.mark.parametrize("path", _fix_fixtures(), ids=lambda p: p.name)
def test_every_fixed_fixture_call_is_accepted_by_sqlalchemy(path):
    text = path.read_text(encoding="utf-8")
    outcome = fix_text(text, str(path), settings_for(text, default_code="ASL503"), unsafe=False)
    assert assert_fix_accepted(text, outcome.text) > 0


_CALLEES = [
    ("from sqlalchemy import create_engine", "create_engine", "QueuePool"),
    ("import sqlalchemy as sa", "sa.create_engine", "QueuePool"),
    (
        "from sqlalchemy.ext.asyncio import create_async_engine",
        "create_async_engine",
        "AsyncAdaptedQueuePool",
    ),
]
_URLS = [
    '"postgresql://app@db/app"',
    "DATABASE_URL",
    'url="postgresql://app@db/app"',
    "settings.database_url",
]
_OPTIONS = [
    "echo=True",
    "pool_size=5",
    "max_overflow=POOL_OVERFLOW",
    "pool_recycle=3600",
    "poolclass={queue}",
    "pool=POOL",
    "connect_args={}",
    "pool_timeout=30",
]


def _variants():
    for (imports, callee, queue), url in itertools.product(_CALLEES, _URLS):
        for count in range(3):
            for options in itertools.combinations(_OPTIONS, count):
                args = [url, *(o.replace("{queue}", queue) for o in options)]
                yield imports, callee, queue, args


def _render(imports: str, callee: str, queue: str, args: list[str], layout: int) -> str:
    if layout == 0:
        call = f"{callee}({', '.join(args)})"
    else:
        inner = "".join(f"\n    {a}," for a in args)
        call = f"{callee}({inner if layout == 1 else inner[:-1]}\n)"
    return (
        f"{imports}\nfrom sqlalchemy.pool import {queue}\n\n"
        f"POOL = {queue}(lambda: None)\nPOOL_OVERFLOW = 5\n\nengine = {call}\n"
    )


def test_generated_calls_fixed_are_accepted_by_sqlalchemy():
    rewritten = untouched_with_pool = 0
    for number, (imports, callee, queue, args) in enumerate(_variants()):
        text = _render(imports, callee, queue, args, layout=number % 3)
        fixed = fix_text(text, "variant.py", ASL503, unsafe=False).text
        if fixed == text:
            untouched_with_pool += any(a.startswith("pool=") for a in args)
            continue
        rewritten += assert_fix_accepted(text, fixed)
        assert not any(a.startswith("pool=") for a in args), fixed
    assert rewritten > 100 and untouched_with_pool > 10


def test_the_check_catches_pool_pre_ping_next_to_a_prebuilt_pool():
    # What the check is for: had the fix added `pool_pre_ping=True` next to `pool=`,
    # SQLAlchemy would have rejected the call, and so would this test.
    before = "from sqlalchemy import create_engine\n\nengine = create_engine(URL, pool=POOL)\n"
    after = "from sqlalchemy import create_engine\n\nengine = create_engine(URL, pool=POOL, pool_pre_ping=True)\n"
    with pytest.raises(pytest.fail.Exception, match="SQLAlchemy rejects"):
        assert_fix_accepted(before, after)
