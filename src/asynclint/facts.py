"""Collects a module's facts for project-wide analysis during the engine's traversal.

It rides along with the rules (same hooks, same context) but reports nothing;
what it gathers is described in `asynclint.project`.
"""

from __future__ import annotations

import libcst as cst

from asynclint import registry
from asynclint.context import Context
from asynclint.knowledge import CACHING_DECORATORS


# The blocking-call rules whose matches make a sync function "blocking".
_BLOCKING_CODES = ("ASL201", "ASL202", "ASL203", "ASL204", "ASL205")


class FactsCollector:
    code = "facts"

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.module = ctx.module_name or ""
        self.functions: dict[str, dict] = {}
        self.classes: dict[str, dict] = {}
        self.async_calls: set[str] = set()
        self.stack: list[tuple[cst.FunctionDef, str | None]] = []  # (node, qualname or None)
        self.matchers = [registry.load_rule(code)(ctx) for code in _BLOCKING_CODES if code in registry.rule_modules()]

    def _qualname(self, node) -> str | None:
        """The project-wide name of a def/class being entered (None for local definitions)."""
        ctx = self.ctx
        return ctx.resolver.qualname(node.name, ctx.scope) if self.module else None

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        name = self._qualname(node)
        if name:
            self.classes[name] = {"display": node.name.value}

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        name = self._qualname(node)
        if name:
            display = name[len(self.module) + 1 :] if name.startswith(self.module + ".") else name
            self.functions[name] = {
                "async": node.asynchronous is not None,
                "cached": any(self._is_cache(d.decorator) for d in node.decorators),
                "display": display,
                "calls": [],
                "blocking": [],
            }
        self.stack.append((node, name))

    def leave_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.stack.pop()

    def _is_cache(self, decorator: cst.BaseExpression) -> bool:
        target = decorator.func if isinstance(decorator, cst.Call) else decorator
        return self.ctx.qualname(target) in CACHING_DECORATORS

    def visit_Call(self, node: cst.Call) -> None:
        ctx = self.ctx
        # Calls in the body of the innermost def (not in a nested lambda or class body).
        scope = ctx.function_scope
        if not self.stack or scope is None or scope.node is not self.stack[-1][0]:
            return
        callee = ctx.call_name(node)
        name = self.stack[-1][1]
        if ctx.in_async:
            if callee and self._is_project_name(callee):
                self.async_calls.add(callee)
            return
        if name is None:
            return
        record = self.functions[name]
        if callee and self._is_project_name(callee):
            record["calls"].append(callee)
        for matcher in self.matchers:
            found = matcher.match(node)
            if found is not None:
                qualified, subject = found
                record["blocking"].append([matcher.code, (qualified or subject.replace("`", "")).removeprefix("builtins.")])
                break

    def _is_project_name(self, name: str) -> bool:
        # Anything not from the standard library or builtins may be the project's;
        # the index knows only project functions, so other names simply never match.
        return not name.startswith("builtins.")

    def finish(self) -> None:
        """Nothing to report; the engine asks for `facts()` after the traversal."""

    def facts(self) -> dict:
        exports = {}
        module_scope = self.ctx.scopes[self.ctx.module]
        for local, bindings in module_scope.bindings.items():
            if len(bindings) == 1 and bindings[0].kind == "import":
                target = self.ctx.resolver.qualname(cst.Name(local), module_scope)
                if target and self.module:
                    exports[f"{self.module}.{local}"] = target
        return {
            "module": self.module,
            "functions": self.functions,
            "classes": self.classes,
            "exports": exports,
            "async_calls": sorted(self.async_calls),
        }


