"""Bytes on disk -> text the engine can parse, honouring PEP 263 cookies and BOMs.

A file that cannot be read or decoded is not an exception: it is an ASL002
finding, and the run goes on.
"""

from __future__ import annotations

import io
import os
import re
import stat
import tokenize
from dataclasses import dataclass


@dataclass(frozen=True)
class SourceText:
    text: str
    encoding: str  # codec to write it back with ("utf-8-sig" keeps a BOM)
    raw: bytes = b""  # the bytes as read, to check nothing changed before writing


class UnreadableSource(Exception):
    """The reason becomes the ASL002 message."""


def decode(data: bytes) -> SourceText:
    if b"\x00" in data:
        raise UnreadableSource("binary file (contains NUL bytes)")
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as exc:
        raise UnreadableSource(f"cannot determine encoding: {exc.msg if hasattr(exc, 'msg') else exc}") from None
    try:
        text = data.decode(encoding)
    except (UnicodeDecodeError, LookupError) as exc:
        raise UnreadableSource(
            f"cannot decode as {encoding}: {exc.reason if hasattr(exc, 'reason') else exc}"
        ) from None
    if text.startswith("\ufeff"):
        text = text[1:]
    return SourceText(text=text, encoding=encoding, raw=data)


def read_source(path: str) -> SourceText:
    # Non-blocking open, then only a regular file is read: a FIFO named *.py would block
    # the open until a writer came, a device (/dev/zero) would never end.
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except OSError as exc:
        raise UnreadableSource(f"cannot read file: {exc.strerror or exc}") from None
    with open(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise UnreadableSource("not a regular file")
        try:
            data = handle.read()
        except OSError as exc:
            raise UnreadableSource(f"cannot read file: {exc.strerror or exc}") from None
    return decode(data)


_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")


def split_lines(text: str, keepends: bool = False) -> list[str]:
    """Lines as Python's tokenizer (and LibCST's positions) count them: only \\n, \\r\\n
    and \\r end a line. str.splitlines would also split on form feeds and the like,
    and put every later row off by one."""
    lines = _LINE.findall(text)
    return lines if keepends else [line.rstrip("\r\n") for line in lines]
