"""ASL207 blocking-call-in-helper: async code calls a project function that blocks.

In real applications the blocking call is rarely written inline: an async route
calls a sync helper (or builds an object whose `__init__`) that, maybe a few
calls and modules away, sleeps, shells out, reads a file or talks to a sync
client. Project-wide analysis (asynclint.project) finds those helpers and the
chain that proves it; this rule reports the call site in async code.

Not flagged, because the maintainer would not act on it:
- a helper handed to `asyncio.to_thread` / `run_in_executor` (a reference, not a call), or
  decorated to run in a thread (`@run_on_executor`, `@sync_to_async`:
  `knowledge.OFF_LOOP_DECORATORS`);
- work done once per process, instance or key: a helper cached with `functools.lru_cache`/
  `cache`/`cached_property` or a decorator named as a memo (`knowledge.caches`), a blocking
  call that fills a lazy singleton or a memo (left out of the chains by `asynclint.guards`,
  and not reported where the async function fills one);
- calls in code that runs only at startup or shutdown, or in a program's main coroutine that
  runs alone on its loop (`asyncio.run(main())`, starting no tasks or server itself)
  (`ProjectIndex.startup`), or that a decorator of its module runs on a loop of its own
  (`asyncio.run(f(request))` in the wrapper, handed to a thread: `analysis.decorated_main`),
  or in a coroutine that itself waits for its user on the terminal (`input()`,
  `Confirm.ask(...)`: `analysis.reads_terminal`);
- calls in the opening of a program's main coroutine (`ProjectIndex.mains`), before it first
  suspends or starts a task (`analysis.in_opening`): the new loop has no other task yet,
  whatever the main starts later;
- a helper that blocks only under `if p is None:` on a parameter this call passes
  (`ProjectIndex.guards`);
- anything in a module no import reaches (`x.py` beside a package `x/`, which `import x`
  finds first);
- anything when project analysis is off.

The first pass has no index yet: there the rule records each call in async code (its
callee, what it passes, the async function it is in, whether the call is in its opening),
and `from_site` judges those places
once the index exists, so the file is not parsed again for this rule.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, TypeAlias

import libcst as cst

from asynclint.analysis import decorated_main, in_opening, in_opening_of_main, lone_main, reads_terminal
from asynclint.guards import LAZY, guard_of, handed
from asynclint.knowledge import has_async_def
from asynclint.modules import SHADOWED
from asynclint.project.arguments import Signature, bind, runs
from asynclint.rule import Rule
from asynclint.rules._resources import function_path
from asynclint.scope import Scope

if TYPE_CHECKING:
    from asynclint.config import Settings
    from asynclint.context import Context
    from asynclint.project import ProjectIndex

# `ProjectIndex.guards[callee]`: (the callee's signature, its blocking paths, each (its
# guard, the chain)); see `project.arguments`.
_Guarded: TypeAlias = "tuple[Iterable[str], list[str]]"

HELP = "Run it with `asyncio.to_thread`, or make it async"


class BlockingCallInHelper(Rule):
    code = "ASL207"
    index_family = "blocking"
    name = "blocking-call-in-helper"
    summary = "Async code calls a project function that blocks the event loop"
    needs_async = True
    # Each call in async code is a place; whether its callee blocks is the index's to say.
    records_sites = True

    @classmethod
    def wants(cls, text: str, settings: Settings) -> bool:
        return False  # without the index there is nothing to look up

    @classmethod
    def wants_with_index(cls, text: str, settings: Settings) -> bool:
        return has_async_def(text)

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)
        self._names: dict[cst.CSTNode, str | None] = {}
        # `x.py` beside a package `x/`: `import x` finds the package, no import reaches the
        # file, and no call takes a chain written there.
        self._dead = SHADOWED in (ctx.module_name or "")

    def visit_Call(self, node: cst.Call) -> None:
        ctx = self.ctx
        project = ctx.project
        function = ctx.function_scope  # in async code: that function's scope
        if not ctx.in_async or function is None or (project is None and not ctx.recording) or self._dead:
            return
        callee = ctx.call_name(node)
        if not callee or (project is not None and callee not in project.blocking):
            return
        # Without the index (the first pass), every call of a name the project may define.
        if project is None and callee.startswith("builtins."):
            return
        if self._quiet_here(function):
            return
        # Whether the function is a program's main the index says, across modules; of a
        # coroutine nested in a function (`def run(): async def main(): ...; asyncio.run(main())`),
        # which the index does not name and nothing outside can await, the module says.
        opening = isinstance(function.node, cst.FunctionDef) and in_opening(ctx, function.node, node)
        name = self._function_name(function)
        if name is None and isinstance(function.node, cst.FunctionDef):
            if lone_main(ctx, function.node) or (opening and in_opening_of_main(ctx, function.node, node)):
                return
        site = [callee, handed(node), name, opening]
        if project is None:
            ctx.report(node, "", site=site)
            return
        found = self.from_site(site, project)
        if found is not None:
            ctx.report(node, found[0], help=found[1])

    @classmethod
    def from_site(cls, data: Any, index: ProjectIndex) -> tuple[str, str | None] | None:
        callee, arguments, function, opening = data
        chain = index.blocking.get(callee)
        if not chain:
            return None
        guarded = index.guards.get(callee)
        if guarded is not None:
            chain = _chain_when_called(arguments, *guarded)
            if chain is None:
                return None
        if function in index.startup or (opening and function in index.mains):
            return None
        return f"`{chain[0]}` blocks the event loop in async code: {_shown(chain)}", HELP

    def _quiet_here(self, function: Scope) -> bool:
        """Does the call fill a lazy singleton or a memo right here in the async function
        (`if self._client is None: self._client = Client()`), as `asynclint.guards` leaves
        such calls out of the chains; or does that function wait for its user on the terminal
        (`analysis.reads_terminal`), or run alone on a loop a decorator of the module gives
        it (`analysis.decorated_main`)?"""
        ctx = self.ctx
        if isinstance(function.node, cst.FunctionDef) and (
            reads_terminal(ctx, function.node) or decorated_main(ctx, function.node)
        ):
            return True
        return guard_of(function_path(ctx), ctx.scopes[function.node]) == LAZY

    def _function_name(self, function: Scope) -> str | None:
        """The project-wide name of the async function we are in (`function`), by which
        `ProjectIndex.startup` knows one that runs only at startup or shutdown."""
        ctx = self.ctx
        func = function.node
        if func not in self._names:
            scope = ctx.scopes[func].parent
            self._names[func] = (
                ctx.resolver.qualname(func.name, scope)
                if isinstance(func, cst.FunctionDef) and scope is not None
                else None
            )
        return self._names[func]


def _chain_when_called(arguments: list[str], signature: Signature, items: Iterable[_Guarded]) -> list[str] | None:
    """The first blocking path a call runs (one whose guard its arguments meet:
    `project.arguments`), or None."""
    bound = bind(arguments, signature)
    return next((chain for guard, chain in items if runs(guard, bound)), None)


# A chain longer than this shows its first and last hops: the call the reader is looking at,
# the blocking call at the end, and how many lie between.
MAX_SHOWN = 8


def _shown(chain: list[str]) -> str:
    if len(chain) <= MAX_SHOWN:
        return " -> ".join(chain)
    head, tail = chain[: MAX_SHOWN // 2], chain[-(MAX_SHOWN // 2) :]
    return " -> ".join([*head, f"... ({len(chain) - MAX_SHOWN} more)", *tail])


RULE = BlockingCallInHelper
