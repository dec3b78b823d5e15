"""SARIF 2.1.0 output, for GitHub code scanning and other SARIF viewers.

One run, `tool.driver` describing asynclint and a `rules` entry for every code
that has a finding (id, name, short and full description, help page and URL),
one result per finding with a region in 1-based lines and (Unicode code point)
columns, the same as every other asynclint output. Paths under the current
folder are relative URIs against `%SRCROOT%` (what code scanning expects when
asynclint runs at the repository root); others are absolute `file://` URIs.
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import quote

from asynclint import __version__, catalogue
from asynclint.diagnostics import Diagnostic
from asynclint.reporters import ReportContext, rule_url

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://github.com/asynclint/asynclint"
SRCROOT = "%SRCROOT%"


def _section(page: str, title: str) -> str | None:
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", page, re.MULTILINE | re.DOTALL)
    if not match:
        return None
    first_paragraph = match.group(1).strip().split("\n\n", 1)[0]
    return " ".join(line.strip() for line in first_paragraph.splitlines()) or None


def rule_metadata(code: str) -> dict[str, Any]:
    """id, name and descriptions of a rule, from the registry and its catalogue page."""
    from asynclint import registry

    if code in registry.ENGINE_CODES:
        name, summary = registry.ENGINE_CODES[code]
        doc = None
    else:
        try:
            rule = registry.load_rule(code)
        except (KeyError, ImportError, AttributeError):
            name, summary, doc = code.lower(), code, None
        else:
            name, summary = rule.name, rule.summary
            module_doc = getattr(sys.modules.get(rule.__module__), "__doc__", None) or ""
            paragraphs = [p for p in module_doc.strip().split("\n\n") if p.strip()]
            doc = " ".join(paragraphs[1].split()) if len(paragraphs) > 1 else None
    page = catalogue.page(code)
    full = (_section(page, "What it does") if page else None) or doc or summary
    entry = {
        "id": code,
        "name": name,
        "shortDescription": {"text": summary},
        "fullDescription": {"text": full},
        "helpUri": rule_url(code),
        "defaultConfiguration": {"level": "error"},
    }
    if page:
        entry["help"] = {"text": page, "markdown": page}
    return entry


def _location(path: str) -> dict[str, Any]:
    absolute = os.path.abspath(path)
    cwd = os.getcwd()
    try:
        inside = os.path.commonpath([absolute, cwd]) == cwd
    except ValueError:  # another drive on Windows
        inside = False
    if inside:
        relative = Path(os.path.relpath(absolute, cwd)).as_posix()
        # The name's bytes, percent-encoded: a name that is not UTF-8 still makes a valid URI.
        return {"uri": quote(os.fsencode(relative)), "uriBaseId": SRCROOT}
    return {"uri": Path(absolute).as_uri()}


def _region(row: int, col: int, end_row: int, end_col: int) -> dict[str, Any]:
    return {"startLine": row, "startColumn": col, "endLine": end_row, "endColumn": end_col}


def _result(d: Diagnostic, rule_index: int) -> dict[str, Any]:
    location = _location(d.path)
    result = {
        "ruleId": d.code,
        "ruleIndex": rule_index,
        "level": "error",
        "message": {"text": f"{d.message}\nhelp: {d.help}" if d.help else d.message},
        "locations": [
            {"physicalLocation": {"artifactLocation": location, "region": _region(d.row, d.col, d.end_row, d.end_col)}}
        ],
    }
    if d.help:
        result["properties"] = {"help": d.help}
    if d.fix is not None and d.fix.edits:
        result["fixes"] = [
            {
                "description": {"text": f"{d.fix.message} ({d.fix.applicability} fix)"},
                "artifactChanges": [
                    {
                        "artifactLocation": location,
                        "replacements": [
                            {
                                "deletedRegion": _region(e.row, e.col, e.end_row, e.end_col),
                                "insertedContent": {"text": e.content},
                            }
                            for e in d.fix.edits
                        ],
                    }
                ],
            }
        ]
    return result


def sarif_log(diagnostics: list[Diagnostic]) -> dict[str, Any]:
    codes = sorted({d.code for d in diagnostics})
    index = {code: i for i, code in enumerate(codes)}
    return {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "asynclint",
                        "version": __version__,
                        "semanticVersion": __version__,
                        "informationUri": INFORMATION_URI,
                        "rules": [rule_metadata(code) for code in codes],
                    }
                },
                "originalUriBaseIds": {SRCROOT: {"uri": Path(os.getcwd()).as_uri().rstrip("/") + "/"}},
                "columnKind": "unicodeCodePoints",
                "results": [_result(d, index[d.code]) for d in diagnostics],
            }
        ],
    }


def write_sarif(diagnostics: list[Diagnostic], out: TextIO, ctx: ReportContext) -> None:
    json.dump(sarif_log(diagnostics), out, indent=2, ensure_ascii=False)
    out.write("\n")
