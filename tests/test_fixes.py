"""Fixes: expected output per fixture, idempotence, byte preservation, encodings, writes."""

from __future__ import annotations

import os
import stat

import pytest
from click.testing import CliRunner
from fixture_format import FIXTURES, fixture_files
from helpers import check_fix_fixture

from asynclint import atomic
from asynclint.atomic import WriteRefused, write_atomic
from asynclint.cli import cli
from asynclint.config import Settings
from asynclint.diagnostics import Edit
from asynclint.fixer import apply_edits, fix_text


@pytest.mark.parametrize("path", fixture_files(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_fix_fixture(path):
    # Every fixture, not only those with a `.fixed.py`: the others must still fix cleanly.
    check_fix_fixture(path)


def test_every_fixed_file_has_its_fixture():
    fixed = sorted(FIXTURES.glob("ASL*/*.fixed.py"))
    assert fixed
    assert [p for p in fixed if not p.with_name(p.name.removesuffix(".fixed.py") + ".py").exists()] == []


def test_safe_only_leaves_unsafe_fixes():
    # ASL201's fix is safe, ASL303's (expire_on_commit=False changes behaviour) unsafe.
    text = (
        "import time\nfrom sqlalchemy.ext.asyncio import async_sessionmaker\n\n"
        "Session = async_sessionmaker(engine)\n\nasync def f():\n    time.sleep(1)\n"
    )
    settings = Settings(select=("ASL201", "ASL303"))
    safe = fix_text(text, "x.py", settings, unsafe=False)
    assert safe.text == text.replace("import time", "import asyncio").replace("time.sleep", "await asyncio.sleep")
    assert [d.code for d in safe.fixed] == ["ASL201"]
    assert [(d.code, d.fix.applicability) for d in safe.remaining] == [("ASL303", "unsafe")]
    unsafe = fix_text(text, "x.py", settings, unsafe=True)
    assert "async_sessionmaker(engine, expire_on_commit=False)" in unsafe.text and not unsafe.remaining


def test_import_added_once_for_many_fixes():
    text = "import time\n\nasync def f():\n    time.sleep(1)\n    time.sleep(2)\n\nasync def g():\n    time.sleep(3)\n"
    outcome = fix_text(text, "x.py", Settings(select=("ASL201",)))
    assert outcome.text.count("import asyncio") == 1
    assert outcome.text.count("await asyncio.sleep") == 3
    assert len(outcome.fixed) == 3


def test_fixes_that_overlap_wait_for_a_later_pass():
    # The two wait_for fixes rewrite overlapping text: one pass takes the outer one only,
    # the next pass fixes the inner one in the text the first produced.
    text = "import asyncio\n\nasync def f(a):\n    await asyncio.wait_for(asyncio.wait_for(a(), 1), 2)\n"
    outcome = fix_text(text, "x.py", Settings(select=("ASL104",)), unsafe=True)
    assert outcome.text == (
        "import asyncio\n\nasync def f(a):\n"
        "    async with asyncio.timeout(2):\n"
        "        async with asyncio.timeout(1):\n"
        "            await a()\n"
    )
    assert len(outcome.fixed) == 2 and not outcome.remaining


def test_bytes_outside_edits_identical():
    head = "import time  # keep   odd   spacing\n\n\n# a comment\nT0 = time.monotonic()\n"
    tail = "\n\n\nx = {  'a':1 }   # untouched\n"
    text = head + "async def f():\n    time.sleep(1)\n" + tail
    fixed = fix_text(text, "x.py", Settings(select=("ASL201",))).text
    assert fixed == "import asyncio\n" + head + "async def f():\n    await asyncio.sleep(1)\n" + tail


def test_crlf_line_endings_kept():
    text = "import time\r\n\r\nasync def f():\r\n    time.sleep(1)\r\n"
    fixed = fix_text(text, "x.py", Settings(select=("ASL201",))).text
    assert fixed == "import asyncio\r\n\r\nasync def f():\r\n    await asyncio.sleep(1)\r\n"


def test_apply_edits_identical_insertions_once():
    edit = Edit("import asyncio\n", 1, 1, 1, 1)
    assert apply_edits("x = 1\n", [edit, edit]) == "import asyncio\nx = 1\n"


def _write(tmp_path, name, data: bytes):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_cli_fix_keeps_latin1_cookie_and_bom(tmp_path):
    latin = "# -*- coding: latin-1 -*-\nimport time\n\nasync def f():\n    s = 'caf\u00e9'\n    time.sleep(1)\n"
    latin_path = _write(tmp_path, "latin.py", latin.encode("latin-1"))
    bom = "import time\n\nasync def f():\n    time.sleep(1)\n"
    bom_path = _write(tmp_path, "bom.py", b"\xef\xbb\xbf" + bom.encode())
    result = CliRunner().invoke(cli, ["check", "--select", "ASL201", "--fix", str(latin_path), str(bom_path)])
    assert result.exit_code == 0, result.output
    assert "Found 2 errors (2 fixed, 0 remaining)." in result.output
    new_latin = latin_path.read_bytes()
    assert new_latin.decode("latin-1").endswith("s = 'caf\u00e9'\n    await asyncio.sleep(1)\n")
    assert "caf\xe9".encode("latin-1") in new_latin
    assert bom_path.read_bytes().startswith(b"\xef\xbb\xbfimport asyncio\n\nasync def")


def test_cli_fix_keeps_mode_and_second_run_is_noop(tmp_path):
    path = _write(tmp_path, "m.py", b"import time\n\nasync def f():\n    time.sleep(1)\n")
    os.chmod(path, 0o751)
    runner = CliRunner()
    assert runner.invoke(cli, ["check", "--select", "ASL201", "--fix", str(path)]).exit_code == 0
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o751
    first = path.read_bytes()
    again = runner.invoke(cli, ["check", "--select", "ASL201", "--fix", str(path)])
    assert again.exit_code == 0 and path.read_bytes() == first
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]


def test_cli_diff_writes_nothing(tmp_path):
    original = b"import time\n\nasync def f():\n    time.sleep(1)\n"
    path = _write(tmp_path, "d.py", original)
    result = CliRunner().invoke(cli, ["check", "--select", "ASL201", "--diff", str(path)])
    assert result.exit_code == 1
    assert "+    await asyncio.sleep(1)" in result.output and "-    time.sleep(1)" in result.output
    assert path.read_bytes() == original


def test_syntax_error_file_never_written(tmp_path):
    original = b"import time\nasync def f(:\n    time.sleep(1)\n"
    path = _write(tmp_path, "bad.py", original)
    result = CliRunner().invoke(cli, ["check", "--fix", str(path)])
    assert result.exit_code == 1 and "ASL001" in result.output
    assert path.read_bytes() == original


def test_write_refused_when_file_changed(tmp_path):
    path = _write(tmp_path, "c.py", b"new content\n")
    with pytest.raises(WriteRefused):
        write_atomic(str(path), b"fixed\n", b"old content\n")
    assert path.read_bytes() == b"new content\n"
    assert os.listdir(tmp_path) == ["c.py"]


def test_write_failure_leaves_original(tmp_path, monkeypatch):
    path = _write(tmp_path, "w.py", b"old\n")

    def broken_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    monkeypatch.setattr(atomic, "_exchange", broken_replace)  # Linux swaps the names instead
    with pytest.raises(WriteRefused, match="No space left"):
        write_atomic(str(path), b"new\n", b"old\n")
    assert path.read_bytes() == b"old\n"
    assert os.listdir(tmp_path) == ["w.py"]


def test_interrupt_during_write_leaves_no_temp_file(tmp_path, monkeypatch):
    path = _write(tmp_path, "k.py", b"old\n")

    def interrupted(fd):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_atomic(str(path), b"new\n", b"old\n")
    assert path.read_bytes() == b"old\n"
    assert os.listdir(tmp_path) == ["k.py"]


def test_fix_format_ruff_formats_only_fixed_files(tmp_path):
    pytest.importorskip("ruff_api")
    (tmp_path / "pyproject.toml").write_text('[tool.asynclint]\nfix-format = "ruff"\nselect = ["ASL201"]\n')
    fixed = _write(tmp_path, "a.py", b"import time\nasync def f():\n    time.sleep(1); x = {'a':1}\n")
    untouched_src = b"x = {'a':1}\n"
    untouched = _write(tmp_path, "b.py", untouched_src)
    result = CliRunner().invoke(cli, ["check", "--fix", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert fixed.read_text() == 'import asyncio\n\n\nasync def f():\n    await asyncio.sleep(1)\n    x = {"a": 1}\n'
    assert untouched.read_bytes() == untouched_src
