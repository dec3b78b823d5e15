"""`asynclint check --add-noqa`: silence today's findings so a team can adopt asynclint now.

Each line with findings gets `# noqa: ASLnnn` (several codes comma-separated),
merged into an existing `# noqa: X1` comment when the line has one, appended
after any other comment otherwise. The engine reads `# noqa` on a finding's
first line, so that is the line that gets it; a line that cannot take a
trailing comment (it ends inside a multi-line string, or with a backslash
continuation) is left alone and reported as skipped. Encoding (including a
BOM and PEP 263 cookies) and every line ending are kept; the file is replaced
atomically, and only if it did not change since it was read.
"""

from __future__ import annotations

import io
import os
import re
import tokenize
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from asynclint import noqa
from asynclint.diagnostics import Diagnostic
from asynclint.registry import ENGINE_CODES

_LINE_END = re.compile(r"\r\n|\r|\n")


@dataclass
class AddNoqaResult:
    added: int = 0  # how many noqa codes were written, one per (line, code)
    files: int = 0  # files changed
    skipped: list[tuple[str, int, str]] = field(default_factory=list)  # (path, row, why)
    notes: list[str] = field(default_factory=list)  # files that could not be read or written


def _split_lines(text: str) -> list[tuple[str, str]]:
    """(content, ending) per line; rows count \\n, \\r\\n and \\r, as the parser does."""
    lines = []
    position = 0
    for match in _LINE_END.finditer(text):
        lines.append((text[position : match.start()], match.group()))
        position = match.end()
    if position < len(text):
        lines.append((text[position:], ""))
    return lines


def _comment_slots(text: str) -> tuple[set[int], dict[int, int]] | None:
    """Rows whose end can take a trailing comment, and the column of each row's comment.

    A row can take one where the tokenizer ends it with NEWLINE or NL: not inside a
    multi-line string and not continued with a backslash. None if the text does not tokenize.
    """
    normalized = _LINE_END.sub("\n", text)
    ok: set[int] = set()
    comments: dict[int, int] = {}
    try:
        for token in tokenize.generate_tokens(io.StringIO(normalized).readline):
            if token.type in (tokenize.NEWLINE, tokenize.NL):
                ok.add(token.start[0])
            elif token.type == tokenize.COMMENT:
                comments[token.start[0]] = token.start[1]
                ok.add(token.start[0])  # a comment always runs to the end of its line
    except (tokenize.TokenError, SyntaxError):
        return None
    return ok, comments


def _with_codes(content: str, comment_col: int | None, codes: list[str]) -> str:
    """The line with `codes` added to its noqa comment, or a new `# noqa: ...` appended."""
    if comment_col is not None:
        comment = content[comment_col:]
        match = noqa.directive_with_codes(comment)  # its codes part is what gets extended
        if match:
            existing = [c for c in re.split(r"[,\s]+", match.group("codes")) if c]
            merged = ", ".join([*existing, *codes])
            comment = comment[: match.start("codes")] + merged + comment[match.end("codes") :]
            return content[:comment_col] + comment
    return content.rstrip(" \t") + f"  # noqa: {', '.join(codes)}"


def add_noqa_to_text(text: str, codes_by_row: Mapping[int, Iterable[str]]) -> tuple[str, int, list[tuple[int, str]]]:
    """(new text, codes added, [(row, why skipped)]) for the findings given per row."""
    slots = _comment_slots(text)
    if slots is None:
        return text, 0, [(row, "the file does not tokenize") for row in sorted(codes_by_row)]
    ok, comments = slots
    lines = _split_lines(text)
    added = 0
    skipped = []
    for row in sorted(codes_by_row):
        if not 0 < row <= len(lines):
            skipped.append((row, "no such line"))
            continue
        content, ending = lines[row - 1]
        if row not in ok:
            skipped.append((row, "the line ends inside a string or with a line continuation"))
            continue
        codes = sorted({c for c in codes_by_row[row] if not noqa.line_suppresses(content, c)})
        if not codes:
            continue
        lines[row - 1] = (_with_codes(content, comments.get(row), codes), ending)
        added += len(codes)
    return "".join(content + ending for content, ending in lines), added, skipped


def add_noqa(diagnostics: Iterable[Diagnostic]) -> AddNoqaResult:
    """Write the noqa comments for these findings into their files."""
    from asynclint.atomic import WriteRefused, write_atomic
    from asynclint.source import UnreadableSource, read_source

    by_path: dict[str, dict[int, set[str]]] = defaultdict(lambda: defaultdict(set))
    for d in diagnostics:
        if d.code in ENGINE_CODES:
            continue  # a file that cannot be read or parsed is not silenced line by line
        by_path[d.path][d.row].add(d.code)
    result = AddNoqaResult()
    for path, rows in sorted(by_path.items()):
        try:
            source = read_source(path)
        except UnreadableSource as exc:
            result.notes.append(f"{path}: {exc}")
            continue
        text, added, skipped = add_noqa_to_text(source.text, rows)
        result.skipped.extend((path, row, why) for row, why in skipped)
        if text == source.text:
            continue
        try:
            write_atomic(os.path.realpath(path), text.encode(source.encoding), source.raw)
        except UnicodeEncodeError:  # pragma: no cover - the comment is ASCII
            result.notes.append(f"{path}: cannot be encoded as {source.encoding}; not written")
            continue
        except WriteRefused as exc:
            result.notes.append(str(exc))
            continue
        result.added += added
        result.files += 1
    return result
