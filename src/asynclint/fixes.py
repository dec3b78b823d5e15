"""What a rule proposes, and the text edits it becomes.

A rule describes a fix as node replacements (a FixSpec). The edit is derived
by rendering the module with the replacements made and comparing it with the
original text, so LibCST does the formatting (indentation of new blocks,
comments around them) and the edit covers only what really changed: every
byte outside it stays as it was.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst

from asynclint.diagnostics import Edit, Fix


@dataclass
class FixSpec:
    applicability: str  # "safe" | "unsafe"
    message: str
    # (original node, replacement node): made together in one rendering of the module.
    replacements: list[tuple[cst.CSTNode, cst.CSTNode]] = field(default_factory=list)
    # The replacement writes `asyncio.x` and the module does not import asyncio yet.
    needs_asyncio: bool = False


def asyncio_available(ctx) -> bool | None:
    """Can a fix write `asyncio.x` here? False: yes, as is; True: yes, after adding
    `import asyncio`; None: no, because `asyncio` means something else here."""
    found = ctx.scope.lookup("asyncio")
    if found is None:
        return True
    return False if ctx.qualname(cst.Name("asyncio")) == "asyncio" else None


class _Replace(cst.CSTTransformer):
    def __init__(self, replacements: dict[cst.CSTNode, cst.CSTNode]) -> None:
        super().__init__()
        self.replacements = replacements

    def on_leave(self, original_node, updated_node):
        return self.replacements.get(original_node, updated_node)


class _LineIndex:
    """Offsets in the text <-> 1-based (row, column)."""

    def __init__(self, text: str) -> None:
        self.starts = [0]
        for line in text.splitlines(keepends=True):
            self.starts.append(self.starts[-1] + len(line))

    def position(self, offset: int) -> tuple[int, int]:
        low, high = 0, len(self.starts) - 1
        while low < high:  # the last line start <= offset
            mid = (low + high + 1) // 2
            if self.starts[mid] <= offset:
                low = mid
            else:
                high = mid - 1
        return low + 1, offset - self.starts[low] + 1


def _edit_between(old: str, new: str, index: _LineIndex) -> Edit | None:
    if old == new:
        return None
    limit = min(len(old), len(new))
    start = 0
    while start < limit and old[start] == new[start]:
        start += 1
    end_old, end_new = len(old), len(new)
    while end_old > start and end_new > start and old[end_old - 1] == new[end_new - 1]:
        end_old -= 1
        end_new -= 1
    row, col = index.position(start)
    end_row, end_col = index.position(end_old)
    return Edit(new[start:end_new], row, col, end_row, end_col)


def _import_asyncio_edit(module: cst.Module, original: str, index: _LineIndex) -> Edit | None:
    """`import asyncio`, after the docstring and `__future__` imports, with the other imports."""
    body = list(module.body)
    position = 0
    for i, statement in enumerate(body):
        if not isinstance(statement, cst.SimpleStatementLine):
            break
        first = statement.body[0]
        is_docstring = i == 0 and isinstance(first, cst.Expr) and isinstance(first.value, (cst.SimpleString, cst.ConcatenatedString))
        is_future = isinstance(first, cst.ImportFrom) and isinstance(first.module, cst.Name) and first.module.value == "__future__"
        if is_docstring or is_future:
            position = i + 1
        else:
            break
    for i in range(position, len(body)):
        statement = body[i]
        if isinstance(statement, cst.SimpleStatementLine) and isinstance(statement.body[0], (cst.Import, cst.ImportFrom)):
            position = i
            break
    # The offset where statement `position` starts, after the comments above it.
    before = "".join(module.code_for_node(node) for node in [*module.header, *body[:position]])
    offset = len(before)
    if position < len(body):
        offset += sum(len(module.code_for_node(line)) for line in body[position].leading_lines)
    elif before and not before.endswith(("\n", "\r")):
        return Edit(module.default_newline + "import asyncio", *index.position(offset), *index.position(offset))
    row, col = index.position(offset)
    return Edit("import asyncio" + module.default_newline, row, col, row, col)


def build_fix(spec: FixSpec, module: cst.Module) -> Fix | None:
    original = module.code
    index = _LineIndex(original)
    replaced = module.visit(_Replace(dict(spec.replacements)))
    edits = [edit for edit in [_edit_between(original, replaced.code, index)] if edit is not None]
    if not edits:
        return None
    if spec.needs_asyncio:
        import_edit = _import_asyncio_edit(module, original, index)
        if import_edit is not None:
            edits.insert(0, import_edit)
    return Fix(spec.applicability, spec.message, tuple(edits))
