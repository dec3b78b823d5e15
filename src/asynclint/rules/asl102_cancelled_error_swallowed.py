"""ASL102 cancelled-error-swallowed: a cancellation caught and not re-raised, in async code.

asyncio cancels a task by raising `CancelledError` in it; timeouts, TaskGroup
sibling cancellation and shutdown all depend on it travelling out of the task.
Flagged: an `except` catching `BaseException` or everything (bare `except:`) with no
`raise` in it at all (outside nested defs), and `return`/`break`/`continue` leaving a
`finally:` (located at that statement), which discards any exception in flight. A handler
naming `asyncio.CancelledError` (alone or in a tuple) is ASL107's, opt-in
(`asl107_cancelled_error_caught`, the same clauses below), whether it swallows the
cancellation or leaves only by raising another exception (the cancellation is lost to
TaskGroup and `asyncio.timeout`; a class of the module derived from CancelledError is still
one).

Not flagged: a `raise` on some path (the author's call), or an await of one of trio's
functions outside a shield (trio's level-triggered cancellation raises `Cancelled` again
there), also in a function of the module
the handler calls (one annotated `-> NoReturn`, or one handed the caught exception that
raises), or, with the project index, a function of another module annotated `-> NoReturn`
(`ProjectIndex.raisers`); a handler nested in an
outer CancelledError/BaseException handler that re-raises; a handler after one
that already catches CancelledError in the same `try` (it never sees one);
`except Exception`; a `try` with no suspension point (no await, async for/with; a
`yield` only in an `@asynccontextmanager`, whose exit throws the block's exception in
there: an iterated async generator is cancelled at its consumer's `await`; an `async for`
over a module's own async generator that never suspends is none either, nor an `await` of
its own undecorated coroutine function that never suspends) or inside a
`with ...(shield=True)`; a handler in the `finally:` of a `try` that the function never
gets past (its body ends only by an exception: a `while True:` nothing breaks, a `raise`;
or the function ends after it, nothing suspending on the way, no loop around it): a
cancellation of the body goes on after the cleanup, and what the handler swallows is one
landing in the best-effort cleanup itself; the
cancel-then-await idiom (`t.cancel()` earlier in the function, or for `self.x`/a global
anywhere in the class/module, then `await t` in the `try`; not `await asyncio.wait(...)`,
which never raises the tasks' cancellation); a deferred re-raise (the handler keeps the
exception, or what a function makes of it, or collects it in a list, and the function raises
it later: `raise err`, `raise errors[0]`, `raise Group("...", errors)`, `raise cancel` after
`cancel = err or other`, or a function of the module handed it that raises); a handler
nested in one that keeps the cancellation so; a flag the handler sets (`cancelled =
True`) that the function returns, for its caller to raise, or the caught cancellation
(alone, in `c or other`, in a tuple, or a fresh `CancelledError()` in its place)
returned from a function annotated to return one (`-> asyncio.CancelledError | None`,
`-> BaseException | None`); a
handler that hands the exception on (`future.set_exception(e)`, `gen.throw(e)`,
`greenlet.throw(*sys.exc_info())`, or to the task reading a queue: `queue.put((ERROR, e))`,
also kept in a name the function later puts: `outcome = ("error", e)` ...
`results.put_nowait(outcome)`); a private function the module only calls from handlers
that catch the cancellation and re-raise it (`except CancelledError: await _drain(t); raise`:
it swallows only a second cancellation); sync code. Policy: at the root of a task (after the
handler the function ends, or runs only code that does not suspend, and the function is
only ever started as a task: in this
module, or, with the project index, in other modules and through the project's own spawn
helpers, also one that spawns a wrapper coroutine whose last act is to await the
argument) the task ends and cancels nothing that depends on it, so it is not flagged
either. `asyncio.run(f())`, `loop.run_until_complete(f())` and a streaming response's body
(`StreamingResponse(events())`, `EventSourceResponse(...)`: anyio's cancel scope cancels the
response again at its next await) start such a root too (`knowledge.ROOT_STARTERS`). In a
function the module only ever runs by `loop.run_until_complete(f())` no handler is flagged,
after it the function ends or not: sync code drives that loop, and nothing outside the
coroutine cancels it.

Fix (unsafe: the handler now re-raises everything it catches): append `raise` to
the handler body (a body of only `pass` becomes `raise`), when the body has no
`return`/`break`/`continue`. None for a handler raising another exception: a `raise`
appended after it would never run."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, ClassVar, TypeAlias, cast

import libcst as cst

from asynclint import knowledge
from asynclint.analysis import is_true, started_arguments, starts_task, walk_with_scopes
from asynclint.fixes import FixSpec
from asynclint.rule import Rule
from asynclint.rules._statements import (
    NESTED_SCOPES,
    contains_raise,
    descendants,
    exits,
    jumps_out,
)
from asynclint.scope import Binding, Scope, dotted_name
from asynclint.walk import children

if TYPE_CHECKING:
    from asynclint.config import Settings
    from asynclint.context import Context

_Handler: TypeAlias = "cst.ExceptHandler | cst.ExceptStarHandler"
_Scopes: TypeAlias = "dict[cst.CSTNode, Scope]"
# Where a block's suspension points are judged: the scope names are looked up in, the
# module's scopes, and the context whose resolver knows a receiver's class.
_Where: TypeAlias = "tuple[Scope, _Scopes, Context | None]"
# `_cancel_key`: ("self", class scope, "self.x") or ("global", module scope, "x.y").
_CancelKey: TypeAlias = "tuple[str, Scope, str]"
# Defs (binding nodes) of `_task_roots`.
_Nodes: TypeAlias = "frozenset[cst.CSTNode | None]"

_HANDLERS = (cst.ExceptHandler, cst.ExceptStarHandler)
_BARE_EXCEPT = re.compile(r"except\s*:")  # no leading \b: see `knowledge.has_word`
_TRIES = (cst.Try, cst.TryStar)
_COMPREHENSIONS = (cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp)

_CAUGHT = {
    "cancelled": "`except asyncio.CancelledError`",
    "base": "`except BaseException`",
    "bare": "bare `except:`",
}


class CancelledErrorSwallowed(Rule):
    code = "ASL102"
    index_family = "tasks"
    index_removes_only = True  # the index knows more task roots, each exempt
    name = "cancelled-error-swallowed"
    summary = "`asyncio.CancelledError` caught and not re-raised in async code"
    # A cancellation is caught by name (`CancelledError`, `BaseException`) or by a bare `except:`.
    tokens: ClassVar[tuple[str, ...]] = ("BaseException", "finally")
    needs_async = True
    fix_applicability = "unsafe"
    # The handlers whose silent swallow this rule reports, by what they catch. One that names
    # `CancelledError` is ASL107's (opt-in): blind reviews found it written to end a task on
    # purpose nearly every time (benchmarks/REVIEW.md), where `except BaseException` and a bare
    # `except:` catch the cancellation with everything else, often without meaning to.
    swallows: ClassVar[frozenset[str]] = frozenset({"base", "bare"})
    # A handler turning a named cancellation into another exception states its intent as
    # much (ASL107's: an abort answered with an HTTP 409, a documented error type); a jump
    # out of `finally:` is ASL102's.
    converts: ClassVar[bool] = False
    jumps: ClassVar[bool] = True

    @classmethod
    def mentioned(cls, text: str, settings: Settings) -> bool:
        # A bare `except:` spells no token; only a rule that reports those looks for one.
        return super().mentioned(text, settings) or ("bare" in cls.swallows and _BARE_EXCEPT.search(text) is not None)

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)
        # Per function scope: what `X.cancel()` has been called on so far (dotted names).
        self.cancelled: dict[object, set[str]] = {}
        self.reported: set[cst.CSTNode] = set()

    # -- `X.cancel()`: remembered for the cancel-then-await idiom ------------------------

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if not (isinstance(func, cst.Attribute) and func.attr.value == "cancel"):
            return
        target = dotted_name(func.value)
        if target is None:
            return
        names = self.cancelled.setdefault(self.ctx.function_scope, set())
        names.add(target)
        # `for t in tasks: t.cancel()` cancels `tasks` too (later `await asyncio.gather(*tasks)`).
        for ancestor in self.ctx.ancestors():
            if isinstance(ancestor, NESTED_SCOPES):
                break
            loops: list[cst.For | cst.CompFor] = []
            if isinstance(ancestor, cst.For):
                loops.append(ancestor)
            elif isinstance(ancestor, _COMPREHENSIONS):
                comp_for: cst.CompFor | None = ancestor.for_in
                while comp_for is not None:
                    loops.append(comp_for)
                    comp_for = comp_for.inner_for_in
            for loop in loops:
                if isinstance(loop.target, cst.Name) and loop.target.value == target:
                    iterated = dotted_name(loop.iter)
                    if iterated is not None:
                        names.add(iterated)

    # -- handlers ------------------------------------------------------------------------------

    def visit_ExceptHandler(self, node: cst.ExceptHandler) -> None:
        self._check_handler(node)

    def visit_ExceptStarHandler(self, node: cst.ExceptStarHandler) -> None:
        self._check_handler(node)

    def _check_handler(self, node: _Handler) -> None:
        ctx = self.ctx
        if not ctx.in_async:
            return
        kind = self._catches(node)
        if kind is None:
            return
        # A handler naming CancelledError that leaves only by raising another exception
        # turns the cancellation into an error: TaskGroup and asyncio.timeout never see it.
        converts = kind == "cancelled" and self._raises_other(node)
        if contains_raise(node.body) and not converts:
            return
        if not (self.converts if converts else kind in self.swallows):
            return  # the other rule's
        try_ = ctx.parent(node)
        if not isinstance(try_, _TRIES) or not _can_be_cancelled(try_.body, self._yields_count(), self._scope_ctx()):
            return
        if self._earlier_handler_catches(try_, node) or self._inside_reraising_handler(try_) or self._shielded():
            return
        if self._in_cleanup():
            return
        if self._cancel_then_await(try_) or self._raised_later(node) or self._task_root(try_, node):
            return
        if self._hands_back(node):
            return
        if converts:
            # No fix: a `raise` appended after the handler's own `raise` would never run.
            ctx.report(
                node,
                f"{_CAUGHT[kind]} that raises another exception instead loses the cancellation of "
                "the task (TaskGroup and `asyncio.timeout` no longer see it)",
                help="Re-raise the cancellation with a bare `raise`",
            )
            return
        if (
            _hands_on(node)
            or _delegates_raise(ctx, node)
            or self._only_while_cancelled()
            or self._trio_checkpoint(node)
            or self._knowingly_broad(node, kind)
        ):
            return
        ctx.report(
            node,
            f"{_CAUGHT[kind]} without `raise` swallows the cancellation of the task",
            help="Re-raise it" + (" after cleaning up" if kind == "cancelled" else ", or catch `Exception` instead"),
            fix=self.fix(node),
        )

    def _knowingly_broad(self, handler: _Handler, kind: str) -> bool:
        """A catch-all (`kind`, as `_catches` says) whose author has written down that it takes
        the cancellation too: its body tells a CancelledError apart (`if isinstance(e,
        asyncio.CancelledError)`), or a comment on its `except` line or in its body names
        `CancelledError` or says every error is ignored (`pass  # Silently ignore (includes
        CancelledError)`), and is no to-do note. The swallow is a decision on record, as a
        conditional `raise` is; the linter would only repeat it."""
        if kind == "cancelled":
            return False  # ASL107's handlers name the cancellation: that is what it reports
        # Comments on the `except` line and in the body; one above the `except` may be about
        # the `try`, and a to-do note is a problem on record, not a decision.
        found = _CommentsAndNames()
        handler.body.visit(found)
        return any(
            _DELIBERATE.search(comment.value) and not _TO_DO.search(comment.value) for comment in found.comments
        ) or any(self.ctx.qualname(name) in knowledge.CANCELLED_ERROR for name in found.names)

    def _only_while_cancelled(self) -> bool:
        """In a private function of the module (`_drain`) that the module only ever calls
        from handlers that catch the cancellation and re-raise it (`except CancelledError:
        await _drain(task); raise`): what it swallows is a second cancellation while the
        first one is on its way out, and the caller raises that one."""
        function = self.ctx.function_scope
        if function is None or not isinstance(function.node, cst.FunctionDef):
            return False
        name = function.node.name.value
        return name.startswith("_") and not name.startswith("__") and name in self._helpers_while_cancelled()

    def _helpers_while_cancelled(self) -> frozenset[str]:
        """The private names the module calls only inside handlers that catch the
        cancellation and raise, and never references otherwise (a callback, a call
        elsewhere)."""
        key = "asl102_helpers_while_cancelled"
        cache = self.ctx.cache
        if key not in cache:
            inside: set[str] = set()
            elsewhere: set[str] = set()
            callees: set[cst.CSTNode] = set()  # the names called (a `Name`, or an attribute's)

            todo: list[tuple[cst.CSTNode, bool]] = [(self.ctx.module, False)]
            while todo:
                node, in_handler = todo.pop()
                if isinstance(node, _HANDLERS):
                    reraises = self._catches(node) is not None and contains_raise(node.body)
                    todo += ((child, in_handler or (reraises and child is node.body)) for child in children(node))
                    continue
                if isinstance(node, (cst.FunctionDef, cst.ClassDef)):
                    in_handler = False  # a nested def runs later, outside the handler
                    callees.add(node.name)
                elif isinstance(node, cst.Lambda):
                    in_handler = False
                elif isinstance(node, cst.Call):
                    func = node.func
                    called = func.attr if isinstance(func, cst.Attribute) else func
                    if isinstance(called, cst.Name):
                        callees.add(called)
                        if called.value.startswith("_"):
                            (inside if in_handler else elsewhere).add(called.value)
                elif isinstance(node, cst.Name) and node not in callees and node.value.startswith("_"):
                    elsewhere.add(node.value)  # referenced, not called: a callback, an alias
                todo += ((child, in_handler) for child in children(node))
            cache[key] = frozenset(inside - elsewhere)
        return cast(frozenset[str], cache[key])

    def _raises_other(self, handler: _Handler) -> bool:
        """Does the handler leave only by raising an exception other than the one it caught:
        it ends with `raise X(...)` (or `raise X`), has no `return`/`break`/`continue`, and
        no `raise` in it re-raises the caught exception, a CancelledError (also
        `concurrent.futures`', told to a thread), or something unknown (a variable may hold
        the cancellation)?"""
        if jumps_out(handler.body) or not isinstance(_last_statement(handler.body), cst.Raise):
            return False
        caught = _caught_name(handler)
        for node in descendants(handler.body):
            if not isinstance(node, cst.Raise):
                continue
            raised = node.exc.func if isinstance(node.exc, cst.Call) else node.exc
            if raised is None or (isinstance(raised, cst.Name) and raised.value == caught):
                return False
            name = self.ctx.qualname(raised)
            if name is None or _is_cancellation(name) or self._subclasses_cancellation(raised):
                return False
            if not isinstance(node.exc, cst.Call) and self._is_variable(raised):
                return False
        return True

    def _in_cleanup(self) -> bool:
        """Is the handler in the `finally:` (anywhere there: in a loop over clients, in a
        `try` of its own) of an outer `try` that the function never gets past: its body ends
        only by an exception (a `while True:` nothing breaks, a `raise`), or the function
        ends after it (`_ends_function`)? A cancellation of the task in the outer `try` is on
        its way out while the `finally:` runs, and goes on after it; what a catch-all in the
        cleanup swallows is one that lands in the cleanup itself, which the author chose to
        finish, and the function ends anyway (blind reviews: every such handler NOISE,
        best-effort teardown that must not mask the exception in flight). In a loop, the
        function would go round again, uncancelled."""
        function = self.ctx.function_scope
        for ancestor in self.ctx.ancestors():
            if isinstance(ancestor, NESTED_SCOPES):
                return False
            if isinstance(ancestor, cst.Finally):
                outer = self.ctx.parent(ancestor)
                if not isinstance(outer, cst.Try):
                    return False
                if not outer.handlers and outer.orelse is None and _never_completes(outer.body):
                    return True
                return (
                    function is not None
                    and isinstance(function.node, cst.FunctionDef)
                    and self._ends_function(outer, function.node)
                )
        return False

    def _subclasses_cancellation(self, raised: cst.BaseExpression, depth: int = 0) -> bool:
        """Is `raised` a class of this module that derives from CancelledError (`class
        WorkerCancelled(asyncio.CancelledError)`)? Raising it keeps the cancellation."""
        if not isinstance(raised, cst.Name) or depth > 8:
            return False
        found = self.ctx.scope.lookup(raised.value)
        if found is None or len(found[1]) != 1 or found[1][0].kind != "class":
            return False
        cls = cast(cst.ClassDef, found[1][0].node)
        scope = found[0]
        for base in cls.bases:
            name = self.ctx.qualname(base.value, scope)
            if name is not None and _is_cancellation(name):
                return True
            if self._subclasses_cancellation(base.value, depth + 1):
                return True
        return False

    def _is_variable(self, expr: cst.BaseExpression) -> bool:
        """A name bound by assignment in the function or module (it may hold an instance)."""
        if not isinstance(expr, cst.Name):
            return False
        found = self.ctx.scope.lookup(expr.value)
        return found is not None and any(b.kind not in ("import", "def", "class") for b in found[1])

    def _yields_count(self) -> bool:
        """Is a `yield` here a point where the task's cancellation can arrive? Only in an
        `@asynccontextmanager`: its exit throws the `async with` body's exception, a
        cancellation included, in at the `yield`. An async generator that is iterated is
        cancelled at the consumer's `await`; `aclose()` throws `GeneratorExit`, not that."""
        function = self.ctx.function_scope
        if function is None or not isinstance(function.node, cst.FunctionDef):
            return False
        return any(
            self.ctx.qualname(d.decorator.func if isinstance(d.decorator, cst.Call) else d.decorator)
            in knowledge.ASYNC_CONTEXT_MANAGER_DECORATORS
            for d in function.node.decorators
        )

    def _scope_ctx(self) -> _Where:
        return (self.ctx.scope, self.ctx.scopes, self.ctx)

    def _catches(self, handler: _Handler) -> str | None:
        """ "cancelled", "base" or "bare" when the handler catches a cancellation, else None."""
        if handler.type is None:
            return "bare"
        types = handler.type
        elements = [e.value for e in types.elements] if isinstance(types, cst.Tuple) else [types]
        names = {self.ctx.qualname(element) for element in elements}
        if names & knowledge.CANCELLED_ERROR:
            return "cancelled"
        if "builtins.BaseException" in names:
            return "base"
        return None

    def _earlier_handler_catches(self, try_: cst.Try | cst.TryStar, node: _Handler) -> bool:
        """Handlers are tried in order: after one that takes CancelledError, none sees it."""
        for handler in try_.handlers:
            if handler is node:
                return False
            if self._catches(handler) is not None:
                return True
        return False

    def _inside_reraising_handler(self, try_: cst.Try | cst.TryStar) -> bool:
        for ancestor in self.ctx.ancestors():
            if isinstance(ancestor, NESTED_SCOPES):
                return False
            if ancestor is not try_ and isinstance(ancestor, _HANDLERS):
                if self._catches(ancestor) is not None and (
                    contains_raise(ancestor.body) or self._hands_back(ancestor) or self._raised_later(ancestor)
                ):
                    return True
        return False

    def _hands_back(self, handler: _Handler) -> bool:
        """`except CancelledError as c: ... return c` in a function annotated to return a
        CancelledError (`-> asyncio.CancelledError | None`), or any exception (`->
        BaseException | None`, or a tuple holding one): the cancellation goes back to the
        caller, theirs to raise, as the annotation says. Also returned as `c or other` or in a
        tuple (`return c, True`), kept first and returned later (`pending = pending or c` in
        the handler, `return pending` after the loop), or a fresh one returned in its place
        (`return asyncio.CancelledError()`)."""
        function = self.ctx.function_scope
        caught = _caught_name(handler)
        if function is None or not isinstance(function.node, cst.FunctionDef) or function.node.returns is None:
            return False
        annotation = function.node.returns.annotation
        names = [annotation, *(n for n in descendants(annotation) if isinstance(n, (cst.Name, cst.Attribute)))]
        if not any(
            _is_cancellation(name := self.ctx.qualname(n) or "") or name == "builtins.BaseException" for n in names
        ):
            return False
        for node in descendants(handler.body):
            if isinstance(node, cst.Return) and node.value is not None:
                # `return c`, `return c, True`, `return c or other`; or a fresh one in its
                # place (`return asyncio.CancelledError()`, keeping no traceback).
                if caught is not None and caught in _returned_names(node.value):
                    return True
                value = node.value
                if isinstance(value, cst.Call) and _is_cancellation(self.ctx.qualname(value.func) or ""):
                    return True
        if caught is None:
            return False
        # Kept, and returned when the waiting is over: `pending = pending or exc` ... `return pending`.
        kept = _kept_names(handler.body, caught)
        return bool(kept) and any(
            isinstance(node, cst.Return) and node.value is not None and not kept.isdisjoint(_returned_names(node.value))
            for node in descendants(function.node.body)
        )

    def _shielded(self) -> bool:
        """Inside `with anyio.CancelScope(shield=True):` (or `move_on_after(..., shield=True)`),
        where the task's cancellation is held off."""
        for ancestor in self.ctx.ancestors():
            if isinstance(ancestor, NESTED_SCOPES):
                return False
            if isinstance(ancestor, cst.With) and _shields(ancestor):
                return True
        return False

    def _trio_checkpoint(self, handler: _Handler) -> bool:
        """The handler awaits a function of trio (`await trio.aclose_forcefully(stream)`),
        not under a shield: trio's cancellation is level-triggered, and in a cancelled scope
        every one of its checkpoints raises `Cancelled` again, so the cancellation goes on
        from there. (asyncio delivers a cancellation once: an await in the handler runs.)"""
        ctx = self.ctx
        shielded = {
            id(inner)
            for block in descendants(handler.body)
            if isinstance(block, cst.With) and _shields(block)
            for inner in descendants(block.body)
        }
        for node in descendants(handler.body):
            if isinstance(node, cst.Await) and isinstance(node.expression, cst.Call) and id(node) not in shielded:
                name = ctx.call_name(node.expression)
                if name is not None and name.startswith("trio."):
                    return True
        return False

    def _raised_later(self, handler: _Handler) -> bool:
        """A deferred re-raise: the handler keeps the exception (`except CancelledError as
        err: cancelled = err`), or what a function makes of it (`failure = safe_copy(err)`),
        or collects it (`errors.append(err)`), and the function raises it later (`raise
        cancelled`, `raise errors[0]`, `raise ExceptionGroup("...", errors)`, or hands the
        kept one to a function of the module that raises it, or to the task that reads a
        queue: `results.put_nowait(outcome)`), or the function raises a
        CancelledError of its own somewhere. Or a deferred report:
        the handler notes the cancellation in a flag (`cancelled = True`) and the function
        returns the flag (`return cancelled`, `return result, cancelled`), so that its caller
        raises it (a cleanup drained under `shield` first). Returning the exception itself
        is not one (an exception handed back as a value is a result, not a raise) unless
        the function says it returns one (`_hands_back`)."""
        function = self.ctx.function_scope
        # A handler is never in a lambda: its function is a `def`.
        if function is None or not isinstance(function.node, cst.FunctionDef):
            return False
        caught = _caught_name(handler)
        kept = _kept_names(handler.body, caught) if caught is not None else set()
        collected: set[str] = set()
        noted: set[str] = set()  # local names the handler sets to True
        for node in descendants(handler.body):
            if isinstance(node, cst.Assign) and isinstance(node.value, cst.Name) and node.value.value == "True":
                noted.update(t.target.value for t in node.targets if isinstance(t.target, cst.Name))
            elif caught is not None and (container := _collected_into(node, caught)) is not None:
                collected.add(container)
        if kept:
            # `cancel = caller_cancel or join_cancel` ... `raise cancel`: the kept one, renamed.
            for node in descendants(function.node.body):
                if isinstance(node, cst.Assign) and not kept.isdisjoint(_either_of(node.value)):
                    kept.update(filter(None, (dotted_name(t.target) for t in node.targets)))
        for node in descendants(function.node.body):
            if isinstance(node, cst.Return) and noted and _returns_one_of(node, noted):
                return True
            # `_raise_redacted(kept)`: a function of the module raises it for this one.
            if (
                isinstance(node, cst.Call)
                and kept
                and (_raises_for(self.ctx, node, kept, always=False) or _passes_on(node, kept))
            ):
                return True
            if isinstance(node, cst.Raise) and node.exc is not None:
                exc = node.exc
                raised = exc.func if isinstance(exc, cst.Call) else exc
                if dotted_name(raised) in kept or self.ctx.qualname(raised) in knowledge.CANCELLED_ERROR:
                    return True
                # `raise errors[0]` (`raise errors[0][1]` of `(key, exc)` items), or the
                # collected errors carried out in a group or wrapper.
                if isinstance(exc, cst.Subscript) and dotted_name(_subscripted(exc)) in collected:
                    return True
                if isinstance(exc, cst.Call) and any(dotted_name(arg.value) in collected for arg in exc.args):
                    return True
        return False

    def _cancel_then_await(self, try_: cst.Try | cst.TryStar) -> bool:
        """The `try` awaits X (or a call taking X, like `gather(*X)`), and `X.cancel()` came
        earlier in this function, or anywhere in the module for `self.x` of this class or
        a module global (a `stop()` method cancelling what `start()` awaits)."""
        local = self.cancelled.get(self.ctx.function_scope, set())
        shared = _shared_cancels(self.ctx)
        for node in descendants(try_.body):
            if not isinstance(node, cst.Await):
                continue
            candidates: list[cst.BaseExpression] = [node.expression]
            if isinstance(node.expression, cst.Call):
                if self.ctx.call_name(node.expression) in knowledge.ASYNCIO_WAIT:
                    # `asyncio.wait` never raises its tasks' cancellation: a CancelledError
                    # around it is the current task's own.
                    continue
                candidates.extend(arg.value for arg in node.expression.args)
            for candidate in candidates:
                if dotted_name(candidate) in local or _cancel_key(candidate, self.ctx.scope) in shared:
                    return True
        return False

    def _task_root(self, try_: cst.Try | cst.TryStar, handler: _Handler) -> bool:
        """After the handler the function ends (only `finally:` code runs), and the function
        is one this module only ever starts as a task: nothing awaits it to be cancelled.
        Or, wherever the handler is, the function is only ever run by
        `loop.run_until_complete(f())`: the main coroutine of a loop driven by sync code,
        which nothing outside it cancels (Ctrl-C arrives as KeyboardInterrupt there)."""
        function = self.ctx.function_scope
        if function is None or not isinstance(function.node, cst.FunctionDef):
            return False
        roots, bare, bare_attributes, loop_mains = _task_roots(self.ctx)
        if function.node in loop_mains:
            return True
        last = _last_statement(handler.body)
        if isinstance(last, cst.Break):  # leaves the loop: then the loop must end the function
            start = next((a for a in self.ctx.ancestors() if isinstance(a, (cst.For, cst.While))), None)
            if start is None or not self._ends_function(start, function.node):
                return False
        elif not isinstance(last, cst.Return) and not self._ends_function(try_, function.node):
            return False
        if function.node in roots:
            return True
        # Started as a task in another module, or through a spawn helper of the project
        # (the index), and not referenced here other than called (say, as a callback).
        project = self.ctx.project
        if project is None or not project.task_roots or function.node in bare:
            return False
        if function.self_name is not None and function.node.name.value in bare_attributes:
            return False
        if function.parent is None:  # never: a def's scope is inside the module's
            return False
        return self.ctx.resolver.qualname(function.node.name, function.parent) in project.task_roots

    def _ends_function(self, start: cst.CSTNode, function: cst.FunctionDef) -> bool:
        """Does the function end after `start` without another suspension point: what follows
        it in each enclosing block up to the function body does not suspend (`self.transport.
        close()`), with no loop (it would go round again) and no `else:` (it would run) on
        the way?"""
        node: cst.CSTNode = start
        ancestors = list(self.ctx.ancestors())
        del ancestors[: ancestors.index(start) + 1]
        yields = self._yields_count()
        for ancestor in ancestors:
            if isinstance(ancestor, cst.IndentedBlock):
                place = next(i for i, statement in enumerate(ancestor.body) if statement is node)
                after = ancestor.body[place + 1 :]
                if any(_can_be_cancelled(statement, yields) for statement in after):
                    return False
            elif ancestor is function:
                return True
            elif isinstance(ancestor, (cst.For, cst.While, *NESTED_SCOPES)) or (
                isinstance(ancestor, _TRIES) and node is ancestor.body and ancestor.orelse is not None
            ):
                return False
            node = ancestor
        return False

    # -- `finally:` ----------------------------------------------------------------------------

    def visit_Finally(self, node: cst.Finally) -> None:
        try_ = self.ctx.parent(node)
        if not self.jumps or not self.ctx.in_async or not isinstance(try_, _TRIES):
            return
        yields, where = self._yields_count(), self._scope_ctx()
        if not any(
            _can_be_cancelled(part, yields, where)
            for part in (try_.body, *try_.handlers, try_.orelse)
            if part is not None
        ):
            return
        for jump in exits(node.body):
            if jump in self.reported:  # a `finally:` inside another one
                continue
            self.reported.add(jump)
            keyword = {cst.Return: "return", cst.Break: "break", cst.Continue: "continue"}[type(jump)]
            self.ctx.report(
                jump,
                f"`{keyword}` in `finally:` discards the exception in flight, `asyncio.CancelledError` included"
                " (and is a SyntaxWarning from Python 3.14, PEP 765)",
                help="Move it out of the `finally:` block",
            )

    # -- fix -----------------------------------------------------------------------------------

    def fix(self, handler: _Handler) -> FixSpec | None:
        body = handler.body
        if jumps_out(body):
            return None
        new_body: cst.BaseSuite
        if isinstance(body, cst.IndentedBlock):
            statements = list(body.body)
            if all(_is_pass_line(s) for s in statements):
                last = statements[-1]
                new_body = body.with_changes(body=[*statements[:-1], last.with_changes(body=[cst.Raise()])])
            else:
                new_body = body.with_changes(body=[*statements, cst.SimpleStatementLine([cst.Raise()])])
        elif isinstance(body, cst.SimpleStatementSuite):
            small = list(body.body)
            if all(isinstance(s, cst.Pass) for s in small):
                new_body = body.with_changes(body=[cst.Raise()])
            else:
                small[-1] = small[-1].with_changes(semicolon=cst.MaybeSentinel.DEFAULT)
                new_body = body.with_changes(body=[*small, cst.Raise()])
        else:
            return None
        return FixSpec("unsafe", "Re-raise at the end of the handler", [(body, new_body)])


def _shields(block: cst.With) -> bool:
    """`with anyio.CancelScope(shield=True):` (or `move_on_after(..., shield=True)`)."""
    return any(
        isinstance(item.item, cst.Call)
        and any(
            arg.keyword is not None and arg.keyword.value == "shield" and is_true(arg.value) for arg in item.item.args
        )
        for item in block.items
    )


def _can_be_cancelled(block: cst.CSTNode, yields: bool, where: _Where | None = None) -> bool:
    """A task is cancelled at a suspension point: an `await`, `async for`/`async with`, or,
    when `yields` (an `asynccontextmanager`, see `_yields_count`), a `yield`. Code without
    one cannot receive the task's cancellation (a `CancelledError` it raises itself, say
    from a cancelled future's `result()`, is not the task's). Code of this module that never
    suspends itself (`where`: the scope names are looked up in) gives none either: an
    `async for` over its async generator, an `await` of its coroutine function; the loop
    only runs that code, to its end."""
    for node in descendants(block):
        if isinstance(node, cst.Await):
            if where is None or not _awaits_quiet_coroutine(node.expression, where, depth=0):
                return True
        elif (yields and isinstance(node, cst.Yield)) or (isinstance(node, cst.With) and node.asynchronous is not None):
            return True
        elif isinstance(node, (cst.For, cst.CompFor)) and node.asynchronous is not None:
            if where is None or not _iterates_quiet_generator(node.iter, where, depth=0):
                return True
    return False


def _iterates_quiet_generator(iterated: cst.BaseExpression, where: _Where, depth: int) -> bool:
    """`async for x in self._process(event)` where every `def` the call can reach in this
    module (for `self.m`, each method `m` of the module's classes: a subclass may override
    it) is an async generator with no suspension point of its own (`_suspends_only_on_quiet`)."""
    return _quiet_callees(iterated, where, depth, generators=True)


def _awaits_quiet_coroutine(awaited: cst.BaseExpression, where: _Where, depth: int) -> bool:
    """`await self._state.get_value(key)` where every `def` the call can reach in this module
    (as `_iterates_quiet_generator` finds them; also a method of a class of this module that
    the receiver's annotation or assignment names) is a coroutine function, undecorated, with
    no suspension point of its own: awaiting it runs its code to the end without giving the
    loop a turn, so no cancellation can land there (a `KeyError` it raises is all the
    handler sees)."""
    return _quiet_callees(awaited, where, depth, generators=False)


def _quiet_callees(call: cst.BaseExpression, where: _Where, depth: int, generators: bool) -> bool:
    """Is every `def` of this module that `call` can run an async generator (`generators`)
    or an undecorated coroutine function (not) that suspends only on more such code?"""
    if depth > 3 or not isinstance(call, cst.Call):
        return False
    scope, scopes, ctx = where
    callee = _own_function(call.func, scope, scopes) or _typed_method(call.func, scope, scopes, ctx)
    if callee is None:
        return False
    candidates = [callee]
    if isinstance(call.func, cst.Attribute):
        candidates = _same_named_methods(callee, scopes) or candidates
    for function in candidates:
        generator = any(isinstance(n, cst.Yield) for n in descendants(function.body))
        if function.asynchronous is None or generator != generators:
            return False
        if not generators and function.decorators:
            return False  # what is awaited may be a wrapper that suspends (a retry, a lock)
        inner = scopes.get(function)
        if inner is None or not _suspends_only_on_quiet(function.body, (inner, scopes, ctx), depth + 1):
            return False
    return True


def _suspends_only_on_quiet(block: cst.CSTNode, where: _Where, depth: int) -> bool:
    """Is every suspension point of `block` an `async for` over a quiet generator or an
    `await` of a quiet coroutine function?"""
    for node in descendants(block):
        if isinstance(node, cst.With) and node.asynchronous is not None:
            return False
        if isinstance(node, cst.Await) and not _awaits_quiet_coroutine(node.expression, where, depth):
            return False
        if isinstance(node, (cst.For, cst.CompFor)) and node.asynchronous is not None:
            if not _iterates_quiet_generator(node.iter, where, depth):
                return False
    return True


def _typed_method(
    func: cst.BaseExpression, scope: Scope, scopes: _Scopes, ctx: Context | None
) -> cst.FunctionDef | None:
    """`self._state.get_value` where the receiver is known to be an instance of a class of
    this module (`self._state = state` with `state: BotState`): that class's `def`."""
    if ctx is None or not ctx.module_name or not isinstance(func, cst.Attribute):
        return None
    owner = ctx.resolver.receiver_class(func.value, scope)
    if owner is None or not owner.startswith(f"{ctx.module_name}."):
        return None
    for node, found in scopes.items():
        if isinstance(node, cst.ClassDef) and found.parent is not None:
            if ctx.resolver.qualname(node.name, found.parent) == owner:
                return _def_node(found.bindings.get(func.attr.value, []))
    return None


def _same_named_methods(method: cst.FunctionDef, scopes: _Scopes) -> list[cst.FunctionDef]:
    """Every method of the module's classes with `method`'s name."""
    name = method.name.value
    return [
        node
        for node, found in scopes.items()
        if isinstance(node, cst.FunctionDef)
        and node.name.value == name
        and found.parent is not None
        and found.parent.kind == "class"
    ]


# What a comment says when the author means a catch-all to take everything: cancellation by
# name, or every error ignored. A bare "ignore errors" is not enough: it says nothing of breadth.
# ("cancel" alone is also a word of many domains: an order, a subscription, a booking.)
_DELIBERATE = re.compile(
    r"CancelledError|\bsilently\b|\bignore (?:all|any|every)\b"
    r"|\b(?:all|any|every) (?:\w+ )?(?:errors?|exceptions?)\b",
    re.I,
)

_TO_DO = re.compile(r"\b(?:TODO|FIXME|XXX|HACK|BUG)\b")


class _CommentsAndNames(cst.CSTVisitor):
    """The comments and names in what it visits (for a handler's body: its `except` line's
    comment too)."""

    def __init__(self) -> None:
        self.comments: list[cst.Comment] = []
        self.names: list[cst.Name | cst.Attribute] = []

    def visit_Comment(self, node: cst.Comment) -> None:
        self.comments.append(node)

    def visit_Name(self, node: cst.Name) -> None:
        self.names.append(node)

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        self.names.append(node)
        return False  # `asyncio.CancelledError` whole, not its parts


def _is_pass_line(statement: cst.CSTNode) -> bool:
    return isinstance(statement, cst.SimpleStatementLine) and all(isinstance(s, cst.Pass) for s in statement.body)


def _cancel_key(expr: cst.BaseExpression, scope: Scope) -> _CancelKey | None:
    """Who else can see X: ("self", class scope, "self.x") for an attribute of the method's
    instance, ("global", module scope, "x.y") for a module-level name; None for a local."""
    name = dotted_name(expr)
    if name is None:
        return None
    head = name.split(".", 1)[0]
    found = scope.lookup(head)
    if found is None:
        return None
    owner = found[0]
    if owner.kind == "module":
        return ("global", owner, name)
    if owner.kind == "function" and owner.self_name == head and "." in name and owner.enclosing_class is not None:
        return ("self", owner.enclosing_class, "self." + name.split(".", 1)[1])
    return None


def _shared_cancels(ctx: Context) -> frozenset[_CancelKey]:
    """`_cancel_key`s of every `X.cancel()` in the module."""
    key = "asl102_shared_cancels"
    if key not in ctx.cache:
        found: set[_CancelKey] = set()

        def on_node(node: cst.CSTNode, scope: Scope) -> None:
            if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and node.func.attr.value == "cancel":
                receivers: list[cst.BaseExpression] = [node.func.value]
                # `task = _distributor_task; task.cancel()`: the alias's value is cancelled.
                if isinstance(node.func.value, cst.Name):
                    bound = scope.lookup(node.func.value.value)
                    for binding in bound[1] if bound is not None else []:
                        if binding.kind == "assign" and isinstance(binding.value, (cst.Name, cst.Attribute)):
                            receivers.append(binding.value)
                for receiver in receivers:
                    cancel_key = _cancel_key(receiver, scope)
                    if cancel_key is not None:
                        found.add(cancel_key)

        walk_with_scopes(ctx, on_node)
        ctx.cache[key] = frozenset(found)
    return cast("frozenset[_CancelKey]", ctx.cache[key])  # set only here


def _last_statement(body: cst.BaseSuite) -> cst.BaseStatement | cst.BaseSmallStatement | None:
    last = body.body[-1] if body.body else None
    return last.body[-1] if isinstance(last, cst.SimpleStatementLine) else last


def _collected_into(node: cst.CSTNode, caught: str) -> str | None:
    """`errors.append(exc)` / `errors.add(exc)` of the caught exception into a named container,
    also as an item of a tuple (`errors.append((key, exc))`): the container's dotted name."""
    if (
        isinstance(node, cst.Call)
        and isinstance(node.func, cst.Attribute)
        and node.func.attr.value in ("append", "add")
        and len(node.args) == 1
    ):
        value = node.args[0].value
        items = [element.value for element in value.elements] if isinstance(value, cst.Tuple) else [value]
        if any(isinstance(item, cst.Name) and item.value == caught for item in items):
            return dotted_name(node.func.value)
    return None


def _subscripted(expr: cst.BaseExpression) -> cst.BaseExpression:
    """What `expr` indexes, through every subscript: `errors` for `errors[0][1]`."""
    while isinstance(expr, cst.Subscript):
        expr = expr.value
    return expr


# Calls that hand a caught exception on instead of dropping it: to whoever waits on a
# future or runs a generator, or to the task that reads a queue or stream (and raises it).
_HAND_ON = frozenset({"throw", "athrow", "set_exception"})
_PASS_ON = frozenset({"put", "put_nowait", "send", "send_nowait"})


def _hands_on(handler: _Handler) -> bool:
    """`except BaseException as e: future.set_exception(e)` / `gen.throw(e)`,
    `greenlet.throw(*sys.exc_info())`, or `queue.put(e)` / `queue.put_nowait((ERROR, e))`:
    the exception is forwarded to whoever waits on the future, runs the generator (or
    greenlet) or reads the queue, not swallowed."""
    caught = _caught_name(handler)
    for node in descendants(handler.body):
        if not isinstance(node, cst.Call) or not isinstance(node.func, cst.Attribute):
            continue
        if caught is not None and _passes_on(node, {caught}):
            return True
        if node.func.attr.value not in _HAND_ON:
            continue
        for arg in node.args:
            if caught is not None and isinstance(arg.value, cst.Name) and arg.value.value == caught:
                return True
            if arg.star == "*" and isinstance(arg.value, cst.Call) and dotted_name(arg.value.func) == "sys.exc_info":
                return True
    return False


def _passes_on(call: cst.Call, names: set[str]) -> bool:
    """`queue.put(x)` / `stream.send_nowait((tag, x))` for a name `x` of `names` (`_PASS_ON`)."""
    if not (isinstance(call.func, cst.Attribute) and call.func.attr.value in _PASS_ON):
        return False
    return any(not names.isdisjoint(_names_in_item(arg.value)) for arg in call.args if not arg.star)


def _names_in_item(value: cst.BaseExpression) -> set[str]:
    """The names a value carries: `x`, or the items of a tuple or list (`("error", x)`)."""
    if isinstance(value, (cst.Tuple, cst.List)):
        return {name for e in value.elements if (name := dotted_name(e.value)) is not None}
    name = dotted_name(value)
    return {name} if name is not None else set()


def _delegates_raise(ctx: Context, handler: _Handler) -> bool:
    """The handler calls a function that raises for it (`_raises_for`)."""
    caught = {name} if (name := _caught_name(handler)) is not None else set()
    return any(isinstance(node, cst.Call) and _raises_for(ctx, node, caught) for node in descendants(handler.body))


def _raises_for(ctx: Context, call: cst.Call, names: set[str], always: bool = True) -> bool:
    """Is `call` one of a function that raises for its caller: one annotated `-> NoReturn`/
    `Never` (it always raises: anyio's `self._convert_socket_error(exc)`; only where
    `always`), of this module or, with the project index, another (`ProjectIndex.raisers`);
    or one of this module handed one of `names` (the caught exception, or what the handler
    kept of it) whose body raises (a conditional re-raise, the author's call: anyio's `await
    self.handle_handshake_error(exc, stream)`)?"""
    handed = any(isinstance(arg.value, cst.Name) and arg.value.value in names for arg in call.args)
    callee = _own_function(call.func, ctx.scope, ctx.scopes)
    if callee is None:
        project = ctx.project
        if project is None or not project.raisers or ctx.call_name(call) not in project.raisers:
            return False
        return always or handed
    returns = ctx.qualname(callee.returns.annotation) if callee.returns is not None else None
    if returns in knowledge.NEVER_RETURNS:
        return always or handed
    return handed and contains_raise(callee.body)


def _own_function(func: cst.BaseExpression, scope: Scope, scopes: _Scopes) -> cst.FunctionDef | None:
    """The `def` of this module a call's callee is (`helper(...)`; `self.m(...)`, also when a
    base class of the module defines `m`), if known."""
    if isinstance(func, cst.Attribute):
        return _own_method(func, scope) or _inherited_method(func, scope, scopes)
    if isinstance(func, cst.Name):
        found = scope.lookup(func.value)
        bindings = found[1] if found is not None else []
        if len(bindings) == 1 and bindings[0].kind == "def" and isinstance(bindings[0].node, cst.FunctionDef):
            return bindings[0].node
    return None


def _inherited_method(attribute: cst.Attribute, scope: Scope, scopes: _Scopes) -> cst.FunctionDef | None:
    """`self.m` where `m` is defined by a base class in this module (a mixin)."""
    if not isinstance(attribute.value, cst.Name):
        return None
    found = scope.lookup(attribute.value.value)
    if found is None or found[0].kind != "function" or found[0].self_name != attribute.value.value:
        return None
    todo: list[Scope | None] = [found[0].enclosing_class]
    seen: set[int] = set()
    while todo:
        cls = todo.pop(0)
        if cls is None or id(cls) in seen or len(seen) > 16:
            continue
        seen.add(id(cls))
        bindings = cls.bindings.get(attribute.attr.value, [])
        if bindings:
            return _def_node(bindings)
        # A class scope's node is its ClassDef.
        for base in cast(cst.ClassDef, cls.node).bases:
            # `class UDPSocket(_SocketMixin[Addr], ...)`: the generic's class.
            base_name = base.value.value if isinstance(base.value, cst.Subscript) else base.value
            if isinstance(base_name, cst.Name) and cls.parent is not None:
                named = cls.parent.lookup(base_name.value)
                classes = named[1] if named is not None else []
                class_node = classes[0].node if len(classes) == 1 and classes[0].kind == "class" else None
                if class_node is not None and class_node in scopes:
                    todo.append(scopes[class_node])
    return None


def _task_roots(ctx: Context) -> tuple[_Nodes, _Nodes, frozenset[str], _Nodes]:
    """The functions and methods of this module that it only ever starts as tasks: every
    reference to them is `f` in `create_task(f(...))` (or another task starter), or `self.m`
    in `create_task(self.m(...))` inside their class. Also what the module references other
    than by calling it (handed on as a callback): defs, and attribute names. And the
    functions it only ever runs by `loop.run_until_complete(f(...))`."""
    key = "asl102_task_roots"
    if key not in ctx.cache:
        spawned_callees: set[cst.CSTNode] = set()  # `f` / `self.m` of spawned calls
        main_callees: set[cst.CSTNode] = set()  # ... of `loop.run_until_complete(f())`
        called: set[cst.CSTNode] = set()  # `f` / `x.m` of any call
        not_references: set[cst.CSTNode] = set()  # def names, attribute names, keywords
        spawned: set[cst.CSTNode | None] = set()
        other: set[cst.CSTNode | None] = set()
        mains: set[cst.CSTNode | None] = set()  # referenced in `loop.run_until_complete(f())`
        not_mains: set[cst.CSTNode | None] = set()  # ... and otherwise
        bare: set[cst.CSTNode | None] = set()
        spawned_methods: dict[str, set[cst.CSTNode | None]] = {}
        other_attributes: set[str] = set()
        bare_attributes: set[str] = set()

        # References are sorted out after the walk: a started call may have been bound to a
        # name before the starter is reached (`s = events(); StreamingResponse(s)`).
        references: list[tuple[cst.Attribute | cst.Name, Scope]] = []

        def on_node(node: cst.CSTNode, scope: Scope) -> None:
            if isinstance(node, (cst.FunctionDef, cst.ClassDef)):
                not_references.add(node.name)
            elif isinstance(node, cst.Attribute):
                not_references.add(node.attr)
                references.append((node, scope))
            elif isinstance(node, cst.Arg) and node.keyword is not None:
                not_references.add(node.keyword)
            elif isinstance(node, cst.Call):
                called.add(node.func)
                if starts_task(ctx, node, scope):
                    # `entry.async_create_background_task(hass, self._poll(), "poll")`: any position.
                    started = [call.func for call in started_arguments(node, scope)]
                    spawned_callees.update(started)
                    if isinstance(node.func, cst.Attribute) and node.func.attr.value == "run_until_complete":
                        main_callees.update(started)
            elif isinstance(node, cst.Name):
                references.append((node, scope))

        walk_with_scopes(ctx, on_node)
        for node, scope in references:
            if isinstance(node, cst.Attribute):
                method = _own_method(node, scope) if node in spawned_callees else None
                if method is not None:
                    spawned_methods.setdefault(node.attr.value, set()).add(method)
                else:
                    other_attributes.add(node.attr.value)
                    if node not in called:
                        bare_attributes.add(node.attr.value)
                continue
            if node in not_references:
                continue
            found = scope.lookup(node.value)
            if found is None or not found[1] or any(b.kind != "def" for b in found[1]):
                continue
            for binding in found[1]:
                (spawned if node in spawned_callees else other).add(binding.node)
                (mains if node in main_callees else not_mains).add(binding.node)
                if node not in called:
                    bare.add(binding.node)
        roots = spawned - other
        for name, methods in spawned_methods.items():
            if name not in other_attributes:
                roots |= methods
        loop_mains = mains - not_mains
        ctx.cache[key] = (frozenset(roots), frozenset(bare), frozenset(bare_attributes), frozenset(loop_mains))
    return cast("tuple[_Nodes, _Nodes, frozenset[str], _Nodes]", ctx.cache[key])  # set only here


def _either_of(value: cst.BaseExpression) -> set[str]:
    """The names `a or b or c` may evaluate to (`a` alone for a bare name)."""
    if isinstance(value, cst.BooleanOperation) and isinstance(value.operator, cst.Or):
        return _either_of(value.left) | _either_of(value.right)
    name = dotted_name(value)
    return {name} if name is not None else set()


def _own_method(attribute: cst.Attribute, scope: Scope) -> cst.FunctionDef | None:
    """`self.m` in a method: the `def m` of that class, if it has exactly that one binding."""
    if not isinstance(attribute.value, cst.Name):
        return None
    found = scope.lookup(attribute.value.value)
    if found is None or found[0].kind != "function" or found[0].self_name != attribute.value.value:
        return None
    cls = found[0].enclosing_class
    bindings = cls.bindings.get(attribute.attr.value, []) if cls is not None else []
    return _def_node(bindings)


def _def_node(bindings: list[Binding]) -> cst.FunctionDef | None:
    """The `def` when a name has exactly that one binding (a "def" binding's node is its
    FunctionDef)."""
    if len(bindings) != 1 or bindings[0].kind != "def":
        return None
    return cast(cst.FunctionDef, bindings[0].node)


def _kept_names(body: cst.BaseSuite, caught: str) -> set[str]:
    """The names a handler's body keeps the caught exception in (`_keeps`)."""
    kept: set[str] = set()
    for node in descendants(body):
        if isinstance(node, cst.Assign) and _keeps(node.value, caught):
            kept.update(filter(None, (dotted_name(t.target) for t in node.targets)))
    return kept


def _keeps(value: cst.BaseExpression, caught: str) -> bool:
    """Does the value hold the caught exception: `err`, `pending or err`, a tuple or list
    holding it (`("error", err)`), what a function makes of it (`safe_copy(err)`), itself
    without its traceback (`err.with_traceback(None)`, the same exception), or either of
    these as a branch of a conditional (`err if fatal(err) else summary(err)`)?"""
    if isinstance(value, cst.IfExp):
        return _keeps(value.body, caught) or _keeps(value.orelse, caught)
    if caught in _either_of(value):
        return True
    if isinstance(value, (cst.Tuple, cst.List)):
        return caught in _names_in_item(value)
    if isinstance(value, cst.Call):
        func = value.func
        return any(isinstance(arg.value, cst.Name) and arg.value.value == caught for arg in value.args) or (
            isinstance(func, cst.Attribute)
            and func.attr.value == "with_traceback"
            and isinstance(func.value, cst.Name)
            and func.value.value == caught
        )
    return False


def _returned_names(value: cst.BaseExpression) -> set[str]:
    """The names a returned value may hand back: `x`, `x or y`, each item of `x, flag`."""
    items = [e.value for e in value.elements] if isinstance(value, cst.Tuple) else [value]
    return set().union(*(_either_of(item) for item in items))


def _returns_one_of(node: cst.Return, names: set[str]) -> bool:
    """`return x`, or `return a, x`, for a name `x` of `names`."""
    value = node.value
    items = [e.value for e in value.elements] if isinstance(value, cst.Tuple) else [value]
    return any(isinstance(item, cst.Name) and item.value in names for item in items)


def _never_completes(body: cst.BaseSuite) -> bool:
    """Does this block end only by an exception: no `return`/`break`/`continue` leaves it,
    and it ends in `raise` or in a `while True:` that no `break` (nor `return`) leaves?"""
    if not isinstance(body, cst.IndentedBlock) or not body.body or jumps_out(body):
        return False
    last = body.body[-1]
    if isinstance(last, cst.SimpleStatementLine):
        return isinstance(last.body[-1], cst.Raise)
    return (
        isinstance(last, cst.While)
        and isinstance(last.test, cst.Name)
        and last.test.value == "True"
        and not any(isinstance(node, (cst.Break, cst.Return)) for node in exits(last.body))
    )


def _caught_name(handler: _Handler) -> str | None:
    """The name `except ... as name:` binds, if any."""
    return handler.name.name.value if handler.name is not None and isinstance(handler.name.name, cst.Name) else None


def _is_cancellation(name: str) -> bool:
    """asyncio's CancelledError, or concurrent.futures' (told to a thread)."""
    return name in knowledge.CANCELLED_ERROR or name in knowledge.THREAD_CANCELLED_ERROR


RULE = CancelledErrorSwallowed
