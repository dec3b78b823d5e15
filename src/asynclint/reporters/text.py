"""Human output: `full` (with the source line and a caret) and `concise` (one line each)."""

from __future__ import annotations

from typing import TextIO

from asynclint.diagnostics import Diagnostic
from asynclint.reporters import ReportContext


def _fix_mark(diagnostic: Diagnostic) -> str:
    return " [*]" if diagnostic.fix is not None and diagnostic.fix.applicability == "safe" else ""


def write_concise(diagnostics: list[Diagnostic], out: TextIO, ctx: ReportContext) -> None:
    for d in diagnostics:
        out.write(f"{d.path}:{d.row}:{d.col}: {d.code}{_fix_mark(d)} {d.message}\n")
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
        emit(f"{_fix_mark(d)} {d.message}\n")
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
    if ctx.fixed:
        out.write(f"Fixed {ctx.fixed} error{'s' if ctx.fixed != 1 else ''} ({len(diagnostics)} remaining).\n")
    elif diagnostics:
        count = len(diagnostics)
        out.write(f"Found {count} error{'s' if count != 1 else ''}.\n")
    else:
        out.write("All checks passed!\n")
    fixable = sum(1 for d in diagnostics if d.fix is not None and d.fix.applicability == "safe")
    unsafe = sum(1 for d in diagnostics if d.fix is not None and d.fix.applicability == "unsafe")
    if fixable:
        out.write(f"[*] {fixable} fixable with the `--fix` option")
        out.write(f" ({unsafe} hidden fixes can be enabled with the `--unsafe-fixes` option).\n" if unsafe else ".\n")
    elif unsafe:
        out.write(f"No fixes available ({unsafe} hidden fixes can be enabled with the `--unsafe-fixes` option).\n")


def write_statistics(diagnostics: list[Diagnostic], out: TextIO, names: dict[str, str]) -> None:
    counts: dict[str, int] = {}
    fixable: dict[str, bool] = {}
    for d in diagnostics:
        counts[d.code] = counts.get(d.code, 0) + 1
        fixable[d.code] = fixable.get(d.code, False) or d.fix is not None
    for code, count in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
        mark = "[*]" if fixable[code] else "   "
        out.write(f"{count:>5}\t{code}\t{mark} {names.get(code, '')}\n")
