"""The shared shape of ASL201-ASL206: a call in async code that blocks the event loop.

A rule of this family names the qualified calls it knows (plus the user's
`extra-blocking-calls` for its code) and may add receiver-based checks
(a method of a sync HTTP client, of a Path, of a Redis client).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import libcst as cst

from asynclint import analysis
from asynclint.fixes import FixSpec
from asynclint.rule import Rule

if TYPE_CHECKING:
    from asynclint.config import Settings


class BlockingCallRule(Rule):
    needs_async = True
    calls: ClassVar[frozenset[str]] = frozenset()
    # Receiver-based checks: a type (as `ctx.type_of` names it) -> its methods that block.
    receiver_methods: ClassVar[dict[str, frozenset[str]]] = {}
    # The help line: what to use instead.
    remedy: ClassVar[str] = ""
    # Its calls in a sync helper make the helper blocking for ASL207 (registry.CHAIN_CODES).
    feeds_chains: ClassVar[bool] = True
    # Users add their own qualified names (`extra-blocking-calls`; registry.EXTRA_CALL_CODES).
    accepts_extra_calls: ClassVar[bool] = True

    @classmethod
    def mentioned(cls, text: str, settings: Settings) -> bool:
        # The user's extra calls may be spelled any way: no token to look for.
        return bool(settings.extra_calls_for(cls.code)) or super().mentioned(text, settings)

    def visit_Call(self, node: cst.Call) -> None:
        if not self.ctx.in_async:
            return
        found = self.match(node)
        if found is not None:
            function = self.ctx.function_scope
            if function is not None and isinstance(function.node, cst.FunctionDef):
                if (
                    analysis.lone_main(self.ctx, function.node)
                    or analysis.in_opening_of_main(self.ctx, function.node, node)
                    or analysis.reads_terminal(self.ctx, function.node)
                ):
                    return  # a program's main alone on its loop (or not yet suspended), or one waiting for its user
            name, subject = found
            fix = self.fix(node, name) if name else None
            self.ctx.report(node, f"{subject} blocks the event loop in async code", fix=fix, help=self.remedy_for(name))

    def remedy_for(self, name: str | None) -> str:
        """What to use instead of this call (its qualified name, None for a method)."""
        return self.remedy

    def match(self, node: cst.Call) -> tuple[str | None, str] | None:
        """Does this call block, wherever it is? (qualified name or None, subject for the
        message). Project analysis asks this of calls in sync functions too."""
        ctx = self.ctx
        name = ctx.call_name(node)
        if name is not None and (name in self.calls or name in ctx.settings.extra_calls_for(self.code)):
            return name, f"`{name.removeprefix('builtins.')}`"
        # `await x.get()` means the author holds an async object: our evidence for a sync
        # type (often an annotation) is wrong, so stay silent.
        if isinstance(node.func, cst.Attribute) and not isinstance(ctx.parent(node), cst.Await):
            subject = self.blocking_method(node, node.func)
            if subject:
                return None, subject
        return None

    def blocking_method(self, node: cst.Call, func: cst.Attribute) -> str | None:
        """For receiver-based checks: the subject of the message, like
        "`.get()` on a `requests.Session`", or None."""
        method = func.attr.value
        if not any(method in methods for methods in self.receiver_methods.values()):
            return None  # cheap exit before any type inference
        kind = self.ctx.type_of(func.value)
        if kind is not None and method in self.receiver_methods.get(kind, ()):
            return f"`.{method}()` on a `{kind}`"
        return None

    def fix(self, node: cst.Call, name: str) -> FixSpec | None:
        return None
