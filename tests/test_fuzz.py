"""Fuzzing: the engine never raises, findings are well-formed, and --fix never corrupts.

Inputs: programs from hypothesmith (grammar- and LibCST-node-based), async backend modules
assembled from building blocks (fuzz_support.backend_programs), and mutations of the real
fixture files. The invariants are in fuzz_support.check_lint / check_fix.

The fast profile runs with the normal test suite (derandomized under CI, so that a run is
reproducible). The long profile: `ASYNCLINT_FUZZ_EXAMPLES=2000 pytest tests/test_fuzz.py`
(see CONTRIBUTING.md).
"""

from __future__ import annotations

import os

import hypothesmith
import pytest
from fuzz_support import (
    PATH,
    SETTINGS,
    backend_programs,
    check_fix,
    check_lint,
    cpython_parses,
    cst_parses,
    examples,
    fixture_files,
    long_profile,
    mutate,
)
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from asynclint.config import Settings
from asynclint.engine import lint_text
from asynclint.fixer import fix_text

# hypothesmith's generated programs make CPython warn ("'str' object is not callable"...).
pytestmark = pytest.mark.filterwarnings("ignore::SyntaxWarning")

# The engine raises the recursion limit when it first runs; do that now, not inside a test,
# or Hypothesis warns that the limit changed under it.
lint_text("", PATH, SETTINGS)


def fuzz(fast: int):
    return settings(
        max_examples=examples(fast),
        deadline=None,
        # Under CI the fast profile is the same every run: a failure there is reproducible and
        # never a coin toss on someone else's change. Locally and in the long profile, random.
        derandomize=bool(os.environ.get("CI")) and not long_profile(),
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.filter_too_much,
            HealthCheck.large_base_example,
        ],
        print_blob=True,
    )


def _record(text: str, outcome) -> None:
    event("parses" if cst_parses(text) else "does not parse")
    event(f"fixed {min(len(outcome.fixed), 3)}{'+' if len(outcome.fixed) >= 3 else ''}")
    for code in sorted({d.code for d in outcome.fixed}):
        event(f"fixed {code}")


# Other settings the rules and fixes must survive: an older target turns the 3.11 rules off.
VARIANTS = st.sampled_from(
    [
        SETTINGS,
        Settings(target_version=(3, 10)),
        Settings(target_version=(3, 13)),
        Settings(select=("ASL2", "ASL3"), ignore=("ASL304",)),
    ]
)


@fuzz(60)
@given(hypothesmith.from_grammar())
def test_grammar_programs(text):
    outcome = check_fix(text)
    _record(text, outcome)


@fuzz(15)
@given(hypothesmith.from_node())
def test_node_programs(text):
    outcome = check_fix(text)
    _record(text, outcome)


@fuzz(100)
@given(backend_programs())
def test_backend_programs(text):
    outcome = check_fix(text)
    _record(text, outcome)


@fuzz(25)
@given(backend_programs(), VARIANTS)
def test_backend_programs_other_settings(text, variant):
    check_fix(text, variant)


FIXTURE_TEXTS = {path: path.read_text(encoding="utf-8") for path in fixture_files()}


@fuzz(80)
@given(st.sampled_from(sorted(FIXTURE_TEXTS)).flatmap(lambda path: mutate(FIXTURE_TEXTS[path])))
def test_mutated_fixtures(text):
    # Syntax errors are ASL001 findings, and what still parses is fixed without corruption.
    outcome = check_fix(text)
    _record(text, outcome)


@fuzz(40)
@given(backend_programs().flatmap(mutate))
def test_mutated_backend_programs(text):
    check_fix(text)


# Bugs found by fuzzing, fixed; each kept as a regression test. A new known bug goes here as a
# strict xfail (an XPASS failure once fixed), with its allowance in fuzz_support, marked
# "KNOWN BUG", that goes once it is fixed.


def test_fix_kept_when_its_import_makes_same_code_resolvable():
    # The fix's `import asyncio` makes the second `asyncio.gather` (unresolvable before)
    # an ASL101: a new finding, not the fixed one left behind.
    text = (
        "import asyncio as aio\n\nasync def h():\n    await aio.gather(f(), g())\n    await asyncio.gather(f(), g())\n"
    )
    outcome = fix_text(text, PATH, SETTINGS, unsafe=True)
    assert not outcome.failures
    assert [d.code for d in outcome.fixed] == ["ASL101", "ASL101"]
    assert "gather" not in outcome.text and outcome.text.count("asyncio.TaskGroup()") == 2
    check_fix(text)


def test_fix_that_leaves_its_finding_is_still_dropped(monkeypatch):
    # The verification still catches a fix that parses but does not remove its finding.
    from asynclint import fixes

    def broken(spec, module, statement=None, first_row=None, locator=None):
        # `time.sleep(1)` -> `time.sleep(1)  # fixed`
        return fixes.Fix(spec.applicability, spec.message, (fixes.Edit("  # fixed", 4, 18, 4, 18),))

    monkeypatch.setattr(fixes, "build_fix", broken)
    text = "import time\n\nasync def f():\n    time.sleep(1)\n"
    outcome = fix_text(text, PATH, SETTINGS)
    assert outcome.text == text and not outcome.fixed
    assert outcome.failures == [
        f"{PATH}:4:5: the fix for ASL201 was not applied (it would not parse or would not remove its finding)"
    ]


def test_syntax_error_where_cpython_places_it():
    text = "import asyncio\n\n\n    return n\n\n\nx = 1\n"
    [finding] = lint_text(text, PATH, SETTINGS).diagnostics
    assert (finding.code, finding.message) == ("ASL001", "IndentationError: unexpected indent")
    assert finding.row == 4 and 1 <= finding.col <= len("    return n") + 1
    check_fix(text)


@pytest.mark.parametrize("text", ["x = (\n", "def f(:", "x = 1 +\\", "async def f():\n    x = '''\n\n", "x = 1\n\n)\n"])
def test_syntax_error_is_inside_the_text(text):
    [finding] = lint_text(text, PATH, SETTINGS).diagnostics
    lines = text.splitlines()
    assert finding.code == "ASL001" and 1 <= finding.row <= len(lines), finding
    assert finding.col <= len(lines[finding.row - 1]) + 1, finding
    check_lint(text)


def test_lone_surrogate_is_asl002():
    text = "import time\nasync def f():\n    time.sleep('\udc80')\n"
    result = lint_text(text, PATH, SETTINGS)
    assert not result.errors
    assert [(d.code, d.row, d.col) for d in result.diagnostics] == [("ASL002", 3, 17)]
    assert "U+DC80" in result.diagnostics[0].message
    check_fix(text)


def test_positions_after_a_lone_backslash_line():
    # LibCST leaves a line holding only a backslash out of the module; positions are mapped
    # back to the text's rows, and fixes (edits of LibCST's rendering) are not offered.
    text = "import httpx\n\n\\\nasync def f():\n    pass\n\nasync def g(url):\n    client = httpx.Client()\n"
    [finding] = lint_text(text, PATH, SETTINGS).diagnostics
    assert (finding.code, finding.row, finding.col) == ("ASL502", 8, 14)
    text = "import time\n\\\nasync def f():\n    x = 1\n    \\\n    time.sleep(1)\n"
    [finding] = lint_text(text, PATH, SETTINGS).diagnostics
    assert (finding.code, finding.row, finding.col, finding.fix) == ("ASL201", 6, 5, None)
    check_fix(text)


def test_fix_at_end_of_file_without_final_newline():
    text = "import asyncio\n\nasync def f():\n    try:\n        await work()\n    except asyncio.CancelledError:\n        log()"
    outcome = fix_text(text, PATH, SETTINGS, unsafe=True)
    assert not outcome.failures
    assert outcome.text.endswith("        log()\n        raise\n")
    check_fix(text)
    # A fix inside the last line keeps the file without a final newline.
    text = "import asyncio\nimport time\n\nasync def f():\n    time.sleep(1)"
    outcome = fix_text(text, PATH, SETTINGS)
    assert outcome.text.endswith("\n    await asyncio.sleep(1)")
    check_fix(text)


def test_no_asl001_when_cpython_accepts_and_no_rule_can_match():
    # Found by test_grammar_programs: CPython 3.10 and 3.11 accept a last line holding only
    # a backslash (3.12 does not), LibCST does not. No rule can match this text, so the
    # engine needs no parse, and there is nothing to report.
    text = "\n\\\r\n"
    found = [(d.code, d.row) for d in lint_text(text, PATH, SETTINGS).diagnostics]
    assert found == ([] if cpython_parses(text) else [("ASL001", 2)])
    check_fix(text)


def test_asl001_says_when_only_libcst_cannot_parse():
    # CPython accepts a lone backslash line before `else:`, LibCST does not. A rule could
    # match, so the engine parses, and says it is the parser's limit, not a syntax error.
    text = "import time\n\nasync def f():\n    time.sleep(1)\n\nif x:\n    pass\n\\\nelse:\n    pass\n"
    assert cpython_parses(text) and not cst_parses(text)
    [finding] = lint_text(text, PATH, SETTINGS).diagnostics
    assert finding.code == "ASL001"
    assert finding.message.startswith("cannot parse: syntax not supported by the parser (LibCST ")
    check_fix(text)


def test_positions_after_a_backslash_line_and_a_blank_line():
    # Found by test_mutated_backend_programs: `\` then a blank line is one of LibCST's empty
    # lines (its whitespace holds the backslash and a line ending) but takes two rows.
    text = "import time\n\\\n\n@decorator\nasync def f():\n    time.sleep(1)\n"
    [finding] = lint_text(text, PATH, SETTINGS).diagnostics
    assert (finding.code, finding.row, finding.col) == ("ASL201", 6, 5)
    outcome = fix_text(text, PATH, SETTINGS)
    # (`import time`, left unused by the fix, goes.)
    assert outcome.text == "import asyncio\n" + text.replace("import time\n", "").replace(
        "time.sleep(1)", "await asyncio.sleep(1)"
    )
    check_fix(text)


@pytest.mark.parametrize(
    "text, row",
    [
        # CPython: `return conn` is in the function, after the `with`; LibCST: in the `with`.
        (
            "import psycopg\n\nasync def f(dsn):\n    with psycopg.connect(dsn) as pg:\n        pg.execute('x')\n\\\n"
            "    return conn\n",
            6,
        ),
        # CPython: `engine = ...` is at module level; LibCST: in the function (an ASL502).
        (
            "import httpx\n\nasync def handler():\n    for item in items:\n        fetch(item)\n\\\n"
            "engine = httpx.AsyncClient()",
            6,
        ),
    ],
)
def test_asl001_when_libcst_misreads_a_backslash_line(text, row):
    # Found by test_mutated_fixtures: before a change of indentation, LibCST re-indents the
    # line after a lone backslash into the block above; its tree is not the program.
    assert cpython_parses(text) and cst_parses(text)
    [finding] = lint_text(text, PATH, SETTINGS).diagnostics
    assert (finding.code, finding.row, finding.col) == ("ASL001", row, 1)
    assert "misreads a line holding only a backslash" in finding.message
    check_fix(text)


@pytest.mark.parametrize(
    "text, where",
    [
        # Found by test_mutated_fixtures: LibCST leaves out the indentation up to a form feed.
        ("\fimport time\nasync def handler():\n    a = 1; time.sleep(1)", (3, 12)),
        ("import time\n \fasync def f(): time.sleep(1)\n", (2, 18)),
        ("import time\nasync def f():\n\f    time.sleep(1)\n", (3, 6)),
        # ... and a last line holding only `\r`.
        ("import time\r\nasync def f():\r\n    time.sleep(1)\r\n\r", (3, 5)),
    ],
)
def test_positions_where_libcst_leaves_out_characters(text, where):
    [finding] = lint_text(text, PATH, SETTINGS).diagnostics
    assert (finding.code, (finding.row, finding.col)) == ("ASL201", where)
    check_fix(text)


def test_text_starting_with_a_byte_order_mark():
    # Found by test_mutated_fixtures: CPython refuses a `\ufeff` in a str (a file's BOM is
    # gone once decoded), LibCST leaves it out. The findings are on the right columns.
    text = "\ufeffimport time\nasync def f(): time.sleep(1)\n"
    [finding] = lint_text(text, PATH, SETTINGS).diagnostics
    assert (finding.code, finding.row, finding.col) == ("ASL201", 2, 16)
    text = "\ufeffasync def f(): time.sleep(1)\nimport time\n"
    [finding] = lint_text(text, PATH, SETTINGS).diagnostics
    assert (finding.code, finding.row, finding.col) == ("ASL201", 1, 17)
    check_fix(text)
    assert lint_text("\ufeff", PATH, SETTINGS).diagnostics == []
