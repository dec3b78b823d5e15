"""ASL402 fastapi-on-event: startup/shutdown event handlers instead of a lifespan.

FastAPI deprecated `@app.on_event("startup"/"shutdown")` and `app.add_event_handler(...)` in
favour of a `lifespan` async context manager, where a resource and its cleanup sit side by
side. The two do not mix: once `lifespan=` is given, the event handlers no longer run.

Flags the `@` of an `@X.on_event(...)` decorator, the decorator applied by hand
`X.on_event(...)(f)`, and a call `X.add_event_handler(...)`, where X is a FastAPI/Starlette app or router (bound to
`FastAPI(...)`, `APIRouter(...)`, `Starlette(...)`, annotated so, or `<app>.router`), or, in a
module that imports fastapi, an object of unknown type given the literal event name
`"startup"` or `"shutdown"`, other than `self`/`cls` (a class forwarding the API, as FastAPI's
own routers do). An `.on_event(...)` of anything else (an entity, an event bus) is not FastAPI's.
Not flagged either: a use inside `with warnings.catch_warnings():` whose body silences a
DeprecationWarning (`warnings.filterwarnings("ignore", ..., category=DeprecationWarning)`,
`warnings.simplefilter("ignore")`): its author knows, and chose it (langserve hooks a banner
into its user's app, which it cannot give a lifespan).

No fix: moving code into a lifespan (and migrating every handler at once) is a refactoring.
"""

from __future__ import annotations

from typing import cast

import libcst as cst

from asynclint import analysis
from asynclint.rule import Rule
from asynclint.walk import nodes

_EVENT_METHODS = ("on_event", "add_event_handler")
_EVENTS = ("startup", "shutdown")
_DEPRECATIONS = frozenset({"builtins.DeprecationWarning", "builtins.PendingDeprecationWarning", "builtins.Warning"})


class FastapiOnEvent(Rule):
    code = "ASL402"
    name = "fastapi-on-event"
    summary = "`on_event`/`add_event_handler` startup and shutdown hooks are deprecated: use a lifespan"
    tokens = _EVENT_METHODS

    def visit_Decorator(self, node: cst.Decorator) -> None:
        expr = node.decorator
        if isinstance(expr, cst.Call) and self._method(expr) == "on_event" and not self._silenced():
            self.ctx.report(node, self._message(expr, decorator=True), help=_HELP)

    def visit_Call(self, node: cst.Call) -> None:
        method = self._method(node)
        if method == "on_event":
            # Only the decorator applied by hand, `app.on_event("startup")(f)`; a wrapper that
            # returns `self._app.on_event(event)` merely passes the API on.
            parent = self.ctx.parent(node)
            if not (isinstance(parent, cst.Call) and parent.func is node):
                return
        elif method is None:
            return
        if not self._silenced():
            self.ctx.report(node, self._message(node, decorator=False), help=_HELP)

    def _silenced(self) -> bool:
        """Inside `with warnings.catch_warnings():` whose body ignores a DeprecationWarning?"""
        for ancestor in self.ctx.ancestors():
            if isinstance(ancestor, cst.With) and any(
                isinstance(item.item, cst.Call) and self.ctx.call_name(item.item) == "warnings.catch_warnings"
                for item in ancestor.items
            ):
                if any(isinstance(node, cst.Call) and self._ignores_deprecation(node) for node in nodes(ancestor.body)):
                    return True
        return False

    def _ignores_deprecation(self, call: cst.Call) -> bool:
        """`warnings.filterwarnings("ignore", ..., category=DeprecationWarning)` or
        `warnings.simplefilter("ignore")` (every category, or DeprecationWarning)."""
        name = self.ctx.call_name(call)
        if name not in ("warnings.filterwarnings", "warnings.simplefilter") or not call.args:
            return False
        action = call.args[0].value
        if not (isinstance(action, cst.SimpleString) and action.evaluated_value == "ignore"):
            return False
        category = analysis.argument(call, "category", 2 if name == "warnings.filterwarnings" else 1)
        if category is None:
            return name == "warnings.simplefilter"  # every category; filterwarnings' default too, but by message
        return self.ctx.qualname(category.value) in _DEPRECATIONS

    def _method(self, call: cst.Call) -> str | None:
        """ "on_event"/"add_event_handler" when `call` is that method of a FastAPI/Starlette app."""
        func = call.func
        if not isinstance(func, cst.Attribute) or func.attr.value not in _EVENT_METHODS:
            return None
        receiver = func.value
        if analysis.is_app(self.ctx, receiver):
            return func.attr.value
        if not analysis.imports_fastapi(self.ctx) or self.ctx.type_of(receiver) is not None:
            return None
        if isinstance(receiver, cst.Name) and receiver.value in ("self", "cls"):
            return None  # a router or framework class forwarding the API (FastAPI's own `include_router`)
        first = call.args[0] if call.args else None
        if (
            first is not None
            and first.keyword is None
            and isinstance(first.value, cst.SimpleString)
            and first.value.evaluated_value in _EVENTS
        ):
            return func.attr.value
        return None

    def _message(self, call: cst.Call, decorator: bool) -> str:
        func = cast(cst.Attribute, call.func)  # `_method` accepted only a method call
        receiver = self.ctx.module.code_for_node(func.value)
        first = call.args[0].value if call.args else None
        event = first.evaluated_value if isinstance(first, cst.SimpleString) else None
        argument = f'"{event}"' if isinstance(event, str) and event else "..."
        if func.attr.value == "add_event_handler":
            argument += ", ..."
        shown = f"{'@' if decorator else ''}{receiver}.{func.attr.value}({argument})"
        return f"`{shown}` is deprecated"


_HELP = "Use a `lifespan` async context manager (`FastAPI(lifespan=...)`): startup code before its `yield`, shutdown code after it"

RULE = FastapiOnEvent
