"""Files and imports -> dotted module names, for resolving names across the project's modules."""

from __future__ import annotations

import functools
import os
from pathlib import Path

SHADOWED = "!shadowed"


def module_name(path: str, root: str) -> str:
    """The dotted module name of a file: through its packages (folders with an
    `__init__.py`), else relative to the project root, minus a `src/` layout prefix."""
    folder, packages = _packages(os.path.dirname(os.path.abspath(path)))
    file = folder / os.path.basename(path)
    stem = file.stem
    if stem != "__init__" and (folder / stem / "__init__.py").exists():
        # `x.py` beside a package `x/`: `import x` finds the package, so the file is dead code.
        # A name no import can spell keeps its facts from overwriting the package's.
        stem += SHADOWED
    parts = ([] if stem == "__init__" else [stem]) + list(packages)
    if len(parts) <= 1 and file.stem != "__init__":
        try:
            relative = file.relative_to(Path(root).resolve()).with_suffix("")
            rel = [*relative.parts[:-1], stem]
            if rel and rel[0] == "src":
                rel = rel[1:]
            if rel:
                return ".".join(rel)
        except ValueError:
            pass
    return ".".join(reversed(parts)) or stem


@functools.lru_cache(maxsize=4096)
def _packages(folder: str) -> tuple[Path, tuple[str, ...]]:
    """A folder, resolved, and the packages it is in, innermost first (once per folder: every
    module of a large project asks)."""
    resolved = Path(folder).resolve()
    packages = []
    current = resolved
    while (current / "__init__.py").exists():
        packages.append(current.name)
        if current.parent == current:
            break
        current = current.parent
    return resolved, tuple(packages)


def absolute_import(module: str, relative: str, is_package: bool) -> str:
    """`.x.y` imported in package `a.b` (module `a.b.c`) -> `a.b.x.y`."""
    dots = len(relative) - len(relative.lstrip("."))
    if not dots:
        return relative
    base = module.split(".")
    # In a package's __init__, one dot means the package itself.
    drop = dots - 1 if is_package else dots
    base = base[: len(base) - drop] if drop else base
    rest = relative[dots:]
    return ".".join([*base, rest]) if rest else ".".join(base)
