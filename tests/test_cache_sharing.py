"""The cache is keyed by asynclint's code, the settings and each file's content, not by where
the installation or the checkout is; --fix and --diff read it too."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from asynclint import cache, engine, fixer
from asynclint.cli import cli

SLEEPY = "import time\n\nasync def f():\n    time.sleep(1)\n"
UNSAFE_ONLY = "from sqlalchemy.ext.asyncio import async_sessionmaker\n\nSession = async_sessionmaker(engine)\n"


def check(*args, env=None):
    return CliRunner().invoke(cli, ["check", *args], env=env)


@pytest.fixture
def project(tmp_path):
    root = tmp_path / "checkout"
    (root / "app").mkdir(parents=True)
    (root / "pyproject.toml").write_text('[project]\nname = "p"\nrequires-python = ">=3.11"\n')
    (root / "app" / "__init__.py").write_text("")
    (root / "app" / "clean.py").write_text("x = 1\n")
    (root / "app" / "unsafe.py").write_text(UNSAFE_ONLY)
    (root / "app" / "helpers.py").write_text("import time\n\ndef pause():\n    time.sleep(1)\n")
    (root / "app" / "views.py").write_text("from app.helpers import pause\n\nasync def view():\n    pause()\n")
    return root


@pytest.fixture
def count_lints(monkeypatch):
    calls: list[str] = []
    real = engine.lint_text

    def counting(text, path, *args, **kwargs):
        calls.append(os.path.basename(path))
        return real(text, path, *args, **kwargs)

    monkeypatch.setattr(engine, "lint_text", counting)
    monkeypatch.setattr(fixer, "lint_text", counting)
    return calls


def test_a_moved_checkout_keeps_its_cache(project, tmp_path, count_lints):
    first = check("--output-format", "concise", str(project))
    assert first.exit_code == 1 and count_lints
    moved = tmp_path / "elsewhere" / "checkout"
    shutil.copytree(project, moved)  # a CI cache restored into another path: new mtimes too
    shutil.rmtree(project)
    for path in moved.rglob("*.py"):
        os.utime(path, (1_000_000_000, 1_000_000_000))
    count_lints.clear()
    again = check("--output-format", "concise", str(moved))
    assert count_lints == []
    assert again.output == first.output.replace(str(project), str(moved))


def test_a_file_edited_after_the_move_is_linted_again(project, tmp_path, count_lints):
    check(str(project))
    moved = tmp_path / "moved"
    shutil.move(str(project), moved)
    (moved / "app" / "clean.py").write_text("y = 2\n")
    count_lints.clear()
    check(str(moved))
    assert count_lints == ["clean.py"]


def test_the_code_stamp_depends_on_contents_not_on_the_installation(tmp_path):
    package = Path(cache.__file__).resolve().parent
    one, two = tmp_path / "site-a" / "asynclint", tmp_path / "site-b" / "asynclint"
    shutil.copytree(package, one, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(package, two, ignore=shutil.ignore_patterns("__pycache__"))
    for path in two.rglob("*.py"):
        os.utime(path, (2_000_000_000, 2_000_000_000))
    assert cache.stamp_of(one) == cache.stamp_of(two)
    rule = two / "rules" / "asl201_blocking_sleep.py"
    rule.write_text(rule.read_text() + "\n# edited in a development checkout\n")
    assert cache.stamp_of(one) != cache.stamp_of(two)


def test_cache_dir_option_and_environment(project, tmp_path):
    chosen = tmp_path / "ci-cache"
    check("--cache-dir", str(chosen), str(project))
    assert list(chosen.rglob("*.json")) and not (project / ".asynclint_cache").exists()
    from_env = tmp_path / "env-cache"
    check(str(project), env={"ASYNCLINT_CACHE_DIR": str(from_env)})
    assert list(from_env.rglob("*.json")) and not (project / ".asynclint_cache").exists()


def test_fix_and_diff_parse_only_files_with_fixes(project, monkeypatch, count_lints):
    fixed: list[str] = []
    real = fixer.fix_text

    def counting(text, path, *args, **kwargs):
        fixed.append(os.path.basename(path))
        return real(text, path, *args, **kwargs)

    monkeypatch.setattr(fixer, "fix_text", counting)
    (project / "app" / "sleepy.py").write_text(SLEEPY)
    opt_in = ("--extend-select", "ASL303")  # the rule with the unsafe fix
    assert check("--fix", *opt_in, str(project)).exit_code == 1  # ASL303 and ASL207 remain
    assert "await asyncio.sleep(1)" in (project / "app" / "sleepy.py").read_text()
    fixed.clear()
    count_lints.clear()
    assert check("--fix", *opt_in, str(project)).exit_code == 1
    assert fixed == [] and count_lints == []  # nothing to fix: every answer from the cache
    assert check("--diff", *opt_in, str(project)).exit_code == 0
    assert fixed == []
    # The unsafe fix is one to apply under --unsafe-fixes: that file is fixed, only it.
    result = check("--diff", "--unsafe-fixes", *opt_in, str(project))
    assert result.exit_code == 1 and fixed == ["unsafe.py"]
    assert "expire_on_commit=False" in result.output


def test_a_recheck_after_one_edit_rewrites_only_that_files_shard(project):
    # A large project's cache is megabytes: spread over shards by path, a re-check after an
    # edit writes back only the shard that holds the edited file.
    for number in range(40):
        (project / "app" / f"m{number}.py").write_text(f"def f{number}():\n    return {number}\n")
    assert check(str(project)).exit_code == 1
    shards = [p for p in (project / ".asynclint_cache").rglob("*.json") if p.parent.name != cache.__version__]
    assert len({p.parent for p in shards}) >= 1 and len(shards) > 1
    before = {p: p.stat().st_mtime_ns for p in shards}
    views = project / "app" / "views.py"
    stamp = views.stat().st_mtime_ns + 1_000_000_000
    views.write_text(views.read_text() + "# edited\n")
    os.utime(views, ns=(stamp, stamp))
    result = check("--output-format", "concise", str(project))
    assert "views.py:4:5: ASL207" in result.output
    rewritten = [p for p in shards if p.stat().st_mtime_ns != before[p]]
    key = os.path.relpath(views, project).replace(os.sep, "/")
    assert [p.name for p in rewritten] == [f"{cache.zlib.crc32(key.encode()) % cache.SHARDS:02d}.json"]


def test_clean_removes_the_caches_below_and_the_chosen_one(project, tmp_path, monkeypatch):
    nested = project / "tools" / "sub"
    nested.mkdir(parents=True)
    (nested / "pyproject.toml").write_text('[project]\nname = "sub"\n')
    (nested / "x.py").write_text(SLEEPY)
    elsewhere = tmp_path / "ci-cache"
    assert check(str(project)).exit_code == 1
    assert check(str(nested)).exit_code == 1
    assert check("--cache-dir", str(elsewhere), str(project)).exit_code == 1
    caches = [project / ".asynclint_cache", nested / ".asynclint_cache", elsewhere]
    assert all(folder.is_dir() for folder in caches)
    monkeypatch.chdir(project)
    result = CliRunner().invoke(cli, ["clean", "--cache-dir", str(elsewhere)])
    assert result.exit_code == 0, result.output
    assert not any(folder.exists() for folder in caches)
    assert sorted(line for line in result.output.splitlines()) == sorted(
        [
            "Removing cache at: .asynclint_cache",
            f"Removing cache at: {os.path.join('tools', 'sub', '.asynclint_cache')}",
            f"Removing cache at: {elsewhere}",
        ]
    )
    assert (nested / "x.py").read_text() == SLEEPY and len(list(project.rglob("*.py"))) == 6
    again = CliRunner().invoke(cli, ["clean"])
    assert again.exit_code == 0 and again.output == ""


def test_clean_of_a_missing_path_is_a_usage_error(tmp_path):
    result = CliRunner().invoke(cli, ["clean", str(tmp_path / "nowhere")])
    assert result.exit_code == 2 and "no such file or directory" in result.output


def test_clean_leaves_a_chosen_folder_asynclint_did_not_make(tmp_path, monkeypatch):
    # `ASYNCLINT_CACHE_DIR=~/.cache` by mistake: the user's other caches must survive.
    other = tmp_path / "dot-cache"
    (other / "pip").mkdir(parents=True)
    (other / "pip" / "wheel").write_text("keep me")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["clean"], env={"ASYNCLINT_CACHE_DIR": str(other)})
    assert result.exit_code == 2 and "not a cache asynclint made" in result.output
    assert (other / "pip" / "wheel").read_text() == "keep me"
