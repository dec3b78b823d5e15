"""Property tests for fixes over generated variations, and --fix on a copy of examples/."""

from __future__ import annotations

import compileall
import json
import shutil
from pathlib import Path

import libcst as cst
import pytest
from click.testing import CliRunner
from fuzz_support import (
    CALL_CONTEXTS,
    CALL_SPELLINGS,
    check_safe_fixes_run,
    context_program,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from asynclint.cli import cli
from asynclint.config import Settings
from asynclint.engine import lint_text
from asynclint.fixer import fix_text

EXAMPLES = Path(__file__).parents[1] / "examples"

# Statements with a fix, each needing `import asyncio`, `time` or SQLAlchemy names.
FIXABLE = [
    "time.sleep({n})",
    "nap({n})",
    "await asyncio.gather(job({n}), job({n} + 1))",
    "results = await asyncio.gather(job({n}), job(2))",
    "await asyncio.wait_for(job({n}), timeout={n})",
    "value = await asyncio.wait_for(job({n}), {n})",
    "await session.commit()",
    "session.flush()",
]
MODULE_LEVEL = [
    'engine = create_async_engine("postgresql+asyncpg://db/{n}")',
    "factory = async_sessionmaker(engine)",
    'children = relationship("Child{n}")',
]
HEADERS = [
    "",
    '"""Module docstring."""\n',
    "from __future__ import annotations\n",
    '#!/usr/bin/env python\n"""Doc."""\nfrom __future__ import annotations\n',
]
IMPORTS = [
    "import time\n",
    "import time\nimport asyncio\n",
    "from time import sleep as nap\nimport time\n",
    "import time  # the clock\n",
]
SQLA = (
    "from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine\n"
    "from sqlalchemy.orm import relationship\n"
)
NOISE = ["", "  # a comment", "  # noqa: E501"]


@st.composite
def programs(draw):
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    indent = draw(st.sampled_from(["    ", "  ", "\t"]))
    lines = [draw(st.sampled_from(HEADERS)), draw(st.sampled_from(IMPORTS)), SQLA, "\n"]
    if "nap" not in lines[1]:
        lines.append("from time import sleep as nap\n")
    lines.append("async def job(n):\n" + indent + "return n\n\n")
    for n in range(draw(st.integers(0, 2))):
        lines.append(draw(st.sampled_from(MODULE_LEVEL)).format(n=n) + "\n")
    body = draw(st.lists(st.sampled_from(FIXABLE), min_size=1, max_size=5))
    lines.append("\nasync def handler(session: AsyncSession):\n")
    for i, statement in enumerate(body):
        noise = draw(st.sampled_from(NOISE))
        lines.append(indent + statement.format(n=i + 1) + noise + "\n")
    text = "".join(lines)
    return text.replace("\n", newline)


FIX_SETTINGS = Settings(select=("ASL101", "ASL104", "ASL201", "ASL301", "ASL303", "ASL304", "ASL503"))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs())
def test_fixes_parse_are_idempotent_and_remove_their_findings(text):
    fixable = [d for d in lint_text(text, "gen.py", FIX_SETTINGS).diagnostics if d.fix is not None]
    outcome = fix_text(text, "gen.py", FIX_SETTINGS, unsafe=True)
    assert not outcome.failures, outcome.failures
    cst.parse_module(outcome.text)
    compile(outcome.text, "gen.py", "exec")
    # Every fix applied (a fix can also make a new one possible, e.g. by importing asyncio).
    assert len(outcome.fixed) >= len(fixable)
    assert not [d for d in outcome.remaining if d.fix is not None]
    again = fix_text(outcome.text, "gen.py", FIX_SETTINGS, unsafe=True)
    assert again.text == outcome.text and not again.fixed
    # Line endings are kept: a CRLF file has no bare LF afterwards.
    if "\r\n" in text:
        assert "\n" not in outcome.text.replace("\r\n", "")
    assert outcome.text.count("import asyncio") <= 1 or text.count("import asyncio") >= 1


@pytest.mark.parametrize(
    "statement",
    ["results = await asyncio.gather(fetch(), fetch())", "await asyncio.wait_for(fetch(), 5)"],
)
def test_a_new_block_is_indented_without_the_form_feed_of_the_first_indented_line(statement):
    # LibCST takes a module's indentation unit from its first indented line, form feed and
    # all; a block a fix makes must not carry the form feed into the middle of a line.
    text = f"import asyncio\n\n\nasync def fetch():\n\f    return 1\n\n\nasync def run():\n    {statement}\n"
    outcome = fix_text(text, "ff.py", FIX_SETTINGS, unsafe=True)
    assert not outcome.failures and len(outcome.fixed) == 1
    compile(outcome.text, "ff.py", "exec")
    assert "\f    return 1\n" in outcome.text and outcome.text.count("\f") == 1
    assert "\n        " in outcome.text.split("async def run():")[1]  # the new block: 4 spaces in


def test_fix_examples_copy_leaves_only_unfixable_and_compiles(tmp_path):
    copy = tmp_path / "examples"
    shutil.copytree(EXAMPLES, copy, ignore=shutil.ignore_patterns(".asynclint_cache", "__pycache__"))
    runner = CliRunner()
    before = json.loads(runner.invoke(cli, ["check", "--no-cache", "--output-format", "json", str(copy)]).output)
    assert any(item["fix"] for item in before)
    fixed = runner.invoke(cli, ["check", "--no-cache", "--fix", "--unsafe-fixes", "--output-format", "json", str(copy)])
    assert fixed.exit_code == 1, fixed.output  # findings without a fix remain
    after = json.loads(fixed.output)
    assert after and not [item for item in after if item["fix"]]
    assert {item["code"] for item in before if not item["fix"]} == {item["code"] for item in after}
    assert compileall.compile_dir(str(copy), quiet=1, force=True)


@pytest.mark.parametrize("context", CALL_CONTEXTS)
@pytest.mark.parametrize("spelling", CALL_SPELLINGS, ids=lambda s: s[1])
def test_safe_fix_runs_in_every_expression_context(context, spelling):
    # The fixed module imports, and `main()` under asyncio.run returns what it did before
    # (or raises the same exception): a safe fix that compiles but breaks the program at
    # run time (an `await` turning a generator expression async) fails here.
    header, call = spelling
    check_safe_fixes_run(context_program(header, [context], call))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.sampled_from(CALL_CONTEXTS), min_size=1, max_size=4),
    st.sampled_from(CALL_SPELLINGS),
    st.sampled_from(["\n", "\r\n"]),
)
def test_safe_fixes_run_in_generated_programs(contexts, spelling, newline):
    header, call = spelling
    check_safe_fixes_run(context_program(header, contexts, call, newline))
