"""`[tool.asynclint]` in pyproject.toml -> one frozen Settings object.

Unknown keys and wrong types are errors naming the key; the CLI turns them into
a one-line message and exit code 2.
"""

from __future__ import annotations

import fnmatch
import re
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

from asynclint.registry import EXTRA_CALL_CODES, NOT_IN_TESTS, OPT_IN, all_codes

DEFAULT_TARGET = (3, 11)
# Test code as pytest finds it: its file names, and the folders tests are kept in.
# Also a package's `testing` helpers (`litestar/testing/`, `sqlalchemy/testing/`): code for
# its users' tests, judged NOISE by every blind review that met it (benchmarks/REVIEW.md).
DEFAULT_TEST_FILES = (
    "test_*.py",
    "*_test.py",
    "conftest.py",
    "tests/*",
    "*/tests/*",
    "test/*",
    "*/test/*",
    "testing/*",
    "*/testing/*",
)
# ruff's range: below 3.11 every target behaves alike (the rules needing 3.11 are off), but a
# project that supports 3.9 must be able to say so without a config error.
SUPPORTED_TARGETS = [(3, minor) for minor in range(7, 15)]
_S = TypeVar("_S")
_R = TypeVar("_R")


def cached_property_frozen(method: Callable[[_S], _R]) -> Callable[[_S], _R]:
    """functools.cached_property for a frozen dataclass (stores via object.__setattr__)."""
    attribute = f"_cached_{method.__name__}"

    def getter(self: _S) -> _R:
        try:
            cached: _R = object.__getattribute__(self, attribute)
            return cached
        except AttributeError:
            value = method(self)
            object.__setattr__(self, attribute, value)
            return value

    getter.__name__ = method.__name__
    return getter


class ConfigError(Exception):
    """A bad setting or option: shown as one line, exit code 2."""


@dataclass(frozen=True)
class Settings:
    select: tuple[str, ...] = ("ASL",)
    extend_select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()
    exclude: tuple[str, ...] = ()
    extend_exclude: tuple[str, ...] = ()
    target_version: tuple[int, int] = DEFAULT_TARGET
    # code -> extra qualified names that block, e.g. {"ASL202": ("mylib.fetch",)}
    extra_blocking_calls: tuple[tuple[str, tuple[str, ...]], ...] = ()
    extra_resources: tuple[str, ...] = ()
    session_types: tuple[str, ...] = ()
    respect_gitignore: bool = True
    fix_format: str | None = None
    line_length: int = 88
    project_analysis: bool = True
    # ASL207 follows chains into file operations (ASL204's calls) too; off by default: a
    # helper reading a prompt, config or pid file is rarely worth a thread.
    helper_file_io: bool = False
    # Test code, where the rules about throughput and lifetimes are silent (`NOT_IN_TESTS`).
    test_files: tuple[str, ...] = DEFAULT_TEST_FILES
    # Where the settings came from; not part of the cache key.
    root: str = field(default=".", compare=False)
    config_file: str | None = field(default=None, compare=False)

    @cached_property_frozen
    def enabled_codes(self) -> frozenset[str]:
        chosen = set()
        selected = self.select + self.extend_select
        for code in all_codes():
            if code in OPT_IN and code not in selected and "ALL" not in selected:
                continue  # named by its full code (or ALL, as ruff's), not by a prefix
            if matches(code, selected) and not matches(code, self.ignore):
                chosen.add(code)
        return frozenset(chosen)

    def codes_for(self, path: str) -> frozenset[str]:
        """The enabled codes for one file, after per-file-ignores and in test code."""
        return _codes_for(self, self.root, path)  # (asked several times per file)

    def extra_calls_for(self, code: str) -> tuple[str, ...]:
        return dict(self.extra_blocking_calls).get(code, ())

    def fingerprint(self) -> str:
        """A stable hash of everything that changes findings (for the cache key)."""
        data = asdict(self)
        data.pop("root")
        data.pop("config_file")
        data["enabled"] = sorted(self.enabled_codes())
        import hashlib  # here, like tomllib below: a run without a cache or a config needs neither
        import json

        return hashlib.sha256(json.dumps(data, sort_keys=True, default=list).encode()).hexdigest()[:16]


@lru_cache(maxsize=8192)
def _codes_for(settings: Settings, root: str, path: str) -> frozenset[str]:
    # `root` apart: settings equal but for their root (not compared) match other paths.
    codes = settings.enabled_codes()
    testing = settings.test_files and not codes.isdisjoint(NOT_IN_TESTS)
    if not (settings.per_file_ignores or testing):
        return codes
    relative = relative_path(path, root)
    if testing and any(glob_matches(relative, glob) for glob in settings.test_files):
        codes -= NOT_IN_TESTS
    ignored = [sel for glob, sels in settings.per_file_ignores if glob_matches(relative, glob) for sel in sels]
    return frozenset(code for code in codes if not matches(code, ignored)) if ignored else codes


def path_matches(path: str, glob: str, root: str) -> bool:
    """A glob such as `tests/*` against the path relative to the project root; a bare
    file name pattern (`conftest.py`) matches in any folder."""
    return glob_matches(relative_path(path, root), glob)


@lru_cache(maxsize=16384)
def relative_path(path: str, root: str) -> str:
    """`path` relative to the project root, with forward slashes (as given when outside it)."""
    try:
        return Path(path).resolve().relative_to(Path(root).resolve()).as_posix()
    except ValueError:
        return Path(path).as_posix()


def glob_matches(relative: str, glob: str) -> bool:
    if "/" not in glob.rstrip("/"):
        return fnmatch.fnmatch(Path(relative).name, glob) or fnmatch.fnmatch(relative, glob)
    return fnmatch.fnmatch(relative, glob.rstrip("/")) or fnmatch.fnmatch(relative, glob.rstrip("/") + "/*")


def matches(code: str, selectors: Iterable[str]) -> bool:
    return any(sel == "ALL" or code.startswith(sel) for sel in selectors)


def check_selectors(selectors: Iterable[str], where: str) -> tuple[str, ...]:
    codes = all_codes()
    result = []
    for raw in selectors:
        sel = raw.strip().upper()
        if not sel:
            continue
        if sel != "ALL" and not any(code.startswith(sel) for code in codes):
            raise ConfigError(f"{where}: unknown rule code or prefix {raw!r}")
        result.append(sel)
    return tuple(result)


def parse_target(value: str, where: str) -> tuple[int, int]:
    match = re.fullmatch(r"py3(\d{1,2})", value.strip().lower())
    if not match or (3, int(match.group(1))) not in SUPPORTED_TARGETS:
        allowed = ", ".join(f"py3{m}" for _, m in SUPPORTED_TARGETS)
        raise ConfigError(f"{where}: invalid target version {value!r} (expected one of {allowed})")
    return (3, int(match.group(1)))


def requires_python_floor(spec: str) -> tuple[int, int] | None:
    """The lowest 3.x a `requires-python` specifier admits (">=3.10,<4" -> (3, 10))."""
    floors = []
    for clause in spec.split(","):
        match = re.match(r"\s*(>=|~=|==|>)\s*3\.(\d+)", clause)
        if match:
            minor = int(match.group(2)) + (1 if match.group(1) == ">" else 0)
            floors.append(minor)
    return (3, max(floors)) if floors else None


# key -> (attribute, kind); kind drives validation.
_KEYS = {
    "select": ("select", "codes"),
    "extend-select": ("extend_select", "codes"),
    "ignore": ("ignore", "codes"),
    "per-file-ignores": ("per_file_ignores", "per-file"),
    "exclude": ("exclude", "strings"),
    "extend-exclude": ("extend_exclude", "strings"),
    "target-version": ("target_version", "target"),
    "extra-blocking-calls": ("extra_blocking_calls", "blocking"),
    "extra-resources": ("extra_resources", "strings"),
    "session-types": ("session_types", "strings"),
    "respect-gitignore": ("respect_gitignore", "bool"),
    "fix-format": ("fix_format", "formatter"),
    "line-length": ("line_length", "int"),
    "project-analysis": ("project_analysis", "bool"),
    "helper-file-io": ("helper_file_io", "bool"),
    "test-files": ("test_files", "strings"),
}


def _strings(value: object, key: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"[tool.asynclint] {key}: expected a list of strings, got {value!r}")
    return tuple(value)


def _convert(key: str, kind: str, value: Any) -> Any:
    where = f"[tool.asynclint] {key}"
    if kind == "codes":
        return check_selectors(_strings(value, key), where)
    if kind == "strings":
        return _strings(value, key)
    if kind == "bool":
        if not isinstance(value, bool):
            raise ConfigError(f"{where}: expected true or false, got {value!r}")
        return value
    if kind == "int":
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            raise ConfigError(f"{where}: expected a positive integer, got {value!r}")
        return value
    if kind == "target":
        if not isinstance(value, str):
            raise ConfigError(f'{where}: expected a string such as "py311", got {value!r}')
        return parse_target(value, where)
    if kind == "formatter":
        if value not in ("ruff", "none"):
            raise ConfigError(f'{where}: expected "ruff" or "none", got {value!r}')
        return None if value == "none" else value
    if kind == "per-file":
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: expected a table of glob = [codes], got {value!r}")
        return tuple(
            (glob, check_selectors(_strings(codes, f"{key}.{glob}"), f"{where}.{glob}"))
            for glob, codes in value.items()
        )
    if kind == "blocking":
        if not isinstance(value, dict):
            raise ConfigError(f'{where}: expected a table such as {{ ASL202 = ["mylib.fetch"] }}, got {value!r}')
        for code in value:
            if code not in EXTRA_CALL_CODES:
                raise ConfigError(f"{where}: {code!r} is not a blocking-call rule ({', '.join(EXTRA_CALL_CODES)})")
        return tuple((code, _strings(names, f"{key}.{code}")) for code, names in sorted(value.items()))
    raise AssertionError(kind)


def _read_toml(path: Path) -> dict[str, Any]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised on 3.10 only
        import tomli as tomllib

    try:
        with path.open("rb") as handle:
            table: dict[str, Any] = tomllib.load(handle)
            return table
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None


def find_pyproject(start: Path) -> tuple[Path | None, dict[str, Any]]:
    """The nearest pyproject.toml with [tool.asynclint], else the nearest one at all."""
    start = start.resolve()
    directory = start if start.is_dir() else start.parent
    nearest: tuple[Path | None, dict[str, Any]] = (None, {})
    for folder in (directory, *directory.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            data = _read_toml(candidate)
            tool = data.get("tool", {})
            if not isinstance(tool, dict):
                raise ConfigError(f"{candidate}: `tool` must be a table")
            if "asynclint" in tool:
                return candidate, data
            if nearest[0] is None:
                nearest = (candidate, data)
    return nearest


def settings_from_data(data: dict[str, Any], source: Path | None) -> Settings:
    tool = data.get("tool", {})
    if not isinstance(tool, dict):
        raise ConfigError(f"{source}: `tool` must be a table")
    table = tool.get("asynclint", {})
    if not isinstance(table, dict):
        raise ConfigError(f"{source}: [tool.asynclint] must be a table")
    values = {}
    where = f"{source}: " if source else ""  # every message names the file it comes from
    for key, value in table.items():
        if key not in _KEYS:
            known = ", ".join(sorted(_KEYS))
            raise ConfigError(f"{where}[tool.asynclint] unknown key {key!r} (known keys: {known})")
        attribute, kind = _KEYS[key]
        try:
            values[attribute] = _convert(key, kind, value)
        except ConfigError as exc:
            raise ConfigError(f"{where}{exc}") from None
    if "target_version" not in values:
        project = data.get("project")
        requires = project.get("requires-python") if isinstance(project, dict) else None
        floor = requires_python_floor(requires) if isinstance(requires, str) else None
        if floor is not None:
            values["target_version"] = max(floor, SUPPORTED_TARGETS[0])
    root = str(source.parent) if source else "."
    return Settings(**values, root=root, config_file=str(source) if source else None)


def load_settings(paths: Sequence[str], config_file: str | None = None) -> Settings:
    if config_file:
        given = Path(config_file)
        if not given.is_file():
            raise ConfigError(f"--config: no such file: {config_file}")
        return settings_from_data(_read_toml(given), given.resolve())
    start = Path(paths[0]) if paths else Path.cwd()
    source, data = find_pyproject(start if start.exists() else Path.cwd())
    if source is None:
        return Settings(root=str(Path.cwd()))
    return settings_from_data(data, source)


def with_overrides(settings: Settings, **overrides: Any) -> Settings:
    present = {key: value for key, value in overrides.items() if value is not None}
    return replace(settings, **present) if present else settings
