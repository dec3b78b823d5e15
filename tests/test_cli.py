"""The command line, through click's runner and through a real subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from asynclint import __version__
from asynclint.cli import cli

SLEEPY = "import time\n\nasync def f():\n    time.sleep(1)\n"


def invoke(*args, cwd=None):
    runner = CliRunner()
    if cwd is None:
        return runner.invoke(cli, list(args))
    old = os.getcwd()
    os.chdir(cwd)
    try:
        return runner.invoke(cli, list(args))
    finally:
        os.chdir(old)


@pytest.fixture
def project(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "p"\nrequires-python = ">=3.11"\n')
    (tmp_path / "app.py").write_text(SLEEPY)
    (tmp_path / "clean.py").write_text("x = 1\n")
    return tmp_path


def test_version():
    result = invoke("--version")
    assert result.exit_code == 0 and result.output.strip() == f"asynclint {__version__}"


def test_exit_codes(project):
    assert invoke("check", "--no-cache", str(project / "clean.py")).exit_code == 0
    assert invoke("check", "--no-cache", str(project)).exit_code == 1
    assert invoke("check", "--no-cache", "--exit-zero", str(project)).exit_code == 0


def test_concise_output(project):
    result = invoke("check", "--no-cache", "--output-format", "concise", str(project))
    path = str(project / "app.py")
    assert f"{path}:4:5: ASL201 [*] `time.sleep` blocks the event loop" in result.output
    assert "Found 1 error." in result.output


def test_full_output_shows_source_and_caret(project):
    result = invoke("check", "--no-cache", str(project / "app.py"))
    assert "4 |     time.sleep(1)" in result.output
    assert "  |     ^^^^^^^^^^^^^ ASL201" in result.output


def test_json_output_uses_ruff_field_names(project):
    result = invoke("check", "--no-cache", "--output-format", "json", str(project))
    (item,) = json.loads(result.output)
    # ruff's fields (tools that read ruff's JSON read ours), plus `help`; no others.
    assert sorted(item) == [
        "cell",
        "code",
        "end_location",
        "filename",
        "fix",
        "help",
        "location",
        "message",
        "noqa_row",
        "url",
    ]
    assert item["cell"] is None  # a .py file, not a notebook
    assert item["code"] == "ASL201"
    assert item["message"] == "`time.sleep` blocks the event loop in async code"
    # `    time.sleep(1)` on line 4: the call spans columns 5 to 18 (end exclusive, 1-based).
    assert item["location"] == {"row": 4, "column": 5}
    assert item["end_location"] == {"row": 4, "column": 18}
    assert item["noqa_row"] == 4  # the line a suppression comment must go on
    assert item["filename"] == str(project / "app.py")
    assert item["url"].startswith("https://") and item["url"].endswith("/ASL201.html")
    # The fix, as ruff spells one: `import asyncio` inserted at the top, `time` -> `await asyncio`.
    assert item["fix"] == {
        "applicability": "safe",
        "message": "Replace with `await asyncio.sleep(...)`",
        "edits": [
            {
                "content": "import asyncio\n",
                "location": {"row": 1, "column": 1},
                "end_location": {"row": 1, "column": 1},
            },
            {"content": "await asyncio", "location": {"row": 4, "column": 5}, "end_location": {"row": 4, "column": 9}},
        ],
    }


def test_json_lines(project):
    result = invoke("check", "--no-cache", "--output-format", "json-lines", str(project))
    lines = result.output.splitlines()
    assert len(lines) == 1 and json.loads(lines[0])["code"] == "ASL201"


def test_statistics(project):
    (project / "more.py").write_text(SLEEPY + "\nasync def g():\n    time.sleep(2)\n")
    result = invoke("check", "--no-cache", "--statistics", str(project))
    assert result.output.splitlines() == [
        "3\tASL201\t[*] blocking-sleep",
        "Found 3 errors.",
        "[*] 3 fixable with `--fix`.",
    ]


def test_select_and_ignore(project):
    assert invoke("check", "--no-cache", "--ignore", "ASL2", str(project)).exit_code == 0
    assert invoke("check", "--no-cache", "--select", "ASL0", str(project)).exit_code == 0
    assert invoke("check", "--no-cache", "--select", "ASL201", str(project)).exit_code == 1


@pytest.mark.parametrize(
    "args, message",
    [
        (["--select", "ASL999"], "--select: unknown rule code or prefix 'ASL999'"),
        (["--ignore", "E501"], "--ignore: unknown rule code or prefix 'E501'"),
        (
            ["--target-version", "py27"],
            "--target-version: invalid target version 'py27' (expected one of py37, py38, py39, py310, py311, py312, py313, py314)",
        ),
        (["does-not-exist.py"], "does-not-exist.py: no such file or directory"),
        (["--config", "nope.toml"], "--config: no such file: nope.toml"),
    ],
)
def test_usage_errors_are_one_line_exit_2(project, args, message):
    result = invoke("check", *args, cwd=project)
    assert result.exit_code == 2
    assert result.output.strip() == f"asynclint: error: {message}"


def test_unknown_output_format_is_usage_error(project):
    result = invoke("check", "--output-format", "xml", str(project))
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "Invalid value for '--output-format': 'xml' is not one of 'full', 'concise', 'json'," in result.output


def test_output_file(project, tmp_path):
    out = tmp_path / "report.json"
    result = invoke("check", "--no-cache", "--output-format", "json", "-o", str(out), str(project))
    assert result.exit_code == 1 and result.output == ""
    assert json.loads(out.read_text())[0]["code"] == "ASL201"


def test_quiet_drops_summary(project):
    result = invoke("check", "--no-cache", "-q", "--output-format", "concise", str(project))
    assert result.output.splitlines() == [
        f"{project / 'app.py'}:4:5: ASL201 [*] `time.sleep` blocks the event loop in async code"
    ]


def test_target_version_gates_rules(tmp_path):
    path = tmp_path / "g.py"
    path.write_text("import asyncio\n\nasync def f(a, b):\n    await asyncio.gather(a(), b())\n")
    opt_in = ("--extend-select", "ASL101")
    assert invoke("check", "--no-cache", *opt_in, "--target-version", "py311", str(path)).exit_code == 1
    assert invoke("check", "--no-cache", *opt_in, "--target-version", "py310", str(path)).exit_code == 0


def test_opt_in_rules_run_only_when_named_by_their_code(tmp_path):
    path = tmp_path / "g.py"
    path.write_text(
        "import asyncio\n\nasync def f(a, b):\n    await asyncio.gather(a(), b())\n    await asyncio.wait_for(a(), 1)\n"
    )

    def codes(*args):
        result = invoke("check", "--no-cache", "--output-format", "concise", "-q", *args, str(path))
        return sorted({line.split()[1] for line in result.output.splitlines()})

    assert codes() == []
    assert codes("--select", "ASL1") == []  # a family prefix does not name them
    assert codes("--extend-select", "ASL101") == ["ASL101"]
    assert codes("--select", "ASL101,ASL104") == ["ASL101", "ASL104"]
    # ALL names every rule, as ruff's does: the opt-in ones too, unless ignored.
    assert codes("--extend-select", "ALL") == ["ASL101", "ASL104"]
    assert codes("--select", "ALL", "--ignore", "ASL104") == ["ASL101"]


def test_target_version_from_requires_python(tmp_path):
    path = tmp_path / "g.py"
    path.write_text("import asyncio\n\nasync def f(a, b):\n    await asyncio.gather(a(), b())\n")
    # TaskGroup (ASL101's advice) needs 3.11: a project that still supports 3.10 is not told.
    (tmp_path / "pyproject.toml").write_text('[project]\nrequires-python = ">=3.10"\n')
    assert invoke("check", "--no-cache", "--extend-select", "ASL101", str(path)).exit_code == 0
    (tmp_path / "pyproject.toml").write_text('[project]\nrequires-python = ">=3.11"\n')
    assert invoke("check", "--no-cache", "--extend-select", "ASL101", str(path)).exit_code == 1


def test_rules_command_lists_every_code():
    from asynclint import registry

    result = invoke("rules", "--output-format", "json")
    rows = json.loads(result.output)
    assert [row["code"] for row in rows] == registry.all_codes()
    assert all(row["summary"] and row["name"] and row["fix"] in ("safe", "unsafe", "none") for row in rows)
    opt_in = {row["code"]: row["opt_in"] for row in rows}
    assert opt_in["ASL103"] and opt_in["ASL301"] and not opt_in["ASL201"] and not opt_in["ASL001"]
    assert "opt-in" in invoke("rules").output


def test_rule_command_prints_page():
    result = invoke("rule", "asl201")
    assert result.exit_code == 0 and result.output.startswith("# ASL201 blocking-sleep")
    assert invoke("rule", "ASL999").exit_code == 2


def test_subprocess_entry_points(project):
    for command in ([sys.executable, "-m", "asynclint"], [str(Path(sys.executable).with_name("asynclint"))]):
        done = subprocess.run(
            [*command, "check", "--no-cache", "--output-format", "concise", str(project)],
            capture_output=True,
            text=True,
        )
        assert done.returncode == 1, done.stderr
        assert "ASL201" in done.stdout and done.stderr == ""


def test_the_process_exits_without_teardown_yet_with_all_output_and_its_code(tmp_path):
    # `main` leaves through os._exit: every line must still be written (large output is
    # buffered when piped), and each exit code must survive.
    examples = Path(__file__).parents[1] / "examples"
    command = [sys.executable, "-m", "asynclint", "check", "--no-cache", "--output-format", "json"]
    done = subprocess.run([*command, str(examples)], capture_output=True, text=True)
    assert done.returncode == 1, done.stderr
    # Every finding examples/EXPECTED.md lists, one row each.
    expected = [line for line in (examples / "EXPECTED.md").read_text().splitlines() if line.startswith("| shop/")]
    assert len(json.loads(done.stdout)) == len(expected) > 0

    clean = tmp_path / "clean.py"
    clean.write_text("x = 1\n")
    assert subprocess.run([*command, str(clean)], capture_output=True).returncode == 0
    missing = subprocess.run([*command, str(tmp_path / "missing.py")], capture_output=True, text=True)
    assert missing.returncode == 2 and "no such file" in missing.stderr


@pytest.mark.parametrize(("code", "status", "printed"), [(None, 0, ""), (0, 0, ""), (3, 3, ""), ("bye", 1, "bye\n")])
def test_exit_now_means_what_sys_exit_means(code, status, printed):
    script = f"from asynclint.cli import _exit_now; print('out', end=''); _exit_now({code!r})"
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert (done.returncode, done.stdout, done.stderr) == (status, "out", printed)


_HEAVY_IMPORTS = """
import sys
from asynclint.cli import cli
try:
    cli(sys.argv[1:], prog_name="asynclint")
except SystemExit:
    pass
print(sorted({m.split(".")[0] for m in sys.modules} & {"libcst", "rich"}), file=sys.stderr)
"""


def _heavy_imports(*args: str, cwd) -> tuple[str, str]:
    done = subprocess.run([sys.executable, "-c", _HEAVY_IMPORTS, *args], capture_output=True, text=True, cwd=cwd)
    return done.stdout, done.stderr.strip().splitlines()[-1]


def test_version_and_a_fully_cached_run_import_neither_libcst_nor_rich(project):
    assert _heavy_imports("--version", cwd=project)[1] == "[]"
    first, imported = _heavy_imports("check", "--output-format", "concise", ".", cwd=project)
    assert "ASL201" in first and imported == "['libcst']"  # the check that fills the cache parses
    again, imported = _heavy_imports("check", "--output-format", "concise", ".", cwd=project)
    assert again == first and imported == "[]"


def test_noqa_with_two_spaces_warns_that_it_silences_everything(tmp_path):
    path = tmp_path / "s.py"
    path.write_text("import time\n\nasync def f():\n    time.sleep(1)  # noqa:  ASL202\n")
    result = invoke("check", "--no-cache", str(path))
    assert result.exit_code == 0  # a blanket noqa, as flake8 reads it
    assert f"{path}:4: warning: `# noqa:` followed by more than one space silences every code" in result.output
    clean = tmp_path / "c.py"
    clean.write_text("import time\n\nasync def f():\n    time.sleep(1)  # noqa: ASL201\n")
    assert "warning" not in invoke("check", "--no-cache", str(clean)).output
    # Cached with the file, the warning is said on every run, and the file is not linted again.
    (tmp_path / "pyproject.toml").write_text("[tool.asynclint]\n")
    first = invoke("check", str(path))
    again = invoke("check", str(path))
    assert "more than one space" in first.output and "more than one space" in again.output


def test_noqa_suppresses_by_code_prefix_as_flake8_does(tmp_path):
    path = tmp_path / "n.py"
    path.write_text(
        "import time\n\nasync def f():\n"
        "    time.sleep(1)  # noqa: ASL2\n"  # a prefix of the code
        "    time.sleep(2)  # NOQA:E501,ASL201\n"  # upper-case keyword, another tool's code first
        "    time.sleep(3)  # noqa\n"  # every code
        "    time.sleep(4)  # noqa: ASL202\n"  # another code only
        "    time.sleep(5)  # noqa: ASL2011\n"  # longer than the code: not a prefix of it
        "    time.sleep(6)  # noqa ASL201\n"  # no colon: a blanket noqa, as flake8 reads it
        "    time.sleep(7)  # noqa: asl201\n"  # codes compare case-sensitively, as in flake8
    )
    result = invoke("check", "--no-cache", "--output-format", "concise", "-q", str(path))
    rows = [line.split(":")[1] for line in result.output.splitlines()]
    assert (result.exit_code, rows) == (1, ["7", "8", "10"])


def test_stubs_are_not_walked_but_a_named_one_is_linted(tmp_path):
    # A `.pyi` never runs (and names the same module as its `.py` twin): a folder's walk
    # leaves it out; named on the command line, it is linted like any file.
    code = "import time\n\n\nasync def f():\n    time.sleep(1)\n"
    (tmp_path / "mod.pyi").write_text(code)
    assert invoke("check", "--no-cache", str(tmp_path)).exit_code == 0
    (tmp_path / "mod.py").write_text(code)
    result = invoke("check", "--no-cache", "--output-format", "concise", str(tmp_path))
    assert result.exit_code == 1 and "mod.py:5" in result.output and "mod.pyi" not in result.output
    assert invoke("check", "--no-cache", str(tmp_path / "mod.pyi")).exit_code == 1
