"""The plain data a lint run produces: findings, their fixes, and per-file results.

Everything here is picklable and JSON-friendly, so results can cross process
boundaries, be cached, and be handed to reporters that know nothing of LibCST.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Literal

Applicability = Literal["safe", "unsafe"]
# A module's facts for project analysis (`asynclint.facts` writes them, `asynclint.project` reads them): JSON-like.
ModuleFacts = dict[str, Any]
# A place a rule found before the project index existed (`Rule.records_sites`): JSON-like,
# `{"code": ..., "range": [row, column, end row, end column] or None (no call, or one CPython's
# positions could not locate: `positions.call_ranges`), "data": <the rule's own>}`.
Site = dict[str, Any]


@dataclass(frozen=True)
class Edit:
    """Replace the text between two positions (1-based rows and columns) with `content`."""

    content: str
    row: int
    col: int
    end_row: int
    end_col: int


@dataclass(frozen=True)
class Fix:
    applicability: Applicability
    message: str
    edits: tuple[Edit, ...] = ()


@dataclass(frozen=True)
class Diagnostic:
    """One finding. Rows and columns are 1-based, as ruff reports them."""

    code: str
    message: str
    path: str
    row: int
    col: int
    end_row: int
    end_col: int
    fix: Fix | None = None
    # What to do instead, shown on a `help:` line of its own (the message says what is wrong).
    help: str | None = None

    @property
    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.path, self.row, self.col, self.code)


class Facts(str, Enum):
    """Which module facts a lint pass collects for project analysis (`engine.lint_text`)."""

    NONE = ""
    # Where they are wanted before the index exists (`facts.wanted_first`) or the file is
    # parsed anyway; else the result's facts are `project.DEFERRED`.
    FIRST = "first"
    # The same, for a file whose findings nobody asked for (its async code leads nowhere
    # anyone reports): only its sessions and resources count first.
    SEEDS = "seeds"
    # Always (a deferred module turned out to be wanted).
    ALL = "all"


@dataclass(frozen=True)
class InternalError:
    """A rule (or the engine) crashed on a file; the run goes on and exits 2."""

    path: str
    rule: str
    detail: str


@dataclass
class FileResult:
    path: str
    diagnostics: list[Diagnostic] = field(default_factory=list)
    errors: list[InternalError] = field(default_factory=list)
    # Facts about the module for project-wide analysis (filled in by a later pass).
    facts: ModuleFacts | None = None
    # The places of the rules that record them in the first pass (`Rule.records_sites`),
    # those a comment silences left out: their findings once the index exists. None where
    # none were recorded.
    sites: list[Site] | None = None
    # --fix / --diff: what was fixed, the diff, and fixes or writes that were refused.
    fixed: list[Diagnostic] = field(default_factory=list)
    diff: str = ""
    notes: list[str] = field(default_factory=list)
    # --fix on text given in memory (stdin, an editor): the fixed text, which is not written.
    output: str | None = None
