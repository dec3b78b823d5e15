"""Optional formatting of fixed files with ruff's formatter (`fix-format = "ruff"`).

Only files a fix changed get here. Needs the `ruff` extra: `pip install asynclint[ruff]`.
"""

from __future__ import annotations

from asynclint.config import Settings


class FormatterMissing(Exception):
    pass


def format_fixed(original: str, fixed: str, path: str, settings: Settings) -> str:
    """The text `--fix` writes for `original`, fixed as `fixed`: formatted where the settings
    ask for it, and only where a fix changed something."""
    if fixed == original or settings.fix_format != "ruff":
        return fixed
    return format_with_ruff(fixed, path, settings)


def format_with_ruff(text: str, path: str, settings: Settings) -> str:
    try:
        import ruff_api
    except ImportError:
        raise FormatterMissing('fix-format = "ruff" needs the ruff extra: pip install "asynclint[ruff]"') from None
    major, minor = settings.target_version
    options = ruff_api.FormatOptions(line_width=settings.line_length, target_version=f"py{major}{minor}")
    try:
        formatted = ruff_api.format_string(path, text, options)
    except ruff_api.RuffError:
        return text  # the fixed text parsed for us; if ruff disagrees, keep it unformatted
    # ruff_api writes LF only (it has no line-ending option); the file keeps its own
    # endings, those of its first line, as ruff's own `line-ending = "auto"` does.
    newline = _first_newline(text)
    if newline != "\n":
        formatted = formatted.replace("\n", newline)
    return formatted


def _first_newline(text: str) -> str:
    for index, char in enumerate(text):
        if char == "\n":
            return "\n"
        if char == "\r":
            return "\r\n" if text[index + 1 : index + 2] == "\n" else "\r"
    return "\n"
