"""The asyncio predicates in `analysis` that several rules share (ASL103, ASL106, ASL302)."""

from __future__ import annotations

import libcst as cst
import pytest

from asynclint.analysis import is_event_loop, is_task_group, spawned_call, task_spawn
from asynclint.config import Settings
from asynclint.context import Context
from asynclint.scope import build_scopes

SOURCE = """
import asyncio
from asyncio import TaskGroup, create_task, get_running_loop
from app import runner

async def f(loop, event_loop, hass, tg2: asyncio.TaskGroup, pool, my_loop_thing):
    running = get_running_loop()
    not_a_loop = asyncio.TaskGroup()
    async with TaskGroup() as tg:
        pass
    {calls}
"""


def _calls(expressions: list[str]):
    source = SOURCE.format(calls="\n    ".join(expressions))
    module = cst.parse_module(source)
    scopes = build_scopes(module)
    ctx = Context("x.py", module, scopes, Settings())
    function = next(node for node in module.body if isinstance(node, cst.FunctionDef))
    ctx.scope = scopes[function]
    lines = function.body.body[-len(expressions) :]
    return ctx, [line.body[0].value for line in lines]


@pytest.mark.parametrize(
    ("expression", "kind"),
    [
        ("asyncio.create_task(work())", "asyncio"),
        ("create_task(work())", "asyncio"),
        ("asyncio.ensure_future(work())", "asyncio"),
        ("loop.create_task(work())", "loop"),
        ("event_loop.create_task(work())", "loop"),
        ("hass.loop.create_task(work())", "loop"),
        ("running.create_task(work())", "loop"),
        ("asyncio.get_event_loop().create_task(work())", "loop"),
        ("tg.create_task(work())", "task_group"),
        ("tg2.create_task(work())", "task_group"),
        ("not_a_loop.create_task(work())", "task_group"),
        ("pool.create_task(work())", None),
        ("my_loop_thing.create_task(work())", None),
        ("hass.async_create_task(work())", None),
        ("runner.create_task(work())", None),
    ],
)
def test_task_spawn(expression, kind):
    ctx, (call,) = _calls([expression])
    assert task_spawn(ctx, call) == kind


def test_predicates_on_receivers():
    ctx, (loop_call, tg_call) = _calls(["loop.create_task(work())", "tg.create_task(work())"])
    assert is_event_loop(ctx, loop_call.func.value) and not is_task_group(ctx, loop_call.func.value)
    assert is_task_group(ctx, tg_call.func.value) and not is_event_loop(ctx, tg_call.func.value)


def test_spawned_call():
    _ctx, calls = _calls(
        [
            "asyncio.create_task(work(1), name='w')",
            "asyncio.ensure_future(coro_or_future=x)",
            "asyncio.create_task(*args)",
        ]
    )
    assert cst.Module([]).code_for_node(spawned_call(calls[0])) == "work(1)"
    assert cst.Module([]).code_for_node(spawned_call(calls[1])) == "x"
    assert spawned_call(calls[2]) is None
