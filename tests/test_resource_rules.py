"""ASL5xx options and the shared FastAPI predicates that fixtures cannot express."""

from __future__ import annotations

import libcst as cst
from helpers import lint, settings_for

from asynclint import analysis
from asynclint.config import Settings
from asynclint.context import Context
from asynclint.pipeline import lint_source
from asynclint.scope import build_scopes

EXTRA = """
from fastapi import FastAPI
from app.clients import make_s3_client

app = FastAPI()


@app.get("/files")
async def files():
    client = make_s3_client()
    return await client.list()
"""


def test_extra_resources_count_as_resources():
    assert lint(EXTRA, "ASL501") == []
    assert lint(EXTRA, "ASL501", extra_resources=("app.clients.make_s3_client",)) == [(10, 14, "ASL501")]
    assert lint(EXTRA, "ASL502", extra_resources=("app.clients.make_s3_client",)) == [(10, 14, "ASL502")]


def _context(text: str) -> Context:
    module = cst.parse_module(text)
    return Context("example.py", module, build_scopes(module), Settings())


def _functions(ctx: Context) -> dict[str, cst.FunctionDef]:
    found = {}
    for node in ctx.scopes:
        if isinstance(node, cst.FunctionDef):
            found[node.name.value] = node
    return found


PREDICATES = """
from typing import Annotated
from fastapi import APIRouter, Depends, FastAPI

router = APIRouter()


@router.get("/a")
async def route(x: Annotated[int, Depends(late_dependency)], y=Depends(early_dependency)):
    return x


def early_dependency():
    return 1


def late_dependency():
    return 2


@router.post("/b", dependencies=[Depends(in_decorator)])
def sync_route():
    pass


def in_decorator():
    pass


def not_a_dependency():
    pass
"""


def test_route_handlers_and_depends_functions():
    ctx = _context(PREDICATES)
    functions = _functions(ctx)
    routes = {name for name, node in functions.items() if analysis.is_route_handler(ctx, node)}
    assert routes == {"route", "sync_route"}
    depends = {node.name.value for node in analysis.depends_functions(ctx)}
    assert depends == {"early_dependency", "late_dependency", "in_decorator"}


WHERE = """
import httpx
from fastapi import FastAPI

app = FastAPI()


@app.get("/always")
async def always():
    async with httpx.AsyncClient() as client:
        return await client.get("https://api")


@app.get("/sometimes")
async def sometimes(refresh: bool):
    if refresh:
        async with httpx.AsyncClient() as client:
            return await client.get("https://api")


async def each(urls):
    for url in urls:
        async with httpx.AsyncClient() as client:
            await client.get(url)
        if url.endswith("/slow"):
            async with httpx.AsyncClient() as client:
                await client.get(url)
"""


def test_the_message_says_every_request_only_where_every_request_gets_there():
    # A creation under an `if` runs on some requests (or iterations) only: the message says
    # so, rather than claim what the code does not show.
    settings = settings_for(WHERE, "ASL501")
    messages = {d.row: d.message for d in lint_source(WHERE, "example.py", settings).diagnostics}
    assert messages[10].endswith("in route handler `always` on every request")
    assert messages[17].endswith("in route handler `sometimes` on each request that reaches it")
    assert messages[23].endswith("in a loop in async code, once per iteration")
    assert messages[26].endswith("in a loop in async code, on each iteration that reaches it")
