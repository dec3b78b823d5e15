"""The base class every rule module subclasses.

A rule is small: its code and name, a one-line summary, the words without
which it cannot match (checked on the text before anything is parsed), and
`visit_<Node>` / `leave_<Node>` hooks that the engine calls during the one
shared traversal. Hooks ask `self.ctx` what names resolve to and whether the
code is async, and call `self.ctx.report(...)`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from asynclint.knowledge import has_async_def

if TYPE_CHECKING:
    from asynclint.config import Settings
    from asynclint.context import Context
    from asynclint.project import ProjectIndex


class Rule:
    code: ClassVar[str] = ""
    name: ClassVar[str] = ""
    summary: ClassVar[str] = ""
    # The file must contain at least one of these strings, or the rule is skipped.
    tokens: ClassVar[tuple[str, ...]] = ()
    # The rule only looks at async code, so a file without an `async def` cannot match.
    needs_async: ClassVar[bool] = False
    # Lowest target Python version the rule applies to.
    min_target: ClassVar[tuple[int, int]] = (3, 0)
    # "safe", "unsafe", or None when the rule has no fix.
    fix_applicability: ClassVar[str | None] = None
    # Which part of the project index can add to (or take from) its findings: "blocking",
    # "sessions", "resources", "orm", "tasks" or "types"; None for a rule of one file.
    # (registry.INDEX_FAMILIES spells the same without importing the rules.)
    index_family: ClassVar[str | None] = None
    # A rule whose findings need the index but whose places do not (ASL207: a call in async
    # code; whether the callee blocks is the index's to say). In a pass that collects facts
    # without the index (`ctx.recording`), it records each place (`ctx.report(..., site=...)`);
    # `from_site` turns them into findings once the index exists, and the file need not be
    # parsed again for the rule (`passes.project_wide_again`).
    records_sites: ClassVar[bool] = False
    # Whether `from_site` can tell a finding from a recorded place alone (ASL207, by the
    # chain of its callee). Else a place says only that the index may make a finding
    # there (ASL304: a session method called so that its coroutine is lost, on a receiver
    # the index may know as a session): a file with places is linted again for the rule,
    # a file without is not.
    judges_sites: ClassVar[bool] = True
    # Whether the index can only take this rule's findings away, never add one (ASL102: a
    # coroutine started as a task in another module is a task's root, exempt): a file whose
    # first pass found none is not linted again for it (`project.rerun_plan`).
    index_removes_only: ClassVar[bool] = False

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def finish(self) -> None:
        """Called once after the traversal, for rules that decide at the end of a module."""

    @classmethod
    def wants(cls, text: str, settings: Settings) -> bool:
        """Could this rule match anything in `text`? A cheap check before parsing."""
        if cls.needs_async and not has_async_def(text):
            return False
        return cls.mentioned(text, settings)

    @classmethod
    def wants_with_index(cls, text: str, settings: Settings) -> bool:
        """`wants`, when the project index is at hand: a name from another module can make
        a match without the rule's own tokens in the text (`make_client()`, `get_db()`)."""
        return cls.wants(text, settings)

    @classmethod
    def index_may_change(cls, index: ProjectIndex, text: str) -> bool:
        """May the index change this rule's findings in `text`, whose facts say the index
        concerns it (`ProjectIndex.rerun_codes`)? A rule that knows exactly how the index
        reaches its findings says no where that cannot happen, and the file is not parsed
        again for it (`project.rerun_plan`); the answer must never be no where it could."""
        return True

    @classmethod
    def from_site(cls, data: Any, index: ProjectIndex) -> tuple[str, str | None] | None:
        """(message, help) of the finding at a recorded place, by the index; None for none."""
        raise NotImplementedError(f"{cls.code} does not judge recorded places (`judges_sites`)")

    @classmethod
    def mentioned(cls, text: str, settings: Settings) -> bool:
        """Could what the rule looks for occur in `text` at all, in async code or not?
        (Project facts ask this of the blocking-call rules about sync helpers.)"""
        return not cls.tokens or any(token in text for token in cls.tokens)
