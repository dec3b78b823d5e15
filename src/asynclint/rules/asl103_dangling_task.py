"""ASL103 dangling-task: a task created and its reference thrown away.

The event loop holds tasks weakly: a task nobody references can be garbage-
collected mid-flight, and its failure is never seen. Flagged: an expression
statement that is `asyncio.create_task(...)`, `asyncio.ensure_future(...)`, or
`X.create_task(...)` on an event loop (see `analysis.is_event_loop`: the loop
getters called in place or bound to a name, or a name/attribute `loop`/`*_loop`).
Located at the creating call. Not flagged: `tg.create_task` on a TaskGroup (the
group keeps its tasks), a project's own `create_task`, `hass.async_create_task`
and other helpers that keep references themselves, and `ensure_future(x)` of a
name or attribute (it may already be a task held elsewhere; then nothing is created), and
a task spawned directly in a class's `__del__` (best-effort cleanup of an object being
collected: no owner is left to keep or await the task).

No fix: where to keep the task depends on how long it should live.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst

from asynclint.analysis import spawned_call, task_spawn
from asynclint.rule import Rule
from asynclint.scope import dotted_name

if TYPE_CHECKING:
    from asynclint.context import Context


class DanglingTask(Rule):
    code = "ASL103"
    name = "dangling-task"
    summary = "Task created and discarded: it can be garbage-collected before it finishes"
    tokens = ("create_task", "ensure_future")

    def visit_Expr(self, node: cst.Expr) -> None:
        call = node.value
        if not isinstance(call, cst.Call):
            return
        kind = task_spawn(self.ctx, call)
        if kind not in ("asyncio", "loop"):
            return
        if self.ctx.call_name(call) == "asyncio.ensure_future" and isinstance(
            spawned_call(call), (cst.Name, cst.Attribute, cst.Subscript)
        ):
            return
        if _in_finalizer(self.ctx):
            return
        shown = dotted_name(call.func) or _short(call.func)
        self.ctx.report(
            call,
            f"the task from `{shown}(...)` is discarded: it can be garbage-collected before it finishes, "
            "and its errors go unseen",
            help="Keep a reference (in a set, with `add_done_callback(set.discard)`) or use an `asyncio.TaskGroup`",
        )


def _in_finalizer(ctx: Context) -> bool:
    """Directly in a method `__del__`: best-effort cleanup of an object being collected
    (`loop.create_task(self.aclose())`). Nothing can hold or await the task there, and if it
    is lost, the object and what it owns are being collected anyway."""
    scope = ctx.function_scope
    return (
        scope is not None
        and isinstance(scope.node, cst.FunctionDef)
        and scope.node.name.value == "__del__"
        and scope.enclosing_class is not None
    )


def _short(func: cst.BaseExpression) -> str:
    """`context.get().loop.create_task` -> `loop.create_task`."""
    if isinstance(func, cst.Attribute) and isinstance(func.value, cst.Attribute):
        return f"{func.value.attr.value}.{func.attr.value}"
    return "create_task"


RULE = DanglingTask
