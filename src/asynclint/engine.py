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
import traceback
from collections import defaultdict
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol, TypeVar, cast

import libcst as cst

from asynclint import __version__, noqa, positions, registry
from asynclint.config import Settings
from asynclint.context import Context
from asynclint.diagnostics import Diagnostic, Facts, FileResult, InternalError, Site
from asynclint.modules import module_name
from asynclint.parse import TOO_DEEP, on_big_stack, parse_or_report, precheck, unencodable
from asynclint.positions import WholeModulePositions, leftmost_name
from asynclint.rule import Rule
from asynclint.scope import build_scopes
from asynclint.source import UnreadableSource, read_source, split_lines
from asynclint.walk import COMPREHENSIONS, LEAVES, SCOPE_BODY_OWNERS, children

if TYPE_CHECKING:
    from asynclint.project import ProjectIndex
    from asynclint.scope import Scope


def rules_for(settings: Settings, path: str) -> list[type[Rule]]:
    codes = settings.codes_for(path)
    return [rule for rule in registry.load_rules(codes) if settings.target_version >= rule.min_target]


def lint_file(
    path: str,
    settings: Settings,
    *,
    collect_facts: Facts = Facts.NONE,
    project: ProjectIndex | None = None,
    apply_noqa: bool = True,
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
    project: ProjectIndex | None = None,
) -> FileResult:
    """Findings for one file. `collect_facts` also gathers the module's facts for project
    analysis into result.facts (see `Facts` for which). `project` is the ProjectIndex rules
    such as ASL207 consult."""
    # Parsing and visiting recurse as deep as the code nests; a thread with a large stack
    # turns what would be a crash of the whole process on hostile input into a finding.
    return on_big_stack(_lint_text, text, path, settings, apply_noqa, collect_facts, project)


def _lint_text(
    text: str, path: str, settings: Settings, apply_noqa: bool, mode: Facts, project: ProjectIndex | None
) -> FileResult:
    result = FileResult(path=path)
    exempt = noqa.file_exemptions(text) if apply_noqa else None
    if exempt is not None and not exempt:
        return result  # `# asynclint: noqa` opts the whole file out
    # With the project index, names from other modules can match: its own prefilter.
    wants = project.wants if project is not None else (lambda rule, text, settings: rule.wants(text, settings))
    enabled = rules_for(settings, path)
    rules = [rule for rule in enabled if wants(rule, text, settings)]
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
    verdict, tree, error = precheck(text, want_tree=bool(rules or collect_facts))  # a tree only for LibCST's parse
    if verdict == "unencodable":
        if "ASL002" in settings.codes_for(path):
            # precheck's error for this verdict (its docstring)
            result.diagnostics.append(unencodable(text, path, cast(UnicodeEncodeError, error)))
        return _filter(result, text, exempt, apply_noqa, settings, linted=False)
    if verdict == "too-deep":
        if check_syntax:
            result.diagnostics.append(Diagnostic("ASL001", TOO_DEEP, path, 1, 1, 1, 1))
        return _filter(result, text, exempt, apply_noqa, settings, linted=False)
    if not rules and not collect_facts:
        # Nothing can match, so LibCST is not needed unless it has a syntax error to locate.
        if verdict == "invalid":
            parse_or_report(text, path, result, error)
        return _filter(result, text, exempt, apply_noqa, settings, linted=verdict != "invalid")
    module = parse_or_report(text, path, result if check_syntax else FileResult(path), error, tree)
    if module is None:
        return _filter(result, text, exempt, apply_noqa, settings, linted=False)
    linted = True
    try:
        scopes = build_scopes(module)
        # Always known, so that names resolve the same whether or not facts are collected.
        ctx = Context(
            path, module, scopes, settings, module_name=module_name(path, settings.root), project=project, text=text
        )
        instances: list[_Hooked] = [rule(ctx) for rule in rules]
        collector = None
        recording: set[str] = set()
        if collect_facts:
            from asynclint.facts import FactsCollector

            collector = FactsCollector(ctx, text)
            instances.append(collector)
            if project is None:
                # The places the index will judge, read where the facts it is built from are.
                ctx.recording = True
                recorders = [
                    rule
                    for rule in enabled
                    if rule.records_sites and (rule in rules or rule.wants_with_index(text, settings))
                ]
                recording = {rule.code for rule in recorders}
                instances += [rule(ctx) for rule in recorders if rule not in rules]
        _Traversal(ctx, instances, result).run(module)
        if collector is not None:
            result.facts = collector.facts()
        found, sites = _diagnostics(ctx, module, path, tree, text)
        result.diagnostics.extend(found)
        if recording and not any(e.rule in recording for e in result.errors):
            result.sites = sites
    except RecursionError:
        linted = False
        result.errors.clear()
        result.diagnostics = [Diagnostic("ASL001", TOO_DEEP, path, 1, 1, 1, 1)] if check_syntax else []
    return _filter(result, text, exempt, apply_noqa, settings, linted=linted)


def _engine_finding(path: str, code: str, message: str, row: int, col: int, settings: Settings) -> FileResult:
    result = FileResult(path=path)
    if code in settings.codes_for(path):
        result.diagnostics.append(Diagnostic(code, message, path, row, col, row, col))
    return result


def _diagnostics(
    ctx: Context, module: cst.Module, path: str, tree: ast.Module | None, text: str
) -> tuple[list[Diagnostic], list[Site]]:
    """The findings reported, and the places recorded (`Rule.records_sites`)."""
    sites: list[Site] = []
    reports = []
    calls: list[tuple[Site, tuple[int, int, str | None]]] = []  # each site's call, by number
    for report in ctx.reports:
        if report.site is None:
            reports.append(report)
            continue
        node = report.node
        site: Site = {"code": report.code, "range": None, "data": report.site}
        if isinstance(node, cst.Call) and report.call is not None and tree is not None:
            calls.append((site, (report.call, ctx.calls, leftmost_name(node.func))))
        sites.append(site)
    if calls and tree is not None:  # (calls are taken only where the tree is)
        # Located now, where CPython's tree is at hand, though only the few places the index
        # judges findings need it: later it would take a parse of the file (a re-check after a
        # helper changed locates them in every file that calls it).
        ranges = positions.call_ranges(text, tree, [call for _, call in calls])
        for (site, _), where in zip(calls, ranges, strict=True):
            if where is not None:
                site["range"] = [*where[0], *where[1]]
    if not reports:
        return [], sites
    from asynclint.fixes import build_fix
    from asynclint.positions import Locator

    # The innermost statement where it renders to the file's text; else the whole module,
    # mapped back to the text where LibCST leaves characters out.
    whole = WholeModulePositions(module, text)
    locator = Locator(module, tree, text, fallback=whole)
    found = []
    for report in reports:
        start, end = locator.range(report.node, report.statement)
        fix = None
        # Fixes are edits of LibCST's rendering: where that is not the text, there are none.
        if report.fix is not None and whole.faithful:
            first_row = locator.first_row(report.statement) if report.statement is not None else None
            fix = build_fix(report.fix, module, report.statement, first_row, locator)
        found.append(Diagnostic(report.code, report.message, path, *start, *end, fix, report.help))
    return found, sites


def _filter(
    result: FileResult,
    text: str,
    exempt: frozenset[str] | None,
    apply_noqa: bool,
    settings: Settings | None = None,
    linted: bool = True,
) -> FileResult:
    """Line and file `# noqa` applied; with ASL003 selected and the rules run (`linted`), the
    line comments that suppress nothing reported."""
    if apply_noqa and settings is not None and "noqa" in text.lower():
        _noqa_hygiene(result, text, exempt, settings, linted)
    if apply_noqa and result.sites and exempt is not None:
        # (A recorded place's line `# noqa` is read where it is judged a finding.)
        result.sites = [site for site in result.sites if not noqa.is_file_exempt(exempt, site["code"])]
    if not apply_noqa or not result.diagnostics:
        result.diagnostics.sort(key=lambda d: d.sort_key)
        return result
    lines = split_lines(text)
    kept = [d for d in result.diagnostics if not noqa.suppressed(d.code, d.row, lines, exempt)]
    kept.sort(key=lambda d: d.sort_key)
    result.diagnostics = kept
    return result


def _noqa_hygiene(
    result: FileResult, text: str, exempt: frozenset[str] | None, settings: Settings, linted: bool
) -> None:
    path = result.path
    for row in noqa.spaced_directives(text):
        result.notes.append(
            f"{path}:{row}: warning: `# noqa:` followed by more than one space silences every code on the "
            "line (flake8 reads it so); put one space after the colon"
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


class _Hooked(Protocol):
    """What the traversal calls: a rule, or the facts collector riding along. Its hooks are
    its `visit_<Node>` and `leave_<Node>` methods."""

    @property
    def code(self) -> str: ...

    def finish(self) -> None: ...


_Hook = Callable[[cst.CSTNode], object]
_N = TypeVar("_N")


class _Traversal:
    """The one traversal: keeps scope and node stack, and calls every rule's hooks."""

    def __init__(self, ctx: Context, rules: list[_Hooked], result: FileResult) -> None:
        self.ctx = ctx
        self.result = result
        self.rules = rules
        self.visits: dict[str, list[tuple[_Hooked, _Hook]]] = defaultdict(list)
        self.leaves: dict[str, list[tuple[_Hooked, _Hook]]] = defaultdict(list)
        for rule in rules:
            for attribute in dir(type(rule)):
                if attribute.startswith("visit_"):
                    self.visits[attribute[6:]].append((rule, getattr(rule, attribute)))
                elif attribute.startswith("leave_"):
                    self.leaves[attribute[6:]].append((rule, getattr(rule, attribute)))
        self.broken: set[str] = set()

    def run(self, module: cst.Module) -> None:
        # `walk.walk`'s order, with the hooks called in place: this visits every node of
        # every file linted, and the calls of `walk`'s enter and leave callbacks were a
        # good part of the traversal's own cost (tests/test_walk.py checks the order).
        ctx = self.ctx
        stack = ctx.stack
        scopes = ctx.scopes
        visits, leaves = self.visits, self.leaves
        call = self._call_all

        def visit(node: cst.CSTNode) -> None:
            stack.append(node)
            cls = type(node)
            name = cls.__name__
            if cls is cst.Call:
                ctx.calls += 1
            if cls in COMPREHENSIONS:
                ctx.scope = scopes[node]
            hooks = visits.get(name)
            if hooks:
                call(hooks, node)
            if cls in SCOPE_BODY_OWNERS:
                # Function, lambda and class scopes begin at their body.
                body = cast("cst.FunctionDef | cst.ClassDef | cst.Lambda", node).body
                for child in children(node):
                    if child is body:
                        ctx.scope = scopes[node]
                        visit(child)
                        ctx.scope = cast("Scope", scopes[node].parent)
                    else:
                        visit(child)
            elif cls not in LEAVES:
                for child in children(node):
                    visit(child)
            hooks = leaves.get(name)
            if hooks:
                call(hooks, node)
            if cls in COMPREHENSIONS:
                # Only the module's scope has no parent (scope.ScopeBuilder._push).
                ctx.scope = cast("Scope", scopes[node].parent)
            stack.pop()

        try:
            visit(module)
        finally:
            # `visit` refers to itself through its closure: unless the cell lets go, that cycle
            # holds the hooks (and through them the file's tree) until the garbage collector runs.
            visit = None  # type: ignore[assignment]  # clears the closure cell; never called after
        for rule in self.rules:
            self._call(rule, lambda hooked: hooked.finish(), rule)

    def _call_all(self, hooks: list[tuple[_Hooked, _Hook]], node: cst.CSTNode) -> None:
        broken = self.broken
        ctx = self.ctx
        for rule, hook in hooks:
            code = rule.code
            if code in broken:
                continue
            ctx.current_code = code
            try:
                hook(node)
            except Exception:  # a bug in one rule must not stop the others
                self._broke(rule)

    def _call(self, rule: _Hooked, hook: Callable[[_N], object], node: _N) -> None:
        if rule.code in self.broken:
            return
        self.ctx.current_code = rule.code
        try:
            hook(node)
        except Exception:  # a bug in one rule must not stop the others
            self._broke(rule)

    def _broke(self, rule: _Hooked) -> None:
        self.broken.add(rule.code)
        self.result.errors.append(
            InternalError(self.ctx.path, rule.code, f"asynclint {__version__}: {traceback.format_exc(limit=-3)}")
        )
