"""Module names: a file beside a package of the same name is dead code, not that package."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from asynclint.cli import cli
from asynclint.modules import module_name


def write(root, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_a_module_shadowed_by_a_package_gets_a_name_no_import_spells(tmp_path):
    write(
        tmp_path, {"pkg/__init__.py": "", "pkg/providers.py": "", "pkg/providers/__init__.py": "", "pkg/other.py": ""}
    )
    assert module_name(str(tmp_path / "pkg/providers/__init__.py"), str(tmp_path)) == "pkg.providers"
    assert module_name(str(tmp_path / "pkg/other.py"), str(tmp_path)) == "pkg.other"
    shadowed = module_name(str(tmp_path / "pkg/providers.py"), str(tmp_path))
    assert shadowed != "pkg.providers"
    assert not all(part.isidentifier() for part in shadowed.split("."))


def test_a_top_level_module_shadowed_by_a_package(tmp_path):
    write(tmp_path, {"tools.py": "", "tools/__init__.py": ""})
    assert module_name(str(tmp_path / "tools/__init__.py"), str(tmp_path)) == "tools"
    assert module_name(str(tmp_path / "tools.py"), str(tmp_path)) != "tools"


BLOCKS = "import time\n\ndef helper():\n    time.sleep(1)\n"
QUIET = "def helper():\n    return 1\n"
APP = "from pkg.providers import helper\n\n\nasync def route():\n    helper()\n"


@pytest.mark.parametrize("package, shadowed, reported", [(BLOCKS, QUIET, True), (QUIET, BLOCKS, False)])
def test_imports_resolve_to_the_package_not_the_shadowed_file(tmp_path, package, shadowed, reported):
    # Python imports the package `pkg/providers/`; the facts of `pkg/providers.py` must not
    # stand in for it, whichever of the two is read last.
    write(
        tmp_path,
        {
            "pyproject.toml": "[tool.asynclint]\n",
            "pkg/__init__.py": "",
            "pkg/providers/__init__.py": package,
            "pkg/providers.py": shadowed,
            "pkg/app.py": APP,
        },
    )
    result = CliRunner().invoke(
        cli, ["check", "--no-cache", "--select", "ASL207", "--output-format", "json", str(tmp_path)]
    )
    found = [(d["filename"].rsplit("/", 1)[-1], d["location"]["row"]) for d in json.loads(result.output)]
    assert found == ([("app.py", 5)] if reported else [])
