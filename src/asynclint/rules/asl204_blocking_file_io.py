"""ASL204 blocking-file-io: file-system calls in async code.

The builtin `open`, `io.open`, the `shutil` copy/move/rmtree functions, and
`read_text/read_bytes/write_text/write_bytes/open` of a `pathlib.Path` are blocking
system calls: on a slow or network disk, or with a big file or tree, the event
loop's thread is stuck for the whole call.

A Path receiver needs evidence (`ctx.type_of`): `Path(...)`, a name bound from it,
`p / "x"` or `p.parent` on a Path, a parameter annotated `Path`. `anyio.Path` and
`trio.Path` are async; `aiofiles.open` and a shadowed `open` do not resolve to
the builtin.

No fix: use `aiofiles`, `anyio.Path`, or `asyncio.to_thread`.
"""

from __future__ import annotations

import libcst as cst

from asynclint import knowledge
from asynclint.rules._blocking import BlockingCallRule


class BlockingFileIo(BlockingCallRule):
    code = "ASL204"
    index_family = "types"
    name = "blocking-file-io"
    summary = "blocking file I/O in async code blocks the event loop"
    tokens = ("open(", "read_text", "read_bytes", "write_text", "write_bytes", "shutil")
    calls = knowledge.BLOCKING_FILE_IO
    receiver_methods = knowledge.BLOCKING_FILE_IO_METHODS
    remedy = "Use `aiofiles`, `anyio.Path`, or `asyncio.to_thread`"

    def remedy_for(self, name: str | None) -> str:
        if name in knowledge.THREAD_ONLY_FILE_IO:
            # Neither `aiofiles` nor `anyio.Path` copies, moves or deletes a tree.
            return "Run it in a worker thread with `asyncio.to_thread`"
        return self.remedy

    def blocking_method(self, node: cst.Call, func: cst.Attribute) -> str | None:
        found = super().blocking_method(node, func)
        if found is None and func.attr.value in knowledge.PATH_IO_METHODS and self.ctx.type_of(func.value) is None:
            # `def f(path: Path | IO[str])`: `if isinstance(path, Path): path.read_text()`.
            if self.ctx.narrowed_type(func.value) == knowledge.PATH:
                return f"`.{func.attr.value}()` on a `{knowledge.PATH}`"
        return found


RULE = BlockingFileIo
