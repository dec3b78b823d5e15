"""Source text -> a LibCST module, or the ASL001/ASL002 finding that says why not.

CPython's own parser checks the text first (it is fast, and places a syntax error where
Python does); nesting too deep for the parsers is a finding, not a crash; LibCST parses on a
thread with a large stack, without validating each node it builds (the parser only builds
valid ones).
"""

from __future__ import annotations

import ast
import os
import re
import symtable
import sys
import threading
import warnings
from collections.abc import Callable
from itertools import accumulate
from typing import TYPE_CHECKING, ParamSpec, Protocol, TypeVar, cast

import libcst as cst

from asynclint.diagnostics import Diagnostic, FileResult
from asynclint.positions import misread
from asynclint.source import split_lines

if TYPE_CHECKING:
    import concurrent.futures

_P = ParamSpec("_P")
_T = TypeVar("_T")

TOO_DEEP = "SyntaxError: the code is nested too deeply to analyse"
_BRACKETS = re.compile(r"[^()\[\]{}]+")
# CPython's tokenizer refuses more than 200 nested brackets.
_MAX_BRACKET_DEPTH = 200


def precheck(text: str, want_tree: bool = True) -> tuple[str, ast.Module | None, Exception | None]:
    """(verdict, CPython's tree, CPython's error). The verdict: "ok"; "invalid" (let LibCST
    decide: it may also be newer syntax than this Python knows; the error then says where
    CPython sees the problem); "unencodable" (a lone surrogate: not text any parser can
    take; the error is the UnicodeEncodeError); or "too-deep": code CPython itself refuses
    as too deeply nested or too complex, on which LibCST's parser can take minutes or
    exhaust its stack. CPython's own parser answers this in a fraction of LibCST's time.
    `want_tree=False`: the caller needs only the verdict (a file no rule parses), and a text
    CPython accepts gets no tree."""
    if not want_tree and _accepted(text):
        return "ok", None, None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = ast.parse(text)
        return "ok", tree, None
    except (RecursionError, MemoryError):
        return "too-deep", None, None
    except UnicodeEncodeError as exc:
        return "unencodable", None, exc
    except (SyntaxError, ValueError) as exc:
        return ("too-deep" if _bracket_depth(text) > _MAX_BRACKET_DEPTH else "invalid"), None, exc


def _accepted(text: str) -> bool:
    """Does CPython accept the text? Asked of its symbol table, which parses with the same
    parser but builds no Python objects for the tree: 40% less time than `ast.parse` on
    the application corpus, and most files of a project are only checked, never parsed
    by LibCST. Any refusal is asked again of `ast.parse` (the symbol table also refuses
    code the parser accepts, `global` after a use, say), so the verdict stays the parser's."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            symtable.symtable(text, "<asynclint>", "exec")
        return True
    except Exception:  # SyntaxError, ValueError, RecursionError, MemoryError: ask the parser
        return False


def _bracket_depth(text: str) -> int:
    depth = deepest = 0
    for char in _BRACKETS.sub("", text):
        if char in "([{":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


_STACK_SIZE = 256 * 1024 * 1024
_RECURSION_LIMIT = 5_000
_executor: concurrent.futures.ThreadPoolExecutor | None = None
# Set once, on import: deep but valid code must not hit the default limit of 1000 in the
# big-stack thread (the limit is per interpreter, not per thread).
sys.setrecursionlimit(max(sys.getrecursionlimit(), _RECURSION_LIMIT))


def _forget_executor() -> None:
    # A forked worker inherits the executor but not its thread: submitting would hang.
    global _executor
    _executor = None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_executor)


def on_big_stack(function: Callable[_P, _T], *args: _P.args, **kwargs: _P.kwargs) -> _T:
    global _executor
    if _executor is None:
        import concurrent.futures
        import threading

        previous = threading.stack_size(_STACK_SIZE)
        try:
            _executor = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="asynclint-engine")
            _executor.submit(lambda: None).result()  # start the thread while the size is set
        finally:
            threading.stack_size(previous)
    return _executor.submit(function, *args, **kwargs).result()


def parse_or_report(
    text: str, path: str, result: FileResult, error: Exception | None = None, tree: ast.Module | None = None
) -> cst.Module | None:
    """LibCST's module, or None and an ASL001 finding in `result`. `error` is CPython's
    SyntaxError (None: CPython accepts the code), `tree` CPython's tree if it has one."""
    if tree is not None:
        long = _longest_expression(text, tree)
        if long is not None:
            depth, row, col = long
            result.diagnostics.append(
                Diagnostic(
                    "ASL001", _TOO_LONG.format(depth=depth, limit=_MAX_EXPRESSION_DEPTH), path, row, col, row, col
                )
            )
            return None
    try:
        module = parse_module(text)
        wrong = misread(text, module)
        if wrong is None:
            return module
        row, col = wrong[0], 1
        if isinstance(error, SyntaxError) and error.lineno:
            message = f"{type(error).__name__}: {error.msg}"
            row, col = _clamp(text, error.lineno, error.offset or 1)
        elif wrong[1]:
            message = (
                f"cannot parse: the parser ({_libcst_version()}) misreads a line holding only a backslash "
                "before a change of indentation; remove the backslash"
            )
        else:
            message = f"cannot parse: the parser ({_libcst_version()}) misreads line {row}"
        result.diagnostics.append(Diagnostic("ASL001", message, path, row, col, row, col))
    except cst.ParserSyntaxError as exc:
        libcst_message = str(exc.message).splitlines()[0] if exc.message else "invalid syntax"
        if isinstance(error, SyntaxError) and error.lineno:
            # Where and what CPython reports, as `python -m py_compile` shows it.
            message = f"{type(error).__name__}: {error.msg}"
            row, col = _clamp(text, error.lineno, error.offset or 1)
        elif error is None:
            # CPython accepts it: a limit of LibCST's parser, not an error in the file.
            message = f"cannot parse: syntax not supported by the parser ({_libcst_version()}): {libcst_message}"
            row, col = _clamp(text, exc.raw_line, exc.raw_column + 1)
        else:  # CPython refuses it without saying where (a NUL character, say)
            message = f"SyntaxError: {getattr(error, 'msg', None) or error}"
            row, col = _clamp(text, exc.raw_line, exc.raw_column + 1)
        result.diagnostics.append(Diagnostic("ASL001", message, path, row, col, row, col))
    except RecursionError:
        result.diagnostics.append(
            Diagnostic("ASL001", "SyntaxError: the code is nested too deeply to parse", path, 1, 1, 1, 1)
        )
    return None


def parse_module(text: str) -> cst.Module:
    """`cst.parse_module`, without validating each node the parser builds. LibCST validates
    every node on construction (`CSTNode.__post_init__`), which is for trees built by hand:
    its parser's nodes are valid by construction (LibCST's own PERF note there says as
    much), and the check is a seventh of the parse. It is skipped only for nodes this thread
    builds while it parses (another thread of a program embedding asynclint still gets its
    nodes validated; asking which thread costs 1% of the parse), and only while
    `__post_init__` does nothing but validate."""
    post_init = cst.CSTNode.__post_init__
    if post_init.__code__.co_names != ("_validate",):
        return cst.parse_module(text)  # a LibCST whose __post_init__ does more: leave it be
    parser = threading.get_ident()

    def validate_elsewhere(
        node: cst.CSTNode,
        _validate: Callable[[cst.CSTNode], None] = post_init,
        _thread: Callable[[], int] = threading.get_ident,
    ) -> None:
        if _thread() != parser:
            _validate(node)

    # Patching the method on the class for the parse is the point (see above); mypy forbids
    # assigning to a method, and reads the class attribute's type with `self` twice.
    cst.CSTNode.__post_init__ = validate_elsewhere  # type: ignore[method-assign, assignment]
    try:
        return cst.parse_module(text)
    finally:
        cst.CSTNode.__post_init__ = post_init  # type: ignore[method-assign]


def _clamp(text: str, row: int, col: int) -> tuple[int, int]:
    """The nearest real position in the text: parsers report the end of the file, or
    a column past the end of a line, for some errors."""
    lines = split_lines(text)
    if not lines:
        return 1, 1
    if row > len(lines):
        return len(lines), len(lines[-1]) + 1
    row = max(row, 1)
    return row, min(max(col, 1), len(lines[row - 1]) + 1)


def _libcst_version() -> str:
    try:
        from importlib.metadata import version

        return f"LibCST {version('libcst')}"
    except Exception:
        return "LibCST"


def unencodable(text: str, path: str, error: UnicodeEncodeError) -> Diagnostic:
    """ASL002 for text no parser can take (a lone surrogate: only a decoding with
    `surrogateescape`, or a caller building the string, produces one)."""
    offset = min(error.start, len(text))
    before = split_lines(text[:offset], keepends=True)
    if before and not before[-1].endswith(("\n", "\r")):
        row, col = len(before), len(before[-1]) + 1
    else:
        row, col = len(before) + 1, 1
    row, col = _clamp(text, row, col)
    what = f"U+{ord(text[offset]):04X}" if offset < len(text) else "a character"
    message = f"cannot encode as UTF-8: lone surrogate {what} (the text is not valid Unicode)"
    return Diagnostic("ASL002", message, path, row, col, row, col)


# LibCST's parser takes time quadratic in how deeply an expression nests (`1+1+...+1`,
# `a.b.c...`, `f()()...`, `x[0][0]...`): a second for about 1000 levels of subscripts,
# or 2000 terms of a sum, and a minute for 5000 terms. Real code nests a few dozen levels.
_MAX_EXPRESSION_DEPTH = 800
_TOO_LONG = "cannot parse: expression too long for the parser: {depth} nested operands (the limit is {limit})"


def _longest_expression(text: str, tree: ast.Module) -> tuple[int, int, int] | None:
    """(depth, row, col of its statement) of the first expression nested deeper than the
    parser can take in reasonable time, or None. Every level of nesting takes at least a
    character, so a node spanning fewer characters than the levels still missing is not
    walked: in real code, hardly anything is."""
    limit = _MAX_EXPRESSION_DEPTH
    if len(text) < limit:
        return None
    # Characters up to the end of each line (CPython's rows, if lines end in \n or \r\n;
    # else every line is taken to be as long as the whole text, still an upper bound).
    reach = (
        list(accumulate(len(line) + 1 for line in text.split("\n"))) if text.count("\r") == text.count("\r\n") else None
    )

    def chars(node: _Located) -> int:
        if node.end_lineno == node.lineno:
            return node.end_col_offset - node.col_offset  # bytes, at least as many
        if reach is None:
            return len(text)
        return reach[min(node.end_lineno, len(reach)) - 1] - (reach[node.lineno - 2] if node.lineno > 1 else 0)

    # (node, its depth inside the statement's expressions, the statement)
    stack: list[tuple[ast.AST, int, ast.stmt]] = [(node, 0, node) for node in reversed(tree.body)]
    while stack:
        node, depth, statement = stack.pop()
        if isinstance(node, ast.stmt):
            depth, statement = 0, node
        elif depth > limit:
            return _deepest(statement), *_char_position(text, statement.lineno, statement.col_offset)
        # A node at this depth nests at most a few levels more than it has characters.
        if getattr(node, "end_lineno", None) is not None and depth + chars(cast("_Located", node)) + 4 <= limit:
            continue
        stack.extend((child, depth + 1, statement) for child in ast.iter_child_nodes(node))
    return None


class _Located(Protocol):
    """A node CPython places (its end known: `end_lineno` is checked before use)."""

    lineno: int
    col_offset: int
    end_lineno: int
    end_col_offset: int


def _deepest(statement: ast.AST) -> int:
    """How deep the statement's expressions nest (not counting nested statements)."""
    deepest = 0
    stack = [(child, 1) for child in ast.iter_child_nodes(statement)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, ast.stmt):
            continue
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))
    return deepest


def _char_position(text: str, row: int, byte_col: int) -> tuple[int, int]:
    """CPython's column is a UTF-8 byte offset; a finding's column counts characters."""
    lines = split_lines(text)
    line = lines[row - 1] if 0 < row <= len(lines) else ""
    return _clamp(text, row, len(line.encode("utf-8")[:byte_col].decode("utf-8", "ignore")) + 1)
