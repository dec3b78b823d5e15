"""Fixes: what a rule proposes (a FixSpec of node replacements) and the text edits it becomes."""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst

from asynclint.diagnostics import Edit, Fix


@dataclass
class FixSpec:
    applicability: str  # "safe" | "unsafe"
    message: str
    # (original node, replacement node) pairs; the replacement's text replaces the original's range.
    replacements: list[tuple[cst.CSTNode, cst.CSTNode]] = field(default_factory=list)
    needs_asyncio: bool = False


def build_fix(spec: FixSpec, module: cst.Module, positions) -> Fix:
    edits = []
    for old, new in spec.replacements:
        where = positions[old]
        edits.append(
            Edit(
                module.code_for_node(new),
                where.start.line,
                where.start.column + 1,
                where.end.line,
                where.end.column + 1,
            )
        )
    return Fix(spec.applicability, spec.message, tuple(edits))


def asyncio_available(ctx) -> bool | None:
    """Can a fix write `asyncio.x` here? False: yes as is; True: yes, after adding
    `import asyncio`; None: no, because `asyncio` means something else here."""
    found = ctx.scope.lookup("asyncio")
    if found is None:
        return True
    return False if ctx.qualname(cst.Name("asyncio")) == "asyncio" else None
