"""Which modules' facts a run must read before the index is right: those that what async code
calls, or what its receivers' types name, leads to."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from asynclint.diagnostics import ModuleFacts
from asynclint.project.derive import callable_target, project_calls, runs_its_calls
from asynclint.project.joined import Joined, join

# A name -> (the names it leads to, the missing name to want or None).
Follow = Callable[[str], tuple[Iterable[str], str | None]]


def wanted_calls(all_facts: list[ModuleFacts]) -> set[str]:
    """Names that async code calls, directly or through the project's sync functions, and
    that no facts define yet: where a blocking chain (ASL207) may go on. Only these modules'
    facts matter to the chains; a sync helper nothing async reaches cannot be reported."""
    project = join(all_facts)
    functions, classes = project.functions, project.classes

    def follow(name: str) -> tuple[Iterable[str], str | None]:
        target = callable_target(name, functions, classes)
        info = functions.get(target[0]) if target else None
        if info is None:
            return (), target[0] if target else name
        if not runs_its_calls(info):
            return (), None
        return project_calls(info, guarded=True), None

    return _missing(project, [call for facts in all_facts for call in facts.get("async_calls", ())], follow)


def wanted_types(all_facts: list[ModuleFacts]) -> set[str]:
    """Project names that may say what a receiver of Path or Session I/O in async code is
    (`facts["type_refs"]`: an annotation such as `SessionDep`, the base classes of a class
    using an inherited `self.root`), with their base classes in turn, that no facts define yet."""
    todo = [name for facts in all_facts for name in facts.get("type_refs", ())]
    if not todo:
        return set()
    project = join(all_facts)

    def follow(name: str) -> tuple[Iterable[str], str | None]:
        if name in project.classes:
            return project.classes[name].get("bases", ()), None
        return (), None if name in project.aliases else name

    return _missing(project, todo, follow)


def _missing(project: Joined, todo: list[str], follow: Follow) -> set[str]:
    """The names no facts define, reached from `todo`: `follow(name)` gives (names it leads
    to, the missing name to want or None)."""
    seen: set[str] = set()
    missing: set[str] = set()
    while todo:
        name = project.resolve(todo.pop())
        if name in seen:
            continue
        seen.add(name)
        further, absent = follow(name)
        if absent is not None:
            missing.add(absent)
        todo.extend(further)
    return missing
