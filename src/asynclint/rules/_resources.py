"""What ASL501 and ASL502 share: where a created resource goes, seen from the creating call.

A resource (an engine, pool or client, `analysis.resource_constructor`) can be entered by
`async with`, bound to a name, an attribute or a subscript, returned or yielded to the caller,
handed to another call, or just used in place. Both rules start from that answer.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, ClassVar, TypeAlias, cast

import libcst as cst

from asynclint import analysis, knowledge
from asynclint.rule import Rule
from asynclint.scope import BUILTIN_NAMES, Scope, dotted_name, root_name
from asynclint.walk import EXPRESSIONS, SCOPE_BODY_OWNERS, children
from asynclint.walk import nodes as walk  # the rules' name for it

if TYPE_CHECKING:
    from asynclint.config import Settings
    from asynclint.context import Context
    from asynclint.project import ProjectIndex

FUNCTION_NODES = (cst.FunctionDef, cst.Lambda)
Function: TypeAlias = "cst.FunctionDef | cst.Lambda"  # one of FUNCTION_NODES
_COMPREHENSIONS = (cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp)


@dataclass
class Use:
    """What happens to a value right where it is created."""

    kind: str  # with | target | returned | yielded | argument | element | receiver | other
    targets: list[cst.BaseExpression] = field(default_factory=list)  # kind == "target"
    holder: cst.Call | None = None  # kind == "argument": the call it is passed to


def function_path(ctx: Context) -> list[cst.CSTNode]:
    """The nodes from the enclosing function (or the module) down to the current node."""
    scope = ctx.function_scope
    owner = scope.node if scope is not None else ctx.module
    stack = ctx.stack
    for index in range(len(stack) - 1, -1, -1):
        if stack[index] is owner:
            return stack[index:]
    return list(stack)


def value_index(path: list[cst.CSTNode], index: int) -> int:
    """Climb from path[index] through `await`: `await create_pool()` is the pool too."""
    while index > 0 and isinstance(path[index - 1], cst.Await):
        index -= 1
    return index


# Inside these, a statement runs on some calls only (or more than once): a client created in
# `if image_url:` or an `except` branch is not "a new client on every call".
_CONDITIONAL = frozenset(
    {
        cst.If,
        cst.Else,
        cst.IfExp,
        cst.For,
        cst.While,
        cst.ExceptHandler,
        cst.ExceptStarHandler,
        cst.BooleanOperation,
        cst.Match,
        cst.CompFor,
        cst.Lambda,
    }
)


def on_every_call(path: list[cst.CSTNode]) -> bool:
    """Is the node at the end of `path` reached on every call of the function at its start?"""
    # (Exact types: none of them has subclasses, and isinstance against LibCST's ABC-based
    # classes costs several times more.)
    return not any(type(node) in _CONDITIONAL for node in path[1:-1])


def use_of(path: list[cst.CSTNode]) -> Use:
    """How the value of the last node of `path` is used by its parent."""
    index = value_index(path, len(path) - 1)
    node = path[index]
    parent = path[index - 1] if index > 0 else None
    if isinstance(parent, cst.WithItem) and parent.item is node:
        return Use("with")
    if isinstance(parent, cst.Assign) and parent.value is node:
        return Use("target", [t.target for t in parent.targets])
    if isinstance(parent, cst.AnnAssign) and parent.value is node:
        return Use("target", [parent.target])
    if isinstance(parent, cst.NamedExpr) and parent.value is node:
        return Use("target", [parent.target])
    if isinstance(parent, cst.Return) or (isinstance(parent, cst.Lambda) and parent.body is node):
        return Use("returned")
    if isinstance(parent, cst.Yield):
        return Use("yielded")
    holder = path[index - 2] if index > 1 else None
    if isinstance(parent, cst.Arg) and isinstance(holder, cst.Call):
        return Use("argument", holder=holder)
    if isinstance(parent, (cst.Element, cst.DictElement, cst.StarredElement)):
        return Use("element")
    if isinstance(parent, cst.Attribute) and parent.value is node:
        return Use("receiver")  # used in place: `create_engine(url).connect()`
    if isinstance(parent, _COMPREHENSIONS) and (
        getattr(parent, "elt", None) is node or getattr(parent, "value", None) is node
    ):
        return Use("element")
    return Use("other")


def statements(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """`node` and the statements below it (and their parts), not into expressions, nested
    defs, lambdas and classes: where an assignment can be, in a fraction of `walk`'s nodes."""
    todo = [node]
    while todo:
        current = todo.pop()
        yield current
        kind = type(current)
        if kind in EXPRESSIONS or (current is not node and kind in SCOPE_BODY_OWNERS):
            continue
        todo.extend(children(current))


def chains(expr: cst.CSTNode) -> Iterator[str]:
    """The maximal names and dotted chains mentioned in `expr` (`self.pool.closed`, `key`)."""
    todo = [expr]
    while todo:
        current = todo.pop()
        if isinstance(current, (cst.Name, cst.Attribute)):
            dotted = dotted_name(current)
            if dotted is not None:
                yield dotted
                continue
        if isinstance(current, (*FUNCTION_NODES, cst.ClassDef)):
            continue
        # `getattr(app.state, "client", None)` / `hasattr(...)` read `app.state.client`.
        if (
            isinstance(current, cst.Call)
            and isinstance(current.func, cst.Name)
            and current.func.value in ("getattr", "hasattr")
            and len(current.args) >= 2
            and isinstance(current.args[1].value, cst.SimpleString)
        ):
            owner = dotted_name(current.args[0].value)
            attribute = current.args[1].value.evaluated_value
            if owner is not None and isinstance(attribute, str):  # b"...": no attribute name
                yield f"{owner}.{attribute}"
        todo.extend(children(current))


def container(target: cst.BaseExpression) -> cst.BaseExpression:
    """`self.clients[key]` is stored in `self.clients`."""
    while isinstance(target, cst.Subscript):
        target = target.value
    return target


def call_label(call: cst.Call, name: str | None = None) -> str:
    """How a creating call is shown in a message: `httpx.AsyncClient(...)`."""
    if name is None:
        name = dotted_name(call.func) or "call"
    return f"`{name}(...)`"


def owns_no_pool(ctx: Context, call: cst.Call, scope: Scope | None = None) -> bool:
    """Does this client run on connections someone else owns, so it builds no pool of its
    own: an in-process transport (`httpx.ASGITransport(app)`), a shared transport or
    connector (`transport=`/`connector=` a module-level object or an attribute), or
    `connector_owner=False`?"""
    scope = scope or ctx.scope
    for arg in call.args:
        if arg.keyword is None:
            continue
        if arg.keyword.value == "connector_owner" and isinstance(arg.value, cst.Name) and arg.value.value == "False":
            return True
        if arg.keyword.value in knowledge.POOL_ARGUMENTS and _not_owned(ctx, arg.value, scope):
            return True
    return False


def on_chosen_socket(ctx: Context, call: cst.Call, scope: Scope | None = None) -> bool:
    """Is this client built on a Unix-socket transport or connector made for it, whose socket
    the function chooses (`transport=httpx.AsyncHTTPTransport(uds=uds_path)` with `uds_path`
    a parameter or a local, not a constant)? It talks to that one destination: nothing to
    share with a call that picks another, and no handshake to save."""
    scope = scope or ctx.scope
    for arg in call.args:
        if arg.keyword is None or arg.keyword.value not in knowledge.POOL_ARGUMENTS:
            continue
        value = arg.value
        if isinstance(value, cst.Name):
            found = scope.lookup(value.value)
            bindings = found[1] if found is not None and found[0].kind == "function" else []
            if len(bindings) != 1 or bindings[0].kind not in ("assign", "annassign") or bindings[0].value is None:
                continue
            value = bindings[0].value
        if not isinstance(value, cst.Call):
            continue
        where = knowledge.UNIX_SOCKET_TRANSPORTS.get(ctx.call_name(value, scope) or "")
        if where is None:
            continue
        position, keyword = where
        socket = analysis.argument(value, keyword, position)
        if socket is not None and not _constant(socket.value, scope):
            return True
    return False


def _constant(value: cst.BaseExpression, scope: Scope) -> bool:
    """A string literal, or a module-level name (one socket for every call)."""
    if isinstance(value, (cst.SimpleString, cst.ConcatenatedString)):
        return True
    if isinstance(value, cst.FormattedString):
        return not any(isinstance(part, cst.FormattedStringExpression) for part in value.parts)
    if isinstance(value, cst.Name):
        found = scope.lookup(value.value)
        return found is not None and found[0].kind == "module"
    if isinstance(value, cst.Call) and value.func is not None and value.args:
        # `str(SOCKET_PATH)`: as constant as its argument.
        if isinstance(value.func, cst.Name) and value.func.value == "str" and len(value.args) == 1:
            return _constant(value.args[0].value, scope)
    return isinstance(value, cst.Attribute) and dotted_name(value) is not None and _module_rooted(value, scope)


def _module_rooted(value: cst.Attribute, scope: Scope) -> bool:
    """`settings.SOCKET` on a module-level name (configuration), not `self.x` or a local."""
    head = root_name(value)
    if head is None:
        return False
    found = scope.lookup(head.value)
    return found is not None and found[0].kind == "module"


def _not_owned(ctx: Context, value: cst.BaseExpression, scope: Scope, depth: int = 0) -> bool:
    """A transport or connector made elsewhere, or one that opens no connections."""
    if isinstance(value, cst.Attribute):
        return True  # `self.transport`, `app.state.connector`, `shared.TRANSPORT`
    if isinstance(value, cst.Call):
        name = ctx.call_name(value, scope)
        # A function of the project hands it over (`transport=get_transport(config)`): made
        # elsewhere, often kept there for every client (a getter's cache), like an
        # attribute. A class constructed in place (a library's, or the project's own
        # subclass: `AsyncHTTPTransport(...)`) makes the client's own.
        return name in knowledge.IN_PROCESS_TRANSPORTS or (ctx.of_project(name) and not _names_a_class(name))
    if not isinstance(value, cst.Name) or depth > 2:
        return False
    found = scope.lookup(value.value)
    if found is None:
        return False
    owner, bindings = found
    if owner.kind == "module":
        # One transport or connector for the whole module, or imported from another.
        return bool(bindings) and all(b.kind in ("assign", "annassign", "import") for b in bindings)
    # A local name: where its single value comes from.
    if len(bindings) != 1 or bindings[0].kind not in ("assign", "annassign") or bindings[0].value is None:
        return False
    return _not_owned(ctx, bindings[0].value, owner, depth + 1)


def _names_a_class(name: str) -> bool:
    """`pkg.transports.PooledTransport`, `_SafeConnector`: a CapWords last part (private
    or not), by convention a class."""
    return name.rpartition(".")[2].lstrip("_")[:1].isupper()


class ResourceRule(Rule):
    """The prefilter shared by the resource rules (ASL501, ASL502)."""

    # Whether a call of a project function that creates and drops a resource on every call
    # (`ProjectIndex.resource_churn`) can make a finding: ASL501's (at a call per request),
    # not ASL502's (a resource made there is closed there).
    follows_churn: ClassVar[bool] = True

    @classmethod
    def wants(cls, text: str, settings: Settings) -> bool:
        return knowledge.may_name(text, knowledge.RESOURCE_CONSTRUCTORS) or knowledge.may_name(
            text, settings.extra_resources
        )

    @classmethod
    def index_may_change(cls, index: ProjectIndex, text: str) -> bool:
        # The index reaches these rules only at a call that resolves to a project function
        # or class creating a resource (`analysis.project_resource`, `project_churn`): the
        # call spells its last name (`make_client(`, `Database(`, `self.client.fetch(`), or
        # calls a name bound to it (`import ... as`, `= make_client`). A module naming the
        # class only in annotations (`server: SyncServer = Depends(...)`) gains nothing.
        # A method resolves only on a receiver of its class (`Resolver.project_callee`),
        # which the module must name: the class or a subclass (a constructor, an annotation,
        # `class C` for `self`), or a module-level instance of it.
        from asynclint.project import words

        spelled = words(text)
        names = {
            last
            for last, holders in _creating_names(index, cls.follows_churn)
            if last in spelled and (holders is None or not holders.isdisjoint(spelled))
        }
        return bool(names) and _calls_or_binds(frozenset(names)).search(text) is not None


# The index `_creating_names` last answered for, with or without churn (with the sizes of
# what it read: an index is built whole and not changed after, but a stale answer could skip
# a file), and the answer.
_last_index: dict[bool, list[object]] = {True: [None, (), frozenset()], False: [None, (), frozenset()]}


def _creating_names(index: ProjectIndex, churn: bool = True) -> frozenset[tuple[str, frozenset[str] | None]]:
    """(last name, None or the names a receiver's class is known by) for each project
    function and class that creates a resource (`churn`: or creates and drops one on every
    call); for a method, the last names of the classes that have it (`ProjectIndex.methods`,
    inherited ones included) and of the module-level instances of those classes. Computed
    once per index (a run asks it for every file)."""
    tables = (index.resource_factories, index.resource_classes, index.resource_churn, index.methods, index.values)
    sizes = tuple(len(table) for table in tables)
    last = _last_index[churn]
    if last[0] is index and last[1] == sizes:
        return cast(frozenset[tuple[str, frozenset[str] | None]], last[2])
    from asynclint.project import spelled_last

    holders: dict[str, set[str]] = {}
    for owner, found in index.methods.items():
        for function in found.values():
            holders.setdefault(function, set()).add(owner.rpartition(".")[2])
    for name, kind in index.values.items():
        for function in index.methods.get(kind, {}).values():
            holders[function].add(name.rpartition(".")[2])
    creating = [*index.resource_factories, *index.resource_classes, *(index.resource_churn if churn else ())]
    answer = frozenset(
        (next(iter(spelled_last((key,)))), frozenset(holders[key]) if key in holders else None) for key in creating
    )
    last[:] = [index, sizes, answer]
    return answer


@lru_cache(maxsize=64)
def _calls_or_binds(names: frozenset[str]) -> re.Pattern[str]:
    """Text that calls one of the names, imports it under another name or binds it to another."""
    spelled = "|".join(sorted(map(re.escape, names)))
    # (Not `def make_client(` nor `class Database(Base)`: defining is not calling. A
    # backslash may continue the line before the parenthesis.)
    return re.compile(rf"(?<!def )(?<!class )\b(?:{spelled})(?:[\s\\]*\(|\s+as\b)|=[\s\\]*(?:[\w.]+\.)?(?:{spelled})\b")


def set_by_own_methods(region: cst.CSTNode, scope: Scope) -> frozenset[str]:
    """The `self.x` attributes that methods of the class assign (their nested defs included),
    for the methods `region` calls on `self` (`self._connect()`, `await self.initdb()`),
    `scope` being the method `region` is in: a guard `if self.conn is None: self._connect()`
    fills the state through the method, as a lazy singleton does in place. Spelled with this
    method's own name for `self`."""
    self_name = scope.self_name
    cls = scope.enclosing_class
    if self_name is None or cls is None:
        return frozenset()
    found: set[str] = set()
    for node in walk(region):
        if type(node) is not cst.Call:
            continue
        func = node.func
        if not (isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name) and func.value.value == self_name):
            continue
        bindings = cls.bindings.get(func.attr.value, [])
        if len(bindings) != 1 or bindings[0].kind != "def" or not isinstance(bindings[0].node, cst.FunctionDef):
            continue
        method = bindings[0].node
        params = method.params.params
        own = params[0].name.value if params else None
        if own is None or any(dotted_name(d.decorator) == "staticmethod" for d in method.decorators):
            continue  # (a static method's first parameter is no `self`)
        for inner in walk(method.body, into_functions=True):
            targets: list[cst.BaseExpression]
            if type(inner) is cst.Assign:
                targets = [t.target for t in inner.targets]
            elif type(inner) is cst.AnnAssign:
                targets = [inner.target]
            else:
                continue
            for target in targets:
                if (
                    isinstance(target, cst.Attribute)
                    and isinstance(target.value, cst.Name)
                    and target.value.value == own
                ):
                    found.add(f"{self_name}.{target.attr.value}")
    return frozenset(found)


def local_binding(ctx: Context) -> tuple[cst.FunctionDef, cst.Name] | None:
    """(the function, the name bound) where the call being visited is bound to a local name of the
    function it is in (`eng = create_engine(url)`); None for anything else: a global, a
    nonlocal or comprehension name, an attribute, several targets, a use other than binding."""
    path = function_path(ctx)
    use = use_of(path)
    function = path[0]
    if not isinstance(function, cst.FunctionDef) or use.kind != "target" or len(use.targets) != 1:
        return None
    target = use.targets[0]
    if not isinstance(target, cst.Name):
        return None
    found = ctx.scope.lookup(target.value)
    if found is None or found[0] is not ctx.function_scope or found[0].node is not function:
        return None
    return function, target


def one_shot_local(ctx: Context) -> bool:
    """`eng = create_engine(url)` in a function, at the call being visited: a local name that
    is only ever used as `eng.attr` (`eng.connect()`, `eng.begin()`, `eng.dialect`), outside
    any loop and any nested function: not stored, returned, yielded or handed to a call that
    could keep it, and not used again and again over time. Its pool lives as long as one
    call of the function (a test reaper, a one-off check): no connection sits idle in it,
    and dropping the name at return drops the pool with it. ASL502 and ASL503 share it."""
    bound = local_binding(ctx)
    if bound is None:
        return False
    function, target = bound
    name = target.value
    receivers = set()
    for node in walk(function.body, into_functions=True):
        if isinstance(node, cst.Attribute) and isinstance(node.value, cst.Name) and node.value.value == name:
            receivers.add(node.value)
        elif isinstance(node, (cst.For, cst.While, *FUNCTION_NODES, cst.ClassDef, *_COMPREHENSIONS)):
            if any(isinstance(inner, cst.Name) and inner.value == name for inner in walk(node, into_functions=True)):
                return False  # used in a loop (over time), or by code that may outlive the call
    return all(
        node is target or node in receivers
        for node in walk(function.body, into_functions=True)
        if isinstance(node, cst.Name) and node.value == name
    )


# Methods that keep what they are given (in a registry, a list, a queue).
KEEPING_METHODS = frozenset(
    {"append", "appendleft", "add", "insert", "extend", "setdefault", "put", "put_nowait", "update", "register"}
)


def stored_elsewhere(func: Function, scope: Scope, name: str) -> bool:
    """Is the local `name` also kept or handed on beyond the call of `func`: assigned to a
    global, an attribute or a subscript (`app.state.client = client`), put in a container or a
    literal, or passed to another call (`register_cleanup(hass, client)`, `Api(client)`)?
    Then the function shares it on purpose, or something else owns it."""
    if name in scope.global_names or name in scope.nonlocal_names:
        return True

    def is_name(expr: cst.CSTNode) -> bool:
        return isinstance(expr, cst.Name) and expr.value == name

    for node in walk(func.body):
        if isinstance(node, (cst.Assign, cst.AnnAssign)) and node.value is not None and is_name(node.value):
            targets = [t.target for t in node.targets] if isinstance(node, cst.Assign) else [node.target]
            if any(not isinstance(t, cst.Name) or t.value in scope.global_names for t in targets):
                return True
        elif isinstance(node, cst.Call) and any(is_name(a.value) for a in node.args):
            callee = node.func
            if not (
                isinstance(callee, cst.Name) and callee.value in BUILTIN_NAMES and callee.value not in scope.bindings
            ):
                return True  # handed to another call (builtins such as `id(x)` only look at it)
        elif isinstance(node, (cst.Element, cst.DictElement)) and is_name(node.value):
            return True
    return False


class Lifetimes:
    """How long what a function creates lives: under a lazy-singleton guard (built once and
    reused), or kept, handed back to the caller, or created and dropped on every call. ASL501
    decides with it, and project facts record it for the calls of other modules."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self._memo_roots: dict[cst.CSTNode, tuple[set[str], set[str]]] = {}
        self._memo_keeps: dict[cst.CSTNode, tuple[set[str], set[str]]] = {}

    def roots(self, func: Function) -> tuple[set[str], set[str]]:
        """The persistent state `func` sets (attributes, subscripted containers, globals),
        and the local names it reads that state into (`cached = CACHE.get(key)`)."""
        if func in self._memo_roots:
            return self._memo_roots[func]
        scope = self.ctx.scopes[func]
        roots: set[str] = set()
        assigns: list[cst.Assign] = []
        for node in statements(func.body):
            kind = type(node)  # exact types, as in `walk`
            targets: list[cst.BaseExpression]
            if kind is cst.Assign:
                assign = cast(cst.Assign, node)
                targets = [t.target for t in assign.targets]
                assigns.append(assign)
            elif kind is cst.AnnAssign or kind is cst.AugAssign:
                targets = [cast("cst.AnnAssign | cst.AugAssign", node).target]
            else:
                continue
            for target in targets:
                if isinstance(target, cst.Name):
                    if target.value in scope.global_names or target.value in scope.nonlocal_names:
                        roots.add(target.value)
                    continue
                dotted = dotted_name(container(target))
                if dotted is None:
                    continue
                base = dotted.split(".")[0]
                bound = scope.bindings.get(base, [])
                if bound and any(b.kind != "param" for b in bound):
                    continue  # a local object: gone when the call returns
                roots.add(dotted)
        # (What `self._init()` fills counts as set here: `if self.pool is None: await self._init()`.)
        roots |= set_by_own_methods(func.body, scope)
        aliases: set[str] = set()
        for node in assigns:
            if len(node.targets) == 1 and isinstance(node.targets[0].target, cst.Name):
                if any(_matches(chain, roots) for chain in chains(node.value)):
                    aliases.add(node.targets[0].target.value)
        self._memo_roots[func] = (roots, aliases)
        return roots, aliases

    def is_lazy(self, path: list[cst.CSTNode]) -> bool:
        func = cast(Function, path[0])  # every caller's path starts at the creating function
        if isinstance(func, cst.FunctionDef) and self.is_cached(func):
            return True
        roots, aliases = self.roots(func)
        if not roots:
            return False
        watched = roots | aliases

        def mentions(expr: cst.CSTNode) -> bool:
            return any(_matches(chain, watched) for chain in chains(expr))

        for index in range(1, len(path) - 1):
            node, child = path[index], path[index + 1]
            # `if self.pool is None: self.pool = create_pool()`
            if isinstance(node, cst.If) and child is not node.test and mentions(node.test):
                return True
            # An early exit before it: `if key in CACHE: return CACHE[key]`, `try: return CACHE[key]`.
            if isinstance(node, cst.IndentedBlock):
                for statement in node.body:
                    if statement is child:
                        break
                    if _early_exit_on(statement, mentions):
                        return True
        return False

    def is_cached(self, func: cst.FunctionDef) -> bool:
        scope = self.ctx.scopes[func].parent
        for decorator in func.decorators:
            expr = decorator.decorator
            if isinstance(expr, cst.Call):
                expr = expr.func
            if knowledge.caches(self.ctx.qualname(expr, scope)):
                return True
        return False

    def fate(self, func: Function, use: Use) -> tuple[bool, bool, bool]:
        """(kept beyond this iteration, handed back to the caller, created and dropped here)."""
        if use.kind in ("returned", "yielded"):
            return True, True, False
        if use.kind in ("element", "argument"):
            return True, False, False
        if use.kind in ("with", "receiver", "other"):
            return False, False, True
        scope = self.ctx.scopes[func]
        names = []
        for target in use.targets:
            if (
                not isinstance(target, cst.Name)
                or target.value in scope.global_names
                or target.value in scope.nonlocal_names
            ):
                return True, False, False  # stored in an attribute, a container or a global
            names.append(target.value)
        returned, stored = self.keeps(func)
        hands_back = not returned.isdisjoint(names)
        kept = hands_back or not stored.isdisjoint(names)
        return kept, hands_back, not kept and not hands_back

    def keeps(self, func: Function) -> tuple[set[str], set[str]]:
        """The names `func` hands back (mentioned in a `return` or `yield` value), and the
        names it keeps otherwise: stored in an attribute or a subscript, given to a keeping
        method (`registry.append(c)`), put in a literal. Once per function: `fate` asks it
        for every creation and every project call in the function."""
        if func in self._memo_keeps:
            return self._memo_keeps[func]
        returned: set[str] = set()
        stored: set[str] = set()
        for node in walk(func.body):
            kind = type(node)  # exact types, as in `walk`
            # cast: `kind` was just checked, but a test of `kind` does not narrow `node` for mypy.
            if kind is cst.Return or kind is cst.Yield:
                value = cast("cst.Return | cst.Yield", node).value
                if value is not None:
                    returned.update(n.value for n in walk(value) if type(n) is cst.Name)
            elif kind is cst.Assign:
                assign = cast(cst.Assign, node)
                if type(assign.value) is cst.Name and any(not isinstance(t.target, cst.Name) for t in assign.targets):
                    stored.add(assign.value.value)
            elif kind is cst.Call:
                call = cast(cst.Call, node)
                if isinstance(call.func, cst.Attribute) and call.func.attr.value in KEEPING_METHODS:
                    stored.update(a.value.value for a in call.args if type(a.value) is cst.Name)
            elif kind is cst.Element or kind is cst.DictElement:
                element = cast("cst.Element | cst.DictElement", node).value
                if type(element) is cst.Name:
                    stored.add(element.value)
        self._memo_keeps[func] = (returned, stored)
        return returned, stored


def _matches(chain: str, roots: set[str]) -> bool:
    return any(chain == root or chain.startswith(root + ".") for root in roots)


def _early_exit_on(statement: cst.CSTNode, mentions: Callable[[cst.CSTNode], bool]) -> bool:
    """`if <check of the state>: return/raise ...`, or `try: return <the state>[key]`."""
    if isinstance(statement, cst.If):
        return mentions(statement.test) and any(isinstance(n, (cst.Return, cst.Raise)) for n in walk(statement.body))
    if isinstance(statement, cst.Try):
        return any(
            isinstance(n, cst.Return) and n.value is not None and mentions(n.value) for n in walk(statement.body)
        )
    return False


def names_in(expr: cst.CSTNode, names: list[str]) -> bool:
    return any(isinstance(n, cst.Name) and n.value in names for n in walk(expr))
