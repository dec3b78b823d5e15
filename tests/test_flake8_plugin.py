"""The flake8 plugin reports exactly what `asynclint check` reports, through the same engine."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner
from fixture_format import fixture_files
from helpers import settings_for

from asynclint import config
from asynclint.cli import cli
from asynclint.config import Settings
from asynclint.flake8_plugin import Plugin
from asynclint.pipeline import _settings_in
from asynclint.registry import ENGINE_CODES

REPO = Path(__file__).resolve().parents[1]
FLAKE8_FORMAT = "%(path)s|%(row)d|%(col)d|%(code)s|%(text)s"


@pytest.fixture(autouse=True)
def _fresh_settings_cache():
    _settings_in.cache_clear()
    yield
    _settings_in.cache_clear()


# --- settings -> [tool.asynclint], so both tools read the same config from disk -------------


def _toml_value(kind: str, value) -> str | None:
    if kind in ("codes", "strings"):
        return json.dumps(list(value))
    if kind == "target":
        return f'"py{value[0]}{value[1]}"'
    if kind == "bool":
        return "true" if value else "false"
    if kind == "int":
        return str(value)
    if kind == "formatter":
        return json.dumps(value or "none")
    if kind in ("per-file", "blocking"):
        items = ", ".join(f"{json.dumps(key)} = {json.dumps(list(names))}" for key, names in value)
        return "{ " + items + " }"
    raise AssertionError(f"no TOML writer for setting kind {kind!r}")


def settings_toml(settings: Settings) -> str:
    """`[tool.asynclint]` that loads back to `settings` (only the values that differ from defaults)."""
    defaults = Settings()
    lines = ["[tool.asynclint]"]
    for key, (attribute, kind) in sorted(config._KEYS.items()):
        value = getattr(settings, attribute)
        if value != getattr(defaults, attribute):
            lines.append(f"{key} = {_toml_value(kind, value)}")
    return "\n".join(lines) + "\n"


def run_flake8(*args: str, cwd: Path | None = None, jobs: str = "1") -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "flake8", "--isolated", f"--jobs={jobs}", f"--format={FLAKE8_FORMAT}", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=600,
    )


def flake8_findings(*args: str, cwd: Path | None = None) -> set[tuple[str, int, int, str]]:
    proc = run_flake8(*args, cwd=cwd, jobs="auto")
    assert proc.returncode in (0, 1), proc.stderr
    assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr, proc.stderr
    found = set()
    for line in proc.stdout.splitlines():
        path, row, col, code, _ = line.split("|", 4)
        found.add((os.path.realpath(os.path.join(cwd or ".", path)), int(row), int(col), code))
    return found


def asynclint_findings(*args: str) -> set[tuple[str, int, int, str]]:
    result = CliRunner().invoke(cli, ["check", "--no-cache", "--output-format", "json", *args])
    assert result.exit_code in (0, 1), result.output
    return {
        (os.path.realpath(item["filename"]), item["location"]["row"], item["location"]["column"], item["code"])
        for item in json.loads(result.stdout)
        if item["code"] not in ENGINE_CODES  # flake8 reports E999 for those, not the plugin
    }


def test_plugin_is_registered_with_flake8():
    proc = subprocess.run([sys.executable, "-m", "flake8", "--version"], capture_output=True, text=True)
    assert "asynclint" in proc.stdout, f"the flake8.extension entry point is not installed:\n{proc.stdout}"


def test_parity_with_asynclint_check_on_every_fixture(tmp_path):
    """Each fixture, with its own options written as [tool.asynclint]: same (file, row, col, code)."""
    fixtures = fixture_files()
    assert fixtures
    groups: dict[str, Path] = {}
    for fixture in fixtures:
        text = fixture.read_text(encoding="utf-8")
        toml = settings_toml(settings_for(text, default_code=fixture.parent.name))
        if toml not in groups:
            groups[toml] = tmp_path / f"group{len(groups)}"
            groups[toml].mkdir()
            (groups[toml] / "pyproject.toml").write_text(toml, encoding="utf-8")
        target = groups[toml] / fixture.parent.name / fixture.name
        target.parent.mkdir(exist_ok=True)
        target.write_bytes(fixture.read_bytes())

    expected: set = set()
    for folder in groups.values():
        expected |= asynclint_findings(str(folder))
    got = flake8_findings("--select", "ASL", *(str(folder) for folder in groups.values()))

    def show(items):
        return "\n".join(f"  {Path(p).relative_to(tmp_path)}:{r}:{c}: {code}" for p, r, c, code in sorted(items))

    assert got == expected, f"\nonly asynclint check:\n{show(expected - got)}\nonly flake8:\n{show(got - expected)}"
    # The fixtures are not all clean: parity over an empty set would prove nothing.
    assert expected


def test_examples_same_findings_as_concise_output():
    """`flake8 --select ASL examples/` and `asynclint check --output-format concise examples/`."""
    proc = run_flake8("--select", "ASL", "examples/", cwd=REPO)
    flake8_lines = sorted(
        f"{path}:{row}:{col}: {code} {text}"
        for path, row, col, code, text in (line.split("|", 4) for line in proc.stdout.splitlines())
    )
    check = subprocess.run(
        [sys.executable, "-m", "asynclint", "check", "--no-cache", "--output-format", "concise", "examples/"],
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    concise = sorted(
        line.replace(" [*] ", " ", 1)
        for line in check.stdout.splitlines()
        if re.match(r"\S+:\d+:\d+: ASL\d{3}", line) and not re.match(r"\S+:\d+:\d+: ASL00[12]", line)
    )
    assert concise, check.stdout
    # Findings only project analysis shows (a blocking helper in another module) included.
    assert any(" ASL207 " in line for line in concise), "examples/ should show cross-module ASL207 findings"
    assert [os.path.normpath(line) for line in flake8_lines] == [os.path.normpath(line) for line in concise]


def _plugin(tmp_path: Path, source: str, name: str = "app.py") -> list[tuple[int, int, str]]:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    source = textwrap.dedent(source)
    path.write_text(source, encoding="utf-8")
    lines = source.splitlines(keepends=True)
    return [(row, col, text) for row, col, text, kind in Plugin(None, lines, str(path)).run() if kind is Plugin]


BLOCKING = """\
import time


async def handler():
    time.sleep(1)  # noqa
"""


def test_yields_flake8_tuples_with_zero_based_column_and_leaves_noqa_to_flake8(tmp_path):
    found = _plugin(tmp_path, BLOCKING)
    assert len(found) == 1
    row, col, text = found[0]
    assert (row, col) == (5, 4)  # asynclint's column 5, 1-based
    assert re.fullmatch(r"ASL201 `time\.sleep` .+", text)
    # flake8 itself honours the `# noqa` (and shows column 5 again).
    (tmp_path / "app.py").write_text(BLOCKING.replace("  # noqa", ""), encoding="utf-8")
    proc = run_flake8("--select", "ASL", "app.py", cwd=tmp_path)
    assert proc.stdout.startswith("app.py|5|5|ASL201|`time.sleep`"), proc.stdout + proc.stderr
    (tmp_path / "app.py").write_text(BLOCKING, encoding="utf-8")
    assert run_flake8("--select", "ASL", "app.py", cwd=tmp_path).stdout == ""


def test_config_from_the_files_path_applies(tmp_path):
    source = BLOCKING.replace("  # noqa", "")
    assert _plugin(tmp_path / "a", source)
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "pyproject.toml").write_text('[tool.asynclint]\nignore = ["ASL201"]\n', encoding="utf-8")
    assert _plugin(tmp_path / "b", source) == []
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "pyproject.toml").write_text('[tool.asynclint]\nexclude = ["legacy"]\n', encoding="utf-8")
    assert _plugin(tmp_path / "c", source, name="legacy/app.py") == []
    assert _plugin(tmp_path / "c", source, name="new/app.py")


def test_opt_in_rules_are_turned_on_in_the_asynclint_table(tmp_path):
    """flake8's select only filters what asynclint reports: an opt-in rule runs when the
    `[tool.asynclint]` table selects it, as with `asynclint check`."""
    source = "import asyncio\n\n\nasync def f(c):\n    asyncio.create_task(c())\n"
    assert _plugin(tmp_path / "a", source) == []
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "pyproject.toml").write_text('[tool.asynclint]\nextend-select = ["ASL103"]\n', encoding="utf-8")
    assert [text.split()[0] for _, _, text in _plugin(tmp_path / "b", source)] == ["ASL103"]


def test_extra_blocking_calls_from_config(tmp_path):
    source = """\
        import mylib


        async def handler():
            mylib.nap(1)
        """
    assert _plugin(tmp_path / "plain", source) == []
    (tmp_path / "cfg").mkdir()
    (tmp_path / "cfg" / "pyproject.toml").write_text(
        '[tool.asynclint]\nextra-blocking-calls = { ASL201 = ["mylib.nap"] }\n', encoding="utf-8"
    )
    assert [(row, text[:6]) for row, _, text in _plugin(tmp_path / "cfg", source)] == [(5, "ASL201")]


def test_file_level_asynclint_noqa_is_honoured(tmp_path):
    assert _plugin(tmp_path, "# asynclint: noqa\n" + BLOCKING.replace("  # noqa", "")) == []
    assert _plugin(tmp_path, "# asynclint: noqa: ASL2\n" + BLOCKING.replace("  # noqa", "")) == []
    assert _plugin(tmp_path, "# asynclint: noqa: ASL1\n" + BLOCKING.replace("  # noqa", ""))


def test_unparsable_file_yields_nothing(tmp_path):
    # LibCST cannot parse it; the plugin must not invent a finding (flake8 owns syntax errors).
    assert _plugin(tmp_path, "async def f(:\n    time.sleep(1)\n") == []
    (tmp_path / "bad.py").write_text("def f(:\n    pass\n", encoding="utf-8")
    proc = run_flake8("--select", "ASL,E999", "bad.py", cwd=tmp_path)
    codes = [line.split("|")[3] for line in proc.stdout.splitlines()]
    assert codes == ["E999"], proc.stdout


def test_flake8_prefix_matching_ignore_a_silences_asl(tmp_path):
    (tmp_path / "app.py").write_text(BLOCKING.replace("  # noqa", ""), encoding="utf-8")
    assert run_flake8("app.py", cwd=tmp_path).stdout.startswith("app.py|5|5|ASL201|")
    # An ignore of any prefix of "ASL" silences the plugin ...
    assert run_flake8("--ignore", "A", "app.py", cwd=tmp_path).stdout == ""
    assert run_flake8("--extend-ignore", "AS", "app.py", cwd=tmp_path).stdout == ""
    assert run_flake8("--select", "A", "--ignore", "AS", "app.py", cwd=tmp_path).stdout == ""
    # ... unless a longer (more specific) select names it: flake8 lets the longest match win.
    assert run_flake8("--select", "ASL", "--ignore", "A", "app.py", cwd=tmp_path).stdout
