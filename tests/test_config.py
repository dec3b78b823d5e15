"""[tool.asynclint]: every key, its validation, and where settings come from."""

from __future__ import annotations

import pytest

from asynclint.config import ConfigError, Settings, load_settings, requires_python_floor


def write(tmp_path, body: str):
    (tmp_path / "pyproject.toml").write_text(body)
    return tmp_path


def test_defaults_without_pyproject(tmp_path):
    settings = load_settings([str(tmp_path)])
    assert settings.target_version == (3, 11)
    assert "ASL201" in settings.enabled_codes()


def test_all_keys(tmp_path):
    write(
        tmp_path,
        """
[tool.asynclint]
select = ["ASL2"]
extend-select = ["ASL001"]
ignore = ["ASL203"]
per-file-ignores = { "tests/*" = ["ASL201"] }
exclude = ["generated"]
extend-exclude = ["vendor"]
target-version = "py312"
extra-blocking-calls = { ASL202 = ["mylib.fetch"] }
extra-resources = ["mylib.Pool"]
session-types = ["mylib.Db"]
respect-gitignore = false
fix-format = "ruff"
line-length = 100
project-analysis = false
test-files = ["checks/*"]
""",
    )
    s = load_settings([str(tmp_path)])
    assert s.select == ("ASL2",) and s.extend_select == ("ASL001",) and s.ignore == ("ASL203",)
    assert s.target_version == (3, 12)
    assert s.extra_calls_for("ASL202") == ("mylib.fetch",)
    assert s.extra_resources == ("mylib.Pool",) and s.session_types == ("mylib.Db",)
    assert s.respect_gitignore is False and s.fix_format == "ruff" and s.line_length == 100
    assert s.project_analysis is False
    assert "ASL203" not in s.enabled_codes() and "ASL001" in s.enabled_codes()
    assert "ASL201" not in s.codes_for(str(tmp_path / "tests" / "test_x.py"))
    assert "ASL201" in s.codes_for(str(tmp_path / "app" / "x.py"))
    assert s.test_files == ("checks/*",)
    assert "ASL202" not in s.codes_for(str(tmp_path / "checks" / "x.py"))
    assert "ASL202" in s.codes_for(str(tmp_path / "tests" / "test_x.py"))


@pytest.mark.parametrize(
    "relative, testing",
    [
        ("tests/test_api.py", True),
        ("tests/helpers.py", True),  # a folder of tests: its helpers too
        ("src/app/tests/unit/x.py", True),
        ("test/x.py", True),
        ("app/test_x.py", True),
        ("app/x_test.py", True),
        ("conftest.py", True),
        ("app/contests.py", False),
        ("app/testing.py", False),
        ("app/latest/x.py", False),
        ("app/tests.py", False),  # a module, not a folder of tests
        ("app/x.py", False),
    ],
)
def test_default_test_files(tmp_path, relative, testing):
    codes = load_settings([str(tmp_path)]).codes_for(str(tmp_path / relative))
    assert ("ASL203" not in codes) is testing
    # What goes wrong anywhere is still reported there.
    assert {"ASL201", "ASL102", "ASL106", "ASL304"} <= codes


def test_test_files_empty_checks_tests_as_any_code(tmp_path):
    write(tmp_path, "[tool.asynclint]\ntest-files = []\n")
    assert "ASL203" in load_settings([str(tmp_path)]).codes_for(str(tmp_path / "tests" / "test_x.py"))


@pytest.mark.parametrize(
    "body, message",
    [
        ('select = "ASL2"', "select: expected a list of strings"),
        ('select = ["XYZ"]', "unknown rule code or prefix 'XYZ'"),
        ('target-version = "3.11"', "invalid target version '3.11'"),
        ("target-version = 311", "expected a string"),
        ('colour = "red"', "unknown key 'colour'"),
        ("respect-gitignore = 1", "expected true or false"),
        ("line-length = -1", "expected a positive integer"),
        ('fix-format = "black"', 'expected "ruff" or "none"'),
        ('extra-blocking-calls = { ASL101 = ["x"] }', "'ASL101' is not a blocking-call rule"),
        ('extra-blocking-calls = ["x"]', "expected a table"),
        ('per-file-ignores = { "a.py" = "ASL201" }', "expected a list of strings"),
        ('test-files = "tests/*"', "test-files: expected a list of strings"),
    ],
)
def test_invalid_values_name_the_file_and_the_key(tmp_path, body, message):
    write(tmp_path, "[tool.asynclint]\n" + body + "\n")
    with pytest.raises(ConfigError, match=r"tool\.asynclint") as info:
        load_settings([str(tmp_path)])
    assert message in str(info.value)
    assert str(info.value).startswith(f"{(tmp_path / 'pyproject.toml').resolve()}: ")


def test_invalid_toml(tmp_path):
    write(tmp_path, "[tool.asynclint\n")
    with pytest.raises(ConfigError, match="invalid TOML"):
        load_settings([str(tmp_path)])


def test_nearest_pyproject_with_section_wins(tmp_path):
    write(tmp_path, '[tool.asynclint]\nselect = ["ASL20"]\n')
    inner = tmp_path / "pkg"
    inner.mkdir()
    (inner / "pyproject.toml").write_text('[project]\nname = "inner"\n')
    assert load_settings([str(inner)]).select == ("ASL20",)


@pytest.mark.parametrize(
    "spec, floor",
    [(">=3.10", (3, 10)), (">=3.9,<4", (3, 9)), ("~=3.12", (3, 12)), (">3.10", (3, 11)), ("<4", None)],
)
def test_requires_python_floor(spec, floor):
    assert requires_python_floor(spec) == floor


def test_target_from_requires_python_below_311(tmp_path):
    write(tmp_path, '[project]\nrequires-python = ">=3.8"\n')
    assert load_settings([str(tmp_path)]).target_version == (3, 8)


def test_target_below_supported_range_is_clamped(tmp_path):
    write(tmp_path, '[project]\nrequires-python = ">=3.6"\n')
    assert load_settings([str(tmp_path)]).target_version == (3, 7)


@pytest.mark.parametrize("value, target", [("py37", (3, 7)), ("py39", (3, 9)), ("py314", (3, 14))])
def test_target_version_accepts_ruffs_range(tmp_path, value, target):
    write(tmp_path, f'[tool.asynclint]\ntarget-version = "{value}"\n')
    assert load_settings([str(tmp_path)]).target_version == target


def test_target_version_outside_range_is_a_config_error(tmp_path):
    write(tmp_path, '[tool.asynclint]\ntarget-version = "py36"\n')
    with pytest.raises(ConfigError, match="invalid target version 'py36'"):
        load_settings([str(tmp_path)])


def test_fingerprint_is_stable():
    assert Settings().fingerprint() == Settings().fingerprint()


# Each setting that changes a file's findings must change the cache key, or a cached run
# would report what the old setting found.
@pytest.mark.parametrize(
    "change",
    [
        {"select": ("ASL2",)},
        {"extend_select": ("ASL101",)},
        {"ignore": ("ASL201",)},
        {"per_file_ignores": (("tests/*", ("ASL201",)),)},
        {"target_version": (3, 10)},
        {"extra_blocking_calls": (("ASL202", ("mylib.fetch",)),)},
        {"extra_resources": ("mylib.Pool",)},
        {"session_types": ("mylib.Db",)},
        {"project_analysis": False},
        {"test_files": ()},
    ],
    ids=lambda change: next(iter(change)),
)
def test_fingerprint_changes_with_each_setting_that_changes_findings(change):
    assert Settings(**change).fingerprint() != Settings().fingerprint()
