"""Draw a blind, reproducible sample of asynclint's findings on the corpus, for judging.

Precision is measured by hand: a fixed-seed sample of findings per rule, each judged
TRUE (the maintainer would act on it), NOISE (matches the rule's letter but is harmless
there) or FALSE (the tool got something wrong). Recall gets a smaller look: places the
rules target, found by grepping for their patterns, that produced no finding, each judged
a real miss or correctly quiet.

The draw is stable: findings and places are sorted before sampling, and every rule (every
pattern) has its own generator seeded with ``"<seed>:<rule>"``, so adding a rule or a
finding of another rule does not move anyone else's sample.

Usage (from the repository root)::

    python benchmarks/sample.py --asynclint .venv/bin/asynclint --save-json run.json
    python benchmarks/sample.py --json-in run.json --context 8 > to-judge.md

Standard library only.
"""

from __future__ import annotations

import argparse
import ast
import json
import random
import re
import shlex
import subprocess
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import corpus

DEFAULT_SEED = 14  # issue 14 asked for this measurement


@dataclass(frozen=True)
class Finding:
    package: str
    path: str  # relative to the package's tree
    line: int
    col: int
    rule: str
    message: str


@dataclass(frozen=True)
class Place:
    """A line the rules target (by grep) where no finding of those rules was reported."""

    pattern: str
    rules: tuple[str, ...]
    package: str
    path: str
    line: int
    text: str


# name, regex on the source line, the rules that would report it, whether the line must be
# async code (innermost enclosing function an ``async def``, no nested def/lambda/class).
PATTERNS: list[tuple[str, str, tuple[str, ...], bool]] = [
    (
        "time.sleep(",
        r"\btime\.sleep\(|^(?!.*\bawait\b).*(?<![\w.])sleep\(",
        ("ASL201", "ASL207"),
        True,
    ),
    # not after `await`: anyio.Path / aiofiles methods of the same names are coroutines
    (
        "open( / .read_text( / .write_text(",
        r"^(?!.*\bawait\b.*(open|_text|_bytes)\().*((?<![\w.])open\(|\.(read|write)_(text|bytes)\()",
        ("ASL204", "ASL207"),
        True,
    ),
    (
        "subprocess. / os.system(",
        r"(?<!asyncio\.)\bsubprocess\.\w+\(|(?<![\w.])(Popen|check_output|check_call)\(|\bos\.(system|popen)\(",
        ("ASL203", "ASL207"),
        True,
    ),
    (
        "requests. / httpx.get( / urlopen(",
        r"\b(requests|httpx)\.(get|post|put|patch|delete|head|request)\(|\burlopen\(",
        ("ASL202", "ASL207"),
        True,
    ),
    (
        "except CancelledError / BaseException / bare",
        r"^\s*except\s*(:|.*\bCancelledError\b|.*\bBaseException\b)",
        ("ASL102",),
        True,
    ),
    (
        "create_task( / ensure_future(",
        r"\b(create_task|ensure_future)\(",
        ("ASL103", "ASL302"),
        True,
    ),
    ("relationship(", r"\b[Rr]elationship\(", ("ASL301",), False),
    (
        "create_engine(",
        r"\bcreate_(async_)?engine\(",
        ("ASL206", "ASL501", "ASL502", "ASL503"),
        False,
    ),
    (
        "AsyncClient( / ClientSession(",
        r"\b(AsyncClient|ClientSession)\(",
        ("ASL501", "ASL502"),
        False,
    ),
    (
        "sessionmaker( / AsyncSession(",
        r"\b(async_)?sessionmaker\(|\bAsyncSession\(",
        ("ASL303", "ASL305", "ASL401"),
        False,
    ),
]

PY_EXCLUDE = {"__pycache__", "site-packages", "node_modules"}


def package_of(filename: str, names: list[str]) -> tuple[str, str] | None:
    """(package dirname, path inside it) for a corpus file, whatever folder the run used."""
    parts = Path(filename).parts
    for i, part in enumerate(parts):
        if part in names:
            return part, "/".join(parts[i + 1 :])
    return None


def src_of(raw: list[dict], names: list[str]) -> Path | None:
    """The corpus folder a JSON run was made in: the parent of its package folders."""
    for item in raw:
        parts = Path(item["filename"]).parts
        for i, part in enumerate(parts):
            if part in names:
                return Path(*parts[:i])
    return None


def run_asynclint(cmd: str, trees: list[Path], extend_select: str | None = None) -> list[dict]:
    """Each package on its own, as its maintainer runs it: one project per package, so one
    package's facts (its asyncio ORM, its helpers) never speak for another's."""
    words = shlex.split(cmd)
    if "/" in words[0]:  # a relative path would be looked up from the corpus folder below
        words[0] = str(Path(words[0]).resolve())
    found: list[dict] = []
    for tree in trees:
        argv = [*words, "check", "--no-cache", "--exit-zero", "--output-format", "json", str(tree)]
        if extend_select:
            argv[-1:-1] = ["--extend-select", extend_select]
        # From the corpus folder, so no configuration of the caller's checkout applies.
        proc = subprocess.run(argv, capture_output=True, text=True, cwd=tree.parent)
        if proc.returncode != 0:
            sys.exit(f"sample: {' '.join(argv[:6])} ... failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
        found.extend(json.loads(proc.stdout or "[]"))
    return found


def load_findings(raw: list[dict], names: list[str]) -> list[Finding]:
    out = []
    for item in raw:
        where = package_of(item["filename"], names)
        if where is None:
            continue
        out.append(
            Finding(
                where[0],
                where[1],
                item["location"]["row"],
                item["location"]["column"],
                item["code"],
                " ".join(item["message"].split()),
            )
        )
    return sorted(out, key=lambda f: (f.rule, f.package, f.path, f.line, f.col, f.message))


def draw(items: list, k: int, seed: int, key: str) -> list:
    """k items of a sorted list, the same ones on every run with the same seed and key.

    A seeded shuffle's prefix: a larger k keeps the smaller k's items and adds to them.
    """
    order = list(items)
    random.Random(f"{seed}:{key}").shuffle(order)
    return order[:k]


def sample_findings(findings: list[Finding], per_rule: int, seed: int) -> list[Finding]:
    by_rule: dict[str, list[Finding]] = defaultdict(list)
    for f in findings:
        by_rule[f.rule].append(f)
    chosen = []
    for rule in sorted(by_rule):
        picked = draw(by_rule[rule], per_rule, seed, rule)
        chosen += sorted(picked, key=lambda f: (f.package, f.path, f.line, f.col))
    return chosen


class _Scopes(ast.NodeVisitor):
    """Lines that are async code, and lines where a call starts, of one module."""

    def __init__(self) -> None:
        self.async_lines: set[int] = set()
        self.call_lines: set[int] = set()
        self.handler_lines: set[int] = set()
        self._stack: list[bool] = [False]

    def _scope(self, node: ast.AST, is_async: bool) -> None:
        self._stack.append(is_async)
        self.generic_visit(node)
        self._stack.pop()

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> None:
        for d in node.decorator_list:
            self.visit(d)
        self._scope(node, True)

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        for d in node.decorator_list:
            self.visit(d)
        self._scope(node, False)

    def visit_Lambda(self, node: ast.Lambda) -> None:
        self._scope(node, False)

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self._scope(node, False)

    def generic_visit(self, node: ast.AST) -> None:
        line = getattr(node, "lineno", None)
        if line is not None and self._stack[-1]:
            self.async_lines.add(line)
        if isinstance(node, ast.Call):
            self.call_lines.add(node.lineno)
        if isinstance(node, ast.ExceptHandler):
            self.handler_lines.add(node.lineno)
        super().generic_visit(node)


def find_places(src: Path, packages: list[str], findings: list[Finding]) -> list[Place]:
    flagged = defaultdict(set)  # (package, path, line) -> rules
    for f in findings:
        flagged[(f.package, f.path, f.line)].add(f.rule)
    compiled = [(name, re.compile(rx), rules, need_async) for name, rx, rules, need_async in PATTERNS]
    places = []
    for package in packages:
        tree = src / package
        for file in sorted(tree.rglob("*.py")):
            if PY_EXCLUDE & set(file.relative_to(tree).parts):
                continue
            text = file.read_text(encoding="utf-8", errors="replace")
            lines = text.splitlines()
            hits = [
                (i + 1, line, p)
                for i, line in enumerate(lines)
                for p in compiled
                if not line.lstrip().startswith("#") and p[1].search(line)
            ]
            if not hits:
                continue
            try:
                scopes = _Scopes()
                scopes.visit(ast.parse(text))
            except (SyntaxError, ValueError):
                continue
            rel = file.relative_to(tree).as_posix()
            for lineno, line, (name, _, rules, need_async) in hits:
                real = lineno in (scopes.handler_lines if name.startswith("except") else scopes.call_lines)
                if not real or (need_async and lineno not in scopes.async_lines):
                    continue
                if flagged[(package, rel, lineno)] & set(rules):
                    continue
                places.append(Place(name, rules, package, rel, lineno, line.strip()))
    return places


def sample_places(places: list[Place], total: int, seed: int) -> list[Place]:
    """About total places, spread evenly over the patterns (round robin, so a pattern with
    few places leaves its share to the others)."""
    by_pattern: dict[str, list[Place]] = defaultdict(list)
    for p in places:
        by_pattern[p.pattern].append(p)
    shuffled = {name: draw(by_pattern.get(name, []), len(places), seed, "quiet:" + name) for name, *_ in PATTERNS}
    quota = dict.fromkeys(shuffled, 0)
    while sum(quota.values()) < total and any(quota[n] < len(shuffled[n]) for n in quota):
        for name in quota:
            if quota[name] < len(shuffled[name]) and sum(quota.values()) < total:
                quota[name] += 1
    chosen = []
    for name, items in shuffled.items():
        chosen += sorted(items[: quota[name]], key=lambda p: (p.package, p.path, p.line))
    return chosen


def cell(text: str, width: int = 110) -> str:
    text = text if len(text) <= width else text[: width - 1] + "…"
    return text.replace("|", "\\|")


def context_block(src: Path, package: str, path: str, line: int, n: int) -> str:
    try:
        lines = (src / package / path).read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return "(source not found)"
    lo, hi = max(1, line - n), min(len(lines), line + n)
    return "\n".join(f"{'>' if i == line else ' '}{i:6d}  {lines[i - 1]}" for i in range(lo, hi + 1))


def counts_table(findings: list[Finding], packages: list[str]) -> str:
    c = Counter((f.package, f.rule) for f in findings)
    rules = sorted({f.rule for f in findings})
    rows = [
        "| package | " + " | ".join(rules) + " | total |",
        "| --- |" + " ---: |" * (len(rules) + 1),
    ]
    for package in packages:
        vals = [c.get((package, r), 0) for r in rules]
        rows.append(f"| {package} | " + " | ".join(str(v) if v else "." for v in vals) + f" | {sum(vals)} |")
    totals = [sum(c.get((p, r), 0) for p in packages) for r in rules]
    rows.append("| **all** | " + " | ".join(map(str, totals)) + f" | {sum(totals)} |")
    return "\n".join(rows)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seed", type=int, default=DEFAULT_SEED)
    p.add_argument(
        "--per-rule",
        type=int,
        default=6,
        help="findings drawn per rule (all where fewer)",
    )
    p.add_argument(
        "--quiet",
        type=int,
        default=40,
        help="not-flagged places drawn, spread over the patterns",
    )
    p.add_argument(
        "--json-in",
        type=Path,
        help="read this asynclint JSON output instead of running asynclint",
    )
    p.add_argument("--save-json", type=Path, help="write the raw JSON of the asynclint run here")
    p.add_argument(
        "--extend-select",
        help="also run these rules (the opt-in ones, e.g. ASL301), comma-separated, to sample them too",
    )
    p.add_argument(
        "--asynclint",
        default="asynclint",
        help="command to run (default: asynclint on PATH)",
    )
    p.add_argument(
        "--packages",
        default="all",
        help="'all', 'app', 'lib', or a comma list of lock names / name-version folders",
    )
    p.add_argument(
        "--dest",
        type=Path,
        default=None,
        help=f"corpus folder (default {corpus.default_dest()})",
    )
    p.add_argument(
        "--context",
        type=int,
        nargs="?",
        const=6,
        default=0,
        metavar="N",
        help="also print N source lines (default 6) around each sampled place",
    )
    args = p.parse_args()

    pins = corpus.read_lock()
    if args.packages in ("all", "app", "lib"):
        chosen = [pin for pin in pins if args.packages in ("all", pin.kind)]
    else:
        wanted = set(args.packages.split(","))
        chosen = [pin for pin in pins if pin.name in wanted or pin.dirname in wanted]
        if not chosen:
            sys.exit(f"sample: no corpus package matches {args.packages!r}")
    names = [pin.dirname for pin in chosen]
    src = Path(args.dest or corpus.default_dest()) / "src" if args.json_in else corpus.build(args.dest)

    if args.json_in:
        raw = json.loads(args.json_in.read_text())
        src = src_of(raw, names) or src  # the folder that run linted, wherever it was
    else:
        raw = run_asynclint(args.asynclint, [src / n for n in names], args.extend_select)
    if args.save_json:
        args.save_json.write_text(json.dumps(raw, indent=1) + "\n")
    findings = load_findings(raw, names)
    sampled = sample_findings(findings, args.per_rule, args.seed)
    places = sample_places(find_places(src, names, findings), args.quiet, args.seed)

    rules = Counter(f.rule for f in findings)
    print(f"## Sample (seed {args.seed}, {args.per_rule} per rule, packages: {args.packages})\n")
    print(
        f"{len(findings)} findings in {len(names)} packages; drawn: "
        + ", ".join(f"{r} {min(n, args.per_rule)}/{n}" for r, n in sorted(rules.items()))
        + "\n"
    )
    print("| id | rule | package | file:line | message | verdict | reason |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for i, f in enumerate(sampled, 1):
        print(f"| F{i:02d} | {f.rule} | {f.package} | {f.path}:{f.line} | {cell(f.message)} |  |  |")
    print("\n### Not flagged: places the rules target that gave no finding\n")
    print("| id | pattern | rules | package | file:line | code | verdict | reason |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for i, q in enumerate(places, 1):
        print(
            f"| Q{i:02d} | {cell(q.pattern)} | {','.join(q.rules)} | {q.package} | {q.path}:{q.line} "
            f"| `{cell(q.text, 90)}` |  |  |"
        )
    print("\n### Findings per rule and package\n")
    print(counts_table(findings, names))
    if args.context:
        print("\n### Context\n")
        items = [(f"F{i:02d}", f.package, f.path, f.line) for i, f in enumerate(sampled, 1)]
        items += [(f"Q{i:02d}", q.package, q.path, q.line) for i, q in enumerate(places, 1)]
        for ident, package, path, line in items:
            print(f"#### {ident} {package}/{path}:{line}\n\n```python")
            print(context_block(src, package, path, line, args.context))
            print("```\n")


if __name__ == "__main__":
    main()
