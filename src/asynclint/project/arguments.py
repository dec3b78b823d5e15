"""What a call hands a function's parameters, and what that makes of the guards on its
blocking paths (`ProjectIndex.guards`).

A call's arguments are recorded one string each: `"*"` and `"**"` for a splat, else
`keyword:value` (keyword empty for a positional argument) where value is `""` (something
given), `"0"` (an empty constant: None, False, 0, "", an empty literal) or the name of a
parameter of the calling function handed on as it is (`inline_remote`).

A guard is a set of marks on a blocking path: `p`, it runs unless `p` is given; `+p`, it
runs only if `p` is given. A path of a helper reached through a call inherits the call's
arguments: `fetch(image, inline_remote)` in `def to_content(..., inline_remote=False)` runs
the helper's `+inline_remote` path only if `to_content`'s own `inline_remote` is given, and
`to_content(prompt)` never runs it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

GIVEN, EMPTY = "", "0"

# (positional parameter names as a caller fills them, keyword-only names)
Signature = tuple[Sequence[str], Iterable[str]]


def bind(arguments: Iterable[str], signature: Signature) -> dict[str, str]:
    """Parameter -> what the call hands it (GIVEN, EMPTY or a parameter of the caller); a
    parameter it leaves out is not there. A `*args`/`**kwargs` splat may give any parameter
    it can reach."""
    positional, keyword_only = signature
    bound: dict[str, str] = {}
    index = 0
    for argument in arguments:
        if argument == "*":
            bound.update(dict.fromkeys(positional[index:], GIVEN))
        elif argument == "**":
            bound.update(dict.fromkeys([*positional[index:], *keyword_only], GIVEN))
        else:
            keyword, _, value = argument.partition(":")
            if keyword:
                bound[keyword] = value
            else:
                if index < len(positional):
                    bound[positional[index]] = value
                index += 1
    return bound


def passed(arguments: Iterable[str], signature: Signature) -> set[str]:
    """The parameters a call gives something other than an empty constant."""
    return {name for name, value in bind(arguments, signature).items() if value != EMPTY}


def runs(guard: Iterable[str], passed: set[str]) -> bool:
    """Does a path under `guard` run for a call that gives `passed`?"""
    return all(mark[1:] in passed if mark.startswith("+") else mark not in passed for mark in guard)


def inherited(guard: Iterable[str], bound: dict[str, str]) -> tuple[str, ...] | None:
    """A callee's path guard as the caller's own, for a call handing `bound` (`bind`): None
    where the call never runs the path; else the marks on the caller's parameters it
    still depends on."""
    marks: list[str] = []
    for mark in guard:
        wanted = mark.startswith("+")
        value = bound.get(mark[1:] if wanted else mark, EMPTY)
        if value in (GIVEN, EMPTY):
            if (value == GIVEN) != wanted:
                return None  # `+p` left out or empty, or `p` given: the path does not run
        else:
            marks.append(f"+{value}" if wanted else value)  # handed on: the caller's parameter decides
    return tuple(marks)
