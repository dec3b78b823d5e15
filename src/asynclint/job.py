"""What a pass over files is asked to do (`Job`) and what a run gives back (`RunResult`)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from asynclint.config import Settings
from asynclint.diagnostics import Diagnostic, Facts, InternalError

if TYPE_CHECKING:
    from asynclint.project import ProjectIndex

FixMode = Literal["fix", "diff"] | None


@dataclass(frozen=True)
class Job:
    settings: Settings
    fix: FixMode = None
    unsafe: bool = False
    facts: Facts = Facts.NONE  # also collect facts for project analysis
    project: ProjectIndex | None = None  # for the rules that use one (ASL207)
    # Line noqa comments applied (flake8 applies its own instead).
    noqa: bool = True
    # The lint of what --fix wrote (a stage of the run, for the progress bar).
    after_fix: bool = False
    # Where the cache lives (`--cache-dir`); None: `cache.cache_folder`'s default.
    cache_dir: str | None = None
    # Text to lint instead of the file on disk, by absolute path (stdin, an editor's buffer).
    # Such files are never cached: the cache trusts what is on disk.
    sources: Mapping[str, str] = field(default_factory=dict, compare=False)

    def source(self, path: str) -> str | None:
        return self.sources.get(os.path.abspath(path)) if self.sources else None

    def cache_key(self) -> tuple[str, str]:
        """(fingerprint, salt) of the cache for this job's results."""
        fingerprint = self.settings.fingerprint() + _FACTS_KEY[self.facts]
        if not self.noqa:
            fingerprint += "-nonoqa"
        if self.project is None:
            return fingerprint, ""
        import hashlib

        from asynclint.project import index_to_json

        return fingerprint + "-project", hashlib.sha256(index_to_json(self.project).encode()).hexdigest()


# Part of a cache file's name: each kind of pass has its own cache.
_FACTS_KEY = {Facts.NONE: "", Facts.FIRST: "-facts", Facts.SEEDS: "-seeds-facts", Facts.ALL: "-all-facts"}


@dataclass
class RunResult:
    diagnostics: list[Diagnostic] = field(default_factory=list)
    errors: list[InternalError] = field(default_factory=list)
    fixed: list[Diagnostic] = field(default_factory=list)
    diffs: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    files: int = 0
    # --fix of in-memory sources: path -> fixed text (see `Job.sources`).
    outputs: dict[str, str] = field(default_factory=dict)
    # Absolute path -> the module facts of each file asked for, where they are wanted back
    # (`Job.facts`; a file without any, or whose facts were not read, has none).
    facts: dict[str, dict[str, Any]] = field(default_factory=dict)
