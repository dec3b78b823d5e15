"""ASL501 resource-per-request: an engine, pool or client built for every request or iteration.

Engines, connection pools and HTTP clients are made to be created once and shared: each one
owns its connections. Built in a route handler, in a dependency (`Depends(f)`), or in a loop in
async code, it opens (and tears down) new connections every time, and under load exhausts the
server's connection limit.

Flags the creating call (`knowledge.RESOURCE_CONSTRUCTORS` plus `extra-resources`) when it runs
- in a route handler or in a function of the module used as `Depends(f)`;
- in a loop in async code (unless it outlives the iteration: stored, appended, returned, or a
  retry loop that stops once it succeeds, also a loop over tenacity's `AsyncRetrying(...)`,
  or a loop whose body awaits a sleep: a poll, a retry with backoff);
- in a function of the module that such a handler, dependency or loop calls (through calls
  of module functions and methods of the same class), when that function creates and drops the
  resource on every call; the message shows the chain.
A call of a module function that returns a new resource (a factory) counts as creating one;
with project analysis, so does a call of a project function in another module that does
(`make_client()`), or of a project class whose `__init__` creates one (`Database(url)`):
`analysis.project_resource`, from `ProjectIndex.resource_factories`/`resource_classes`.
And a call of a project function in another module that creates and drops one on every call
(`ProjectIndex.resource_churn`): flagged at the call, with the chain.

Not flagged: a lazy singleton, i.e. a creation under a check of state that the same function
then sets (`if self.pool is None: self.pool = ...`, a cache miss: `try: return CACHE[k]`
... `CACHE[k] = ...`), and the functions memoised with `functools.lru_cache`/`cache` (or a decorator named as a
memo: `knowledge.caches`); a
reconnect loop (a `while` whose iteration consumes the new connection in a loop of its own);
a creation under an `if` comparing the loop variable (or its `id`-like attribute) with a
constant (also in a module function the loop passes the variable to: `_check(name)` making
one only under `if name == "mcp":`), or after a guard skipping the other items (`if r.id !=
wanted: continue`): once per loop; a
client on a shared transport or connector it does not own (`owns_no_pool`: a module-level
object, an attribute, or what a function of the project hands over): it builds no pool;
a client on a Unix-socket transport made for it whose socket the function chooses
(`transport=httpx.AsyncHTTPTransport(uds=path)`, `path` not a constant: `on_chosen_socket`):
one destination per call, nothing to share and no handshake to save.

A call of an `async def` as a statement of its own (not awaited) runs nothing: not followed
(in the module here, across modules by `derive.resource_churn`).

No fix: where the resource should live (lifespan, module level) is a design decision.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import libcst as cst

from asynclint import analysis, knowledge
from asynclint.rules._resources import (
    FUNCTION_NODES,
    Function,
    Lifetimes,
    ResourceRule,
    Use,
    call_label,
    function_path,
    names_in,
    on_chosen_socket,
    on_every_call,
    owns_no_pool,
    use_of,
)
from asynclint.rules._statements import descendants
from asynclint.scope import Scope, dotted_name, root_name
from asynclint.walk import nodes as walk

if TYPE_CHECKING:
    from asynclint.config import Settings
    from asynclint.context import Context

_COMPREHENSIONS = (cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp)
# What repeats the code inside it (`_in_loop`'s loops).
_LOOPS = frozenset({cst.For, cst.While, cst.CompFor, *_COMPREHENSIONS})


@dataclass(eq=False)
class _Site:
    """A call in function `func` that creates a resource, or that calls module functions
    (`callees`) which may create one. The rest is worked out only for the sites that matter."""

    call: cst.Call
    func: Function
    path: list[cst.CSTNode]  # from `func` down to the call
    in_async: bool
    resource: str | None = None  # the resource constructor, for a direct creation
    callees: list[cst.CSTNode] = field(default_factory=list)
    via: str | None = None  # created by the project's code in another place: how it is shown
    churn: list[str] | None = None  # a project call that creates and drops one: the chain
    analysed: bool = False
    use: Use | None = None
    loop: bool = False  # in a loop in async code
    lazy: bool = False  # under a check of state the function itself sets (a lazy singleton)
    kept: bool = False  # outlives the iteration: stored, appended, returned
    retry: bool = False  # the loop stops right after it (a retry loop), or sleeps (a poll)
    hands_back: bool = False  # returned or yielded to the caller
    local: bool = False  # created and dropped here: `async with`, a local name, used in place


class ResourcePerRequest(ResourceRule):
    code = "ASL501"
    index_family = "resources"
    name = "resource-per-request"
    summary = "An engine, pool or client created per request or per loop iteration"

    @classmethod
    def wants(cls, text: str, settings: Settings) -> bool:
        return super().wants(text, settings) and knowledge.may_serve_requests(text)

    @classmethod
    def wants_with_index(cls, text: str, settings: Settings) -> bool:
        return knowledge.may_serve_requests(text)  # `make_client()` of another module

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)
        self.sites: list[_Site] = []
        self.lifetimes = Lifetimes(ctx)

    # -- collecting ---------------------------------------------------------------------

    def visit_Call(self, node: cst.Call) -> None:
        ctx = self.ctx
        resource = analysis.resource_constructor(ctx, node)
        if resource and (owns_no_pool(ctx, node) or on_chosen_socket(ctx, node)):
            return
        callees = [] if resource else self._callees(node.func)
        if callees and isinstance(ctx.parent(node), cst.Expr):
            # `self.refresh_token()` as a statement of its own: the coroutine of an
            # `async def` is made and dropped, and its body never runs.
            callees = [c for c in callees if not (isinstance(c, cst.FunctionDef) and c.asynchronous)]
            if not callees:
                return
        via = churn = None
        if not resource and not callees and ctx.project is not None:
            # A factory or class of the project, maybe in another module (project analysis).
            made = analysis.project_resource(ctx, node)
            if made is not None:
                resource, via = made.resource, made.label
            else:
                churn = analysis.project_churn(ctx, node)
        if not resource and not callees and not churn:
            return
        path = function_path(ctx)
        func = path[0]
        if not isinstance(func, FUNCTION_NODES):
            return  # module level and class bodies run once
        self.sites.append(_Site(node, func, list(path), ctx.in_async, resource, callees, via, churn))

    def _analyse(self, site: _Site) -> _Site:
        if not site.analysed:
            site.analysed = True
            site.use = use_of(site.path)
            site.loop = site.in_async and _in_loop(site.path)
            site.lazy = self.lifetimes.is_lazy(site.path)
            site.kept, site.hands_back, site.local = self.lifetimes.fate(site.func, site.use)
            site.retry = site.loop and (
                _stops_loop(site.path)
                or _long_lived(site.path, site.use)
                or self._retrying(site.path)
                or self._paced(site.path)
            )
        return site

    def _paced(self, path: list[cst.CSTNode]) -> bool:
        """The innermost loop's body awaits a sleep (`await asyncio.sleep(interval)`): a poll,
        a retry with backoff. One connection a pass costs nothing next to the wait, and
        the pace is the loop's, not its callers'."""
        loop = next((node for node in reversed(path) if isinstance(node, (cst.For, cst.While))), None)
        return loop is not None and any(
            isinstance(node, cst.Await)
            and isinstance(node.expression, cst.Call)
            and self.ctx.call_name(node.expression) in knowledge.ASYNC_SLEEPS
            for node in descendants(loop.body)
        )

    def _retrying(self, path: list[cst.CSTNode]) -> bool:
        """The innermost loop iterates a retrying object (`async for attempt in
        AsyncRetrying(...)`, tenacity's; `stamina.retry_context(...)`), which stops at the
        first attempt that does not raise."""
        loop = next((node for node in reversed(path) if type(node) in _LOOPS), None)
        return (
            isinstance(loop, cst.For)
            and isinstance(loop.iter, cst.Call)
            and self.ctx.call_name(loop.iter) in knowledge.RETRYING_ITERATORS
        )

    def _callees(self, func: cst.BaseExpression, depth: int = 0) -> list[cst.CSTNode]:
        """The functions of this module a call may run: a `def` or a lambda bound to the
        name, or a method of the enclosing class called on `self`/`cls`."""
        scope = self.ctx.scope
        if isinstance(func, cst.Name):
            return _named_functions(scope, func.value, depth)
        if isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name):
            found = scope.lookup(func.value.value)
            if found is None or found[0].kind != "function" or found[0].self_name != func.value.value:
                return []
            cls = found[0].enclosing_class
            if cls is None:
                return []
            bindings = cls.bindings.get(func.attr.value, [])
            if bindings and all(b.kind == "def" for b in bindings):
                return [b.node for b in bindings if b.node is not None]  # a def's is its FunctionDef
        return []

    # -- deciding -------------------------------------------------------------------------------

    def finish(self) -> None:
        ctx = self.ctx
        factories = self._factories()
        churn = self._churn(factories)
        reported: set[cst.CSTNode] = set()
        depends: frozenset[cst.CSTNode] | None = None

        def report(site: _Site, message: str) -> None:
            if site.call not in reported:
                reported.add(site.call)
                ctx.report(site.call, message, help=_ADVICE)

        def trigger(site: _Site, through_call: bool = False) -> str | None:
            nonlocal depends
            if depends is None:
                depends = analysis.depends_functions(ctx)
            return self._trigger(site, depends, through_call)

        # The creating calls themselves: a resource constructor, or a factory of the module.
        for site in self.sites:
            if not (site.resource or any(c in factories for c in site.callees)) or self._analyse(site).lazy:
                continue
            where = trigger(site)
            if where:
                report(site, f"{self._label(site, factories)} is created {where}")
        # Calls of project functions in other modules that create and drop one on every call.
        for site in self.sites:
            if site.churn and not self._analyse(site).lazy:
                where = trigger(site, through_call=True)
                if where:
                    report(
                        site,
                        f"{call_label(site.call, dotted_name(site.call.func) or site.churn[0])} creates a new `{site.churn[-1]}` on every call, and runs {where} "
                        f"({' -> '.join([_function_name(site.func), *site.churn])})",
                    )
        # Calls of module functions that create and drop a resource on every call.
        for site in self.sites:
            if not any(c in churn for c in site.callees) or self._analyse(site).lazy:
                continue
            where = trigger(site, through_call=True)
            if not where:
                continue
            for leaf, trail in self._leaves(site, churn):
                if len(trail) == 1 and _picked_by_loop_argument(site, leaf):
                    continue
                chain = " -> ".join([_function_name(site.func), *trail])
                report(
                    leaf,
                    f"{self._label(leaf, factories)} is created on every call of `{trail[-1]}`, "
                    f"which runs {where} ({chain})",
                )

    def _trigger(self, site: _Site, depends: AbstractSet[cst.CSTNode], through_call: bool = False) -> str | None:
        func = site.func
        # Under an `if`, in an `except`, after `and`: not every request (or iteration) gets
        # there, and the message must not say it does.
        requests = "on every request" if on_every_call(site.path) else "on each request that reaches it"
        # Route handlers and dependencies are defs (`is_route_handler`, `depends_functions`).
        if isinstance(func, cst.FunctionDef) and analysis.is_route_handler(self.ctx, func):
            return f"in route handler `{func.name.value}` {requests}"
        if isinstance(func, cst.FunctionDef) and func in depends:
            return f"in dependency `{func.name.value}` (`Depends({func.name.value})`) {requests}"
        if site.loop and not site.retry and (through_call or not site.kept):
            loop = max((i for i, node in enumerate(site.path) if type(node) in _LOOPS), default=0)
            each = "once per iteration" if on_every_call(site.path[loop:]) else "on each iteration that reaches it"
            return f"in a loop in async code, {each}"
        return None

    def _factories(self) -> dict[cst.CSTNode, str]:
        """Functions that return (or yield) a new resource on every call -> the resource."""
        factories: dict[cst.CSTNode, str] = {}
        changed = True
        while changed:
            changed = False
            for site in self.sites:
                if site.func in factories:
                    continue
                made = site.resource or next((factories[c] for c in site.callees if c in factories), None)
                if made and self._analyse(site).hands_back and not site.lazy:
                    factories[site.func] = made
                    changed = True
        return factories

    def _churn(self, factories: dict[cst.CSTNode, str]) -> dict[cst.CSTNode, list[_Site]]:
        """Functions that create and drop a resource on every call -> the sites that do it."""
        churn: dict[cst.CSTNode, list[_Site]] = {}
        changed = True
        while changed:
            changed = False
            for site in self.sites:
                if site in churn.get(site.func, []):
                    continue
                creates = site.resource or any(c in factories for c in site.callees)
                if not creates and not site.churn and not any(c in churn for c in site.callees):
                    continue
                self._analyse(site)
                if site.lazy or (not site.local and not site.churn and not any(c in churn for c in site.callees)):
                    continue
                churn.setdefault(site.func, []).append(site)
                changed = True
        return churn

    def _leaves(self, start: _Site, churn: dict[cst.CSTNode, list[_Site]]) -> list[tuple[_Site, list[str]]]:
        """The creating calls reached from a call of churning functions, with the names
        called on the way (breadth first, so each is reached by a shortest chain)."""
        found: list[tuple[_Site, list[str]]] = []
        seen: set[cst.CSTNode] = set()
        queue: list[tuple[_Site, list[str]]] = [(start, [])]
        while queue:
            site, trail = queue.pop(0)
            for callee in site.callees:
                if callee in seen or callee not in churn:
                    continue
                seen.add(callee)
                step = [*trail, _callee_name(site.call, callee)]
                for inner in churn[callee]:
                    if inner.resource or not inner.callees or not any(c in churn for c in inner.callees):
                        found.append((inner, step))
                    else:
                        queue.append((inner, step))
        return found

    def _label(self, site: _Site, factories: dict[cst.CSTNode, str]) -> str:
        if site.via:
            return site.via
        if site.churn:
            return f"a new `{site.churn[-1]}` ({' -> '.join(site.churn)})"
        if site.resource:
            return call_label(site.call, site.resource)
        made = next((factories[c] for c in site.callees if c in factories), "resource")
        return f"{call_label(site.call)} (a new `{made}`)"


_ADVICE = "Create it once (in a lifespan or at module level) and reuse it"


def _named_functions(scope: Scope, name: str, depth: int) -> list[cst.CSTNode]:
    """The `def`s and lambdas a name is bound to; a parameter rebound to a lambda in the same
    scope counts as the lambda. Anything else bound to the name: unknown, so nothing."""
    found = scope.lookup(name)
    if found is None or depth > 4:
        return []
    owner, bindings = found
    functions: list[cst.CSTNode] = []
    for binding in bindings:
        if binding.kind == "def":
            if binding.node is not None:  # never None: a def binding's node is its FunctionDef
                functions.append(binding.node)
        elif binding.kind == "assign" and isinstance(binding.value, cst.Lambda):
            functions.append(binding.value)
        elif binding.kind == "assign" and isinstance(binding.value, cst.Name) and binding.value.value != name:
            aliased = _named_functions(owner, binding.value.value, depth + 1)
            if not aliased:
                return []
            functions.extend(aliased)
        elif binding.kind != "param":
            return []
    return functions


def _in_loop(path: list[cst.CSTNode]) -> bool:
    """Does the last node of `path` run once per iteration of a loop inside path[0]?
    Not under an `if` that compares the loop variable with a constant (`if name == "mcp":`),
    nor after a guard that skips every other item (`if repo.id != wanted: continue`): that
    runs for one item, once per loop."""
    # The tests of the `if`s it is in the body of, and of the skipping guards before it
    # (negated: the item it runs for makes them false).
    picks: list[tuple[cst.BaseExpression, bool]] = []
    for index in range(len(path) - 1, 0, -1):
        parent, child = path[index - 1], path[index]
        if isinstance(parent, cst.If) and child is parent.body:
            picks.append((parent.test, False))
        if isinstance(parent, cst.IndentedBlock) and child in parent.body:
            picks += ((guard, True) for guard in _skipping_guards(parent.body[: parent.body.index(child)]))
        if isinstance(parent, cst.For) and child is parent.body:
            return not any(_picks_one(test, parent.target, negated) for test, negated in picks)
        if isinstance(parent, cst.While) and (child is parent.body or child is parent.test):
            return True
        if isinstance(parent, cst.CompFor):
            comprehension = path[index - 2] if index >= 2 else None
            outermost = isinstance(comprehension, _COMPREHENSIONS) and comprehension.for_in is parent
            if child is parent.iter and outermost:
                continue  # the first iterable is evaluated once
            if child is not parent.target:
                return True
        if isinstance(parent, _COMPREHENSIONS) and child is not parent.for_in:
            return True
    return False


def _picked_by_loop_argument(site: _Site, leaf: _Site) -> bool:
    """`for name in CHECKS: await _check(name)`, where `_check` creates the resource only
    under `if name == "mcp":` on the parameter the loop variable is passed to: it runs for
    one item, once per loop (as `_in_loop` knows the same `if` in the loop's own body)."""
    callee = leaf.func
    loop = next((node for node in reversed(site.path) if isinstance(node, (cst.For, cst.While))), None)
    if not isinstance(loop, cst.For) or not isinstance(callee, cst.FunctionDef):
        return False
    loop_names = {n.value for n in walk(loop.target) if isinstance(n, cst.Name)}
    params = [p.name.value for p in (*callee.params.posonly_params, *callee.params.params)]
    if isinstance(site.call.func, cst.Attribute) and params:
        params = params[1:]  # `self._check(name)`: positions after `self`
    passed: set[str] = set()
    for position, arg in enumerate(site.call.args):
        if arg.star:
            break
        if isinstance(arg.value, cst.Name) and arg.value.value in loop_names:
            if arg.keyword is not None:
                passed.add(arg.keyword.value)
            elif position < len(params):
                passed.add(params[position])
    if not passed:
        return False
    tests = []
    for index in range(len(leaf.path) - 1, 0, -1):
        parent, child = leaf.path[index - 1], leaf.path[index]
        if isinstance(parent, (cst.For, cst.While, *_COMPREHENSIONS)):
            return False  # repeated inside the callee: not once per call
        if isinstance(parent, cst.If) and child is parent.body:
            tests.append(parent.test)
    return any(_picks_one(test, cst.Name(name)) for test in tests for name in passed)


def _skipping_guards(before: Sequence[cst.BaseStatement]) -> list[cst.BaseExpression]:
    """The tests of `if test: continue` statements (nothing else in the `if`) among the
    statements before, in the same block."""
    tests = []
    for statement in before:
        if (
            isinstance(statement, cst.If)
            and statement.orelse is None
            and isinstance(statement.body, cst.IndentedBlock)
            and len(statement.body.body) == 1
        ):
            only = statement.body.body[0]
            if (
                isinstance(only, cst.SimpleStatementLine)
                and len(only.body) == 1
                and isinstance(only.body[0], cst.Continue)
            ):
                tests.append(statement.test)
    return tests


# Attributes of an item that tell it apart from the others (`repo.id == wanted` picks one;
# `item.kind == ...` is true for many items).
_IDENTITY_ATTRIBUTES = frozenset({"id", "pk", "uuid", "key", "slug", "name"})


def _picks_one(test: cst.BaseExpression, target: cst.BaseExpression, negated: bool = False) -> bool:
    """`name == "mcp"`, `kind is Kind.A`, `"x" == key`, `item == wanted`, `repo.id ==
    wanted`: the loop variable (or one of a tuple of them), or its identity attribute,
    compared for equality with a constant: a literal, or a name or dotted name that is not
    the loop's own (`item.kind == ...` is true for many items). `negated`: the test of a
    guard that skips the others, `!=`/`is not`."""
    names = {n.value for n in walk(target) if isinstance(n, cst.Name)}
    if not isinstance(test, cst.Comparison) or len(test.comparisons) != 1:
        return False
    comparison = test.comparisons[0]
    if not isinstance(comparison.operator, (cst.NotEqual, cst.IsNot) if negated else (cst.Equal, cst.Is)):
        return False
    sides = [test.left, comparison.comparator]
    return any(_names_item(this, names) and _constant(other, names) for this, other in (sides, sides[::-1]))


def _names_item(expr: cst.BaseExpression, loop_names: set[str]) -> bool:
    """The loop variable, or an attribute of it that identifies it (`repo.id`, `row.user_id`)."""
    if isinstance(expr, cst.Attribute) and isinstance(expr.value, cst.Name):
        attr = expr.attr.value
        if attr in _IDENTITY_ATTRIBUTES or attr.endswith("_id"):
            expr = expr.value
    return isinstance(expr, cst.Name) and expr.value in loop_names


def _constant(expr: cst.BaseExpression, loop_names: set[str]) -> bool:
    if isinstance(expr, (cst.SimpleString, cst.ConcatenatedString, cst.Integer, cst.Float)):
        return True
    if isinstance(expr, (cst.Name, cst.Attribute)):
        # `Kind.MCP`, `settings.DEFAULT`, `wanted`: not something the loop variable has.
        root = root_name(expr)
        return root is not None and root.value not in loop_names
    return False


def _stops_loop(path: list[cst.CSTNode]) -> bool:
    """A retry or fallback loop, which stops at the first success: a `break`/`return` follows
    the creation in its block or a block around it (`conn = await connect(); break`), ends
    the body of the `with` that creates it, or is in the `else:` of the `try` around it."""
    for index in range(len(path) - 1, 0, -1):
        parent, child = path[index - 1], path[index]
        if isinstance(parent, (cst.For, cst.While)):
            return False
        if (
            isinstance(parent, cst.With)
            and isinstance(child, cst.WithItem)
            and _ends_iteration(_statements(parent.body))
        ):
            return True
        if isinstance(parent, cst.IndentedBlock):
            statements: list[cst.CSTNode] = list(parent.body)
            later = statements[statements.index(child) + 1 :] if child in statements else []
            if _ends_iteration(later):
                return True
        if isinstance(parent, cst.SimpleStatementLine):
            position = [i for i, s in enumerate(parent.body) if s is child]
            if position and any(isinstance(s, (cst.Break, cst.Return)) for s in parent.body[position[0] + 1 :]):
                return True
        if isinstance(parent, cst.Try) and child is parent.body and parent.orelse is not None:
            if _ends_iteration(_statements(parent.orelse.body)):
                return True
    return False


def _long_lived(path: list[cst.CSTNode], use: Use) -> bool:
    """A reconnect loop: a `while` loop whose iteration creates a connection and then
    consumes it in a loop of its own (`conn = await connect(); async for msg in
    listen(conn): ...`, or `while` using it), so a new one is made only when the previous one
    fails or ends. Not a `for` over a collection, nor a plain `for` over query results."""
    names = {t.value for t in use.targets if isinstance(t, cst.Name)} if use.kind == "target" else set()
    if not names:
        return False
    loop = None
    for index in range(len(path) - 1, 0, -1):
        parent, child = path[index - 1], path[index]
        if isinstance(parent, (cst.For, cst.While)) and child is parent.body:
            loop = parent
            break
    if not isinstance(loop, cst.While):
        return False
    on_path = set(map(id, path))
    for node in walk(loop.body):
        if id(node) in on_path:
            continue
        if isinstance(node, cst.For) and node.asynchronous is not None and names_in(node.iter, list(names)):
            return True
        if isinstance(node, cst.While) and names_in(node.body, list(names)):
            return True
    return False


def _statements(block: cst.BaseSuite) -> list[cst.CSTNode]:
    return list(block.body)


def _ends_iteration(statements: Iterable[cst.CSTNode]) -> bool:
    """Do these statements always leave the loop (`return`/`break`, also at the end of a
    `with` or `try` body)? Branches (`if`, inner loops) are not followed."""
    for statement in statements:
        if isinstance(statement, (cst.SimpleStatementLine, cst.Return, cst.Break)):
            small = statement.body if isinstance(statement, cst.SimpleStatementLine) else [statement]
            if any(isinstance(s, (cst.Break, cst.Return)) for s in small):
                return True
        elif isinstance(statement, (cst.With, cst.Try)) and _ends_iteration(_statements(statement.body)):
            return True
    return False


def _function_name(func: cst.CSTNode) -> str:
    return func.name.value if isinstance(func, cst.FunctionDef) else "<lambda>"


def _callee_name(call: cst.Call, callee: cst.CSTNode) -> str:
    if isinstance(callee, cst.FunctionDef):
        return callee.name.value
    return dotted_name(call.func) or "<lambda>"


RULE = ResourcePerRequest
