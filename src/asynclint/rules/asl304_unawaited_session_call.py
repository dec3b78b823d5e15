"""ASL304 unawaited-session-call: an AsyncSession coroutine method called without `await`.

On an `AsyncSession`, `commit()`, `execute()`, `close()` and the other methods
in `knowledge.ASYNC_SESSION_COROUTINES` are coroutine functions: calling one
only makes a coroutine object, and nothing happens until it is awaited. A bare
`session.commit()` commits nothing; `result = session.execute(q)` holds a
coroutine, not a Result. Only sessions known by evidence count (`ctx.is_session`):
the same method names on a sync `Session` or an `aiohttp.ClientSession` are fine. With
project analysis, the evidence includes the project's own session factories in other modules
and names passed to a project function's `AsyncSession` parameter (`asynclint.project`).

Flagged, where the coroutine is certainly lost:
- a discarded call (an expression statement), in async and in sync code;
- in async code, a call whose result is assigned to a name that is then never
  used except as an attribute receiver (`r = s.execute(q); r.scalars()`);
- in async code, a call used as an attribute receiver (`s.execute(q).scalars()`)
  or returned from the `async def` (the caller's `await` gets a coroutine back).
Not flagged: the coroutine handed to something that may await or schedule it
(an argument of `asyncio.create_task`/`gather`/`wait_for`/`shield`, of any call),
returned from a sync `def` or a lambda (a wrapper whose caller awaits),
yielded, put in a container, or assigned to a name that is later awaited or passed on.

Fix (safe, async code only): insert `await` (parenthesized before an attribute); none
inside a generator expression, which `await` would turn into an async generator.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

import libcst as cst

from asynclint import knowledge
from asynclint.fixes import FixSpec, await_allowed
from asynclint.rule import Rule
from asynclint.scope import dotted_name

if TYPE_CHECKING:
    from asynclint.config import Settings


class UnawaitedSessionCall(Rule):
    code = "ASL304"
    index_family = "sessions"
    name = "unawaited-session-call"
    summary = "AsyncSession coroutine method called without `await`"
    tokens = tuple(sorted(knowledge.ASYNC_SESSION_COROUTINES))
    fix_applicability = "safe"
    # Where a session method's coroutine is lost whatever the receiver: only there can the
    # index, knowing more sessions, add a finding.
    records_sites = True
    judges_sites = False

    @classmethod
    def wants(cls, text: str, settings: Settings) -> bool:
        # A session from another module comes with the index (`ProjectIndex.wants`).
        return super().wants(text, settings) and knowledge.mentions_session(text, settings.session_types)

    @classmethod
    def wants_with_index(cls, text: str, settings: Settings) -> bool:
        return cls.mentioned(text, settings)  # its tokens: the session may come from anywhere

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if not isinstance(func, cst.Attribute) or func.attr.value not in knowledge.ASYNC_SESSION_COROUTINES:
            return
        ctx = self.ctx
        session = ctx.is_session(func.value)
        if not session and not (ctx.recording and ctx.resolver.index_may_type(func.value, ctx.scope)):
            return
        parent = ctx.parent(node)
        in_async = ctx.in_async
        if isinstance(parent, cst.Expr):
            pass  # discarded: the coroutine never runs, in async or sync code
        elif not in_async:
            return  # a sync function may hand the coroutine to a caller that awaits it
        elif (isinstance(parent, cst.Attribute) and parent.value is node) or isinstance(parent, cst.Return):
            pass
        elif isinstance(parent, (cst.Assign, cst.AnnAssign)) and parent.value is node:
            # (Whether the name is lost takes a walk of the function: for a receiver not
            # known as a session, the place is recorded without asking.)
            if session and not self._assigned_and_lost(parent):
                return
        else:
            return
        if ctx.recording:
            # A coroutine lost here, were the receiver a session: the index may know it is.
            ctx.report(node, "", site=True)
        if not session:
            return
        method = f"{dotted_name(func.value) or 'session'}.{func.attr.value}"
        fix = None
        if in_async and await_allowed(ctx, node):
            parenthesize = isinstance(parent, cst.Attribute)
            awaited = cst.Await(
                expression=node,
                lpar=[cst.LeftParen()] if parenthesize else [],
                rpar=[cst.RightParen()] if parenthesize else [],
            )
            fix = FixSpec("safe", f"Insert `await` before `{method}(...)`", [(node, awaited)])
        ctx.report(
            node,
            f"`{method}()` is a coroutine on an AsyncSession and is never awaited, so it does nothing",
            fix=fix,
            help="Add `await`",
        )

    def _assigned_and_lost(self, statement: cst.Assign | cst.AnnAssign) -> bool:
        """`r = s.execute(q)` where `r` is never awaited, passed on or returned: every use of
        `r` in the function is an attribute access (`r.scalars()`) on the coroutine."""
        if isinstance(statement, cst.Assign):
            if len(statement.targets) != 1:
                return False
            target = statement.targets[0].target
        else:
            target = statement.target
        if not isinstance(target, cst.Name):
            return False
        scope = self.ctx.function_scope
        if scope is None:
            return False
        uses = _NameUses(target.value)
        # A function or lambda scope: its node has a body.
        cast("cst.FunctionDef | cst.Lambda", scope.node).body.visit(uses)
        return not uses.other


class _NameUses(cst.CSTVisitor):
    """Finds uses of a name other than as an attribute receiver or an assignment target."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name
        self.other = False
        self._harmless: set[cst.CSTNode] = set()

    def visit_Attribute(self, node: cst.Attribute) -> None:
        self._harmless.update((node.value, node.attr))

    def visit_Arg(self, node: cst.Arg) -> None:
        if node.keyword is not None:
            self._harmless.add(node.keyword)

    def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
        self._harmless.add(node.target)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._harmless.add(node.target)

    def visit_Name(self, node: cst.Name) -> None:
        if node.value == self.name and node not in self._harmless:
            self.other = True


RULE = UnawaitedSessionCall
