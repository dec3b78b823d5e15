"""Shared test helpers: settings for a fixture and running the engine on text."""

from __future__ import annotations

from pathlib import Path

from fixture_format import options

from asynclint.config import Settings, check_selectors, parse_target
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
