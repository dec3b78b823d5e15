"""Where findings are: positions of reported nodes, rendering as little as possible.

LibCST's PositionProvider renders the whole module and walks it with its node-rebuilding
visitor; on a file with one finding inside a 2,000-line class that cost more than
parsing the file. Here only the innermost statement around a reported node is rendered,
with the indentation of the blocks around it, starting at its row in the file. The row
comes from CPython's tree (the engine's precheck already built it), by matching the
statement's place in the LibCST tree to the same place in CPython's.

Every rendering is checked against the file's text: the statement must render to
exactly the characters at that row. If it does not (a statement shape the matching does
not know, or LibCST dropping a line it cannot represent), the whole module is rendered
once, as LibCST does it.
"""

from __future__ import annotations

import ast
import re
import types
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Protocol, cast

import libcst as cst

from asynclint.source import split_lines
from asynclint.walk import walk

if TYPE_CHECKING:
    from libcst.metadata import CodeRange

Position = tuple[int, int]  # row (1-based), column (1-based)
Range = tuple[Position, Position]
# Where each node of a rendered statement (or of the whole module) is.
Ranges = Mapping[cst.CSTNode, "CodeRange"]
# (statement, row of its first leading line, indents of the blocks around it, its nodes' ranges)
_Rendered = tuple[cst.CSTNode, int, list[str], Ranges]


class Positions(Protocol):
    """What answers where the innermost statement cannot: `Locator`'s fallback."""

    def range(self, node: cst.CSTNode, statement: cst.CSTNode | None, /) -> Range: ...

    def first_row(self, statement: cst.CSTNode, /) -> int: ...


_STATEMENTS = (cst.SimpleStatementLine, cst.BaseCompoundStatement)
# LibCST statement -> the CPython statement types it can stand for.
_SAME_KIND: dict[type, tuple[type, ...]] = {
    cst.FunctionDef: (ast.FunctionDef, ast.AsyncFunctionDef),
    cst.ClassDef: (ast.ClassDef,),
    cst.If: (ast.If,),
    cst.For: (ast.For, ast.AsyncFor),
    cst.While: (ast.While,),
    cst.With: (ast.With, ast.AsyncWith),
    cst.Try: (ast.Try,),
    cst.Match: (ast.Match,),
}
if hasattr(ast, "TryStar"):
    _SAME_KIND[cst.TryStar] = (ast.TryStar,)
_TRY: tuple[type[cst.Try | cst.TryStar], ...] = (cst.Try, getattr(cst, "TryStar", cst.Try))


class Locator:
    def __init__(
        self, module: cst.Module, tree: ast.Module | None, text: str, fallback: Positions | None = None
    ) -> None:
        """`fallback`: where the innermost statement cannot be used, an object whose
        `range(node, hint)` and `first_row(statement)` answer instead (the engine's
        whole-module positions); by default LibCST's whole-module positions."""
        self.module = module
        self.tree = tree
        self.text = text
        self.fallback = fallback
        self._line_starts: list[int] | None = None
        # statement -> (statement, first row, indents, {node: CodeRange}), or None
        self._rendered: dict[cst.CSTNode, _Rendered | None] = {}
        self._texts: dict[cst.CSTNode, str] = {}
        # searched tree -> {node: parent}
        self._parents: dict[cst.CSTNode, dict[cst.CSTNode, cst.CSTNode | None]] = {}
        self._whole: Ranges | None = None

    # -- public ----------------------------------------------------------------------

    def range(self, node: cst.CSTNode, hint: cst.CSTNode | None = None) -> Range:
        """Start and end of `node`. `hint`: the module-level statement that holds it, if
        known, so that only that statement is searched."""
        ranges = self._local(node, hint)
        if ranges is None and self.fallback is not None:
            return self.fallback.range(node, hint)
        where = ranges[node] if ranges is not None else self._whole_module()[node]
        return (where.start.line, where.start.column + 1), (where.end.line, where.end.column + 1)

    def first_row(self, statement: cst.CSTNode) -> int:
        """The row of a module-level statement's first leading line (comment or blank)."""
        if self.tree is not None:
            placed = self._place([statement])
            if placed is not None:
                return placed[0]
        if self.fallback is not None:
            return self.fallback.first_row(statement)
        where = self._whole_module()[statement]
        return where.start.line - leading_rows(statement)

    # -- the innermost statement ---------------------------------------------------------

    def _local(self, node: cst.CSTNode, hint: cst.CSTNode | None) -> Ranges | None:
        ancestors = self._ancestors(node, hint) if self.tree is not None else None
        found = self._innermost(ancestors) if ancestors is not None else None
        if found is None:
            return None
        ranges = found[3]
        return ranges if node in ranges else None

    def enclosing(
        self, nodes: list[cst.CSTNode], hint: cst.CSTNode | None
    ) -> tuple[cst.CSTNode, int, list[str], str] | None:
        """(statement, row of its first leading line, indentation around it, its rendering)
        for the innermost statement holding all `nodes`, or None. For fixes: render only
        that. The rendering is the file's text from that row on, except that it may end
        with a newline the file lacks (see `past_end`)."""
        if self.tree is None or not nodes:
            return None
        common: list[cst.CSTNode] | None = None
        for node in nodes:
            ancestors = self._ancestors(node, hint)
            if ancestors is None:
                return None
            if common is None:
                common = ancestors
            else:
                size = 0
                while size < min(len(common), len(ancestors)) and common[size] is ancestors[size]:
                    size += 1
                common = common[:size]
        found = self._innermost(common) if common else None
        if found is None:
            return None
        statement, row, indents, _ = found
        return statement, row, indents, self._texts[statement]

    def past_end(self, statement: cst.CSTNode) -> bool:
        """Does the rendering of `statement` (from `enclosing`) end with a newline the file
        lacks? (The last statement of a file without a final newline.)"""
        text = self._texts.get(statement)
        if text is None:
            return False
        # Its text is kept only once it is rendered and checked: then `_rendered` holds it.
        start = self._offset(cast("_Rendered", self._rendered[statement])[1])
        return start is not None and start + len(text) > len(self.text)

    def _innermost(self, ancestors: list[cst.CSTNode]) -> _Rendered | None:
        """(statement, first row, indents, ranges) for the innermost statement among
        `ancestors`, rendered and checked against the file; None if it cannot be."""
        chain = [n for n in ancestors if isinstance(n, _STATEMENTS)]
        # An `elif` renders as `if` on its own: start at the statement that owns it.
        while len(chain) > 1 and _is_elif(chain[-1], chain[-2]):
            chain.pop()
        if not chain:
            return None
        statement = chain[-1]
        if statement not in self._rendered:
            self._rendered[statement] = None
            placed = self._place(chain)
            if placed is not None:
                first_row, _ = placed
                indents = [
                    self.module.default_indent if block.indent is None else block.indent
                    for block in ancestors[: _index(ancestors, statement)]
                    # A match statement indents its cases itself, not through a block.
                    if isinstance(block, (cst.IndentedBlock, cst.Match))
                ]
                ranges = self._render(statement, first_row, indents)
                if ranges is not None:
                    self._rendered[statement] = (statement, first_row, indents, ranges)
        return self._rendered[statement]

    def _ancestors(self, node: cst.CSTNode, hint: cst.CSTNode | None) -> list[cst.CSTNode] | None:
        """The nodes from the module down to `node`, `node` included. Each searched tree
        (the hint, or the whole module) is walked once, recording every node's parent, so
        that many findings in one large statement do not walk it again each."""
        root = hint if hint is not None else self.module
        parents = self._parents.get(root)
        if parents is None:
            parents = self._parents[root] = {root: self.module if hint is not None else None}
            stack: list[cst.CSTNode] = []

            def enter(current: cst.CSTNode) -> None:
                if stack:
                    parents[current] = stack[-1]
                stack.append(current)

            def leave(_current: cst.CSTNode) -> None:
                stack.pop()

            walk(root, enter, leave)
        if node not in parents:
            return None
        found: list[cst.CSTNode] = []
        current: cst.CSTNode | None = node
        while current is not None:
            found.append(current)
            current = parents.get(current)
        found.reverse()
        return found

    def _place(self, chain: Sequence[cst.CSTNode]) -> tuple[int, ast.stmt] | None:
        """(row of the first leading line, CPython statement) of the last statement of
        `chain` (statements from module level down), matched through CPython's tree."""
        cst_body: Sequence[cst.CSTNode] = list(self.module.body)
        ast_body: Sequence[ast.stmt] = cast(ast.Module, self.tree).body  # callers have checked there is one
        found: ast.stmt | None = None
        for depth, statement in enumerate(chain):
            found = _match(cst_body, ast_body, statement)
            if found is None:
                return None
            if depth + 1 < len(chain):
                bodies = _bodies_holding(statement, found, chain[depth + 1])
                if bodies is None:
                    return None
                cst_body, ast_body = bodies
        statement = chain[-1]
        found = cast(ast.stmt, found)  # matched: `chain` is never empty
        row = found.lineno
        for decorator in getattr(found, "decorator_list", ()):
            row = min(row, decorator.lineno)
        return row - leading_rows(statement), found

    def _render(self, statement: cst.CSTNode, first_row: int, indents: list[str]) -> Ranges | None:
        from libcst.metadata.position_provider import PositionProvidingCodegenState

        computed: dict[cst.CSTNode, CodeRange] = {}
        # The codegen state only stores each node's range in `provider._computed`: a stand-in
        # for the PositionProvider it is typed to take.
        provider = types.SimpleNamespace(_computed=computed)
        state = PositionProvidingCodegenState(
            default_indent=self.module.default_indent,
            default_newline=self.module.default_newline,
            provider=provider,  # type: ignore[arg-type]
            indent_tokens=list(indents),
            line=first_row,
        )
        statement._codegen(state)
        rendered = "".join(state.tokens)
        start = self._offset(first_row)
        if start is None:
            return None
        actual = self.text[start : start + len(rendered)]
        # The module's last statement may lack the newline LibCST renders after it.
        if actual != rendered and not (
            start + len(actual) == len(self.text)
            and rendered.startswith(actual)
            and rendered[len(actual) :] == self.module.default_newline
        ):
            return None
        self._texts[statement] = rendered
        return computed

    def _offset(self, row: int) -> int | None:
        if self._line_starts is None:
            starts = [0]
            text = self.text
            index = 0
            # Rows as LibCST counts them: \r\n, \r and \n end a line (not \f or \v).
            while True:
                index = _next_newline(text, index)
                if index < 0:
                    break
                starts.append(index)
            self._line_starts = starts
        if not 1 <= row <= len(self._line_starts):
            return None
        return self._line_starts[row - 1]

    def _whole_module(self) -> Ranges:
        if self._whole is None:
            from libcst.metadata import MetadataWrapper, PositionProvider

            self._whole = MetadataWrapper(self.module, unsafe_skip_copy=True).resolve(PositionProvider)
        return self._whole


def leading_rows(statement: cst.CSTNode) -> int:
    """How many rows the statement's leading lines take: one each, but a blank line after
    a line holding only a backslash is one EmptyLine whose whitespace is `\\` and a
    line ending."""
    rows = 0
    # Only statements (a module's or a block's) are passed here.
    for line in cast("cst.SimpleStatementLine | cst.BaseCompoundStatement", statement).leading_lines:
        rows += 1
        if "\\" in line.whitespace.value:
            rows += len(split_lines(line.whitespace.value + "x")) - 1
    return rows


def indent_unit(module: cst.Module) -> str:
    """What a block a fix makes is indented by: the module's unit, which LibCST takes from the
    first indented line, form feed and all (`\f    return 1`). A form feed only counts at
    the start of a line: inside a block's indentation it would break the fixed file."""
    return module.default_indent.replace("\f", "") or "    "


def render(module: cst.Module, node: cst.CSTNode, indents: list[str]) -> str:
    """`node`'s code inside blocks indented by `indents`: as it reads in the file."""
    from libcst._nodes.internal import CodegenState

    state = CodegenState(
        default_indent=indent_unit(module), default_newline=module.default_newline, indent_tokens=list(indents)
    )
    node._codegen(state)
    return "".join(state.tokens)


def _next_newline(text: str, index: int) -> int:
    """The offset just after the next line end at or after `index`, or -1."""
    n = text.find("\n", index)
    r = text.find("\r", index)
    if r < 0 and n < 0:
        return -1
    if r < 0 or (0 <= n < r):
        return n + 1
    return r + 2 if text.startswith("\r\n", r) else r + 1


def _index(nodes: Sequence[object], node: object) -> int:
    return next(i for i, item in enumerate(nodes) if item is node)


def call_ranges(text: str, tree: ast.Module, calls: list[tuple[int, int, str | None]]) -> list[Range | None]:
    """The ranges of calls known by number, from CPython's positions (`tree`: its tree of
    `text`): each of `calls` is (its number from 0 among the module's calls in source order,
    how many the module has, the name its callee's text starts with or None), as LibCST's
    traversal counts them; its range is that of CPython's call of the same number (both
    leave out parentheses around a call), what `Locator.range` would give. None where that
    cannot be sure: the counts differ, or the text there does not read as the call (`)` at
    its end, its name first)."""
    theirs = _ast_calls(tree)
    # Source order: by start, the outer of two calls starting together first (`f()()`).
    theirs.sort(key=lambda c: (c.lineno, c.col_offset, -(c.end_lineno or 0), -(c.end_col_offset or 0)))
    lines = split_lines(text)
    found: list[Range | None] = []
    for number, total, name in calls:
        call = theirs[number] if total == len(theirs) and 0 <= number < total else None
        if call is None or call.end_lineno is None or call.end_col_offset is None:
            found.append(None)
            continue
        start = (call.lineno, _column(lines, call.lineno, call.col_offset))
        end = (call.end_lineno, _column(lines, call.end_lineno, call.end_col_offset))
        reads = _text(lines, end[0], end[1] - 1, 1) == ")" and (
            name is None or _text(lines, start[0], start[1], len(name)) == name
        )
        found.append((start, end) if reads else None)
    return found


# Nodes that hold no call (names, constants, contexts): not looked into.
_NO_CALLS = frozenset(
    {ast.Name, ast.Constant, ast.Load, ast.Store, ast.Del, ast.Pass, ast.Break, ast.Continue, ast.alias}
)


def _ast_calls(tree: ast.AST) -> list[ast.Call]:
    """Every call in `tree`, in no order (`ast.walk`'s work, in half its time)."""
    found = []
    stack = [tree]
    while stack:
        node = stack.pop()
        if type(node) is ast.Call:
            found.append(node)
        for name in node._fields:
            value = getattr(node, name, None)
            if type(value) is list:
                stack.extend(item for item in value if type(item) not in _NO_CALLS and isinstance(item, ast.AST))
            elif type(value) not in _NO_CALLS and isinstance(value, ast.AST):
                stack.append(value)
    return found


def leftmost_name(func: cst.BaseExpression) -> str | None:
    """The name a callee's text starts with (`a` of `a.b[0].c`), unless parenthesized."""
    while not func.lpar:
        if isinstance(func, cst.Name):
            return func.value
        if isinstance(func, (cst.Attribute, cst.Subscript)):
            func = func.value
        elif isinstance(func, cst.Call):
            func = func.func
        else:
            return None
    return None


def _text(lines: list[str], row: int, col: int, size: int) -> str:
    return _line(lines, row)[col - 1 : col - 1 + size]


def _column(lines: list[str], row: int, offset: int) -> int:
    """The 1-based column of CPython's `offset` (UTF-8 bytes into line `row`)."""
    return len(_line(lines, row).encode("utf-8")[:offset].decode("utf-8", errors="replace")) + 1


def _line(lines: list[str], row: int) -> str:
    return lines[row - 1] if 0 < row <= len(lines) else ""


def _is_elif(statement: cst.CSTNode, parent: cst.CSTNode) -> bool:
    return isinstance(parent, cst.If) and parent.orelse is statement


def _match(cst_body: Sequence[cst.CSTNode], ast_body: Sequence[ast.stmt], statement: cst.CSTNode) -> ast.stmt | None:
    """The CPython statement for `statement` in a body (for a statement line: its first)."""
    index = 0
    for item in cst_body:
        if index >= len(ast_body):
            return None
        if item is statement:
            found = ast_body[index]
            kinds = _SAME_KIND.get(type(item))
            if kinds is not None and not isinstance(found, kinds):
                return None
            if kinds is None and not isinstance(item, cst.SimpleStatementLine):
                return None
            return found
        # `a = 1; b = 2` is one LibCST line but two CPython statements.
        index += len(item.body) if isinstance(item, cst.SimpleStatementLine) else 1
    return None


def _block(suite: cst.BaseSuite) -> list[cst.BaseStatement] | None:
    return list(suite.body) if isinstance(suite, cst.IndentedBlock) else None


def _bodies_holding(
    statement: cst.CSTNode, found: ast.stmt, child: cst.CSTNode
) -> tuple[Sequence[cst.CSTNode], list[ast.stmt]] | None:
    """(LibCST body, CPython body) of `statement` that holds `child`. `found` is of a kind
    `statement` stands for (`_match` checked it against _SAME_KIND)."""
    pairs: list[tuple[Sequence[cst.CSTNode] | None, list[ast.stmt]]] = []
    if isinstance(statement, (cst.FunctionDef, cst.ClassDef, cst.With)):
        found_def = cast("ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.With | ast.AsyncWith", found)
        pairs.append((_block(statement.body), found_def.body))
    elif isinstance(statement, (cst.If, cst.For, cst.While)):
        found_loop = cast("ast.If | ast.For | ast.AsyncFor | ast.While", found)
        pairs.append((_block(statement.body), found_loop.body))
        orelse = statement.orelse
        if isinstance(orelse, cst.Else):
            pairs.append((_block(orelse.body), found_loop.orelse))
        elif isinstance(orelse, cst.If):
            pairs.append(([orelse], found_loop.orelse))
    elif isinstance(statement, _TRY):
        found_try = cast(ast.Try, found)  # or an ast.TryStar (3.11+), which has the same fields
        pairs.append((_block(statement.body), found_try.body))
        handlers: Sequence[cst.ExceptHandler | cst.ExceptStarHandler] = statement.handlers
        if len(handlers) != len(found_try.handlers):
            return None
        for handler, ast_handler in zip(handlers, found_try.handlers, strict=True):
            pairs.append((_block(handler.body), ast_handler.body))
        if statement.orelse is not None:
            pairs.append((_block(statement.orelse.body), found_try.orelse))
        if statement.finalbody is not None:
            pairs.append((_block(statement.finalbody.body), found_try.finalbody))
    elif isinstance(statement, cst.Match):
        found_match = cast(ast.Match, found)
        if len(statement.cases) != len(found_match.cases):
            return None
        for case, ast_case in zip(statement.cases, found_match.cases, strict=True):
            pairs.append((_block(case.body), ast_case.body))
    for cst_body, ast_body in pairs:
        if cst_body is not None and any(item is child for item in cst_body):
            return cst_body, ast_body
    return None


class WholeModulePositions:
    """Positions from LibCST's whole-module rendering: the fallback where
    `asynclint.positions.Locator` cannot use the innermost statement.

    LibCST's rendering is not always the text (see `_may_differ`): it leaves out a line
    holding only a backslash, the indentation up to a form feed in it, a last lone `\r`,
    a byte order mark. Then positions are mapped back to the text's rows and columns
    (`faithful` is False, and fixes, edits of the rendering, are not offered).
    """

    def __init__(self, module: cst.Module, text: str | None = None) -> None:
        self.module = module
        # Row in LibCST's rendering -> (row in the text, columns the text has more on it).
        self.rows: list[tuple[int, int]] | None = None
        self.faithful = True
        if text is not None and _may_differ(text):
            rendered = module.code
            if rendered != text:
                self.faithful = False
                self.rows, _ = _match_rows(rendered, text)
        self.whole: Ranges | None = None

    def first_row(self, statement: cst.CSTNode) -> int:
        """The row of the statement's first leading line (comment or blank line)."""
        where = self._whole()[statement]
        return self._place(where.start.line - leading_rows(statement), 1)[0]

    def range(self, node: cst.CSTNode, statement: cst.CSTNode | None) -> Range:
        where = self._whole()[node]
        return self._place(where.start.line, where.start.column + 1), self._place(where.end.line, where.end.column + 1)

    def _place(self, row: int, col: int) -> tuple[int, int]:
        rows = self.rows
        if not rows:
            return row, col
        if 1 <= row <= len(rows):
            row, shift = rows[row - 1]
            return row, col + shift
        return rows[-1][0] + row - len(rows), col

    def _whole(self) -> Ranges:
        if self.whole is None:
            from libcst.metadata import MetadataWrapper, PositionProvider

            self.whole = MetadataWrapper(self.module, unsafe_skip_copy=True).resolve(PositionProvider)
        return self.whole


# A line holding only whitespace and a backslash, which LibCST may leave out of its rendering.
_LONE_BACKSLASH = re.compile(r"[ \t\f]*\\(?:\r\n|\r|\n)")
_BACKSLASH_AT_END = re.compile(r"\\[\r\n]")


def _has_lone_backslash(text: str) -> bool:
    for match in _BACKSLASH_AT_END.finditer(text):
        end = match.start()
        start = max(text.rfind("\n", 0, end), text.rfind("\r", 0, end)) + 1
        if not text[start:end].strip(" \t\f"):
            return True
    return False


def _may_differ(text: str) -> bool:
    """Can LibCST's rendering of the module differ from the text? Cheap checks for what it
    leaves out: a line holding only a backslash, the indentation up to a form feed before
    a statement, a lone `\r` at the end of the file, a byte order mark at the start."""
    return "\f" in text or text.endswith("\r") or text.startswith("\ufeff") or _has_lone_backslash(text)


def _match_rows(rendered: str, text: str) -> tuple[list[tuple[int, int]] | None, int]:
    """For each line of LibCST's rendering, (its row in the text, how many columns the
    text has more at its start): the same lines, in order, with some of the text's
    lone-backslash lines and a last empty line left out, and the indentation up to a form
    feed. (None, the 0-based index of the first line of the text that does not match)
    if that is not so."""
    have = split_lines(text, keepends=True)
    rows: list[tuple[int, int]] = []
    index = 0
    for line in split_lines(rendered):
        while index < len(have):
            shift = _same_line(have[index].rstrip("\r\n"), line)
            if shift is not None:
                break
            if not _LONE_BACKSLASH.fullmatch(have[index]):
                return None, index
            index += 1
        else:
            return None, index
        index += 1
        rows.append((index, shift))
    for rest in range(index, len(have)):
        # (LibCST also leaves out a last line holding only `\r`, or only a byte order mark.)
        if have[rest].strip("\r\n\ufeff") and not _LONE_BACKSLASH.fullmatch(have[rest]):
            return None, rest
    return rows, index


def _same_line(have: str, line: str) -> int | None:
    """0 if a line of the text is the line LibCST rendered; the number of characters LibCST
    left out if it is that line but for the indentation up to a form feed; else None."""
    if have == line:
        return 0
    bom = 1 if have.startswith("\ufeff") else 0  # a byte order mark: only at the start of the text
    indent = len(have) - len(have[bom:].lstrip(" \t\f"))
    cut = max(have.rfind("\f", bom, indent) + 1, bom)
    return cut if cut and have[cut:] == line else None


def misread(text: str, module: cst.Module) -> tuple[int, bool] | None:
    """(row, whether it holds only a backslash) of the text's first line that LibCST's
    module gets wrong, or None. LibCST leaves a line holding only a backslash out; when the
    next line changes the indentation, it also re-indents that line into the block above
    (CPython does not): its tree is then not the program."""
    if not _may_differ(text):
        return None
    rendered = module.code
    if rendered == text:
        return None
    rows, index = _match_rows(rendered, text)
    if rows is not None:
        return None
    lines = split_lines(text, keepends=True)
    for row in range(min(index, len(lines)) - 1, -1, -1):
        if _LONE_BACKSLASH.fullmatch(lines[row]):
            return row + 1, True
    return min(index + 1, max(len(lines), 1)), False
