"""ASL101 asyncio-gather: `asyncio.gather(...)` where a `TaskGroup` would be structured.

With the default `return_exceptions=False`, `gather` hands the first failure to
the caller at once but leaves the other awaitables running, unobserved. A
`TaskGroup` (3.11+) cancels the siblings, waits for them and raises every
failure together. `return_exceptions=True` (collect every outcome, e.g. when
reaping tasks at shutdown) has no TaskGroup equivalent and is not flagged; a
`return_exceptions=` that is not a literal is unknown, so not flagged either.

Fix (unsafe: siblings get cancelled, failures arrive as an ExceptionGroup), only
for `await asyncio.gather(c1(), c2())` with plain call arguments, alone on its
line as an expression statement or an assignment's value, and not in the body of
a `try` with handlers (what they catch would change, see ASL105):

    async with asyncio.TaskGroup() as tg:      a, b = await asyncio.gather(f(), g())
        tg.create_task(c1())                   ->
        tg.create_task(c2())                   async with asyncio.TaskGroup() as tg:
                                                   a_task = tg.create_task(f())
                                                   b_task = tg.create_task(g())
                                               a, b = a_task.result(), b_task.result()

(`results = await gather(...)` gets `results = [task1.result(), ...]`: gather gives a list.)
"""

from __future__ import annotations

from collections.abc import Sequence

import libcst as cst

from asynclint import knowledge
from asynclint.analysis import has_star_kwargs, is_false, keyword
from asynclint.fixes import FixSpec, asyncio_available, comments_in, with_comments
from asynclint.rule import Rule
from asynclint.rules._statements import NESTED_SCOPES, lone_statement, name_picker
from asynclint.scope import last_name

# Calls that give a Task or Future, not a coroutine: `tg.create_task()` refuses them.
_NOT_COROUTINES = frozenset(
    {
        "create_task",
        "ensure_future",
        "gather",
        "shield",
        "run_in_executor",
        "wrap_future",
        "create_future",
        "run_coroutine_threadsafe",
    }
)


class AsyncioGather(Rule):
    code = "ASL101"
    name = "asyncio-gather"
    summary = "`asyncio.gather()` does not cancel the other awaitables when one fails; use `asyncio.TaskGroup`"
    tokens = ("gather",)
    min_target = (3, 11)
    fix_applicability = "unsafe"

    def visit_Call(self, node: cst.Call) -> None:
        ctx = self.ctx
        if ctx.call_name(node) != knowledge.GATHER or has_star_kwargs(node):
            return
        option = keyword(node, "return_exceptions")
        if option is not None and not is_false(option.value):
            return
        ctx.report(
            node,
            "`asyncio.gather` leaves the other awaitables running when one fails",
            fix=None if option is not None else self.fix(node),
            help="Use `asyncio.TaskGroup`, which cancels them",
        )

    def fix(self, node: cst.Call) -> FixSpec | None:
        ctx = self.ctx
        if not ctx.in_async or not node.args or not all(_is_coroutine_call(arg) for arg in node.args):
            return None
        await_ = ctx.parent(node)
        if not isinstance(await_, cst.Await):
            return None
        found = lone_statement(ctx, await_, (cst.Expr, cst.Assign, cst.AnnAssign))
        needs_import = asyncio_available(ctx)
        if found is None or needs_import is None or self._inside_try_with_handlers():
            return None
        line, statement = found
        pick = name_picker(ctx)
        group = cst.Name(pick("tg"))
        calls = [arg.value for arg in node.args]

        # Comments between the arguments go with them to their `create_task` lines; the
        # others (after `gather(`, before `)`) to the `async with` line.
        own = [comments_in(arg, skip=[arg.value]) for arg in node.args]
        around = comments_in(await_, skip=list(node.args))

        def create_task(call: cst.BaseExpression) -> cst.Call:
            return cst.Call(cst.Attribute(group, cst.Name("create_task")), [cst.Arg(call)])

        def task_line(statement: cst.BaseSmallStatement, comments: list[str]) -> cst.SimpleStatementLine:
            return cst.SimpleStatementLine(
                [statement], trailing_whitespace=with_comments(cst.TrailingWhitespace(), comments)
            )

        if isinstance(statement, cst.Expr):
            body = [task_line(cst.Expr(create_task(call)), comments) for call, comments in zip(calls, own, strict=True)]
            header = with_comments(cst.TrailingWhitespace(), around + comments_in(line.trailing_whitespace))
            block = _task_group(group, body, header=header, leading_lines=line.leading_lines)
            return FixSpec(
                "unsafe", "Rewrite to an `asyncio.TaskGroup` block", [(line, block)], needs_asyncio=needs_import
            )

        # lone_statement was asked for these kinds only, and the Expr case returned above.
        assert isinstance(statement, (cst.Assign, cst.AnnAssign))
        target = statement.targets[0].target if isinstance(statement, cst.Assign) else statement.target
        names = _unpacked_names(target, len(calls))
        tasks = [cst.Name(pick(f"{name}_task" if names else f"task{i}")) for i, name in enumerate(names or calls, 1)]
        body = [
            task_line(cst.Assign([cst.AssignTarget(task)], create_task(call)), comments)
            for task, call, comments in zip(tasks, calls, own, strict=True)
        ]
        results = [cst.Call(cst.Attribute(task, cst.Name("result"))) for task in tasks]
        value: cst.Tuple | cst.List
        if names:
            value = cst.Tuple([cst.Element(r) for r in results], lpar=[], rpar=[])
        else:  # gather gives a list
            value = cst.List([cst.Element(r) for r in results])
        block = _task_group(
            group, body, header=with_comments(cst.TrailingWhitespace(), around), leading_lines=line.leading_lines
        )
        after = line.with_changes(body=[statement.with_changes(value=value)], leading_lines=[])
        return FixSpec(
            "unsafe",
            "Rewrite to an `asyncio.TaskGroup` block",
            [(line, cst.FlattenSentinel([block, after]))],
            needs_asyncio=needs_import,
        )

    def _inside_try_with_handlers(self) -> bool:
        """What the handlers of a surrounding `try` catch would change (an ExceptionGroup
        instead of the first error, see ASL105): that is for the author to rework."""
        child = self.ctx.stack[-1]
        for ancestor in self.ctx.ancestors():
            if isinstance(ancestor, NESTED_SCOPES):
                return False
            if isinstance(ancestor, cst.Try) and ancestor.body is child and ancestor.handlers:
                return True
            child = ancestor
        return False


def _is_coroutine_call(arg: cst.Arg) -> bool:
    if arg.star or arg.keyword is not None or not isinstance(arg.value, cst.Call):
        return False
    func = arg.value.func
    short = last_name(func)
    return short is not None and short not in _NOT_COROUTINES


def _unpacked_names(target: cst.BaseExpression, count: int) -> list[str] | None:
    """`a, b = ...` with one plain name per awaitable: the names; else None."""
    if not isinstance(target, (cst.Tuple, cst.List)) or len(target.elements) != count:
        return None
    names = []
    for element in target.elements:
        if isinstance(element, cst.StarredElement) or not isinstance(element.value, cst.Name):
            return None
        names.append(element.value.value)
    return names


def _task_group(
    group: cst.Name,
    body: Sequence[cst.BaseStatement],
    *,
    header: cst.TrailingWhitespace,
    leading_lines: Sequence[cst.EmptyLine],
) -> cst.With:
    return cst.With(
        items=[
            cst.WithItem(
                cst.Call(cst.Attribute(cst.Name("asyncio"), cst.Name("TaskGroup"))),
                asname=cst.AsName(group),
            )
        ],
        body=cst.IndentedBlock(body=body, header=header),
        asynchronous=cst.Asynchronous(),
        leading_lines=leading_lines,
    )


RULE = AsyncioGather
