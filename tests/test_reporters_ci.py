"""CI output formats: SARIF (validated against the official schema), GitHub annotations, JUnit XML."""

from __future__ import annotations

import io
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner

from asynclint import __version__
from asynclint.cli import cli
from asynclint.diagnostics import Diagnostic, Edit, Fix
from asynclint.reporters import ReportContext, rule_url, write

SARIF_SCHEMA = Path(__file__).resolve().parent / "data" / "sarif-schema-2.1.0.json"  # the official 2.1.0 schema

BAD = """\
import time


async def handler():
    time.sleep(1)


async def other():
    time.sleep(2)
"""


@pytest.fixture
def project(tmp_path, monkeypatch):
    (tmp_path / "pyproject.toml").write_text("[tool.asynclint]\n", encoding="utf-8")
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "handlers.py").write_text(BAD, encoding="utf-8")
    (tmp_path / "app" / "broken.py").write_text("def f(:\n", encoding="utf-8")
    (tmp_path / "app" / "clean.py").write_text("async def f():\n    return 1\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run_check(*args: str):
    return CliRunner().invoke(cli, ["check", "--no-cache", *args])


def render(fmt: str, diagnostics: list[Diagnostic]) -> str:
    out = io.StringIO()
    write(fmt, diagnostics, out, ReportContext(source_line=lambda path, row: ""))
    return out.getvalue()


def _validator():
    import jsonschema

    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


# --- SARIF ---------------------------------------------------------------------------------


def test_sarif_is_valid_and_complete(project):
    result = run_check("--output-format", "sarif", "app")
    assert result.exit_code == 1, result.output
    log = json.loads(result.stdout)
    errors = sorted(_validator().iter_errors(log), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors)

    assert log["version"] == "2.1.0"
    (run,) = log["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "asynclint"
    assert driver["version"] == __version__
    assert driver["informationUri"].startswith("https://")

    rules = {rule["id"]: rule for rule in driver["rules"]}
    assert set(rules) == {"ASL001", "ASL201"}  # the codes that have findings
    assert rules["ASL201"]["name"] == "blocking-sleep"
    assert "time.sleep" in rules["ASL201"]["shortDescription"]["text"]
    assert rules["ASL201"]["fullDescription"]["text"]
    from asynclint import catalogue

    page = catalogue.page("ASL201")  # the rule's page is the help code scanning shows
    assert page
    assert rules["ASL201"]["help"]["markdown"] == page
    assert rules["ASL201"]["fullDescription"]["text"] in " ".join(page.split())
    assert rules["ASL201"]["helpUri"] == rule_url("ASL201")
    assert rules["ASL001"]["name"] == "syntax-error"

    results = run["results"]
    assert [r["ruleId"] for r in results] == ["ASL001", "ASL201", "ASL201"]
    for r in results:
        assert driver["rules"][r["ruleIndex"]]["id"] == r["ruleId"]
        assert r["level"] == "error"
        assert r["message"]["text"]
    sleep = results[1]
    location = sleep["locations"][0]["physicalLocation"]
    assert location["artifactLocation"] == {"uri": "app/handlers.py", "uriBaseId": "%SRCROOT%"}
    assert location["region"] == {"startLine": 5, "startColumn": 5, "endLine": 5, "endColumn": 18}
    assert results[2]["locations"][0]["physicalLocation"]["region"]["startLine"] == 9
    assert results[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "app/broken.py"
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == project.as_uri() + "/"
    # The safe fix travels along, as a SARIF fix with replacements.
    replacements = sleep["fixes"][0]["artifactChanges"][0]["replacements"]
    assert any("await asyncio" in rep["insertedContent"]["text"] for rep in replacements)
    region_keys = {"startLine", "startColumn", "endLine", "endColumn"}
    assert all(set(rep["deletedRegion"]) == region_keys for rep in replacements)


def test_sarif_without_findings_is_valid(project):
    result = run_check("--output-format", "sarif", "app/clean.py")
    assert result.exit_code == 0, result.output
    log = json.loads(result.stdout)
    assert not list(_validator().iter_errors(log))
    assert log["runs"][0]["results"] == []
    assert log["runs"][0]["tool"]["driver"]["rules"] == []


def test_sarif_uris_are_encoded_and_outside_paths_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    inside = Diagnostic("ASL201", "m", str(tmp_path / "my app" / "a#b.py"), 1, 1, 1, 2)
    outside = Diagnostic("ASL201", "m", "/elsewhere/x.py", 1, 1, 1, 2)
    log = json.loads(render("sarif", [inside, outside]))
    assert not list(_validator().iter_errors(log))
    first, second = (r["locations"][0]["physicalLocation"]["artifactLocation"] for r in log["runs"][0]["results"])
    assert first == {"uri": "my%20app/a%23b.py", "uriBaseId": "%SRCROOT%"}
    assert second == {"uri": "file:///elsewhere/x.py"}


# --- GitHub workflow commands -----------------------------------------------------------------


def test_github_annotations(project):
    result = run_check("--output-format", "github", "app")
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[1] == (
        "::error title=asynclint (ASL201),file=app/handlers.py,line=5,col=5,endLine=5,endColumn=18::"
        "app/handlers.py:5:5: ASL201 `time.sleep` blocks the event loop in async code"
        "%0Ahelp: Use `await asyncio.sleep(...)`"  # the help on a second line of the annotation
    )
    assert len(lines) == 3
    assert lines[0].startswith("::error title=asynclint (ASL001),file=app/broken.py,line=1,")
    shape = r"::error title=asynclint \(ASL\d{3}\),file=[^,]+,line=\d+,col=\d+,endLine=\d+,endColumn=\d+::.+"
    assert all(re.fullmatch(shape, line) for line in lines)


def test_github_escaping(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    d = Diagnostic("ASL201", "100% bad\nreally: a, b\r", "dir,x/we:ird%.py", 2, 3, 4, 5)
    (line,) = render("github", [d]).splitlines()
    props, message = line[len("::error ") :].split("::", 1)
    assert props == ("title=asynclint (ASL201),file=dir%2Cx/we%3Aird%25.py,line=2,col=3,endLine=4,endColumn=5")
    # In the message only %, CR and LF are escaped.
    assert message == "dir,x/we:ird%25.py:2:3: ASL201 100%25 bad%0Areally: a, b%0D"


def test_github_prints_nothing_when_clean(project):
    result = run_check("--output-format", "github", "app/clean.py")
    assert result.exit_code == 0
    assert result.stdout == ""


# --- JUnit ----------------------------------------------------------------------------------


def test_junit_one_testcase_per_finding(project):
    result = run_check("--output-format", "junit", "app")
    assert result.exit_code == 1
    assert result.stdout.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    root = ET.fromstring(result.stdout.split("\n", 1)[1])
    assert root.tag == "testsuites"
    assert (root.get("tests"), root.get("failures")) == ("3", "3")
    suites = {suite.get("name"): suite for suite in root.iter("testsuite")}
    assert set(suites) == {"app/broken.py", "app/handlers.py"}
    cases = suites["app/handlers.py"].findall("testcase")
    assert len(cases) == 2 and suites["app/handlers.py"].get("failures") == "2"
    assert cases[0].get("classname") == "app.handlers"
    assert cases[0].get("line") == "5"
    failure = cases[0].find("failure")
    assert failure.get("type") == "ASL201"
    assert "time.sleep" in failure.get("message")
    assert failure.text.startswith("app/handlers.py:5:5: ASL201 ")


def test_junit_clean_run_is_one_passing_case(project):
    result = run_check("--output-format", "junit", "app/clean.py")
    root = ET.fromstring(result.stdout.split("\n", 1)[1])
    cases = list(root.iter("testcase"))
    assert len(cases) == 1 and cases[0].find("failure") is None
    assert root.get("failures") == "0"


def test_junit_escapes_and_strips_what_xml_cannot_hold():
    d = Diagnostic("ASL201", 'a <b> & "c" \x01 end', "x.py", 1, 1, 1, 2)
    root = ET.fromstring(render("junit", [d]).split("\n", 1)[1])
    failure = root.find("testsuite/testcase/failure")
    assert failure.get("message") == 'a <b> & "c" \ufffd end'


# --- --output-file --------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["sarif", "github", "junit", "json", "concise"])
def test_output_file_gets_the_report_and_stdout_stays_empty(project, fmt):
    report = project / "out" / f"report.{fmt}"
    report.parent.mkdir()
    result = run_check("--output-format", fmt, "-o", str(report), "app")
    assert result.exit_code == 1
    assert result.stdout == ""
    text = report.read_text(encoding="utf-8")
    assert "ASL201" in text
    assert text == run_check("--output-format", fmt, "app").stdout


def test_output_file_with_fix_data():
    """A fix's edits become a SARIF fix; text with non-ASCII survives the file round trip."""
    fix = Fix("safe", "Replace", (Edit("await asyncio.sleep(1)", 1, 1, 1, 14),))
    d = Diagnostic("ASL201", "blocks — é", "a.py", 1, 1, 1, 14, fix)
    log = json.loads(render("sarif", [d]))
    assert log["runs"][0]["results"][0]["message"]["text"] == "blocks — é"
    (change,) = log["runs"][0]["results"][0]["fixes"][0]["artifactChanges"]
    assert change["replacements"] == [
        {
            "deletedRegion": {"startLine": 1, "startColumn": 1, "endLine": 1, "endColumn": 14},
            "insertedContent": {"text": "await asyncio.sleep(1)"},
        }
    ]


def test_the_suggestion_is_a_help_line_of_its_own_in_every_format():
    d = Diagnostic(
        "ASL201", "`time.sleep` blocks the event loop", "a.py", 1, 1, 1, 14, help="Use `await asyncio.sleep(...)`"
    )
    out = io.StringIO()
    write("full", [d], out, ReportContext(source_line=lambda path, row: "time.sleep(1)"))
    assert "ASL201 `time.sleep` blocks the event loop\n" in out.getvalue()
    assert "\n  = help: Use `await asyncio.sleep(...)`\n" in out.getvalue()
    assert json.loads(render("json", [d]))[0]["help"] == "Use `await asyncio.sleep(...)`"
    result = json.loads(render("sarif", [d]))["runs"][0]["results"][0]
    assert result["properties"]["help"] == "Use `await asyncio.sleep(...)`"
    assert "help: Use `await asyncio.sleep(...)`" in render("github", [d])
    # Without a suggestion, no help line.
    plain = io.StringIO()
    write(
        "full", [Diagnostic("ASL201", "m", "a.py", 1, 1, 1, 2)], plain, ReportContext(source_line=lambda path, row: "x")
    )
    assert "help" not in plain.getvalue()
