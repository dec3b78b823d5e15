"""ASL202 blocking-http: a synchronous HTTP request in async code.

`requests.get(...)`, `httpx.post(...)`, `urllib.request.urlopen(...)`, a request
method of a `requests.Session()` or sync `httpx.Client()`, and `request` /
`getresponse` of an `http.client` connection wait for the remote server while
holding the thread that runs the event loop: nothing else in the process runs
for the whole round trip.

The client's type comes from evidence (`ctx.type_of`): the constructor that bound
the name in the function, in a `with` statement, on `self.x` in any method, or at
module level, or an annotation. Creating a client does no I/O and is not flagged;
`httpx.AsyncClient` and `aiohttp` are async.

Not flagged: `urlopen(uri)` of a name the function has checked is a `data:` URI
(inside `if uri.startswith("data:"):`, or after `if not uri.startswith("data:"): raise
...`), which urllib decodes in memory, with no network. The check must be on the name the
call passes, and the name bound once in the function. Project analysis asks the same of
the calls in sync helpers (ASL207).

No fix: use `httpx.AsyncClient` or `aiohttp`, or move the call to a thread with
`asyncio.to_thread`.
"""

from __future__ import annotations

import libcst as cst

from asynclint import knowledge
from asynclint.context import Context
from asynclint.rules._blocking import BlockingCallRule
from asynclint.rules._resources import function_path
from asynclint.rules._statements import conditions

_URLOPEN = frozenset({"urllib.request.urlopen", "urllib2.urlopen"})


class BlockingHttp(BlockingCallRule):
    code = "ASL202"
    name = "blocking-http"
    summary = "a synchronous HTTP request in async code blocks the event loop"
    tokens = ("requests", "httpx", "urlopen", "urlretrieve", "HTTPConnection", "HTTPSConnection", "urllib2")
    calls = knowledge.BLOCKING_HTTP
    receiver_methods = knowledge.BLOCKING_HTTP_METHODS
    remedy = "Use `httpx.AsyncClient` or `aiohttp`, or run it in a thread with `asyncio.to_thread`"

    def match(self, node: cst.Call) -> tuple[str | None, str] | None:
        found = super().match(node)
        if found is not None and found[0] in _URLOPEN and _opens_a_data_uri(self.ctx, node):
            return None
        return found


def _opens_a_data_uri(ctx: Context, call: cst.Call) -> bool:
    """Is the call's first argument a name the function has checked starts with `data:`:
    the call is in the body of `if name.startswith("data:"):`, or comes after `if not
    name.startswith("data:"):` whose body leaves (`raise`, `return`), in an enclosing block
    of the same function? (`ctx` is at the call.)"""
    if not call.args or call.args[0].keyword is not None or call.args[0].star:
        return False
    argument = call.args[0].value
    if not isinstance(argument, cst.Name) or len(ctx.scope.bindings.get(argument.value, ())) > 1:
        return False
    name = argument.value
    # (Not in an `else:`, nor after an early-leaving `if` that has one.)
    return any(
        _checks_data_uri(branch.test, name) is holds and (holds or branch.orelse is None)
        for branch, holds in conditions(function_path(ctx))
    )


def _checks_data_uri(test: cst.BaseExpression, name: str) -> bool | None:
    """True for `name.startswith("data:...")`, False for `not name.startswith(...)`, else None."""
    negated = False
    if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
        negated, test = True, test.expression
    if not (
        isinstance(test, cst.Call)
        and isinstance(test.func, cst.Attribute)
        and test.func.attr.value == "startswith"
        and isinstance(test.func.value, cst.Name)
        and test.func.value.value == name
        and len(test.args) == 1
        and isinstance(prefix := test.args[0].value, cst.SimpleString)
    ):
        return None
    value = prefix.evaluated_value
    if not isinstance(value, str) or not value.startswith("data:"):
        return None
    return not negated


RULE = BlockingHttp
