"""Finding positions computed per statement agree with LibCST's whole-module positions."""

from __future__ import annotations

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

from asynclint.config import Settings
from asynclint.engine import lint_text

SOURCE = '''#!/usr/bin/env python
# header comment

"""Docstring."""
import time; import asyncio


x = 1; y = 2  # two statements on one line


@decorator(
    arg,
)
# comment between decorator and def
async def first():
    time.sleep(1)


class Holder:
    """A class."""

    async def method(self):
        if True:
            await asyncio.gather(
                a(),
                b(),
            )


async def last():
    time.sleep(  # spread
        2,
    )
'''


def test_positions_match_whole_module_rendering():
    result = lint_text(SOURCE, "p.py", Settings(select=("ASL101", "ASL201")))
    got = [(d.code, d.row, d.col, d.end_row, d.end_col) for d in result.diagnostics]

    module = cst.parse_module(SOURCE)
    positions = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    expected = []
    for node, where in positions.items():
        if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and node.func.attr.value in ("sleep", "gather"):
            code = "ASL201" if node.func.attr.value == "sleep" else "ASL101"
            expected.append((code, where.start.line, where.start.column + 1, where.end.line, where.end.column + 1))
    assert sorted(got, key=lambda g: g[1]) == sorted(expected, key=lambda e: e[1])
    assert [g[1] for g in sorted(got, key=lambda g: g[1])] == [16, 24, 31]
