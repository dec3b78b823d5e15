"""Bad input gets a clear answer, never a traceback; one bad file never stops the others."""

from __future__ import annotations

import json
import os
import sys

import pytest
from click.testing import CliRunner

from asynclint.cli import cli
from asynclint.config import Settings
from asynclint.engine import lint_file, lint_text

SLEEPY = "import time\n\nasync def f():\n    time.sleep(1)\n"


def check(*args):
    result = CliRunner().invoke(cli, ["check", "--no-cache", "--output-format", "json", *args])
    assert "Traceback" not in result.output
    return result


def codes_by_file(result) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for item in json.loads(result.output):
        found.setdefault(os.path.basename(item["filename"]), []).append(item["code"])
    return found


def test_mixed_folder_reports_each_file_and_goes_on(tmp_path):
    (tmp_path / "syntax.py").write_text("def broken(:\n    pass\n")
    (tmp_path / "binary.py").write_bytes(b"\x00\x01\x02\xff")
    (tmp_path / "empty.py").write_text("")
    (tmp_path / "latin.py").write_bytes(
        "# -*- coding: latin-1 -*-\nimport time\nasync def f():\n    s = 'caf\xe9'\n    time.sleep(1)\n".encode(
            "latin-1"
        )
    )
    (tmp_path / "good.py").write_text(SLEEPY)
    result = check(str(tmp_path))
    assert result.exit_code == 1
    assert codes_by_file(result) == {
        "syntax.py": ["ASL001"],
        "binary.py": ["ASL002"],
        "latin.py": ["ASL201"],
        "good.py": ["ASL201"],
    }


@pytest.mark.parametrize(
    "name, data, expected",
    [
        ("py2.py", b'print "hello"\n', ["ASL001"]),
        ("no_cookie.py", "x = 'caf\xe9'\n".encode("latin-1"), ["ASL002"]),
        ("bad_cookie.py", b"# -*- coding: klingon -*-\nx = 1\n", ["ASL002"]),
        ("bom.py", b"\xef\xbb\xbf" + SLEEPY.encode(), ["ASL201"]),
        ("crlf.py", SLEEPY.replace("\n", "\r\n").encode(), ["ASL201"]),
        ("mixed.py", b"import time\r\n\nasync def f():\r\n    time.sleep(1)\n", ["ASL201"]),
        ("tabs.py", b"import time\n\nasync def f():\n\ttime.sleep(1)\n", ["ASL201"]),
        (
            "formfeed.py",
            b"import time\n\x0c\nasync def f():\n    time.sleep(1)  # noqa: ASL201\n    time.sleep(2)\n",
            ["ASL201"],
        ),
        ("empty.py", b"", []),
        ("only_comment.py", b"# nothing here\n", []),
        ("nul_in_middle.py", b"x = 1\n\x00\n", ["ASL002"]),
        ("deep.py", b"x = " + b"(" * 5000 + b"1" + b")" * 5000 + b"\n", ["ASL001"]),
        ("unary.py", b"x = " + b"not " * 20000 + b"1\n", ["ASL001"]),
        (
            "generics.py",
            b"import time\n\ndef first[T](xs: list[T]) -> T:\n    return xs[0]\n\ntype Pair = tuple[int, int]\n\nasync def f():\n    time.sleep(1)\n",
            ["ASL201"],
        ),
    ],
)
def test_bad_input_matrix(tmp_path, name, data, expected):
    path = tmp_path / name
    path.write_bytes(data)
    result = check(str(path))
    assert result.exit_code == (1 if expected else 0), result.output
    assert codes_by_file(result).get(name, []) == expected


def test_formfeed_keeps_rows_right(tmp_path):
    path = tmp_path / "ff.py"
    path.write_bytes(b"import time\n\x0c\nasync def f():\n    time.sleep(1)\n")
    item = json.loads(check(str(path)).output)[0]
    assert item["location"] == {"row": 4, "column": 5}


def test_big_file(tmp_path):
    body = "".join(f"def f{i}(x):\n    return x + {i}\n\n" for i in range(16_000))
    path = tmp_path / "big.py"
    path.write_text(body + SLEEPY)
    assert body.count("\n") >= 48_000
    result = check(str(path))
    rows = [item["location"]["row"] for item in json.loads(result.output)]
    assert rows == [body.count("\n") + 4]


def test_paths_that_are_not_files(tmp_path):
    (tmp_path / "dir.py").mkdir()
    (tmp_path / "empty_dir").mkdir()
    loop = tmp_path / "loop"
    loop.mkdir()
    os.symlink(loop, loop / "again")
    (tmp_path / "good.py").write_text(SLEEPY)
    result = check(str(tmp_path))
    assert result.exit_code == 1
    assert codes_by_file(result) == {"good.py": ["ASL201"]}
    assert check(str(tmp_path / "empty_dir")).exit_code == 0
    named = check(str(tmp_path / "dir.py"))
    assert named.exit_code == 0  # a folder named like a file is walked as a folder


def test_missing_path_is_usage_error(tmp_path):
    result = CliRunner().invoke(cli, ["check", str(tmp_path / "nope.py")])
    assert result.exit_code == 2
    assert result.output.strip() == f"asynclint: error: {tmp_path / 'nope.py'}: no such file or directory"


@pytest.mark.skipif(
    sys.platform == "win32" or os.geteuid() == 0, reason="root reads any file; permissions cannot deny it"
)
def test_unreadable_file(tmp_path):
    path = tmp_path / "secret.py"
    path.write_text(SLEEPY)
    path.chmod(0)
    result = check(str(tmp_path))
    assert codes_by_file(result) == {"secret.py": ["ASL002"]}


def test_unreadable_file_via_engine(tmp_path, monkeypatch):
    # Running as root, permissions cannot make a file unreadable; fail the open instead.
    path = tmp_path / "secret.py"
    path.write_text(SLEEPY)
    real_open = os.open

    def deny(file, flags, *args, **kwargs):
        if str(file) == str(path):
            raise PermissionError(13, "Permission denied")
        return real_open(file, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", deny)
    result = lint_file(str(path), Settings())
    assert [(d.code, d.message) for d in result.diagnostics] == [("ASL002", "cannot read file: Permission denied")]


class _Boom(Exception):
    pass


def test_crashing_rule_is_isolated(monkeypatch, tmp_path):
    from asynclint import registry

    real = registry.load_rule("ASL201")

    class Broken(real):
        def visit_Call(self, node):
            raise _Boom("deliberately broken")

    original_load = registry.load_rules

    def load_rules(codes):
        return [Broken if rule.code == "ASL201" else rule for rule in original_load(codes)]

    monkeypatch.setattr(registry, "load_rules", load_rules)
    text = SLEEPY + "\nasync def g():\n    await asyncio.gather(a(), b())\n"
    result = lint_text("import asyncio\n" + text, "x.py", Settings(extend_select=("ASL101",)))
    assert [e.rule for e in result.errors] == ["ASL201"]
    assert "deliberately broken" in result.errors[0].detail and "asynclint 0." in result.errors[0].detail
    assert [d.code for d in result.diagnostics] == ["ASL101"]  # the other rules still ran

    (tmp_path / "a.py").write_text("import asyncio\n" + text)
    (tmp_path / "b.py").write_text(SLEEPY)
    cli_result = CliRunner().invoke(
        cli, ["check", "--no-cache", "--extend-select", "ASL101", "--output-format", "concise", str(tmp_path)]
    )
    assert cli_result.exit_code == 2
    assert cli_result.output.count("internal error: rule ASL201 failed") == 2
    assert "Please report this" in cli_result.output
    assert "ASL101" in cli_result.output


def test_bad_config_is_one_line(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.asynclint]\nselect = "ASL"\n')
    (tmp_path / "a.py").write_text(SLEEPY)
    result = CliRunner().invoke(cli, ["check", str(tmp_path)])
    assert result.exit_code == 2
    assert result.output.count("\n") == 1 and "select: expected a list of strings" in result.output


def test_cache_faults_never_break_a_run(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    (tmp_path / "a.py").write_text(SLEEPY)
    runner = CliRunner()

    def run():
        out = runner.invoke(cli, ["check", "--output-format", "json", str(tmp_path)])
        assert "Traceback" not in out.output
        return codes_by_file(out)

    first = run()
    cache_files = list((tmp_path / ".asynclint_cache").rglob("*.json"))
    assert cache_files
    for garbage in (b"", b"{not json", b'{"' + str(tmp_path / "a.py").encode() + b'": [1, 2]}', b"[]", b"\x00\xff"):
        for cache_file in cache_files:
            cache_file.write_bytes(garbage)
        assert run() == first
    # A cache written by another version lives in another folder and is never read.
    other = tmp_path / ".asynclint_cache" / "0.0.0-other"
    other.mkdir()
    (other / "x.json").write_text("{}")
    assert run() == first
    # A stale entry (content changed, size and mtime forged back) is caught by the hash.
    (tmp_path / "a.py").write_text("x = 1\n" + " " * (len(SLEEPY) - 6))
    assert run() == {}


def test_two_processes_share_a_cache_safely(tmp_path):
    import subprocess

    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    for i in range(30):  # enough files for the process pool
        (tmp_path / f"m{i}.py").write_text(SLEEPY if i % 3 == 0 else "x = 1\n")
    command = [sys.executable, "-m", "asynclint", "check", "--output-format", "concise", "-q", str(tmp_path)]
    baseline = subprocess.run([*command, "--no-cache"], capture_output=True, text=True).stdout
    assert baseline.count("ASL201") == 10
    for _ in range(2):  # cold, then warm, each with two writers racing
        runs = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
        outputs = [p.communicate() for p in runs]
        assert [out for out, _ in outputs] == [baseline, baseline]
        assert all(err == "" for _, err in outputs)
    assert not list((tmp_path / ".asynclint_cache").rglob("*.tmp"))


def test_pep_758_except_without_parentheses_is_analysed():
    # Python 3.14 (PEP 758): `except A, B:` without parentheses. CPython 3.13 and older
    # refuse it, but LibCST parses it (since 1.8.4), so it is no ASL001 and the rules see
    # the handler.
    import libcst

    text = (
        "import asyncio\n\nasync def f():\n    try:\n        await asyncio.sleep(1)\n"
        "    except asyncio.CancelledError, ValueError:\n        pass\n"
    )
    try:
        libcst.parse_module(text)
    except libcst.ParserSyntaxError:
        pytest.skip("this LibCST is older than 1.8.4, which parses PEP 758")
    result = lint_text(text, "x.py", Settings(extend_select=("ASL107",)))
    assert [(d.code, d.row, d.col) for d in result.diagnostics] == [("ASL107", 6, 5)]
    # With `as`, the parentheses are still required (3.14 too): a syntax error, CPython's message.
    broken = text.replace("ValueError:", "ValueError as e:")
    [finding] = lint_text(broken, "x.py", Settings()).diagnostics
    assert finding.code == "ASL001" and (finding.row, finding.col) == (6, 12)
    if sys.version_info < (3, 14):
        assert finding.message == "SyntaxError: multiple exception types must be parenthesized"


@pytest.mark.parametrize(
    "expression, depth",
    [
        ("+".join(["1"] * 5000), 5000),  # LibCST's parser: about a minute
        ("f" + "[0]" * 2000, 2002),  # about 8 seconds
        ("a" + ".b" * 3000, 3002),
    ],
)
def test_expression_too_long_for_the_parser(expression, depth):
    import time

    text = "import time\n\nasync def f():\n    time.sleep(1)\n    x = " + expression + "\n"
    lint_text(SLEEPY, "x.py", Settings())  # rules loaded, engine thread started
    started = time.perf_counter()
    result = lint_text(text, "x.py", Settings())
    assert time.perf_counter() - started < 0.5
    assert [(d.code, d.row, d.col) for d in result.diagnostics] == [("ASL001", 5, 5)]
    assert result.diagnostics[0].message == (
        f"cannot parse: expression too long for the parser: {depth} nested operands (the limit is 800)"
    )


def test_long_expressions_within_the_limit_are_analysed():
    text = "import time\n\nasync def f():\n    time.sleep(1)\n    x = " + "+".join(["1"] * 700) + "\n"
    assert [d.code for d in lint_text(text, "x.py", Settings()).diagnostics] == ["ASL201"]


def test_the_unvalidated_parse_builds_the_same_trees_and_restores_validation():
    import libcst as cst
    from fixture_format import fixture_files

    from asynclint import parse

    for path in fixture_files():
        text = path.read_text(encoding="utf-8")
        assert parse.parse_module(text).deep_equals(cst.parse_module(text)), path
    with pytest.raises(cst.ParserSyntaxError):
        parse.parse_module("def broken(:\n")
    with pytest.raises(cst.CSTValidationError):  # hand-built nodes are still checked
        cst.Name("not a name")


def test_while_the_engine_parses_another_thread_still_gets_its_nodes_validated(monkeypatch):
    # A program embedding asynclint may build LibCST nodes in another thread meanwhile.
    import threading

    import libcst as cst

    from asynclint import parse

    real_parse = cst.parse_module
    seen = []

    def build_invalid_name() -> None:
        try:
            cst.Name("not a name")
            seen.append("not validated")
        except cst.CSTValidationError:
            seen.append("validated")

    def parse_while_another_thread_builds(text):
        other = threading.Thread(target=build_invalid_name)
        other.start()
        other.join()
        build_invalid_name()  # the parsing thread itself: the check is off
        return real_parse(text)

    monkeypatch.setattr(cst, "parse_module", parse_while_another_thread_builds)
    parse.parse_module("x = 1\n")
    assert seen == ["validated", "not validated"]


@pytest.mark.parametrize(
    "text",
    [
        "def f(x):\n    global x\n",  # refused by CPython's symbol table, not by its parser
        "nonlocal y\n",
        "x = 1\ndef g():\n    print(x)\n    global x\n",
    ],
)
def test_a_symbol_table_error_is_no_syntax_error_in_a_file_no_rule_parses(text):
    # A file no rule parses is checked through CPython's symbol table, which also refuses
    # code its parser accepts; the verdict stays the parser's, as for a parsed file.
    from asynclint.parse import precheck

    verdict, _, error = precheck(text, want_tree=False)
    assert (verdict, error) == ("ok", None)
    assert precheck(text)[0] == "ok"
    assert lint_text(text, "x.py", Settings()).diagnostics == []
    parsed = "import time\n\nasync def h():\n    time.sleep(1)\n\n" + text
    assert [d.code for d in lint_text(parsed, "x.py", Settings()).diagnostics] == ["ASL201"]


def test_a_syntax_error_in_a_file_no_rule_parses_is_placed_as_cpython_places_it():
    from asynclint.parse import precheck

    text = "x = 1\ndef f(:\n    pass\n"
    verdict, tree, error = precheck(text, want_tree=False)
    assert (verdict, tree) == ("invalid", None) and isinstance(error, SyntaxError)
    assert (error.msg, error.lineno) == (precheck(text)[2].msg, 2)
    [finding] = lint_text(text, "x.py", Settings()).diagnostics
    assert (finding.code, finding.row, finding.message) == ("ASL001", 2, f"SyntaxError: {error.msg}")
