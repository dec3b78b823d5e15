"""The rule catalogue agrees with the code: every rule's page, the index of pages, the README's
list and `examples/EXPECTED.md` are tied to the rules themselves, so adding or changing a rule
that forgets one of them fails here instead of misleading a user."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from asynclint import registry

REPO = Path(__file__).resolve().parents[1]
PAGES = REPO / "rules"
SECTIONS = (
    "## What it does",
    "## Why is this bad?",
    "## Example",
    "## Use instead",
    "## Fix safety",
    "## How to silence",
)
CODES = registry.all_codes()


def rule_facts(code: str) -> tuple[str, str]:
    """(name, fix applicability) as the code defines them."""
    if code in registry.ENGINE_CODES:
        return registry.ENGINE_CODES[code][0], registry.ENGINE_FIXES.get(code, "none")
    rule = registry.load_rule(code)
    return rule.name, rule.fix_applicability or "none"


@pytest.mark.parametrize("code", CODES)
def test_every_rule_has_a_page_that_matches_it(code):
    page = (PAGES / f"{code}.md").read_text(encoding="utf-8")
    name, fix = rule_facts(code)
    assert page.startswith(f"# {code} {name}\n"), page.splitlines()[0]
    assert re.search(rf"^\*\*Fix:\*\* {fix}\b", page, re.MULTILINE), f"{code}: the page's Fix line is not {fix}"
    assert ("**Opt-in:**" in page) == (code in registry.OPT_IN), f"{code}: the page and OPT_IN disagree"
    silent = "- Test code (setting `test-files`" in page.partition("## Not flagged\n")[2].partition("\n## ")[0]
    assert silent == (code in registry.NOT_IN_TESTS), f"{code}: the page and NOT_IN_TESTS disagree"
    positions = [page.find(section + "\n") for section in SECTIONS]
    assert all(p >= 0 for p in positions), [s for s, p in zip(SECTIONS, positions, strict=True) if p < 0]
    assert positions == sorted(positions), "sections out of order"


def test_project_analysis_rules_say_they_need_it():
    from asynclint.project import BLOCKING_CODES

    for code in BLOCKING_CODES:
        assert "project analysis" in (PAGES / f"{code}.md").read_text(encoding="utf-8").split("## Why", 1)[0]


def test_the_registrys_tables_are_what_the_rules_declare():
    # The registry spells them out so that choosing what to run imports no rule; each rule
    # carries the same facts about itself.
    rules = [registry.load_rule(code) for code in registry.rule_modules()]
    families: dict[str, set[str]] = {}
    for rule in rules:
        if rule.index_family is not None:
            families.setdefault(rule.index_family, set()).add(rule.code)
    assert families == {family: set(codes) for family, codes in registry.INDEX_FAMILIES.items()}
    assert tuple(sorted(r.code for r in rules if getattr(r, "feeds_chains", False))) == registry.CHAIN_CODES
    assert tuple(sorted(r.code for r in rules if getattr(r, "accepts_extra_calls", False))) == registry.EXTRA_CALL_CODES


def test_no_page_without_a_rule():
    pages = {p.stem for p in PAGES.glob("ASL*.md")}
    assert pages == set(CODES)


def test_the_index_of_pages_lists_every_rule_as_the_code_does():
    rows = {}
    for line in (PAGES / "README.md").read_text(encoding="utf-8").splitlines():
        match = re.match(r"\| \[(ASL\d{3})\]\(\1\.md\) \| ([\w-]+) \| (\w+) \|", line)
        if match:
            rows[match.group(1)] = (match.group(2), match.group(3))
    assert rows == {code: rule_facts(code) for code in CODES}


def test_the_readme_names_every_rule():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    rules_section = readme.split("## Rules", 1)[1].split("\n## ", 1)[0]
    missing = [code for code in CODES if code not in registry.ENGINE_CODES and code not in rules_section]
    assert not missing
    count = len([code for code in CODES if code not in registry.ENGINE_CODES])
    assert f"{count} rules" in rules_section


def test_examples_expected_is_what_check_reports():
    expected_md = (REPO / "examples" / "EXPECTED.md").read_text(encoding="utf-8")
    rows = {
        (match.group(1), int(match.group(2)), int(match.group(3)), match.group(4))
        for match in re.finditer(r"^\| (\S+\.py) \| (\d+) \| (\d+) \| (ASL\d{3}) \|", expected_md, re.MULTILINE)
    }
    done = subprocess.run(
        [sys.executable, "-m", "asynclint", "check", "--no-cache", "--output-format", "json", "."],
        capture_output=True,
        text=True,
        cwd=REPO / "examples",
    )
    found = {
        (
            Path(d["filename"]).resolve().relative_to((REPO / "examples").resolve()).as_posix(),
            d["location"]["row"],
            d["location"]["column"],
            d["code"],
        )
        for d in json.loads(done.stdout)
    }
    assert found == rows
    assert f"There are {len(rows)} findings" in expected_md
    covered = sorted({code for *_, code in rows})
    assert f"Codes covered ({len(covered)}): {', '.join(covered)}." in expected_md


def test_the_readmes_first_example_is_what_check_prints():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    example = readme.split("```console\n$ cd examples && asynclint check shop/\n", 1)[1].split("```", 1)[0]
    done = subprocess.run(
        [sys.executable, "-m", "asynclint", "check", "--no-cache", "--color", "never", "shop/"],
        capture_output=True,
        text=True,
        cwd=REPO / "examples",
    )
    printed = done.stdout
    # The example shows two of the findings, each as printed, and the closing lines.
    for block in example.strip().split("\n\n"):
        assert block in printed, block
