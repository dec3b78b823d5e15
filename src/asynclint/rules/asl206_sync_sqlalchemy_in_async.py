"""ASL206 sync-sqlalchemy-in-async: a sync SQLAlchemy engine or session used in async code.

`create_engine(...)` (SQLAlchemy's or SQLModel's), `Session(...)` and a call of a
sync `sessionmaker` instance give objects that talk to the database through a
blocking DBAPI driver. When async code creates one and calls a method on it right
there (`s = Session(engine); s.execute(q)`, `with SessionLocal() as s: s.query(...)`,
`create_engine(url).connect()`), every query blocks the event loop.

Creating alone is not enough: an engine or session only handed to
`run_in_executor`/`asyncio.to_thread` (`await asyncio.to_thread(s.execute, q)` is a
reference, not a call) or to other code does its I/O elsewhere. Building a
`sessionmaker`/`scoped_session` factory does no I/O; a `sessionmaker(class_=AsyncSession)`
makes async sessions. The finding is located at the creating call.

A session not created in that async code but known by type evidence to be a sync `Session`
(a parameter annotated `Session`, also through an `Annotated[Session, Depends(...)]` alias
from any module of the project, a module-level session, a project function annotated
`-> Session`) is reported at each query or I/O method called on it
(`knowledge.SYNC_SESSION_IO_METHODS`): FastAPI's `session: SessionDep` in an `async def`
route. An awaited call means the object is async after all: silent. A parameter without an
annotation is never taken for a session.

Not flagged either, in a project whose sync engines are all of an in-process database
(SQLite, DuckDB: known as ASL503 knows them, `rules._engines`), nor an engine of one created
in async code: a query there is local file I/O, like ASL204's (opt-in), not a round trip to
a server. The project's engines are the index's to say (`ProjectIndex.in_process_engines`);
with project analysis off, the module's own.

No fix: use `create_async_engine`, `async_sessionmaker`, or `AsyncSession.run_sync`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

import libcst as cst

from asynclint import knowledge
from asynclint.context import Context
from asynclint.rules._blocking import BlockingCallRule
from asynclint.rules._engines import database_of, in_process

if TYPE_CHECKING:
    from asynclint.config import Settings

_KIND = {knowledge.SYNC_ENGINE: "engine", knowledge.SYNC_SESSION: "session"}


class SyncSqlalchemyInAsync(BlockingCallRule):
    code = "ASL206"
    index_family = "types"
    feeds_chains = False  # judged where the session is used, not followed into helpers
    name = "sync-sqlalchemy-in-async"
    summary = "a sync SQLAlchemy engine or session used in async code blocks the event loop"
    tokens = ("sqlalchemy", "sqlmodel")
    remedy = "Use `create_async_engine`, `async_sessionmaker`, or `AsyncSession.run_sync`"

    @classmethod
    def wants_with_index(cls, text: str, settings: Settings) -> bool:
        # A `SessionDep` from another module: the module need not spell sqlalchemy or sqlmodel.
        return cls.wants(text, settings) or knowledge.has_async_def(text)

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)
        self.extra = frozenset(ctx.settings.extra_calls_for(self.code))
        # Creating calls in async code -> the type they make; decided in `finish`, because a
        # use can come before the creation in the source (a loop).
        self.created: dict[cst.Call, str] = {}
        self.used: set[cst.CSTNode] = set()
        # Query methods called on a sync session in async code -> what its name was bound to.
        self.queries: dict[cst.Call, tuple[tuple[int, str], set[cst.CSTNode]]] = {}
        # Names with a method awaited somewhere: an async object, whatever the annotation says.
        self.awaited: set[tuple[int, str]] = set()
        # What the module's sync engines talk to: read with project analysis off only, where
        # the index does not say (`_in_process_only`).
        self.engines: set[str] = set()

    def visit_Call(self, node: cst.Call) -> None:
        ctx = self.ctx
        if not ctx.in_async:
            if not ctx.settings.project_analysis and ctx.type_of(node) == knowledge.SYNC_ENGINE:
                self._note_engine(node)
            return
        made = self._makes(node)
        if made == knowledge.SYNC_ENGINE:
            if not ctx.settings.project_analysis:
                self._note_engine(node)
            if in_process(ctx, node):
                made = None  # its queries are local file I/O
        if made is not None:
            self.created[node] = made
        if isinstance(node.func, cst.Attribute):
            self._note_method_call(node.func.value)
            self._note_query(node, node.func)

    def _note_engine(self, call: cst.Call) -> None:
        database = database_of(self.ctx, call)
        if database is not None:
            self.engines.add(database)

    def _note_query(self, node: cst.Call, func: cst.Attribute) -> None:
        """`session.execute(q)` on a name known to hold a sync `Session`."""
        receiver = func.value
        if not isinstance(receiver, cst.Name):
            return
        found = self.ctx.scope.lookup(receiver.value)
        if found is None:
            return
        key = (id(found[0]), receiver.value)
        if isinstance(self.ctx.parent(node), cst.Await):
            self.awaited.add(key)  # the evidence for a sync session is wrong
            return
        if (
            func.attr.value not in knowledge.SYNC_SESSION_IO_METHODS
            or self.ctx.type_of(receiver) != knowledge.SYNC_SESSION
        ):
            return
        self.queries[node] = (key, {b.value for b in found[1] if b.value is not None})

    def _makes(self, call: cst.Call) -> str | None:
        kind = self.ctx.type_of(call)
        if kind in knowledge.SYNC_SQLALCHEMY_TYPES:
            return kind
        if self.extra and self.ctx.call_name(call) in self.extra:
            return kind  # the user's own constructor: its qualified name is its type
        return None

    def _note_method_call(self, receiver: cst.BaseExpression) -> None:
        """A method is called on `receiver` in async code: mark what it was created by."""
        if isinstance(receiver, cst.Call):
            self.used.add(receiver)  # `Session(engine).execute(q)`
            return
        if not isinstance(receiver, cst.Name):
            return
        kind = self.ctx.type_of(receiver)
        if kind not in knowledge.SYNC_SQLALCHEMY_TYPES and kind not in self.extra:
            return  # conflicting or missing evidence: stay silent
        found = self.ctx.scope.lookup(receiver.value)
        if found is not None:
            self.used.update(b.value for b in found[1] if b.value is not None)

    def _in_process_only(self) -> bool:
        """Is every sync engine of the project (with project analysis off: of this module) an
        in-process database's? Then a sync session's query is local file I/O."""
        project = self.ctx.project
        if project is not None:
            return project.in_process_engines
        if self.ctx.settings.project_analysis:
            return False  # the first pass: the index decides (`project.rerun_plan`)
        return self.engines == {"in_process"}

    def finish(self) -> None:
        if self._in_process_only():
            return
        reported = {call for call in self.created if call in self.used}
        for call in reported:
            self.ctx.report(call, self._message(call, self.created[call]), help=self.remedy)
        for call, (key, sources) in self.queries.items():
            # Reported where the session is created, if it is; never for a name awaited on.
            if key not in self.awaited and sources.isdisjoint(reported):
                method = cast(cst.Attribute, call.func).attr.value  # `_note_query` keeps only these
                self.ctx.report(
                    call,
                    f"`.{method}()` on a sync SQLAlchemy `Session` blocks the event loop in async code",
                    help=self.remedy,
                )

    def _message(self, call: cst.Call, made: str) -> str:
        callee = self.ctx.module.code_for_node(call.func)
        what = _KIND.get(made, "object")
        source = f" from `{callee}(...)`" if len(callee) <= 60 and "\n" not in callee else ""
        return (
            f"sync SQLAlchemy {what}{source} is used directly in async code, so its database calls block the event loop"
        )


RULE = SyncSqlalchemyInAsync
