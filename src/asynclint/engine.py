"""One file in, findings out.

The engine owns everything between the bytes of a file and its findings:
decoding, the cheap token prefilter, parsing, the scope pass, the one
traversal that dispatches to every enabled rule, ASL001/ASL002, noqa, and
isolation of rules that crash. It is a pure function of (source, settings),
so it runs the same in a worker process, under flake8 and in tests.
"""

from __future__ import annotations

import ast
import re
import sys
import traceback
import warnings
from collections import defaultdict
from pathlib import Path

import libcst as cst

from asynclint import __version__, noqa, registry
from asynclint.config import Settings
from asynclint.context import Context
from asynclint.diagnostics import Diagnostic, FileResult, InternalError
from asynclint.rule import Rule
from asynclint.project import module_name
from asynclint.scope import build_scopes
from asynclint.walk import COMPREHENSIONS, walk
from asynclint.source import UnreadableSource, read_source, split_lines



def rules_for(settings: Settings, path: str) -> list[type[Rule]]:
    codes = settings.codes_for(path)
    return [
        rule
        for rule in registry.load_rules(codes)
        if settings.target_version >= rule.min_target
    ]


def lint_file(path: str, settings: Settings, *, collect_facts: bool = False, project=None) -> FileResult:
    try:
        source = read_source(path)
    except UnreadableSource as exc:
        return _engine_finding(path, "ASL002", str(exc), 1, 1, settings)
    return lint_text(source.text, path, settings, collect_facts=collect_facts, project=project)


def lint_text(
    text: str,
    path: str,
    settings: Settings,
    *,
    apply_noqa: bool = True,
    collect_facts: bool = False,
    project=None,
) -> FileResult:
    """Findings for one file. `collect_facts` also gathers the module's facts for project
    analysis (result.facts); `project` is the ProjectIndex rules such as ASL207 consult."""
    # Parsing and visiting recurse as deep as the code nests; a thread with a large stack
    # turns what would be a crash of the whole process on hostile input into a finding.
    return _on_big_stack(_lint_text, text, path, settings, apply_noqa, collect_facts, project)


def lint_standalone(text: str, path: str, settings: Settings, *, apply_noqa: bool = True) -> FileResult:
    """One file on its own (flake8, editors, fixture tests): project analysis limited to
    the file itself, so ASL207 still sees helpers defined in the same module."""
    result = lint_text(text, path, settings, apply_noqa=apply_noqa, collect_facts=settings.project_analysis)
    if result.facts and "ASL207" in settings.codes_for(path):
        from dataclasses import replace

        from asynclint.project import ProjectIndex

        index = ProjectIndex.build([result.facts])
        if any(call in index.blocking for call in result.facts["async_calls"]):
            only = replace(settings, select=("ASL207",), extend_select=())
            extra = lint_text(text, path, only, apply_noqa=apply_noqa, project=index)
            result.diagnostics = sorted([*result.diagnostics, *extra.diagnostics], key=lambda d: d.sort_key)
            result.errors.extend(extra.errors)
    result.facts = None
    return result


def _lint_text(text: str, path: str, settings: Settings, apply_noqa: bool, collect_facts: bool, project) -> FileResult:
    result = FileResult(path=path)
    exempt = noqa.file_exemptions(text) if apply_noqa else None
    if exempt is not None and not exempt:
        return result  # `# asynclint: noqa` opts the whole file out
    rules = [rule for rule in rules_for(settings, path) if rule.wants(text, settings)]
    check_syntax = "ASL001" in settings.codes_for(path)
    # Facts matter only where something is defined or re-exported.
    collect_facts = collect_facts and ("def " in text or "import" in text)
    if not rules and not check_syntax and not collect_facts:
        return result
    verdict, tree = _precheck(text)
    if verdict == "too-deep":
        if check_syntax:
            result.diagnostics.append(Diagnostic("ASL001", _TOO_DEEP, path, 1, 1, 1, 1))
        return _filter(result, text, exempt, apply_noqa)
    if not rules and not collect_facts:
        # Nothing can match, so LibCST is not needed unless it has a syntax error to locate.
        if verdict == "invalid":
            _parse_or_report(text, path, result)
        return _filter(result, text, exempt, apply_noqa)
    module = _parse_or_report(text, path, result if check_syntax else FileResult(path))
    if module is None:
        return _filter(result, text, exempt, apply_noqa)
    try:
        scopes = build_scopes(module)
        # Always known, so that names resolve the same whether or not facts are collected.
        ctx = Context(path, module, scopes, settings, module_name=module_name(path, settings.root), project=project)
        instances = [rule(ctx) for rule in rules]
        collector = None
        if collect_facts:
            from asynclint.facts import FactsCollector

            collector = FactsCollector(ctx)
            instances.append(collector)
        _Traversal(ctx, instances, result).run(module)
        if collector is not None:
            result.facts = collector.facts()
        result.diagnostics.extend(_diagnostics(ctx, module, path, tree, text))
    except RecursionError:
        result.errors.clear()
        result.diagnostics = [Diagnostic("ASL001", _TOO_DEEP, path, 1, 1, 1, 1)] if check_syntax else []
    return _filter(result, text, exempt, apply_noqa)


_TOO_DEEP = "SyntaxError: the code is nested too deeply to analyse"
_BRACKETS = re.compile(r"[^()\[\]{}]+")
# CPython's tokenizer refuses more than 200 nested brackets.
_MAX_BRACKET_DEPTH = 200


def _precheck(text: str) -> tuple[str, ast.Module | None]:
    """"ok", "invalid" (let LibCST locate the error; it may also be newer syntax than
    this Python knows), or "too-deep": code CPython itself refuses as too deeply nested
    or too complex, on which LibCST's parser can take minutes or exhaust its stack.
    CPython's own parser answers this in a fraction of LibCST's parse time."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = ast.parse(text)
        return "ok", tree
    except (RecursionError, MemoryError):
        return "too-deep", None
    except (SyntaxError, ValueError):
        return ("too-deep" if _bracket_depth(text) > _MAX_BRACKET_DEPTH else "invalid"), None


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


def _parse_or_report(text: str, path: str, result: FileResult) -> cst.Module | None:
    try:
        return cst.parse_module(text)
    except cst.ParserSyntaxError as exc:
        message = str(exc.message).splitlines()[0] if exc.message else "invalid syntax"
        result.diagnostics.append(
            Diagnostic("ASL001", f"SyntaxError: {message}", path, exc.raw_line, exc.raw_column + 1, exc.raw_line, exc.raw_column + 1)
        )
    except RecursionError:
        result.diagnostics.append(
            Diagnostic("ASL001", "SyntaxError: the code is nested too deeply to parse", path, 1, 1, 1, 1)
        )
    return None


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

    locator = Locator(module, tree, text)
    found = []
    for report in ctx.reports:
        start, end = locator.range(report.node, report.statement)
        fix = None
        if report.fix is not None:
            first_row = locator.first_row(report.statement) if report.statement is not None else None
            fix = build_fix(report.fix, module, report.statement, first_row, locator)
        found.append(Diagnostic(report.code, report.message, path, *start, *end, fix))
    return found


def _filter(result: FileResult, text: str, exempt, apply_noqa: bool) -> FileResult:
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


def display_path(path: str) -> str:
    try:
        return str(Path(path).relative_to(Path.cwd()))
    except ValueError:
        return path
