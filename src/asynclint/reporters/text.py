"""Human output: `full` (with the source line and a caret) and `concise` (one line each)."""

from __future__ import annotations

from typing import Any, TextIO

from asynclint.diagnostics import Diagnostic
from asynclint.reporters import ReportContext


def _fix_mark(diagnostic: Diagnostic, ctx: ReportContext) -> str:
    return " [*]" if applies(diagnostic, ctx.unsafe) else ""


def applies(diagnostic: Diagnostic, unsafe: bool) -> bool:
    """Would `--fix` with the flags given apply this finding's fix? (ruff's `[*]`)"""
    return diagnostic.fix is not None and (unsafe or diagnostic.fix.applicability == "safe")


def _plural(count: int, word: str, plural: str | None = None) -> str:
    return f"{count} {word if count == 1 else plural or word + 's'}"


def write_concise(diagnostics: list[Diagnostic], out: TextIO, ctx: ReportContext) -> None:
    for d in diagnostics:
        out.write(f"{d.path}:{d.row}:{d.col}: {d.code}{_fix_mark(d, ctx)} {d.message}\n")
    _summary(diagnostics, out, ctx)


def write_full(diagnostics: list[Diagnostic], out: TextIO, ctx: ReportContext) -> None:
    """Each finding with its source line and a caret; coloured (through rich) on a terminal."""
    if ctx.color:
        from rich.console import Console
        from rich.markup import escape

        console = Console(file=out, force_terminal=True, highlight=False, soft_wrap=True)

        def emit(text: str, style: str | None = None) -> None:
            console.print(f"[{style}]{escape(text)}[/]" if style else escape(text), end="")
    else:

        def emit(text: str, style: str | None = None) -> None:
            out.write(text)

    for d in diagnostics:
        emit(f"{d.path}", "bold")
        emit(f":{d.row}:{d.col}: ")
        emit(d.code, "bold red")
        emit(f"{_fix_mark(d, ctx)} {d.message}\n")
        line = ctx.source_line(d.path, d.row)
        if line:
            gutter = str(d.row)
            pad = " " * len(gutter)
            end = d.end_col if d.end_row == d.row else len(line) + 1
            width = max(1, end - d.col)
            emit(f"{pad} |\n", "blue")
            emit(f"{gutter} |", "blue")
            emit(f" {line}\n")
            emit(f"{pad} |", "blue")
            emit(" " * d.col)
            emit(f"{'^' * width} {d.code}", "bold red")
            emit("\n")
            emit(f"{pad} |\n", "blue")
        if d.help:
            emit(f"{' ' * len(str(d.row))} = ")
            emit("help", "bold cyan")
            emit(f": {d.help}\n")
        emit("\n")
    _summary(diagnostics, out, ctx)


def _summary(diagnostics: list[Diagnostic], out: TextIO, ctx: ReportContext) -> None:
    if ctx.summary:
        out.write(summary_text(diagnostics, ctx.fixed, ctx.unsafe))


def summary_text(diagnostics: list[Diagnostic], fixed: int, unsafe: bool) -> str:
    """ruff's closing lines: the total (with what was fixed), then what `--fix` would do."""
    remaining = len(diagnostics)
    if fixed:
        lines = [f"Found {_plural(remaining + fixed, 'error')} ({fixed} fixed, {remaining} remaining)."]
    elif remaining:
        lines = [f"Found {_plural(remaining, 'error')}."]
    else:
        lines = ["All checks passed!"]
    applicable = sum(1 for d in diagnostics if applies(d, unsafe))
    hidden = sum(1 for d in diagnostics if d.fix is not None and not applies(d, unsafe))
    hint = _plural(hidden, "unsafe fix", "unsafe fixes") + " available with `--fix --unsafe-fixes`"
    if applicable and hidden:
        lines.append(f"[*] {applicable} fixable with `--fix` ({hint}).")
    elif applicable:
        lines.append(f"[*] {applicable} fixable with `--fix`.")
    elif hidden:
        lines.append(f"{hint[0].upper()}{hint[1:]}.")
    return "".join(line + "\n" for line in lines)


def diff_summary(fixed: int, diagnostics: list[Diagnostic], unsafe: bool) -> str:
    """`--diff`'s closing line (on stderr): what `--fix` would fix, and what `--unsafe-fixes` would add."""
    hidden = sum(1 for d in diagnostics if d.fix is not None and not applies(d, unsafe))
    if not fixed:
        extra = f" ({_plural(hidden, 'fix', 'fixes')} available with `--unsafe-fixes`)" if hidden else ""
        return f"No errors would be fixed{extra}.\n"
    extra = (
        f" ({_plural(hidden, 'additional fix', 'additional fixes')} available with `--unsafe-fixes`)" if hidden else ""
    )
    return f"Would fix {_plural(fixed, 'error')}{extra}.\n"


def statistics(diagnostics: list[Diagnostic], names: dict[str, str], unsafe: bool) -> list[dict[str, Any]]:
    """A count per rule, most frequent first (ruff's fields: code, name, count, fixable, fixable_count)."""
    rows: dict[str, dict[str, Any]] = {}
    for d in diagnostics:
        row = rows.setdefault(d.code, {"code": d.code, "name": names.get(d.code, ""), "count": 0, "fixable_count": 0})
        row["count"] += 1
        row["fixable_count"] += applies(d, unsafe)
    ordered = sorted(rows.values(), key=lambda row: (-row["count"], row["code"]))
    return [{**row, "fixable": row["fixable_count"] > 0} for row in ordered]


def write_statistics(diagnostics: list[Diagnostic], out: TextIO, ctx: ReportContext, fmt: str = "full") -> None:
    rows = statistics(diagnostics, ctx.rule_names, ctx.unsafe)
    if fmt == "json":
        import json

        keys = ("code", "name", "count", "fixable", "fixable_count")
        out.write(json.dumps([{key: row[key] for key in keys} for row in rows], indent=2) + "\n")
        return
    count_width = max((len(str(row["count"])) for row in rows), default=1)
    code_width = max((len(row["code"]) for row in rows), default=1)
    marks = any(row["fixable"] for row in rows)
    for row in rows:
        mark = ("[*] " if row["fixable"] else "[ ] ") if marks else ""
        out.write(f"{row['count']:>{count_width}}\t{row['code']:<{code_width}}\t{mark}{row['name']}\n")
    if rows:
        _summary(diagnostics, out, ctx)
