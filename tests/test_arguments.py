"""What a call hands a helper's parameters decides which of its guarded blocking paths run
(`asynclint.project.arguments`), at the call site and, inherited, in each caller up the chain."""

from __future__ import annotations

import pytest

from asynclint.project import FACTS_VERSION, ProjectIndex
from asynclint.project.arguments import EMPTY, GIVEN, bind, inherited, runs
from asynclint.project.derive import MAX_GUARDED_PATHS

SIGNATURE = (("url", "inline"), ("create", "cache"))


def test_bind_fills_positions_keywords_and_splats():
    assert bind([":", ":0"], SIGNATURE) == {"url": GIVEN, "inline": EMPTY}
    assert bind([":", "create:0", "cache:store"], SIGNATURE) == {"url": GIVEN, "create": EMPTY, "cache": "store"}
    # A splat may give whatever it reaches: positions from where it stands, or every keyword.
    assert bind([":", "*"], SIGNATURE) == {"url": GIVEN, "inline": GIVEN}
    assert bind(["**"], SIGNATURE) == dict.fromkeys(["url", "inline", "create", "cache"], GIVEN)
    assert bind([":", ":", ":"], SIGNATURE) == {"url": GIVEN, "inline": GIVEN}  # too many: ignored


@pytest.mark.parametrize(
    ("mark", "left_out", "empty", "given"),
    [
        ("cache", True, True, False),  # `if cache is None:`: runs unless given
        ("+inline", False, False, True),  # `if inline:` with a falsy default: runs only if given
        ("~create", True, False, True),  # `if create:` with a true default: off only if emptied
    ],
)
def test_each_mark_runs_for_the_arguments_it_names(mark, left_out, empty, given):
    name = mark.lstrip("+~")
    assert runs([mark], {}) is left_out
    assert runs([mark], {name: EMPTY}) is empty
    assert runs([mark], {name: GIVEN}) is given


@pytest.mark.parametrize(
    ("mark", "left_out", "empty", "given", "handed_on"),
    [
        ("cache", (), (), None, ("outer",)),
        ("+inline", None, None, (), ("+outer",)),
        # The caller's own parameter defaults empty (or is required): `~p` becomes `+outer`.
        ("~create", (), None, (), ("+outer",)),
    ],
)
def test_a_callers_arguments_turn_a_helpers_guard_into_its_own(mark, left_out, empty, given, handed_on):
    name = mark.lstrip("+~")
    assert inherited([mark], {}) == left_out
    assert inherited([mark], {name: EMPTY}) == empty
    assert inherited([mark], {name: GIVEN}) == given
    assert inherited([mark], {name: "outer"}) == handed_on


def _function(display, calls=(), blocking=(), signature=None):
    info = {"async": False, "cached": False, "display": display, "blocking": list(blocking)}
    if calls:
        info["passing"] = [[callee, [], list(arguments)] for callee, arguments in calls]
    if signature is not None:
        info["signature"] = signature
    return info


def test_a_path_the_call_never_takes_is_dropped_all_the_way_up():
    facts = {
        "version": FACTS_VERSION,
        "functions": {
            "m.image_url": _function(
                "image_url", blocking=[["ASL202", "requests.get", ["+inline"]]], signature=[["url", "inline"], []]
            ),
            "m.to_content": _function(
                "to_content", calls=[("m.image_url", [":", ":inline"])], signature=[["url"], ["inline"]]
            ),
            "m.plain": _function("plain", calls=[("m.to_content", [":"])], signature=[["url"], []]),
            "m.inline": _function("inline", calls=[("m.to_content", [":", "inline:"])], signature=[["url"], []]),
        },
        "classes": {},
        "exports": {},
    }
    index = ProjectIndex.build([facts])
    assert set(index.blocking) == {"m.image_url", "m.to_content", "m.plain", "m.inline"}
    assert index.guards["m.to_content"][1] == ((("+inline",), ["to_content", "image_url", "requests.get"]),)
    assert index.guards["m.plain"][1] == ()  # no path runs: no call of it is reported
    assert "m.inline" not in index.guards  # every call runs the chain shown


def test_past_the_limit_of_paths_every_call_is_taken_to_block():
    blocking = [["ASL201", "time.sleep", [f"p{n}"]] for n in range(MAX_GUARDED_PATHS + 1)]
    many = {f"p{n}" for n in range(MAX_GUARDED_PATHS + 1)}
    facts = {
        "version": FACTS_VERSION,
        "functions": {
            "m.many": _function("many", blocking=blocking, signature=[sorted(many), []]),
            "m.few": _function("few", blocking=blocking[:2], signature=[["p0", "p1"], []]),
        },
        "classes": {},
        "exports": {},
    }
    index = ProjectIndex.build([facts])
    assert "m.many" not in index.guards
    assert len(index.guards["m.few"][1]) == 2
