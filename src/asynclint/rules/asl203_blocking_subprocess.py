"""ASL203 blocking-subprocess: starting or waiting for a process synchronously in async code.

`subprocess.run/call/check_call/check_output/getoutput/getstatusoutput`, `os.system`
and the `os.wait*` functions wait for the child while holding the event loop's
thread; so do `wait()` and `communicate()` of a `subprocess.Popen` (known by the
constructor that bound the name, attribute or module global). `os.popen` and the
`os.spawn*` functions hand back blocking pipes or wait. `asyncio.create_subprocess_exec`
starts the process and lets the coroutine `await` it.

Not flagged: creating a `Popen` itself, which returns at once (a detached daemon, a
child polled with `poll()`); an `os.wait*`/`os.spawn*` call given a flag with which it
returns at once (`os.WNOHANG`, `os.P_NOWAIT`: `knowledge.NON_BLOCKING_PROCESS_FLAGS`);
`p.wait()` in the statement right after `p.terminate()` or `p.kill()` on the same process,
the teardown idiom: it reaps a child already told to exit (after `kill()` at once; after
`terminate()` as long as the child takes to shut down); `p.wait()`/`p.communicate()` under a
test that the child has exited (`if p.poll() is not None:`, also through a name holding only
`p.poll()` or None).

No fix: the asyncio process API differs (`await proc.communicate()`, byte streams).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import libcst as cst

from asynclint import knowledge
from asynclint.rules._blocking import BlockingCallRule

if TYPE_CHECKING:
    from asynclint.config import Settings

# `os` is a word in most files; its process functions, as words (not `await`, not
# `file_system`), are what make one worth parsing.
_OS = re.compile(r"os\b")
_OS_PROCESS_WORDS = re.compile(
    "(?:{})\\b".format(
        "|".join(sorted(n.removeprefix("os.") for n in knowledge.BLOCKING_SUBPROCESS if n.startswith("os.")))
    )
)

# What makes the child exit, so that a `wait()` right after only reaps it.
_STOPS = frozenset({"terminate", "kill"})


class BlockingSubprocess(BlockingCallRule):
    code = "ASL203"
    name = "blocking-subprocess"
    summary = "a synchronous subprocess call in async code blocks the event loop"
    tokens = ("subprocess",)
    calls = knowledge.BLOCKING_SUBPROCESS
    receiver_methods = knowledge.BLOCKING_SUBPROCESS_METHODS
    remedy = "Use `asyncio.create_subprocess_exec`"

    @classmethod
    def mentioned(cls, text: str, settings: Settings) -> bool:
        if super().mentioned(text, settings):
            return True
        return knowledge.has_word(_OS, text) and knowledge.has_word(_OS_PROCESS_WORDS, text)

    def match(self, node: cst.Call) -> tuple[str | None, str] | None:
        found = super().match(node)
        if found is not None and found[0] is not None and self._returns_at_once(node):
            return None
        return found

    def _returns_at_once(self, node: cst.Call) -> bool:
        """Is one of the call's arguments, or a part of one (`os.WNOHANG | os.WUNTRACED`), a
        flag with which it does not wait?"""
        ctx = self.ctx
        todo: list[cst.CSTNode] = [arg.value for arg in node.args]
        while todo:
            expr = todo.pop()
            if isinstance(expr, cst.BinaryOperation):
                todo += (expr.left, expr.right)
            elif (
                isinstance(expr, (cst.Name, cst.Attribute))
                and ctx.qualname(expr) in knowledge.NON_BLOCKING_PROCESS_FLAGS
            ):
                return True
        return False

    def blocking_method(self, node: cst.Call, func: cst.Attribute) -> str | None:
        subject = super().blocking_method(node, func)
        if subject is None:
            return None
        if func.attr.value == "wait" and self._reaps_stopped(node, func.value):
            return None
        return None if self._after_exit(func.value) else subject

    def _after_exit(self, process: cst.BaseExpression) -> bool:
        """Is the call in the body of `if process.poll() is not None:` (or `if
        process.returncode is not None:`, or `if code is not None:` where every value the
        function gives `code` is `process.poll()` or None)? The child has exited: `wait()`
        only reaps it, `communicate()` only drains its pipes (mage-ai's git helper)."""
        stack = self.ctx.stack
        for depth in range(len(stack) - 1, 0, -1):
            branch, inside = stack[depth - 1], stack[depth]
            if isinstance(branch, cst.If) and inside is branch.body:
                tested = _tested_not_none(branch.test)
                if tested is not None and (_exit_status(tested, process) or self._holds_poll(tested, process)):
                    return True
        return False

    def _holds_poll(self, name: cst.BaseExpression, process: cst.BaseExpression) -> bool:
        """A local name that every assignment of the function gives `process.poll()` or None."""
        if not isinstance(name, cst.Name):
            return False
        found = self.ctx.scope.lookup(name.value)
        if found is None or found[0].kind != "function" or not found[1]:
            return False
        for binding in found[1]:
            value = binding.value
            if binding.kind != "assign" or value is None:
                return False
            if not (isinstance(value, cst.Name) and value.value == "None") and not (
                isinstance(value, cst.Call) and not value.args and _exit_status(value, process)
            ):
                return False
        return True

    def _reaps_stopped(self, node: cst.Call, process: cst.BaseExpression) -> bool:
        """Is this `wait()` the statement right after `process.terminate()`/`kill()`?"""
        ctx = self.ctx
        statement: cst.CSTNode | None = node
        while statement is not None and not isinstance(statement, cst.BaseSmallStatement):
            statement = ctx.parent(statement)
        line = ctx.parent(statement) if statement is not None else None
        if not isinstance(line, cst.SimpleStatementLine):
            return False
        index = line.body.index(statement)
        previous = line.body[index - 1] if index else self._before(line)
        call = previous.value if isinstance(previous, cst.Expr) else None
        return (
            isinstance(call, cst.Call)
            and isinstance(call.func, cst.Attribute)
            and call.func.attr.value in _STOPS
            and call.func.value.deep_equals(process)
        )

    def _before(self, statement: cst.CSTNode) -> cst.BaseSmallStatement | None:
        """The simple statement just before `statement` in its block; for the first
        statement of a `try:`, the one before the `try` (`p.kill()`, then `try:
        p.wait(timeout=5)`: the wait is still the next thing done)."""
        ctx = self.ctx
        block = ctx.parent(statement)
        body = getattr(block, "body", None)
        if not isinstance(body, (list, tuple)) or statement not in body:
            return None
        at = body.index(statement)
        if not at:
            owner = ctx.parent(block) if block is not None else None
            return self._before(owner) if isinstance(owner, cst.Try) and owner.body is block else None
        previous = body[at - 1]
        return previous.body[-1] if isinstance(previous, cst.SimpleStatementLine) else None


def _tested_not_none(test: cst.BaseExpression) -> cst.BaseExpression | None:
    """`x` of a test `x is not None`."""
    if not (
        isinstance(test, cst.Comparison)
        and len(test.comparisons) == 1
        and isinstance(test.comparisons[0].operator, cst.IsNot)
        and isinstance(test.comparisons[0].comparator, cst.Name)
        and test.comparisons[0].comparator.value == "None"
    ):
        return None
    return test.left


def _exit_status(left: cst.BaseExpression, process: cst.BaseExpression) -> bool:
    """`process.poll()` / `process.returncode`."""
    if isinstance(left, cst.Call) and not left.args:
        left = left.func
        wanted = "poll"
    else:
        wanted = "returncode"
    return isinstance(left, cst.Attribute) and left.attr.value == wanted and left.value.deep_equals(process)


RULE = BlockingSubprocess
