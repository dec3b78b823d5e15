"""Finds the rules: every `rules/aslNNN_name.py` module is one rule, no hand-kept list.

Codes and names come from the file names, so selecting codes and validating
config never has to import a rule (and with it LibCST).
"""

from __future__ import annotations

import importlib
import re
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable

    from asynclint.rule import Rule

_RULE_FILE = re.compile(r"^asl(\d{3})_(\w+)\.py$")

# The engine's own findings: they have no module of their own.
ENGINE_CODES = {
    "ASL001": ("syntax-error", "The file cannot be parsed"),
    "ASL002": ("unreadable-file", "The file cannot be read or decoded"),
    "ASL003": ("unused-noqa", "A `# noqa` names ASL codes that suppress nothing here, or unknown ones"),
}
# The engine's findings that carry a fix, and its safety.
ENGINE_FIXES = {"ASL003": "safe"}


# The rules that consult the project index, by what in it concerns them (each rule says the
# same as its `index_family`; spelled here so that choosing what to run needs no rule import;
# tests/test_catalogue.py keeps the two equal).
INDEX_FAMILIES: dict[str, frozenset[str]] = {
    "blocking": frozenset({"ASL207"}),  # blocking chains through the project's helpers
    "sessions": frozenset({"ASL302", "ASL304", "ASL401"}),  # the project's session factories
    "resources": frozenset({"ASL501", "ASL502"}),  # the project's resource factories and classes
    "orm": frozenset({"ASL301"}),  # whether any module loads the ORM under asyncio
    "tasks": frozenset({"ASL102", "ASL107"}),  # task roots started in other modules
    "types": frozenset({"ASL204", "ASL206"}),  # `-> Path`, base-class attributes, `SessionDep`
}
# The blocking-call rules whose calls make a sync helper "blocking" for ASL207 (`feeds_chains`),
# and those that take `extra-blocking-calls` (`accepts_extra_calls`).
CHAIN_CODES = ("ASL201", "ASL202", "ASL203", "ASL204", "ASL205")
# Of those, the ones that end a chain only with `helper-file-io = true`: a sync helper's file
# operation (a prompt, config or pid file read once) is rarely what stalls a server, whereas
# its network, subprocess, sleep or database call is. (Written in async code itself, a file
# operation is still ASL204's.)
FILE_CHAIN_CODES = frozenset({"ASL204"})
EXTRA_CALL_CODES = ("ASL201", "ASL202", "ASL203", "ASL204", "ASL205", "ASL206")

# Rules that run only when selected by their full code (`extend-select = ["ASL101"]`) or by
# `ALL`, like flake8-async's optional rules: each is sound, but blind samples of real
# applications found their findings to be modernisation or a policy (ASL301: an explicit
# loading strategy on every relationship) that its maintainers would not act on, or to turn
# on what the code does not say: how large a file is and how often the path runs (ASL204),
# whether a discarded task logs its own errors (ASL103), how many items a loop sees and how
# long an object lives (ASL501, ASL502); or (ASL107, a handler naming CancelledError) on an
# intent the code states: ending a task on purpose; or a design choice the code does not
# explain (ASL401, a session opened in a route: none of 30 judged TRUE, each a short session
# released before slow work, or the project's one way to get a session; ASL303, a factory
# that expires on commit: 1 of 26 TRUE, the others Core-only sessions that hold no ORM
# object, or projects that refresh after commit on purpose) (benchmarks/REVIEW.md).
OPT_IN = frozenset(
    {"ASL003", "ASL101", "ASL103", "ASL104", "ASL107", "ASL204", "ASL301", "ASL303", "ASL401", "ASL501", "ASL502"}
)

# Rules silent in test code (`test-files`): what they guard is a server's throughput and what
# a long-lived process holds (a loop shared by requests, tasks that outlive their caller,
# pools and clients), and a test's loop serves the test alone and ends with it. Blind
# samples judged 89 such findings in tests: none TRUE (benchmarks/REVIEW.md). A blocking
# sleep (ASL201) stays: a test sleeps to wait for something, which then waits too when it
# runs on the same loop; and the rules about what goes wrong anywhere (cancellation, nested
# loops, sessions) stay.
NOT_IN_TESTS = frozenset(
    {"ASL103", "ASL202", "ASL203", "ASL204", "ASL205", "ASL206", "ASL207", "ASL501", "ASL502", "ASL503"}
)


@cache
def rule_modules() -> dict[str, str]:
    """code -> module name, from the files in the rules package."""
    found = {}
    for path in sorted((Path(__file__).parent / "rules").iterdir()):
        match = _RULE_FILE.match(path.name)
        if match:
            found[f"ASL{match.group(1)}"] = f"asynclint.rules.{path.stem}"
    return found


def all_codes() -> list[str]:
    return sorted([*ENGINE_CODES, *rule_modules()])


@cache
def load_rule(code: str) -> type[Rule]:
    module = importlib.import_module(rule_modules()[code])
    rule: type[Rule] = module.RULE
    return rule


def load_rules(codes: Iterable[str]) -> list[type[Rule]]:
    return [load_rule(code) for code in sorted(codes) if code in rule_modules()]
