"""flake8 integration: `flake8 --select ASL` runs asynclint's engine and rules.

flake8 finds this class through the `flake8.extension` entry point `ASL`. It is
a thin adapter, not a second implementation: it hands flake8's `lines` to the
pipeline every entry point uses (`pipeline.run`, project analysis included, so
findings that need other modules are here too) and turns each Diagnostic into
flake8's `(row, 0-based column, "ASLnnn message", type)` tuple.

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
from typing import Any

from asynclint import __version__, noqa
from asynclint.config import Settings
from asynclint.registry import ENGINE_CODES


def settings_for_file(filename: str) -> Settings:
    """The asynclint settings that `asynclint check` would use for this file."""
    from asynclint.pipeline import settings_for

    return settings_for(filename if os.path.exists(filename) else os.getcwd())


# Config problems already reported by this process: once each, not once per file.
_reported: set[str] = set()


class Plugin:
    """flake8 tree plugin. flake8 passes `tree`, `lines` and `filename` by name."""

    name = "asynclint"
    version = __version__

    def __init__(self, tree: ast.AST | None, lines: list[str], filename: str = "stdin") -> None:
        del tree  # flake8 parsed it with ast; asynclint needs LibCST's tree and parses `lines` itself
        self.lines = lines
        self.filename = filename

    def run(self) -> Iterator[tuple[int, int, str, type[Any]]]:
        from asynclint import pipeline
        from asynclint.config import ConfigError
        from asynclint.discovery import DiscoveryError

        text = "".join(self.lines)
        exempt = noqa.file_exemptions(text)  # `# asynclint: noqa` is asynclint's own, flake8 does not know it
        if exempt is not None and not exempt:
            return
        # The same pipeline as `asynclint check FILE --force-exclude`, on flake8's text (stdin,
        # or the file as flake8 read it), with the project's facts: findings are the same.
        # One process (flake8 runs its own), and flake8 applies the line `# noqa` comments.
        request = pipeline.Request(
            paths=(self.filename,), force_exclude=True, apply_noqa=False, jobs=1, sources={self.filename: text}
        )
        try:
            result = pipeline.run(request)
        except (ConfigError, DiscoveryError) as exc:
            # Said once on stderr; flake8 and its other plugins go on with every file.
            message = f"asynclint: error: {exc} (asynclint's findings are skipped)"
            if message not in _reported:
                _reported.add(message)
                sys.stderr.write(message + "\n")
            return
        for error in result.errors:
            sys.stderr.write(
                f"asynclint: internal error: rule {error.rule} failed on {error.path} "
                f"(asynclint {__version__}).\n{error.detail}\n"
            )
        for d in result.diagnostics:
            if d.code in ENGINE_CODES or noqa.is_file_exempt(exempt, d.code):
                continue
            yield d.row, d.col - 1, f"{d.code} {d.message}", type(self)
