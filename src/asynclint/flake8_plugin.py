"""flake8 integration: `flake8 --select ASL` runs asynclint's engine and rules.

flake8 finds this class through the `flake8.extension` entry point `ASL`. It is
a thin adapter, not a second implementation: it hands flake8's `lines` to
`engine.lint_text` and turns each Diagnostic into flake8's
`(row, 0-based column, "ASLnnn message", type)` tuple.

What stays asynclint's business under flake8: the `[tool.asynclint]` table of
the nearest pyproject.toml (found from the checked file's path), so the plugin
reports exactly what `asynclint check` reports for the same file and config,
including `exclude` (as with `--force-exclude`) and the file-level
`# asynclint: noqa` opt-out. What becomes flake8's business: line `# noqa`
comments (flake8 applies them, with its own rules), flake8's own
`--select/--ignore/--per-file-ignores` (applied on top), and syntax errors
(flake8 reports E999 and never calls tree plugins on a file it cannot parse; a
file only LibCST rejects yields nothing, ASL001/ASL002 are never reported here).
"""

from __future__ import annotations

import ast
import os
import sys
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

from asynclint import __version__, noqa
from asynclint.config import Settings, load_settings
from asynclint.registry import ENGINE_CODES


@lru_cache(maxsize=256)
def _settings_for_folder(folder: str) -> Settings:
    # load_settings searches upward from the path it is given for the nearest
    # pyproject.toml with [tool.asynclint]; files in one folder share the answer.
    return load_settings([folder])


def settings_for_file(filename: str) -> Settings:
    """The asynclint settings that `asynclint check` would use for this file."""
    path = Path(filename)
    folder = path.parent if path.parent.is_dir() else Path.cwd()
    return _settings_for_folder(str(folder.resolve()))


def _excluded(filename: str, settings: Settings) -> bool:
    if not os.path.isfile(filename):
        return False  # stdin, or a name flake8 made up
    from asynclint.discovery import discover

    return not discover([filename], settings, force_exclude=True)


@lru_cache(maxsize=None)
def _config_error(message: str) -> None:
    sys.stderr.write(f"asynclint: error: {message} (the asynclint plugin checks nothing until it is fixed)\n")


class Plugin:
    """flake8 tree plugin. flake8 passes `tree`, `lines` and `filename` by name."""

    name = "asynclint"
    version = __version__

    def __init__(self, tree: ast.AST | None, lines: list[str], filename: str = "stdin") -> None:
        del tree  # flake8 parsed it with ast; asynclint needs LibCST's tree and parses `lines` itself
        self.lines = lines
        self.filename = filename

    def run(self) -> Iterator[tuple[int, int, str, type[Any]]]:
        from asynclint.engine import lint_standalone

        from asynclint.config import ConfigError
        from asynclint.discovery import DiscoveryError

        text = "".join(self.lines)
        try:
            settings = settings_for_file(self.filename)
            if _excluded(self.filename, settings):
                return
        except (ConfigError, DiscoveryError) as exc:
            # flake8 runs every installed plugin: a mistake in asynclint's config must not
            # take pyflakes' and the others' findings down with it. Said once (a process).
            _config_error(str(exc))
            return
        exempt = noqa.file_exemptions(text)  # `# asynclint: noqa` is asynclint's own, flake8 does not know it
        if exempt is not None and not exempt:
            return
        result = lint_standalone(text, self.filename, settings, apply_noqa=False)
        for error in result.errors:
            sys.stderr.write(
                f"asynclint: internal error: rule {error.rule} failed on {error.path} "
                f"(asynclint {__version__}).\n{error.detail}\n"
            )
        for d in result.diagnostics:
            if d.code in ENGINE_CODES or noqa.is_file_exempt(exempt, d.code):
                continue
            yield d.row, d.col - 1, f"{d.code} {d.message}", type(self)
