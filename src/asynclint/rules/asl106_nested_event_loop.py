"""ASL106 nested-event-loop: starting an event loop from async code.

In async code a loop is already running in this thread, so `asyncio.run(...)`
and `loop.run_until_complete(...)` raise `RuntimeError`; the intent, "run this
coroutine and give me its result", is `await`. Flagged in async code (not in a
nested def/lambda, which may run in a worker thread): `asyncio.run(...)`, and
`X.run_until_complete(...)` where X is an event loop (`analysis.is_event_loop`).

No fix: await the coroutine, or make the sync helper in between async.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import libcst as cst

from asynclint import knowledge
from asynclint.analysis import is_event_loop
from asynclint.rule import Rule

if TYPE_CHECKING:
    from asynclint.config import Settings

RUN = frozenset({"asyncio.run", "asyncio.runners.run"})
_RUN = re.compile(r"run\b")


class NestedEventLoop(Rule):
    code = "ASL106"
    name = "nested-event-loop"
    summary = "`asyncio.run()` / `run_until_complete()` called while an event loop is running"
    tokens = ("run_until_complete",)
    needs_async = True

    @classmethod
    def mentioned(cls, text: str, settings: Settings) -> bool:
        # `asyncio.run` as a word: "run" is part of "running", "runtime", "rerun"...
        return super().mentioned(text, settings) or (knowledge.may_name(text, RUN) and knowledge.has_word(_RUN, text))

    def visit_Call(self, node: cst.Call) -> None:
        ctx = self.ctx
        if not ctx.in_async:
            return
        func = node.func
        if isinstance(func, cst.Attribute) and func.attr.value == "run_until_complete":
            if is_event_loop(ctx, func.value):
                ctx.report(node, self.message("run_until_complete"), help=_HELP)
        elif ctx.call_name(node) in RUN:
            ctx.report(node, self.message("asyncio.run"), help=_HELP)

    @staticmethod
    def message(what: str) -> str:
        return f"`{what}` in async code starts an event loop inside the running one and raises `RuntimeError`"


_HELP = "`await` the coroutine instead"

RULE = NestedEventLoop
