"""`asynclint server`: the language server (over stdio, on pygls 2 and lsprotocol).

Findings of the editor's unsaved text are published as the user types (debounced),
with the rule's page, its fix's description and, for ASL207, each step of the chain
as a location. Code actions offer each finding's fix, every safe fix of the file
(`source.fixAll.asynclint`, the same text `asynclint check --fix` writes) and a
`# noqa` comment for the line. The project's facts and index live in memory
(`asynclint.server.workspace`): an edit recomputes one module's facts, and the open
files whose findings may depend on what changed are checked again.

All linting runs on one worker thread, in the order it was asked for, so the project
state is never touched by two threads; the event loop only reads messages and decides
which results are still current.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.uris import from_fs_path, to_fs_path

from asynclint import __version__
from asynclint.diagnostics import Diagnostic, Edit
from asynclint.server import pipeline
from asynclint.server.workspace import Project, Workspace
from asynclint.source import split_lines

FIX_ALL = "source.fixAll.asynclint"
# Typing pauses shorter than this are one edit. Short: a check of a 1,000-line file takes
# about a tenth of a second, and results of an outdated text are never published anyway.
DEBOUNCE_SECONDS = 0.05
# What the project index waits for: a pause in the edits that change what a module defines.
INDEX_DEBOUNCE_SECONDS = 0.1
# Engine findings (the file cannot be read or parsed) are errors; the rules' are warnings.
ERROR_CODES = frozenset({"ASL001", "ASL002"})

log = logging.getLogger(__name__)

T = TypeVar("T")


class AsynclintServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("asynclint", __version__)
        self.state = Workspace()
        self.worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="asynclint")
        self.pending: dict[str, asyncio.Task[None]] = {}
        self.index_task: asyncio.Task[None] | None = None
        # The event loop keeps only weak references to tasks: a project's first indexing is held here.
        self.indexing: set[asyncio.Task[None]] = set()
        # uri -> (text, findings) last published: what code actions work from.
        self.published: dict[str, tuple[str, list[Diagnostic]]] = {}

    async def run(self, function: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self.worker, function, *args)

    # -- checking ---------------------------------------------------------------------

    def schedule(self, uri: str, delay: float = 0.0) -> None:
        """Check the document after `delay` of quiet (a newer request replaces an older)."""
        task = self.pending.pop(uri, None)
        if task is not None:
            task.cancel()
        self.pending[uri] = asyncio.ensure_future(self._check(uri, delay))

    async def _check(self, uri: str, delay: float) -> None:
        if delay:
            await asyncio.sleep(delay)
        document = self.workspace.text_documents.get(uri)
        if document is None:
            return
        text, version, path = document.source, document.version, _path(uri)
        project = self.state.project_for(path) if path not in self.state.open else self.state.open[path].project
        findings = await self.run(self.state.check, path, text)
        current = self.workspace.text_documents.get(uri)
        if current is None or current.version != version:
            return  # a newer text is on its way
        self.publish(uri, text, version, findings)
        if self.pending.get(uri) is asyncio.current_task():
            del self.pending[uri]
        self.schedule_index()
        if not project.indexed and not project.indexing:
            project.indexing = True
            task = asyncio.ensure_future(self._index(project))
            self.indexing.add(task)
            task.add_done_callback(self.indexing.discard)

    def schedule_index(self) -> None:
        """Bring the indexes up to date with the checked texts once typing pauses: after the
        findings are published, since rebuilding a large project's index takes longer than
        checking one file, and once for many edits."""
        if self.index_task is not None:
            self.index_task.cancel()
        self.index_task = asyncio.ensure_future(self._update_index())

    async def _update_index(self) -> None:
        await asyncio.sleep(INDEX_DEBOUNCE_SECONDS)
        for other in await self.run(self.state.update_index):
            self.schedule(from_fs_path(other))

    async def _index(self, project: Project) -> None:
        self.window_log_message(types.LogMessageParams(types.MessageType.Info, f"asynclint: indexing {project.key}"))
        if project.error:
            self.window_show_message(
                types.ShowMessageParams(
                    types.MessageType.Warning,
                    f"asynclint: {project.error} (using the default settings)",
                )
            )
        try:
            await self.run(self.state.index_project, project)
        except Exception as exc:  # the files stay checked one by one
            log.exception("indexing failed")
            self.window_log_message(
                types.LogMessageParams(types.MessageType.Error, f"asynclint: indexing failed: {exc}")
            )
            project.indexed = True
        finally:
            project.indexing = False
        self.window_log_message(
            types.LogMessageParams(
                types.MessageType.Info,
                f"asynclint: indexed {len(project.facts)} modules of {project.key}",
            )
        )
        for path, state in list(self.state.open.items()):
            if state.project is project:
                self.schedule(from_fs_path(path))

    def publish(self, uri: str, text: str, version: int | None, findings: list[Diagnostic]) -> None:
        self.published[uri] = (text, findings)
        lines = split_lines(text)
        path = _path(uri)
        self.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(
                uri=uri,
                version=version,
                diagnostics=[self._diagnostic(d, lines, path) for d in findings],
            )
        )

    def _diagnostic(self, d: Diagnostic, lines: list[str], path: str) -> types.Diagnostic:
        message = d.message
        if d.fix is not None and d.fix.message:
            message += f"\nhelp: {d.fix.message}" + (" (unsafe fix)" if d.fix.applicability == "unsafe" else "")
        related = None
        if d.code == "ASL207":
            related = [
                types.DiagnosticRelatedInformation(
                    location=types.Location(
                        uri=from_fs_path(where),
                        range=self._range(where, row, col, row, end, lines if where == path else None),
                    ),
                    message=f"{step}" + (" blocks" if index == 0 else ""),
                )
                for index, (where, row, col, end, step) in enumerate(self.state.chain_locations(path, d))
            ] or None
        return types.Diagnostic(
            range=self._range(path, d.row, d.col, d.end_row, d.end_col, lines),
            severity=types.DiagnosticSeverity.Error if d.code in ERROR_CODES else types.DiagnosticSeverity.Warning,
            code=d.code,
            code_description=types.CodeDescription(href=pipeline.rule_url(d.code)),
            source="asynclint",
            message=message,
            related_information=related,
        )

    def _range(
        self,
        path: str,
        row: int,
        col: int,
        end_row: int,
        end_col: int,
        lines: list[str] | None,
    ) -> types.Range:
        """1-based rows and columns in code points -> the client's positions."""
        if lines is None:
            text = self.state.source_of(path) or ""
            lines = split_lines(text)
        codec = self.workspace.position_codec
        start = (
            codec.position_to_client_units(lines, types.Position(max(row - 1, 0), max(col - 1, 0)))
            if 0 < row <= len(lines)
            else types.Position(max(row - 1, 0), max(col - 1, 0))
        )
        end = (
            codec.position_to_client_units(lines, types.Position(max(end_row - 1, 0), max(end_col - 1, 0)))
            if 0 < end_row <= len(lines)
            else types.Position(max(end_row - 1, 0), max(end_col - 1, 0))
        )
        return types.Range(start, end)

    # -- code actions -----------------------------------------------------------------

    def code_actions(self, params: types.CodeActionParams) -> list[types.CodeAction]:
        uri = params.text_document.uri
        document = self.workspace.text_documents.get(uri)
        if document is None:
            return []
        text, version = document.source, document.version
        published = self.published.get(uri)
        if published is None or published[0] != text:
            return []  # findings of an older text: the new ones are on their way
        findings = published[1]
        only = params.context.only
        actions: list[types.CodeAction] = []
        lines = split_lines(text)
        path = _path(uri)

        def wanted(kind: str) -> bool:
            return not only or any(kind == k or kind.startswith(f"{k}.") for k in only)

        if wanted(types.CodeActionKind.QuickFix):
            first = params.range.start.line + 1
            last = params.range.end.line + 1
            here = [d for d in findings if d.row <= last and d.end_row >= first]
            for d in here:
                lsp = self._diagnostic(d, lines, path)
                if d.fix is not None and d.fix.edits:
                    unsafe = d.fix.applicability == "unsafe"
                    title = f"Fix {d.code}: {d.fix.message or 'apply the fix'}" + (
                        " (unsafe: check the change)" if unsafe else ""
                    )
                    actions.append(
                        types.CodeAction(
                            title=title,
                            kind=types.CodeActionKind.QuickFix,
                            diagnostics=[lsp],
                            is_preferred=not unsafe,
                            edit=self._edit(
                                uri,
                                version,
                                [self._text_edit(e, lines, path) for e in d.fix.edits],
                            ),
                        )
                    )
            for code, row in sorted({(d.code, d.row) for d in here if d.code not in ERROR_CODES}):
                new_text = pipeline.add_noqa(text, row, [code])
                if new_text != text:
                    actions.append(
                        types.CodeAction(
                            title=f"Disable {code} on this line",
                            kind=types.CodeActionKind.QuickFix,
                            diagnostics=[
                                self._diagnostic(d, lines, path) for d in here if d.code == code and d.row == row
                            ],
                            edit=self._edit(uri, version, [self._whole_edit(text, new_text)]),
                        )
                    )
        if any(d.fix is not None and d.fix.applicability == "safe" for d in findings) and (
            wanted(FIX_ALL) or (only and types.CodeActionKind.SourceFixAll in only)
        ):
            actions.append(
                types.CodeAction(
                    title="Fix all safe asynclint findings",
                    kind=FIX_ALL,
                    data={"uri": uri, "version": version},
                )
            )
        return actions

    def resolve_fix_all(self, action: types.CodeAction) -> types.CodeAction:
        data = action.data or {}
        document = self.workspace.text_documents.get(data.get("uri", ""))
        if document is None or document.version != data.get("version"):
            return action
        text = document.source
        settings = self.state.project_for(_path(document.uri)).settings
        fixed, _done, _notes = pipeline.fix_all(text, _path(document.uri), settings)
        action.edit = self._edit(
            document.uri,
            document.version,
            [self._whole_edit(text, fixed)] if fixed != text else [],
        )
        return action

    def _edit(self, uri: str, version: int | None, edits: list[types.TextEdit]) -> types.WorkspaceEdit:
        return types.WorkspaceEdit(
            document_changes=[
                types.TextDocumentEdit(
                    text_document=types.OptionalVersionedTextDocumentIdentifier(uri=uri, version=version),
                    edits=edits,
                )
            ]
        )

    def _text_edit(self, edit: Edit, lines: list[str], path: str) -> types.TextEdit:
        return types.TextEdit(
            range=self._range(path, edit.row, edit.col, edit.end_row, edit.end_col, lines),
            new_text=edit.content,
        )

    def _whole_edit(self, old: str, new: str) -> types.TextEdit:
        """One edit turning `old` into `new`: the span between their common ends."""
        start = 0
        limit = min(len(old), len(new))
        while start < limit and old[start] == new[start]:
            start += 1
        end = 0
        while end < limit - start and old[len(old) - 1 - end] == new[len(new) - 1 - end]:
            end += 1
        codec = self.workspace.position_codec
        lines = _BREAK.split(old)
        return types.TextEdit(
            range=types.Range(
                _position(old, start, codec, lines),
                _position(old, len(old) - end, codec, lines),
            ),
            new_text=new[start : len(new) - end],
        )


def _position(text: str, offset: int, codec: Any, lines: list[str]) -> types.Position:
    """An offset of `text` -> the client's position (rows end as the parser ends them)."""
    breaks = list(_BREAK.finditer(text, 0, offset))
    row_start = breaks[-1].end() if breaks else 0
    position: types.Position = codec.position_to_client_units(lines, types.Position(len(breaks), offset - row_start))
    return position


_BREAK = re.compile(r"\r\n|\r|\n")


def _path(uri: str) -> str:
    return os.path.abspath(to_fs_path(uri) or uri)


def create_server() -> AsynclintServer:
    server = AsynclintServer()

    @server.feature(types.INITIALIZE)
    def initialize(ls: AsynclintServer, params: types.InitializeParams) -> None:
        folders = [to_fs_path(f.uri) for f in params.workspace_folders or ()]
        if not folders and params.root_uri:
            folders = [to_fs_path(params.root_uri)]
        elif not folders and params.root_path:
            folders = [params.root_path]
        ls.state.folders = [os.path.abspath(f) for f in folders if f]

    @server.feature(types.INITIALIZED)
    async def initialized(ls: AsynclintServer, params: types.InitializedParams) -> None:
        watched = ls.client_capabilities.workspace and ls.client_capabilities.workspace.did_change_watched_files
        if watched and watched.dynamic_registration:
            options = types.DidChangeWatchedFilesRegistrationOptions(
                watchers=[
                    types.FileSystemWatcher(glob_pattern="**/pyproject.toml"),
                    types.FileSystemWatcher(glob_pattern="**/*.py"),
                ]
            )
            try:
                await ls.client_register_capability_async(
                    types.RegistrationParams(
                        registrations=[
                            types.Registration(
                                id="asynclint-watch",
                                method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES,
                                register_options=options,
                            )
                        ]
                    )
                )
            except Exception:  # the client watches nothing for us: edits in it still count
                log.info("the client did not register the file watchers")

    @server.feature(types.WORKSPACE_DID_CHANGE_WORKSPACE_FOLDERS)
    def folders_changed(ls: AsynclintServer, params: types.DidChangeWorkspaceFoldersParams) -> None:
        removed = {_path(f.uri) for f in params.event.removed}
        added = [_path(f.uri) for f in params.event.added]
        ls.state.folders = [f for f in ls.state.folders if f not in removed] + added

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: AsynclintServer, params: types.DidOpenTextDocumentParams) -> None:
        if params.text_document.language_id in ("python", ""):
            ls.schedule(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: AsynclintServer, params: types.DidChangeTextDocumentParams) -> None:
        if _path(params.text_document.uri) in ls.state.open:
            ls.schedule(params.text_document.uri, DEBOUNCE_SECONDS)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: AsynclintServer, params: types.DidSaveTextDocumentParams) -> None:
        if _path(params.text_document.uri) in ls.state.open:
            ls.schedule(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    async def did_close(ls: AsynclintServer, params: types.DidCloseTextDocumentParams) -> None:
        uri = params.text_document.uri
        task = ls.pending.pop(uri, None)
        if task is not None:
            task.cancel()
        ls.published.pop(uri, None)
        ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, diagnostics=[]))
        for other in await ls.run(ls.state.close, _path(uri)):
            ls.schedule(from_fs_path(other))

    @server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    async def watched_files(ls: AsynclintServer, params: types.DidChangeWatchedFilesParams) -> None:
        again: set[str] = set()
        for change in params.changes:
            path = _path(change.uri)
            if os.path.basename(path) == "pyproject.toml":
                again.update(await ls.run(ls.state.reload_config, path))
            elif path.endswith((".py", ".pyi")):
                again.update(await ls.run(ls.state.file_changed, path))
        for path in sorted(again):
            ls.schedule(from_fs_path(path))

    @server.feature(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(
            code_action_kinds=[types.CodeActionKind.QuickFix, FIX_ALL],
            resolve_provider=True,
        ),
    )
    async def code_action(ls: AsynclintServer, params: types.CodeActionParams) -> list[types.CodeAction]:
        actions = await ls.run(ls.code_actions, params)
        # A client that cannot resolve actions gets the fix-all edit at once.
        resolve = ls.client_capabilities.text_document and ls.client_capabilities.text_document.code_action
        lazy = resolve and resolve.resolve_support and "edit" in (resolve.resolve_support.properties or ())
        if not lazy:
            actions = [await ls.run(ls.resolve_fix_all, a) if a.kind == FIX_ALL else a for a in actions]
        return actions

    @server.feature(types.CODE_ACTION_RESOLVE)
    async def code_action_resolve(ls: AsynclintServer, action: types.CodeAction) -> types.CodeAction:
        if action.kind == FIX_ALL:
            return await ls.run(ls.resolve_fix_all, action)
        return action

    @server.feature(types.SHUTDOWN)
    def shutdown(ls: AsynclintServer, params: None) -> None:
        for task in [*ls.pending.values(), ls.index_task]:
            if task is not None:
                task.cancel()
        ls.pending.clear()
        ls.worker.shutdown(wait=True, cancel_futures=True)

    return server


def serve() -> None:
    logging.basicConfig(level=logging.WARNING, format="asynclint server: %(message)s")
    create_server().start_io()
