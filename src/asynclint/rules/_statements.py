"""Statement-level helpers shared by the rules (and `asynclint.guards`).

Questions about the statements of a block, asked without entering nested
`def`/`class`/`lambda` bodies (they run elsewhere, later): does a handler hold a
`raise`? does a block jump out with `return`/`break`/`continue`, or end by leaving?
which `if` tests decide whether a node runs? And, for the
fixes that rewrite a whole statement: is this `await` the value of a statement
alone on its line, and which names are free to introduce there?
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator

import libcst as cst

from asynclint.context import Context
from asynclint.scope import BUILTIN_NAMES
from asynclint.walk import children

NESTED_SCOPES = (cst.FunctionDef, cst.ClassDef, cst.Lambda)
_LOOPS = (cst.For, cst.While)


def descendants(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """Every node below `node`, not entering nested def/class/lambda bodies."""
    stack = list(reversed(children(node)))
    while stack:
        child = stack.pop()
        yield child
        if not isinstance(child, NESTED_SCOPES):
            stack.extend(reversed(children(child)))


def contains_raise(node: cst.CSTNode) -> bool:
    return any(isinstance(child, cst.Raise) for child in descendants(node))


def ends_by_leaving(body: cst.BaseSuite) -> bool:
    """Does the block's last statement `return` or `raise` (`if not uri: raise ValueError()`,
    also on the `if` line itself)?"""
    if isinstance(body, cst.SimpleStatementSuite):
        small = body.body
    else:
        last = body.body[-1] if body.body else None
        small = last.body if isinstance(last, cst.SimpleStatementLine) else ()
    return bool(small) and isinstance(small[-1], (cst.Return, cst.Raise))


def conditions(path: list[cst.CSTNode]) -> Iterator[tuple[cst.If, bool]]:
    """For the last node of `path` (from its function down): each `if` whose test decides
    whether that node runs, and the value the test has there: True in its body, False in its
    `else:`, and False after an earlier `if` of an enclosing block whose body leaves
    (`if not uri: raise ValueError()` ... `urlopen(uri)`)."""
    for node, child in itertools.pairwise(path):
        if isinstance(node, cst.If):
            if child is node.body:
                yield node, True
            elif child is node.orelse:
                yield node, False
        elif isinstance(node, cst.IndentedBlock):
            for statement in node.body:
                if statement is child:
                    break
                if isinstance(statement, cst.If) and ends_by_leaving(statement.body):
                    yield statement, False


def exits(block: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """The `return`, `break` and `continue` statements that leave `block` (a `break` of a
    loop inside the block stays in it; one in that loop's `else:` does not)."""
    return _exits(block, False)


def _exits(node: cst.CSTNode, in_loop: bool) -> Iterator[cst.CSTNode]:
    for child in children(node):
        if isinstance(child, NESTED_SCOPES):
            continue
        if isinstance(child, cst.Return) or (isinstance(child, (cst.Break, cst.Continue)) and not in_loop):
            yield child
        elif isinstance(child, _LOOPS):
            yield from _exits(child.body, True)
            if child.orelse is not None:
                yield from _exits(child.orelse, in_loop)
        elif not isinstance(child, cst.BaseExpression):
            yield from _exits(child, in_loop)


def jumps_out(block: cst.CSTNode) -> bool:
    return next(exits(block), None) is not None


def lone_statement(
    ctx: Context, value: cst.BaseExpression, kinds: tuple[type[cst.BaseSmallStatement], ...]
) -> tuple[cst.SimpleStatementLine, cst.BaseSmallStatement] | None:
    """The line and small statement when `value` (on the current stack) is the whole value of
    a statement of one of `kinds` (`cst.Expr`, `cst.Assign`, ...) that is alone on its line."""
    small = ctx.parent(value)
    if not isinstance(small, kinds) or getattr(small, "value", None) is not value:
        return None
    if isinstance(small, cst.Assign) and len(small.targets) != 1:
        return None
    line = ctx.parent(small)
    if not isinstance(line, cst.SimpleStatementLine) or len(line.body) != 1:
        return None
    return line, small


def name_picker(ctx: Context) -> Callable[[str], str]:
    """A function giving names that are free in the current function: not bound or read
    anywhere in it, not visible from an enclosing scope, not a builtin."""
    function = ctx.function_scope
    root = function.node if function is not None else ctx.module
    taken = {node.value for node in _all_names(root)}

    def pick(base: str) -> str:
        candidate, number = base, 1
        while candidate in taken or candidate in BUILTIN_NAMES or ctx.scope.lookup(candidate) is not None:
            number += 1
            candidate = f"{base}{number}" if not base[-1].isdigit() else f"{base}_{number}"
        taken.add(candidate)
        return candidate

    return pick


def _all_names(root: cst.CSTNode) -> Iterator[cst.Name]:
    stack = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, cst.Name):
            yield node
        stack.extend(children(node))
