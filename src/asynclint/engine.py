"""One file in, findings out.

The engine owns everything between the bytes of a file and its findings:
decoding, the cheap token prefilter, parsing, the scope pass, the one
traversal that dispatches to every enabled rule, ASL001/ASL002, noqa, and
isolation of rules that crash. It is a pure function of (source, settings,
project index), so it runs the same in a worker process, under flake8, in an
editor and in tests; `pipeline` decides what to run it on.
"""

from __future__ import annotations

import ast
import os
import re
import sys
import threading
import traceback
import warnings
from collections import defaultdict
from itertools import accumulate

import libcst as cst

from asynclint import __version__, noqa, registry
from asynclint.config import Settings
from asynclint.context import Context
from asynclint.diagnostics import Diagnostic, Facts, FileResult, InternalError
from asynclint.positions import leading_rows
from asynclint.project import module_name
from asynclint.rule import Rule
from asynclint.scope import build_scopes
from asynclint.source import UnreadableSource, read_source, split_lines
from asynclint.walk import COMPREHENSIONS, walk


def rules_for(settings: Settings, path: str) -> list[type[Rule]]:
    codes = settings.codes_for(path)
    return [rule for rule in registry.load_rules(codes) if settings.target_version >= rule.min_target]


def lint_file(
    path: str, settings: Settings, *, collect_facts: Facts = Facts.NONE, project=None, apply_noqa: bool = True
) -> FileResult:
    try:
        source = read_source(path)
    except UnreadableSource as exc:
        return _engine_finding(path, "ASL002", str(exc), 1, 1, settings)
    return lint_text(source.text, path, settings, apply_noqa=apply_noqa, collect_facts=collect_facts, project=project)


def lint_text(
    text: str,
    path: str,
    settings: Settings,
    *,
    apply_noqa: bool = True,
    collect_facts: Facts = Facts.NONE,
    project=None,
) -> FileResult:
    """Findings for one file. `collect_facts` also gathers the module's facts for project
    analysis into result.facts (see `Facts` for which). `project` is the ProjectIndex rules
    such as ASL207 consult."""
    # Parsing and visiting recurse as deep as the code nests; a thread with a large stack
    # turns what would be a crash of the whole process on hostile input into a finding.
    return _on_big_stack(_lint_text, text, path, settings, apply_noqa, collect_facts, project)


def _lint_text(text: str, path: str, settings: Settings, apply_noqa: bool, mode: Facts, project) -> FileResult:
    result = FileResult(path=path)
    exempt = noqa.file_exemptions(text) if apply_noqa else None
    if exempt is not None and not exempt:
        return result  # `# asynclint: noqa` opts the whole file out
    # With the project index, names from other modules can match: its own prefilter.
    wants = project.wants if project is not None else (lambda rule, text, settings: rule.wants(text, settings))
    rules = [rule for rule in rules_for(settings, path) if wants(rule, text, settings)]
    check_syntax = "ASL001" in settings.codes_for(path)
    # Facts matter only where something is defined or re-exported; and, unless the file is
    # parsed anyway, only where they are wanted before the index exists (`wanted_first`):
    # the others wait until the runner sees they are wanted (`runner._index_on_demand`).
    collect_facts = mode is not Facts.NONE and ("def " in text or "import" in text)
    if collect_facts and not rules and mode is not Facts.ALL:
        from asynclint.facts import wanted_first
        from asynclint.project import DEFERRED

        if not wanted_first(text, settings, async_code=mode is not Facts.SEEDS):
            result.facts = DEFERRED
            collect_facts = False
    if not rules and not check_syntax and not collect_facts:
        return _filter(result, text, exempt, apply_noqa, settings)
    verdict, tree, error = _precheck(text)
    if verdict == "unencodable":
        if "ASL002" in settings.codes_for(path):
            result.diagnostics.append(_unencodable(text, path, error))
        return _filter(result, text, exempt, apply_noqa, settings, linted=False)
    if verdict == "too-deep":
        if check_syntax:
            result.diagnostics.append(Diagnostic("ASL001", _TOO_DEEP, path, 1, 1, 1, 1))
        return _filter(result, text, exempt, apply_noqa, settings, linted=False)
    if not rules and not collect_facts:
        # Nothing can match, so LibCST is not needed unless it has a syntax error to locate.
        if verdict == "invalid":
            _parse_or_report(text, path, result, error)
        return _filter(result, text, exempt, apply_noqa, settings, linted=verdict != "invalid")
    module = _parse_or_report(text, path, result if check_syntax else FileResult(path), error, tree)
    if module is None:
        return _filter(result, text, exempt, apply_noqa, settings, linted=False)
    linted = True
    try:
        scopes = build_scopes(module)
        # Always known, so that names resolve the same whether or not facts are collected.
        ctx = Context(path, module, scopes, settings, module_name=module_name(path, settings.root), project=project)
        instances = [rule(ctx) for rule in rules]
        collector = None
        if collect_facts:
            from asynclint.facts import FactsCollector

            collector = FactsCollector(ctx, text)
            instances.append(collector)
        _Traversal(ctx, instances, result).run(module)
        if collector is not None:
            result.facts = collector.facts()
        result.diagnostics.extend(_diagnostics(ctx, module, path, tree, text))
    except RecursionError:
        linted = False
        result.errors.clear()
        result.diagnostics = [Diagnostic("ASL001", _TOO_DEEP, path, 1, 1, 1, 1)] if check_syntax else []
    return _filter(result, text, exempt, apply_noqa, settings, linted=linted)


_TOO_DEEP = "SyntaxError: the code is nested too deeply to analyse"
_BRACKETS = re.compile(r"[^()\[\]{}]+")
# CPython's tokenizer refuses more than 200 nested brackets.
_MAX_BRACKET_DEPTH = 200


def _precheck(text: str) -> tuple[str, ast.Module | None, Exception | None]:
    """(verdict, CPython's tree, CPython's error). The verdict: "ok"; "invalid" (let LibCST
    decide: it may also be newer syntax than this Python knows; the error then says where
    CPython sees the problem); "unencodable" (a lone surrogate: not text any parser can
    take; the error is the UnicodeEncodeError); or "too-deep": code CPython itself refuses
    as too deeply nested or too complex, on which LibCST's parser can take minutes or
    exhaust its stack. CPython's own parser answers this in a fraction of LibCST's time."""
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
_executor = None
# Set once, on import: deep but valid code must not hit the default limit of 1000 in the
# big-stack thread (the limit is per interpreter, not per thread).
sys.setrecursionlimit(max(sys.getrecursionlimit(), _RECURSION_LIMIT))


def _forget_executor() -> None:
    # A forked worker inherits the executor but not its thread: submitting would hang.
    global _executor
    _executor = None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_executor)


def _on_big_stack(function, *args):
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
    return _executor.submit(function, *args).result()


def _parse_or_report(
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
        module = _parse_module(text)
        misread = _misread(text, module)
        if misread is None:
            return module
        row, col = misread[0], 1
        if isinstance(error, SyntaxError) and error.lineno:
            message = f"{type(error).__name__}: {error.msg}"
            row, col = _clamp(text, error.lineno, error.offset or 1)
        elif misread[1]:
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


def _parse_module(text: str) -> cst.Module:
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

    def validate_elsewhere(node: cst.CSTNode, _validate=post_init, _thread=threading.get_ident) -> None:
        if _thread() != parser:
            _validate(node)

    cst.CSTNode.__post_init__ = validate_elsewhere
    try:
        return cst.parse_module(text)
    finally:
        cst.CSTNode.__post_init__ = post_init


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


def _unencodable(text: str, path: str, error: UnicodeEncodeError) -> Diagnostic:
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

    def chars(node) -> int:
        if node.end_lineno == node.lineno:
            return node.end_col_offset - node.col_offset  # bytes, at least as many
        if reach is None:
            return len(text)
        return reach[min(node.end_lineno, len(reach)) - 1] - (reach[node.lineno - 2] if node.lineno > 1 else 0)

    # (node, its depth inside the statement's expressions, the statement)
    stack: list[tuple[ast.AST, int, ast.AST]] = [(node, 0, node) for node in reversed(tree.body)]
    while stack:
        node, depth, statement = stack.pop()
        if isinstance(node, ast.stmt):
            depth, statement = 0, node
        elif depth > limit:
            return _deepest(statement), *_char_position(text, statement.lineno, statement.col_offset)
        # A node at this depth nests at most a few levels more than it has characters.
        if getattr(node, "end_lineno", None) is not None and depth + chars(node) + 4 <= limit:
            continue
        stack.extend((child, depth + 1, statement) for child in ast.iter_child_nodes(node))
    return None


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


def _engine_finding(path: str, code: str, message: str, row: int, col: int, settings: Settings) -> FileResult:
    result = FileResult(path=path)
    if code in settings.codes_for(path):
        result.diagnostics.append(Diagnostic(code, message, path, row, col, row, col))
    return result


def _diagnostics(ctx: Context, module: cst.Module, path: str, tree: ast.Module | None, text: str) -> list[Diagnostic]:
    if not ctx.reports:
        return []
    from asynclint.fixes import build_fix
    from asynclint.positions import Locator

    # The innermost statement where it renders to the file's text; else the whole module,
    # mapped back to the text where LibCST leaves characters out.
    positions = _Positions(module, text)
    locator = Locator(module, tree, text, fallback=positions)
    found = []
    for report in ctx.reports:
        start, end = locator.range(report.node, report.statement)
        fix = None
        # Fixes are edits of LibCST's rendering: where that is not the text, there are none.
        if report.fix is not None and positions.faithful:
            first_row = locator.first_row(report.statement) if report.statement is not None else None
            fix = build_fix(report.fix, module, report.statement, first_row, locator)
        found.append(Diagnostic(report.code, report.message, path, *start, *end, fix, report.help))
    return found


class _Positions:
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
        self.whole = None

    def first_row(self, statement: cst.CSTNode) -> int:
        """The row of the statement's first leading line (comment or blank line)."""
        where = self._whole()[statement]
        return self._place(where.start.line - leading_rows(statement), 1)[0]

    def range(self, node: cst.CSTNode, statement: cst.CSTNode | None) -> tuple[tuple[int, int], tuple[int, int]]:
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

    def _whole(self):
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


def _misread(text: str, module: cst.Module) -> tuple[int, bool] | None:
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


def _filter(
    result: FileResult, text: str, exempt, apply_noqa: bool, settings: Settings | None = None, linted: bool = True
) -> FileResult:
    """Line and file `# noqa` applied; with ASL003 selected and the rules run (`linted`), the
    line comments that suppress nothing reported."""
    if apply_noqa and settings is not None and "noqa" in text.lower():
        _noqa_hygiene(result, text, exempt, settings, linted)
    if not apply_noqa or not result.diagnostics:
        result.diagnostics.sort(key=lambda d: d.sort_key)
        return result
    lines = split_lines(text)
    kept = []
    for diagnostic in result.diagnostics:
        if noqa.is_file_exempt(exempt, diagnostic.code):
            continue
        line = lines[diagnostic.row - 1] if 0 < diagnostic.row <= len(lines) else ""
        if noqa.line_suppresses(line, diagnostic.code):
            continue
        kept.append(diagnostic)
    kept.sort(key=lambda d: d.sort_key)
    result.diagnostics = kept
    return result


def _noqa_hygiene(result: FileResult, text: str, exempt, settings: Settings, linted: bool) -> None:
    path = result.path
    for row in noqa.spaced_directives(text):
        result.notes.append(
            f"{path}:{row}: warning: `# noqa:` followed by more than one space silences every code on the "
            "line (flake8 reads it so); write `# noqa: ASL201`"
        )
    codes = settings.codes_for(path)
    if "ASL003" not in codes or noqa.is_file_exempt(exempt, "ASL003"):
        return
    if not linted or any(d.code in ("ASL001", "ASL002") for d in result.diagnostics):
        return  # the rules did not run: nothing can be judged unused
    # Findings of the rules that consult the project index may appear only in the second
    # pass: a comment naming them is never called unused here.
    from asynclint.project import PROJECT_CODES

    unsure = PROJECT_CODES if settings.project_analysis else frozenset()
    result.diagnostics.extend(noqa.unused(text, path, result.diagnostics, codes, registry.all_codes(), unsure))


class _Traversal:
    """The one traversal: keeps scope and node stack, and calls every rule's hooks."""

    def __init__(self, ctx: Context, rules: list[Rule], result: FileResult) -> None:
        self.ctx = ctx
        self.result = result
        self.rules = rules
        self.visits: dict[str, list] = defaultdict(list)
        self.leaves: dict[str, list] = defaultdict(list)
        for rule in rules:
            for attribute in dir(type(rule)):
                if attribute.startswith("visit_"):
                    self.visits[attribute[6:]].append((rule, getattr(rule, attribute)))
                elif attribute.startswith("leave_"):
                    self.leaves[attribute[6:]].append((rule, getattr(rule, attribute)))
        self.broken: set[str] = set()

    def run(self, module: cst.Module) -> None:
        walk(module, self.enter, self.leave, self.enter_body, self.leave_body)
        for rule in self.rules:
            self._call(rule, lambda _node, rule=rule: rule.finish(), None)

    def _call(self, rule: Rule, hook, node) -> None:
        if rule.code in self.broken:
            return
        self.ctx.current_code = rule.code
        try:
            hook(node)
        except Exception:  # a bug in one rule must not stop the others
            self.broken.add(rule.code)
            self.result.errors.append(
                InternalError(self.ctx.path, rule.code, f"asynclint {__version__}: {traceback.format_exc(limit=-3)}")
            )

    def enter(self, node: cst.CSTNode) -> None:
        ctx = self.ctx
        ctx.stack.append(node)
        cls = type(node)
        if cls in COMPREHENSIONS:
            ctx.scope = ctx.scopes[node]
        hooks = self.visits.get(cls.__name__)
        if hooks:
            for rule, hook in hooks:
                self._call(rule, hook, node)

    def leave(self, node: cst.CSTNode) -> None:
        ctx = self.ctx
        cls = type(node)
        hooks = self.leaves.get(cls.__name__)
        if hooks:
            for rule, hook in hooks:
                self._call(rule, hook, node)
        if cls in COMPREHENSIONS:
            ctx.scope = ctx.scopes[node].parent
        ctx.stack.pop()

    # Function, lambda and class scopes begin at their body.
    def enter_body(self, node: cst.CSTNode) -> None:
        self.ctx.scope = self.ctx.scopes[node]

    def leave_body(self, node: cst.CSTNode) -> None:
        self.ctx.scope = self.ctx.scopes[node].parent
