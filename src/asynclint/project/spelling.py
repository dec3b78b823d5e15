"""How code spells the names the index holds: what a module must spell to use one."""

from __future__ import annotations

import re
from collections.abc import Iterable


def spelled(name: str) -> str:
    """How code using it spells a name: `Tx.__init__` (and other dunder methods) is reached
    through the class, `Tx(...)`; anything else by its last part."""
    holder, _, last = name.rpartition(".")
    return holder if last.startswith("__") and last.endswith("__") and holder else name


def spelled_last(names: Iterable[str]) -> frozenset[str]:
    """The last name code spells to use each of these (`spelled`)."""
    return frozenset(spelled(name).rpartition(".")[2] for name in names)


# Every ASCII character that is not a word character (`\w`), as a space.
_NOT_WORD = str.maketrans({chr(i): " " for i in range(128) if not (chr(i).isalnum() or chr(i) == "_")})


def words(text: str) -> frozenset[str]:
    """The words a module spells: its names, keywords and the words in its strings (the
    runs of word characters). Asked of thousands of modules a run: for ASCII text, its
    other characters made spaces and split, three times as fast as the regular expression,
    and the same."""
    if text.isascii():
        return frozenset(text.translate(_NOT_WORD).split())
    return frozenset(re.findall(r"\w+", text))


def holding(holder: str) -> str:
    """Where a name is held, as `ProjectIndex.names()` keeps it: the top-level package and
    the innermost module or class, `shop.db` for `shop.api.db` (`shop.shop` for `shop`)."""
    return f"{holder.partition('.')[0]}.{holder.rpartition('.')[2]}"


def names_any(names: dict[str, frozenset[str]], words: frozenset[str], package: str | None) -> bool:
    """Does a module spelling these words name anything of `ProjectIndex.names()`: a name's
    last part, and its holder and top-level package? `package`: the module's own top-level
    package where it imports relatively (`from . import get_db`), else None; such an import
    reaches any name of that package, and none of another."""
    for last in words:
        held = names.get(last)
        if held is not None and any(
            where.partition(".")[0] == package or _spells_holding(where, words) for where in held
        ):
            return True
    return False


def _spells_holding(where: str, words: frozenset[str]) -> bool:
    top, _, holder = where.partition(".")
    return holder in words and top in words
