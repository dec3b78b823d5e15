"""Findings -> text. Reporters are pure: they know findings and source lines, not LibCST."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TextIO

from asynclint.diagnostics import Diagnostic

DOCS_URL = "https://asynclint.readthedocs.io/en/latest/rules/{code}.html"


@dataclass
class ReportContext:
    """What every reporter may use besides the findings."""

    source_line: Callable[[str, int], str]  # (path, row) -> the text of that line
    color: bool = False
    fixed: int = 0  # findings fixed in this run, for the summary
    rule_names: dict[str, str] = field(default_factory=dict)
    unsafe: bool = False  # --unsafe-fixes was given: unsafe fixes count as applicable (`[*]`)
    summary: bool = True  # the closing lines of the text formats (not with --quiet)


def rule_url(code: str) -> str:
    return DOCS_URL.format(code=code)


# Every `--output-format`, in the order `--help` lists them (`write` knows each).
FORMATS = ("full", "concise", "json", "json-lines", "sarif", "github", "junit")


def write(fmt: str, diagnostics: list[Diagnostic], out: TextIO, ctx: ReportContext) -> None:
    if fmt == "full":
        from asynclint.reporters.text import write_full as writer
    elif fmt == "concise":
        from asynclint.reporters.text import write_concise as writer
    elif fmt == "json":
        from asynclint.reporters.json import write_json as writer
    elif fmt == "json-lines":
        from asynclint.reporters.json import write_json_lines as writer
    elif fmt == "sarif":
        from asynclint.reporters.sarif import write_sarif as writer
    elif fmt == "github":
        from asynclint.reporters.github import write_github as writer
    elif fmt == "junit":
        from asynclint.reporters.junit import write_junit as writer
    else:  # click validates the choice before we get here
        raise ValueError(fmt)
    writer(diagnostics, out, ctx)
