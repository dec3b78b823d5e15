"""What the repository's documents promise a reader who has only the repository."""

from __future__ import annotations

import re
from pathlib import Path

from asynclint import registry

REPO = Path(__file__).resolve().parents[1]


def _links(text: str) -> list[str]:
    return re.findall(r"\]\(([^)#\s]+)", text)


def test_the_contract_is_in_the_repository_and_documents_point_at_it():
    contract = REPO / "docs" / "RULES.md"
    assert contract.is_file()
    text = contract.read_text(encoding="utf-8")
    for code in registry.all_codes():
        assert code in text, f"{code} is missing from docs/RULES.md"
    for name in ("CONTRIBUTING.md", "examples/EXPECTED.md"):
        document = REPO / name
        body = document.read_text(encoding="utf-8")
        assert "../shared" not in body, name
        assert "docs/RULES.md" in body, name
        for link in _links(body):
            if "://" not in link:
                assert (document.parent / link).exists(), f"{name}: broken link {link}"
