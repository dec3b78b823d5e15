"""`# noqa` comments, with flake8's syntax and case rules, and file-level opt-outs."""

from __future__ import annotations

import re

# flake8's shape: "# noqa", "# noqa: A1,B2", "# NOQA:A1 B2"; codes are matched as prefixes.
_LINE = re.compile(r"#\s*noqa(?::[\s]?(?P<codes>[A-Z]+[0-9]+(?:[,\s]+[A-Z]+[0-9]+)*))?", re.IGNORECASE)
_FILE = re.compile(r"^\s*#\s*asynclint:\s*noqa(?::\s*(?P<codes>[A-Z]+[0-9]+(?:[,\s]+[A-Z]+[0-9]+)*))?\s*$", re.IGNORECASE | re.MULTILINE)


def _codes(group: str | None) -> frozenset[str] | None:
    """None means 'every code'."""
    if group is None:
        return None
    return frozenset(code.upper() for code in re.split(r"[,\s]+", group) if code)


def file_exemptions(text: str) -> frozenset[str] | None:
    """Codes a file opts out of; None if no file-level noqa; frozenset() if all codes."""
    if "asynclint" not in text:
        return None
    exempt: set[str] = set()
    found = False
    for match in _FILE.finditer(text):
        found = True
        codes = _codes(match.group("codes"))
        if codes is None:
            return frozenset()
        exempt |= codes
    return frozenset(exempt) if found else None


def line_suppresses(line: str, code: str) -> bool:
    if "#" not in line:
        return False
    for match in _LINE.finditer(line):
        codes = _codes(match.group("codes"))
        if codes is None or any(code.startswith(c) for c in codes):
            return True
    return False


def is_file_exempt(exemptions: frozenset[str] | None, code: str) -> bool:
    if exemptions is None:
        return False
    return not exemptions or any(code.startswith(c) for c in exemptions)
