"""Project-wide analysis: facts per module, and an index that joins them.

Single-file linters cannot see that `Step()` in an async route blocks because
`Step.__init__`, two modules away, calls `time.sleep`. Here every module of the
project contributes plain facts (its functions, whether each is async or
cached, what each calls, which calls block), collected in the engine's
traversal and cached by content hash; the index derives, to a fixed point,
which sync project functions block and through which chain.

Facts are JSON-able dicts so they cache and cross process boundaries:
    {"module": "shop.helpers",
     "functions": {qualname: {"async": bool, "cached": bool, "display": str,
                              "calls": [qualname, ...], "blocking": [[code, what], ...]}},
     "classes": {qualname: {"display": str}},
     "exports": {qualname: qualname},     # module-level imports, for re-exports
     "async_calls": [qualname, ...]}      # project calls made from async code
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


def module_name(path: str, root: str) -> str:
    """The dotted module name of a file: through its packages (folders with an
    `__init__.py`), else relative to the project root, minus a `src/` layout prefix."""
    file = Path(path).resolve()
    parts = [] if file.stem == "__init__" else [file.stem]
    folder = file.parent
    while (folder / "__init__.py").exists():
        parts.append(folder.name)
        if folder.parent == folder:
            break
        folder = folder.parent
    if len(parts) <= 1 and file.stem != "__init__":
        try:
            relative = file.relative_to(Path(root).resolve()).with_suffix("")
            rel = list(relative.parts)
            if rel and rel[0] == "src":
                rel = rel[1:]
            if rel:
                return ".".join(rel)
        except ValueError:
            pass
    return ".".join(reversed(parts)) or file.stem


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


@dataclass
class ProjectIndex:
    """What project-wide analysis tells the rules: for each project function or class
    that blocks when called, the chain that shows why."""

    blocking: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def build(cls, all_facts: list[dict]) -> ProjectIndex:
        functions: dict[str, dict] = {}
        classes: dict[str, dict] = {}
        exports: dict[str, str] = {}
        for facts in all_facts:
            functions.update(facts.get("functions", {}))
            classes.update(facts.get("classes", {}))
            exports.update(facts.get("exports", {}))

        def resolve(name: str, seen=None) -> str:
            # Follow re-exports (`from .impl import helper` in a package __init__).
            seen = seen or set()
            while name in exports and name not in seen:
                seen.add(name)
                name = exports[name]
            return name

        chains: dict[str, list[str]] = {}
        # Direct blockers first, then propagate through sync callers until nothing changes.
        for name, info in functions.items():
            if not info["async"] and not info["cached"] and info["blocking"]:
                chains[name] = [info["display"], info["blocking"][0][1]]
        changed = True
        while changed:
            changed = False
            for name, info in functions.items():
                if name in chains or info["async"] or info["cached"]:
                    continue
                for callee in info["calls"]:
                    target = _callable_target(resolve(callee), functions, classes)
                    if target is not None and target[0] in chains and target[0] != name:
                        chains[name] = [info["display"], *target[1], *chains[target[0]]]
                        changed = True
                        break
        index = cls()
        # What a call site may name: a function, or a class whose __init__ blocks.
        for name in functions:
            if name in chains:
                index.blocking[name] = chains[name]
        for name, info in classes.items():
            init = f"{name}.__init__"
            if init in chains:
                index.blocking[name] = [f"{info['display']}()", *chains[init]]
        for alias in exports:
            target = resolve(alias)
            if target in index.blocking:
                index.blocking[alias] = index.blocking[target]
        return index


def _callable_target(name: str, functions: dict, classes: dict) -> tuple[str, list[str]] | None:
    """A called name -> (function to follow, extra chain steps shown before it)."""
    if name in functions:
        return name, []
    if name in classes:
        return f"{name}.__init__", [f"{classes[name]['display']}()"]
    return None
