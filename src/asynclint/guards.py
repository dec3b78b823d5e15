"""Which checks a call in a sync function runs under, for ASL207's chains.

A blocking call only matters if it runs on every call of its function. These checks say it
does not:

- a lazy singleton: the call sits under a check that some state is missing (`if _X is None:`
  on a module global, `if self._x is None:`, `if not hasattr(self, "_x"):`, or after an early
  `if _X is not None: return _X`; also with an override the caller passes, `if _X and not
  force: return _X`, as double-checked locking does inside its lock), and the function then
  stores into that state (itself, or through a method of its class it calls on `self` there:
  `if self.conn is None: self._connect()`): it blocks
  once per process or instance, not per call; likewise a memo filled once per key
  (`if key not in self._cache: self._cache[key] = make()`, after
  `if key in _CACHE: return _CACHE[key]`, after `hit = self._cache.get(key)` and
  `if hit is not None: return hit`, or under `if hit is None:` that rebinds `hit` and
  stores it), where the function stores `X[...] = ...`;
- a package installed where it is missing: the call sits under `if not
  importlib.util.find_spec(name):` (or `... is None`): it installs the package (`pip
  install`), once per process. (Not `except ImportError:`, where a fallback may run on every
  call.)
- a parameter default: the call sits under `if p is None:`/`if not p:` on a parameter `p`
  (`meta = read_ids_from_disk()` when the caller gave none): a call site that passes `p`
  never runs it;
- a parameter given: the call sits under `if p:`/`if p is not None:` (or their `else:`
  after the opposite test, or after `if not p: return`) on a parameter `p` whose default is
  None or another empty constant, bound again only where it was given (`elif address: return
  Client(address)`): a call site that leaves `p` out (or passes None) never runs it. Marked
  `+p`.
- a flag turned off: the call sits under `if p:` (or after `if not p: return`) on a
  parameter `p` with a true default, never bound again (`def __init__(self, create=True):
  if create: self._connect()`): a call site passing `create=False` never runs it. Marked
  `~p`.
- a flag turned on: the call sits in the `else:` of `if p:` (or after `if p: return`) on
  such a parameter: only a call site passing `create=False` runs it. Marked `-p`.
"""

from __future__ import annotations

from typing import cast

import libcst as cst

from asynclint.project.arguments import EMPTY, FLAG, GIVEN
from asynclint.rules._resources import set_by_own_methods
from asynclint.rules._statements import conditions, descendants
from asynclint.scope import Scope, dotted_name
from asynclint.walk import nodes as walk

LAZY = "lazy"


def guard_of(path: list[cst.CSTNode], scope: Scope) -> str | frozenset[str]:
    """For the last node of `path` (from its function down): LAZY when it runs only to fill
    a lazy singleton, else the parameters of the function whose passing skips it, and
    (marked `+p`) those it runs only when passed (empty: it runs on every call)."""
    func = path[0]
    params: set[str] = set()
    for branch, holds in conditions(path):
        if _package_missing(branch.test, holds):
            return LAZY
        # The state or parameter that the test says is there (`if p:`, an early `if not p:
        # return`), and the one it says is missing (`if _X is None:`, `if _X: return _X`).
        given = _checked(branch.test, holds, scope)
        if given is not None and "." not in given:
            if _defaults_empty(scope, given):
                params.add(f"+{given}")
            elif _names(branch.test, given) and _defaults_truthy(scope, given):
                params.add(f"~{given}")
        target = _checked(branch.test, not holds, scope)
        if target is None:
            continue
        memo = _memo_of(scope, target, branch)
        if memo is None and "." not in target and _is_param(scope, target):
            # `else:` of `if activate:` with `activate=True` by default: only a call passing
            # an empty constant runs it (`-p`); with an empty default, any call not passing `p`.
            params.add(f"-{target}" if _names(branch.test, target) and _defaults_truthy(scope, target) else target)
        elif _persistent(scope, memo or target) and _stores(branch.body if holds else func, memo or target, scope):
            return LAZY
    return frozenset(params)


def _package_missing(test: cst.BaseExpression, holds: bool) -> bool:
    """Does `test` (true or not: `holds`) say a package is not installed: `not
    importlib.util.find_spec(name)`, `find_spec(name) is None`? What runs there installs it
    (`pip install`), once per process: afterwards the package is there."""
    if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
        return _package_missing(test.expression, not holds)
    if isinstance(test, cst.Comparison) and len(test.comparisons) == 1:
        target = test.comparisons[0]
        if isinstance(target.comparator, cst.Name) and target.comparator.value == "None":
            if isinstance(target.operator, cst.Is):
                return _package_missing(test.left, not holds)
            if isinstance(target.operator, cst.IsNot):
                return _package_missing(test.left, holds)
        return False
    if isinstance(test, cst.Call):
        name = dotted_name(test.func)
        return not holds and name is not None and name.rpartition(".")[2] == "find_spec"
    return False


def _checked(test: cst.BaseExpression, present: bool, scope: Scope) -> str | None:
    """The state (a name or dotted chain) whose absence (present=False) or presence
    (present=True) makes `test` true, for the forms a lazy singleton or a default uses.
    Also with an override the caller passes: `if _X and not force: return _X` (present),
    `if _X is None or force:` (absent), with `force` a parameter."""
    if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
        return _checked(test.expression, not present, scope)
    if isinstance(test, cst.BooleanOperation) and isinstance(test.operator, cst.And if present else cst.Or):
        if _a_parameter(test.right, scope):
            return _checked(test.left, present, scope)
        return None
    if isinstance(test, cst.Comparison) and len(test.comparisons) == 1:
        target = test.comparisons[0]
        # A memo: `key not in X` (missing), `key in X` (present); X is what must be stored.
        if isinstance(target.operator, cst.NotIn) and not present:
            return dotted_name(target.comparator)
        if isinstance(target.operator, cst.In) and present:
            return dotted_name(target.comparator)
        if isinstance(target.comparator, cst.Name) and target.comparator.value == "None":
            if isinstance(target.operator, cst.Is) and not present:
                return _state(test.left)
            if isinstance(target.operator, cst.IsNot) and present:
                return _state(test.left)
        return None
    if present:
        return _state(test)
    return None


def _state(expr: cst.BaseExpression) -> str | None:
    """`self._x`, `_X`, and `hasattr(self, "_x")` / `getattr(self, "_x", None)`: `self._x`."""
    if isinstance(expr, cst.Call) and isinstance(expr.func, cst.Name) and expr.func.value in ("hasattr", "getattr"):
        if len(expr.args) >= 2 and isinstance(expr.args[1].value, cst.SimpleString):
            owner = dotted_name(expr.args[0].value)
            name = expr.args[1].value.evaluated_value
            return f"{owner}.{name}" if owner and isinstance(name, str) else None
        return None
    return dotted_name(expr)


def _memo_of(scope: Scope, name: str, branch: cst.If) -> str | None:
    """For a local name every assignment of which is `X.get(...)` (a memo lookup), but those
    in the `branch` that tests it (the miss: `hit = X.get(key)`, `if hit is None: hit =
    make(); X[key] = hit`): X."""
    if "." in name or name in scope.global_names:
        return None
    in_branch = {id(node) for node in descendants(branch.body)}
    bindings = [binding for binding in scope.bindings.get(name, ()) if id(binding.node) not in in_branch]
    sources = set()
    for binding in bindings:
        value = binding.value
        if binding.kind != "assign" or not (
            isinstance(value, cst.Call) and isinstance(value.func, cst.Attribute) and value.func.attr.value == "get"
        ):
            return None
        sources.add(dotted_name(value.func.value))
    if len(sources) != 1:
        return None
    return sources.pop()


def _a_parameter(expr: cst.BaseExpression, scope: Scope) -> bool:
    """`force`, `not force`: a parameter of the function, as an override of the check."""
    if isinstance(expr, cst.UnaryOperation) and isinstance(expr.operator, cst.Not):
        expr = expr.expression
    return isinstance(expr, cst.Name) and _is_param(scope, expr.value)


def _defaults_empty(scope: Scope, name: str) -> bool:
    """Is `name` a parameter of the function that is still None or empty when a call leaves
    it out: no default, or one of None, False, 0, "" or an empty literal, and bound again
    only where it was given (`if address and resolve: address = resolve(address)`)?"""
    bindings = scope.bindings.get(name, ())
    params = [binding for binding in bindings if binding.kind == "param"]
    if len(params) != 1 or not isinstance(param := params[0].node, cst.Param):
        return False
    if param.default is not None and not empty_constant(param.default):
        return False
    others = [binding.node for binding in bindings if binding is not params[0]]
    return not others or _only_where_given(scope, name, others)


def _names(test: cst.BaseExpression, name: str) -> bool:
    """Is `test` the name itself, or `not` it: a test of its truth, not of None?"""
    while isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
        test = test.expression
    return isinstance(test, cst.Name) and test.value == name


def _defaults_truthy(scope: Scope, name: str) -> bool:
    """Is `name` a parameter of the function with a true constant default (`True`, a
    number but 0, a non-empty string), never bound again? A call leaving it out runs what
    its test guards; one passing an empty constant (`create=False`) does not."""
    param = _untouched_param(scope, name)
    default = param.default if param is not None else None
    if isinstance(default, cst.Name):
        return default.value == "True"
    if isinstance(default, cst.Integer):
        return default.evaluated_value != 0
    if isinstance(default, cst.SimpleString):
        return default.evaluated_value not in ("", b"")
    return False


def _only_where_given(scope: Scope, name: str, nodes: list[cst.CSTNode | None]) -> bool:
    """Is each of `nodes` (other bindings of the parameter `name`) in the body of an `if`
    that runs only when `name` was given? A call that leaves it out then never rebinds it."""
    where_given: set[int] = set()
    for node in descendants(scope.node):
        if isinstance(node, cst.If) and _checked(node.test, True, scope) == name:
            where_given.update(map(id, descendants(node.body)))
    return all(node is not None and id(node) in where_given for node in nodes)


def handed(call: cst.Call, scope: Scope | None = None) -> list[str]:
    """The call's arguments as `project.arguments` records them: a splat, or each one's
    keyword and whether it is an empty constant or (with the calling function's `scope`) a
    parameter handed on as it is."""
    found: list[str] = []
    for arg in call.args:
        if arg.star:
            found.append(arg.star)
            continue
        keyword = arg.keyword.value if arg.keyword is not None else ""
        value = arg.value
        if empty_constant(value):
            found.append(f"{keyword}:{EMPTY}")
        elif scope is not None and isinstance(value, cst.Name) and _handed_on(scope, value.value):
            found.append(f"{keyword}:{value.value}")
        elif scope is not None and isinstance(value, cst.Name) and _flag_handed_on(scope, value.value):
            found.append(f"{keyword}:{FLAG}{value.value}")
        else:
            found.append(f"{keyword}:{GIVEN}")
    return found


def _flag_handed_on(scope: Scope, name: str) -> bool:
    """Is `name` a flag of the function with a true default (`blocking=True`), never bound
    again, handed on as it came? Left out, the callee gets a true value; passed `False`,
    the callee gets that: the caller's call decides, as for `~p`."""
    return name != scope.self_name and _defaults_truthy(scope, name)


def _handed_on(scope: Scope, name: str) -> bool:
    """Is `name` a parameter of the function that holds what its caller gave (never bound
    again), with no default or an empty one, so that whether it is given is the caller's
    to say? (Not `self`, which always is.)"""
    param = _untouched_param(scope, name)
    return (
        param is not None
        and name != scope.self_name
        and param.star not in ("*", "**")
        and (param.default is None or empty_constant(param.default))
    )


def _untouched_param(scope: Scope, name: str) -> cst.Param | None:
    """The parameter `name` of the function, where nothing in it binds the name again."""
    bindings = scope.bindings.get(name, ())
    if len(bindings) != 1 or bindings[0].kind != "param" or not isinstance(bindings[0].node, cst.Param):
        return None
    return bindings[0].node


def empty_constant(value: cst.BaseExpression) -> bool:
    """`None`, `False`, `0`, `""` and empty literals: what a guard on a parameter reads as
    not given."""
    if isinstance(value, cst.Name):
        return value.value in ("None", "False")
    if isinstance(value, cst.Integer):
        return value.value == "0"
    if isinstance(value, cst.SimpleString):
        return value.evaluated_value in ("", b"")
    if isinstance(value, (cst.List, cst.Tuple, cst.Set, cst.Dict)):
        return not value.elements
    return False


def _is_param(scope: Scope, name: str) -> bool:
    return any(binding.kind == "param" for binding in scope.bindings.get(name, ()))


def _persistent(scope: Scope, target: str) -> bool:
    """State that outlives the call: a global the function declares, a module-level name it
    does not bind (a memo it fills with `X[key] = ...`), or an attribute of a parameter
    (`self`), a module-level name or a class."""
    base, dot, _ = target.partition(".")
    if not dot and base in scope.global_names:
        return True
    found = scope.lookup(base)
    if found is None:
        return False
    where, bindings = found
    if not dot:
        return where is not scope
    return where is not scope or all(binding.kind == "param" for binding in bindings)


def _stores(region: cst.CSTNode, target: str, scope: Scope) -> bool:
    """Does `region` assign `target` (`_X = ...`, `self._x = ...`, `setattr(self, "_x", ...)`)?"""
    # Every guarded call of a function asks about the same few regions: each is walked once.
    if scope.stored is None:
        scope.stored = {}
    stored = scope.stored.get(region)
    if stored is None:
        # Also what a method of the class that the region calls on `self` assigns:
        # `if self.conn is None: self._connect()`, `_connect` setting `self.conn`.
        stored = scope.stored[region] = _assigned(region) | set_by_own_methods(region, scope)
    return target in stored


def _assigned(region: cst.CSTNode) -> frozenset[str]:
    """The names and dotted chains `region` assigns (`X` for `X[key] = ...`, which fills the memo X)."""
    found: set[str] = set()
    for node in walk(region.body if isinstance(region, cst.FunctionDef) else region):
        targets: list[cst.BaseExpression | str | None]
        kind = type(node)  # exact types, as in `walk`: isinstance against LibCST's ABCs costs more
        if kind is cst.Assign:
            targets = [t.target for t in cast(cst.Assign, node).targets]
        elif kind is cst.AnnAssign or kind is cst.AugAssign:
            targets = [cast("cst.AnnAssign | cst.AugAssign", node).target]
        elif kind is cst.Call:
            call = cast(cst.Call, node)
            if not (isinstance(call.func, cst.Name) and call.func.value == "setattr"):
                continue
            targets = [] if len(call.args) < 2 else [_setattr_target(call)]
        else:
            continue
        for assigned in targets:
            if isinstance(assigned, cst.Subscript):
                assigned = assigned.value  # `X[key] = ...` fills the memo X
            name = assigned if isinstance(assigned, str) else dotted_name(assigned) if assigned is not None else None
            if name is not None:
                found.add(name)
    return frozenset(found)


def _setattr_target(call: cst.Call) -> str | None:
    owner = dotted_name(call.args[0].value)
    name = call.args[1].value
    if owner and isinstance(name, cst.SimpleString) and isinstance(name.evaluated_value, str):
        return f"{owner}.{name.evaluated_value}"
    return None
