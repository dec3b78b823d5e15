"""What a rule can ask about the code it is looking at, during the traversal."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import libcst as cst

from asynclint.resolve import Resolver
from asynclint.scope import Scope

if TYPE_CHECKING:
    from asynclint.config import Settings
    from asynclint.fixes import FixSpec


@dataclass
class Report:
    code: str
    node: cst.CSTNode
    message: str
    fix: FixSpec | None
    help: str | None
    # The module-level statement the finding is in (None if reported after the traversal):
    # a fix is rendered from it alone, not from the whole module.
    statement: cst.CSTNode | None = None


class Context:
    def __init__(
        self,
        path: str,
        module: cst.Module,
        scopes: dict[cst.CSTNode, Scope],
        settings: Settings,
        module_name: str | None = None,
        project=None,
    ) -> None:
        self.path = path
        self.module = module
        self.scopes = scopes
        self.settings = settings
        self.module_name = module_name
        # The project index (asynclint.project.ProjectIndex) when project analysis runs.
        self.project = project
        self.resolver = Resolver(settings.session_types, module_name, path.endswith("__init__.py"))
        if project is not None:
            self.resolver.attach(project, scopes)  # sessions and resources across modules
        self.scope: Scope = scopes[module]
        self.stack: list[cst.CSTNode] = []  # the nodes from the module down to the current one
        self.reports: list[Report] = []
        self.current_code = ""  # set by the engine before each hook call
        # Per-module answers that several rules share, computed once on first use (see analysis).
        self.cache: dict[str, object] = {}

    # -- where are we? ---------------------------------------------------------

    @property
    def in_async(self) -> bool:
        """Lexically in an `async def` body, not inside a nested def, lambda or class."""
        scope = self.scope
        while scope.kind == "comprehension" and scope.parent is not None:
            scope = scope.parent
        return scope.kind == "function" and scope.is_async

    @property
    def function_scope(self) -> Scope | None:
        scope: Scope | None = self.scope
        while scope is not None and scope.kind not in ("function", "lambda"):
            scope = scope.parent
        return scope

    def parent(self, node: cst.CSTNode) -> cst.CSTNode | None:
        """The parent of `node`, which must be on the current stack."""
        for index in range(len(self.stack) - 1, 0, -1):
            if self.stack[index] is node:
                return self.stack[index - 1]
        return None

    def ancestors(self):
        """Nodes above the current one, innermost first."""
        return reversed(self.stack[:-1])

    # -- what is it? -------------------------------------------------------------

    def qualname(self, expr: cst.CSTNode, scope: Scope | None = None) -> str | None:
        return self.resolver.qualname(expr, scope or self.scope)

    def call_name(self, call: cst.Call, scope: Scope | None = None) -> str | None:
        return self.resolver.qualname(call.func, scope or self.scope)

    def type_of(self, expr: cst.CSTNode, scope: Scope | None = None) -> str | None:
        return self.resolver.type_of(expr, scope or self.scope)

    def annotation_type(self, annotation: cst.CSTNode, scope: Scope | None = None) -> str | None:
        return self.resolver.annotation_type(annotation, scope or self.scope)

    def is_session(self, expr: cst.CSTNode, scope: Scope | None = None) -> bool:
        from asynclint.knowledge import ASYNC_SESSION

        return self.type_of(expr, scope) == ASYNC_SESSION

    # -- reporting -----------------------------------------------------------------

    def report(
        self, node: cst.CSTNode, message: str, fix: FixSpec | None = None, code: str | None = None, help: str | None = None
    ) -> None:
        statement = self.stack[1] if len(self.stack) > 1 else None
        self.reports.append(Report(code or self.current_code, node, message, fix, help, statement))
