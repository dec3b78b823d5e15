"""The token prefilter (`Rule.wants`) only ever skips files a rule cannot match.

A fixture file as a whole contains every rule's tokens, so the fixture tests alone would
not notice a prefilter that is too strict. Here each top-level statement of every fixture
is linted as a module of its own (with the fixture's imports): the findings must be the
same with the prefilter as without it.
"""

from __future__ import annotations

import ast

import pytest
from fixture_format import expectations, fixture_files
from helpers import settings_for

from asynclint import registry
from asynclint.pipeline import lint_source


def _snippets(text: str) -> list[str]:
    tree = ast.parse(text)
    lines = text.splitlines(keepends=True)

    def source(node) -> str:
        start = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", ()))])
        return "".join(lines[start - 1 : node.end_lineno])

    imports = "".join(source(node) for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom)))
    return [imports + source(node) for node in tree.body if not isinstance(node, (ast.Import, ast.ImportFrom))]


def _findings(text: str, settings) -> list[tuple[int, int, str]]:
    return [(d.row, d.col, d.code) for d in lint_source(text, "snippet.py", settings).diagnostics]


@pytest.mark.parametrize(
    "path",
    [p for p in fixture_files() if not p.name.endswith(".fixed.py")],
    ids=lambda p: f"{p.parent.name}/{p.name}",
)
def test_prefilter_never_skips_a_finding(path, monkeypatch):
    text = path.read_text(encoding="utf-8")
    settings = settings_for(text, default_code=path.parent.name)
    snippets = _snippets(text)
    filtered = [_findings(snippet, settings) for snippet in snippets]
    for code in registry.rule_modules():
        monkeypatch.setattr(registry.load_rule(code), "wants", classmethod(lambda cls, text, settings: True))
    unfiltered = [_findings(snippet, settings) for snippet in snippets]
    for snippet, with_prefilter, without in zip(snippets, filtered, unfiltered, strict=True):
        assert with_prefilter == without, f"the prefilter skipped a finding in:\n{snippet}"


def test_the_statements_on_their_own_do_find_things():
    # Else the test above would compare empty lists and prove nothing. Some fixtures'
    # findings need a statement from elsewhere in the file (a module-level binding).
    marked = found = 0
    for path in fixture_files():
        text = path.read_text(encoding="utf-8")
        if path.name.endswith(".fixed.py") or not expectations(text):
            continue
        marked += 1
        settings = settings_for(text, default_code=path.parent.name)
        found += any(_findings(snippet, settings) for snippet in _snippets(text))
    assert found >= 0.8 * marked, (found, marked)


def test_a_module_without_an_async_def_has_no_async_code_to_parse_for():
    # `import asyncio` alone is no async code: the async-code rules skip the module unparsed.
    # `async` and `def` may stand apart, across a line continuation too.
    from asynclint.knowledge import has_async_def

    assert not has_async_def("import asyncio, time\n\ndef f():\n    time.sleep(1)\n    asyncio.run(g())\n")
    continued = "import time\n\nasync \\\n    def f():\n    time.sleep(1)\n"
    ast.parse(continued)
    assert has_async_def(continued) and has_async_def("async  def f(): pass")
    settings = settings_for(continued, default_code="ASL201")
    assert [(d.row, d.code) for d in lint_source(continued, "snippet.py", settings).diagnostics] == [(5, "ASL201")]
