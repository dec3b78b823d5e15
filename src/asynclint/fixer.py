"""Applying fixes to a file's text: to a fixed point, verified at every step.

Each pass lints the text, takes the fixes allowed (safe, or unsafe too), applies
the ones that do not overlap, and checks the result: it must parse, and every
fix must remove its own finding. A batch that fails either check is retried one
fix at a time; a fix that fails alone is dropped and reported, never written.
"""

from __future__ import annotations

import difflib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import libcst as cst

from asynclint.config import Settings
from asynclint.diagnostics import Diagnostic, Edit
from asynclint.engine import lint_text
from asynclint.source import split_lines

MAX_PASSES = 20


@dataclass
class FixOutcome:
    text: str
    fixed: list[Diagnostic] = field(default_factory=list)
    remaining: list[Diagnostic] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)  # fixes dropped, and why
    found: list[Diagnostic] = field(default_factory=list)  # the findings before any fix


def _offsets(text: str) -> list[int]:
    starts = [0]
    for line in split_lines(text, keepends=True):
        starts.append(starts[-1] + len(line))
    return starts


def _span(edit: Edit, starts: list[int]) -> tuple[int, int]:
    return starts[edit.row - 1] + edit.col - 1, starts[edit.end_row - 1] + edit.end_col - 1


def apply_edits(text: str, edits: list[Edit]) -> str:
    """Apply non-overlapping edits (identical ones count once)."""
    starts = _offsets(text)
    spans = sorted({(*_span(edit, starts), edit.content) for edit in edits}, reverse=True)
    for start, end, content in spans:
        text = text[:start] + content + text[end:]
    return text


def _select(text: str, diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    """The fixes of one pass: in file order, skipping any that overlaps one already taken."""
    starts = _offsets(text)
    taken: list[Diagnostic] = []
    claimed: list[tuple[int, int, str]] = []
    for diagnostic in diagnostics:
        spans = [(*_span(edit, starts), edit.content) for edit in (diagnostic.fix.edits if diagnostic.fix else ())]
        if any(_overlaps(span, other) for span in spans for other in claimed if span != other):
            continue
        taken.append(diagnostic)
        claimed.extend(spans)
    return taken


def _overlaps(a: tuple[int, int, str], b: tuple[int, int, str]) -> bool:
    # Two insertions at the same point also conflict (their order would be a guess).
    return (a[0] < b[1] and b[0] < a[1]) or a[0] == b[0] or (a[0] == a[1] and b[0] < a[0] < b[1])


def _parses(text: str) -> bool:
    try:
        cst.parse_module(text)
        return True
    except (cst.ParserSyntaxError, RecursionError):
        return False


def _signature(diagnostic: Diagnostic, text: str) -> tuple[str, str, str]:
    lines = split_lines(text)
    line = lines[diagnostic.row - 1].strip() if 0 < diagnostic.row <= len(lines) else ""
    return (diagnostic.code, diagnostic.message, line)


def fix_text(text: str, path: str, settings: Settings, *, unsafe: bool = False) -> FixOutcome:
    outcome = FixOutcome(text=text)
    dropped: set[tuple[str, str, str]] = set()
    for _ in range(MAX_PASSES):
        found = lint_text(text, path, settings).diagnostics
        if not outcome.found and text is outcome.text:
            outcome.found = found
        candidates = [
            d
            for d in found
            if d.fix is not None and (unsafe or d.fix.applicability == "safe") and _signature(d, text) not in dropped
        ]
        if not candidates:
            break
        batch = _select(text, candidates)
        new_text = _try(text, batch, found, path, settings)
        if new_text is None:
            # Something in the batch is broken: find the first fix that works alone.
            for diagnostic in batch:
                new_text = _try(text, [diagnostic], found, path, settings)
                if new_text is not None:
                    batch = [diagnostic]
                    break
                dropped.add(_signature(diagnostic, text))
                outcome.failures.append(
                    f"{path}:{diagnostic.row}:{diagnostic.col}: the fix for {diagnostic.code} was not applied "
                    "(it would not parse or would not remove its finding)"
                )
            if new_text is None:
                continue
        outcome.fixed.extend(batch)
        text = new_text
    if outcome.fixed:
        text = _drop_imports_left_unused(outcome.text, text, path)  # outcome.text: the text before the fixes
    outcome.text = text
    outcome.remaining = lint_text(text, path, settings).diagnostics
    return outcome


def _try(text: str, batch: list[Diagnostic], before: list[Diagnostic], path: str, settings: Settings) -> str | None:
    edits = [edit for d in batch if d.fix is not None for edit in d.fix.edits]
    new_text = apply_edits(text, edits)
    if not _parses(new_text):
        return None
    codes = {d.code for d in batch}
    # Each fix must take its own finding away. Findings of those codes after the fixes are
    # counted where they could be that finding: inside the new text of an edit, or outside
    # the edits at a place that had such a finding before. A finding that appears elsewhere
    # (adding `import asyncio` can make a call resolvable that was not) is new, and later
    # passes see it.
    back = _mapping_back(text, edits)
    starts = _offsets(text)
    had = {(d.code, starts[d.row - 1] + d.col - 1) for d in before if d.code in codes}
    new_starts = _offsets(new_text)
    after: Counter[str] = Counter()
    for d in lint_text(new_text, path, settings).diagnostics:
        if d.code in codes:
            where = back(new_starts[d.row - 1] + d.col - 1)
            if where is None or (d.code, where) in had:
                after[d.code] += 1
    expected = Counter(d.code for d in before)
    expected.subtract(Counter(d.code for d in batch))
    if any(after[code] > max(expected[code], 0) for code in codes):
        return None
    return new_text


def _mapping_back(text: str, edits: list[Edit]) -> Callable[[int], int | None]:
    """A function from an offset in the edited text to the same place in `text`, or None
    for a place inside an edit's new content."""
    starts = _offsets(text)
    spans = sorted({(*_span(edit, starts), edit.content) for edit in edits})
    # (start and end of the edit's content in the new text, how much longer the new text
    # is up to there)
    regions = []
    grown = 0
    for start, end, content in spans:
        new_start = start + grown
        grown += len(content) - (end - start)
        regions.append((new_start, new_start + len(content), grown))

    def back(offset: int) -> int | None:
        moved = 0
        for new_start, new_end, grown in regions:
            if offset < new_start:
                break
            if offset < new_end:
                return None
            moved = grown
        return offset - moved

    return back


def _drop_imports_left_unused(original: str, text: str, path: str) -> str:
    """`import time` (or `from time import sleep`) goes too when the fixes took away its
    last use: it was used before them and nothing in the module names it now. Only the
    modules whose calls the fixes replace (`knowledge.BLOCKING_SLEEP`), only a statement
    importing that one name, and never in an `__init__.py` (where an import may be an
    export) nor for a name `__all__` lists."""
    from asynclint.knowledge import BLOCKING_SLEEP

    if path.endswith("__init__.py"):
        return text
    replaced = set(BLOCKING_SLEEP) | {name.rsplit(".", 1)[0] for name in BLOCKING_SLEEP}
    try:
        module = cst.parse_module(text)
        before = _name_counts(cst.parse_module(original))
    except (cst.ParserSyntaxError, RecursionError):
        return text
    now = _name_counts(module)
    spans = []  # of the statements to drop, without the comments and blank lines above them
    offset = sum(len(module.code_for_node(line)) for line in module.header)
    for statement in module.body:
        code = module.code_for_node(statement)
        bound = _single_import(statement, replaced)
        if bound is not None and now[bound] == 1 and before[bound] > 1:
            if not ("__all__" in text and (f'"{bound}"' in text or f"'{bound}'" in text)):
                lead = sum(len(module.code_for_node(line)) for line in statement.leading_lines)
                spans.append((offset + lead, offset + len(code)))
        offset += len(code)
    if not spans:
        return text
    new_text = text
    for start, end in reversed(spans):
        new_text = new_text[:start] + new_text[end:]
    return new_text if _parses(new_text) else text


def _single_import(statement: cst.CSTNode, qualnames: set[str]) -> str | None:
    """The name bound by `import time` / `import time as t` / `from time import sleep`
    alone on its line, when what it imports is one of `qualnames`; else None."""
    if not isinstance(statement, cst.SimpleStatementLine) or len(statement.body) != 1:
        return None
    node = statement.body[0]
    if isinstance(node, cst.Import) and len(node.names) == 1:
        alias = node.names[0]
        imported = _dotted(alias.name)
    elif (
        isinstance(node, cst.ImportFrom)
        and not node.relative
        and not isinstance(node.names, cst.ImportStar)
        and len(node.names) == 1
    ):
        alias = node.names[0]
        module = _dotted(node.module) if node.module is not None else None
        imported = f"{module}.{_dotted(alias.name)}" if module else None
    else:
        return None
    if imported not in qualnames:
        return None
    if alias.asname is not None:
        return alias.asname.name.value if isinstance(alias.asname.name, cst.Name) else None
    return imported.split(".")[-1] if isinstance(node, cst.ImportFrom) else imported.split(".")[0]


def _dotted(node: cst.BaseExpression) -> str | None:
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        base = _dotted(node.value)
        return f"{base}.{node.attr.value}" if base else None
    return None


def _name_counts(module: cst.Module) -> Counter[str]:
    """How often each identifier occurs as a name in the module: not the `sleep` of
    `asyncio.sleep`, but keyword names and the like (more occurrences only keep an import)."""
    counts: Counter[str] = Counter()

    class Names(cst.CSTVisitor):
        def visit_Name(self, node: cst.Name) -> None:
            counts[node.value] += 1

        def visit_Attribute(self, node: cst.Attribute) -> bool:
            node.value.visit(self)
            return False

    module.visit(Names())
    return counts


def unified_diff(old: str, new: str, path: str) -> str:
    return "".join(
        difflib.unified_diff(
            split_lines(old, keepends=True), split_lines(new, keepends=True), fromfile=path, tofile=path
        )
    )
