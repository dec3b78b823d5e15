"""ASL207 blocking-call-in-helper: async code calls a project function that blocks.

In real applications the blocking call is rarely written inline: an async route
calls a sync helper (or builds an object whose `__init__`) that, maybe a few
calls and modules away, sleeps, shells out, reads a file or talks to a sync
client. Project-wide analysis (asynclint.project) finds those helpers and the
chain that proves it; this rule reports the call site in async code.

Not flagged: a helper handed to `asyncio.to_thread` / `run_in_executor` (a
reference, not a call); a helper cached with `functools.lru_cache`/`cache`
(it blocks once per process); anything when project analysis is off.
"""

from __future__ import annotations

import libcst as cst

from asynclint.rule import Rule


class BlockingCallInHelper(Rule):
    code = "ASL207"
    name = "blocking-call-in-helper"
    summary = "Async code calls a project function that blocks the event loop"
    needs_async = True

    @classmethod
    def wants(cls, text, settings) -> bool:
        # Without the index there is nothing to look up; with it, `ProjectIndex.wants` decides.
        return False

    def visit_Call(self, node: cst.Call) -> None:
        ctx = self.ctx
        if ctx.project is None or not ctx.in_async:
            return
        callee = ctx.call_name(node)
        chain = ctx.project.blocking.get(callee) if callee else None
        if chain:
            ctx.report(
                node,
                f"`{chain[0]}` blocks the event loop in async code: {_shown(chain)}; "
                "run it with `asyncio.to_thread` or make it async",
            )


# A chain longer than this shows its first and last hops: the call the reader is looking at,
# the blocking call at the end, and how many lie between.
MAX_SHOWN = 8


def _shown(chain: list[str]) -> str:
    if len(chain) <= MAX_SHOWN:
        return " -> ".join(chain)
    head, tail = chain[: MAX_SHOWN // 2], chain[-(MAX_SHOWN // 2) :]
    return " -> ".join([*head, f"... ({len(chain) - MAX_SHOWN} more)", *tail])


RULE = BlockingCallInHelper
