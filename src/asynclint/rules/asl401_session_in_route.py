"""ASL401 session-in-route: a route handler that creates its own database session.

A session built inside the handler ties it to one database setup and repeats the session's
lifecycle (commit, rollback, close) in every endpoint. A dependency that yields the session
keeps that in one place, and tests can swap it through `app.dependency_overrides`.

Flags, in the body of a route handler (`analysis.is_route_handler`, async or sync), a call
that creates a session: `AsyncSession(...)` (also SQLModel's, and the `session-types`),
`Session(...)`, calling a session factory (an `async_sessionmaker`/`sessionmaker` instance,
known from the binding), or its `.begin()`. Located at that call. With project analysis, also
the project's own factories from other modules (`asynclint.project`): an imported
`SessionLocal`, a function or method that returns or yields a session (`async with
session_scope() as s`, `s = await open_session()`). Not flagged: a session received as a
parameter, and a factory the handler receives as a parameter (`db: Database =
Depends(get_db)` then `db.session()`: the database is injected, tests can replace it); a
dependency function, lifespan or background job (not a route handler); code in a nested def
or lambda inside the handler; a factory imported from elsewhere whose kind is unknown; a
project with no session dependency at all (no `Depends(...)` that gives a session: the
project index, or with project analysis off the module), whose convention is a scoped
session per unit of work.

No fix: the dependency and the handler's new parameter are the author's to write.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst

from asynclint import analysis, knowledge
from asynclint.rule import Rule
from asynclint.scope import root_name

if TYPE_CHECKING:
    from asynclint.config import Settings

_SESSIONS = frozenset({knowledge.ASYNC_SESSION, knowledge.SYNC_SESSION})
# What a call that creates a session gives: the session, or (a project factory) a context
# manager or awaitable of one.
_MADE = _SESSIONS | {knowledge.SESSION_CONTEXT, knowledge.SESSION_AWAITABLE}
_FACTORIES = frozenset({*knowledge.SESSION_FACTORIES, knowledge.SYNC_SESSIONMAKER})


class SessionInRoute(Rule):
    code = "ASL401"
    index_family = "sessions"
    name = "session-in-route"
    summary = "Route handler creates its own database session instead of receiving it via `Depends`"
    tokens = ("Session", "session")

    @classmethod
    def wants(cls, text: str, settings: Settings) -> bool:
        return super().wants(text, settings) and knowledge.may_have_routes(text)

    @classmethod
    def wants_with_index(cls, text: str, settings: Settings) -> bool:
        return knowledge.may_have_routes(text)  # a factory of another module needs no token here

    def visit_Call(self, node: cst.Call) -> None:
        ctx = self.ctx
        scope = ctx.function_scope
        if scope is None or not isinstance(scope.node, cst.FunctionDef):
            return
        if not self._creates_session(node) or not analysis.is_route_handler(ctx, scope.node):
            return
        if not self._project_injects_sessions():
            return
        shown = ctx.module.code_for_node(node.func)
        ctx.report(
            node,
            f"route handler `{scope.node.name.value}` creates its own session with `{shown}(...)`",
            help="Receive it as a parameter through `Depends(...)` from a dependency that yields it",
        )

    def _creates_session(self, call: cst.Call) -> bool:
        func = call.func
        if self.ctx.type_of(call) in _MADE:
            return not self._injected(func)
        # `async with SessionLocal.begin() as session:` makes a session too.
        return (
            isinstance(func, cst.Attribute)
            and func.attr.value == "begin"
            and self.ctx.type_of(func.value) in _FACTORIES
            and not self._injected(func.value)
        )

    def _project_injects_sessions(self) -> bool:
        """The advice fits a project that provides a session through `Depends` (its index
        knows; with project analysis off, this module). Without such a dependency, opening
        a scoped session per unit of work is the project's convention. The first pass of a
        project run (no index yet) reports, and the run with the index decides."""
        ctx = self.ctx
        if ctx.project is not None:
            return ctx.project.session_dependency
        if ctx.settings.project_analysis:
            return True
        return analysis.session_dependencies(ctx)[0]

    def _injected(self, factory: cst.BaseExpression) -> bool:
        """Is the factory (or the object it is a method of) a parameter of the handler:
        `factory()` with a `factory` parameter, `db.session()` with a `db` parameter?"""
        root = root_name(factory)
        if root is None:
            return False
        found = self.ctx.scope.lookup(root.value)
        if found is None or found[0] is not self.ctx.function_scope:
            return False
        owner, bindings = found
        return owner.self_name != root.value and all(b.kind == "param" for b in bindings)


RULE = SessionInRoute
