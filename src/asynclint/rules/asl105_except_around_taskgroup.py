"""ASL105 except-around-taskgroup: a plain `except E:` around `async with asyncio.TaskGroup()`.

Errors raised in a TaskGroup block (by its tasks or its own body) leave it wrapped
in an `ExceptionGroup`, even when there is only one, so `except httpx.HTTPError:`
never sees them; `except*` matches inside the group. Flagged: each plain handler
on a `try` whose body holds `async with asyncio.TaskGroup()` (in nested blocks
too, not in nested defs, and not inside an inner `try` that may catch the group
itself), located at its `except`.

Not flagged: handlers that catch the group too (`Exception`, `BaseException`,
`ExceptionGroup`, `BaseExceptionGroup`, bare `except:`); handlers for what a
TaskGroup lets through unwrapped (`CancelledError`, `KeyboardInterrupt`,
`SystemExit`, and `TimeoutError` when another `with` inside the `try`, a timeout
say, wraps the group); a type we cannot see (a tuple held in a variable, a
call); and below 3.11.

Fix (unsafe: `as e` now binds a group, and a naked exception that a handler
re-raises comes out wrapped): the whole `try` becomes `try`/`except*` (Python
allows no mix), offered only when every handler can: it names a type that is not
an exception group nor one of the unwrapped ones above, and has no
`return`/`break`/`continue`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import cast

import libcst as cst

from asynclint import knowledge
from asynclint.analysis import is_task_group
from asynclint.fixes import FixSpec
from asynclint.rule import Rule
from asynclint.rules._statements import NESTED_SCOPES, jumps_out
from asynclint.scope import dotted_name
from asynclint.walk import children

# Catch the ExceptionGroup itself.
_GROUP_CATCHERS = frozenset(
    {"builtins.Exception", "builtins.BaseException", "builtins.ExceptionGroup", "builtins.BaseExceptionGroup"}
)
# A TaskGroup re-raises these as they are, not wrapped in a group.
_UNWRAPPED = knowledge.CANCELLED_ERROR | {"builtins.KeyboardInterrupt", "builtins.SystemExit", "builtins.GeneratorExit"}
# What a timeout context turns the group's cancellation into.
_TIMEOUT_ERRORS = frozenset({"builtins.TimeoutError", "asyncio.TimeoutError", "asyncio.exceptions.TimeoutError"})

# Handler types: "group" catches the group, "unwrapped" runs for what passes unwrapped,
# "timeout" runs when a timeout context wraps the group, "plain" never runs, None unknown.
GROUP, UNWRAPPED, TIMEOUT, PLAIN = "group", "unwrapped", "timeout", "plain"


class ExceptAroundTaskGroup(Rule):
    code = "ASL105"
    name = "except-around-taskgroup"
    summary = "Plain `except` around `asyncio.TaskGroup`: its errors arrive as an ExceptionGroup"
    tokens = ("TaskGroup",)
    needs_async = True
    min_target = (3, 11)
    fix_applicability = "unsafe"

    def visit_Try(self, node: cst.Try) -> None:
        sites = list(self._task_groups(node.body, inside_with=False))
        if not sites:
            return
        # A `with` around the group (a timeout, say) may turn its cancellation into TimeoutError.
        never_runs = {PLAIN} if any(sites) else {PLAIN, TIMEOUT}
        flagged = []
        for handler in node.handlers:
            kinds = self._kinds(handler)
            if kinds is not None and set(kinds) <= never_runs:
                flagged.append(handler)
        if not flagged:
            return
        fix = self.fix(node)
        for handler in flagged:
            self.ctx.report(
                handler,
                "errors from the `asyncio.TaskGroup` in this `try` arrive wrapped in an ExceptionGroup, "
                "so this `except` never sees them",
                fix=fix,
                help="Use `except*`",
            )

    def _task_groups(self, node: cst.CSTNode, inside_with: bool) -> Iterator[bool]:
        """One item per `async with TaskGroup()` in the block: is it inside another `with`?"""
        for child in children(node):
            if isinstance(child, (*NESTED_SCOPES, cst.BaseExpression, cst.SimpleStatementLine)):
                continue
            if isinstance(child, cst.With):
                if child.asynchronous is not None and any(is_task_group(self.ctx, item.item) for item in child.items):
                    yield inside_with
                    continue
                yield from self._task_groups(child.body, True)
            elif isinstance(child, (cst.Try, cst.TryStar)) and self._may_catch_group(child):
                for part in (*child.handlers, child.orelse, child.finalbody):
                    if part is not None:
                        yield from self._task_groups(part, inside_with)
            else:
                yield from self._task_groups(child, inside_with)

    def _may_catch_group(self, try_: cst.Try | cst.TryStar) -> bool:
        for handler in try_.handlers:
            kinds = self._kinds(handler) if isinstance(handler, cst.ExceptHandler) else None
            if kinds is None or GROUP in kinds:
                return True
        return False

    def _kinds(self, handler: cst.ExceptHandler) -> list[str] | None:
        if handler.type is None:
            return [GROUP]
        types = handler.type
        elements = [e.value for e in types.elements] if isinstance(types, cst.Tuple) else [types]
        kinds = []
        for element in elements:
            kind = self._kind(element)
            if kind is None:
                return None
            kinds.append(kind)
        return kinds

    def _kind(self, expr: cst.BaseExpression) -> str | None:
        local = self._local_class_kind(expr)
        if local is not None:
            return local
        name = self.ctx.qualname(expr)
        if name is None:
            return None
        if name in _GROUP_CATCHERS or name.endswith("ExceptionGroup"):
            return GROUP
        if name in _UNWRAPPED:
            return UNWRAPPED
        if name in _TIMEOUT_ERRORS:
            return TIMEOUT
        if name.rsplit(".", 1)[-1].isupper():
            return None  # ALL_CAPS: a tuple of exception types, most likely
        return PLAIN

    def _local_class_kind(self, expr: cst.BaseExpression) -> str | None:
        """An exception class defined in this module: plain unless it derives from a group."""
        if not isinstance(expr, cst.Name):
            return None
        found = self.ctx.scope.lookup(expr.value)
        if found is None or not found[1] or any(b.kind != "class" for b in found[1]):
            return None
        for binding in found[1]:
            # A "class" binding's node is its ClassDef.
            for base in cast(cst.ClassDef, binding.node).bases:
                if (dotted_name(base.value) or "").endswith("ExceptionGroup"):
                    return GROUP
        return PLAIN

    def fix(self, try_: cst.Try) -> FixSpec | None:
        handlers = []
        for handler in try_.handlers:
            kinds = self._kinds(handler)
            # A bare `except:` (no type) is refused already as GROUP; named here for mypy.
            if (
                handler.type is None
                or kinds is None
                or any(k in (GROUP, UNWRAPPED) for k in kinds)
                or jumps_out(handler.body)
            ):
                return None
            handlers.append(
                cst.ExceptStarHandler(
                    body=handler.body,
                    type=handler.type,
                    name=handler.name,
                    leading_lines=handler.leading_lines,
                    whitespace_after_except=cst.SimpleWhitespace(""),
                    whitespace_after_star=handler.whitespace_after_except,
                    whitespace_before_colon=handler.whitespace_before_colon,
                )
            )
        new = cst.TryStar(
            body=try_.body,
            handlers=handlers,
            orelse=try_.orelse,
            finalbody=try_.finalbody,
            leading_lines=try_.leading_lines,
            whitespace_before_colon=try_.whitespace_before_colon,
        )
        return FixSpec("unsafe", "Use `except*`", [(try_, new)])


RULE = ExceptAroundTaskGroup
