"""--fix never loses a user's edit, never writes a file it should not, keeps links, owner
and mode, and stops cleanly on a signal (issue 19, reliability probe F1-F6, F28)."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from asynclint import atomic
from asynclint.atomic import WriteRefused, write_atomic
from asynclint.cli import cli

BAD = b"import time\nasync def main():\n    time.sleep(0)\n"
FIXED = b"import asyncio\nasync def main():\n    await asyncio.sleep(0)\n"  # the unused `import time` goes too
EDIT = b"# the user's edit\n"


def _fix(*args):
    return CliRunner().invoke(cli, ["check", "--no-cache", "--fix", *map(str, args)])


def _edit_once(path):
    """A function that appends the user's edit to `path` the first time it is called."""
    done = []

    def edit():
        if not done:
            done.append(True)
            with open(path, "ab") as handle:
                handle.write(EDIT)

    return edit


def test_edit_after_the_first_check_survives(tmp_path, monkeypatch):
    # F1: the edit lands while the new content is being flushed, after the content check.
    path = tmp_path / "t.py"
    path.write_bytes(BAD)
    edit = _edit_once(path)
    real_fsync = os.fsync

    def fsync_then_edit(fd):
        real_fsync(fd)
        edit()

    monkeypatch.setattr(os, "fsync", fsync_then_edit)
    with pytest.raises(WriteRefused, match="changed on disk"):
        write_atomic(str(path), FIXED, BAD)
    assert path.read_bytes() == BAD + EDIT
    assert os.listdir(tmp_path) == ["t.py"]


def test_edit_at_the_moment_of_replacing_survives(tmp_path, monkeypatch):
    # F1: the edit lands after the last check, right before the file is replaced.
    path = tmp_path / "t.py"
    path.write_bytes(BAD)
    edit = _edit_once(path)
    check = atomic._check_unchanged

    def check_then_edit(*args):
        check(*args)
        edit()

    monkeypatch.setattr(atomic, "_check_unchanged", check_then_edit)
    if not sys.platform.startswith("linux"):
        pytest.skip("an atomic exchange of two names needs Linux renameat2")
    with pytest.raises(WriteRefused, match="changed on disk"):
        write_atomic(str(path), FIXED, BAD)
    assert path.read_bytes() == BAD + EDIT
    assert os.listdir(tmp_path) == ["t.py"]


def test_fix_writes_through_a_symlink(tmp_path):
    # F2: the target is fixed and the link stays a link.
    real = tmp_path / "real.py"
    real.write_bytes(BAD)
    link = tmp_path / "link.py"
    link.symlink_to("real.py")
    result = _fix(link)
    assert result.exit_code == 0, result.output
    assert link.is_symlink() and os.readlink(link) == "real.py"
    assert real.read_bytes() == FIXED


def test_fix_keeps_hard_links(tmp_path):
    # F3: both names see the fix.
    first = tmp_path / "a.py"
    first.write_bytes(BAD)
    second = tmp_path / "b_link.txt"
    os.link(first, second)
    result = _fix(first)
    assert result.exit_code == 0, result.output
    assert os.path.samefile(first, second)
    assert second.read_bytes() == FIXED


def test_read_only_file_is_not_written(tmp_path):
    # F5: like ruff ("Permission denied") and black ("cannot format"), the file stays; its
    # findings are still reported, so the run exits 1 as for any finding left.
    path = tmp_path / "t.py"
    path.write_bytes(BAD)
    os.chmod(path, 0o444)
    result = _fix(path)
    assert result.exit_code == 1, result.output
    assert "read-only file; not written" in result.stderr
    assert "ASL201" in result.stdout
    assert path.read_bytes() == BAD
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o444


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() != 0,
    reason="only root can give a file away",
)
def test_fix_keeps_owner_and_mode(tmp_path):
    # F6: run as root on a file of another user.
    path = tmp_path / "t.py"
    path.write_bytes(BAD)
    os.chown(path, 65534, 65534)
    os.chmod(path, 0o664)
    result = _fix(path)
    assert result.exit_code == 0, result.output
    info = os.stat(path)
    assert (info.st_uid, info.st_gid, stat.S_IMODE(info.st_mode)) == (
        65534,
        65534,
        0o664,
    )
    assert path.read_bytes() == FIXED


def _many_files(folder, count=40, functions=600):
    body = "".join(f"async def f{j}():\n    time.sleep(0)\n" for j in range(functions))
    for i in range(count):
        (folder / f"m{i:02d}.py").write_text("import time\n" + body)


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as handle:
            return [int(p) for p in handle.read().split()]
    except OSError:
        return []


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_signal_stops_the_workers_and_the_writes(tmp_path, signum):
    # F4, F28: SIGTERM (what `timeout` sends) or Ctrl-C to the main process only.
    _many_files(tmp_path)
    process = subprocess.Popen(
        [sys.executable, "-m", "asynclint", "check", "--no-cache", "--fix", "."],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    workers: list[int] = []
    while time.monotonic() < deadline and len(workers) < 2:
        workers = _children(process.pid)
        time.sleep(0.05)
    assert workers, "the run started no workers"
    time.sleep(1.0)
    process.send_signal(signum)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 128 + signum, err
    assert b"Traceback" not in err and b"Aborted!" not in err
    for worker in workers:
        assert not os.path.exists(f"/proc/{worker}") or Path(f"/proc/{worker}/stat").read_text().split()[2] == "Z"
    assert not [name for name in os.listdir(tmp_path) if not name.endswith(".py")]
    snapshot = {name: (tmp_path / name).read_bytes() for name in os.listdir(tmp_path)}
    for text in snapshot.values():
        compile(text, "m.py", "exec")  # the old file or the fixed one, never half of it
    time.sleep(2)
    assert snapshot == {name: (tmp_path / name).read_bytes() for name in os.listdir(tmp_path)}


def test_fix_format_ruff_keeps_crlf(tmp_path):
    # F11: ruff_api formats to LF; the file keeps its CRLF endings.
    pytest.importorskip("ruff_api")
    (tmp_path / "pyproject.toml").write_text('[tool.asynclint]\nfix-format = "ruff"\n')
    path = tmp_path / "crlf.py"
    path.write_bytes(b'import time\r\nasync def main():\r\n\tx = {  "a":1 }\r\n\ttime.sleep(0)\r\n')
    result = _fix(path)
    assert result.exit_code == 0, result.output
    fixed = path.read_bytes()
    assert b"await asyncio.sleep(0)\r\n" in fixed and b'x = {"a": 1}' in fixed
    assert b"\n" not in fixed.replace(b"\r\n", b"")


def test_unicode_escape_file_is_not_rewritten(tmp_path):
    # F12: encoding the fixed text as unicode_escape would put the whole file on one line.
    path = tmp_path / "esc.py"
    original = b"# -*- coding: unicode_escape -*-\nimport time\nasync def main():\n    time.sleep(0)\n"
    path.write_bytes(original)
    result = _fix(path)
    assert result.exit_code == 1, result.output
    assert "does not give back the bytes read; not written" in result.stderr
    assert "ASL201" in result.stdout
    assert path.read_bytes() == original
