"""ASL305 global-session: one AsyncSession instance shared by the whole process.

A session is a unit of work: one transaction, one connection, an identity map.
Bound at module level (or to a `global` name from inside a function), it is
shared by every request and task: their queries interleave on it (which an
AsyncSession does not support), one failed transaction breaks the others, and
its identity map serves stale objects. Flags an assignment whose value is a
call creating a session (`AsyncSession(engine)`, `SessionLocal()` for an
`async_sessionmaker` instance, see `ctx.type_of`) at module level, in a class
body at module level (a class attribute is shared by all instances just the
same), or to a name declared `global` in a function. Located at the creating call.

Not flagged: a factory (`async_sessionmaker(...)`, `sessionmaker(...)`) at
module level; sessions bound to local names or to `self.x`; code under
`if __name__ == "__main__":` (a script's one unit of work, not a server's).

No fix: keep the factory at module level and open a session per request or task.
"""

from __future__ import annotations

import libcst as cst

from asynclint import knowledge
from asynclint.rule import Rule


class GlobalSession(Rule):
    code = "ASL305"
    name = "global-session"
    summary = "AsyncSession instance shared at module level"
    tokens = ("AsyncSession", "sessionmaker")

    def visit_Assign(self, node: cst.Assign) -> None:
        self._check([t.target for t in node.targets], node.value)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if node.value is not None:
            self._check([node.target], node.value)

    def _check(self, targets: list[cst.BaseExpression], value: cst.BaseExpression) -> None:
        if not isinstance(value, cst.Call) or self.ctx.type_of(value) != knowledge.ASYNC_SESSION:
            return
        where = self._shared_binding(targets)
        if where is None:
            return
        self.ctx.report(
            value,
            f"an AsyncSession created {where} is shared by every request and task",
            help="Keep the factory there and open a session per request or task (`async with SessionLocal() as session:`)",
        )

    def _shared_binding(self, targets: list[cst.BaseExpression]) -> str | None:
        """Where the session lives if it outlives any one request: a description, else None."""
        scope = self.ctx.scope
        if scope.kind == "function":
            if any(isinstance(t, cst.Name) and t.value in scope.global_names for t in targets):
                return "into a `global` name"
            return None
        while scope.kind == "class" and scope.parent is not None:
            scope = scope.parent
        if scope.kind != "module" or self._under_main_guard():
            return None
        return "at module level" if self.ctx.scope.kind == "module" else "as a class attribute"

    def _under_main_guard(self) -> bool:
        return any(isinstance(ancestor, cst.If) and _is_main_guard(ancestor.test) for ancestor in self.ctx.ancestors())


def _is_main_guard(test: cst.BaseExpression) -> bool:
    """`__name__ == "__main__"` (either way round)."""
    if not isinstance(test, cst.Comparison) or len(test.comparisons) != 1:
        return False
    if not isinstance(test.comparisons[0].operator, cst.Equal):
        return False
    sides = [test.left, test.comparisons[0].comparator]
    names = [s for s in sides if isinstance(s, cst.Name) and s.value == "__name__"]
    strings = [s for s in sides if isinstance(s, cst.SimpleString) and s.evaluated_value == "__main__"]
    return len(names) == 1 and len(strings) == 1


RULE = GlobalSession
