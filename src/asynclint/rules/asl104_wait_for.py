"""ASL104 wait-for: `asyncio.wait_for(aw, timeout)` where `asyncio.timeout()` fits (3.11+).

`async with asyncio.timeout(t):` puts one deadline on a block (several awaits,
reschedulable), and before 3.12 `wait_for` ran a coroutine in a task of its own,
with known cancellation edge cases. Flagged: any call of `asyncio.wait_for`.

Fix (unsafe: the deadline now covers the whole statement, the timeout is
evaluated first, and before 3.12 the coroutine runs in the current task), when
`await asyncio.wait_for(x, t)` is alone on its line as an expression statement,
an assignment's value or a `return` value, with both arguments given plainly:

    r = await asyncio.wait_for(x, t)   ->   async with asyncio.timeout(t):
                                                r = await x
"""

from __future__ import annotations

import libcst as cst

from asynclint.fixes import FixSpec, asyncio_available, comments_in, with_comments
from asynclint.rule import Rule
from asynclint.rules._statements import lone_statement

WAIT_FOR = frozenset({"asyncio.wait_for", "asyncio.tasks.wait_for"})
# An `await` operand that needs no parentheses.
_ATOMS = (cst.Name, cst.Attribute, cst.Call, cst.Subscript)


class WaitFor(Rule):
    code = "ASL104"
    name = "wait-for"
    summary = "`asyncio.wait_for()`: prefer `async with asyncio.timeout(...)`"
    tokens = ("wait_for",)
    min_target = (3, 11)
    fix_applicability = "unsafe"

    def visit_Call(self, node: cst.Call) -> None:
        if self.ctx.call_name(node) not in WAIT_FOR:
            return
        self.ctx.report(
            node,
            "`asyncio.wait_for` is superseded by `asyncio.timeout` (Python 3.11+)",
            fix=self.fix(node),
            help="Use `async with asyncio.timeout(...)` around the `await`",
        )

    def fix(self, node: cst.Call) -> FixSpec | None:
        ctx = self.ctx
        arguments = _awaitable_and_timeout(node)
        await_ = ctx.parent(node)
        if arguments is None or not ctx.in_async or not isinstance(await_, cst.Await):
            return None
        found = lone_statement(ctx, await_, (cst.Expr, cst.Assign, cst.AnnAssign, cst.Return))
        needs_import = asyncio_available(ctx)
        if found is None or needs_import is None:
            return None
        line, statement = found
        awaitable, timeout = arguments
        # The comments of the call: the awaitable's go with it, the rest to the `async with` line.
        first = node.args[0]
        with_awaitable = comments_in(first, skip=[awaitable])
        around = comments_in(node, skip=[first, timeout])
        if not isinstance(awaitable, _ATOMS) and not awaitable.lpar:
            awaitable = awaitable.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
        inner = line.with_changes(
            body=[statement.with_changes(value=await_.with_changes(expression=awaitable))],
            leading_lines=[],
            trailing_whitespace=with_comments(
                cst.TrailingWhitespace(), with_awaitable + comments_in(line.trailing_whitespace)
            )
            if with_awaitable
            else line.trailing_whitespace,
        )
        block = cst.With(
            items=[cst.WithItem(cst.Call(cst.Attribute(cst.Name("asyncio"), cst.Name("timeout")), [cst.Arg(timeout)]))],
            body=cst.IndentedBlock(body=[inner], header=with_comments(cst.TrailingWhitespace(), around)),
            asynchronous=cst.Asynchronous(),
            leading_lines=line.leading_lines,
        )
        message = "Wrap the statement in `async with asyncio.timeout(...)`"
        return FixSpec("unsafe", message, [(line, block)], needs_asyncio=needs_import)


def _awaitable_and_timeout(call: cst.Call) -> tuple[cst.BaseExpression, cst.BaseExpression] | None:
    """`wait_for(x, t)`, `wait_for(x, timeout=t)`, `wait_for(fut=x, timeout=t)`: (x, t); else None."""
    if len(call.args) != 2 or any(arg.star for arg in call.args):
        return None
    first, second = call.args
    if first.keyword is not None and first.keyword.value != "fut":
        return None
    if second.keyword is None and first.keyword is not None:
        return None
    if second.keyword is not None and second.keyword.value != "timeout":
        return None
    return first.value, second.value


RULE = WaitFor
