"""Name resolution and a little type inference, shared by every rule.

Two questions come up in nearly every rule: "what does this name refer to?"
(a qualified name such as `time.sleep`, through imports, aliases and
shadowing) and "what kind of object is this?" (an AsyncSession, a sync HTTP
client, an event loop), learned from annotations and from the call that bound
the name. Answers are None whenever the evidence is missing or conflicting:
silence over a false alarm.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import TYPE_CHECKING, TypeGuard, cast

import libcst as cst

from asynclint import knowledge
from asynclint.scope import BUILTIN_NAMES, Binding, Scope, last_name

if TYPE_CHECKING:
    from asynclint.project import ProjectIndex

# `ProjectIndex.session_params`' values: (((position or -1, name), ...), binding, decorated).
SessionParams = tuple[tuple[tuple[int, str], ...], str, bool]

_ANNOTATED = frozenset({"typing.Annotated", "typing_extensions.Annotated"})
_OPTIONAL = frozenset({"typing.Optional", "typing_extensions.Optional"})
_UNION = frozenset({"typing.Union", "typing_extensions.Union"})
# Qualifiers that do not change the type: `ClassVar[AsyncSession]` is an AsyncSession.
_QUALIFIERS = frozenset({"typing.ClassVar", "typing.Final", "typing_extensions.ClassVar", "typing_extensions.Final"})
_MAX_DEPTH = 8
# Packages whose names the index never holds: the standard library (with `builtins`), and
# those whose types asynclint knows by name (SQLAlchemy's sessions, httpx's clients...).
_LIBRARIES = frozenset(sys.stdlib_module_names) | {
    name.partition(".")[0]
    for table in (knowledge.CALL_RESULT_TYPES, knowledge.INSTANCE_CALL_TYPES)
    for pair in table.items()
    for name in map(str, pair)
}


def _definition_path(scope: Scope) -> list[str] | None:
    """Class names from the module down to `scope`; None inside a function (a local
    definition has no stable project-wide name)."""
    path: list[str] = []
    while scope.parent is not None:
        if scope.kind != "class":
            return None
        path.append(cast(cst.ClassDef, scope.node).name.value)  # a class scope's node is its class
        scope = scope.parent
    return list(reversed(path))


def _is_none(expr: cst.CSTNode | None) -> bool:
    return isinstance(expr, cst.Name) and expr.value == "None"


class Resolver:
    def __init__(self, session_types: Iterable[str] = (), module: str | None = None, is_package: bool = False) -> None:
        self._session_types = frozenset(session_types)
        self._types: dict[cst.CSTNode, str | None] = {}
        # The module's own dotted name: makes its functions, classes and relative
        # imports resolvable as project names (`shop.helpers.render_pdf`).
        self.module = module
        self._is_package = is_package
        # Project-wide knowledge (asynclint.project.ProjectIndex), when project analysis runs,
        # and the module's scopes, for evidence gathered from the whole module.
        self.project: ProjectIndex | None = None
        self.scopes: dict[cst.CSTNode, Scope] | None = None
        self._passed: set[tuple[int, str]] | None = None
        # Answers of `qualname`, by id of the expression: rules ask the same names again and
        # again (every blocking-call rule the callee of every call). The entry holds the
        # expression, so no other node can take its id while the entry lives.
        self._names: dict[int, tuple[cst.CSTNode, Scope, str | None]] = {}

    def attach(self, project: ProjectIndex, scopes: dict[cst.CSTNode, Scope]) -> None:
        self.project = project
        self.scopes = scopes

    # -- qualified names -------------------------------------------------------

    def qualname(self, expr: cst.CSTNode, scope: Scope, depth: int = 0) -> str | None:
        """`t.sleep` -> "time.sleep" after `import time as t`; None if unknown or shadowed."""
        if depth:
            return self._qualname(expr, scope, depth)
        # (The scopes are complete before any rule asks, so an answer never changes.)
        known = self._names.get(id(expr))
        if known is not None and known[0] is expr and known[1] is scope:
            return known[2]
        name = self._qualname(expr, scope, 0)
        self._names[id(expr)] = (expr, scope, name)
        return name

    def _qualname(self, expr: cst.CSTNode, scope: Scope, depth: int) -> str | None:
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
            return self._import_name(binding)
        if binding.kind in ("def", "class") and self.module:
            path = _definition_path(scope)
            if path is not None:
                # A def or class binding's node is its statement.
                defined = cast("cst.FunctionDef | cst.ClassDef", binding.node)
                return ".".join([self.module, *path, defined.name.value])
        # `sleep = time.sleep` is an alias: follow it.
        if binding.kind == "assign" and isinstance(binding.value, (cst.Name, cst.Attribute)):
            return self.qualname(binding.value, scope, depth + 1)
        return None

    def import_target(self, binding: Binding) -> str | None:
        """The absolute name an import binding binds (relative imports made absolute)."""
        if binding.kind != "import":
            return None
        return self._import_name(binding)

    def _import_name(self, binding: Binding) -> str | None:
        if binding.qualname and binding.qualname.startswith(".") and self.module:
            from asynclint.modules import absolute_import

            return absolute_import(self.module, binding.qualname, self._is_package)
        return binding.qualname

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

    def _infer(self, expr: cst.CSTNode, scope: Scope, depth: int) -> str | None:
        if isinstance(expr, cst.Name):
            found = scope.lookup(expr.value)
            if found is None:
                return None
            result = self._bindings_type(found[1], found[0], depth)
            if result is None and self.project is not None:
                result = self._project_name_type(expr, found, scope, depth)
            return result
        if isinstance(expr, cst.Attribute):
            result = self._attribute_type(expr, scope, depth)
            if result is None and self.project is not None:
                name = self.qualname(expr, scope)
                result = self.project.values.get(name) if name is not None else None
            return result
        if isinstance(expr, cst.Await):
            # `await factory()` where the project's `async def factory() -> AsyncSession`.
            inner = self.type_of(expr.expression, scope, depth + 1) if self.project is not None else None
            return knowledge.ASYNC_SESSION if inner == knowledge.SESSION_AWAITABLE else None
        if isinstance(expr, cst.Call):
            return self._call_type(expr, scope, depth)
        if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, cst.Divide):
            left = self.type_of(expr.left, scope, depth + 1)
            if left == knowledge.PATH:
                return left
            # `"data" / p`: a string on the left hands the division to the Path on the right.
            if isinstance(expr.left, (cst.SimpleString, cst.FormattedString, cst.ConcatenatedString)):
                right = self.type_of(expr.right, scope, depth + 1)
                return right if right == knowledge.PATH else None
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
            elif binding.kind == "for" and (item := self._item_type(binding, where, depth)):
                types.add(item)
            elif binding.kind == "for" and self.project is not None and self._iterated(binding, where, depth):
                types.add(knowledge.ASYNC_SESSION)
            else:
                return None
        if len(types) == 1:
            return types.pop()
        return None

    def _entered_type(self, item: cst.BaseExpression | None, scope: Scope, depth: int) -> str | None:
        """`async with factory.begin() as s`: a session factory's `begin()` yields a session;
        so does a project function that is an async context manager of one."""
        if isinstance(item, cst.Call) and isinstance(item.func, cst.Attribute) and item.func.attr.value == "begin":
            factory = self.type_of(item.func.value, scope, depth + 1)
            return knowledge.INSTANCE_CALL_TYPES.get(factory) if factory is not None else None
        if self.project is not None and isinstance(item, cst.Call):
            if self.type_of(item, scope, depth + 1) == knowledge.SESSION_CONTEXT:
                return knowledge.ASYNC_SESSION
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
                    if cls is None:
                        return None
                    if _binds_attribute(cls, attr):
                        return self.class_attribute_type(cls, attr, depth)
                    # Not bound here: a base class of the project may say (`self.path: Path`).
                    path = _definition_path(cls) if self.project is not None and self.module else None
                    if path and self.project is not None and self.module:  # (as tested above)
                        return self.project.attribute_type(".".join([self.module, *path]), attr)
                    return None
        base = self.type_of(expr.value, scope, depth + 1)
        if base == knowledge.PATH and attr == "parent":
            return base
        if base is not None and self.project is not None:
            return self.project.attribute_type(base, attr)  # `settings.data_dir` on a project class
        return None

    def class_attribute_type(self, cls: Scope, attr: str, depth: int = 0) -> str | None:
        """What a class's methods assign to `self.attr` or its body annotates it with (a
        `@property` annotated with its return type counts too)."""
        bindings = cls.instance_attrs.get(attr, []) + [
            b for b in cls.bindings.get(attr, []) if b.annotation is not None
        ]
        if bindings:
            return self._bindings_type(bindings, cls, depth)
        defined = cls.bindings.get(attr, [])
        # A def binding's node is its FunctionDef.
        if (
            len(defined) == 1
            and defined[0].kind == "def"
            and self._is_property(function := cast(cst.FunctionDef, defined[0].node), cls)
        ):
            returns = function.returns
            return self.annotation_type(returns.annotation, cls, depth + 1) if returns is not None else None
        return None

    def _is_property(self, node: cst.FunctionDef, scope: Scope) -> bool:
        return node.asynchronous is None and any(
            self.qualname(d.decorator, scope) in knowledge.PROPERTY_DECORATORS for d in node.decorators
        )

    def _call_type(self, call: cst.Call, scope: Scope, depth: int) -> str | None:
        func = call.func
        if self.project is not None:
            made = self._project_call_type(call, scope, depth)
            if made is not None:
                return made or None
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
        factory = self.type_of(func, scope, depth + 1)
        return knowledge.INSTANCE_CALL_TYPES.get(factory) if factory is not None else None

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
                # A bytes literal (`b"AsyncSession"`) is parsed too: LibCST takes bytes.
                inner = cst.parse_expression(annotation.evaluated_value)  # type: ignore[arg-type]
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
            if (
                base == knowledge.SYNC_SESSIONMAKER
                and self.annotation_type(items[0], scope, depth + 1) == knowledge.ASYNC_SESSION
            ):
                return knowledge.ASYNC_SESSIONMAKER_VIA_CLASS
            return base
        if isinstance(annotation, (cst.Name, cst.Attribute)):
            name = self.qualname(annotation, scope)
            if name is not None:
                if self.project is not None and name in self.project.type_aliases:
                    return self.project.type_aliases[name]
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

    def _union(self, members: Iterable[cst.BaseExpression], scope: Scope, depth: int) -> str | None:
        types = {self.annotation_type(m, scope, depth + 1) for m in members if not _is_none(m)}
        return types.pop() if len(types) == 1 else None

    # -- the project's own code (asynclint.project) -------------------------------------

    def _is_self(self, expr: cst.CSTNode, scope: Scope) -> TypeGuard[cst.Name]:
        if not isinstance(expr, cst.Name):
            return False
        found = scope.lookup(expr.value)
        return found is not None and found[0].kind == "function" and found[0].self_name == expr.value

    def receiver_class(self, expr: cst.CSTNode, scope: Scope, depth: int = 0) -> str | None:
        """The class of a method call's receiver: `self` in a method of a module-level class,
        else what the receiver's type evidence says."""
        if self._is_self(expr, scope):
            cls = cast("tuple[Scope, list[Binding]]", scope.lookup(expr.value))[0].enclosing_class  # found: `_is_self`
            module = self.module
            path = _definition_path(cls) if cls is not None and module else None
            return ".".join([module, *path]) if path and module else None
        return self.type_of(expr, scope, depth + 1)

    def project_callee(self, call: cst.Call, scope: Scope, depth: int = 0) -> tuple[str, bool] | None:
        """(the project function or class a call runs, called on an instance?) when the
        project index knows it; `db.session()` with `db: Database` is `Database.session`."""
        project = self.project
        if project is None:
            return None
        func = call.func
        name = self.qualname(func, scope)
        if name is not None and isinstance(func, cst.Attribute):
            # `registry.session()` on a module-level instance imported from another module
            # (`from app.db import registry`): a method of the instance's class.
            receiver = self.qualname(func.value, scope)
            owner = project.values.get(receiver) if receiver is not None else None
            method = project.method(owner, func.attr.value) if owner is not None else None
            if method is not None:
                return method, True
        if name is not None:
            # `self.helper(...)` resolves to `module.Class.helper`, called on an instance.
            return name, isinstance(func, cst.Attribute) and self._is_self(func.value, scope)
        if isinstance(func, cst.Attribute):
            method = project.method(self.receiver_class(func.value, scope, depth), func.attr.value)
            if method is not None:
                return method, True
        return None

    def index_may_type(self, expr: cst.BaseExpression, scope: Scope) -> bool:
        """Could the project index give `expr` a type this module does not? The index knows
        only the project's names, and the resolver asks it only where the module knows
        nothing of a value's type, or knows a name that may be the project's (a call of the
        project's own code has its name for a type until the index says what it returns):
        `_project_call_type`, `_project_name_type`, `project_callee`. So not for a value
        known as a library's (`os.environ`, `d: dict`), nor for a name bound only to what a
        library object's method returns (`res = await session.execute(q)` with `session:
        AsyncSession`; also `res.unique()`) and never handed to a call (a project function's
        `AsyncSession` parameter would type it). Whoever changes when the index is asked
        changes this too (ASL304 records its places by it)."""
        known = self.type_of(expr, scope) or self.qualname(expr, scope)
        if known is not None:
            return not self._library(known)
        if isinstance(expr, cst.Call) and isinstance(expr.func, cst.Attribute):
            # `res.unique()`: the index finds a method by its receiver's class.
            return self.qualname(expr.func, scope) is not None or self.index_may_type(expr.func.value, scope)
        if not isinstance(expr, cst.Name):
            return True
        found = scope.lookup(expr.value)
        if found is None:
            return True
        bound_in, bindings = found
        if not bindings or not all(self._library_result(binding, bound_in) for binding in bindings):
            return True
        from asynclint.walk import nodes

        return any(
            isinstance(node, cst.Arg) and isinstance(node.value, cst.Name) and node.value.value == expr.value
            for node in nodes(bound_in.node, into_functions=True)
        )

    def _library_result(self, binding: Binding, scope: Scope) -> bool:
        """Is the binding `x = obj.method(...)` (or `x = await obj.method(...)`) on an `obj`
        known as a library's?"""
        value = binding.value
        if binding.kind != "assign" or binding.annotation is not None or value is None:
            return False
        if isinstance(value, cst.Await):
            value = value.expression
        if not isinstance(value, cst.Call) or not isinstance(value.func, cst.Attribute):
            return False
        kind = self.type_of(value.func.value, binding.scope or scope)
        return kind is not None and self._library(kind)

    def _library(self, name: str) -> bool:
        """Is `name` a library's, never the project's? (Not of the module's own package,
        should that share a name with the standard library's.)"""
        top = (self.module or "").partition(".")[0]
        first = name.partition(".")[0]
        return first in _LIBRARIES and not (top and first == top)

    def _project_call_type(self, call: cst.Call, scope: Scope, depth: int) -> str | None:
        """What a call of the project's own code gives, if the index knows: a session, a
        context manager or awaitable of one, or what a project session factory makes.
        "" means known to give nothing asynclint tracks."""
        project = cast("ProjectIndex", self.project)  # only called with the index
        func = call.func
        name = self.qualname(func, scope)
        if name is not None and name in project.values:
            return knowledge.INSTANCE_CALL_TYPES.get(project.values[name], "")
        found = self.project_callee(call, scope, depth)
        if found is None:
            return None
        kind = project.sessions.get(found[0])
        if kind is None:
            return project.returns.get(found[0])  # `def data_dir() -> Path`
        return _MADE_BY_KIND[kind]

    def _project_name_type(
        self, expr: cst.Name, found: tuple[Scope, list[Binding]], scope: Scope, depth: int
    ) -> str | None:
        """A name the index knows (an imported module-level session factory), or a name passed
        to a project function's parameter annotated `AsyncSession` when nothing else is known
        about it."""
        project = cast("ProjectIndex", self.project)  # only called with the index
        bound_in, bindings = found
        if all(b.kind == "import" for b in bindings):
            name = self.qualname(expr, scope)
            return project.values.get(name) if name is not None else None
        if len(bindings) == 1 and self._injected_session(bindings[0], bound_in):
            return knowledge.ASYNC_SESSION
        if not project.session_params or (id(bound_in), expr.value) not in self._passed_names():
            return None
        for binding in bindings:
            where = binding.scope or bound_in
            if binding.kind in ("import", "def", "class", "except"):
                return None
            if binding.annotation is not None:
                known = self.annotation_type(binding.annotation, where, depth + 1)
            elif binding.kind in ("assign", "walrus", "annassign", "with") and binding.value is not None:
                if _is_none(binding.value):
                    continue
                known = self.type_of(binding.value, where, depth + 1)
            else:
                continue
            if known is not None and (knowledge.is_other_than_session(known) or known in project.methods):
                return None
        return knowledge.ASYNC_SESSION

    def _item_type(self, binding: Binding, scope: Scope, depth: int) -> str | None:
        """`for p in d.glob("*.py")` (also `sorted(d.iterdir())`) on a Path: each item is one."""
        node = binding.node
        if not isinstance(node, (cst.For, cst.CompFor)) or node.asynchronous is not None:
            return None
        if not isinstance(node.target, cst.Name):
            return None
        items = node.iter
        if (
            isinstance(items, cst.Call)
            and len(items.args) == 1
            and not items.args[0].keyword
            and not items.args[0].star
        ):
            if self.qualname(items.func, scope) in knowledge.ITEM_PRESERVING_BUILTINS:
                items = items.args[0].value
        if not isinstance(items, cst.Call) or not isinstance(items.func, cst.Attribute):
            return None
        if items.func.attr.value not in knowledge.PATH_ITERATING_METHODS:
            return None
        if self.type_of(items.func.value, scope, depth + 1) == knowledge.PATH:
            return knowledge.PATH
        return None

    def _iterated(self, binding: Binding, scope: Scope, depth: int) -> bool:
        """`async for s in get_db():` over the project's async generator of sessions."""
        node = binding.node
        if not isinstance(node, (cst.For, cst.CompFor)) or node.asynchronous is None:
            return False
        if not isinstance(node.target, cst.Name):
            return False
        return self.type_of(node.iter, scope, depth + 1) == knowledge.SESSION_ITERATOR

    def _injected_session(self, binding: Binding, scope: Scope) -> bool:
        """A parameter without annotation whose default is `Depends(f)`, where the project's
        `f` returns or yields a session (`db=Depends(get_db)`)."""
        param = binding.node
        if binding.kind != "param" or not isinstance(param, cst.Param) or param.annotation is not None:
            return False
        default = param.default
        if not isinstance(default, cst.Call) or scope.parent is None:
            return False
        outer = scope.parent
        if self.qualname(default.func, outer) not in knowledge.DEPENDS or not default.args:
            return False
        first = default.args[0]
        if first.star or (first.keyword is not None and first.keyword.value != "dependency"):
            return False
        target = self.qualname(first.value, outer)
        project = cast("ProjectIndex", self.project)  # only called with the index
        return (project.sessions.get(target) if target is not None else None) in _INJECTED_KINDS

    def _passed_names(self) -> set[tuple[int, str]]:
        """(scope id, name) of every name the module passes to a project function's
        parameter annotated `AsyncSession`."""
        if self._passed is not None:
            return self._passed
        self._passed = set()  # while collecting, no name counts (no circular evidence)
        if self.scopes is None:
            return self._passed
        from asynclint.walk import COMPREHENSIONS, walk

        found: set[tuple[int, str]] = set()
        scopes = self.scopes
        module = next(node for node, scope in scopes.items() if scope.parent is None)
        current = [scopes[module]]
        params = cast("ProjectIndex", self.project).session_params  # only called with the index
        short_names = {name.rpartition(".")[2] for name in params}
        known = set(self._types)

        def enter(node: cst.CSTNode) -> None:
            if type(node) in COMPREHENSIONS and node in scopes:
                current.append(scopes[node])
            if isinstance(node, cst.Call):
                func = node.func
                short = last_name(func)
                if short not in short_names:
                    return
                scope = current[-1]
                callee = self.project_callee(node, scope)
                if callee is not None and (spec := params.get(callee[0])) is not None:
                    for arg in _session_args(node, spec, callee[1]):
                        where = scope.lookup(arg.value)
                        if where is not None:
                            found.add((id(where[0]), arg.value))

        def leave(node: cst.CSTNode) -> None:
            if type(node) in COMPREHENSIONS and node in scopes:
                current.pop()

        walk(module, enter, leave, lambda owner: current.append(scopes[owner]), lambda owner: current.pop())
        # Types worked out while collecting could not use this evidence yet: work them out again.
        for node in [node for node, kind in self._types.items() if kind is None and node not in known]:
            del self._types[node]
        self._passed = found
        return found


def _binds_attribute(cls: Scope, attr: str) -> bool:
    """Does the class itself assign or declare `attr` (then its base classes do not decide)?"""
    return attr in cls.instance_attrs or attr in cls.bindings


# What calling a project session factory gives, by its kind (`ProjectIndex.sessions`).
_MADE_BY_KIND = {
    "call": knowledge.ASYNC_SESSION,
    "await": knowledge.SESSION_AWAITABLE,
    "enter": knowledge.SESSION_CONTEXT,
    "iterate": knowledge.SESSION_ITERATOR,
}
# A FastAPI dependency `Depends(f)` injects what `f` returns, awaits to or yields.
_INJECTED_KINDS = frozenset({"call", "await", "iterate"})


def _session_args(call: cst.Call, spec: SessionParams, on_instance: bool) -> list[cst.Name]:
    """The names a call passes to parameters annotated `AsyncSession` (spec: see
    `ProjectIndex.session_params`). Positions count only for an undecorated function."""
    positions, bind, decorated = spec
    by_name = {name for _, name in positions}
    by_position = {index: name for index, name in positions if index >= 0}
    # The implicit first parameter: `obj.method(s)` and `Class.classmethod(s)` skip it.
    shift = 1 if (bind == "method" and on_instance) or bind == "class" else 0
    found = []
    index = 0
    for arg in call.args:
        if arg.star:
            if arg.star == "*":
                index = -1  # positions unknown from here on
            continue
        if arg.keyword is not None:
            if arg.keyword.value in by_name and isinstance(arg.value, cst.Name):
                found.append(arg.value)
            continue
        if index >= 0 and not decorated and (index + shift) in by_position and isinstance(arg.value, cst.Name):
            found.append(arg.value)
        if index >= 0:
            index += 1
    return found
