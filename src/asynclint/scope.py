"""Scopes and bindings, collected in one pass before the rules run.

Python decides at compile time which names are local to a function: a name
assigned anywhere in a body is local in all of it. So bindings are gathered
for every scope first, and the rules' traversal then looks names up in them.
This is a small, purpose-built version of what LibCST's ScopeProvider does,
at a fraction of its cost (see the benchmark).
"""

from __future__ import annotations

import builtins
import weakref
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, cast

import libcst as cst

from asynclint.walk import COMPREHENSIONS, LEAVES, SCOPE_BODY_OWNERS, children

if TYPE_CHECKING:
    from collections.abc import Callable

    # A node class's (visit_X, leave_X) on the builder, unbound: called with (builder, node).
    _Hook = Callable[[Any, Any], object]
    _Hooks = tuple[_Hook | None, _Hook | None]

BUILTIN_NAMES = frozenset(dir(builtins))


@dataclass(eq=False)
class Binding:
    """One way a name gets a value in a scope."""

    kind: str  # import, param, assign, annassign, augassign, def, class, for, with, except, walrus, other
    node: cst.CSTNode | None = None
    qualname: str | None = None  # imports: the qualified name bound
    value: cst.BaseExpression | None = None  # assignments and `with ... as`: the value
    annotation: cst.BaseExpression | None = None  # params and annotated assignments
    # Instance attributes: the scope their value and annotation are written in (a method),
    # which is not the class scope they are recorded on. Held weakly: that method's class
    # scope holds this binding, and a cycle would keep the file's whole tree in memory until
    # the garbage collector ran (the scopes themselves live as long as the file's lint).
    scope_ref: weakref.ref[Scope] | None = None

    @property
    def scope(self) -> Scope | None:
        return self.scope_ref() if self.scope_ref is not None else None


@dataclass(eq=False)
class Scope:
    kind: str  # module, function, lambda, class, comprehension
    node: cst.CSTNode
    parent: Scope | None
    is_async: bool = False
    bindings: dict[str, list[Binding]] = field(default_factory=dict)
    global_names: set[str] = field(default_factory=set)
    nonlocal_names: set[str] = field(default_factory=set)
    # Class scopes: `self.attr = value` assignments made in its methods.
    instance_attrs: dict[str, list[Binding]] = field(default_factory=dict)
    # Function scopes: the name of the first parameter of a method (self/cls).
    self_name: str | None = None
    # Function scopes: what each region of the body assigns, as `guards` works it out once.
    stored: dict[cst.CSTNode, frozenset[str]] | None = field(default=None, repr=False)

    def bind(self, name: str, binding: Binding) -> None:
        # `global x` then `x = ...` binds the module's x, not a local.
        target = self.module if name in self.global_names else self
        target.bindings.setdefault(name, []).append(binding)

    @property
    def module(self) -> Scope:
        scope = self
        while scope.parent is not None:
            scope = scope.parent
        return scope

    @property
    def enclosing_class(self) -> Scope | None:
        """For a method's scope: the class it is defined in."""
        parent = self.parent
        return parent if parent is not None and parent.kind == "class" else None

    def lookup(self, name: str) -> tuple[Scope, list[Binding]] | None:
        """Where `name` is bound as seen from this scope, following Python's rules."""
        scope: Scope | None = self
        first = True
        while scope is not None:
            if name in scope.global_names:
                module = scope.module
                return (module, module.bindings.get(name, []))
            # Class bodies are not visible from the functions nested in them.
            if first or scope.kind != "class":
                if name in scope.bindings:
                    return (scope, scope.bindings[name])
            first = False
            scope = scope.parent
        return None


def dotted_name(node: cst.CSTNode) -> str | None:
    """`a.b.c` as a string, for Name/Attribute chains only."""
    parts = []
    while isinstance(node, cst.Attribute):
        parts.append(node.attr.value)
        node = node.value
    if not isinstance(node, cst.Name):
        return None
    parts.append(node.value)
    return ".".join(reversed(parts))


def root_name(node: cst.CSTNode) -> cst.Name | None:
    """The `a` of `a.b.c` (a Name is its own root); None when the chain starts elsewhere (a call, a subscript)."""
    while isinstance(node, cst.Attribute):
        node = node.value
    return node if isinstance(node, cst.Name) else None


def last_name(func: cst.BaseExpression) -> str | None:
    """The name a callee ends with: `f` of `f(...)` and of `a.b.f(...)`; None otherwise. A
    cheap test before resolving the call."""
    if isinstance(func, cst.Attribute):
        return func.attr.value
    return func.value if isinstance(func, cst.Name) else None


def _import_module_name(node: cst.ImportFrom) -> str:
    dots = "." * len(node.relative)
    module = dotted_name(node.module) if node.module is not None else ""
    return dots + (module or "")


class ScopeBuilder:
    """Builds the Scope of every module, function, lambda, class and comprehension."""

    def __init__(self) -> None:
        self.scopes: dict[cst.CSTNode, Scope] = {}
        self.stack: list[Scope] = []

    # Per node class: (visit_X, leave_X) as plain functions. Bound methods kept on the
    # builder would make a cycle through it, and keep the file's tree alive after the lint.
    _HOOKS: ClassVar[dict[type, _Hooks]] = {}

    @classmethod
    def _hooks_for(cls, node_type: type) -> _Hooks:
        hooks = cls._HOOKS.get(node_type)
        if hooks is None:
            name = node_type.__name__
            hooks = cls._HOOKS[node_type] = (getattr(cls, f"visit_{name}", None), getattr(cls, f"leave_{name}", None))
        return hooks

    # (`build_scopes` walks the tree and calls these.)
    def enter_body(self, node: cst.CSTNode) -> None:
        cls = type(node)
        if cls is cst.FunctionDef:
            self.visit_FunctionDef_body(cast(cst.FunctionDef, node))
        elif cls is cst.ClassDef:
            self._push("class", node)
        else:
            self.visit_Lambda_body(cast(cst.Lambda, node))

    @property
    def current(self) -> Scope:
        return self.stack[-1]

    def _push(self, kind: str, node: cst.CSTNode, is_async: bool = False) -> Scope:
        scope = Scope(kind=kind, node=node, parent=self.stack[-1] if self.stack else None, is_async=is_async)
        self.scopes[node] = scope
        self.stack.append(scope)
        return scope

    # Scopes open on the body, so decorators, defaults and annotations belong to the outer scope.
    def visit_Module(self, node: cst.Module) -> None:
        self._push("module", node)

    def leave_Module(self, node: cst.Module) -> None:
        self.stack.pop()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.current.bind(node.name.value, Binding("def", node))

    def visit_FunctionDef_body(self, node: cst.FunctionDef) -> None:
        outer = self.current
        scope = self._push("function", node, is_async=node.asynchronous is not None)
        params = node.params
        ordered = [*params.posonly_params, *params.params]
        for param in [*ordered, *params.kwonly_params]:
            scope.bind(
                param.name.value,
                Binding("param", param, annotation=param.annotation.annotation if param.annotation else None),
            )
        for star in (params.star_arg, params.star_kwarg):
            if isinstance(star, cst.Param):
                scope.bind(star.name.value, Binding("param", star))
        if outer.kind == "class" and ordered:
            is_static = any(dotted_name(d.decorator) == "staticmethod" for d in node.decorators)
            if not is_static:
                scope.self_name = ordered[0].name.value

    def visit_Lambda_body(self, node: cst.Lambda) -> None:
        scope = self._push("lambda", node)
        params = node.params
        for param in [*params.posonly_params, *params.params, *params.kwonly_params]:
            scope.bind(param.name.value, Binding("param", param))
        for star in (params.star_arg, params.star_kwarg):
            if isinstance(star, cst.Param):
                scope.bind(star.name.value, Binding("param", star))

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self.current.bind(node.name.value, Binding("class", node))

    # Names bound by statements and expressions.
    def visit_Import(self, node: cst.Import) -> None:
        for alias in node.names:
            full = dotted_name(alias.name)
            if full is None:
                continue
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                self.current.bind(alias.asname.name.value, Binding("import", node, qualname=full))
            else:
                top = full.split(".")[0]
                self.current.bind(top, Binding("import", node, qualname=top))

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        if isinstance(node.names, cst.ImportStar):
            return
        module = _import_module_name(node)
        sep = "" if module.endswith(".") else "."
        for alias in node.names:
            name = dotted_name(alias.name)
            if name is None:
                continue
            local = (
                alias.asname.name.value
                if alias.asname is not None and isinstance(alias.asname.name, cst.Name)
                else name
            )
            self.current.bind(local, Binding("import", node, qualname=f"{module}{sep}{name}"))

    def visit_Global(self, node: cst.Global) -> None:
        self.current.global_names.update(item.name.value for item in node.names)

    def visit_Nonlocal(self, node: cst.Nonlocal) -> None:
        self.current.nonlocal_names.update(item.name.value for item in node.names)

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            self._bind_target(target.target, "assign", node, value=node.value)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._bind_target(node.target, "annassign", node, value=node.value, annotation=node.annotation.annotation)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._bind_target(node.target, "augassign", node)

    def visit_For(self, node: cst.For) -> None:
        self._bind_target(node.target, "for", node)

    def visit_CompFor(self, node: cst.CompFor) -> None:
        self._bind_target(node.target, "for", node)

    def visit_WithItem(self, node: cst.WithItem) -> None:
        if node.asname is not None:
            self._bind_target(node.asname.name, "with", node, value=node.item)

    def visit_ExceptHandler(self, node: cst.ExceptHandler) -> None:
        if node.name is not None and isinstance(node.name.name, cst.Name):
            self.current.bind(node.name.name.value, Binding("except", node))

    def visit_ExceptStarHandler(self, node: cst.ExceptStarHandler) -> None:
        if node.name is not None and isinstance(node.name.name, cst.Name):
            self.current.bind(node.name.name.value, Binding("except", node))

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        # A walrus in a comprehension binds in the enclosing function (PEP 572).
        scope = self.current
        while scope.kind == "comprehension" and scope.parent is not None:
            scope = scope.parent
        if isinstance(node.target, cst.Name):
            scope.bind(node.target.value, Binding("walrus", node, value=node.value))

    def visit_Del(self, node: cst.Del) -> None:
        self._bind_target(node.target, "other", node)

    def visit_MatchAs(self, node: cst.MatchAs) -> None:
        if node.name is not None:
            self.current.bind(node.name.value, Binding("other", node))

    def visit_MatchStar(self, node: cst.MatchStar) -> None:
        if node.name is not None:
            self.current.bind(node.name.value, Binding("other", node))

    def visit_MatchMapping(self, node: cst.MatchMapping) -> None:
        if node.rest is not None:
            self.current.bind(node.rest.value, Binding("other", node))

    def visit_TypeAlias(self, node: cst.TypeAlias) -> None:
        self.current.bind(node.name.value, Binding("assign", node, value=node.value))

    def _bind_target(
        self,
        target: cst.BaseExpression,
        kind: str,
        node: cst.CSTNode,
        value: cst.BaseExpression | None = None,
        annotation: cst.BaseExpression | None = None,
    ) -> None:
        if isinstance(target, cst.Name):
            self.current.bind(target.value, Binding(kind, node, value=value, annotation=annotation))
        elif isinstance(target, (cst.Tuple, cst.List)):
            # Unpacking: the names are bound, but not to the whole value.
            for element in target.elements:
                self._bind_target(element.value, kind if kind != "assign" else "other", node)
        elif isinstance(target, cst.StarredElement):
            self._bind_target(target.value, "other", node)
        elif isinstance(target, cst.Attribute) and isinstance(target.value, cst.Name):
            self._bind_instance_attr(target, kind, node, value, annotation)

    def _bind_instance_attr(
        self,
        target: cst.Attribute,
        kind: str,
        node: cst.CSTNode,
        value: cst.BaseExpression | None,
        annotation: cst.BaseExpression | None,
    ) -> None:
        scope = self.current
        while scope.kind in ("comprehension", "lambda") and scope.parent is not None:
            scope = scope.parent
        if scope.kind != "function" or scope.self_name != cast(cst.Name, target.value).value:
            return
        cls = scope.enclosing_class
        if cls is not None:
            cls.instance_attrs.setdefault(target.attr.value, []).append(
                Binding(kind, node, value=value, annotation=annotation, scope_ref=weakref.ref(self.current))
            )


def build_scopes(module: cst.Module) -> dict[cst.CSTNode, Scope]:
    builder = ScopeBuilder()
    hooks_for = builder._hooks_for
    stack = builder.stack

    # `walk.walk`'s order, with the builder's hooks called in place: this walks every node of
    # every file linted, and calling walk's enter and leave callbacks cost as much as the walk
    # (tests/test_walk.py checks the scopes are those a walk with callbacks builds).
    def visit(node: cst.CSTNode) -> None:
        cls = type(node)
        if cls in COMPREHENSIONS:
            builder._push("comprehension", node)
        enter, leave = hooks_for(cls)
        if enter is not None:
            enter(builder, node)
        if cls in SCOPE_BODY_OWNERS:
            body = cast("cst.FunctionDef | cst.ClassDef | cst.Lambda", node).body
            for child in children(node):
                if child is body:
                    builder.enter_body(node)
                    visit(child)
                    stack.pop()
                else:
                    visit(child)
        elif cls not in LEAVES:
            for child in children(node):
                visit(child)
        if leave is not None:
            leave(builder, node)
        if cls in COMPREHENSIONS:
            stack.pop()

    try:
        visit(module)
    finally:
        visit = None  # type: ignore[assignment]  # the closure's cycle, as in `walk.walk`
    return builder.scopes
