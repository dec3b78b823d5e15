"""Collects a module's facts for project-wide analysis during the engine's traversal.

It rides along with the rules (same hooks, same context) but reports nothing;
what it gathers is described in `asynclint.project`.
"""

from __future__ import annotations

import re
import sys
from typing import TYPE_CHECKING, Literal, TypedDict, TypeGuard, cast

import libcst as cst

from asynclint import knowledge, registry
from asynclint.analysis import (
    imports_asyncio_orm,
    is_cli_command,
    session_dependencies,
    started_arguments,
    starts_concurrent_work,
    starts_task,
)
from asynclint.context import Context
from asynclint.guards import LAZY, guard_of, handed
from asynclint.project import FACTS_VERSION
from asynclint.rules._engines import database_of
from asynclint.rules._resources import Function, Lifetimes, function_path, on_every_call
from asynclint.rules._statements import descendants
from asynclint.scope import Scope, dotted_name

if TYPE_CHECKING:
    from typing_extensions import Required  # mypy's own copy: no runtime dependency

    from asynclint.config import Settings
    from asynclint.diagnostics import ModuleFacts
    from asynclint.rule import Rule
    from asynclint.rules._blocking import BlockingCallRule

_VALUE_KINDS = ("assign", "annassign")
_UNTYPED_KINDS = frozenset({"param", "assign", "with", "for", "walrus"})
_STDLIB = frozenset(sys.stdlib_module_names) | {"__future__"}
# How a module importing SQLAlchemy's or SQLModel's asyncio extension spells it.
_ASYNCIO_ORM_WORDS = re.compile(r"ext\.asyncio|ext\s+import\s+asyncio")

if TYPE_CHECKING:
    # The records `facts()` hands to `asynclint.project` (which reads them back as JSON).
    # The functional form: "async" and "from" are keywords.
    FunctionFacts = TypedDict(
        "FunctionFacts",
        {
            "async": Required[bool],
            "cached": Required[bool],
            "off_loop": bool,
            "display": Required[str],
            # [rule code, blocking call], or [code, call, parameters whose passing skips it]
            "blocking": Required[list[list[str | list[str]]]],
            "awaits": list[str],
            "entry": bool,
            "generator": bool,
            "signature": list[list[str]],
            # sync: [project callee, parameters guarding the call, arguments]
            "passing": list[list[str | list[str]]],
            "params": list[list[int | str]],  # [position or -1, name]
            "bind": str,
            "decorated": bool,
            "returns": str,
            "never_returns": bool,
            "concurrent": bool,  # async, and starts tasks or a server itself
            "cli": bool,  # async, a command-line command (`@cli.command()`): a program's main
            "spawns": list[int],
            "runs": list[int],  # ... of them, those it runs as a program's main (`asyncio.run`)
            "forwards": list[list[str | int]],  # [callee, position, parameter index]
            "via": str,
            "gives": str,
            "from": list[list[str | bool]],  # [callee, awaited]
            "drops": str,
            "drop_calls": list[list[str | bool]],  # [callee, dropped here, (a bare statement)]
            "creates": str,
            "creates_from": list[str],
        },
        total=False,
    )

    # Where a returned value comes from (`_source`): ("gives", "session" or the resource), or
    # ("from", project callee, awaited?).
    _Source = tuple[Literal["gives"], str] | tuple[Literal["from"], str, bool]

    class ClassFacts(TypedDict, total=False):
        display: Required[str]
        bases: list[str]
        special: bool  # may hand out one shared instance
        closes: bool  # a closing method closes an attribute
        attrs: dict[str, str]  # instance attribute -> shared type


def _relationship_rule() -> type[Rule]:
    return registry.load_rule("ASL301")


def _blocking_rules() -> list[type[BlockingCallRule]]:
    # CHAIN_CODES are the blocking-call rules (registry: their calls end ASL207's chains).
    return [
        cast("type[BlockingCallRule]", registry.load_rule(code))
        for code in registry.CHAIN_CODES
        if code in registry.rule_modules()
    ]


def wanted_first(text: str, settings: Settings, async_code: bool = True) -> bool:
    """Are this module's facts wanted before the index exists? Where async code is (its
    calls lead to the helpers whose blocking calls matter: the runner follows them; not
    asked for a module whose findings nobody asked for), and where a session or a resource
    is named, which can add to the index by itself, and where startup or shutdown code is
    registered. What else facts hold (calls, re-exports,
    base classes, imports) matters only once async code calls into the module or the index
    names something it spells; the runner asks for them then."""
    from asynclint.rules._resources import ResourceRule

    return (
        (async_code and knowledge.has_async_def(text))
        or knowledge.mentions_session(text, settings.session_types)
        or "sessionmaker" in text  # a module-level `sessionmaker(...)`, for ASL401
        or "create_engine" in text  # or `engine_from_config`: which databases the project's engines are (ASL206)
        or "engine_from_config" in text
        or ResourceRule.wants(text, settings)
        or _ASYNCIO_ORM_WORDS.search(text) is not None  # the project uses the ORM under asyncio (ASL301)
        or knowledge.may_start_task(text)  # where tasks are started: their roots (ASL102)
        or knowledge.may_register_lifecycle(text)  # what runs only at startup, for ASL207
    )


class FactsCollector:
    code = "facts"

    def __init__(self, ctx: Context, text: str) -> None:
        self.ctx = ctx
        self.module = ctx.module_name or ""
        self.functions: dict[str, FunctionFacts] = {}
        self.classes: dict[str, ClassFacts] = {}
        self.async_calls: set[str] = set()
        self.stack: list[tuple[cst.FunctionDef, str | None]] = []  # (node, qualname or None)
        self.matchers = [
            rule(ctx)
            for rule in _blocking_rules()
            if rule.mentioned(text, ctx.settings)
            and (rule.code not in registry.FILE_CHAIN_CODES or ctx.settings.helper_file_io)
        ]
        # What each named function hands back: `return` values (or `yield` values).
        self.returns: dict[cst.FunctionDef, list[cst.BaseExpression]] = {}
        self.yields: dict[cst.FunctionDef, list[cst.BaseExpression]] = {}
        self.acm: set[cst.FunctionDef] = set()  # decorated with `@asynccontextmanager`
        # Calls creating a resource (engine, pool, client): call -> (resource, path, in-process).
        self.sites: dict[cst.Call, tuple[str, list[cst.CSTNode], bool]] = {}
        self.resources: Lifetimes | None = None  # what creations live for (ASL501 reads the same)
        self.untyped: set[str] = set()  # names of functions called with an unannotated name
        # Calls of the project's own functions, per def: where a resource created and dropped
        # on every call (`drops`) may be reached from another module.
        self.project_calls: dict[cst.FunctionDef, list[tuple[cst.Call, str, list[cst.CSTNode]]]] = {}
        self.relationships = _relationship_rule().mentioned(text, ctx.settings)
        # Coroutines started as tasks (ASL102): project calls handed to a task starter, handed
        # positionally to another call (a spawn helper of the project?), or called otherwise.
        self.spawned: set[str] = set()
        self.handed: set[tuple[str, int, str]] = set()
        self.called: set[str] = set()
        self.as_argument: set[cst.Call] = set()
        # Project calls made on their own, and those of them bound to a name a starter is then
        # handed (`s = events(); StreamingResponse(s)`): started, not called.
        self.called_at: dict[cst.Call, str] = {}
        self.started: set[cst.Call] = set()
        # Calls in async code of a Path or Session I/O method on a receiver of unknown type
        # (which of the two: ASL204 reads the one, ASL206 the other), and the project names
        # (annotations, base classes) that may tell its type.
        self.untyped_io: set[str] = set()
        # What the sync engines the module creates talk to: "in_process" (SQLite, DuckDB), "server".
        self.engines: set[str] = set()
        self.type_refs: set[str] = set()
        # Typed attributes and return annotations matter to other modules only for the shared
        # types (`knowledge.SHARED_RETURN_TYPES`), each spelled by its class name.
        self.typed = "Path" in text or "Session" in text
        # Functions run only when an app starts or stops (`lifespan=`, startup handlers), and
        # project names used otherwise than awaited from a named async function (handed on as
        # a callback, spawned, called from a nested function): what may run at any time.
        self.startup: set[str] = set()
        # Coroutine functions run as a program's main (`asyncio.run(main())`): startup code
        # too, where nothing else in the project awaits them (`derive.startup_functions`).
        self.mains: set[str] = set()
        self.escapes: set[str] = set()
        self.bound: dict[cst.FunctionDef, bool] = {}  # methods whose first parameter is bound
        # A sync def's project calls with their guards and what they hand each parameter
        # (`project.arguments`): the guards on a helper's blocking paths pass through them.
        self.passing: dict[cst.FunctionDef, list[list[str | list[str]]]] = {}
        # FastAPI dependencies: does the project provide a session through one (ASL401)?
        self.depends = "Depends" in text or "Security" in text
        self.wrapping: set[cst.FunctionDef] = set()  # defs with a nested `async def`

    def _qualname(self, node: cst.FunctionDef | cst.ClassDef) -> str | None:
        """The project-wide name of a def/class being entered (None for local definitions)."""
        ctx = self.ctx
        return ctx.resolver.qualname(node.name, ctx.scope) if self.module else None

    def _is_project(self, name: str | None) -> TypeGuard[str]:
        return self.ctx.of_project(name)

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        name = self._qualname(node)
        if not name:
            return
        record: ClassFacts = {"display": node.name.value}
        named = [self.ctx.qualname(arg.value) for arg in node.bases if arg.keyword is None and not arg.star]
        bases = [base for base in named if self._is_project(base)]
        if bases:
            record["bases"] = bases
        # A metaclass or a class decorator may hand out one shared instance (a singleton).
        if node.keywords or any(
            self.ctx.qualname(d.decorator.func if isinstance(d.decorator, cst.Call) else d.decorator)
            not in ("dataclasses.dataclass",)
            for d in node.decorators
        ):
            record["special"] = True
        self.classes[name] = record

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        if node.asynchronous is not None and self.stack:
            self.wrapping.add(self.stack[-1][0])  # an `async def` nested in it: a wrapper?
        name = self._qualname(node)
        if name:
            ctx = self.ctx
            display = name[len(self.module) + 1 :] if name.startswith(self.module + ".") else name
            decorators = [
                ctx.qualname(d.decorator.func if isinstance(d.decorator, cst.Call) else d.decorator)
                for d in node.decorators
            ]
            record: FunctionFacts = {
                "async": node.asynchronous is not None,
                "cached": any(map(knowledge.caches, decorators)),
                "display": display,
                "blocking": [],
            }
            if any(d in knowledge.OFF_LOOP_DECORATORS for d in decorators):
                record["off_loop"] = True  # its body runs in a thread: calling it blocks nothing
            if any(d in knowledge.ASYNC_CONTEXT_MANAGER_DECORATORS for d in decorators):
                self.acm.add(node)
            if node.asynchronous is not None:
                record["awaits"] = []
                if any(d not in _PLAIN_DECORATORS for d in decorators):
                    record["entry"] = True  # a route, a registered callback: called from outside
            if any(_lifecycle_event(d.decorator) for d in node.decorators):
                self.startup.add(name)
            if is_cli_command(ctx, node):
                self.mains.add(name)
                record["cli"] = True  # called by the framework, as the program's main
            self.bound[node] = ctx.scope.kind == "class" and "builtins.staticmethod" not in decorators
            self._session_params(node, record, decorators)
            if self.typed and node.returns is not None and node.asynchronous is None:
                returned = ctx.annotation_type(node.returns.annotation)
                if returned in knowledge.SHARED_RETURN_TYPES:
                    record["returns"] = returned
            if node.returns is not None and ctx.qualname(node.returns.annotation) in knowledge.NEVER_RETURNS:
                record["never_returns"] = True  # it always raises: a handler calling it re-raises (ASL102)
            if ctx.scope.kind == "class":
                owner = self.classes.get(name.rsplit(".", 1)[0])
                method = node.name.value
                if owner is not None:
                    if method == "__new__":
                        owner["special"] = True
                    elif method in ("__aexit__", "__exit__") or knowledge.says_it_closes(method):
                        if _closes_own_attribute(node):
                            owner["closes"] = True
            self.functions[name] = record
        self.stack.append((node, name))

    def _session_params(self, node: cst.FunctionDef, record: FunctionFacts, decorators: list[str | None]) -> None:
        """Parameters annotated `AsyncSession`: [position or -1 (keyword-only), name]."""
        ctx = self.ctx
        params = node.params
        found: list[list[int | str]] = []
        for index, param in enumerate([*params.posonly_params, *params.params]):
            if (
                param.annotation is not None
                and ctx.annotation_type(param.annotation.annotation) == knowledge.ASYNC_SESSION
            ):
                found.append([index, param.name.value])
        for param in params.kwonly_params:
            if (
                param.annotation is not None
                and ctx.annotation_type(param.annotation.annotation) == knowledge.ASYNC_SESSION
            ):
                found.append([-1, param.name.value])
        if not found:
            return
        record["params"] = found
        if ctx.scope.kind == "class":
            record["bind"] = (
                "static"
                if "builtins.staticmethod" in decorators
                else "class"
                if "builtins.classmethod" in decorators
                else "method"
            )
        if any(d not in knowledge.SIGNATURE_KEEPING_DECORATORS for d in decorators):
            record["decorated"] = True

    def leave_FunctionDef(self, node: cst.FunctionDef) -> None:
        _, name = self.stack.pop()
        if name is not None:
            record = self.functions[name]
            if node in self.yields:
                record["generator"] = True  # the shape of a session dependency (ASL401)
            if node in self.wrapping:
                self._wrapping_spawn(node, record)
            self._hands_back(node, record)
            self._drops(node, record)
            passing = self.passing.get(node)
            if passing and not record["async"]:  # the chains go through sync functions only
                record["passing"] = passing
            if passing or any(len(entry) > 2 for entry in record["blocking"]):
                record["signature"] = _signature(node, self.bound.get(node, False))
            if not record.get("awaits", True):
                del record["awaits"]
        self.project_calls.pop(node, None)
        self.passing.pop(node, None)
        self.bound.pop(node, None)
        self.returns.pop(node, None)
        self.yields.pop(node, None)

    def _innermost(self) -> cst.FunctionDef | None:
        """The named def whose body the traversal is in (not a nested lambda or class body)."""
        scope = self.ctx.function_scope
        if not self.stack or scope is None or scope.node is not self.stack[-1][0] or self.stack[-1][1] is None:
            return None
        return self.stack[-1][0]

    def visit_Return(self, node: cst.Return) -> None:
        func = self._innermost()
        if func is not None and node.value is not None:
            self.returns.setdefault(func, []).append(node.value)

    def visit_Yield(self, node: cst.Yield) -> None:
        func = self._innermost()
        if func is not None:
            value = node.value if not isinstance(node.value, cst.From) else None
            self.yields.setdefault(func, []).append(value if value is not None else cst.Name("None"))

    def visit_Call(self, node: cst.Call) -> None:
        ctx = self.ctx
        starter = self._task_uses(node)
        callee = ctx.call_name(node)
        if node.args:
            self._lifecycle(node)
        if callee is not None and knowledge.CALL_RESULT_TYPES.get(callee) == knowledge.SYNC_ENGINE:
            database = database_of(ctx, node)
            if database is not None:
                self.engines.add(database)
        # Calls in the body of the innermost def (not in a nested lambda or class body).
        scope = ctx.function_scope
        if not self.stack or scope is None or scope.node is not self.stack[-1][0]:
            return
        name = self.stack[-1][1]
        if node.args:
            self._untyped_args(node)
        if name is not None and callee is not None:
            if callee in knowledge.RESOURCE_CONSTRUCTORS or callee in ctx.settings.extra_resources:
                self._resource_site(node, callee)
            else:
                if self.stack[-1][0].name.value == "__init__" and self._is_project(callee):
                    self._init_call(node, callee, self.functions[name])
                if self._is_project(callee):
                    self.project_calls.setdefault(self.stack[-1][0], []).append(
                        (node, callee, list(function_path(ctx)))
                    )
        if ctx.in_async:
            if name is not None and (starter or starts_concurrent_work(node, callee)):
                self.functions[name]["concurrent"] = True
            if callee is None and name is not None and isinstance(ctx.parent(node), cst.Await):
                # `await server.init_async()` on this module's `server = SyncServer()`: the
                # index finds the method through `values` (a lifespan's startup work).
                held = self._module_value_method(node.func)
                if held is not None:
                    self.functions[name]["awaits"].append(held)
            if callee and self._is_project_name(callee):
                self.async_calls.add(callee)
                awaited = isinstance(ctx.parent(node), cst.Await)
                if name is not None and awaited:
                    self.functions[name]["awaits"].append(callee)
                elif self._is_project(callee):
                    self.escapes.add(callee)
            if isinstance(node.func, cst.Attribute):
                self._untyped_io(node.func, awaited=isinstance(ctx.parent(node), cst.Await))
            return
        if name is None:
            return
        record = self.functions[name]
        project_callee = callee if callee and self._is_project_name(callee) else None
        blocking: list[str | list[str]] | None = None
        for matcher in self.matchers:
            found = matcher.match(node)
            if found is not None:
                qualified, subject = found
                blocking = [matcher.code, (qualified or subject.replace("`", "")).removeprefix("builtins.")]
                break
        if project_callee is None and blocking is None:
            return
        # Under a lazy-singleton guard it runs once; under `if p is None:` not when p is passed.
        guard = guard_of(function_path(ctx), ctx.scopes[self.stack[-1][0]])
        if guard == LAZY:
            return
        if project_callee is not None:
            func = self.stack[-1][0]
            self.passing.setdefault(func, []).append([project_callee, sorted(guard), handed(node, ctx.scopes[func])])
        if blocking is not None:
            record["blocking"].append([*blocking, sorted(guard)] if guard else blocking)

    def _module_value_method(self, func: cst.BaseExpression) -> str | None:
        """`value.method` where `value` is bound once in this module, by an assignment
        (`server = SyncServer()`): "module.value.method"."""
        if not (isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name)) or not self.module:
            return None
        found = self.ctx.scope.lookup(func.value.value)
        if found is None or found[0].kind != "module" or len(found[1]) != 1 or found[1][0].kind not in _VALUE_KINDS:
            return None
        return f"{self.module}.{func.value.value}.{func.attr.value}"

    def _lifecycle(self, node: cst.Call) -> None:
        """Functions registered to run at startup or shutdown (`FastAPI(lifespan=f)`,
        `Starlette(on_startup=[f])`, `app.add_event_handler("startup", f)`,
        `app.on_startup.append(f)`); any other project function handed on as an argument
        may run at any time."""
        ctx = self.ctx
        func = node.func
        registered: list[cst.BaseExpression] = []
        for arg in node.args:
            if arg.keyword is not None and arg.keyword.value in knowledge.LIFECYCLE_KEYWORDS:
                value = arg.value
                if isinstance(value, (cst.List, cst.Tuple)):
                    registered.extend(element.value for element in value.elements)
                else:
                    registered.append(value)
        if isinstance(func, cst.Attribute):
            if func.attr.value == "add_event_handler" and _event_name(node) and len(node.args) >= 2:
                registered.append(node.args[1].value)
            elif (
                func.attr.value == "append"
                and isinstance(func.value, cst.Attribute)
                and (func.value.attr.value in knowledge.LIFECYCLE_SIGNALS)
            ):
                registered.append(node.args[0].value)
        mains: list[cst.BaseExpression] = []
        if isinstance(func, cst.Attribute) and func.attr.value in knowledge.RUN_TO_COMPLETION:
            setup = self._run_before_serving(node, func.value)
            if setup is not None:
                registered.append(setup)
            elif func.attr.value == "run_until_complete":
                mains.extend(_coroutine_function(ctx, node.args[0].value))
        elif ctx.call_name(node) in knowledge.RUN_MAIN:
            mains.extend(_coroutine_function(ctx, node.args[0].value))
        for value, found in [
            *((value, self.startup) for value in registered),
            *((value, self.mains) for value in mains),
        ]:
            target = ctx.qualname(value) if isinstance(value, (cst.Name, cst.Attribute)) else None
            if target is None and isinstance(value, cst.Attribute):
                # `hub.launch()` on an instance of a known class: that class's method
                owner = ctx.resolver.receiver_class(value.value, ctx.scope)
                target = f"{owner}.{value.attr.value}" if owner is not None else None
            if target:
                found.add(target)
        for arg in node.args:
            if isinstance(arg.value, (cst.Name, cst.Attribute)) and all(
                arg.value is not r for r in (*registered, *mains)
            ):
                target = ctx.qualname(arg.value)
                if self._is_project(target):
                    self.escapes.add(target)

    def _run_before_serving(self, node: cst.Call, loop: cst.BaseExpression) -> cst.BaseExpression | None:
        """`loop.run_until_complete(setup())` / `loop.run_sync(setup)` (also
        `functools.partial(setup, ...)`) in code that also hands `loop` over to serve for good
        (`loop.run_forever()`, tornado's `loop.start()`): the coroutine function `setup`, which
        runs once per process, before serving or after it stops. None otherwise."""
        ctx = self.ctx
        value = node.args[0].value
        if isinstance(value, cst.Call):
            if ctx.call_name(value) == "functools.partial" and value.args:
                value = value.args[0].value
            elif node.func.attr.value == "run_until_complete":  # type: ignore[attr-defined]
                value = value.func
            else:
                return None
        if not isinstance(value, (cst.Name, cst.Attribute)):
            return None
        scope = ctx.function_scope
        body = scope.node if scope is not None else ctx.module
        for child in descendants(body):
            if (
                isinstance(child, cst.Call)
                and isinstance(child.func, cst.Attribute)
                and child.func.attr.value in knowledge.RUN_FOREVER
                and not child.args
                and child.func.value.deep_equals(loop)
            ):
                return value
        return None

    # -- tasks: which coroutines are started as tasks, and through which helpers (ASL102) ----

    def _callee(self, call: cst.Call) -> str | None:
        """The project-wide name of what a call runs (`self.m()` and `obj.m()` of a known
        class included); None for the standard library, builtins and the unknown."""
        name = self._project_callee(call, self.ctx.scope) if isinstance(call.func, cst.Attribute) else None
        name = name or self.ctx.call_name(call)
        if name is None or name.partition(".")[0] in _STDLIB or name.startswith("builtins."):
            return None
        return name

    def _task_uses(self, node: cst.Call) -> bool:
        """Records what the call starts as a task, hands on or calls; True when it starts
        its argument as a task."""
        ctx = self.ctx
        arguments = []
        for position, arg in enumerate(node.args):
            if arg.star or arg.keyword is not None:
                break
            arguments.append((position, arg.value))
        starter = None
        outer, asked = None, False  # this call's `_callee`, asked at most once
        if arguments:
            starter = starts_task(ctx, node)
            for position, value in arguments:
                if isinstance(value, cst.Call):
                    inner = self._callee(value)
                    if inner is None:
                        continue
                    self.as_argument.add(value)
                    if starter:
                        self.spawned.add(inner)
                        continue
                    if not asked:
                        outer, asked = self._callee(node), True
                    if outer is not None:
                        self.handed.add((outer, position, inner))
                    else:
                        self.called.add(inner)
                elif isinstance(value, cst.Name):
                    self._spawn_helper(node, starter, position, value.value)
        if starter:
            # (A call written as the argument was taken above.)
            for started in started_arguments(node, ctx.scope):
                inner = self.called_at.get(started)
                if inner is not None:
                    self.spawned.add(inner)
                    self.started.add(started)
        if node not in self.as_argument:
            callee = outer if asked else self._callee(node)
            if callee is not None:
                self.called_at[node] = callee
        return bool(starter)

    def _spawn_helper(self, node: cst.Call, starter: bool, position: int, name: str) -> None:
        """`def spawn(coro): return asyncio.create_task(coro)`: the innermost named def hands
        its parameter to a task starter (or, positionally, to another call: a helper?)."""
        func = self._innermost()
        scope, name_of_func = self.ctx.function_scope, self.stack[-1][1] if self.stack else None
        # (`_innermost` gives a def only when both are set: checked again for mypy.)
        if func is None or scope is None or name_of_func is None or scope.node is not func:
            return
        params = [p.name.value for p in (*func.params.posonly_params, *func.params.params)]
        if self.ctx.scopes[func].self_name is not None and params:
            params = params[1:]  # called as `obj.spawn(coro)`: positions after `self`
        if name not in params:
            return
        record = self.functions[name_of_func]
        if starter:
            spawns = record.setdefault("spawns", [])
            if params.index(name) not in spawns:
                spawns.append(params.index(name))
            if self.ctx.call_name(node) in knowledge.RUN_MAIN:
                # `def run_async(coro): return asyncio.run(coro)`: what it is handed is a main.
                runs = record.setdefault("runs", [])
                if params.index(name) not in runs:
                    runs.append(params.index(name))
        else:
            outer = self._callee(node)
            if outer is not None:
                forward: list[str | int] = [outer, position, params.index(name)]
                if forward not in record.setdefault("forwards", []):
                    record["forwards"].append(forward)

    def _wrapping_spawn(self, func: cst.FunctionDef, record: FunctionFacts) -> None:
        """`def spawn(coro): async def wrapper(): try: await coro ...; create_task(wrapper())`:
        a spawn helper that starts its parameter inside a nested coroutine whose last act is
        to await it (the wrapper logs what it raises; nothing after it runs on)."""
        from asynclint.rules._statements import descendants

        scope = self.ctx.scopes[func]
        params = [p.name.value for p in (*func.params.posonly_params, *func.params.params)]
        if scope.self_name is not None and params:
            params = params[1:]
        wrappers: dict[str, int] = {}
        for node in descendants(func.body):
            if isinstance(node, cst.FunctionDef) and node.asynchronous is not None:
                awaited = _tail_awaited(node.body)
                if awaited in params:
                    wrappers[node.name.value] = params.index(awaited)
        if not wrappers:
            return
        for node in descendants(func.body):
            if isinstance(node, cst.Call) and starts_task(self.ctx, node, scope):
                for arg in node.args:
                    value = arg.value
                    if (
                        isinstance(value, cst.Call)
                        and isinstance(value.func, cst.Name)
                        and value.func.value in wrappers
                    ):
                        spawns = record.setdefault("spawns", [])
                        if wrappers[value.func.value] not in spawns:
                            spawns.append(wrappers[value.func.value])

    def _untyped_io(self, func: cst.Attribute, awaited: bool) -> None:
        """`x.read_text()` or `x.execute(q)` in async code, where nothing in this module says
        what `x` is: the project index may (ASL204, ASL206 run again with it). Notes the
        project names that can tell: `x`'s annotation (`session: SessionDep`, `store: Storage`
        for `store.root`), the base classes for `self.root`; calls are followed anyway.
        Not `await x.execute(q)`: an awaited method says `x` is no sync session, and ASL206
        reports nothing on that name whatever the index says."""
        method = func.attr.value
        path_io = method in knowledge.PATH_IO_METHODS
        if not path_io and (method not in knowledge.SYNC_SESSION_IO_METHODS or awaited):
            return
        receiver = func.value
        if path_io and isinstance(receiver, cst.Attribute):
            receiver = receiver.value  # `self.root.read_text()`, `store.root.read_text()`
        elif not path_io and not isinstance(receiver, cst.Name):
            return
        kind = "path" if path_io else "session"
        if isinstance(receiver, cst.Call):
            self.untyped_io.add(kind)  # `data_dir().read_text()`: the call is followed
            return
        if not isinstance(receiver, cst.Name):
            return
        ctx = self.ctx
        found = ctx.scope.lookup(receiver.value)
        if found is None:
            return
        owner, bindings = found
        if owner.kind == "function" and owner.self_name == receiver.value:
            if path_io and owner.enclosing_class is not None and not self._typed_here(func.value):
                self.untyped_io.add(kind)
                cls = owner.enclosing_class
                bases = [ctx.qualname(arg.value, cls.parent) for arg in cast(cst.ClassDef, cls.node).bases]
                self.type_refs.update(base for base in bases if self._is_project(base))
            return
        if self._typed_here(func.value):
            return
        for binding in bindings:
            if binding.kind == "param" and binding.annotation is not None:
                annotation = binding.annotation
                name = ctx.qualname(annotation) if isinstance(annotation, (cst.Name, cst.Attribute)) else None
                if self._is_project(name):
                    self.untyped_io.add(kind)
                    self.type_refs.add(name)
            elif binding.kind in ("assign", "with") and isinstance(binding.value, cst.Call):
                if self._is_project(ctx.call_name(binding.value)):
                    self.untyped_io.add(kind)

    def _typed_here(self, expr: cst.BaseExpression) -> bool:
        """Is the type of `expr` known without the index? (A call of the project's own code
        has its name for a type until the index says what it returns.)"""
        kind = self.ctx.type_of(expr)
        return kind is not None and not self._is_project(kind)

    def _untyped_args(self, node: cst.Call) -> None:
        """Calls handing on a plain name nothing annotates (`helper(db)` with a `db` parameter
        without annotation): where an `AsyncSession` parameter of the callee can tell more."""
        func = node.func
        short = (
            func.value if isinstance(func, cst.Name) else func.attr.value if isinstance(func, cst.Attribute) else None
        )
        if short is None or short in self.untyped:
            return
        scope = self.ctx.scope
        for arg in node.args:
            if isinstance(arg.value, cst.Name):
                found = scope.lookup(arg.value.value)
                if (
                    found is not None
                    and found[0].kind == "function"
                    and all(b.annotation is None and b.kind in _UNTYPED_KINDS for b in found[1])
                ):
                    self.untyped.add(short)
                    return

    def _is_project_name(self, name: str) -> bool:
        # Anything not from the standard library or builtins may be the project's;
        # the index knows only project functions, so other names simply never match.
        return not name.startswith("builtins.")

    # -- resources: created here, handed back, or kept by `__init__` ----------------------

    def _typed_attributes(self) -> None:
        """Record the instance attributes of each class that hold a shared type (`self.path =
        path` with `path: Path`), for subclasses and users in other modules."""
        resolver = self.ctx.resolver
        for node, scope in self.ctx.scopes.items():
            if scope.kind != "class" or scope.parent is None:  # a class scope always has a parent
                continue
            record = self.classes.get(resolver.qualname(cast(cst.ClassDef, node).name, scope.parent) or "")
            if record is None:
                continue
            attrs = {}
            for attr in sorted({*scope.instance_attrs, *scope.bindings}):
                kind = resolver.class_attribute_type(scope, attr)
                if kind in knowledge.SHARED_ATTRIBUTE_TYPES:
                    attrs[attr] = kind
            if attrs:
                record["attrs"] = attrs

    def _lifetimes(self) -> Lifetimes:
        if self.resources is None:
            self.resources = Lifetimes(self.ctx)
        return self.resources

    def _resource_site(self, node: cst.Call, resource: str) -> None:
        from asynclint.rules._resources import owns_no_pool

        in_process = owns_no_pool(self.ctx, node)
        self.sites[node] = (resource, list(function_path(self.ctx)), in_process)

    def _init_call(self, node: cst.Call, callee: str, record: FunctionFacts) -> None:
        """`self.client = make_client()` in `__init__`: what the instance may own."""
        from asynclint.rules._resources import use_of

        if use_of(function_path(self.ctx)).kind == "target":
            record.setdefault("creates_from", [])
            if callee not in record["creates_from"]:
                record["creates_from"].append(callee)

    def _drops(self, node: cst.FunctionDef, record: FunctionFacts) -> None:
        """A resource created and dropped on every call of this function (`async with
        httpx.AsyncClient() as c:`, a local name, used in place), for ASL501 across modules:
        `drops` the resource, `drop_calls` [[project callee, result dropped here?, (True
        for a call that is a statement of its own)], ...] for
        the project calls that may do so (not under a lazy-singleton guard)."""
        from asynclint.rules._resources import on_chosen_socket, use_of

        if record["cached"]:
            return
        lifetimes = self._lifetimes()
        for call, site in self.sites.items():
            resource, path, in_process = site
            if path[0] is not node or in_process or on_chosen_socket(self.ctx, call, self.ctx.scopes[node]):
                continue
            # (`on_every_call` first: it only looks at the path; `is_lazy` walks the function.)
            if on_every_call(path) and not lifetimes.is_lazy(path):
                if lifetimes.fate(node, use_of(path))[2]:
                    record["drops"] = resource
                    break
        calls: list[list[str | bool]] = []
        for _call, callee, path in self.project_calls.get(node, ()):
            if on_every_call(path) and not lifetimes.is_lazy(path):
                entry: list[str | bool] = [callee, lifetimes.fate(node, use_of(path))[2]]
                if type(path[-2]) is cst.Expr:
                    # A statement of its own: were the callee an `async def`, its coroutine
                    # would be dropped unrun (`derive.resource_churn` knows which it is).
                    entry.append(True)
                if entry not in calls:
                    calls.append(entry)
        if calls:
            record["drop_calls"] = calls

    def _fresh(self, site: tuple[str, list[cst.CSTNode], bool], name: str | None) -> bool:
        """Does this creation give a new resource to the caller on every call: not a lazy
        singleton, not an in-process client, not also kept somewhere (a global, app state)?"""
        from asynclint.rules._resources import stored_elsewhere, use_of

        _resource, path, in_process = site
        if in_process or self._lifetimes().is_lazy(path):
            return False
        if name is None:
            return use_of(path).kind == "returned"
        # `_source` asks for a name local to the def being left, so the path starts there.
        func = cast(Function, path[0])
        return not stored_elsewhere(func, self.ctx.scopes[func], name)

    # -- what a function hands back: sessions and resources ---------------------------------

    def _hands_back(self, node: cst.FunctionDef, record: FunctionFacts) -> None:
        ctx = self.ctx
        if node.name.value == "__init__":
            self._creates(node, record)
        is_async = record["async"]
        if node in self.acm:
            if not is_async:
                return
            via, values = "enter", self.yields.get(node, [])
        elif node in self.yields:
            if not is_async:
                return  # a sync generator: no AsyncSession, no resource handed back
            # An async generator (a FastAPI dependency such as `get_db`): `async for s in f()`.
            via, values = "iterate", self.yields[node]
        else:
            via, values = ("await" if is_async else "call"), self.returns.get(node, [])
        scope = ctx.scopes[node]
        if node.returns is not None:
            kind = self._annotated(node.returns.annotation, scope.parent, via)
            if kind is not None:
                record["via"] = kind
                record["gives"] = "session"
                return
        gives: str | None = None
        sources: list[tuple[str, bool]] = []
        for value in values:
            if isinstance(value, cst.Name) and value.value == "None":
                continue
            found = self._source(value, scope)
            if found is None:
                return
            if found[0] == "from":
                if found[1:] not in sources:
                    sources.append(found[1:])
                continue
            if gives is not None and gives != found[1]:
                return
            gives = found[1]
        if gives is None and not sources:
            return
        if gives not in (None, "session") and record["cached"]:
            return  # memoised: one shared resource
        record["via"] = via
        if gives is not None:
            record["gives"] = gives
        if sources:
            record["from"] = [list(source) for source in sources]

    def _annotated(self, annotation: cst.BaseExpression, scope: Scope | None, via: str) -> str | None:
        """How a session is had from the function, by its return annotation (`via`: how the
        function hands back a value, from its shape)."""
        ctx = self.ctx
        if ctx.annotation_type(annotation, scope) == knowledge.ASYNC_SESSION:
            return via if via in ("call", "await") else None
        if (
            isinstance(annotation, cst.Subscript)
            and annotation.slice
            and isinstance(annotation.slice[0].slice, cst.Index)
        ):
            if ctx.annotation_type(annotation.slice[0].slice.value, scope) != knowledge.ASYNC_SESSION:
                return None
            base = ctx.qualname(annotation.value, scope)
            if base in knowledge.ASYNC_ITERATOR_TYPES and via in ("enter", "iterate"):
                return via
            if base in knowledge.ASYNC_CONTEXT_MANAGER_TYPES and via == "call":
                return "enter"
        return None

    def _source(self, value: cst.BaseExpression, scope: Scope) -> _Source | None:
        """Where a returned (or yielded) value comes from: ("gives", "session"), ("gives",
        resource) for a fresh resource, ("from", callee, awaited) for a project call; None
        when unknown."""
        ctx = self.ctx
        if ctx.type_of(value, scope) == knowledge.ASYNC_SESSION:
            return ("gives", "session")
        awaited, expr, name = False, value, None
        if isinstance(expr, cst.Await):
            awaited, expr = True, expr.expression
        if isinstance(expr, cst.Name) and not awaited:
            found = scope.lookup(expr.value)
            if found is None or found[0] is not scope or len(found[1]) != 1:
                return None
            binding = found[1][0]
            if binding.kind not in _VALUE_KINDS or binding.value is None:
                return None
            name, expr = expr.value, binding.value
            if isinstance(expr, cst.Await):
                awaited, expr = True, expr.expression
        if not isinstance(expr, cst.Call):
            return None
        site = self.sites.get(expr)
        if site is not None:
            return ("gives", site[0]) if self._fresh(site, name) else None
        callee = self._project_callee(expr, scope)
        if callee is None:
            return None
        if name is not None and self._stored_name(scope, name):
            return None
        return ("from", callee, awaited)

    def _stored_name(self, scope: Scope, name: str) -> bool:
        from asynclint.rules._resources import stored_elsewhere

        # The scope of the def `_hands_back` is leaving.
        return stored_elsewhere(cast(cst.FunctionDef, scope.node), scope, name)

    def _project_callee(self, call: cst.Call, scope: Scope) -> str | None:
        """The project function a call runs: by its name, or `Class.method` when the
        receiver's class is known (`self.session()`, `db.session()` with `db: Database`)."""
        ctx = self.ctx
        func = call.func
        name = ctx.qualname(func, scope)
        if name is None and isinstance(func, cst.Attribute):
            owner = ctx.resolver.receiver_class(func.value, scope)
            if owner is not None:
                name = f"{owner}.{func.attr.value}"
        return name if self._is_project(name) else None

    def _creates(self, node: cst.FunctionDef, record: FunctionFacts) -> None:
        """`__init__` creating a resource on every instantiation (not a lazy singleton,
        not only inside `async with`/`with`)."""
        from asynclint.rules._resources import use_of

        for site in self.sites.values():
            resource, path, in_process = site
            if path[0] is not node or in_process:
                continue
            if use_of(path).kind in ("with", "returned", "yielded") or self._lifetimes().is_lazy(path):
                continue
            record["creates"] = resource
            return

    def finish(self) -> None:
        """Nothing to report; the engine asks for `facts()` after the traversal."""

    def facts(self) -> ModuleFacts:
        ctx = self.ctx
        exports: dict[str, str] = {}
        values: dict[str, str] = {}
        aliases: dict[str, str] = {}
        module_scope = ctx.scopes[ctx.module]
        for local, bindings in module_scope.bindings.items():
            if len(bindings) != 1 or not self.module:
                continue
            binding = bindings[0]
            if binding.kind == "import":
                target = ctx.resolver.qualname(cst.Name(local), module_scope)
                if target:
                    exports[f"{self.module}.{local}"] = target
            elif binding.kind in _VALUE_KINDS and binding.value is not None:
                value = binding.value
                kind = ctx.type_of(value, module_scope)
                if kind in knowledge.SHARED_VALUE_TYPES or (kind != knowledge.ASYNC_SESSION and self._is_project(kind)):
                    values[f"{self.module}.{local}"] = kind
                elif isinstance(value, (cst.Subscript, cst.Name, cst.Attribute)) and (
                    (aliased := ctx.annotation_type(value, module_scope)) in knowledge.SHARED_ALIAS_TYPES
                ):
                    aliases[f"{self.module}.{local}"] = aliased
        if self.typed:
            self._typed_attributes()
        # What the module imports, for `ProjectIndex.rerun_codes`: beyond `exports` (its
        # module-level imports), the imports inside functions and the full name of
        # `import a.b.c`; not the standard library.
        imports: set[str] = set()
        for scope in ctx.scopes.values():
            for bindings in scope.bindings.values():
                for binding in bindings:
                    if binding.kind != "import":
                        continue
                    if isinstance(binding.node, cst.Import):
                        # `import a.b.c` binds `a` but names the module `a.b.c`.
                        imports.update(filter(None, (dotted_name(alias.name) for alias in binding.node.names)))
                    else:
                        target = ctx.resolver.import_target(binding)
                        if target:
                            imports.add(target)
        imports.difference_update(exports.values())
        imports = {name for name in imports if name.partition(".")[0] not in _STDLIB}
        facts: ModuleFacts = {
            "version": FACTS_VERSION,
            "module": self.module,
            "functions": self.functions,
            "classes": self.classes,
            "exports": exports,
            "async_calls": sorted(self.async_calls),
            "imports": sorted(imports),
        }
        if self.untyped:
            facts["untyped_args"] = sorted(self.untyped)
        if imports_asyncio_orm(ctx):
            facts["asyncio_orm"] = True
        if self.relationships:
            facts["relationships"] = True
        if self.spawned:
            facts["spawned"] = sorted(self.spawned)
        if self.handed:
            facts["handed"] = sorted(list(h) for h in self.handed)
        called = self.called | {callee for call, callee in self.called_at.items() if call not in self.started}
        if called:
            facts["called"] = sorted(called)
        if self.untyped_io:
            facts["untyped_io"] = sorted(self.untyped_io)
        if self.engines:
            facts["engines"] = sorted(self.engines)
        if self.type_refs:
            facts["type_refs"] = sorted(self.type_refs)
        if self.startup:
            facts["startup"] = sorted(self.startup)
        if self.mains:
            facts["mains"] = sorted(self.mains)
        if self.escapes:
            facts["escapes"] = sorted(self.escapes)
        if values:
            facts["values"] = values
        if aliases:
            facts["aliases"] = aliases
        if self.depends:
            provides, targets = session_dependencies(ctx)
            if provides:
                facts["session_dependency"] = True
            elif targets:
                facts["depends"] = sorted(targets)
        return facts


def _tail_awaited(body: cst.BaseSuite) -> str | None:
    """The name a block awaits as its last act: `await coro` (or `return await coro`) as its
    last statement, or as the last statement of a `try:` that is its last statement."""
    last = body.body[-1] if body.body else None
    if isinstance(last, cst.Try) and last.orelse is None:
        return _tail_awaited(last.body)
    if not isinstance(last, cst.SimpleStatementLine) or len(last.body) != 1:
        return None
    statement = last.body[0]
    value = statement.value if isinstance(statement, (cst.Expr, cst.Return)) else None
    if isinstance(value, cst.Await) and isinstance(value.expression, cst.Name):
        return value.expression.value
    return None


# Decorators that leave a function to be called by the project's own code.
_PLAIN_DECORATORS = frozenset(
    {"builtins.staticmethod", "builtins.classmethod", "abc.abstractmethod", "typing.override"}
)


def _event_name(call: cst.Call) -> bool:
    """Is the first argument "startup" or "shutdown"?"""
    first = call.args[0].value if call.args else None
    return isinstance(first, cst.SimpleString) and first.evaluated_value in knowledge.LIFECYCLE_EVENTS


def _coroutine_function(ctx: Context, value: cst.BaseExpression) -> list[cst.BaseExpression]:
    """The coroutine function a runner is handed: `main` in `asyncio.run(main())`,
    `anyio.run(main, ...)` or `asyncio.run(functools.partial(main, ...)())`."""
    if isinstance(value, cst.Call):
        value = value.func
    if isinstance(value, cst.Call) and ctx.call_name(value) == "functools.partial" and value.args:
        value = value.args[0].value
    return [value] if isinstance(value, (cst.Name, cst.Attribute)) else []


def _lifecycle_event(decorator: cst.BaseExpression) -> bool:
    """`@app.on_event("startup")`."""
    return (
        isinstance(decorator, cst.Call)
        and isinstance(decorator.func, cst.Attribute)
        and decorator.func.attr.value == "on_event"
        and _event_name(decorator)
    )


def _signature(node: cst.FunctionDef, bound: bool) -> list[list[str]]:
    """[positional parameter names as a caller fills them, keyword-only names]."""
    params = node.params
    positional = [p.name.value for p in (*params.posonly_params, *params.params)]
    return [positional[1:] if bound else positional, [p.name.value for p in params.kwonly_params]]


def _closes_own_attribute(method: cst.FunctionDef) -> bool:
    """Does this method close something the instance holds: `self.x.close()`/`aclose()`/
    `dispose()`/`terminate()` (called or handed on), anywhere in its body?"""
    params = [*method.params.posonly_params, *method.params.params]
    if not params:
        return False
    owner = params[0].name.value
    from asynclint.walk import nodes as walk

    for node in walk(method.body):
        if isinstance(node, cst.Attribute) and node.attr.value in knowledge.CLOSE_METHODS:
            receiver = node.value
            while isinstance(receiver, (cst.Attribute, cst.Subscript)):
                receiver = receiver.value
            if isinstance(receiver, cst.Name) and receiver.value == owner and node.value is not receiver:
                return True
    return False
