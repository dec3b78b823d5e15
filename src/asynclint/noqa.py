"""`# noqa` comments, with flake8's syntax and case rules, and file-level opt-outs."""

from __future__ import annotations

import re

from asynclint.diagnostics import Diagnostic, Edit, Fix
from asynclint.source import split_lines

# flake8's shape: a bare noqa comment, "noqa: A1,B2", "NOQA:A1 B2" after the hash; codes are
# matched as prefixes and, as flake8 compares them, case-sensitively ("asl201" is not ASL201).
_LINE = re.compile(r"#\s*noqa(?::[\s]?(?P<codes>[A-Z]+[0-9]+(?:[,\s]+[A-Z]+[0-9]+)*))?", re.IGNORECASE)
_FILE = re.compile(
    r"^\s*#\s*asynclint:\s*noqa(?::\s*(?P<codes>[A-Z]+[0-9]+(?:[,\s]+[A-Z]+[0-9]+)*))?\s*$",
    re.IGNORECASE | re.MULTILINE,
)


def _codes(group: str | None) -> frozenset[str] | None:
    """None means 'every code'."""
    if group is None:
        return None
    return frozenset(code for code in re.split(r"[,\s]+", group) if code)


def directive_with_codes(comment: str) -> re.Match[str] | None:
    """The first `# noqa: CODES` in a comment (its `codes` group is what names them)."""
    return next((match for match in _LINE.finditer(comment) if match.group("codes")), None)


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


def suppressed(code: str, row: int, lines: list[str], exempt: frozenset[str] | None) -> bool:
    """Does a file (`exempt`: `file_exemptions`) or line `# noqa` silence `code` on `row`?"""
    if is_file_exempt(exempt, code):
        return True
    line = lines[row - 1] if 0 < row <= len(lines) else ""
    return line_suppresses(line, code)


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


# "noqa:" followed by two spaces or more: flake8 (and this) read it as a blanket noqa.
_SPACED = re.compile(r"#\s*noqa:\s{2,}[A-Z]+[0-9]+", re.IGNORECASE)


def spaced_directives(text: str) -> list[int]:
    """Rows whose `# noqa:` is followed by more than one space, silently a blanket noqa."""
    if "noqa" not in text.lower():
        return []
    return [row for row, line in enumerate(split_lines(text), start=1) if "#" in line and _SPACED.search(line)]


def unused(
    text: str, path: str, found: list[Diagnostic], enabled: frozenset[str], known: list[str], unsure: frozenset[str]
) -> list[Diagnostic]:
    """ASL003: the ASL codes of line `# noqa` comments that suppress none of `found` (the
    file's findings before noqa), or that name no ASL code at all. Codes of rules not enabled
    here, and `unsure` ones (rules whose findings project analysis may add later), are left
    alone; so are other tools' codes, blanket `# noqa`, and a line that silences ASL003."""
    if "noqa" not in text.lower():
        return []
    by_row: dict[int, list[str]] = {}
    for d in found:
        by_row.setdefault(d.row, []).append(d.code)
    reports: list[Diagnostic] = []
    for row, line in enumerate(split_lines(text), start=1):
        if "#" not in line:
            continue
        for match in _LINE.finditer(line):
            group = match.group("codes")
            if group is None:
                continue  # a blanket noqa: others' business too
            codes = [code for code in re.split(r"[,\s]+", group) if code]
            if any("ASL003".startswith(code) for code in codes):
                continue
            here = by_row.get(row, [])
            stale, unknown = [], []
            for code in codes:
                if not code.startswith("ASL") or any(d.startswith(code) for d in here):
                    continue
                if not any(k.startswith(code) for k in known):
                    unknown.append(code)
                elif any(e.startswith(code) and e not in unsure for e in enabled) and not any(
                    u.startswith(code) for u in unsure
                ):
                    stale.append(code)
            if not stale and not unknown:
                continue
            message = "; ".join(
                part
                for part in (
                    f"unused `noqa` for {', '.join(stale)}" if stale else "",
                    f"`noqa` for unknown code{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}" if unknown else "",
                )
                if part
            )
            col = match.start() + 1
            edit = _without(line, match, set(stale) | set(unknown), row)
            reports.append(
                Diagnostic(
                    "ASL003",
                    message,
                    path,
                    row,
                    col,
                    row,
                    match.end() + 1,
                    Fix("safe", "Remove the unused codes", (edit,)),
                    help="Remove them from the `noqa` comment",
                )
            )
    return reports


def _without(line: str, match: re.Match[str], drop: set[str], row: int) -> Edit:
    """The edit that removes `drop` from the directive, or the directive itself (with the
    space before it) when nothing is left."""
    group = match.group("codes")
    left = [code for code in re.split(r"[,\s]+", group) if code and code not in drop]
    if left:
        start, end = match.start("codes"), match.end("codes")
        return Edit(", ".join(left), row, start + 1, row, end + 1)
    start, end = match.start(), match.end()
    rest = line[end:]
    if not rest.strip() or rest.lstrip().startswith("#"):
        # Nothing of this comment is left (`x  # noqa: ASL201  # why` keeps `  # why`): the
        # whitespace before it goes too.
        while start > 0 and line[start - 1] in " \t":
            start -= 1
        return Edit("", row, start + 1, row, end + 1)
    return Edit("#", row, start + 1, row, end + 1)  # `# noqa: ASL201 because ...` -> `# because ...`
