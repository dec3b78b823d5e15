"""Predicates several rules share that need the context (scopes, resolution).

Static tables belong in `knowledge`; this module answers questions about code:
is this function a FastAPI route handler? is this call spawning a task?
"""

from __future__ import annotations

import libcst as cst

from asynclint import knowledge
from asynclint.context import Context


def keyword(call: cst.Call, name: str) -> cst.Arg | None:
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == name:
            return arg
    return None


def has_star_kwargs(call: cst.Call) -> bool:
    """A `**kwargs` splat: any keyword may be in it, so the call's options are unknown."""
    return any(arg.star == "**" for arg in call.args)


def is_true(expr: cst.BaseExpression) -> bool:
    return isinstance(expr, cst.Name) and expr.value == "True"


def is_false(expr: cst.BaseExpression) -> bool:
    return isinstance(expr, cst.Name) and expr.value == "False"
