"""JSON output with ruff's field names, so tools that read ruff's JSON read ours."""

from __future__ import annotations

import json
import os
from typing import Any, TextIO

from asynclint.diagnostics import Diagnostic
from asynclint.reporters import ReportContext, rule_url


def _fix(diagnostic: Diagnostic) -> dict[str, Any] | None:
    fix = diagnostic.fix
    if fix is None:
        return None
    return {
        "applicability": fix.applicability,
        "message": fix.message,
        "edits": [
            {
                "content": edit.content,
                "location": {"row": edit.row, "column": edit.col},
                "end_location": {"row": edit.end_row, "column": edit.end_col},
            }
            for edit in fix.edits
        ],
    }


def as_dict(d: Diagnostic) -> dict[str, Any]:
    return {
        "cell": None,
        "code": d.code,
        "end_location": {"row": d.end_row, "column": d.end_col},
        "filename": os.path.abspath(d.path),
        "fix": _fix(d),
        "location": {"row": d.row, "column": d.col},
        "message": d.message,
        "help": d.help,
        "noqa_row": d.row,
        "url": rule_url(d.code),
    }


def write_json(diagnostics: list[Diagnostic], out: TextIO, ctx: ReportContext) -> None:
    json.dump([as_dict(d) for d in diagnostics], out, indent=2)
    out.write("\n")


def write_json_lines(diagnostics: list[Diagnostic], out: TextIO, ctx: ReportContext) -> None:
    for d in diagnostics:
        out.write(json.dumps(as_dict(d)) + "\n")
