"""ASL502 resource-not-closed: an engine, pool or client created in a function and never closed.

An unclosed engine, pool or client keeps its connections open until the process exits or the
garbage collector gets to it; the database sees idle connections pile up, and libraries warn
("Unclosed client session").

Flags the creating call inside a function (a lifespan, a startup hook, a route, any function),
when the resource is bound to a name, an attribute or a subscript, and nothing in the module
closes it. Closing means, anywhere in the module: `close`/`aclose`/`dispose`/`terminate` called
on it (or its `__aexit__`/`__exit__`, called by hand), or that bound method handed on (`callbacks.append(engine.dispose)`,
`stack.push_async_callback(client.aclose)`); `async with`/`with` on it; `enter_async_context`/
`enter_context`/`closing`/`aclosing` on it, or passing it to a function whose name says it
closes (`await safe_close(self._client)`, `shutdown_pool(pool)`). A local name is matched as that variable (also
through a loop over the container it was put in, or another name it was copied to); an
attribute (`self.client`, `app.state.pool`) or a global by its name anywhere in the module, so
`self.x` is closed when any method of the class closes `self.x`.

With project analysis, also the result of a project function that returns a new resource
(`client = make_client()`), and an instance of a project class whose `__init__` creates one
and that has a method closing it (`api = Api()`, closed by `await api.shutdown()` or any
method whose name says it closes): `analysis.project_resource`.

Not flagged: resources created at module level or in a class body; an attribute of an
object whose class has no base class and no method that ends its life or closes anything
(`_lives_with_its_object`): it goes with its object, and there is no place to close it; a
resource stored in an attribute of an imported module (that module's global); created directly in
`async with Resource() as r`, or handed on where they are created (returned, yielded, passed
as an argument); a local name returned or yielded to the caller, passed to another call, or
put into a collection or into an object built from it (the new owner closes it); an attribute
returned by the function that sets it (an accessor: its caller owns the lifetime); an
attribute or global handed to a constructor or as a keyword argument
(`AsyncAnthropic(http_client=self.client)`: the new owner closes it), also through a local
dict of keyword arguments (`params["http_client"] = ...; AsyncOpenAI(**params)`, or the dict
returned); a client on a shared
transport or connector it does not own (`owns_no_pool`: a module-level object, an attribute,
or what a function of the project hands over): closing it would close the shared
transport, and the pool is not its own; an engine bound to a local name that the function
only reads as `engine.dialect`/`.url`/`.name`/`.driver` (it never connects: no pool to
close); a sync `create_engine(...)` bound to a local name that the function only uses as
`engine.attr` (`with engine.connect()`, `engine.begin()`) outside loops and nested functions,
never stored, returned or handed on (`one_shot_local`, shared with ASL503): its pool lives for
one call and goes with the name. `engine.sync_engine.dispose()` closes `engine`.

No fix: where the resource's owner shuts down is the author's design.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeAlias, TypeGuard

import libcst as cst

from asynclint import analysis, knowledge
from asynclint.rules._resources import (
    FUNCTION_NODES,
    Function,
    ResourceRule,
    call_label,
    container,
    function_path,
    one_shot_local,
    owns_no_pool,
    use_of,
)
from asynclint.scope import Binding, Scope, dotted_name, last_name, root_name
from asynclint.walk import children
from asynclint.walk import nodes as walk

if TYPE_CHECKING:
    from asynclint.config import Settings
    from asynclint.context import Context

# What closing something closes (`_keys_of`): ("local", id of the scope, name), ("loose",
# name) for an attribute or a global, ("item", container, literal key).
_Key: TypeAlias = "tuple[str, int, str] | tuple[str, str] | tuple[str, str, str]"

_ENTERING = frozenset({"enter_async_context", "enter_context", "closing", "aclosing"})
# `X.values()`, `list(X)`, `X.pop(key)`: still the objects kept in X.
_SAME_ITEMS_METHODS = frozenset({"values", "items", "copy", "pop", "get", "popitem"})
_SAME_ITEMS_FUNCTIONS = frozenset({"builtins.list", "builtins.tuple", "builtins.reversed", "builtins.sorted"})


@dataclass(eq=False)
class _Created:
    call: cst.Call
    resource: str
    keys: set[_Key] = field(default_factory=set)  # any of these closed -> the resource is closed
    handed_on: bool = False
    label: str | None = None  # created by the project's code in another place: how it is shown
    instance: bool = False  # an instance of a project class that owns the resource


class ResourceNotClosed(ResourceRule):
    code = "ASL502"
    index_family = "resources"
    follows_churn = False  # what a project call creates and drops, it closes
    name = "resource-not-closed"
    summary = "An engine, pool or client created in a function is never closed"

    @classmethod
    def wants_with_index(cls, text: str, settings: Settings) -> bool:
        return True  # a project factory or class may create it in any module

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)
        self.created: list[_Created] = []
        self.closed: set[_Key] = set()  # keys of everything the module closes (see `_keys_of`)
        # Keys of everything a method with a closing name is called on (`db.shutdown()`):
        # closes an instance of a project class that owns a resource.
        self.closed_by_method: set[_Key] = set()
        # Keys of attributes and globals handed to something that takes them over
        # (`AsyncAnthropic(http_client=self.client)`): the new owner closes them.
        self.handed: set[_Key] = set()

    def visit_Call(self, node: cst.Call) -> None:
        ctx = self.ctx
        short = last_name(node.func)
        if short in _ENTERING and node.args:
            # `stack.enter_async_context(client)`, `contextlib.aclosing(client)`.
            self.closed |= _keys_of(ctx, node.args[0].value, ctx.scope)
        elif short is not None and knowledge.says_it_closes(short):
            # A helper that closes what it is given: `await safe_close(self._client)`.
            for arg in node.args:
                self.closed |= _keys_of(ctx, arg.value, ctx.scope)
        elif _closer_handed(node):
            # A closing function registered with what it closes: `weakref.finalize(self,
            # _close_clients, self.client)`, `atexit.register(shutdown, pool)`,
            # `stack.callback(close_all, a, b)`.
            for arg in node.args:
                self.closed |= _keys_of(ctx, arg.value, ctx.scope)
        else:
            self._takes_over(node)
        resource = analysis.resource_constructor(ctx, node)
        if resource is not None and owns_no_pool(ctx, node):
            return  # closing it would close the shared transport, not a pool of its own
        label, instance = None, False
        if resource is None and ctx.project is not None:
            # A factory or class of the project, maybe in another module (project analysis).
            made = analysis.project_resource(ctx, node)
            if made is None or not made.closes:
                return  # a class with no way to close what it owns: reported where it is created
            resource, label, instance = made.resource, made.label, made.instance
        if resource is None:
            return
        path = function_path(ctx)
        func = path[0]
        use = use_of(path)
        if not isinstance(func, FUNCTION_NODES) or use.kind != "target":
            return
        created = _Created(node, resource, label=label, instance=instance)
        scope = ctx.scopes[func]
        if resource in knowledge.ENGINE_CONSTRUCTORS and _never_connects(func, use.targets, scope):
            return  # an engine built only to read its dialect or URL holds no connection
        if knowledge.CALL_RESULT_TYPES.get(resource) == knowledge.SYNC_ENGINE and one_shot_local(ctx):
            # A sync engine used by one call and dropped with its local name: refcounting
            # closes its pool's connections on return. (An async engine's connections need
            # an awaited close, so dropping one is still a leak.)
            return
        for target in use.targets:
            if isinstance(target, cst.Name) and target.value not in scope.global_names | scope.nonlocal_names:
                created.keys.add(("local", id(scope), target.value))
                self._follow_local(created, func, scope, target.value)
            else:
                created.keys |= _target_keys(ctx, target, scope)
                if isinstance(target, cst.Attribute) and _attribute_returned(func, target):
                    created.handed_on = True
                if isinstance(target, cst.Attribute) and _lives_with_its_object(target, scope):
                    created.handed_on = True
                if _of_imported_module(target, scope):
                    created.handed_on = True  # `other_module.client = ...`: that module owns it
                if _in_module_container(target, scope) and _container_returned(func, target):
                    # `_ENGINES[url] = create_engine(url)` ... `return _ENGINES[url]`: a cache
                    # that hands its engine to the caller (whose to close).
                    created.handed_on = True
                if isinstance(target, cst.Subscript) and _local_container_handed_on(func, target, scope):
                    created.handed_on = True
        self.created.append(created)

    def _follow_local(self, created: _Created, func: Function, scope: Scope, name: str) -> None:
        """Where a local name goes: back to the caller, into another call or object (handed
        on), or into an attribute, a container or another name (which must then be closed)."""
        ctx = self.ctx
        for node in walk(func.body, into_functions=True):
            if isinstance(node, (cst.Return, cst.Yield)) and node.value is not None and _mentions(node.value, name):
                created.handed_on = True
            elif (
                isinstance(node, (cst.Assign, cst.AnnAssign)) and node.value is not None and _mentions(node.value, name)
            ):
                targets = [t.target for t in node.targets] if isinstance(node, cst.Assign) else [node.target]
                if not _is_name(node.value, name):
                    created.handed_on = True  # `self.api = Api(client)`: the new object owns it
                    continue
                for target in targets:
                    if isinstance(target, cst.Name) and target.value not in scope.global_names:
                        created.keys.add(("local", id(scope), target.value))
                    else:
                        created.keys |= _target_keys(ctx, target, scope)
                        if _of_imported_module(target, scope):
                            created.handed_on = True
                        if isinstance(target, cst.Subscript) and _local_container_handed_on(func, target, scope):
                            created.handed_on = True
            elif isinstance(node, cst.Call) and any(_is_name(arg.value, name) for arg in node.args):
                if self._hands_on(node):
                    created.handed_on = True
            elif isinstance(node, (cst.Element, cst.DictElement)) and _is_name(node.value, name):
                created.handed_on = True

    def _takes_over(self, call: cst.Call) -> None:
        """An attribute or a global handed to a constructor (`Api(self.client)`) or as a
        keyword argument (`build(http_client=self.client)`): the callee keeps it and closes it.
        A positional argument of a plain function (`fetch(self.client, url)`) is only used."""
        name = self.ctx.call_name(call) or dotted_name(call.func) or ""
        if name.startswith("builtins."):
            return
        constructor = name.rpartition(".")[2][:1].isupper()
        for arg in call.args:
            if arg.star or not (constructor or arg.keyword is not None):
                continue
            value = arg.value
            if isinstance(value, cst.Attribute) or (isinstance(value, cst.Name) and self._is_global(value)):
                self.handed |= _keys_of(self.ctx, value, self.ctx.scope)

    def _is_global(self, name: cst.Name) -> bool:
        found = self.ctx.scope.lookup(name.value)
        return found is not None and found[0].kind == "module"

    def _hands_on(self, call: cst.Call) -> bool:
        """Passing a resource to a call hands it on, except to builtins (`print`, `len`...)
        and to the calls that close it (counted as closing instead)."""
        func = call.func
        if isinstance(func, cst.Attribute) and func.attr.value in _ENTERING:
            return False
        if isinstance(func, cst.Name) and func.value in _ENTERING:
            return False
        name = self.ctx.call_name(call)
        return not (name and name.startswith("builtins."))

    def finish(self) -> None:
        if not self.created:
            return
        for created in self.created:
            if created.handed_on or created.keys & self.closed or created.keys & self.handed:
                continue
            if created.instance and created.keys & self.closed_by_method:
                continue
            self.ctx.report(
                created.call,
                f"{created.label or call_label(created.call, created.resource)} is never closed",
                help="Close it where its owner shuts down (after a lifespan's `yield`, in a shutdown hook or "
                "`aclose()` method), or create it with `async with`",
            )

    # -- what the module closes: recorded during the traversal ----------------------------

    def visit_Attribute(self, node: cst.Attribute) -> None:
        # `client.aclose()`, and `client.aclose` handed on as a callback.
        if node.attr.value in knowledge.CLOSE_METHODS:
            receiver = node.value
            self.closed |= _keys_of(self.ctx, receiver, self.ctx.scope)
            # `engine.sync_engine.dispose()` disposes `engine`.
            while isinstance(receiver, cst.Attribute) and receiver.attr.value in knowledge.CLOSED_THROUGH_ATTRIBUTES:
                receiver = receiver.value
                self.closed |= _keys_of(self.ctx, receiver, self.ctx.scope)
        elif self.ctx.project is not None and knowledge.says_it_closes(node.attr.value):
            self.closed_by_method |= _keys_of(self.ctx, node.value, self.ctx.scope)

    def visit_WithItem(self, node: cst.WithItem) -> None:
        # `async with client:`; `async with client.get(...)` enters something else.
        if not isinstance(node.item, (cst.Call, cst.Await)):
            self.closed |= _keys_of(self.ctx, node.item, self.ctx.scope)


# What an engine tells without connecting (`engine.dialect.name`, `engine.url.database`).
_NO_CONNECTION_ATTRIBUTES = frozenset({"dialect", "url", "name", "driver"})


def _never_connects(func: Function, targets: Sequence[cst.BaseExpression], scope: Scope) -> bool:
    """`e = create_engine(url)` bound to a local name that the function only ever reads as
    `e.dialect`/`e.url`/`e.name`/`e.driver` (never connected, executed, handed on, stored
    or returned): an engine opens its pool's first connection only when asked for one, so
    there is no pool to close."""
    if len(targets) != 1 or not isinstance(targets[0], cst.Name):
        return False
    name = targets[0].value
    if name in scope.global_names | scope.nonlocal_names:
        return False
    reads: set[cst.CSTNode] = set()
    for node in walk(func.body, into_functions=True):
        if (
            isinstance(node, cst.Attribute)
            and isinstance(node.value, cst.Name)
            and node.value.value == name
            and node.attr.value in _NO_CONNECTION_ATTRIBUTES
        ):
            reads.add(node.value)
    return all(
        node is targets[0] or node in reads
        for node in walk(func.body, into_functions=True)
        if isinstance(node, cst.Name) and node.value == name
    )


def _keys_of(ctx: Context, expr: cst.BaseExpression, scope: Scope, depth: int = 0) -> set[_Key]:
    """What closing `expr` closes: ("local", scope, name) for a local variable, and
    ("loose", name) for an attribute or a global (matched by name in the whole module).
    A name taken from a container (`for c in self.clients.values()`, `c = d.pop(k)`) also
    closes what the container holds."""
    keys: set[_Key] = set()
    if depth > 4:
        return keys
    if isinstance(expr, cst.Await):
        # `await session.get(url)` gives a response, not something kept in `session`.
        inner = expr.expression
        return keys if isinstance(inner, cst.Call) else _keys_of(ctx, inner, scope, depth + 1)
    if isinstance(expr, cst.Subscript):
        item = _item_key(expr)
        return {item} if item else _keys_of(ctx, container(expr), scope, depth + 1)
    if isinstance(expr, cst.Attribute):
        keys.add(("loose", expr.attr.value))
        return keys
    if isinstance(expr, cst.Call):
        func = expr.func
        if isinstance(func, cst.Attribute) and func.attr.value in _SAME_ITEMS_METHODS:
            return _keys_of(ctx, func.value, scope, depth + 1)
        if expr.args and ctx.call_name(expr, scope) in _SAME_ITEMS_FUNCTIONS:
            return _keys_of(ctx, expr.args[0].value, scope, depth + 1)
        return keys
    if not isinstance(expr, cst.Name):
        return keys
    found = scope.lookup(expr.value)
    if found is None or found[0].kind == "module":
        keys.add(("loose", expr.value))  # a global: closed anywhere in the module
        return keys if found is None else keys | _followed(ctx, found[1], found[0], depth)
    owner, bindings = found
    keys.add(("local", id(owner), expr.value))
    return keys | _followed(ctx, bindings, owner, depth)


def _followed(ctx: Context, bindings: list[Binding], owner: Scope, depth: int) -> set[_Key]:
    """A name taken from somewhere closes that too: `for c in self.clients.values()`,
    `client = self._client`, `_, client = self.clients.popitem()`."""
    keys: set[_Key] = set()
    for binding in bindings:
        if binding.kind == "for" and isinstance(binding.node, (cst.For, cst.CompFor)):
            keys |= _keys_of(ctx, binding.node.iter, owner, depth + 1)
        elif binding.kind in ("assign", "annassign", "walrus") and isinstance(
            binding.value, (cst.Name, cst.Attribute, cst.Subscript, cst.Call)
        ):
            if isinstance(binding.value, cst.Name) and binding.value.value in ("None", "True", "False"):
                continue  # `_session = None`: a placeholder, not where the object comes from
            keys |= _keys_of(ctx, binding.value, owner, depth + 1)
        elif (
            binding.kind == "other"
            and isinstance(binding.node, cst.Assign)
            and isinstance(popped := binding.node.value, cst.Call)
            and isinstance(popped.func, cst.Attribute)
            and popped.func.attr.value == "popitem"
        ):
            # `(key, client) = self._clients.popitem()`: the pair's value is an item of it.
            keys |= _keys_of(ctx, popped, owner, depth + 1)
    return keys


def _target_keys(ctx: Context, target: cst.BaseExpression, scope: Scope) -> set[_Key]:
    """`_state["pool"] = ...` is closed by closing `_state["pool"]`, or everything in `_state`."""
    if isinstance(target, cst.Subscript):
        item = _item_key(target)
        keys = _keys_of(ctx, container(target), scope)
        return keys | {item} if item else keys
    return _keys_of(ctx, target, scope)


def _item_key(subscript: cst.Subscript) -> tuple[str, str, str] | None:
    """("item", container, key) for `container["key"]` with a literal key, else None."""

    owner = dotted_name(subscript.value)
    element = subscript.slice[0].slice if len(subscript.slice) == 1 else None
    if owner is None or not isinstance(element, cst.Index):
        return None
    if isinstance(element.value, (cst.SimpleString, cst.Integer)):
        return ("item", owner.rsplit(".", 1)[-1], element.value.value)
    return None


def _mentions(expr: cst.CSTNode, name: str) -> bool:
    """Does `expr` hold the object named `name` (not just use it: `client.get(url)` gives
    something else, `client.timeout` too)?"""
    todo: list[cst.CSTNode] = [expr]
    while todo:
        node = todo.pop()
        if isinstance(node, cst.Name) and node.value == name:
            return True
        if isinstance(node, cst.Attribute):
            if not isinstance(node.value, cst.Name):
                todo.append(node.value)
            continue
        if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute):
            # `client.get(...)`: the receiver is not handed anywhere, the arguments may be.
            todo.extend(arg.value for arg in node.args)
            if not isinstance(node.func.value, cst.Name):
                todo.append(node.func.value)
            continue
        todo.extend(children(node))
    return False


def _of_imported_module(target: cst.BaseExpression, scope: Scope) -> bool:
    """`proxy_server.shared_session = ...`: an attribute of an imported module, a global of
    another module, which is closed (or not) there."""
    target = container(target)
    if not isinstance(target, cst.Attribute):
        return False
    root = root_name(target)
    if root is None:
        return False
    found = scope.lookup(root.value)
    return found is not None and bool(found[1]) and all(b.kind == "import" for b in found[1])


def _in_module_container(target: cst.BaseExpression, scope: Scope) -> TypeGuard[cst.Subscript]:
    """`CACHE[key] = ...` where CACHE is a module-level name."""
    if not isinstance(target, cst.Subscript) or not isinstance(target.value, cst.Name):
        return False
    found = scope.lookup(target.value.value)
    return found is not None and found[0].kind == "module"


def _container_returned(func: Function, target: cst.Subscript) -> bool:
    """`CACHE[key] = ...` ... `return CACHE[key]`: the function hands out what it stored."""
    name = target.value.value if isinstance(target.value, cst.Name) else None
    for node in walk(func.body):
        if isinstance(node, (cst.Return, cst.Yield)) and node.value is not None:
            if any(isinstance(n, cst.Subscript) and _is_name(n.value, name) for n in walk(node.value)):
                return True
    return False


def _local_container_handed_on(func: Function, target: cst.Subscript, scope: Scope) -> bool:
    """A local dict that goes on with the resource in it: handed to a call as its keyword
    arguments (`params["http_client"] = httpx.AsyncClient()` ... `AsyncAnthropic(**params)`,
    which takes it over as it would `AsyncAnthropic(http_client=client)`), or returned or
    yielded whole (`return params`: the caller's to hand on or close)."""
    if not isinstance(target.value, cst.Name) or target.value.value in scope.global_names:
        return False
    name = target.value.value
    for node in walk(func.body):
        if isinstance(node, cst.Call) and any(arg.star == "**" and _is_name(arg.value, name) for arg in node.args):
            return True
        if isinstance(node, (cst.Return, cst.Yield)) and node.value is not None and _is_name(node.value, name):
            return True
    return False


def _is_name(expr: cst.CSTNode, name: str | None) -> bool:
    return isinstance(expr, cst.Name) and expr.value == name


# Methods that end an object's life besides those whose name says they close something.
_LIFECYCLE_METHODS = frozenset({"__exit__", "__aexit__", "__del__", "stop"})


def _lives_with_its_object(target: cst.Attribute, scope: Scope) -> bool:
    """`self.x = Client()` in a method of a class with no base class and no method that
    ends its life or closes anything (`close`, `stop`, `__aexit__`, `__del__`...): the
    client lives as long as its object and goes with it, and the class has no place where
    it could be closed (its design has none; inherited from a base, it might)."""
    if not isinstance(target.value, cst.Name) or scope.self_name != target.value.value:
        return False
    owner = scope.enclosing_class
    if owner is None:
        return False
    cls = owner.node
    if not isinstance(cls, cst.ClassDef) or any(dotted_name(base.value) != "object" for base in cls.bases):
        return False
    for statement in cls.body.body:
        if isinstance(statement, cst.FunctionDef):
            name = statement.name.value
            if name in _LIFECYCLE_METHODS or knowledge.says_it_closes(name):
                return False
    return True


def _closer_handed(call: cst.Call) -> bool:
    """Is one of the call's positional arguments a function (not called) whose name says it
    closes (`_close_clients`, `pool.close`)? Then the call registers it to run later, on the
    other arguments."""
    for arg in call.args:
        if arg.keyword is None and isinstance(arg.value, (cst.Name, cst.Attribute)):
            name = last_name(arg.value)
            if name is not None and knowledge.says_it_closes(name):
                return True
    return False


def _attribute_returned(func: Function, target: cst.Attribute) -> bool:
    """`self._client = Client(...)` ... `return self._client`: an accessor hands it out."""
    wanted = dotted_name(target)
    if wanted is None:
        return False
    for node in walk(func.body):
        if isinstance(node, (cst.Return, cst.Yield)) and node.value is not None:
            if any(isinstance(n, cst.Attribute) and dotted_name(n) == wanted for n in walk(node.value)):
                return True
    return False


RULE = ResourceNotClosed
