"""GitHub Actions workflow commands: each finding becomes an annotation on the pull request.

    ::error title=asynclint (ASL201),file=app.py,line=5,col=5,endLine=5,endColumn=18::app.py:5:5: ASL201 message

Paths are relative to the current folder (run asynclint from the repository root
so they match the repository's paths). Values are escaped as the runner expects:
`%`, CR and LF everywhere, and `:` and `,` inside the properties as well.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TextIO

from asynclint.diagnostics import Diagnostic
from asynclint.reporters import ReportContext


def escape_data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(value: str) -> str:
    return escape_data(value).replace(":", "%3A").replace(",", "%2C")


def _path(path: str) -> str:
    absolute = os.path.abspath(path)
    cwd = os.getcwd()
    try:
        inside = os.path.commonpath([absolute, cwd]) == cwd
    except ValueError:
        inside = False
    return Path(os.path.relpath(absolute, cwd) if inside else absolute).as_posix()


def format_github(d: Diagnostic) -> str:
    path = _path(d.path)
    properties = {
        "title": f"asynclint ({d.code})",
        "file": path,
        "line": str(d.row),
        "col": str(d.col),
        "endLine": str(d.end_row),
        "endColumn": str(d.end_col),
    }
    props = ",".join(f"{key}={escape_property(value)}" for key, value in properties.items())
    text = f"{path}:{d.row}:{d.col}: {d.code} {d.message}" + (f"\nhelp: {d.help}" if d.help else "")
    return f"::error {props}::{escape_data(text)}"


def write_github(diagnostics: list[Diagnostic], out: TextIO, ctx: ReportContext) -> None:
    for d in diagnostics:
        out.write(format_github(d) + "\n")
