"""Name resolution and a little type inference, shared by every rule.

Two questions come up in nearly every rule: "what does this name refer to?"
(a qualified name such as `time.sleep`, through imports, aliases and
shadowing) and "what kind of object is this?" (an AsyncSession, a sync HTTP
client, an event loop), learned from annotations and from the call that bound
the name. Answers are None whenever the evidence is missing or conflicting:
silence over a false alarm.
"""

from __future__ import annotations

import libcst as cst

from asynclint import knowledge
from asynclint.scope import BUILTIN_NAMES, Binding, Scope

_ANNOTATED = frozenset({"typing.Annotated", "typing_extensions.Annotated"})
_OPTIONAL = frozenset({"typing.Optional", "typing_extensions.Optional"})
_UNION = frozenset({"typing.Union", "typing_extensions.Union"})
# Qualifiers that do not change the type: `ClassVar[AsyncSession]` is an AsyncSession.
_QUALIFIERS = frozenset({"typing.ClassVar", "typing.Final", "typing_extensions.ClassVar", "typing_extensions.Final"})
_MAX_DEPTH = 8


def _definition_path(scope: Scope) -> list[str] | None:
    """Class names from the module down to `scope`; None inside a function (a local
    definition has no stable project-wide name)."""
    path: list[str] = []
    while scope.parent is not None:
        if scope.kind != "class":
            return None
        path.append(scope.node.name.value)
        scope = scope.parent
    return list(reversed(path))


def _is_none(expr) -> bool:
    return isinstance(expr, cst.Name) and expr.value == "None"


class Resolver:
    def __init__(self, session_types=(), module: str | None = None, is_package: bool = False) -> None:
        self._session_types = frozenset(session_types)
        self._types: dict[cst.CSTNode, str | None] = {}
        # The module's own dotted name: makes its functions, classes and relative
        # imports resolvable as project names (`shop.helpers.render_pdf`).
        self.module = module
        self._is_package = is_package

    # -- qualified names -------------------------------------------------------

    def qualname(self, expr: cst.CSTNode, scope: Scope, depth: int = 0) -> str | None:
        """`t.sleep` -> "time.sleep" after `import time as t`; None if unknown or shadowed."""
        if isinstance(expr, cst.Attribute):
            base = self.qualname(expr.value, scope, depth)
            if base is None and isinstance(expr.value, cst.Name):
                return self._method_qualname(expr.value.value, expr.attr.value, scope)
            return f"{base}.{expr.attr.value}" if base else None
        if not isinstance(expr, cst.Name) or depth > _MAX_DEPTH:
            return None
        found = scope.lookup(expr.value)
        if found is None:
            return f"builtins.{expr.value}" if expr.value in BUILTIN_NAMES else None
        bound_in, bindings = found
        names = {self._binding_qualname(b, bound_in, depth) for b in bindings}
        if len(names) == 1:
            return names.pop()
        return None

    def _binding_qualname(self, binding: Binding, scope: Scope, depth: int) -> str | None:
        if binding.kind == "import":
            if binding.qualname and binding.qualname.startswith(".") and self.module:
                from asynclint.project import absolute_import

                return absolute_import(self.module, binding.qualname, self._is_package)
            return binding.qualname
        if binding.kind in ("def", "class") and self.module:
            path = _definition_path(scope)
            if path is not None:
                return ".".join([self.module, *path, binding.node.name.value])
        # `sleep = time.sleep` is an alias: follow it.
        if binding.kind == "assign" and isinstance(binding.value, (cst.Name, cst.Attribute)):
            return self.qualname(binding.value, scope, depth + 1)
        return None

    def _method_qualname(self, receiver: str, attr: str, scope: Scope) -> str | None:
        """`self.helper` in a method of a module-level class -> `module.Class.helper`."""
        if not self.module:
            return None
        found = scope.lookup(receiver)
        if found is None or found[0].kind != "function" or found[0].self_name != receiver:
            return None
        cls = found[0].enclosing_class
        if cls is None or not any(b.kind == "def" for b in cls.bindings.get(attr, [])):
            return None
        path = _definition_path(cls)
        if path is None:
            return None
        return ".".join([self.module, *path, attr])

    # -- types -----------------------------------------------------------------

    def _normalise(self, name: str | None) -> str | None:
        name = knowledge.canonical(name)
        if name is not None and name in self._session_types:
            return knowledge.ASYNC_SESSION
        return name

    def type_of(self, expr: cst.CSTNode, scope: Scope, depth: int = 0) -> str | None:
        """The canonical type name of an expression's value, when evidence shows it."""
        if expr in self._types:
            return self._types[expr]
        result = None
        if depth <= _MAX_DEPTH:
            result = self._infer(expr, scope, depth)
        self._types[expr] = result
        return result

    def _infer(self, expr, scope: Scope, depth: int) -> str | None:
        if isinstance(expr, cst.Name):
            found = scope.lookup(expr.value)
            if found is None:
                return None
            return self._bindings_type(found[1], found[0], depth)
        if isinstance(expr, cst.Attribute):
            return self._attribute_type(expr, scope, depth)
        if isinstance(expr, cst.Call):
            return self._call_type(expr, scope, depth)
        if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, cst.Divide):
            left = self.type_of(expr.left, scope, depth + 1)
            return left if left == knowledge.PATH else None
        return None

    def _bindings_type(self, bindings: list[Binding], scope: Scope, depth: int) -> str | None:
        types = set()
        for binding in bindings:
            where = binding.scope or scope
            if binding.annotation is not None:
                types.add(self.annotation_type(binding.annotation, where, depth + 1))
            elif binding.kind == "with" and (entered := self._entered_type(binding.value, where, depth)):
                types.add(entered)
            elif binding.kind in ("assign", "walrus", "annassign", "with") and binding.value is not None:
                if _is_none(binding.value):
                    continue  # `x = None` is a placeholder, not evidence
                types.add(self.type_of(binding.value, where, depth + 1))
            else:
                return None
        if len(types) == 1:
            return types.pop()
        return None

    def _entered_type(self, item, scope: Scope, depth: int) -> str | None:
        """`async with factory.begin() as s`: a session factory's `begin()` yields a session."""
        if isinstance(item, cst.Call) and isinstance(item.func, cst.Attribute) and item.func.attr.value == "begin":
            return knowledge.INSTANCE_CALL_TYPES.get(self.type_of(item.func.value, scope, depth + 1))
        return None

    def _attribute_type(self, expr: cst.Attribute, scope: Scope, depth: int) -> str | None:
        attr = expr.attr.value
        if isinstance(expr.value, cst.Name):
            found = scope.lookup(expr.value.value)
            if found is not None:
                owner = found[0]
                # `self.x` in a method: what the class's methods assign to self.x.
                if owner.kind == "function" and owner.self_name == expr.value.value:
                    cls = owner.enclosing_class
                    if cls is not None:
                        bindings = cls.instance_attrs.get(attr, []) + [
                            b for b in cls.bindings.get(attr, []) if b.annotation is not None
                        ]
                        if bindings:
                            return self._bindings_type(bindings, cls, depth)
                    return None
        base = self.type_of(expr.value, scope, depth + 1)
        if base == knowledge.PATH and attr == "parent":
            return base
        return None

    def _call_type(self, call: cst.Call, scope: Scope, depth: int) -> str | None:
        func = call.func
        name = self._normalise(self.qualname(func, scope))
        if name is not None:
            if name == knowledge.SYNC_SESSIONMAKER and self._makes_async_sessions(call, scope):
                return knowledge.ASYNC_SESSIONMAKER_VIA_CLASS
            return knowledge.CALL_RESULT_TYPES.get(name, name)
        if isinstance(func, cst.Attribute):
            receiver = self.type_of(func.value, scope, depth + 1)
            if receiver == knowledge.PATH and func.attr.value in knowledge.PATH_PRESERVING_METHODS:
                return receiver
        # Calling a factory: `SessionLocal()`, `self.session_factory()`.
        return knowledge.INSTANCE_CALL_TYPES.get(self.type_of(func, scope, depth + 1))

    def _makes_async_sessions(self, call: cst.Call, scope: Scope) -> bool:
        for arg in call.args:
            if arg.keyword is not None and arg.keyword.value == "class_":
                return self._normalise(self.qualname(arg.value, scope)) == knowledge.ASYNC_SESSION
        return False

    def annotation_type(self, annotation: cst.CSTNode, scope: Scope, depth: int = 0) -> str | None:
        """`Annotated[AsyncSession, Depends(x)]`, `AsyncSession | None`, "AsyncSession" -> AsyncSession."""
        if depth > _MAX_DEPTH:
            return None
        if isinstance(annotation, cst.SimpleString):
            try:
                inner = cst.parse_expression(annotation.evaluated_value)
            except (cst.ParserSyntaxError, Exception):  # a string that is not an expression
                return None
            return self.annotation_type(inner, scope, depth + 1)
        if isinstance(annotation, cst.BinaryOperation) and isinstance(annotation.operator, cst.BitOr):
            return self._union([annotation.left, annotation.right], scope, depth)
        if isinstance(annotation, cst.Subscript):
            base = self.qualname(annotation.value, scope)
            items = [e.slice.value for e in annotation.slice if isinstance(e.slice, cst.Index)]
            if not items:
                return None
            if base in _ANNOTATED or base in _OPTIONAL or base in _QUALIFIERS:
                return self.annotation_type(items[0], scope, depth + 1)
            if base in _UNION:
                return self._union(items, scope, depth)
            # A generic class: `async_sessionmaker[AsyncSession]` is an async_sessionmaker,
            # and `sessionmaker[AsyncSession]` makes async sessions.
            base = self._normalise(base)
            if base == knowledge.SYNC_SESSIONMAKER and self.annotation_type(items[0], scope, depth + 1) == knowledge.ASYNC_SESSION:
                return knowledge.ASYNC_SESSIONMAKER_VIA_CLASS
            return base
        if isinstance(annotation, (cst.Name, cst.Attribute)):
            name = self.qualname(annotation, scope)
            if name is not None:
                return self._normalise(name)
            # A module-level alias: `SessionDep = Annotated[AsyncSession, Depends(get_db)]`.
            if isinstance(annotation, cst.Name):
                found = scope.lookup(annotation.value)
                # (also `SessionDep: TypeAlias = Annotated[...]`)
                if found is not None and len(found[1]) == 1 and found[1][0].kind in ("assign", "annassign"):
                    value = found[1][0].value
                    if value is not None:
                        return self.annotation_type(value, found[0], depth + 1)
        return None

    def _union(self, members, scope: Scope, depth: int) -> str | None:
        types = {self.annotation_type(m, scope, depth + 1) for m in members if not _is_none(m)}
        return types.pop() if len(types) == 1 else None
