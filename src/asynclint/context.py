"""What a rule can ask about the code it is looking at, during the traversal."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeGuard

import libcst as cst

from asynclint.knowledge import DEPRECATED_DECORATOR, TEST_FIXTURE_DECORATORS
from asynclint.registry import NOT_IN_TESTS
from asynclint.resolve import Resolver
from asynclint.scope import Scope, last_name

if TYPE_CHECKING:
    from collections.abc import Iterator

    from asynclint.config import Settings
    from asynclint.fixes import FixSpec
    from asynclint.project import ProjectIndex


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
    # A place recorded for the index to judge (`Rule.records_sites`): the rule's data, and
    # the number of its call in the module (`Context.calls`), if it is one.
    site: object = None
    call: int | None = None


class Context:
    def __init__(
        self,
        path: str,
        module: cst.Module,
        scopes: dict[cst.CSTNode, Scope],
        settings: Settings,
        module_name: str | None = None,
        project: ProjectIndex | None = None,
        text: str | None = None,
    ) -> None:
        self.path = path
        # The module's source, for word prefilters (`analysis.reads_terminal`); None: a
        # prefilter cannot rule anything out.
        self.text = text
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
        # Calls entered so far, in source order (the engine counts them): a recorded place's
        # call is located by its number (`positions.call_ranges`).
        self.calls = 0
        # A pass collecting facts without the index: rules that record their places do.
        self.recording = False
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

    def ancestors(self) -> Iterator[cst.CSTNode]:
        """Nodes above the current one, innermost first."""
        return reversed(self.stack[:-1])

    # -- what is it? -------------------------------------------------------------

    def of_project(self, name: str | None) -> TypeGuard[str]:
        """Is `name` (resolved) the project's own: of this module's top-level package
        (`shop.api.x` in `shop.web.routes`)?"""
        top = (self.module_name or "").partition(".")[0]
        return name is not None and bool(top) and name.partition(".")[0] == top

    def qualname(self, expr: cst.CSTNode, scope: Scope | None = None) -> str | None:
        return self.resolver.qualname(expr, scope or self.scope)

    def call_name(self, call: cst.Call, scope: Scope | None = None) -> str | None:
        return self.resolver.qualname(call.func, scope or self.scope)

    def type_of(self, expr: cst.CSTNode, scope: Scope | None = None) -> str | None:
        return self.resolver.type_of(expr, scope or self.scope)

    def annotation_type(self, annotation: cst.CSTNode, scope: Scope | None = None) -> str | None:
        return self.resolver.annotation_type(annotation, scope or self.scope)

    def narrowed_type(self, expr: cst.CSTNode) -> str | None:
        """The type that an enclosing `if isinstance(p, T):` (or `... if isinstance(p, T) else
        ...`) gives a parameter `p` here, in the branch where the test holds. Only a parameter
        never rebound in its function: then nothing between the test and here changes it."""
        if not isinstance(expr, cst.Name):
            return None
        found = self.scope.lookup(expr.value)
        if found is None or found[0].kind not in ("function", "lambda") or not all(b.kind == "param" for b in found[1]):
            return None
        stack = self.stack
        for index in range(len(stack) - 1, 0, -1):
            child, parent = stack[index], stack[index - 1]
            if isinstance(parent, (cst.FunctionDef, cst.Lambda, cst.ClassDef)):
                return None
            if isinstance(parent, (cst.If, cst.IfExp)) and child is parent.body:
                narrowed = self._isinstance_test(parent.test, expr.value)
                if narrowed is not None:
                    return narrowed
        return None

    def _isinstance_test(self, test: cst.BaseExpression, name: str) -> str | None:
        if isinstance(test, cst.BooleanOperation) and isinstance(test.operator, cst.And):
            return self._isinstance_test(test.left, name) or self._isinstance_test(test.right, name)
        if not isinstance(test, cst.Call) or len(test.args) != 2 or self.call_name(test) != "builtins.isinstance":
            return None
        subject, kind = test.args[0].value, test.args[1].value
        if not isinstance(subject, cst.Name) or subject.value != name or any(a.keyword or a.star for a in test.args):
            return None
        from asynclint.knowledge import canonical

        if isinstance(kind, cst.Tuple):
            kinds = {canonical(self.qualname(element.value)) for element in kind.elements}
            return kinds.pop() if len(kinds) == 1 else None
        return canonical(self.qualname(kind))

    def is_session(self, expr: cst.CSTNode, scope: Scope | None = None) -> bool:
        from asynclint.knowledge import ASYNC_SESSION

        return self.type_of(expr, scope) == ASYNC_SESSION

    # -- reporting -----------------------------------------------------------------

    def report(
        self,
        node: cst.CSTNode,
        message: str,
        fix: FixSpec | None = None,
        code: str | None = None,
        help: str | None = None,
        site: object = None,
    ) -> None:
        code = code or self.current_code
        if code in NOT_IN_TESTS and self.settings.test_files and self._in_test_fixture():
            return  # test code, wherever the file is (`test-files`)
        if self._in_deprecated():
            return  # on its way out: the change goes into what replaces it
        statement = self.stack[1] if len(self.stack) > 1 else None
        call = self.calls - 1 if site is not None and isinstance(node, cst.Call) and node is self.stack[-1] else None
        self.reports.append(Report(code, node, message, fix, help, statement, site, call))

    def _in_deprecated(self) -> bool:
        """Inside a class or function decorated `@deprecated(...)` (`typing_extensions`,
        `warnings`, the `deprecated` package: `knowledge.DEPRECATED_DECORATOR`)?"""
        return any(
            last_name(callee) == DEPRECATED_DECORATOR
            for callee, _ in self._enclosing_decorators(self.scope, (cst.FunctionDef, cst.ClassDef))
        )

    def _in_test_fixture(self) -> bool:
        """Inside a function decorated as a pytest fixture (`@pytest.fixture`,
        `@pytest_asyncio.fixture(scope="session")`): test code in a module the `test-files`
        globs do not name, such as a plugin package of fixtures (`redbot/pytest/`)."""
        return any(
            self.qualname(callee, scope.parent) in TEST_FIXTURE_DECORATORS
            for callee, scope in self._enclosing_decorators(self.function_scope, (cst.FunctionDef,))
        )

    @staticmethod
    def _enclosing_decorators(
        scope: Scope | None, kinds: tuple[type[cst.FunctionDef | cst.ClassDef], ...]
    ) -> Iterator[tuple[cst.BaseExpression, Scope]]:
        """The callee of each decorator (`pytest.fixture` of `@pytest.fixture(scope=...)`) of
        the defs of `kinds` around the code, from `scope` out, with the scope of that def."""
        while scope is not None:
            if isinstance(scope.node, kinds):
                for decorator in scope.node.decorators:
                    expr = decorator.decorator
                    yield (expr.func if isinstance(expr, cst.Call) else expr), scope
            scope = scope.parent
