"""The ASL202-ASL206 messages say what blocks and what to use instead."""

from __future__ import annotations

import pytest
from helpers import settings_for

from asynclint.engine import lint_text

CASES = [
    (
        "ASL202",
        "import requests\n\nasync def f(u):\n    requests.get(u)\n",
        "`requests.get` blocks the event loop in async code; use `httpx.AsyncClient` or `aiohttp`",
    ),
    (
        "ASL202",
        "import httpx\n\nasync def f(u):\n    c = httpx.Client()\n    c.get(u)\n",
        "`.get()` on a `httpx.Client` blocks the event loop in async code; use `httpx.AsyncClient`",
    ),
    (
        "ASL203",
        "import os\n\nasync def f():\n    os.system('ls')\n",
        "`os.system` blocks the event loop in async code; use `asyncio.create_subprocess_exec`",
    ),
    (
        "ASL204",
        "async def f(p):\n    open(p)\n",
        "`open` blocks the event loop in async code; use `aiofiles`, `anyio.Path`, or `asyncio.to_thread`",
    ),
    (
        "ASL204",
        "from pathlib import Path\n\nasync def f(p: Path):\n    p.read_text()\n",
        "`.read_text()` on a `pathlib.Path` blocks the event loop in async code; use `aiofiles`",
    ),
    # Neither aiofiles nor anyio.Path removes or copies a tree: only a worker thread helps.
    (
        "ASL204",
        "import shutil\n\nasync def f(p):\n    shutil.rmtree(p)\n",
        "`shutil.rmtree` blocks the event loop in async code; run it in a worker thread with `asyncio.to_thread`",
    ),
    (
        "ASL204",
        "from shutil import copytree\n\nasync def f(a, b):\n    copytree(a, b)\n",
        "`shutil.copytree` blocks the event loop in async code; run it in a worker thread with `asyncio.to_thread`",
    ),
    (
        "ASL205",
        "import redis\n\nr = redis.Redis()\n\nasync def f():\n    r.get('k')\n",
        "`.get()` on a sync `redis.Redis` blocks the event loop in async code; use an async driver",
    ),
    (
        "ASL206",
        "from sqlalchemy.orm import Session\n\nasync def f(e, q):\n    s = Session(e)\n    s.execute(q)\n",
        "sync SQLAlchemy session from `Session(...)` is used directly in async code, so its database calls"
        " block the event loop; use `create_async_engine`, `async_sessionmaker`, or `AsyncSession.run_sync`",
    ),
    (
        "ASL206",
        "from sqlmodel import Session\n\nasync def f(s: Session, q):\n    s.exec(q)\n",
        "`.exec()` on a sync SQLAlchemy `Session` blocks the event loop in async code;"
        " use `create_async_engine`, `async_sessionmaker`, or `AsyncSession.run_sync`",
    ),
]


@pytest.mark.parametrize(("code", "source", "expected"), CASES)
def test_message(code, source, expected):
    result = lint_text(source, "example.py", settings_for("", code))
    assert [d.code for d in result.diagnostics] == [code]
    found = result.diagnostics[0]
    # The message says what blocks; the help line what to use instead.
    message, _, suggestion = expected.partition("; ")
    assert found.message == message
    assert found.help.lower().startswith(suggestion.lower())
    assert result.diagnostics[0].fix is None
