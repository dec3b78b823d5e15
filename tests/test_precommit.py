"""The pre-commit hooks in .pre-commit-hooks.yaml, run for real with `pre-commit try-repo`.

try-repo clones a commit, so the test commits a copy of the current working tree
to a temporary git repository (the code under test, not whatever HEAD holds) and
points pre-commit at it, from a second temporary repository holding a bad file.
pre-commit builds a virtualenv and pip-installs asynclint into it, which takes a
while: one try-repo run covers both hooks.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

_NOT_COPIED = shutil.ignore_patterns(
    ".git",
    ".venv",
    ".ci-venv",
    "venv",
    "__pycache__",
    "*.egg-info",
    ".pytest_cache",
    ".hypothesis",
    ".asynclint_cache",
    ".mypy_cache",
    ".ruff_cache",
    "build",
    "dist",
    "node_modules",
    "*.pyc",
)

BAD = """\
import time


async def handler():
    time.sleep(1)
    return 1
"""


def _git_env(home: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("GIT_", "PRE_COMMIT"))}
    env.update(
        HOME=str(home),  # no user git config (hooks paths, signing) leaks in
        GIT_CONFIG_NOSYSTEM="1",
        GIT_AUTHOR_NAME="asynclint tests",
        GIT_AUTHOR_EMAIL="tests@example.invalid",
        GIT_COMMITTER_NAME="asynclint tests",
        GIT_COMMITTER_EMAIL="tests@example.invalid",
        PRE_COMMIT_HOME=str(home / "pre-commit-cache"),
        PIP_DISABLE_PIP_VERSION_CHECK="1",
    )
    return env


def _git(cwd: Path, env: dict[str, str], *args: str) -> None:
    subprocess.run(
        ["git", "-c", "commit.gpgsign=false", "-c", "init.defaultBranch=main", *args],
        cwd=cwd,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )


def test_hook_manifest_is_what_pre_commit_expects():
    yaml = pytest.importorskip("yaml", reason="PyYAML comes with pre-commit, in the `test` extra")
    hooks = {hook["id"]: hook for hook in yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())}
    assert set(hooks) == {"asynclint", "asynclint-fix"}
    for hook in hooks.values():
        assert hook["language"] == "python"
        assert hook["types"] == ["python"]  # not .pyi: a stub never runs
        assert hook["require_serial"] is True
        assert hook["entry"].startswith("asynclint check ") and "--force-exclude" in hook["entry"].split()
    assert "--fix" in hooks["asynclint-fix"]["entry"].split()
    assert "--fix" not in hooks["asynclint"]["entry"].split()


@pytest.mark.skipif(shutil.which("git") is None, reason="pre-commit try-repo needs git, and git is not installed")
def test_try_repo_fails_on_a_finding_and_fix_hook_changes_the_file(tmp_path):
    pytest.importorskip("pre_commit", reason="pre-commit is in the `test` extra: pip install -e '.[test]'")
    home = tmp_path / "home"
    home.mkdir()
    env = _git_env(home)

    # The current working tree, committed, is the hook repository.
    hook_repo = tmp_path / "asynclint"
    shutil.copytree(REPO, hook_repo, ignore=_NOT_COPIED, symlinks=True)
    _git(hook_repo, env, "init", "-q")
    _git(hook_repo, env, "add", "-A")
    _git(hook_repo, env, "commit", "-q", "-m", "working tree under test")

    # A project that uses the hooks: one bad file, one bad file its config excludes, one .pyi.
    project = tmp_path / "project"
    (project / "app").mkdir(parents=True)
    (project / "legacy").mkdir()
    (project / "pyproject.toml").write_text('[tool.asynclint]\nexclude = ["legacy"]\n', encoding="utf-8")
    (project / "app" / "handlers.py").write_text(BAD, encoding="utf-8")
    (project / "legacy" / "old.py").write_text(BAD, encoding="utf-8")
    (project / "app" / "notes.txt").write_text("time.sleep(1)\n", encoding="utf-8")
    _git(project, env, "init", "-q")
    _git(project, env, "add", "-A")

    proc = subprocess.run(
        [sys.executable, "-m", "pre_commit", "try-repo", str(hook_repo), "--all-files", "--color=never"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 1, output
    assert "An unexpected error has occurred" not in output, output

    # Hook 1 (check) fails and names the finding; the excluded file stays excluded.
    status = {
        line.split(".", 1)[0].strip(): line.rsplit(".", 1)[-1].strip()
        for line in output.splitlines()
        if line.rstrip().endswith(("Failed", "Passed"))
    }
    assert status == {"asynclint": "Failed", "asynclint (fix)": "Failed"}, output
    assert "app/handlers.py:5:5: ASL201" in output, output
    assert "legacy/old.py" not in output, output

    # Hook 2 (fix) changed the file, which fails the commit as pre-commit expects.
    assert "files were modified by this hook" in output, output
    fixed = (project / "app" / "handlers.py").read_text(encoding="utf-8")
    assert "await asyncio.sleep(1)" in fixed and "import asyncio" in fixed
    assert (project / "legacy" / "old.py").read_text(encoding="utf-8") == BAD


def _readme_local_hook() -> str:
    """The `repo: local` configuration the README shows, exactly as written there."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    after = readme.split("<!-- pre-commit-local", 1)[1]
    return after.split("```yaml\n", 1)[1].split("```", 1)[0]


def test_readme_local_hook_names_a_placeholder_git_url():
    config = _readme_local_hook()
    assert "repo: local" in config and "language: python" in config
    assert '"asynclint @ git+https://<your-git-host>/asynclint.git"' in config


@pytest.mark.skipif(shutil.which("git") is None, reason="pre-commit needs git, and git is not installed")
def test_readme_local_hook_works_as_written(tmp_path):
    # The README's block, with the placeholder URL replaced by a path to a copy of this
    # working tree (pip installs from it without the network).
    pytest.importorskip("pre_commit", reason="pre-commit is in the `test` extra: pip install -e '.[test]'")
    home = tmp_path / "home"
    home.mkdir()
    env = _git_env(home)
    checkout = tmp_path / "asynclint"
    shutil.copytree(REPO, checkout, ignore=_NOT_COPIED, symlinks=True)

    project = tmp_path / "project"
    (project / "app").mkdir(parents=True)
    (project / "app" / "handlers.py").write_text(BAD, encoding="utf-8")
    (project / "app" / "clean.py").write_text("x = 1\n", encoding="utf-8")
    config = _readme_local_hook().replace("asynclint @ git+https://<your-git-host>/asynclint.git", str(checkout))
    (project / ".pre-commit-config.yaml").write_text(config, encoding="utf-8")
    _git(project, env, "init", "-q")
    _git(project, env, "add", "-A")

    proc = subprocess.run(
        [sys.executable, "-m", "pre_commit", "run", "--all-files", "--color=never"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 1, output
    assert "An unexpected error has occurred" not in output, output
    assert "Failed" in output and "app/handlers.py:5:5: ASL201" in output, output
