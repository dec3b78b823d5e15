"""Shared test helpers: settings for a fixture, running the engine on text, checking a fixture."""

from __future__ import annotations

from pathlib import Path

import libcst as cst
from fixture_format import Expected, expectations, options

from asynclint.config import Settings, check_selectors, parse_target
from asynclint.fixer import fix_text
from asynclint.pipeline import lint_source


def settings_for(text: str, default_code: str | None = None, **overrides) -> Settings:
    opts = options(text)
    values: dict = {}
    select = opts.get("select", default_code)
    if select:
        values["select"] = check_selectors(select.split(","), "test")
    if "target-version" in opts:
        values["target_version"] = parse_target(opts["target-version"], "test")
    if "session-types" in opts:
        values["session_types"] = tuple(opts["session-types"].split(","))
    if "extra-blocking-calls" in opts:
        pairs: dict[str, list[str]] = {}
        for item in opts["extra-blocking-calls"].split(","):
            code, _, name = item.partition(":")
            pairs.setdefault(code, []).append(name)
        values["extra_blocking_calls"] = tuple((c, tuple(n)) for c, n in sorted(pairs.items()))
    if "helper-file-io" in opts:
        values["helper_file_io"] = opts["helper-file-io"] == "true"
    if "project-analysis" in opts:
        values["project_analysis"] = opts["project-analysis"] == "true"
    # The fixtures live under tests/: checked as the code they stand for, unless one says
    # which of its paths are test code.
    values["test_files"] = tuple(opts["test-files"].split(",")) if "test-files" in opts else ()
    values.update(overrides)
    return Settings(**values)


def lint(text: str, code: str | None = None, path: str = "example.py", **overrides):
    """Findings for `text` as (row, col, code) tuples, with only `code` selected if given."""
    settings = settings_for(text, code, **overrides)
    result = lint_source(text, path, settings)
    assert not result.errors, result.errors
    return [(d.row, d.col, d.code) for d in result.diagnostics]


def fixture_path(code: str, name: str) -> Path:
    return Path(__file__).parent / "fixtures" / code / name


def unmatched(expected: list[Expected], got: list[tuple[int, int, str]]) -> tuple[list, list]:
    """(missing, extra): expectations no finding answers, and findings no expectation names.

    Each finding answers one expectation only, so `# error: ASL201` expects one finding on
    its line, not one or more; expectations with a column are paired first, so a bare one
    cannot take the finding a column-checked one needs.
    """
    unused = list(got)
    missing = []
    for e in sorted(expected, key=lambda e: e.col is None):
        for finding in unused:
            row, col, code = finding
            if row == e.row and code == e.code and (e.col is None or col == e.col):
                unused.remove(finding)
                break
        else:
            missing.append(e)
    return missing, unused


def check_fixture(path: Path) -> None:
    """Fail unless linting `path` reports exactly the findings marked inline in it."""
    text = path.read_text(encoding="utf-8")
    settings = settings_for(text, default_code=path.parent.name)
    result = lint_source(text, str(path), settings)
    assert not result.errors, "\n".join(e.detail for e in result.errors)
    got = [(d.row, d.col, d.code) for d in result.diagnostics]
    missing, extra = unmatched(expectations(text), got)
    assert not missing and not extra, (
        f"\nmissing (expected, not reported): {missing}\nextra (reported, not expected): {extra}"
    )


def check_fix_fixture(path: Path) -> None:
    """Fail unless `--fix --unsafe-fixes` on `path` gives its `.fixed.py` (when it has one),
    parses, fails no fix, and is final: a second run changes nothing.

    A fixture named `fix_*.py` is about its fix, so its `.fixed.py` must exist.
    """
    text = path.read_text(encoding="utf-8")
    settings = settings_for(text, default_code=path.parent.name)
    outcome = fix_text(text, str(path), settings, unsafe=True)
    assert not outcome.failures, outcome.failures
    fixed = path.with_name(path.stem + ".fixed.py")
    if path.name.startswith("fix_"):
        assert fixed.exists(), f"{fixed.name} is missing: a fix_ fixture names its expected output"
    if fixed.exists():
        assert outcome.text == fixed.read_text(encoding="utf-8")
    cst.parse_module(outcome.text)
    again = fix_text(outcome.text, str(path), settings, unsafe=True)
    assert again.text == outcome.text and not again.fixed
    assert not [d for d in again.remaining if d.fix is not None]
