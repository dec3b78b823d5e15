"""The shared shape of ASL201-ASL206: a call in async code that blocks the event loop.

A rule of this family names the qualified calls it knows (plus the user's
`extra-blocking-calls` for its code) and may add receiver-based checks
(a method of a sync HTTP client, of a Path, of a Redis client).
"""

from __future__ import annotations

from typing import ClassVar

import libcst as cst

from asynclint.fixes import FixSpec
from asynclint.rule import Rule


class BlockingCallRule(Rule):
    needs_async = True
    calls: ClassVar[frozenset[str]] = frozenset()
    # Said after the message: what to use instead.
    remedy: ClassVar[str] = ""

    @classmethod
    def wants(cls, text, settings) -> bool:
        if settings.extra_calls_for(cls.code):
            return "async" in text
        return super().wants(text, settings)

    def visit_Call(self, node: cst.Call) -> None:
        ctx = self.ctx
        if not ctx.in_async:
            return
        name = ctx.call_name(node)
        if name is not None and (name in self.calls or name in ctx.settings.extra_calls_for(self.code)):
            ctx.report(node, self.message(name), fix=self.fix(node, name))
            return
        if isinstance(node.func, cst.Attribute):
            described = self.blocking_method(node, node.func)
            if described:
                ctx.report(node, self.message(described))

    def message(self, what: str) -> str:
        shown = what.removeprefix("builtins.")
        return f"`{shown}` blocks the event loop in async code; {self.remedy}"

    def blocking_method(self, node: cst.Call, func: cst.Attribute) -> str | None:
        """For receiver-based checks: a description like `requests.Session.get`, or None."""
        return None

    def fix(self, node: cst.Call, name: str) -> FixSpec | None:
        return None
