"""What a rule proposes, and the text edits it becomes.

A rule describes a fix as node replacements (a FixSpec). The edit is derived
by rendering the module with the replacements made and comparing it with the
original text, so LibCST does the formatting (indentation of new blocks,
comments around them) and the edit covers only what really changed: every
byte outside it stays as it was.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar, cast, overload

import libcst as cst

from asynclint.diagnostics import Applicability, Edit, Fix
from asynclint.source import split_lines

if TYPE_CHECKING:
    from asynclint.context import Context
    from asynclint.positions import Locator
    from asynclint.scope import Binding, Scope

# What a fix puts in a node's place: a node, or several statements for one (ASL101's block
# and the line after it).
Replacement = cst.CSTNode | cst.FlattenSentinel[cst.CSTNode]


@dataclass
class FixSpec:
    applicability: Applicability
    message: str
    # (original node, replacement): made together in one rendering of the module.
    replacements: list[tuple[cst.CSTNode, Replacement]] = field(default_factory=list)
    # The replacement writes `asyncio.x` and the module does not import asyncio yet.
    needs_asyncio: bool = False


def asyncio_available(ctx: Context) -> bool | None:
    """Can a fix write `asyncio.x` here? False: yes, as is; True: yes, after adding
    `import asyncio`; None: no, because `asyncio` means something else here, or may not be
    bound yet when this line runs."""
    found = ctx.scope.lookup("asyncio")
    if found is None:
        return True
    if ctx.qualname(cst.Name("asyncio")) != "asyncio":
        return None
    scope, bindings = found
    if all(_only_for_type_checkers(ctx, binding.node) for binding in bindings):
        return None  # `if TYPE_CHECKING: import asyncio`: nothing is bound when it runs
    if scope.kind != "module" and not _bound_before(ctx, scope, bindings):
        return None  # a local `import asyncio` further down: UnboundLocalError until then
    return False


def _path_to(ctx: Context, node: cst.CSTNode) -> list[cst.CSTNode]:
    """The current stack from the module down to `node` (which must be on it)."""
    for index in range(len(ctx.stack) - 1, -1, -1):
        if ctx.stack[index] is node:
            return ctx.stack[: index + 1]
    return list(ctx.stack)


def _only_for_type_checkers(ctx: Context, node: cst.CSTNode | None) -> bool:
    """Is `node` (a statement binding a name) in the body of `if TYPE_CHECKING:`?"""
    hidden = cast("set[int] | None", ctx.cache.get("type-checking imports"))  # set only here
    if hidden is None:
        hidden = ctx.cache["type-checking imports"] = _type_checking_imports(ctx.module)
    return node is not None and id(node) in hidden


def _type_checking_imports(module: cst.Module) -> set[int]:
    """The ids of the imports in `if TYPE_CHECKING:` bodies (their `else` runs)."""
    from asynclint.scope import dotted_name
    from asynclint.walk import walk

    found: set[int] = set()

    def collect(node: cst.CSTNode) -> bool:
        if isinstance(node, (cst.Import, cst.ImportFrom)):
            found.add(id(node))
        return True

    def enter(node: cst.CSTNode) -> bool:
        if isinstance(node, cst.If) and dotted_name(node.test) in ("TYPE_CHECKING", "typing.TYPE_CHECKING"):
            walk(node.body, collect)
        # Imports are statements: no need to look inside expressions.
        return not isinstance(node, cst.BaseExpression)

    walk(module, enter)
    return found


def _bound_before(ctx: Context, scope: Scope, bindings: list[Binding]) -> bool:
    """In the function that binds `asyncio` locally: is one binding an import among the
    function's own statements (not under an `if`, a loop or a `try`), before the statement
    being fixed? Only then is the name bound whenever this statement runs."""
    function = scope.node
    body = getattr(getattr(function, "body", None), "body", None)
    if not isinstance(body, (list, tuple)):
        return False
    path = ctx.stack
    here = next((statement for statement in path if any(statement is s for s in body)), None)
    if here is None:
        return False
    position = next(i for i, statement in enumerate(body) if statement is here)
    for binding in bindings:
        if binding.kind != "import":
            continue
        for i in range(position):
            statement = body[i]
            if isinstance(statement, cst.SimpleStatementLine) and any(part is binding.node for part in statement.body):
                return True
    return False


class _Comments(cst.CSTVisitor):
    def __init__(self, skip: list[cst.CSTNode]) -> None:
        super().__init__()
        self.skip = skip
        self.found: list[str] = []

    def on_visit(self, node: cst.CSTNode) -> bool:
        if any(node is skipped for skipped in self.skip):
            return False
        if isinstance(node, cst.Comment):
            self.found.append(node.value)
        return True


def comments_in(node: cst.CSTNode, skip: Iterable[cst.CSTNode] = ()) -> list[str]:
    """The comments written inside `node`, in order, but not those inside `skip`'s nodes
    (which a rewrite keeps whole, comments and all)."""
    visitor = _Comments(list(skip))
    node.visit(visitor)
    return visitor.found


def with_comments(line: cst.TrailingWhitespace, comments: list[str]) -> cst.TrailingWhitespace:
    """`line`'s end with `comments` after the one it has: a rewrite that takes a call apart
    moves its comments to the lines their parts go to, rather than dropping them."""
    if not comments:
        return line
    texts = [line.comment.value] if line.comment is not None else []
    whitespace = line.whitespace if line.comment is not None else cst.SimpleWhitespace("  ")
    return line.with_changes(whitespace=whitespace, comment=cst.Comment("  ".join(texts + comments)))


def await_allowed(ctx: Context, node: cst.CSTNode) -> bool:
    """Can `await` be put at `node` (in an async function) without changing what the code
    around it is? Not inside a generator expression, which would become an async generator
    that `any()`, `list()`, `"".join()` and every other sync consumer reject (its first
    iterable runs outside it, so there it can); nor in a lambda or an annotation."""
    path = _path_to(ctx, node)
    for depth in range(len(path) - 2, -1, -1):
        above, below = path[depth], path[depth + 1]
        if isinstance(above, cst.FunctionDef):
            return True
        if isinstance(above, (cst.Lambda, cst.Annotation)):
            return False
        if isinstance(above, cst.GeneratorExp):
            first_iterable = below is above.for_in and depth + 2 < len(path) and path[depth + 2] is above.for_in.iter
            if not first_iterable:
                return False
    return True


def add_keyword(call: cst.Call, name: str, value: cst.BaseExpression) -> cst.Call:
    """`f(a, b=1)` -> `f(a, b=1, name=value)` in the call's own layout: a one-line call
    stays on one line; with one argument per line the new one gets its own line, and a
    trailing comma or a comment after the last argument stays where it was."""
    new = cst.Arg(
        value=value,
        keyword=cst.Name(name),
        equal=cst.AssignEqual(whitespace_before=cst.SimpleWhitespace(""), whitespace_after=cst.SimpleWhitespace("")),
    )
    if not call.args:
        return call.with_changes(args=[new])
    last = call.args[-1]
    if isinstance(last.comma, cst.Comma):
        last, new = _after_item(list(call.args), call.whitespace_before_args, new)
        return call.with_changes(args=[*call.args[:-1], last, new])
    last, new, tail = _after_item(list(call.args), call.whitespace_before_args, new, last.whitespace_after_arg)
    return call.with_changes(
        args=[
            *call.args[:-1],
            last.with_changes(whitespace_after_arg=cst.SimpleWhitespace("")),
            new.with_changes(whitespace_after_arg=tail),
        ]
    )


def add_dict_entry(mapping: cst.Dict, key: cst.BaseExpression, value: cst.BaseExpression) -> cst.Dict:
    """`{"a": 1}` -> `{"a": 1, key: value}`, in the dict's own layout (see `add_keyword`)."""
    new: cst.BaseDictElement = cst.DictElement(key, value)
    if not mapping.elements:
        return mapping.with_changes(elements=[new])
    last = mapping.elements[-1]
    if isinstance(last.comma, cst.Comma):
        last, new = _after_item(list(mapping.elements), mapping.lbrace.whitespace_after, new)
        return mapping.with_changes(elements=[*mapping.elements[:-1], last, new])
    last, new, tail = _after_item(
        list(mapping.elements), mapping.lbrace.whitespace_after, new, mapping.rbrace.whitespace_before
    )
    return mapping.with_changes(
        elements=[*mapping.elements[:-1], last, new], rbrace=mapping.rbrace.with_changes(whitespace_before=tail)
    )


_Item = TypeVar("_Item", cst.Arg, cst.BaseDictElement)


@overload
def _after_item(
    items: Sequence[_Item], opening: cst.BaseParenthesizableWhitespace, new: _Item
) -> tuple[_Item, _Item]: ...


@overload
def _after_item(
    items: Sequence[_Item],
    opening: cst.BaseParenthesizableWhitespace,
    new: _Item,
    tail: cst.BaseParenthesizableWhitespace,
) -> tuple[_Item, _Item, cst.BaseParenthesizableWhitespace]: ...


def _after_item(
    items: Sequence[_Item],
    opening: cst.BaseParenthesizableWhitespace,
    new: _Item,
    tail: cst.BaseParenthesizableWhitespace | None = None,
) -> tuple[_Item, _Item] | tuple[_Item, _Item, cst.BaseParenthesizableWhitespace]:
    """Put `new` after the last of `items`. `tail` is the whitespace before the closing
    bracket when the last item has no comma (None: it has one, and that comma's whitespace
    is the tail). Returns the last item and `new` rewritten, and the new tail if given."""
    last = items[-1]
    # How two items are separated here: a newline and the items' indentation, or `, `.
    previous = items[-2].comma if len(items) > 1 else None
    if isinstance(previous, cst.Comma):
        between = previous.whitespace_after
    elif isinstance(opening, cst.ParenthesizedWhitespace):
        between = opening
    else:
        between = cst.SimpleWhitespace(" ")
    if isinstance(between, cst.ParenthesizedWhitespace):
        between = cst.ParenthesizedWhitespace(indent=between.indent, last_line=between.last_line)  # no comment copied
    trailing = tail is None
    # No tail: the caller has seen that the last item has a comma.
    end = tail if tail is not None else cast(cst.Comma, last.comma).whitespace_after
    if isinstance(end, cst.ParenthesizedWhitespace) and isinstance(between, cst.ParenthesizedWhitespace):
        # One item per line: the last item keeps its comment, the new item goes on the next line.
        separator = cst.Comma(
            whitespace_after=end.with_changes(empty_lines=[], indent=between.indent, last_line=between.last_line)
        )
        end = cst.ParenthesizedWhitespace(empty_lines=end.empty_lines, indent=end.indent, last_line=end.last_line)
    else:
        separator = cst.Comma(whitespace_after=between)
    last = last.with_changes(comma=separator)
    if trailing:
        return last, new.with_changes(comma=cst.Comma(whitespace_after=end))
    return last, new, end


class _Replace(cst.CSTTransformer):
    def __init__(self, replacements: dict[cst.CSTNode, Replacement]) -> None:
        super().__init__()
        self.replacements = replacements

    # A replacement may be any node (an Await for a Call), which LibCST's signature, tying
    # the result to the original's type, cannot say.
    def on_leave(self, original_node: cst.CSTNode, updated_node: cst.CSTNode) -> Replacement:  # type: ignore[override]
        return self.replacements.get(original_node, updated_node)


class _LineIndex:
    """Offsets in the text <-> 1-based (row, column)."""

    def __init__(self, text: str) -> None:
        self.starts = [0]
        for line in split_lines(text, keepends=True):
            self.starts.append(self.starts[-1] + len(line))

    def position(self, offset: int) -> tuple[int, int]:
        low, high = 0, len(self.starts) - 1
        while low < high:  # the last line start <= offset
            mid = (low + high + 1) // 2
            if self.starts[mid] <= offset:
                low = mid
            else:
                high = mid - 1
        return low + 1, offset - self.starts[low] + 1


def _edit_between(old: str, new: str, index: _LineIndex) -> Edit | None:
    if old == new:
        return None
    limit = min(len(old), len(new))
    start = 0
    while start < limit and old[start] == new[start]:
        start += 1
    end_old, end_new = len(old), len(new)
    while end_old > start and end_new > start and old[end_old - 1] == new[end_new - 1]:
        end_old -= 1
        end_new -= 1
    row, col = index.position(start)
    end_row, end_col = index.position(end_old)
    return Edit(new[start:end_new], row, col, end_row, end_col)


def _import_asyncio_edit(module: cst.Module) -> Edit | None:
    """`import asyncio`, after the docstring and `__future__` imports, with the other imports."""
    body = list(module.body)
    position = 0
    for i, statement in enumerate(body):
        if not isinstance(statement, cst.SimpleStatementLine):
            break
        first = statement.body[0]
        is_docstring = (
            i == 0
            and isinstance(first, cst.Expr)
            and isinstance(first.value, (cst.SimpleString, cst.ConcatenatedString))
        )
        is_future = (
            isinstance(first, cst.ImportFrom)
            and isinstance(first.module, cst.Name)
            and first.module.value == "__future__"
        )
        if is_docstring or is_future:
            position = i + 1
        else:
            break
    for i in range(position, len(body)):
        statement = body[i]
        if isinstance(statement, cst.SimpleStatementLine) and isinstance(
            statement.body[0], (cst.Import, cst.ImportFrom)
        ):
            position = i
            break
    # Where statement `position` starts, after the comments above it: only the text
    # before that point is rendered.
    before = "".join(module.code_for_node(node) for node in [*module.header, *body[:position]])
    if position < len(body):
        before += "".join(module.code_for_node(line) for line in body[position].leading_lines)
    elif before and not before.endswith(("\n", "\r")):
        row, col = _LineIndex(before).position(len(before))
        return Edit(module.default_newline + "import asyncio", row, col, row, col)
    row, col = _LineIndex(before).position(len(before))
    return Edit("import asyncio" + module.default_newline, row, col, row, col)


def _lacks_final_newline(module: cst.Module, statement: cst.CSTNode, rendered: str) -> bool:
    """The statement is the last thing in a file without a final newline: rendered
    alone, it ends with a newline that is not in the text."""
    return (
        not module.has_trailing_newline
        and not module.footer
        and module.body[-1] is statement
        and rendered.endswith(module.default_newline)
    )


def _edit_at_end_of_file(before: str, after: str, edit: Edit, newline: str) -> Edit:
    """`edit` turns `before` into `after`; the text holds `before` without its final
    newline. An edit that ends before that newline applies as it is (the file still ends
    without one). One that reaches it, say a line added at the end, replaces the rest of
    the text with the rest of `after`: the new last line ends with a newline."""
    index = _LineIndex(before)
    text_end = len(before) - len(newline)
    end = index.starts[edit.end_row - 1] + edit.end_col - 1
    if end <= text_end:
        return edit
    start = min(index.starts[edit.row - 1] + edit.col - 1, text_end)
    row, col = index.position(start)
    end_row, end_col = index.position(text_end)
    return Edit(after[start:], row, col, end_row, end_col)


def _indenting(module: cst.Module) -> cst.Module:
    """`module` with an indentation unit a new block can take (`positions.indent_unit`)."""
    from asynclint.positions import indent_unit

    if "\f" not in module.default_indent:
        return module
    return module.with_changes(default_indent=indent_unit(module))


def build_fix(
    spec: FixSpec,
    module: cst.Module,
    statement: cst.CSTNode | None = None,
    first_row: int | None = None,
    locator: Locator | None = None,
) -> Fix | None:
    replacements = dict(spec.replacements)
    local = locator.enclosing(list(replacements), statement) if locator is not None else None
    after = None
    if local is not None:
        from asynclint.positions import render

        # Render only the innermost statement around the replaced nodes, indented as in
        # the file: a fix inside a 2,000-line class costs as much as its own statement.
        inner, inner_row, indents, before = local
        replaced = inner.visit(_Replace(replacements))
        if isinstance(replaced, cst.CSTNode):
            after = render(module, replaced, indents)
    if after is not None:
        edit = _edit_between(before, after, _LineIndex(before))
        # `locator` is not None here (`local` came from it); the test is for the type checker.
        if edit is not None and locator is not None and locator.past_end(inner):
            edit = _edit_at_end_of_file(before, after, edit, module.default_newline)
        edit = edit and Edit(
            edit.content, edit.row + inner_row - 1, edit.col, edit.end_row + inner_row - 1, edit.end_col
        )
    elif statement is not None and first_row is not None and statement in module.body:
        # Render just the module-level statement that holds the finding (`first_row` is
        # the row of its first leading line): a fix in a large file then costs as much
        # as the statement, not the file.
        before = module.code_for_node(statement)
        # A FlattenSentinel would fail here: no rule replaces a module-level statement with
        # several (ASL101's only replaces lines inside async functions).
        after = _indenting(module).code_for_node(statement.visit(_Replace(replacements)))  # type: ignore[arg-type]
        edit = _edit_between(before, after, _LineIndex(before))
        if edit is not None and _lacks_final_newline(module, statement, before):
            edit = _edit_at_end_of_file(before, after, edit, module.default_newline)
        edit = edit and Edit(
            edit.content, edit.row + first_row - 1, edit.col, edit.end_row + first_row - 1, edit.end_col
        )
    else:
        original = module.code
        edit = _edit_between(original, _indenting(module).visit(_Replace(replacements)).code, _LineIndex(original))
    if edit is None:
        return None
    edits = [edit]
    if spec.needs_asyncio:
        import_edit = _import_asyncio_edit(module)
        if import_edit is not None:
            edits.insert(0, import_edit)
    return Fix(spec.applicability, spec.message, tuple(edits))
