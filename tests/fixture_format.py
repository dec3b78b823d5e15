"""Reading fixture files: Python source with the expected findings marked inline.

A fixture is `tests/fixtures/<CODE>/<name>.py`. Each line that must produce a
finding ends with a comment naming it:

    time.sleep(1)  # error: ASL201
    time.sleep(1)  # error: ASL201:5     <- also checks the 1-based column
    x = f(g())     # error: ASL201, ASL201:11

A line `# asynclint-test: key=value ...` (anywhere) sets options for the file:
`select=ASL101,ASL102` (default: the folder's code), `target-version=py310`,
`session-types=myapp.Db`, `extra-blocking-calls=ASL202:mylib.fetch`, `helper-file-io=true`.
Every finding must be expected and every expectation found: no extras, no misses.
A sibling `<name>.fixed.py` is the expected file after `--fix --unsafe-fixes`; a fixture
named `fix_*.py` must have one. Every fixture, with or without one, must fix to text that
parses and that a second `--fix` leaves unchanged (tests/helpers.py checks both).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures"
_EXPECT = re.compile(r"#\s*error:\s*(?P<items>ASL\d{3}(?::\d+)?(?:\s*,\s*ASL\d{3}(?::\d+)?)*)")
_OPTIONS = re.compile(r"#\s*asynclint-test:(?P<opts>.*)$", re.MULTILINE)


@dataclass(frozen=True)
class Expected:
    row: int
    code: str
    col: int | None


def expectations(text: str) -> list[Expected]:
    found = []
    for row, line in enumerate(text.splitlines(), start=1):
        match = _EXPECT.search(line)
        if not match:
            continue
        for item in match.group("items").split(","):
            code, _, col = item.strip().partition(":")
            found.append(Expected(row, code, int(col) if col else None))
    return found


def options(text: str) -> dict[str, str]:
    opts = {}
    for match in _OPTIONS.finditer(text):
        for pair in match.group("opts").split():
            key, _, value = pair.partition("=")
            opts[key] = value
    return opts


def fixture_files() -> list[Path]:
    return sorted(p for p in FIXTURES.glob("ASL*/*.py") if not p.name.endswith(".fixed.py"))
