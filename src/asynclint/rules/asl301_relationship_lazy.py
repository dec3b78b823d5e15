"""ASL301 relationship-lazy: an ORM relationship that leaves `lazy=` at its default.

The default strategy (`lazy="select"`) loads a relationship implicitly on first
attribute access. Under asyncio that implicit I/O cannot run and raises
`MissingGreenlet`; in sync code it hides N+1 queries. Flags
`sqlalchemy.orm.relationship(...)` without `lazy=`, and SQLModel's
`Relationship(...)` without a `"lazy"` key in a dict-literal
`sa_relationship_kwargs`.

Only in a project that uses SQLAlchemy's asyncio extension: some module imports from
`sqlalchemy.ext.asyncio` or `sqlmodel.ext.asyncio` (the project index knows; without
it, this file itself). A sync-only ORM lazy-loads fine, and `lazy="raise"` would break it.

Not flagged: an explicit `lazy=` (whatever its value); an attribute annotated
`WriteOnlyMapped[...]` / `DynamicMapped[...]` (the annotation picks the
strategy); calls whose options are unknown (`*args`/`**kwargs` splats, a
non-literal `sa_relationship_kwargs`, 1.x-style positional arguments past the
second); a SQLModel `Relationship(sa_relationship=...)`, whose inner
`relationship(...)` is judged on its own.

Fix (unsafe: code that relied on the implicit load now raises): add
`lazy="raise"`; for SQLModel, add `"lazy": "raise"` to the
`sa_relationship_kwargs` dict, or pass `sa_relationship_kwargs={"lazy": "raise"}`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst

from asynclint import knowledge
from asynclint.analysis import imports_asyncio_orm, keyword
from asynclint.fixes import FixSpec, add_dict_entry, add_keyword
from asynclint.rule import Rule
from asynclint.scope import dotted_name

if TYPE_CHECKING:
    from asynclint.config import Settings

_RAISE = '"raise"'


class RelationshipLazy(Rule):
    code = "ASL301"
    index_family = "orm"
    name = "relationship-lazy"
    summary = "ORM relationship without an explicit `lazy=` loading strategy"
    tokens = ("relationship", "Relationship")

    @classmethod
    def mentioned(cls, text: str, settings: Settings) -> bool:
        names = knowledge.RELATIONSHIP_FUNCTIONS | knowledge.SQLMODEL_RELATIONSHIP
        return super().mentioned(text, settings) and knowledge.may_name(text, names)

    fix_applicability = "unsafe"

    def visit_Call(self, node: cst.Call) -> None:
        if not self._under_asyncio():
            return
        name = self.ctx.call_name(node)
        if name in knowledge.RELATIONSHIP_FUNCTIONS:
            self._check_relationship(node)
        elif name in knowledge.SQLMODEL_RELATIONSHIP:
            self._check_sqlmodel(node)

    def _under_asyncio(self) -> bool:
        project = self.ctx.project
        return (project is not None and project.asyncio_orm) or imports_asyncio_orm(self.ctx)

    def _check_relationship(self, node: cst.Call) -> None:
        if any(arg.star for arg in node.args) or keyword(node, "lazy") is not None:
            return
        # relationship(argument, secondary, ...): in SQLAlchemy 1.x `lazy` could be passed
        # positionally after many others; past the second, the options are unknown.
        if sum(1 for arg in node.args if arg.keyword is None) > 2:
            return
        if self._annotation_sets_strategy(node):
            return
        fix = FixSpec("unsafe", 'Add `lazy="raise"`', [(node, add_keyword(node, "lazy", cst.SimpleString(_RAISE)))])
        self.ctx.report(
            node,
            "`relationship()` without `lazy=`: any read of it that a query did not eager-load is an implicit "
            "lazy load, which raises MissingGreenlet under asyncio (an N+1 query in sync code)",
            fix=fix,
            help='Choose the strategy here: `lazy="raise"` (queries load it with `selectinload`/`joinedload`, and a '
            'missed one fails at this attribute) or `lazy="selectin"`',
        )

    def _check_sqlmodel(self, node: cst.Call) -> None:
        if any(arg.star for arg in node.args) or keyword(node, "sa_relationship") is not None:
            return
        if self._annotation_sets_strategy(node):
            return
        kwargs = keyword(node, "sa_relationship_kwargs")
        replacement: cst.BaseExpression
        if kwargs is None:
            literal = cst.Dict([cst.DictElement(cst.SimpleString('"lazy"'), cst.SimpleString(_RAISE))])
            replacement = add_keyword(node, "sa_relationship_kwargs", literal)
            fix = FixSpec("unsafe", 'Add `sa_relationship_kwargs={"lazy": "raise"}`', [(node, replacement)])
        else:
            keys = _literal_keys(kwargs.value)
            if keys is None or "lazy" in keys or not isinstance(kwargs.value, cst.Dict):
                return  # unknown contents (keys known only of a dict literal), or an explicit strategy
            replacement = add_dict_entry(kwargs.value, cst.SimpleString('"lazy"'), cst.SimpleString(_RAISE))
            fix = FixSpec("unsafe", 'Add `"lazy": "raise"` to `sa_relationship_kwargs`', [(kwargs.value, replacement)])
        self.ctx.report(
            node,
            '`Relationship()` without `"lazy"` in `sa_relationship_kwargs`: any read of it that a query did not '
            "eager-load is an implicit lazy load, which raises MissingGreenlet under asyncio (an N+1 query in "
            "sync code)",
            fix=fix,
            help='Choose a loading strategy, e.g. `sa_relationship_kwargs={"lazy": "selectin"}`',
        )

    def _annotation_sets_strategy(self, node: cst.Call) -> bool:
        """`books: WriteOnlyMapped[Book] = relationship()`: the annotation is the strategy."""
        parent = self.ctx.parent(node)
        if not isinstance(parent, cst.AnnAssign) or parent.value is not node:
            return False
        annotation = parent.annotation.annotation
        if isinstance(annotation, cst.SimpleString):
            source = annotation.evaluated_value
            if isinstance(source, bytes):  # b"...": not a forward reference
                return False
            try:
                annotation = cst.parse_expression(source)
            except Exception:  # not an expression: no evidence either way
                return False
        if isinstance(annotation, cst.Subscript):
            annotation = annotation.value
        # The class may come from SQLAlchemy or a project's re-export; only its name matters.
        text = self.ctx.qualname(annotation) or dotted_name(annotation)
        return text is not None and text.rsplit(".", 1)[-1] in knowledge.STRATEGY_ANNOTATIONS


def _literal_keys(expr: cst.BaseExpression) -> set[str | bytes] | None:
    """The keys of a dict literal with string keys; None when they cannot be known."""
    if not isinstance(expr, cst.Dict):
        return None
    keys: set[str | bytes] = set()
    for element in expr.elements:
        if not isinstance(element, cst.DictElement) or not isinstance(element.key, cst.SimpleString):
            return None
        keys.add(element.key.evaluated_value)
    return keys


RULE = RelationshipLazy
