"""Generators and invariants for tests/test_fuzz.py.

Three sources of input:
- `backend_programs()`: async backend modules assembled from building blocks (imports with and
  without aliases, async/sync defs, nested defs, lambdas, try/except CancelledError, gather,
  create_task, wait_for, TaskGroup, SQLAlchemy engines/sessions/relationships ...), rendered with
  random indentation (spaces or tabs), line endings (LF or CRLF), trailing whitespace, comments
  in odd places and blank lines, so that the rules and their fixes meet many variations;
- hypothesmith's grammar- and node-based programs (in the test module);
- `mutate()`d real fixture files: lines deleted, duplicated, swapped, garbage inserted,
  indentation broken, truncation, lines holding only a backslash, form feeds in the
  indentation, no final newline.

And the invariants every input must satisfy: `check_lint` (the engine never raises nor records an
internal error; every finding has valid 1-based positions inside the text; every fix's edits lie
inside the text and keep every byte outside them) and `check_fix` (`--fix --unsafe-fixes` output
parses, compiles when the input compiled, keeps line endings, is idempotent, and removes the
findings it fixed).
"""

from __future__ import annotations

import ast
import contextlib
import os
import re
import warnings
from dataclasses import dataclass
from pathlib import Path

import libcst as cst
from hypothesis import strategies as st

from asynclint.config import Settings
from asynclint.diagnostics import Diagnostic, Edit
from asynclint.engine import lint_text, rules_for
from asynclint.fixer import apply_edits, fix_text
from asynclint.registry import OPT_IN
from asynclint.source import UnreadableSource, decode, split_lines

PATH = "fuzz.py"
# Every rule, the opt-in ones too: their fixes are fuzzed like the others'.
SETTINGS = Settings(extend_select=tuple(sorted(OPT_IN)))
ALONE = 3  # how many fixes per input check_fix also applies one by one

FIXTURES = Path(__file__).parent / "fixtures"


def examples(fast: int) -> int:
    """`fast` examples in the normal test run; ASYNCLINT_FUZZ_EXAMPLES=N for the long profile."""
    value = os.environ.get("ASYNCLINT_FUZZ_EXAMPLES", "").strip()
    return int(value) if value else fast


def long_profile() -> bool:
    return bool(os.environ.get("ASYNCLINT_FUZZ_EXAMPLES", "").strip())


# ---------------------------------------------------------------------------------------------
# Invariants


def compiles(text: str) -> bool:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compile(text, PATH, "exec", dont_inherit=True)
        return True
    except (SyntaxError, ValueError, RecursionError, MemoryError, OverflowError):
        return False  # (a lone surrogate: UnicodeEncodeError, a ValueError)


def cpython_parses(text: str) -> bool:
    """CPython's parser (as the engine's precheck runs it) accepts the text."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ast.parse(text)
        return True
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False


def encodable(text: str) -> bool:
    """No lone surrogate: text a parser can take at all (else ASL002)."""
    try:
        text.encode("utf-8")
        return True
    except UnicodeEncodeError:
        return False


def cst_parses(text: str) -> bool:
    try:
        cst.parse_module(text)
        return True
    except (cst.ParserSyntaxError, RecursionError, UnicodeEncodeError):
        return False


_BACKSLASH_LINE = re.compile(r"[ \t\f]*\\(?:\r\n|\r|\n)")


def cst_misreads(text: str) -> bool:
    """LibCST parses the text but its module is not the program. Its rendering of the module
    may leave out (some) lines holding only a backslash, the indentation up to a form feed,
    a last empty line, a byte order mark at the start; anything else differing means it
    misread the text (when the line after a lone backslash changes the indentation, it
    re-indents that line into the block above)."""
    try:
        rendered = cst.parse_module(text).code
    except (cst.ParserSyntaxError, RecursionError, UnicodeEncodeError):
        return False
    if rendered == text:
        return False
    lines = split_lines(text, keepends=True)

    def same(index: int, line: str) -> bool:
        have = lines[index].rstrip("\r\n")
        if index == 0 and have.startswith("\ufeff"):
            have = have[1:]
        indent = have[: len(have) - len(have.lstrip(" \t\f"))]
        return have == line or ("\f" in indent and have[indent.rindex("\f") + 1 :] == line)

    index = 0
    for line in split_lines(rendered):
        while index < len(lines) and not same(index, line):
            if not _BACKSLASH_LINE.fullmatch(lines[index]):
                return True
            index += 1
        if index == len(lines):
            return True
        index += 1
    rest = [line.lstrip("\ufeff") if index == 0 else line for line in lines[index:]]
    return not all(_BACKSLASH_LINE.fullmatch(line) or not line.strip("\r\n") for line in rest)


def _offsets(lines: list[str]) -> list[int]:
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))
    return starts


def _check_position(
    row: int, col: int, lines: list[str], what: str, *, end: bool = False, line_end: bool = True
) -> None:
    """1-based row/col inside the text. A start is on a line of the text (row 1 col 1 for an
    empty text); an edit's end may also be the point just past the last line. `line_end=False`
    skips the check that the column is within its line."""
    count = len(lines)
    assert row >= 1 and col >= 1, f"{what}: position {row}:{col} is not 1-based"
    if end and row == count + 1:
        assert col == 1, f"{what}: {row}:{col} is past the end of the text"
        return
    assert row <= max(count, 1), f"{what}: row {row} is past the last line ({count})"
    if count and line_end:
        length = len(lines[row - 1].rstrip("\r\n"))
        assert col <= length + 1, f"{what}: column {col} is past the end of line {row} ({length} chars)"


def check_diagnostic(diagnostic: Diagnostic, text: str) -> None:
    lines = split_lines(text, keepends=True)
    what = f"{diagnostic.code} at {diagnostic.row}:{diagnostic.col}"
    assert diagnostic.code.startswith("ASL") and len(diagnostic.code) == 6, what
    assert diagnostic.message, what
    _check_position(diagnostic.row, diagnostic.col, lines, what)
    _check_position(diagnostic.end_row, diagnostic.end_col, lines, what + " (end)", end=True)
    assert (diagnostic.row, diagnostic.col) <= (diagnostic.end_row, diagnostic.end_col), what
    if diagnostic.fix is None:
        return
    assert diagnostic.fix.applicability in ("safe", "unsafe"), what
    assert diagnostic.fix.edits, f"{what}: a fix without edits"
    for edit in diagnostic.fix.edits:
        _check_position(edit.row, edit.col, lines, f"{what}: edit start", end=True)
        _check_position(edit.end_row, edit.end_col, lines, f"{what}: edit end", end=True)
        assert (edit.row, edit.col) <= (edit.end_row, edit.end_col), f"{what}: edit ends before it starts"
    check_edits_keep_outside(diagnostic.fix.edits, text, what)


def check_edits_keep_outside(edits: tuple[Edit, ...], text: str, what: str) -> None:
    """Applying one finding's edits changes nothing before its first edit's start or after its
    last edit's end."""
    starts = _offsets(split_lines(text, keepends=True))
    spans = [(starts[e.row - 1] + e.col - 1, starts[e.end_row - 1] + e.end_col - 1) for e in edits]
    first = min(start for start, _ in spans)
    last = max(end for _, end in spans)
    fixed = apply_edits(text, list(edits))
    assert fixed[:first] == text[:first], f"{what}: the fix changed text before its first edit"
    tail = len(text) - last
    assert fixed[len(fixed) - tail :] == text[last:], f"{what}: the fix changed text after its last edit"


def check_lint(text: str, settings: Settings = SETTINGS):
    result = lint_text(text, PATH, settings)
    assert not result.errors, "\n".join(f"{e.rule}: {e.detail}" for e in result.errors)
    for diagnostic in result.diagnostics:
        check_diagnostic(diagnostic, text)
    codes = {d.code for d in result.diagnostics}
    if not encodable(text):
        # A lone surrogate: ASL002 (unless a `# noqa` suppressed it), and nothing else.
        assert codes <= {"ASL002"}, f"findings other than ASL002 on text that is not valid Unicode: {codes}"
        if "ASL002" in settings.codes_for(PATH) and not codes:
            unfiltered = lint_text(text, PATH, settings, apply_noqa=False)
            assert {d.code for d in unfiltered.diagnostics} <= {"ASL002"}
    elif cst_parses(text) and not cst_misreads(text):
        assert "ASL001" not in codes, "ASL001 on text LibCST parses"
    else:
        # LibCST cannot parse it, or misreads it: no finding from its misreading.
        assert codes <= {"ASL001"}, f"findings from a module LibCST misreads: {codes}"
        if "ASL001" in settings.codes_for(PATH) and "ASL001" not in codes and must_report_syntax(text, settings):
            # Unless a `# noqa` suppressed it.
            unfiltered = lint_text(text, PATH, settings, apply_noqa=False)
            assert "ASL001" in {d.code for d in unfiltered.diagnostics}, "no ASL001 on text LibCST cannot parse"
    return result


def must_report_syntax(text: str, settings: Settings) -> bool:
    """Text LibCST cannot parse needs an ASL001 when CPython rejects it too (a syntax error),
    or when the engine had to parse it: some rule might match (its tokens are in the text).
    Text CPython accepts and no rule can match needs no parse, so no ASL001 (LibCST rejects
    some valid code, e.g. `\\` and a line ending as the last line)."""
    if not cpython_parses(text):
        return True
    return any(rule.wants(text, settings) for rule in rules_for(settings, PATH))


def _line_endings(text: str) -> set[str]:
    found = set()
    rest = text.replace("\r\n", "")
    if "\r\n" in text:
        found.add("\r\n")
    if "\n" in rest:
        found.add("\n")
    if "\r" in rest:
        found.add("\r")
    return found


def check_fix(text: str, settings: Settings = SETTINGS):
    before = check_lint(text, settings)
    outcome = fix_text(text, PATH, settings, unsafe=True)
    assert not outcome.failures, f"fixes dropped: {outcome.failures}"
    if not cst_parses(text):
        assert outcome.text == text and not outcome.fixed, "a file that does not parse was changed"
        return outcome
    assert cst_parses(outcome.text), "the fixed text does not parse"
    compiled = compiles(text)
    if compiled:
        assert compiles(outcome.text), "the text compiled before the fixes, not after"
    # A file with one kind of line ending keeps it.
    endings = _line_endings(text)
    if len(endings) == 1:
        assert _line_endings(outcome.text) <= endings, "the fixes brought in another line ending"
    if not outcome.fixed:
        assert outcome.text == text
    # Idempotent: a second run finds nothing more to fix.
    again = fix_text(outcome.text, PATH, settings, unsafe=True)
    assert again.text == outcome.text and not again.fixed, "a second --fix changed the text again"
    # What was fixed is gone: no fixable finding is left ...
    assert not [d for d in outcome.remaining if d.fix is not None], "a fixable finding was left"
    # ... and each fix, applied alone to the original text, parses and takes its own finding
    # away. (A fix may make findings of other codes appear: adding `import asyncio` makes
    # `asyncio.run(...)` resolvable, and a gather rewritten to a TaskGroup inside
    # `try: ... except ValueError:` is then an ASL105.) Checked for a few, to bound the time.
    for diagnostic in [d for d in before.diagnostics if d.fix is not None][:ALONE]:
        alone = apply_edits(text, list(diagnostic.fix.edits))
        where = f"the fix for {diagnostic.code} at {diagnostic.row}:{diagnostic.col}"
        assert cst_parses(alone), f"{where}, applied alone, does not parse"
        if compiled:
            assert compiles(alone), f"{where}, applied alone, does not compile"
        assert not still_there(diagnostic, text, alone, before.diagnostics, settings), (
            f"{where}, applied alone, leaves its finding"
        )
    # Findings in the fixed text are well-formed too.
    for diagnostic in outcome.remaining:
        check_diagnostic(diagnostic, outcome.text)
    return outcome


def still_there(diagnostic: Diagnostic, text: str, fixed: str, before: list[Diagnostic], settings: Settings) -> bool:
    """Is the finding its fix was for still in the fixed text? Findings of its code count
    if they start inside the new content of an edit, or outside the edits where such a
    finding was before; one that appears elsewhere is new (`import asyncio` added by the
    fix makes `asyncio.gather(...)` resolvable where only `aio.gather` was before)."""
    old = _offsets(split_lines(text, keepends=True))
    new = _offsets(split_lines(fixed, keepends=True))
    spans = sorted(
        {(old[e.row - 1] + e.col - 1, old[e.end_row - 1] + e.end_col - 1, e.content) for e in diagnostic.fix.edits}
    )
    same = [d for d in before if d.code == diagnostic.code]
    was = {old[d.row - 1] + d.col - 1 for d in same}
    count = 0
    for d in lint_text(fixed, PATH, settings).diagnostics:
        if d.code != diagnostic.code:
            continue
        offset = new[d.row - 1] + d.col - 1
        grown = 0
        inside = False
        for start, end, content in spans:
            if offset < start + grown:
                break
            if offset < start + grown + len(content):
                inside = True
                break
            grown += len(content) - (end - start)
        if inside or offset - grown in was:
            count += 1
    return count >= len(same)


# ---------------------------------------------------------------------------------------------
# Async backend programs from building blocks


@dataclass
class Names:
    """How the program can spell things, after its imports."""

    sleep: list[str]  # time.sleep
    aio: list[str]  # prefixes for asyncio attributes: "asyncio.", "aio."
    direct: set[str]  # names imported from asyncio
    relationship: list[str]
    engine: list[str]  # create_async_engine / create_engine
    sessionmaker: list[str]
    session_class: list[str]

    def asyncio_name(self, draw, attr: str) -> str:
        options = [prefix + attr for prefix in self.aio]
        if attr in self.direct:
            options.append(attr)
        # Now and then `asyncio.X` also when asyncio was not imported (nothing to flag then).
        return self.pick(draw, options, "asyncio." + attr)

    @staticmethod
    def pick(draw, options: list[str], fallback: str | None = None) -> str:
        """One of `options`, mostly the first ones (those the imports bound); the fallback or
        the last option (unresolved) one time in five."""
        if fallback is not None:
            options = [*options, fallback]
        if len(options) > 1 and draw(st.integers(0, 4)) == 0:
            return options[-1]
        return draw(st.sampled_from(options[:-1] or options))


# Each: (import line, what it makes available)
TIME_IMPORTS = [
    ("import time", {"sleep": "time.sleep"}),
    ("import time as t", {"sleep": "t.sleep"}),
    ("from time import sleep", {"sleep": "sleep"}),
    ("from time import sleep as nap", {"sleep": "nap"}),
    ("import time, asyncio", {"sleep": "time.sleep", "aio": "asyncio."}),
    ("import os, time as clock", {"sleep": "clock.sleep"}),
]
ASYNCIO_IMPORTS = [
    ("import asyncio", {"aio": "asyncio."}),
    ("import asyncio as aio", {"aio": "aio."}),
    ("import asyncio, time", {"aio": "asyncio.", "sleep": "time.sleep"}),
    (
        "from asyncio import gather, create_task, wait_for, CancelledError, TaskGroup",
        {"direct": "gather create_task wait_for CancelledError TaskGroup"},
    ),
    ("from asyncio import (\n    gather as gather_all,  # alias\n    CancelledError,\n)", {"direct": "CancelledError"}),
    ("asyncio = None  # shadows the module", {}),
]
SQLA_IMPORTS = [
    ("from sqlalchemy.orm import relationship", {"relationship": "relationship"}),
    ("from sqlalchemy import orm", {"relationship": "orm.relationship"}),
    ("from sqlmodel import Relationship", {"relationship": "Relationship"}),
    (
        "from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine",
        {"engine": "create_async_engine", "sessionmaker": "async_sessionmaker", "session_class": "AsyncSession"},
    ),
    (
        "import sqlalchemy.ext.asyncio as sa_async",
        {
            "engine": "sa_async.create_async_engine",
            "sessionmaker": "sa_async.async_sessionmaker",
            "session_class": "sa_async.AsyncSession",
        },
    ),
    ("from sqlalchemy import create_engine", {"engine": "create_engine"}),
    ("from sqlalchemy.orm import sessionmaker", {"sessionmaker": "sessionmaker"}),
]
SQLA_IMPORTS += SQLA_IMPORTS[3:5]  # the async session names, twice as likely
OTHER_IMPORTS = [
    "import requests",
    "import subprocess",
    "import httpx",
    "from pathlib import Path",
    "from fastapi import Depends, FastAPI",
    "import logging",
    "from typing import Annotated",
]


def _names(chosen: list[dict]) -> Names:
    names = Names([], [], set(), [], [], [], [])
    for provided in chosen:
        for key, value in provided.items():
            if key == "direct":
                names.direct.update(value.split())
            else:
                target = getattr(names, key)
                if value not in target:
                    target.append(value)
    # Unresolvable spellings keep the rules honest (nothing may be flagged) and the fallback
    # spellings make sure the statements can always be built.
    names.sleep.append("time.sleep")
    names.relationship.append("relationship")
    names.engine.append("create_async_engine")
    names.sessionmaker.append("async_sessionmaker")
    names.session_class.append("AsyncSession")
    return names


# A rendered line: (relative depth, text, may-end-with-noise). Noise (trailing whitespace or a
# comment) is never added after a backslash continuation.
Line = tuple[int, str, bool]

ARGS = st.sampled_from(["1", "0.5", "delay", "delay * 2", "", "seconds=1", "*args", "(1)", "1,", "x if x else 0"])
COROS = st.lists(
    st.sampled_from(["f()", "g(1)", "fetch(n)", "obj.method()", "h(x, y=2)", "job(*a)"]), min_size=1, max_size=4
)


def _one(text: str) -> list[Line]:
    return [(0, text, True)]


class _Spellings(dict):
    """format_map() fields drawn only when a template uses them: `{sleep}` for time.sleep,
    `{aio.gather}` for asyncio.gather as this program can spell it, `{arg}`, `{coros}`."""

    def __init__(self, draw, names: Names) -> None:
        super().__init__()
        self.draw = draw
        self.names = names

    def __missing__(self, key: str):
        draw = self.draw
        if key == "sleep":
            value = self.names.pick(draw, self.names.sleep)
        elif key == "arg":
            value = draw(ARGS)
        elif key == "coros":
            value = ", ".join(draw(COROS))
        elif key == "aio":
            value = _AsyncioNames(draw, self.names)
        else:
            raise KeyError(key)
        self[key] = value
        return value


class _AsyncioNames:
    def __init__(self, draw, names: Names) -> None:
        self.draw = draw
        self.names = names

    def __getattr__(self, attr: str) -> str:
        return self.names.asyncio_name(self.draw, attr)


# Statements with a fix (in async code, when the names resolve), drawn half of the time.
FIXABLE_ASYNC = [
    "{sleep}({arg})",
    "result = {sleep}({arg})",
    "{sleep}({arg})  # noqa: ASL201",
    "{sleep} \\\n    (1)",
    "{sleep}(  # why\n    1,\n)",
    "await {aio.gather}({coros})",
    "results = await {aio.gather}({coros})",
    "a, b = await {aio.gather}(f(), g())",
    "first, *rest = await {aio.gather}({coros})",
    "values: list[int] = await {aio.gather}({coros})",
    "await {aio.gather}(  # odd comment\n    f(),\n    g(),  # another\n)",
    "await {aio.gather}(\n\tf(),\n        g())",
    "await {aio.wait_for}(f(), 1)",
    "value = await {aio.wait_for}(f(), timeout=2)",
    "return await {aio.wait_for}(f(), t)",
    "await {aio.wait_for}(\n    f(),  # the job\n    timeout=3,\n)",
    "await {aio.wait_for}({aio.shield}(f()), 1)",
    "session.commit()",
    "(session.rollback())",
    "result = session.execute(query)",
    "rows = session.scalars(query).all()",
    "session.flush(\n    [obj],\n)",
    "return session.get(Model, 1)",
]
OTHER = [
    "a = 1; {sleep}({arg})",
    "{sleep}({arg}); b = 2",
    "print({sleep}({arg}))",
    "{aio.create_task}(f())",
    "task = {aio.create_task}(f())",
    "{aio.ensure_future}(f())",
    "loop.create_task(f())",
    "{aio.get_running_loop}().create_task(f())",
    "tg.create_task(f())",
    "{aio.run}(main())",
    "loop.run_until_complete(main())",
    "session.add(obj)",
    "requests.get(url)",
    "response = requests.post(url, json=data)",
    "subprocess.run(['ls'])",
    "data = open(path).read()",
    "text = Path(path).read_text()",
    "cb = lambda: {sleep}(1)",
    "cb = lambda s=session: s.commit()",
    "handlers = [lambda: {sleep}(i) for i in range(3)]",
    "pass",
    "x = 1",
    "...",
    "log.info('x %s', x)",
    "value = f'{{x!r:>10}}'",
    "del x",
    "assert x, 'message'",
]
OTHER_IN_FUNCTION = ["global counter", "return None", "return"]
OTHER_IN_LOOP = ["continue", "break"]
OTHER_ASYNC = [
    "await {aio.sleep}({arg})",
    "await {aio.gather}(*coros)",
    "await {aio.gather}({coros}, return_exceptions=True)",
    "x = y = await {aio.gather}({coros})",
    "return await {aio.gather}({coros})",
    "await session.commit()",
    "await (session.commit())",
    "result = await session.execute(query)",
    "await asyncio.to_thread(time.sleep, 1)",
    "x = await f()",
    "async for item in stream(): pass",
    "async with lock: pass",
]


@st.composite
def simple_statement(draw, names: Names, is_async: bool, in_function: bool = True, in_loop: bool = False) -> list[Line]:
    if is_async and draw(st.booleans()):
        template = draw(st.sampled_from(FIXABLE_ASYNC))
    else:
        options = OTHER + (OTHER_IN_FUNCTION if in_function else []) + (OTHER_IN_LOOP if in_loop else [])
        if is_async:
            options += OTHER_ASYNC + FIXABLE_ASYNC
        template = draw(st.sampled_from(options))
    statement = template.format_map(_Spellings(draw, names))
    return [(0 if i == 0 else 1, line, not line.endswith("\\")) for i, line in enumerate(statement.split("\n"))]


HANDLER_TYPES = [
    "{CancelledError}",
    "({ValueError}, {CancelledError})",
    "{CancelledError} as exc",
    "BaseException",
    "BaseException as e",
    "",
    "Exception",
    "ValueError",
    "(KeyError, ValueError)",
]


@st.composite
def block(draw, names: Names, is_async: bool, depth: int, size: int = 3, in_loop: bool = False) -> list[Line]:
    """A non-empty list of statements in a function body, at relative depth 0."""
    count = draw(st.integers(1, size))
    lines: list[Line] = []
    for _ in range(count):
        lines.extend(draw(statement(names, is_async, depth, in_loop)))
    return lines


def _indent(lines: list[Line], by: int = 1) -> list[Line]:
    return [(depth + by, text, noise) for depth, text, noise in lines]


@st.composite
def statement(draw, names: Names, is_async: bool, depth: int, in_loop: bool = False) -> list[Line]:
    if depth >= 3 or draw(st.integers(0, 9)) < 5:
        return draw(simple_statement(names, is_async, in_loop=in_loop))
    kind = draw(
        st.sampled_from(
            ["try", "try", "try", "if", "for", "while", "with", "def", "taskgroup", "taskgroup", "class", "match"]
        )
    )
    body = lambda loop=in_loop: draw(block(names, is_async, depth + 1, in_loop=loop))
    if kind == "try":
        lines: list[Line] = [(0, "try:", True), *_indent(body())]
        count = draw(st.integers(0, 2))
        for number in range(count):
            # A bare `except:` must be the last handler.
            types = HANDLER_TYPES if number == count - 1 else [t for t in HANDLER_TYPES if t]
            spec = draw(st.sampled_from(types)).format(
                CancelledError=names.asyncio_name(draw, "CancelledError"), ValueError="ValueError"
            )
            lines.append((0, f"except {spec}:" if spec else "except:", True))
            handler = draw(
                st.sampled_from(
                    [
                        ["pass"],
                        ["raise"],
                        ["log.exception('x')", "raise"],
                        ["return None"],
                        ["cleanup()"],
                        ["if x:", "    raise"],
                        ["raise RuntimeError() from None"],
                        None,
                    ]
                    + ([["continue"], ["break"]] if in_loop else [])
                )
            )
            if handler is None:
                lines.extend(_indent(body()))
            else:
                lines.extend((1 + (len(h) - len(h.lstrip())) // 4, h.lstrip(), True) for h in handler)
        if count and draw(st.booleans()):  # `else:` only after a handler
            lines.append((0, "else:", True))
            lines.extend(_indent(body()))
        if not count or draw(st.booleans()):
            lines.append((0, "finally:", True))
            final = draw(st.sampled_from(["pass", "return None", "return", None]))
            lines.extend(_indent([(0, final, True)] if final else body()))
        return lines
    if kind == "if":
        lines = [(0, draw(st.sampled_from(["if x:", "if x: # comment", "if (x and\n        y):"])), True)]
        if "\n" in lines[0][1]:
            first, second = lines[0][1].split("\n")
            lines = [(0, first, True), (0, second, True)]
        lines.extend(_indent(body()))
        if draw(st.booleans()):
            lines.append((0, "else:", True))
            lines.extend(_indent(body()))
        return lines
    if kind == "for":
        header = draw(
            st.sampled_from(["for item in items:", "async for item in stream():" if is_async else "for i in range(3):"])
        )
        return [(0, header, True), *_indent(body(True))]
    if kind == "while":
        return [(0, "while running:", True), *_indent(body(True))]
    if kind == "with":
        header = draw(
            st.sampled_from(
                ["with lock:", "with open(path) as fh:"]
                + (
                    [
                        "async with lock:",
                        f"async with {names.asyncio_name(draw, 'timeout')}(1):",
                        f"async with {names.pick(draw, names.session_class)}(engine) as session:",
                        f"async with {names.pick(draw, names.sessionmaker)}(engine)() as session:",
                    ]
                    if is_async
                    else []
                )
            )
        )
        return [(0, header, True), *_indent(body())]
    if kind == "def":
        inner_async = draw(st.booleans())
        header = (
            ("async def" if inner_async else "def") + " inner(" + draw(st.sampled_from(["", "x", "session"])) + "):"
        )
        return [(0, header, True), *_indent(draw(block(names, inner_async, depth + 1)))]
    if kind == "class":
        return [
            (0, "class Local:", True),
            (1, "value = 1", True),
            (1, "def method(self):", True),
            *_indent(draw(block(names, False, depth + 1)), 2),
        ]
    if kind == "match":
        return [
            (0, "match x:", True),
            (1, "case 1:", True),
            *_indent(body(), 2),
            (1, "case _:", True),
            *_indent(body(), 2),
        ]
    # TaskGroup wrapped in try/except, only meaningful in async code
    if not is_async:
        return draw(simple_statement(names, is_async, in_loop=in_loop))
    tg = names.asyncio_name(draw, "TaskGroup")
    lines = [(0, "try:", True), (1, f"async with {tg}() as tg:", True), (2, "tg.create_task(f())", True)]
    lines.extend(_indent(draw(block(names, True, depth + 1, size=1)), 2))
    spec = draw(
        st.sampled_from(["ValueError", "(KeyError, ValueError)", "httpx.HTTPError as e", "ExceptionGroup", "Exception"])
    )
    lines.append((0, f"except {spec}:", True))
    lines.extend(
        _indent(
            draw(
                st.sampled_from(
                    [
                        [(0, "pass", True)],
                        [(0, "return None", True)],
                        [(0, "log.warning('x')", True)],
                        [(0, "raise", True)],
                    ]
                )
            )
        )
    )
    return lines


PARAMS = [
    "",
    "session",
    "session: {session_class}",
    "session: {session_class} | None = None",
    "db: {session_class} = Depends(get_db)",
    "session: Annotated[{session_class}, Depends(get_db)]",
    "x, *args, delay=1, **kwargs",
    "self",
]
DECORATORS = ["", "@app.get('/items')", "@router.post(\n    '/x',\n)", "@staticmethod", "@decorator  # comment"]


@st.composite
def function(draw, names: Names) -> list[Line]:
    is_async = draw(st.integers(0, 3)) > 0
    name = draw(st.sampled_from(["handler", "main", "fetch", "work", "job_1"]))
    params = draw(st.sampled_from(PARAMS)).format(session_class=names.pick(draw, names.session_class))
    lines: list[Line] = []
    decorator = draw(st.sampled_from(DECORATORS))
    if decorator:
        parts = decorator.split("\n")
        lines.extend((0 if i == 0 else 1, p, True) for i, p in enumerate(parts))
    header = f"{'async def' if is_async else 'def'} {name}({params})"
    header += draw(st.sampled_from([":", " -> None:", ":  # trailing", ":\t"]))
    lines.append((0, header, True))
    if draw(st.integers(0, 3)) == 0:
        lines.append((1, draw(st.sampled_from(['"""Docstring."""', "'''Doc\\n'''", 'r"doc"'])), True))
    lines.extend(_indent(draw(block(names, is_async, 1, size=4))))
    return lines


@st.composite
def module_item(draw, names: Names) -> list[Line]:
    kind = draw(
        st.sampled_from(
            ["function"] * 4 + ["engine", "sessionmaker", "model"] * 2 + ["session", "main", "app", "statement"]
        )
    )
    if kind == "function":
        return draw(function(names))
    if kind == "engine":
        engine = names.pick(draw, names.engine)
        text = draw(
            st.sampled_from(
                [
                    "engine = {e}(url)",
                    "engine = {e}('sqlite+aiosqlite://', echo=True)",
                    "engine = {e}(\n    url,  # from settings\n    pool_size=5,\n)",
                    "engine = {e}(url, pool_pre_ping=True)",
                    "engine = {e}(url, **options)",
                    "engine = {e}(url,)",
                    "engines = [{e}(u) for u in urls]",
                ]
            )
        ).format(e=engine)
        return [(0 if i == 0 else 1, p, True) for i, p in enumerate(text.split("\n"))]
    if kind == "sessionmaker":
        maker = names.pick(draw, names.sessionmaker)
        text = draw(
            st.sampled_from(
                [
                    "Session = {m}(engine)",
                    "Session = {m}(engine, expire_on_commit=False)",
                    "Session = {m}(bind=engine, autoflush=False)",
                    "Session = {m}(\n    engine,\n    autoflush=False,  # c\n)",
                    "Session = {m}()",
                    "Session = {m}(engine, class_={c})",
                ]
            )
        ).format(m=maker, c=names.pick(draw, names.session_class))
        return [(0 if i == 0 else 1, p, True) for i, p in enumerate(text.split("\n"))]
    if kind == "model":
        rel = names.pick(draw, names.relationship)
        fields = draw(
            st.lists(
                st.sampled_from(
                    [
                        "children = {r}('Child')",
                        "parent = {r}('Parent', back_populates='children')",
                        "items: Mapped[list['Item']] = {r}()",
                        "other = {r}('X', lazy='select')",
                        "more = {r}(\n    'Y',  # comment\n    uselist=False,\n)",
                        "tags = {r}('Tag', lazy='selectin')",
                        "id = Column(Integer, primary_key=True)",
                    ]
                ),
                min_size=1,
                max_size=3,
            )
        )
        lines: list[Line] = [(0, "class Model(Base):", True)]
        for field in fields:
            parts = field.format(r=rel).split("\n")
            lines.extend((1 if i == 0 else 2, p, True) for i, p in enumerate(parts))
        if draw(st.booleans()):
            lines.extend(_indent(draw(function(names))))
        return lines
    if kind == "session":
        return _one(f"session = {names.pick(draw, names.session_class)}(engine)")
    if kind == "main":
        return [(0, "if __name__ == '__main__':", True), (1, f"{names.asyncio_name(draw, 'run')}(main())", True)]
    if kind == "app":
        return [
            (0, "app = FastAPI()", True),
            (0, "@app.on_event('startup')", True),
            (0, "async def startup():", True),
            *_indent(draw(block(names, True, 1))),
        ]
    return draw(simple_statement(names, False, in_function=False))


@st.composite
def backend_programs(draw) -> str:
    header: list[str] = []
    if draw(st.booleans()):
        header.append(
            draw(
                st.sampled_from(
                    ['"""Module docstring."""', "'''Doc.'''", '"""\nLong doc.\n"""', "#!/usr/bin/env python"]
                )
            )
        )
    if draw(st.booleans()):
        header.append("from __future__ import annotations")
    chosen: list[dict] = []
    imports: list[str] = []
    for table in (TIME_IMPORTS, ASYNCIO_IMPORTS, SQLA_IMPORTS):
        # Mostly at least one import from each table, so that the names resolve.
        at_least = draw(st.integers(0, 4)) > 0
        for line, provided in draw(
            st.lists(st.sampled_from(table), min_size=int(at_least), max_size=2, unique_by=lambda p: p[0])
        ):
            imports.append(line)
            chosen.append(provided)
    imports += draw(st.lists(st.sampled_from(OTHER_IMPORTS), max_size=3, unique=True))
    imports = draw(st.permutations(imports))
    names = _names(chosen)

    lines: list[Line] = []
    for item in header:
        lines.extend((0, part, False) for part in item.split("\n"))
    for item in imports:
        parts = item.split("\n")
        lines.extend((0 if i == 0 else 1, p, True) for i, p in enumerate(parts))
    if draw(st.integers(0, 4)):
        lines.extend(draw(function(names)))
    for _ in range(draw(st.integers(1, 3))):
        lines.extend(draw(module_item(names)))
    return draw(render(lines))


@st.composite
def render(draw, lines: list[Line]) -> str:
    indent = draw(st.sampled_from(["    ", "  ", "\t", "        "]))
    newline = draw(st.sampled_from(["\n", "\n", "\r\n"]))
    noisy = draw(st.integers(0, 3))  # how much noise: none at all .. a lot
    out: list[str] = []
    after_backslash = False
    for depth, text, may_noise in lines:
        prefix = indent * depth
        if noisy and not after_backslash and draw(st.integers(0, 9)) < noisy:
            what = draw(st.sampled_from(["blank", "spaces", "comment", "comment0", "deep-comment"]))
            if what == "blank":
                out.append("")
            elif what == "spaces":
                out.append(draw(st.sampled_from([" ", "\t", "    \t  "])))
            elif what == "comment":
                out.append(prefix + "# a comment")
            elif what == "comment0":
                out.append("#comment at column 0")
            else:
                out.append(prefix + indent * 2 + "#   deeper comment   ")
        line = prefix + text
        if may_noise and noisy and draw(st.integers(0, 9)) < noisy:
            line += draw(
                st.sampled_from([" ", "\t", "   ", "  # trailing", "# no space", "  # noqa", "  # type: ignore  "])
            )
        out.append(line)
        after_backslash = text.endswith("\\")
    text = newline.join(out)
    if draw(st.integers(0, 4)):
        text += newline
    return text


# ---------------------------------------------------------------------------------------------
# Mutations of real files


def fixture_files() -> list[Path]:
    return sorted(FIXTURES.rglob("*.py"))


GARBAGE = st.one_of(
    st.sampled_from(
        [
            "(",
            ")",
            "[",
            "]",
            "{",
            "}",
            ":",
            "\\",
            '"',
            "'",
            '"""',
            "#",
            "@",
            "await",
            "async",
            "lambda",
            "\t",
            "\x0c",
            "\r",
            "\ufeff",
            "é",
            "\u2028",
            "\u00a0",
            "\U0001d518",
            "\x1b",
            "def",
            "    ",
            "\n",
            "\r\n",
        ]
    ),
    # Text as a decoded file can hold it: no NUL (that file is binary, ASL002). Lone
    # surrogates come from no decoding of the CLI or flake8, but from a caller of lint_text
    # they are ASL002.
    st.text(st.characters(exclude_characters="\x00"), min_size=1, max_size=8),
)


@st.composite
def mutate(draw, text: str) -> str:
    """One to three random edits of `text`."""
    for _ in range(draw(st.integers(1, 3))):
        lines = split_lines(text, keepends=True)
        kind = draw(
            st.sampled_from(
                [
                    "delete",
                    "duplicate",
                    "swap",
                    "garbage",
                    "bytes",
                    "truncate",
                    "dedent",
                    "indent",
                    "crlf",
                    "tabs",
                    "backslash",
                    "formfeed",
                    "no-final-newline",
                ]
            )
        )
        if not lines:
            text = draw(GARBAGE)
            continue
        i = draw(st.integers(0, len(lines) - 1))
        if kind == "delete":
            del lines[i]
        elif kind == "duplicate":
            lines.insert(i, lines[i])
        elif kind == "swap":
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        elif kind == "garbage":
            offset = draw(st.integers(0, len(text)))
            text = text[:offset] + draw(GARBAGE) + text[offset:]
            continue
        elif kind == "bytes":
            # Garbage bytes in the file, read as the engine reads files.
            data = text.encode("utf-8")
            offset = draw(st.integers(0, len(data)))
            data = data[:offset] + draw(st.binary(min_size=1, max_size=4)) + data[offset:]
            # Undecodable: an ASL002 finding, the engine never sees the text.
            with contextlib.suppress(UnreadableSource):
                text = decode(data).text
            continue
        elif kind == "truncate":
            text = text[: draw(st.integers(0, len(text)))]
            continue
        elif kind == "dedent":
            lines[i] = lines[i].lstrip(" \t")
        elif kind == "indent":
            lines[i] = draw(st.sampled_from([" ", "    ", "\t"])) + lines[i]
        elif kind == "crlf":
            lines = [line.rstrip("\r\n") + "\r\n" if line.endswith(("\n", "\r")) else line for line in lines]
        elif kind == "tabs":
            lines = [line.replace("    ", "\t") for line in lines]
        elif kind == "backslash":
            # A line holding only a backslash (LibCST leaves it out of its module).
            ending = lines[i][len(lines[i].rstrip("\r\n")) :] or "\n"
            lines.insert(i, draw(st.sampled_from(["", "    ", "\t"])) + "\\" + ending)
        elif kind == "formfeed":
            # A form feed in the indentation (CPython counts the columns after it).
            lines[i] = draw(st.sampled_from(["\f", " \f", "\t\f"])) + lines[i]
        elif kind == "no-final-newline":
            lines[-1] = lines[-1].rstrip("\r\n")
        text = "".join(lines)
    return text


# ---------------------------------------------------------------------------------------------
# Safe fixes that run: the target call in every expression context of an async function, the
# program run before and after the safe fixes (tests/test_fix_properties.py). `{call}` is a
# blocking call with a safe fix whose value is None (`time.sleep(0)` spelled several ways).

CALL_CONTEXTS = [
    "{call}\n    return 1",
    "return {call}",
    "x = {call}\n    return x",
    "x: object = {call}\n    return x",
    "y: int = 1\n    x = [{call}, y]\n    return x",
    "return ({call},)",
    "return [{call}][0]",
    "return {{'a': {call}}}['a']",
    "return {{{call}}}",
    "return -({call} or 0)",
    "return not {call}",
    "return {call} is None",
    "return {call} if True else 0",
    "return 0 if {call} else 1",
    "return ({call} or 1) + 1",
    "return (x := {call})",
    "return f'{{{call}}}'",
    "return f'{{{call}!r:>6}}'",
    "return [1, 2][{call} or 0:]",
    "return {{**({call} or {{}})}}",
    "return [*({call} or ())]",
    "return print(*([{call}]))",
    "return [{call} for _ in range(2)]",
    "return {{{call} for _ in range(2)}}",
    "return {{k: {call} for k in range(2)}}",
    "return [k for k in range(2) if {call} is None]",
    "return [x for x in [{call}]]",
    "return list(x for x in [{call}])",
    "return any({call} for _ in range(3))",
    "return all({call} is None for _ in range(3))",
    "return list({call} for _ in range(2))",
    "return sum(1 for _ in range(2) if {call} is None)",
    "return ''.join(str({call}) for _ in range(2))",
    "return max(({call} or 0) for _ in range(2))",
    "return tuple({call} for _ in range(2))",
    "return print(*({call} for _ in range(1)))",
    "return list(filter(None, ({call} for _ in range(2))))",
    "return [list({call} for _ in range(1)) for _ in range(2)]",
    "return (lambda: {call})()",
    "return (lambda a={call}: a)()",
    "def inner(a={call}):\n        return a\n    return inner()",
    "def inner():\n        return {call}\n    return inner()",
    "def dec(value):\n        return lambda f: f\n    @dec({call})\n    def g():\n        return 1\n    return g()",
    "class C:\n        v = {call}\n    return C.v",
    "assert {call} is None\n    return 1",
    "if {call}:\n        return 1\n    return 2",
    "while {call}:\n        pass\n    return 1",
    "for _ in [{call}]:\n        pass\n    return 1",
    "with contextlib.nullcontext({call}) as v:\n        return v",
    "try:\n        return {call}\n    finally:\n        pass",
    "match {call}:\n        case None:\n            return 1\n    return 2",
    "d = {{}}\n    d[{call}] = 1\n    return d",
    "return await aio.sleep(0, {call})",
    "return await aio.gather(*[aio.sleep(0, {call})])",
    "async def agen():\n        yield {call}\n    return [x async for x in agen()]",
    "async def agen():\n        yield 1\n    return [x async for x in agen() if {call} is None]",
]

CALL_SPELLINGS = [
    ("import time\n", "time.sleep(0)"),
    ("import time\nimport asyncio\n", "time.sleep(0)"),
    ("from time import sleep as nap\n", "nap(0)"),
    ("import time as clock\n", "clock.sleep(0.0)"),
]

RUNNABLE_SETTINGS = Settings(select=("ASL201",))


def context_program(header: str, contexts: list[str], call: str, newline: str = "\n") -> str:
    """A module whose `main()` holds `contexts` (each in a function of its own) and returns
    their results."""
    # (`aio`: the contexts' own use of asyncio, which leaves the name `asyncio` to the fix.)
    lines = ["import asyncio as aio\n", "import contextlib\n", header, "\n"]
    names = []
    for i, context in enumerate(contexts):
        names.append(f"case{i}")
        lines.append(f"async def case{i}():\n    " + context.format(call=call) + "\n\n")
    lines.append("async def main():\n    return [" + ", ".join(f"await {n}()" for n in names) + "]\n")
    return "".join(lines).replace("\n", newline)


def run_program(text: str):
    """What `main()` of the module returns, or the type of the exception it raises (the
    module must import)."""
    import asyncio
    import contextlib
    import io

    namespace: dict = {"__name__": "generated"}
    exec(compile(text, "generated.py", "exec"), namespace)
    with contextlib.redirect_stdout(io.StringIO()):
        try:
            return repr(asyncio.run(namespace["main"]()))
        except Exception as exc:  # the behaviour compared is the exception's type
            return type(exc).__name__


def check_safe_fixes_run(text: str) -> None:
    """The safe fixes leave a module that imports and whose `main()` does what it did."""
    before = run_program(text)
    outcome = fix_text(text, "generated.py", RUNNABLE_SETTINGS)
    assert not outcome.failures, outcome.failures
    after = run_program(outcome.text)
    assert after == before, f"{before} -> {after}\n{outcome.text}"
