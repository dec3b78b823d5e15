"""Project-wide analysis: facts per module, and an index that joins them.

Single-file linters cannot see that `Step()` in an async route blocks because
`Step.__init__`, two modules away, calls `time.sleep`; nor that `db.session_context()`
enters an AsyncSession because `session_context` is an `@asynccontextmanager` method of
a class in another module; nor that `make_client()` builds a new `httpx.AsyncClient` on
every call. Here every module of the project contributes plain facts, collected in the
engine's traversal (`asynclint.facts`) and cached by content hash; the index derives,
to a fixed point, which sync project functions block and through which chain, which
project functions give a session, and which create a resource.

The package, by job:
- `facts_format`: the shape of a module's facts and its version;
- `joined`: every module's facts joined, with name resolution across them;
- `derive`: what the index derives from them (blocking chains, sessions, resources, task
  roots, startup code), each to a fixed point;
- `index`: `ProjectIndex`, what the rules read, and `IndexBuild`, which builds and updates it;
- `demand`: which modules' facts a run must read before the index is right;
- `rerun`: which files the project-wide rules run on again once the index exists;
- `families` and `spelling`: which rules consult the index, and how code spells a name.
"""

from __future__ import annotations

from asynclint.project.demand import wanted_calls, wanted_types
from asynclint.project.facts_format import DEFERRED, FACTS_VERSION, is_deferred
from asynclint.project.families import (
    BLOCKING_CODES,
    ORM_CODES,
    PROJECT_CODES,
    RESOURCE_CODES,
    SESSION_CODES,
    TASK_CODES,
    TYPE_CODES,
    uses_index,
)
from asynclint.project.index import (
    INDEXED_MODULE_KEYS,
    IndexBuild,
    ProjectIndex,
    changed_names,
    index_from_json,
    index_to_json,
)
from asynclint.project.rerun import merge_rerun, rerun_plan
from asynclint.project.spelling import names_any, spelled, spelled_last, words

__all__ = [
    "BLOCKING_CODES",
    "DEFERRED",
    "FACTS_VERSION",
    "INDEXED_MODULE_KEYS",
    "ORM_CODES",
    "PROJECT_CODES",
    "RESOURCE_CODES",
    "SESSION_CODES",
    "TASK_CODES",
    "TYPE_CODES",
    "IndexBuild",
    "ProjectIndex",
    "changed_names",
    "index_from_json",
    "index_to_json",
    "is_deferred",
    "merge_rerun",
    "names_any",
    "rerun_plan",
    "spelled",
    "spelled_last",
    "uses_index",
    "wanted_calls",
    "wanted_types",
    "words",
]
