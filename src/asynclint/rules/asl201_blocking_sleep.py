"""ASL201 blocking-sleep: `time.sleep()` in async code.

`time.sleep` stops the whole event loop, not just the coroutine: every other
request, task and timer waits too. `await asyncio.sleep(...)` yields instead.

Not flagged: a pause of at most a millisecond written as a number (`time.sleep(0.001)`,
`time.sleep(0)`) outside any loop of its function: it holds the loop no longer than a
call's own work does, and is written on purpose (chainlit's constructors sleep 1 ms to keep
timestamps apart; blind reviews judged every such finding NOISE). In a loop it is a poll
that never lets the task it waits for run, and is flagged; so is any other duration.

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
from asynclint.rules._statements import NESTED_SCOPES

# The longest pause written as a number that blocks the loop no more than a call's own work.
BRIEF_PAUSE = 0.001
_LOOPS = (cst.For, cst.While, cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp)


class BlockingSleep(BlockingCallRule):
    code = "ASL201"
    name = "blocking-sleep"
    summary = "`time.sleep()` in async code blocks the event loop"
    tokens = ("sleep",)
    fix_applicability = "safe"
    calls = knowledge.BLOCKING_SLEEP
    remedy = "Use `await asyncio.sleep(...)`"

    def match(self, node: cst.Call) -> tuple[str | None, str] | None:
        found = super().match(node)
        if found is not None and found[0] in knowledge.BLOCKING_SLEEP and self._brief_pause(node):
            return None
        return found

    def _brief_pause(self, node: cst.Call) -> bool:
        """`time.sleep(0.001)`: a number of seconds no more than `BRIEF_PAUSE`, outside any
        loop of the function (also a comprehension)."""
        if len(node.args) != 1 or node.args[0].keyword is not None or node.args[0].star:
            return False
        seconds = node.args[0].value
        if not isinstance(seconds, (cst.Integer, cst.Float)) or seconds.evaluated_value > BRIEF_PAUSE:
            return False
        for ancestor in self.ctx.ancestors():
            if isinstance(ancestor, NESTED_SCOPES):
                return True
            if isinstance(ancestor, _LOOPS):
                return False
        return True

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
