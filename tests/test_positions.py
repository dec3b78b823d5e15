"""Finding positions computed per statement agree with LibCST's whole-module positions."""

from __future__ import annotations

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

from asynclint import registry
from asynclint.config import Settings
from asynclint.engine import lint_text

SOURCE = '''#!/usr/bin/env python
# header comment

"""Docstring."""
import time; import asyncio


x = 1; y = 2  # two statements on one line


@decorator(
    arg,
)
# comment between decorator and def
async def first():
    time.sleep(1)


class Holder:
    """A class."""

    async def method(self):
        if True:
            await asyncio.gather(
                a(),
                b(),
            )


async def last():
    time.sleep(  # spread
        2,
    )
'''


def test_positions_match_whole_module_rendering():
    result = lint_text(SOURCE, "p.py", Settings(select=("ASL101", "ASL201")))
    got = [(d.code, d.row, d.col, d.end_row, d.end_col) for d in result.diagnostics]

    module = cst.parse_module(SOURCE)
    positions = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    expected = []
    for node, where in positions.items():
        if (
            isinstance(node, cst.Call)
            and isinstance(node.func, cst.Attribute)
            and node.func.attr.value in ("sleep", "gather")
        ):
            code = "ASL201" if node.func.attr.value == "sleep" else "ASL101"
            expected.append((code, where.start.line, where.start.column + 1, where.end.line, where.end.column + 1))
    assert sorted(got, key=lambda g: g[1]) == sorted(expected, key=lambda e: e[1])
    assert [g[1] for g in sorted(got, key=lambda g: g[1])] == [16, 24, 31]


# -- asynclint.positions.Locator: the innermost statement, rendered alone ---------------

import ast
from pathlib import Path

import pytest

from asynclint.positions import Locator, call_ranges, leftmost_name
from asynclint.walk import walk

SHAPES = (
    "import asyncio\n"
    "if a:\n    x = 1\nelif b:\n    y = f(\n        2,\n    )\nelif c: z = 3\nelse:\n    w = 4\n"
    "try:\n    pass\nexcept ValueError as e:\n    g(e)\nexcept (A, B):\n    pass\nelse:\n    h()\nfinally:\n    k()\n"
    "for i in x:\n    # a comment\n\n    body(i)\nelse:\n    done()\n"
    "while x:\n    x -= 1\nelse:\n    pass\n"
    "async def f():\n    async with a as b, c:\n        async for q in b:\n            await q\n"
    "class C(Base, metaclass=M):\n    @property\n\n    # between\n    def p(self): return 1\n"
    "    class Inner:\n        def m(self):\n            a = 1; b = 2; c = (\n  3)\n"
    "match command:\n    case [x, y]:\n        pass\n    case {'k': v} if v:\n        use(v)\n    case _:\n        other()\n"
    "with open(p) as f, \\\n        open(q) as g:\n    pass\n"
    "x = [\n    i\n    for i in range(3)\n]\n"
    "lambda: (yield)\n"
)
TABS = "class C:\n\tdef m(self):\n\t\tif x:\n\t\t\treturn f(1)\n"
CRLF = "def f():\r\n    if x:\r\n        return g(1)\r\n    h()\r\n"
NO_FINAL_NEWLINE = "def f():\n    return g(1)"
SEMICOLON_SUITE = "if x: a = 1; b = f(2)\nwhile y: g()\n"


def _every_node_agrees(text: str) -> int:
    module = cst.parse_module(text)
    whole = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    locator = Locator(module, ast.parse(text), text)
    locator._whole_module = lambda: pytest.fail("fell back to rendering the whole module")
    checked = 0
    for statement in module.body:
        nodes: list = []
        walk(statement, nodes.append)
        for node in nodes:
            where = whole[node]
            expected = (where.start.line, where.start.column + 1), (where.end.line, where.end.column + 1)
            assert locator.range(node, statement) == expected, (type(node).__name__, module.code_for_node(node))
            checked += 1
        # LibCST starts a decorated def at `def`; its leading lines come before the decorators.
        decorators = getattr(statement, "decorators", ())
        first = whole[decorators[0] if decorators else statement].start.line - len(statement.leading_lines)
        assert locator.first_row(statement) == first
    return checked


@pytest.mark.parametrize(
    "text",
    [SHAPES, TABS, CRLF, NO_FINAL_NEWLINE, SEMICOLON_SUITE],
    ids=["shapes", "tabs", "crlf", "no-final-newline", "suites"],
)
def test_locator_agrees_with_libcst_on_every_node(text):
    assert _every_node_agrees(text) > 5


def test_locator_agrees_on_every_fixture():
    fixtures = Path(__file__).parent / "fixtures"
    checked = 0
    for path in sorted(fixtures.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        try:
            ast.parse(text)
        except SyntaxError:
            continue
        checked += _every_node_agrees(text)
    assert checked > 10_000


def test_locator_without_a_hint_finds_the_node_anywhere():
    module = cst.parse_module(SHAPES)
    whole = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    locator = Locator(module, ast.parse(SHAPES), SHAPES)
    nodes: list = []
    walk(module, lambda node: nodes.append(node) if isinstance(node, cst.Call) else None)
    for node in nodes:
        where = whole[node]
        assert locator.range(node) == (
            (where.start.line, where.start.column + 1),
            (where.end.line, where.end.column + 1),
        )


def test_locator_places_findings_after_a_line_libcst_drops():
    # LibCST drops a line holding only a backslash, so its whole-module positions are a
    # row early after it; rows taken from CPython's tree are not.
    text = "import httpx\n\n\\\nasync def f():\n    pass\n\nasync def g(url):\n    client = httpx.Client()\n"
    module = cst.parse_module(text)
    assert module.code != text
    locator = Locator(module, ast.parse(text), text)
    call = module.body[-1].body.body[0].body[0].value
    assert locator.range(call, module.body[-1]) == ((8, 14), (8, 28))


def test_locator_falls_back_when_the_rendering_does_not_match_the_file():
    # Whatever makes a statement render differently from the file's text (a shape the
    # matching gets wrong, a line LibCST drops), the check against the text catches it
    # and the whole module is rendered instead of trusting a wrong row.
    text = "def f():\n    x = 1\n    return g(x)\n"
    module = cst.parse_module(text)
    locator = Locator(module, ast.parse(text), text.replace("g(x)", "h(x)"))
    used: list[bool] = []
    whole = locator._whole_module
    locator._whole_module = lambda: used.append(True) or whole()
    call = module.body[0].body.body[-1].body[0].value
    assert locator.range(call, module.body[0]) == ((3, 12), (3, 16))
    assert used == [True]


def test_fixes_rendered_from_the_innermost_statement_equal_those_from_the_whole_statement(monkeypatch):
    from asynclint.positions import Locator as LocatorClass

    fixtures = Path(__file__).parent / "fixtures"
    settings = Settings(extend_select=tuple(sorted(registry.OPT_IN)))  # the opt-in rules' fixes too
    texts = [p.read_text(encoding="utf-8") for p in sorted(fixtures.rglob("*.py")) if not p.name.endswith(".fixed.py")]

    def fixes() -> list:
        # Compared by the text each fix makes: an insertion between equal lines may be
        # placed before or after them, depending on how much text the edit was cut from.
        from asynclint.fixer import apply_edits

        found = []
        for text in texts:
            result = lint_text(text, "example.py", settings)
            found.extend(
                (d.code, d.row, apply_edits(text, list(d.fix.edits))) for d in result.diagnostics if d.fix is not None
            )
        return found

    local = fixes()
    monkeypatch.setattr(LocatorClass, "enclosing", lambda self, nodes, hint: None)
    assert local == fixes()
    assert len(local) > 50


CALLS = """\
@decorator(arg)
async def handler(é="ü"):
    f()()
    a.b[0].c(x(), y=z(
        1,
    ))
    [g(i) for i in h()]
    k = lambda: m()
    s = f"{n()} and {o(p())}"
    (q())
    (r)()
    t = "é" + u(v())
"""


@pytest.mark.parametrize(
    "text", [CALLS, SOURCE, SHAPES, TABS, CRLF, NO_FINAL_NEWLINE, SEMICOLON_SUITE], ids=lambda t: t[:12]
)
def test_call_ranges_from_cpython_agree_with_libcst(text):
    # ASL207's recorded places are located from CPython's positions (no rendering) by the
    # number of their call: each must be LibCST's, parenthesized calls and calls in
    # f-strings included.
    module = cst.parse_module(text)
    whole = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    calls: list = []
    walk(module, lambda node: calls.append(node) if isinstance(node, cst.Call) else None)
    asked = [(number, len(calls), leftmost_name(call.func)) for number, call in enumerate(calls)]
    expected = [
        ((whole[call].start.line, whole[call].start.column + 1), (whole[call].end.line, whole[call].end.column + 1))
        for call in calls
    ]
    tree = ast.parse(text)
    assert call_ranges(text, tree, asked) == expected
    # A count or a name that does not match the module's calls gives nothing, not a wrong place.
    assert call_ranges(text, tree, [(0, len(calls) + 1, None)]) == [None]
    assert call_ranges(text, tree, [(0, len(calls), "not_the_name")]) == [None]
