"""`asynclint check --add-noqa`: silences today's findings without changing what the code means."""

from __future__ import annotations

import ast
import os
import stat
import sys
import textwrap

import pytest
from click.testing import CliRunner
from fixture_format import fixture_files

from asynclint import noqa
from asynclint.add_noqa import add_noqa_to_text
from asynclint.cli import cli

BAD = """\
import time


async def handler():
    time.sleep(1)
    time.sleep(2)  # type: ignore[misc]
    time.sleep(3)  # noqa: E501
    time.sleep(4)  # noqa:E501,W291 keep this explanation
    time.sleep(5)   \t
"""

EXPECTED = """\
import time


async def handler():
    time.sleep(1)  # noqa: ASL201
    time.sleep(2)  # type: ignore[misc]  # noqa: ASL201
    time.sleep(3)  # noqa: E501, ASL201
    time.sleep(4)  # noqa:E501, W291, ASL201 keep this explanation
    time.sleep(5)  # noqa: ASL201
"""


def check(*args: str):
    return CliRunner().invoke(cli, ["check", "--no-cache", *args])


@pytest.fixture
def project(tmp_path, monkeypatch):
    (tmp_path / "pyproject.toml").write_text("[tool.asynclint]\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_adds_and_merges_comments_then_check_passes(project):
    (project / "app.py").write_text(BAD, encoding="utf-8")
    assert check("--output-format", "concise", "app.py").exit_code == 1
    result = check("--add-noqa", "app.py")
    assert result.exit_code == 0, result.output
    assert "Added 5 noqa directives in 1 file." in result.stderr
    assert (project / "app.py").read_text(encoding="utf-8") == EXPECTED
    # Other tools' codes in the merged comments still work for flake8 and for asynclint.
    lines = EXPECTED.splitlines()
    assert noqa.line_suppresses(lines[6], "E501") and noqa.line_suppresses(lines[7], "W291")
    after = check("--output-format", "concise", "app.py")
    assert after.exit_code == 0 and "All checks passed!" in after.stdout
    # A second run has nothing left to do and does not touch the file.
    mtime = os.stat(project / "app.py").st_mtime_ns
    again = check("--add-noqa", "app.py")
    assert again.exit_code == 0 and "Added 0 noqa directives." in again.stderr
    assert os.stat(project / "app.py").st_mtime_ns == mtime


def test_keeps_line_endings_bom_and_encoding(project):
    crlf = BAD.replace("\n", "\r\n").encode("utf-8")
    (project / "crlf.py").write_bytes(crlf)
    mixed = b"import time\r\n\nasync def f():\r    time.sleep(1)\r\n    x = 1\n"
    (project / "mixed.py").write_bytes(mixed)
    bom = "\ufeff" + BAD
    (project / "bom.py").write_bytes(bom.encode("utf-8"))
    latin = "# -*- coding: latin-1 -*-\nimport time\n\n\nasync def f():\n    time.sleep(1)  # café\n"
    (project / "latin.py").write_bytes(latin.encode("latin-1"))

    result = check("--add-noqa", ".")
    assert result.exit_code == 0, result.output

    assert (project / "crlf.py").read_bytes() == EXPECTED.replace("\n", "\r\n").encode("utf-8")
    assert (project / "mixed.py").read_bytes() == (
        b"import time\r\n\nasync def f():\r    time.sleep(1)  # noqa: ASL201\r\n    x = 1\n"
    )
    assert (project / "bom.py").read_bytes() == ("\ufeff" + EXPECTED).encode("utf-8")
    assert (project / "latin.py").read_bytes() == latin.replace("# café", "# café  # noqa: ASL201").encode("latin-1")
    assert check("--output-format", "concise", ".").exit_code == 0


MULTILINE = '''\
import time


async def handler():
    time.sleep(len("""
    text
    """))
    time.sleep(1) or \\
        None
    value = time.sleep(
        1,
    )
'''


def test_never_writes_into_a_string_or_after_a_continuation(project):
    (project / "app.py").write_text(MULTILINE, encoding="utf-8")
    before = check("--output-format", "concise", "app.py").stdout
    assert "app.py:5:5: ASL201" in before and "app.py:8:5: ASL201" in before
    result = check("--add-noqa", "app.py")
    assert result.exit_code == 0, result.output
    assert "app.py:5: no noqa comment added: the line ends inside a string" in result.stderr
    assert "app.py:8: no noqa comment added" in result.stderr
    assert "Added 1 noqa directive in 1 file." in result.stderr
    text = (project / "app.py").read_text(encoding="utf-8")
    assert text == MULTILINE.replace("value = time.sleep(\n", "value = time.sleep(  # noqa: ASL201\n")
    assert ast.dump(ast.parse(text)) == ast.dump(ast.parse(MULTILINE))
    remaining = check("--output-format", "concise", "app.py").stdout
    assert "app.py:5:5" in remaining and "app.py:8:5" in remaining and "app.py:10:" not in remaining


def test_several_codes_on_one_line():
    text = "x = f(g())\ny = 1  # noqa: E1\n"
    new, added, skipped = add_noqa_to_text(text, {1: {"ASL202", "ASL201"}, 2: {"ASL203"}})
    assert new == "x = f(g())  # noqa: ASL201, ASL202\ny = 1  # noqa: E1, ASL203\n"
    assert (added, skipped) == (3, [])


def test_noqa_like_text_in_a_string_is_not_taken_for_a_comment():
    text = 'x = "# noqa: E1"; y = f()\n'
    new, added, _ = add_noqa_to_text(text, {1: {"ASL201"}})
    assert new == 'x = "# noqa: E1"; y = f()  # noqa: ASL201\n'
    assert added == 1


def test_line_that_is_the_end_of_a_multiline_string_can_take_a_comment():
    text = 'x = """\nabc\n"""; f()\n'
    new, _, skipped = add_noqa_to_text(text, {1: {"ASL201"}, 2: {"ASL201"}, 3: {"ASL201"}})
    assert new == 'x = """\nabc\n"""; f()  # noqa: ASL201\n'
    assert [row for row, _ in skipped] == [1, 2]


def test_untokenizable_text_is_left_alone():
    text = 'x = """never closed\n'
    new, added, skipped = add_noqa_to_text(text, {1: {"ASL201"}})
    assert (new, added) == (text, 0)
    assert [row for row, _ in skipped] == [1]


def _every_row(text: str) -> dict[int, set[str]]:
    return {row: {"ASL201"} for row in range(1, text.count("\n") + 2)}


@pytest.mark.parametrize("path", fixture_files(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_a_comment_on_every_possible_line_never_changes_the_syntax_tree(path):
    text = path.read_text(encoding="utf-8")
    try:
        tree = ast.dump(ast.parse(text))
    except SyntaxError:
        pytest.skip("fixture does not parse with this Python")
    new, _added, skipped = add_noqa_to_text(text, _every_row(text))
    assert ast.dump(ast.parse(new)) == tree
    # Every line that got a comment now suppresses the code for the engine's noqa reader.
    skipped_rows = {row for row, _ in skipped}
    for row, line in enumerate(new.splitlines(), start=1):
        if row not in skipped_rows:
            assert noqa.line_suppresses(line, "ASL201"), (row, line)


TRICKY = textwrap.dedent('''\
    s = f"""a {
        1 + 1
    } b"""
    t = ("x"
         "y")  # trailing
    u = rb'\\
    '
    def g(a,
          b=[1,
             2]):
        return a \\
            + b
    class C: pass
    w = 1;
    ''')


def test_tricky_syntax_keeps_its_meaning():
    new, _, skipped = add_noqa_to_text(TRICKY, _every_row(TRICKY))
    assert ast.dump(ast.parse(new)) == ast.dump(ast.parse(TRICKY))
    rows = {row for row, _ in skipped}
    assert rows >= {6, 11}  # a string continued with a backslash; a line continuation
    if sys.version_info < (3, 12):  # one STRING token; 3.12 tokenizes f-string fields (comments allowed)
        assert rows >= {1, 2}


def test_atomic_write_keeps_mode_and_symlink(project):
    target = project / "real.py"
    target.write_text(BAD, encoding="utf-8")
    os.chmod(target, 0o640)
    (project / "link.py").symlink_to(target)
    result = check("--add-noqa", "link.py")
    assert result.exit_code == 0, result.output
    assert (project / "link.py").is_symlink()
    assert target.read_text(encoding="utf-8") == EXPECTED
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o640
    assert sorted(p.name for p in project.iterdir()) == ["link.py", "pyproject.toml", "real.py"]


def test_syntax_errors_are_not_silenced_and_fix_is_refused(project):
    (project / "broken.py").write_text("def f(:\n", encoding="utf-8")
    result = check("--add-noqa", "broken.py")
    assert result.exit_code == 0
    assert (project / "broken.py").read_text(encoding="utf-8") == "def f(:\n"
    refused = check("--add-noqa", "--fix", "broken.py")
    assert refused.exit_code == 2 and "--add-noqa cannot be combined" in refused.stderr
