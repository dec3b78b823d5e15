"""ASL204 blocking-file-io: file-system calls in async code.

The builtin `open`, `io.open`, the `shutil` copy/move/rmtree functions,
`read_text/read_bytes/write_text/write_bytes/open` of a `pathlib.Path`, and
`sqlite3.connect` (a database file opened in the process) are blocking system calls: on a
slow or network disk, or with a big file or tree, the event loop's thread is stuck for the
whole call. Not `sqlite3.connect(":memory:")` (also a `file::memory:` URI): no file at all.

A Path receiver needs evidence (`ctx.type_of`): `Path(...)`, a name bound from it,
`p / "x"` or `p.parent` on a Path, a parameter annotated `Path`. `anyio.Path` and
`trio.Path` are async; `aiofiles.open` and a shadowed `open` do not resolve to
the builtin.

Not flagged: `with open(p) as f:` (or a Path's `.open()`) whose block only hands `f` to a
worker thread or a child process (`await asyncio.to_thread(f.write, chunk)`,
`create_subprocess_exec(..., stdout=f)`): opening is one quick system call, and the reads
and writes already run off the loop.

No fix: use `aiofiles`, `anyio.Path`, or `asyncio.to_thread`.
"""

from __future__ import annotations

import libcst as cst

from asynclint import analysis, knowledge
from asynclint.rules._blocking import BlockingCallRule
from asynclint.walk import nodes as walk


class BlockingFileIo(BlockingCallRule):
    code = "ASL204"
    index_family = "types"
    name = "blocking-file-io"
    summary = "blocking file I/O in async code blocks the event loop"
    tokens = ("open(", "read_text", "read_bytes", "write_text", "write_bytes", "shutil", "sqlite3")
    calls = knowledge.BLOCKING_FILE_IO
    receiver_methods = knowledge.BLOCKING_FILE_IO_METHODS
    remedy = "Use `aiofiles`, `anyio.Path`, or `asyncio.to_thread`"

    def remedy_for(self, name: str | None) -> str:
        if name in knowledge.THREAD_ONLY_FILE_IO:
            # Neither `aiofiles` nor `anyio.Path` copies, moves or deletes a tree.
            return "Run it in a worker thread with `asyncio.to_thread`"
        if name == "sqlite3.connect":
            return "Use `aiosqlite`, or `asyncio.to_thread`"
        return self.remedy

    def match(self, node: cst.Call) -> tuple[str | None, str] | None:
        found = super().match(node)
        if found is not None and _opens(node, found[0]) and self._handed_on(node):
            return None
        if found is not None and found[0] == "sqlite3.connect" and _in_memory(node):
            return None
        return found

    def _handed_on(self, node: cst.Call) -> bool:
        """`with open(p, "wb") as f:` whose block only hands `f` (or its unbound methods) to
        a worker thread or a child process: the reads and writes happen there."""
        ctx = self.ctx
        item = ctx.parent(node)
        if not isinstance(item, cst.WithItem) or item.item is not node or item.asname is None:
            return False
        handle = item.asname.name
        block = ctx.parent(item)
        if not isinstance(handle, cst.Name) or not isinstance(block, cst.With):
            return False
        uses = [n for n in walk(block.body, into_functions=True) if isinstance(n, cst.Name) and n.value == handle.value]
        handed: set[int] = set()
        for call in walk(block.body, into_functions=True):
            if isinstance(call, cst.Call) and self._hands_off(call):
                for arg in call.args:
                    value = arg.value
                    if isinstance(value, cst.Attribute):
                        value = value.value  # `f.write`, not called here
                    if isinstance(value, cst.Name) and value.value == handle.value:
                        handed.add(id(value))
        return bool(uses) and all(id(use) in handed for use in uses)

    def _hands_off(self, call: cst.Call) -> bool:
        if isinstance(call.func, cst.Attribute) and call.func.attr.value in knowledge.FILE_HANDOFF_METHODS:
            return True
        return self.ctx.call_name(call) in knowledge.FILE_HANDOFF_CALLS

    def blocking_method(self, node: cst.Call, func: cst.Attribute) -> str | None:
        found = super().blocking_method(node, func)
        if found is None and func.attr.value in knowledge.PATH_IO_METHODS and self.ctx.type_of(func.value) is None:
            # `def f(path: Path | IO[str])`: `if isinstance(path, Path): path.read_text()`.
            if self.ctx.narrowed_type(func.value) == knowledge.PATH:
                return f"`.{func.attr.value}()` on a `{knowledge.PATH}`"
        return found


def _opens(node: cst.Call, name: str | None) -> bool:
    """`open(...)`, `io.open(...)` or a Path's `.open(...)`: it opens a file, reading nothing."""
    if name is not None:
        return name in ("builtins.open", "io.open")
    return isinstance(node.func, cst.Attribute) and node.func.attr.value == "open"


def _in_memory(call: cst.Call) -> bool:
    """`sqlite3.connect(":memory:")`, or a `file::memory:` URI: a database in memory."""
    database = analysis.argument(call, "database", 0)
    value = database.value if database is not None else None
    if not isinstance(value, cst.SimpleString):
        return False
    text = value.evaluated_value
    return isinstance(text, str) and (text == ":memory:" or text.startswith("file::memory:"))


RULE = BlockingFileIo
