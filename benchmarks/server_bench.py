"""`asynclint server` on the benchmark corpus: what a user waits for in the editor.

    python benchmarks/server_bench.py [--corpus DIR] [--edits 20]

The corpus is copied to a temporary folder first (the server writes its cache into the
project), and opened as one workspace folder. Measured, after the first index:

- diagnostics latency of an edited ~1,000-line file: from `didChange` to the
  `publishDiagnostics` of that version (median of `--edits` edits), for edits in an async
  function's body (what the index reads of the module stays the same) and edits that add a
  sync function (the index is built again from the facts in memory, after publishing);
- cross-module refresh: a helper module open in the editor starts calling
  `time.sleep`; from its `didChange` to the ASL207 finding published in the open route
  module that calls it (median of 5, each one followed by the edit that takes it away);
- the server's resident memory (VmRSS, and VmHWM, its peak) at the end.

Targets (issue 17): 150 ms, 500 ms, 600 MB.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from lsprotocol import types
from pygls.lsp.client import LanguageClient

CORPUS = Path("/root/.cache/asynclint-bench/corpus/src")
EDITED = "aiohttp-3.14.5/aiohttp/web_request.py"
HELPER = "def fetch_rates(currency):\n    return {currency: 1.0}\n"
BLOCKING = "import time\n\n\ndef fetch_rates(currency):\n    time.sleep(0.1)\n    return {currency: 1.0}\n"
ROUTE = (
    "from aiohttp._bench_helper import fetch_rates\n\n\nasync def rates_route(request):\n"
    "    return fetch_rates(request.query['currency'])\n"
)


class Client(LanguageClient):
    def __init__(self) -> None:
        super().__init__("server-bench", "1")
        self.published: dict[str, list[types.PublishDiagnosticsParams]] = {}
        self.changed = asyncio.Event()
        self.logs: list[str] = []


def _client() -> Client:
    client = Client()

    @client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    def published(params: types.PublishDiagnosticsParams) -> None:
        client.published.setdefault(params.uri, []).append(params)
        client.changed.set()

    @client.feature(types.WINDOW_LOG_MESSAGE)
    def logged(params: types.LogMessageParams) -> None:
        client.logs.append(params.message)
        client.changed.set()

    @client.feature(types.CLIENT_REGISTER_CAPABILITY)
    def register(params) -> None:
        return None

    return client


async def _wait(client: Client, done, timeout: float = 900.0):
    deadline = time.perf_counter() + timeout
    while True:
        found = done()
        if found:
            return found
        client.changed.clear()
        remaining = deadline - time.perf_counter()
        if remaining <= 0:
            raise TimeoutError("the server did not answer in time")
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(client.changed.wait(), remaining)


def _version_published(client: Client, uri: str, version: int):
    return lambda: next((p for p in client.published.get(uri, ()) if p.version == version), None)


def _open(client: Client, path: Path, text: str) -> str:
    uri = path.as_uri()
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(types.TextDocumentItem(uri=uri, language_id="python", version=1, text=text))
    )
    return uri


def _change(client: Client, uri: str, text: str, version: int) -> None:
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)],
        )
    )


def _memory(pid: int) -> dict[str, int]:
    found = {}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                found[key] = int(value.split()[0]) // 1024
    return found


async def bench(corpus: Path, edits: int) -> dict:
    work = Path(tempfile.mkdtemp(prefix="asynclint-server-bench-"))
    try:
        root = work / "src"
        shutil.copytree(corpus, root, ignore=shutil.ignore_patterns(".asynclint_cache"))
        (root / "aiohttp-3.14.5/aiohttp/_bench_helper.py").write_text(HELPER)
        (root / "aiohttp-3.14.5/aiohttp/_bench_route.py").write_text(ROUTE)
        files = sum(1 for _ in root.rglob("*.py"))
        client = _client()
        await client.start_io(sys.executable, "-m", "asynclint", "server")
        pid = client._server.pid
        await client.initialize_async(
            types.InitializeParams(
                capabilities=types.ClientCapabilities(),
                workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name="corpus")],
            )
        )
        client.initialized(types.InitializedParams())

        edited = root / EDITED
        text = edited.read_text()
        started = time.perf_counter()
        uri = _open(client, edited, text)
        await _wait(client, _version_published(client, uri, 1))
        first = time.perf_counter() - started
        await _wait(client, lambda: any(m.startswith("asynclint: indexed") for m in client.logs))
        indexed = time.perf_counter() - started
        if any("indexing failed" in m for m in client.logs):
            raise SystemExit("server_bench: the server failed to index the corpus: " + " | ".join(client.logs))
        modules = next(int(m.split()[2]) for m in client.logs if m.startswith("asynclint: indexed"))
        await asyncio.sleep(1.0)  # the open file is checked again with the index

        lines = text.splitlines(keepends=True)
        # A line in the body of the file's first async function: the edits go after it.
        anchor = next(i for i, line in enumerate(lines) if line.lstrip().startswith("async def ")) + 1
        while not lines[anchor].strip() or lines[anchor].lstrip().startswith(('"""', "'''", "#")):
            anchor += 1
        indent = lines[anchor][: len(lines[anchor]) - len(lines[anchor].lstrip())]
        version = 1

        async def timed_edits(statement) -> list[float]:
            nonlocal version
            times = []
            for n in range(edits):
                version += 1
                new = "".join([*lines[:anchor], f"{indent}{statement(n)}\n", *lines[anchor:]])
                sent = time.perf_counter()
                _change(client, uri, new, version)
                await _wait(client, _version_published(client, uri, version))
                times.append(time.perf_counter() - sent)
                await asyncio.sleep(0.2)  # a pause in typing
            return times

        # In an async function's body: the module's facts change, not what the index reads.
        same_facts = await timed_edits(
            lambda n: "".join([*lines[:anchor], f"{indent}_bench_call_{n}()\n", *lines[anchor:]])
        )
        # A new sync function: the index is built again (after the findings are published).
        new_facts = await timed_edits(lambda n: text + f"\n\ndef _bench_helper_{n}():\n    return sorted([])\n")

        helper = _open(client, root / "aiohttp-3.14.5/aiohttp/_bench_helper.py", HELPER)
        route = _open(client, root / "aiohttp-3.14.5/aiohttp/_bench_route.py", ROUTE)
        await _wait(client, _version_published(client, route, 1))
        await _wait(client, _version_published(client, helper, 1))
        refresh = []
        helper_version = 1
        for _ in range(5):
            for text_now, want in ((BLOCKING, True), (HELPER, False)):
                helper_version += 1
                seen = len(client.published.get(route, ()))
                sent = time.perf_counter()
                _change(client, helper, text_now, helper_version)

                def arrived(seen=seen, want=want):
                    later = client.published.get(route, [])[seen:]
                    return next(
                        (p for p in later if any(d.code == "ASL207" for d in p.diagnostics) == want),
                        None,
                    )

                await _wait(client, arrived, timeout=60)
                if want:
                    refresh.append(time.perf_counter() - sent)
                await asyncio.sleep(0.2)
        memory = _memory(pid)
        await client.shutdown_async(None)
        client.exit(None)
        await client.stop()
        return {
            "files": files,
            "first diagnostics (s)": round(first, 3),
            "first index (s)": round(indexed, 1),
            "modules indexed": modules,
            "edit in async body: median ms": round(statistics.median(same_facts) * 1000),
            "edit in async body: max ms": round(max(same_facts) * 1000),
            "edit adding a sync def: median ms": round(statistics.median(new_facts) * 1000),
            "edit adding a sync def: max ms": round(max(new_facts) * 1000),
            "cross-module refresh: median ms": round(statistics.median(refresh) * 1000),
            "RSS MB": memory.get("VmRSS"),
            "peak RSS MB": memory.get("VmHWM"),
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--edits", type=int, default=20)
    args = parser.parse_args()
    results = asyncio.run(bench(args.corpus, args.edits))
    width = max(map(len, results))
    for key, value in results.items():
        print(f"{key:<{width}}  {value}")


if __name__ == "__main__":
    main()
