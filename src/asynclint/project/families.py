"""The rules that consult the project index, by family (each rule's `index_family`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from asynclint import registry

if TYPE_CHECKING:
    from asynclint.config import Settings

# The rules that consult the project index (each rule's `index_family`).
BLOCKING_CODES = registry.INDEX_FAMILIES["blocking"]


SESSION_CODES = registry.INDEX_FAMILIES["sessions"]


RESOURCE_CODES = registry.INDEX_FAMILIES["resources"]


ORM_CODES = registry.INDEX_FAMILIES["orm"]


TASK_CODES = registry.INDEX_FAMILIES["tasks"]


TYPE_CODES = registry.INDEX_FAMILIES["types"]


PROJECT_CODES = frozenset().union(*registry.INDEX_FAMILIES.values())


def uses_index(settings: Settings) -> bool:
    """Does a run with these settings build the project index: project analysis on, and a
    rule enabled that consults it?"""
    return bool(settings.project_analysis and PROJECT_CODES & settings.enabled_codes())
