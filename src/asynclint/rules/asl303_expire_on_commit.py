"""ASL303 expire-on-commit: an async session or factory that expires objects on commit.

With the default `expire_on_commit=True`, `commit()` expires every loaded
object, and the next attribute read refreshes it from the database: implicit
I/O, which under asyncio raises `MissingGreenlet` (typically when a handler
commits and then returns the object). Flags `async_sessionmaker(...)`,
`AsyncSession(...)` (SQLAlchemy's or SQLModel's) and
`sessionmaker(..., class_=AsyncSession)` without `expire_on_commit=False`,
including an explicit `expire_on_commit=True`.

Not flagged: `expire_on_commit=False`, or any value that is not the literal
`True` (a variable: the author decides); a `**kwargs` or `*args` splat (the
option is unknown); more than one positional argument (SQLAlchemy 1.x took
these options positionally); sync `sessionmaker(...)`/`Session(...)`; a
project's own session classes from `session-types` (their `__init__` may set
the default).

Fix (unsafe: objects are no longer reloaded after a commit): add
`expire_on_commit=False`, or turn an explicit `True` into `False`.
"""

from __future__ import annotations

import libcst as cst

from asynclint import knowledge
from asynclint.analysis import is_true, keyword
from asynclint.fixes import FixSpec, add_keyword
from asynclint.rule import Rule

_ASYNC_MAKERS = frozenset({knowledge.ASYNC_SESSIONMAKER, knowledge.ASYNC_SESSION})


class ExpireOnCommit(Rule):
    code = "ASL303"
    name = "expire-on-commit"
    summary = "Async session created without `expire_on_commit=False`"
    tokens = ("AsyncSession", "async_sessionmaker")
    fix_applicability = "unsafe"

    def visit_Call(self, node: cst.Call) -> None:
        made = self._creates(node)
        if made is None or any(arg.star for arg in node.args):
            return
        if sum(1 for arg in node.args if arg.keyword is None) > 1:
            return
        option = keyword(node, "expire_on_commit")
        if option is None:
            fix = FixSpec(
                "unsafe",
                "Add `expire_on_commit=False`",
                [(node, add_keyword(node, "expire_on_commit", cst.Name("False")))],
            )
        elif is_true(option.value):
            fix = FixSpec("unsafe", "Set `expire_on_commit=False`", [(option.value, cst.Name("False"))])
        else:
            return
        self.ctx.report(
            node,
            f"`{made}(...)` expires every object on commit (`expire_on_commit` defaults to True): reading an "
            "attribute after `commit()` is implicit I/O, which fails under asyncio (MissingGreenlet)",
            fix=fix,
            help="Pass `expire_on_commit=False`",
        )

    def _creates(self, node: cst.Call) -> str | None:
        """The short name of what `node` constructs, if it is an async session or factory."""
        # The library's own names only: a `session-types` class may set its own default.
        name = knowledge.canonical(self.ctx.call_name(node))
        if name in _ASYNC_MAKERS:
            return name.rsplit(".", 1)[-1]
        if name == knowledge.SYNC_SESSIONMAKER:
            class_ = keyword(node, "class_")
            if class_ is not None and knowledge.canonical(self.ctx.qualname(class_.value)) == knowledge.ASYNC_SESSION:
                return "sessionmaker"
        return None


RULE = ExpireOnCommit
