"""ASL302 session-shared-across-tasks: one AsyncSession used by coroutines that run concurrently.

An `AsyncSession` is one transaction on one connection; it does not support
concurrent operations. Handing the same session to coroutines that run at the
same time interleaves their queries on it, which corrupts its state or fails
("This session is provisioning a new connection; concurrent operations are not
permitted"). SQLAlchemy's advice: one session per concurrent task.

A spawned coroutine is the call started by `asyncio.create_task(...)`,
`asyncio.ensure_future(...)`, `create_task(...)` on an event loop or a
TaskGroup (`analysis.task_spawn`), or an argument of `asyncio.gather(...)`
(including `gather(*[f(s, i) for i in x])`). It uses a session when a session
(a name or attribute known to hold one: `ctx.is_session`) is one of its
arguments or its receiver (`gather(s.execute(a), s.execute(b))`). With project analysis,
`ctx.is_session` also knows sessions from the project's own factories in other modules
(`async with db.session_context() as s`) and names passed to a project function's
`AsyncSession` parameter (see `asynclint.project` and `Resolver.project_callee`).

Two spawns overlap when the later one starts while the earlier may still run:
the earlier one's lifetime is its `gather(...)` call, the `async with` block
of its TaskGroup, or the rest of the function for a plain task (until an
`await t` of the name it was assigned to). A spawn overlaps itself when it
sits in a loop or comprehension inside that lifetime. Not flagged: a spawn
awaited in place (`await asyncio.create_task(f(s))`), a task awaited in the
same loop iteration, a TaskGroup opened inside the loop, a session bound
inside the loop (one per iteration), a fresh session created in the argument
(`f(SessionLocal())`), sequential `gather` calls. Located at each spawned call.

No fix: open a session per task (from an `async_sessionmaker`) or await the
queries one after the other.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeAlias

import libcst as cst

from asynclint import knowledge
from asynclint.analysis import spawned_call, task_spawn
from asynclint.rule import Rule
from asynclint.scope import dotted_name
from asynclint.walk import walk

if TYPE_CHECKING:
    from asynclint.context import Context

_COMPREHENSIONS = (cst.ListComp, cst.SetComp, cst.GeneratorExp)
_LOOPS = (cst.For, cst.While)


# ("name", id of the binding scope, name) or ("attribute", dotted name).
_SessionKey: TypeAlias = "tuple[str, int, str] | tuple[str, str]"


@dataclass(eq=False)
class _Spawn:
    call: cst.Call  # the spawned coroutine call, where the finding is located
    function: cst.CSTNode  # the function (or module) it is spawned in
    sessions: dict[_SessionKey, str]  # session key -> the session's name as written
    bound_at: set[cst.CSTNode]  # the statements that bind the sessions' names
    ancestors: tuple[cst.CSTNode, ...]  # module down to the parent of `call`
    lifetime: cst.CSTNode  # while this node runs, the spawned coroutine may be running
    index: int  # visit order
    task_name: str | None  # `t = asyncio.create_task(...)`: the name holding the task
    loop: cst.CSTNode | None = None  # a loop inside `lifetime` that repeats the spawn
    flagged: bool = False


class SessionSharedAcrossTasks(Rule):
    code = "ASL302"
    index_family = "sessions"
    name = "session-shared-across-tasks"
    summary = "One AsyncSession passed into coroutines that run concurrently"
    tokens = ("create_task", "ensure_future", "gather")
    needs_async = True

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)
        self.spawns: list[_Spawn] = []
        self.awaits: list[tuple[cst.CSTNode, str, int, tuple[cst.CSTNode, ...]]] = []
        self.index = 0

    def visit_Await(self, node: cst.Await) -> None:
        # `await t` ends the task held by `t`.
        self.index += 1
        if isinstance(node.expression, cst.Name):
            self.awaits.append((self._function(), node.expression.value, self.index, tuple(self.ctx.stack)))

    def visit_Call(self, node: cst.Call) -> None:
        self.index += 1
        found = self._spawned_by(node)
        if found is None:
            return
        lifetime, task_name = found
        sessions, bound_at = self._sessions(node)
        if not sessions:
            return
        ancestors = tuple(self.ctx.stack[:-1])
        spawn = _Spawn(node, self._function(), sessions, bound_at, ancestors, lifetime, self.index, task_name)
        spawn.loop = self._repeating_loop(spawn)
        self.spawns.append(spawn)

    # -- is this call a spawned coroutine? -------------------------------------------------

    def _spawned_by(self, node: cst.Call) -> tuple[cst.CSTNode, str | None] | None:
        """(lifetime, task name) when `node` is a coroutine call being spawned, else None."""
        ctx = self.ctx
        parent = ctx.parent(node)
        if isinstance(parent, _COMPREHENSIONS) and parent.elt is node:
            # gather(*[f(s, i) for i in x])
            arg = ctx.parent(parent)
            spawner = ctx.parent(arg) if isinstance(arg, cst.Arg) and arg.star == "*" else None
            if isinstance(spawner, cst.Call) and ctx.call_name(spawner) == knowledge.GATHER:
                return spawner, None
            return None
        if not isinstance(parent, cst.Arg):
            return None
        spawner = ctx.parent(parent)
        if not isinstance(spawner, cst.Call):
            return None
        if ctx.call_name(spawner) == knowledge.GATHER:
            return (spawner, None) if not parent.star and parent.keyword is None else None
        kind = task_spawn(ctx, spawner)
        if kind is None or spawned_call(spawner) is not node:
            return None
        holder = ctx.parent(spawner)
        if isinstance(holder, cst.Await):
            return None  # awaited in place: it runs alone, like a plain await
        task_name = None
        if (
            isinstance(holder, cst.Assign)
            and len(holder.targets) == 1
            and isinstance(holder.targets[0].target, cst.Name)
        ):
            task_name = holder.targets[0].target.value
        elif isinstance(holder, cst.AnnAssign) and isinstance(holder.target, cst.Name):
            task_name = holder.target.value
        lifetime = self._task_group_block(spawner) if kind == "task_group" else None
        return lifetime or self._function(), task_name

    def _task_group_block(self, spawner: cst.Call) -> cst.CSTNode | None:
        """The `async with TaskGroup() as tg:` statement whose `tg` starts this task."""
        receiver = spawner.func.value if isinstance(spawner.func, cst.Attribute) else None
        if not isinstance(receiver, cst.Name):
            return None
        found = self.ctx.scope.lookup(receiver.value)
        if found is None:
            return None
        items = {b.node for b in found[1] if b.kind == "with"}
        for ancestor in reversed(self.ctx.stack):
            if isinstance(ancestor, cst.With) and any(item in items for item in ancestor.items):
                return ancestor
        return None

    def _function(self) -> cst.CSTNode:
        scope = self.ctx.function_scope
        return scope.node if scope is not None else self.ctx.module

    def _sessions(self, call: cst.Call) -> tuple[dict[_SessionKey, str], set[cst.CSTNode]]:
        """The sessions `call` is handed (as arguments, or as the receiver of a method),
        and the statements binding their names."""
        exprs = [arg.value for arg in call.args if not arg.star]
        if isinstance(call.func, cst.Attribute):
            exprs.append(call.func.value)
        found: dict[_SessionKey, str] = {}
        bound_at: set[cst.CSTNode] = set()
        for expr in exprs:
            # A name or attribute refers to an existing session; a call such as
            # `f(SessionLocal())` makes a fresh one for this coroutine alone.
            if not isinstance(expr, (cst.Name, cst.Attribute)) or not self.ctx.is_session(expr):
                continue
            if isinstance(expr, cst.Name):
                where = self.ctx.scope.lookup(expr.value)
                if where is None:
                    continue
                found[("name", id(where[0]), expr.value)] = expr.value
                bound_at.update(binding.node for binding in where[1] if binding.node is not None)
            elif (text := dotted_name(expr)) is not None:
                found[("attribute", text)] = text
        return found, bound_at

    # -- does the spawn repeat while its earlier tasks still run? ---------------------------

    def _repeating_loop(self, spawn: _Spawn) -> cst.CSTNode | None:
        """The innermost loop or comprehension, inside the spawn's lifetime, whose body
        (or element) holds the spawn."""
        path = (*spawn.ancestors, spawn.call)
        for index in range(len(path) - 2, -1, -1):
            node, child = path[index], path[index + 1]
            if node is spawn.lifetime:
                return None
            if isinstance(node, _LOOPS) and child is node.body:
                return node
            if isinstance(node, _COMPREHENSIONS) and child is node.elt:
                return node
        return None

    # -- decide at the end of the module ----------------------------------------------------

    def finish(self) -> None:
        by_function: dict[cst.CSTNode, list[_Spawn]] = {}
        for spawn in self.spawns:
            by_function.setdefault(spawn.function, []).append(spawn)
        for spawns in by_function.values():
            for position, earlier in enumerate(spawns):
                if earlier.loop is not None and self._repeats_concurrently(earlier, earlier.loop):
                    earlier.flagged = True
                for later in spawns[position + 1 :]:
                    if earlier.sessions.keys() & later.sessions.keys() and self._overlap(earlier, later):
                        earlier.flagged = later.flagged = True
        for spawn in self.spawns:
            if spawn.flagged:
                self._report(spawn)

    def _overlap(self, earlier: _Spawn, later: _Spawn) -> bool:
        if not any(node is earlier.lifetime for node in later.ancestors):
            return False
        return not self._awaited_between(earlier, later.index, earlier.function)

    def _awaited_between(self, spawn: _Spawn, before: int, within: cst.CSTNode) -> bool:
        """Is the task of `spawn` awaited (`await t`) after it starts and before `before`,
        in the node `within`?"""
        if spawn.task_name is None:
            return False
        return any(
            function is spawn.function
            and name == spawn.task_name
            and spawn.index < index < before
            and any(node is within for node in stack)
            for function, name, index, stack in self.awaits
        )

    def _repeats_concurrently(self, spawn: _Spawn, loop: cst.CSTNode) -> bool:
        # The task is awaited later in the same iteration: one at a time.
        if self._awaited_between(spawn, 1 << 62, loop):
            return False
        # A session bound inside the loop is a new one on every iteration.
        return not (spawn.bound_at & _nodes_in(loop))

    def _report(self, spawn: _Spawn) -> None:
        names = ", ".join(f"`{name}`" for name in sorted(set(spawn.sessions.values())))
        self.ctx.report(
            spawn.call,
            f"AsyncSession {names} is shared by coroutines that run concurrently, and a session does not "
            "support concurrent operations",
            help="Give each task its own session, or await the calls in turn",
        )


def _nodes_in(root: cst.CSTNode) -> set[cst.CSTNode]:
    found: set[cst.CSTNode] = set()
    walk(root, found.add)
    return found


RULE = SessionSharedAcrossTasks
