"""The engine's own walk visits the same structural nodes, in the same order, as LibCST."""

from __future__ import annotations

from pathlib import Path

import libcst as cst
import pytest

from asynclint.config import Settings
from asynclint.context import Context
from asynclint.diagnostics import FileResult
from asynclint.engine import _Traversal
from asynclint.scope import Scope, ScopeBuilder, build_scopes
from asynclint.walk import _STRUCTURAL, _TOKENS, COMPREHENSIONS, children, walk

SYNTAX_TOUR = """
@decorator(arg, key=value)
async def f[T](a: int, /, b=1, *args, c: "str" = x, **kw) -> list[T]:
    x = [i async for i in g() if i]
    y = {k: v for k, v in d.items()}
    z = lambda q, *r: q if r else None
    async with a() as b, c():
        await b
    try:
        pass
    except* (A, B) as e:
        raise
    match x:
        case [1, *rest] if rest:
            pass
        case {"k": v, **others}:
            pass
        case Point(x=0) | None:
            pass
    del a[0], b.c
    global G
    return (yield from h())


class C[T](Base[T], metaclass=M):
    attr: int = 0
    type Alias[U] = dict[U, T]

    def m(self) -> None:
        print(f"{self.attr!r:>{width}}", *self.args, sep="")
"""


class _LibcstOrder(cst.CSTVisitor):
    def __init__(self) -> None:
        super().__init__()
        self.seen: list[cst.CSTNode] = []

    def on_visit(self, node: cst.CSTNode) -> bool:
        if type(node) not in _TOKENS:
            self.seen.append(node)
        return True


def _sources():
    yield "syntax_tour", SYNTAX_TOUR
    root = Path(__file__).parent / "fixtures"
    for path in sorted(root.rglob("*.py")):
        yield str(path.relative_to(root)), path.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "name, source", list(_sources()), ids=lambda v: v if isinstance(v, str) and "\n" not in v else ""
)
def test_same_order_as_libcst(name, source):
    module = cst.parse_module(source)
    expected = _LibcstOrder()
    module.visit(expected)
    got: list[cst.CSTNode] = []
    walk(module, got.append)
    assert [type(n).__name__ for n in got] == [type(n).__name__ for n in expected.seen]
    assert all(a is b for a, b in zip(got, expected.seen, strict=True))


def test_body_brackets_and_skipping():
    module = cst.parse_module("@d\ndef f(a=g()):\n    return h()\n")
    events = []
    walk(
        module,
        lambda n: events.append(("enter", type(n).__name__)) or (type(n) is not cst.Return),
        enter_body=lambda n: events.append(("body", type(n).__name__)),
        leave_body=lambda n: events.append(("end", type(n).__name__)),
    )
    names = [e for e in events if e[0] != "enter" or e[1] in ("Decorator", "Call", "IndentedBlock", "Return")]
    # decorator and default (outer scope) before the body; children of Return skipped
    assert names == [
        ("enter", "Decorator"),
        ("enter", "Call"),
        ("body", "FunctionDef"),
        ("enter", "IndentedBlock"),
        ("enter", "Return"),
        ("end", "FunctionDef"),
    ]


def test_children_leave_out_layout():
    call = cst.parse_expression("f( a , b = 1 )")
    assert [type(c).__name__ for c in children(call)] == ["Name", "Arg", "Arg"]


def _walked_scopes(module: cst.Module) -> dict[cst.CSTNode, Scope]:
    """The scopes built by `walk` with callbacks: what `build_scopes` does in place."""
    builder = ScopeBuilder()

    def enter(node: cst.CSTNode) -> None:
        if type(node) in COMPREHENSIONS:
            builder._push("comprehension", node)
        hook = builder._hooks_for(type(node))[0]
        if hook is not None:
            hook(builder, node)

    def leave(node: cst.CSTNode) -> None:
        hook = builder._hooks_for(type(node))[1]
        if hook is not None:
            hook(builder, node)
        if type(node) in COMPREHENSIONS:
            builder.stack.pop()

    walk(module, enter, leave, builder.enter_body, lambda node: builder.stack.pop())
    return builder.scopes


def _shape(scopes: dict[cst.CSTNode, Scope]) -> list[tuple[object, ...]]:
    index = {id(scope): position for position, scope in enumerate(scopes.values())}
    return [
        (
            id(node),
            scope.kind,
            index.get(id(scope.parent)),
            scope.is_async,
            scope.self_name,
            sorted(scope.global_names),
            sorted(scope.nonlocal_names),
            [(name, [b.kind for b in bindings]) for name, bindings in scope.bindings.items()],
            [(name, [b.kind for b in bindings]) for name, bindings in scope.instance_attrs.items()],
        )
        for node, scope in scopes.items()
    ]


@pytest.mark.parametrize(
    "name, source", list(_sources()), ids=lambda v: v if isinstance(v, str) and "\n" not in v else ""
)
def test_scope_pass_and_rules_traversal_follow_walk(name, source):
    """`build_scopes` and the engine's traversal walk the tree themselves, for speed: the same
    scopes, and the same nodes in the same order and scope, as `walk` with callbacks gives."""
    module = cst.parse_module(source)
    scopes = build_scopes(module)
    assert _shape(scopes) == _shape(_walked_scopes(module))

    expected: list[tuple[str, int, int]] = []
    current = [scopes[module]]

    def enter(node: cst.CSTNode) -> None:
        if type(node) in COMPREHENSIONS:
            current.append(scopes[node])
        expected.append(("visit", id(node), id(current[-1])))

    def leave(node: cst.CSTNode) -> None:
        expected.append(("leave", id(node), id(current[-1])))
        if type(node) in COMPREHENSIONS:
            current.pop()

    walk(module, enter, leave, lambda node: current.append(scopes[node]), lambda node: current.pop())

    ctx = Context("x.py", module, scopes, Settings())
    got: list[tuple[str, int, int]] = []

    def hook(kind: str) -> object:
        return lambda self, node: got.append((kind, id(node), id(ctx.scope)))

    hooks = {f"{kind}_{cls.__name__}": hook(kind) for cls in _STRUCTURAL for kind in ("visit", "leave")}
    recorder = type("Recorder", (), {"code": "REC", "finish": lambda self: None, **hooks})()
    _Traversal(ctx, [recorder], FileResult("x.py")).run(module)
    assert got == expected
