"""A read-only walk over LibCST trees, in source order, without LibCST's visitor cost.

LibCST's visitor rebuilds every node it passes (a dataclass construction and
validation per node, then thrown away for a read-only visitor), and it also
walks every comma, parenthesis and whitespace node. The engine only needs the
structural nodes, read-only, so it walks them itself: a fraction of the work.
`tests/test_walk.py` checks that the order matches LibCST's own traversal.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from typing import cast

import libcst as cst

# Fields that only hold formatting or punctuation: never walked.
_SKIP_FIELDS = frozenset(
    {
        "leading_lines",
        "lines_after_decorators",
        "header",
        "footer",
        "lpar",
        "rpar",
        "comma",
        "semicolon",
        "colon",
        "equal",
        "dot",
        "star_tok",
        "newline",
        "trailing_whitespace",
        "asynchronous",
        "operator",
        "relative",
        "whitespace",
        "first_line",
        "empty_lines",
        "indent",
        "default_indent",
        "default_newline",
        "encoding",
        "has_trailing_newline",
        "lbrace",
        "rbrace",
        "lbracket",
        "rbracket",
    }
)
# Children whose fields are listed in source order where the dataclass order differs.
_ORDER: dict[type, tuple[str, ...]] = {
    cst.FunctionDef: ("decorators", "name", "type_parameters", "params", "returns", "body"),
    cst.ClassDef: ("decorators", "name", "type_parameters", "bases", "keywords", "body"),
    cst.ExceptHandler: ("type", "name", "body"),
    cst.ExceptStarHandler: ("type", "name", "body"),
    cst.IfExp: ("body", "test", "orelse"),
    cst.Arg: ("keyword", "value"),
    cst.MatchCase: ("pattern", "guard", "body"),
    cst.TypeAlias: ("name", "type_parameters", "value"),
    cst.Parameters: ("posonly_params", "posonly_ind", "params", "star_arg", "kwonly_params", "star_kwarg"),
}

_fields_cache: dict[type, tuple[str, ...]] = {}


def _fields(cls: type) -> tuple[str, ...]:
    names = _ORDER.get(cls)
    if names is None:
        names = tuple(
            f.name
            for f in dataclasses.fields(cls)
            if f.name not in _SKIP_FIELDS and not f.name.startswith("whitespace")
        )
    _fields_cache[cls] = names
    return names


def children(node: cst.CSTNode) -> list[cst.CSTNode]:
    """The structural children of `node`, in source order."""
    cls = type(node)
    if cls in LEAVES:
        return []
    names = _fields_cache.get(cls) or _fields(cls)
    found: list[cst.CSTNode] = []
    # Exact-type set lookups: isinstance against LibCST's abstract node classes goes
    # through ABCMeta and costs several times more, on every field of every node.
    for name in names:
        value = getattr(node, name)
        kind = type(value)
        if kind in _STRUCTURAL:
            found.append(value)
        elif kind is list or kind is tuple:
            for item in value:
                if type(item) in _STRUCTURAL:
                    found.append(item)
    return found


def _token_types() -> frozenset[type]:
    bases = (
        cst.BaseParenthesizableWhitespace,
        cst.EmptyLine,
        cst.Newline,
        cst.TrailingWhitespace,
        cst.Comment,
        cst.Comma,
        cst.Semicolon,
        cst.Colon,
        cst.Dot,
        cst.AssignEqual,
        cst.LeftParen,
        cst.RightParen,
        cst.LeftSquareBracket,
        cst.RightSquareBracket,
        cst.LeftCurlyBrace,
        cst.RightCurlyBrace,
        cst.Asynchronous,
        cst.ImportStar,
        cst.BaseBinaryOp,
        cst.BaseBooleanOp,
        cst.BaseCompOp,
        cst.BaseUnaryOp,
        cst.BaseAugOp,
        cst.MaybeSentinel,
    )
    # The MRO, not issubclass: LibCST's bases are ABCs, and ABCMeta's subclass checks
    # made this the slowest import of the engine (all node classes are real subclasses).
    return frozenset(cls for cls in _all_node_types() if any(base in cls.__mro__ for base in bases))


def _all_node_types() -> frozenset[type]:
    found, todo = set(), [cst.CSTNode]
    while todo:
        for sub in todo.pop().__subclasses__():
            if sub not in found:
                found.add(sub)
                todo.append(sub)
    return frozenset(found)


_TOKENS = _token_types()
_STRUCTURAL = _all_node_types() - _TOKENS
# Nodes that never have structural children (a name, a number, a string, `pass`): a third of
# all nodes. Their walked fields are all text (LibCST's annotations say so).
LEAVES = frozenset(
    cls
    for cls in _STRUCTURAL
    if all(field.type in (str, "str", bool, "bool") for field in dataclasses.fields(cls) if field.name in _fields(cls))
)
# Expression nodes: no statement is ever below one.
EXPRESSIONS = frozenset(cls for cls in _STRUCTURAL if cst.BaseExpression in cls.__mro__)
# Scopes of these begin at their `body` (decorators, defaults, bases are outside).
# Exact types (none of these classes has subclasses): isinstance against LibCST's ABC-based
# node classes costs several times more, and `nodes` asks it of every node it passes.
SCOPE_BODY_OWNERS = frozenset({cst.FunctionDef, cst.ClassDef, cst.Lambda})
COMPREHENSIONS = frozenset({cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp})


def nodes(root: cst.CSTNode, into_functions: bool = False) -> Iterator[cst.CSTNode]:
    """`root` and everything below it, as a generator; not into nested defs, lambdas and
    classes unless asked."""
    todo = [root]
    while todo:
        current = todo.pop()
        yield current
        if current is not root and not into_functions and type(current) in SCOPE_BODY_OWNERS:
            continue
        todo.extend(children(current))


def walk(
    root: cst.CSTNode,
    enter: Callable[[cst.CSTNode], object],
    leave: Callable[[cst.CSTNode], object] | None = None,
    enter_body: Callable[[cst.CSTNode], object] | None = None,
    leave_body: Callable[[cst.CSTNode], object] | None = None,
) -> None:
    """Depth-first, source order. `enter(node)` returning False skips the children.
    `enter_body(owner)` / `leave_body(owner)` bracket the body of a def, class or lambda."""

    def visit(node: cst.CSTNode) -> None:
        if enter(node) is False:
            return
        cls = type(node)
        if cls in SCOPE_BODY_OWNERS and enter_body is not None and leave_body is not None:
            body = cast("cst.FunctionDef | cst.ClassDef | cst.Lambda", node).body
            for child in children(node):
                if child is body:
                    enter_body(node)
                    visit(child)
                    leave_body(node)
                else:
                    visit(child)
        elif cls not in LEAVES:
            for child in children(node):
                visit(child)
        if leave is not None:
            leave(node)

    try:
        visit(root)
    finally:
        # `visit` refers to itself through its closure: unless the cell lets go, that cycle
        # holds the hooks (and through them the file's tree) until the garbage collector runs.
        visit = None  # type: ignore[assignment]  # clears the closure cell; never called after
