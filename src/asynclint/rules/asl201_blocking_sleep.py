"""ASL201 blocking-sleep: `time.sleep()` in async code.

`time.sleep` stops the whole event loop, not just the coroutine: every other
request, task and timer waits too. `await asyncio.sleep(...)` yields instead.

Fix (safe): `time.sleep(x)` -> `await asyncio.sleep(x)`, adding `import asyncio`
when needed; no fix when the name `asyncio` is bound to something else (or only for
type checkers, or by a local import further down), when the call's result is used as a
receiver (`time.sleep(1).x` would need parentheses), or inside a generator expression
(`await` would make it an async generator, which sync consumers reject).
"""

from __future__ import annotations

import libcst as cst

from asynclint import knowledge
from asynclint.fixes import FixSpec, asyncio_available, await_allowed
from asynclint.rules._blocking import BlockingCallRule


class BlockingSleep(BlockingCallRule):
    code = "ASL201"
    name = "blocking-sleep"
    summary = "`time.sleep()` in async code blocks the event loop"
    tokens = ("sleep",)
    fix_applicability = "safe"
    calls = knowledge.BLOCKING_SLEEP
    remedy = "Use `await asyncio.sleep(...)`"

    def fix(self, node: cst.Call, name: str) -> FixSpec | None:
        if name not in knowledge.BLOCKING_SLEEP:
            return None  # a user-configured extra call: we do not know its async twin
        parent = self.ctx.parent(node)
        if isinstance(parent, (cst.Attribute, cst.Subscript)) or (isinstance(parent, cst.Call) and parent.func is node):
            return None
        if not await_allowed(self.ctx, node):
            return None
        needs_import = asyncio_available(self.ctx)
        if needs_import is None:
            return None
        replacement = cst.Await(
            expression=node.with_changes(func=cst.Attribute(value=cst.Name("asyncio"), attr=cst.Name("sleep")))
        )
        return FixSpec(
            "safe", "Replace with `await asyncio.sleep(...)`", [(node, replacement)], needs_asyncio=needs_import
        )


RULE = BlockingSleep
