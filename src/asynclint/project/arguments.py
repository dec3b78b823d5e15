"""What a call hands a function's parameters, and what that makes of the guards on its
blocking paths (`ProjectIndex.guards`).

A call's arguments are recorded one string each: `"*"` and `"**"` for a splat, else
`keyword:value` (keyword empty for a positional argument) where value is `""` (something
given), `"0"` (an empty constant: None, False, 0, "", an empty literal) or the name of a
parameter of the calling function handed on as it is (`inline_remote`; `~blocking` for a
flag with a true default).

A guard is a set of marks on a blocking path, each on a parameter `p` of the function:
`p`, the path runs unless `p` is given (`if p is None: p = load()`); `+p`, only if `p` is
given (`if p: download()`, `p` defaulting to None or another empty constant); `~p`, unless
`p` is given as an empty constant (`if create: connect()` with `create=True` by default,
called with `create=False`); `-p`, only if `p` is given as an empty constant (the `else:` of
that `if`). "Given" means given something other than an empty constant.
A path of a helper reached through a call inherits the call's arguments:
`fetch(image, inline_remote)` in `def to_content(..., inline_remote=False)` runs the
helper's `+inline_remote` path only if `to_content`'s own `inline_remote` is given, and
`to_content(prompt)` never runs it; `lock(path, blocking=blocking)` in `def
carrier_lock(path, blocking=True)` runs a `+blocking` path of `lock` unless
`carrier_lock(path, blocking=False)` turns it off (`~blocking`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

GIVEN, EMPTY = "", "0"
# Before a parameter's name: a flag of the caller with a true default handed on as it came
# (`blocking=blocking` in `def lock(path, blocking=True)`).
FLAG = "~"

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


def runs(guard: Iterable[str], bound: dict[str, str]) -> bool:
    """Does a path under `guard` run for a call handing `bound` (`bind`)?"""
    for mark in guard:
        kind, name = _split(mark)
        value = bound.get(name)
        given = value is not None and value != EMPTY
        if (
            (kind == "" and given)
            or (kind == "+" and not given)
            or (kind == "~" and value == EMPTY)
            or (kind == "-" and value != EMPTY)
        ):
            return False
    return True


def inherited(guard: Iterable[str], bound: dict[str, str]) -> tuple[str, ...] | None:
    """A callee's path guard as the caller's own, for a call handing `bound` (`bind`): None
    where the call never runs the path; else the marks on the caller's parameters it
    still depends on. (A parameter is handed on only with no default or an empty one: left
    out, the callee's gets an empty value.)"""
    marks: list[str] = []
    for mark in guard:
        kind, name = _split(mark)
        value = bound.get(name)
        if value is None or value in (GIVEN, EMPTY):
            if not runs([mark], {name: value} if value is not None else {}):
                return None
        elif value.startswith(FLAG):
            # The caller's flag, true unless it is passed an empty constant: a path run only
            # when the callee's parameter is given runs unless that flag is turned off (`~`);
            # one run only when it is not given, or given empty, runs only when the flag is
            # turned off (`-`).
            marks.append(value if kind in ("+", "~") else f"-{value[len(FLAG) :]}")
        elif kind == "-":
            # The caller's parameter with an empty default: empty unless it is given.
            marks.append(value)
        else:  # the caller's own parameter decides
            marks.append(value if kind == "" else f"+{value}")
    return tuple(marks)


def _split(mark: str) -> tuple[str, str]:
    """`+p` -> ("+", "p"), `~p` -> ("~", "p"), `-p` -> ("-", "p"), `p` -> ("", "p")."""
    return (mark[0], mark[1:]) if mark[:1] in ("+", "~", "-") else ("", mark)
