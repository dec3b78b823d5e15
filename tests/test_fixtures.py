"""Every fixture file: the findings are exactly the ones marked inline.

The meta-tests below run the same checks on temporary fixtures, to prove the runner fails
on a missed expectation, an unmarked finding and a wrong or missing `.fixed.py`.
"""

from __future__ import annotations

import pytest
from fixture_format import Expected, fixture_files
from helpers import check_fix_fixture, check_fixture, unmatched


@pytest.mark.parametrize("path", fixture_files(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_fixture_findings(path):
    check_fixture(path)


def test_every_rule_has_fixtures():
    from asynclint.registry import rule_modules

    folders = {p.parent.name for p in fixture_files()}
    assert set(rule_modules()) <= folders, sorted(set(rule_modules()) - folders)


SLEEP = "import time\n\n\nasync def f():\n    time.sleep(1){mark}\n"


def _fixture(tmp_path, text, name="case.py", code="ASL201"):
    folder = tmp_path / code
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_runner_passes_a_fixture_whose_marks_match(tmp_path):
    check_fixture(_fixture(tmp_path, SLEEP.format(mark="  # error: ASL201:5")))


@pytest.mark.parametrize(
    ("mark", "complaint"),
    [
        ("", "extra (reported, not expected): [(5, 5, 'ASL201')]"),  # unmarked finding
        ("  # error: ASL202", "missing (expected, not reported): [Expected(row=5, code='ASL202'"),
        ("  # error: ASL201:9", "missing (expected, not reported): [Expected(row=5, code='ASL201', col=9)]"),
        ("  # error: ASL201, ASL201", "missing (expected, not reported): [Expected(row=5, code='ASL201'"),
    ],
    ids=["unmarked", "wrong-code", "wrong-column", "expected-twice"],
)
def test_runner_fails_when_marks_and_findings_differ(tmp_path, mark, complaint):
    path = _fixture(tmp_path, SLEEP.format(mark=mark))
    with pytest.raises(AssertionError) as failure:
        check_fixture(path)
    assert complaint in str(failure.value)


def test_runner_fails_when_an_expected_line_reports_nothing(tmp_path):
    path = _fixture(tmp_path, "x = 1  # error: ASL201\n")
    with pytest.raises(AssertionError, match=r"missing .*Expected\(row=1, code='ASL201', col=None\)"):
        check_fixture(path)


def test_one_finding_answers_one_expectation():
    finding = (5, 5, "ASL201")
    bare, at_5 = Expected(5, "ASL201", None), Expected(5, "ASL201", 5)
    assert unmatched([bare], [finding, finding]) == ([], [finding])
    # The column-checked expectation is paired first, whatever the written order.
    assert unmatched([bare, at_5], [finding, (5, 9, "ASL201")]) == ([], [])
    assert unmatched([bare, at_5], [(5, 9, "ASL201")]) == ([at_5], [])


FIXED = "import asyncio\n\n\nasync def f():\n    await asyncio.sleep(1)  # error: ASL201\n"


def test_fix_runner_passes_a_matching_fixed_file(tmp_path):
    path = _fixture(tmp_path, SLEEP.format(mark="  # error: ASL201"), name="fix_case.py")
    _fixture(tmp_path, FIXED, name="fix_case.fixed.py")
    check_fix_fixture(path)


def test_fix_runner_fails_when_the_fixed_file_differs(tmp_path):
    path = _fixture(tmp_path, SLEEP.format(mark="  # error: ASL201"), name="fix_case.py")
    _fixture(tmp_path, FIXED.replace("sleep(1)", "sleep(2)"), name="fix_case.fixed.py")
    with pytest.raises(AssertionError):
        check_fix_fixture(path)


def test_fix_runner_fails_when_a_fix_fixture_has_no_fixed_file(tmp_path):
    path = _fixture(tmp_path, SLEEP.format(mark="  # error: ASL201"), name="fix_case.py")
    with pytest.raises(AssertionError, match=r"fix_case\.fixed\.py is missing"):
        check_fix_fixture(path)
