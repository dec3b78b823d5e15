"""Every fixture file: the findings are exactly the ones marked inline."""

from __future__ import annotations

import pytest
from fixture_format import expectations, fixture_files
from helpers import settings_for

from asynclint.pipeline import lint_source


@pytest.mark.parametrize("path", fixture_files(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_fixture_findings(path):
    text = path.read_text(encoding="utf-8")
    settings = settings_for(text, default_code=path.parent.name)
    result = lint_source(text, str(path), settings)
    assert not result.errors, "\n".join(e.detail for e in result.errors)

    expected = expectations(text)
    got = [(d.row, d.col, d.code) for d in result.diagnostics]
    missing = [
        e
        for e in expected
        if not any(row == e.row and code == e.code and (e.col is None or col == e.col) for row, col, code in got)
    ]
    extra = [
        g
        for g in got
        if not any(g[0] == e.row and g[2] == e.code and (e.col is None or g[1] == e.col) for e in expected)
    ]
    assert len(got) == len(expected) and not missing and not extra, (
        f"\nmissing (expected, not reported): {missing}\nextra (reported, not expected): {extra}"
    )


def test_every_rule_has_fixtures():
    from asynclint.registry import rule_modules

    folders = {p.parent.name for p in fixture_files()}
    assert set(rule_modules()) <= folders, sorted(set(rule_modules()) - folders)
