"""Applying fixes to a file's text: to a fixed point, verified at every step.

Each pass lints the text, takes the fixes allowed (safe, or unsafe too), applies
the ones that do not overlap, and checks the result: it must parse, and every
fix must remove its own finding. A batch that fails either check is retried one
fix at a time; a fix that fails alone is dropped and reported, never written.
"""

from __future__ import annotations

import difflib
from collections import Counter
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
        spans = [(*_span(edit, starts), edit.content) for edit in diagnostic.fix.edits]
        if any(_overlaps(span, other) for span in spans for other in claimed if span != other):
            continue
        taken.append(diagnostic)
        claimed.extend(spans)
    return taken


def _overlaps(a: tuple[int, int, str], b: tuple[int, int, str]) -> bool:
    # Two insertions at the same point also conflict (their order would be a guess).
    return a[0] < b[1] and b[0] < a[1] or a[0] == b[0] or (a[0] == a[1] and b[0] < a[0] < b[1])


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
        candidates = [
            d for d in found
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
    outcome.text = text
    outcome.remaining = lint_text(text, path, settings).diagnostics
    return outcome


def _try(text, batch, before, path, settings) -> str | None:
    new_text = apply_edits(text, [edit for d in batch for edit in d.fix.edits])
    if not _parses(new_text):
        return None
    after = Counter(d.code for d in lint_text(new_text, path, settings).diagnostics)
    expected = Counter(d.code for d in before)
    expected.subtract(Counter(d.code for d in batch))
    # Each fix must take its own finding away. Findings of other codes may appear (adding
    # `import asyncio` can make a call resolvable that was not before); later passes see them.
    if any(after[code] > max(expected[code], 0) for code in {d.code for d in batch}):
        return None
    return new_text


def unified_diff(old: str, new: str, path: str) -> str:
    return "".join(
        difflib.unified_diff(
            split_lines(old, keepends=True), split_lines(new, keepends=True), fromfile=path, tofile=path
        )
    )
