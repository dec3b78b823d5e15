"""The rule pages (`rules/ASLnnn.md`), as shipped in the wheel or found in a checkout."""

from __future__ import annotations

from pathlib import Path


def _folders() -> list[Path]:
    # In a wheel the pages are packaged as asynclint/catalogue; in a source checkout
    # (editable install) they are the repository's top-level rules/ folder.
    here = Path(__file__).resolve().parent
    return [here / "catalogue", here.parents[1] / "rules"]


def page(code: str) -> str | None:
    for folder in _folders():
        candidate = folder / f"{code.upper()}.md"
        if candidate.is_file():
            return candidate.read_text(encoding="utf-8")
    return None
