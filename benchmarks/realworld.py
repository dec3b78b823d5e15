"""Check asynclint against the hand-checked real-world development set, in one command.

``realworld.tsv`` lists places in real applications (pinned wheels, fetched by
``realworld_fetch.sh``) where a rule should fire (TRUE), must stay quiet (LEGIT), or where
the verdict is a policy decision (``policy``, ``undecidable``). This script lints each
package as its authors would (its own project, ``requires-python`` from the wheel's
METADATA written to a ``pyproject.toml`` at the package root), then says per row whether a
finding of that rule sits there, and whether that is what the row expects.

Where a finding belongs is RULES.md's business, not always the line a reader sees: a
blocking call in a sync helper (``ASL2xx``) is reported by ASL207 at each call site in async
code, with the chain in the message. For those rows ``CHAINS`` names the function the chain
must pass through; any ASL207 finding in the package whose chain names it counts.

Usage (from the repository root)::

    PY_ONLY=1 benchmarks/realworld_fetch.sh ~/.cache/asynclint-dev     # once, ~180 MB
    python benchmarks/realworld.py ~/.cache/asynclint-dev --asynclint .venv/bin/asynclint

Exit code 0 when every TRUE/LEGIT row is as expected (known misses in ``KNOWN_MISSES`` are
listed, not failed), 1 otherwise. Standard library only.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import shlex
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
BLOCKING = tuple(f"ASL20{n}" for n in range(1, 8))
# A row's code that is two rules now: a swallowed cancellation by a handler naming
# CancelledError became ASL107 (opt-in); the rest is still ASL102.
SPLIT = {"ASL102": ("ASL102", "ASL107")}
NEAR = 1  # rows point at what a reader sees; the finding may sit on the next line (a call spread over two)

# ASL2xx rows whose blocking call is in a sync helper: the finding is ASL207 at the async
# call sites, anywhere in the package, with this function in its chain.
CHAINS = {"R2": "Message.__init__"}

# TRUE rows the current rules are known not to reach, with why (kept visible, not failed).
KNOWN_MISSES: dict[str, str] = {}

# Packages too large to lint whole for a dev check: only the rows' files are asked for (project
# analysis still reads the rest of the package on demand).
FILES_ONLY = {"homeassistant", "litellm"}


def read_rows(tsv: Path) -> list[dict[str, str]]:
    with tsv.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f, delimiter="\t"))


def lower_bound(requires: str) -> str | None:
    """``py311`` for ``>=3.11, <3.14``: the lowest version the package supports."""
    match = re.search(r">=\s*3\.(\d+)", requires)
    return f"py3{match.group(1)}" if match else None


def prepare(root: Path) -> None:
    """A pyproject.toml at the package root with its authors' Python floor, as they would lint it."""
    pyproject = root / "pyproject.toml"
    if pyproject.exists():
        return
    for metadata in root.glob("*.dist-info/METADATA"):
        for line in metadata.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("Requires-Python:"):
                floor = lower_bound(line.split(":", 1)[1])
                if floor:
                    pyproject.write_text(f'[tool.asynclint]\ntarget-version = "{floor}"\n', encoding="utf-8")
                return


def lint(asynclint: list[str], root: Path, paths: list[str], codes: list[str]) -> list[dict]:
    # The rows' rules are selected by their codes: a row says what its rule finds when it runs,
    # opt-in rules (ASL301) included.
    select = ["--extend-select", ",".join(codes)]
    command = [*asynclint, "check", "--no-cache", "--exit-zero", "--output-format", "json", *select, *paths]
    done = subprocess.run(command, cwd=root, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.exit(f"asynclint failed in {root} ({done.returncode}):\n{done.stderr[-2000:]}")
    found = json.loads(done.stdout or "[]")
    for item in found:
        item["relative"] = Path(item["filename"]).resolve().relative_to(root.resolve()).as_posix()
    return found


def codes_of(rule: str) -> tuple[str, ...]:
    return BLOCKING if rule == "ASL2xx" else SPLIT.get(rule, (rule,))


def matches(row: dict[str, str], found: list[dict]) -> list[dict]:
    codes, line = codes_of(row["rule"]), int(row["line"])
    hits = [
        f
        for f in found
        if f["code"] in codes and f["relative"] == row["path"] and abs(f["location"]["row"] - line) <= NEAR
    ]
    via = CHAINS.get(row["id"])
    if via:
        hits += [f for f in found if f["code"] == "ASL207" and re.search(rf"\b{re.escape(via)}\b", f["message"])]
    return hits


def expected(row: dict[str, str]) -> bool | None:
    return {"TRUE": True, "LEGIT": False}.get(row["verdict"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dest", type=Path, help="the folder realworld_fetch.sh filled (holds src/<name>/)")
    parser.add_argument("--asynclint", default="asynclint", help="command to run (default: asynclint on PATH)")
    parser.add_argument("--tsv", type=Path, default=HERE / "realworld.tsv")
    args = parser.parse_args(argv)
    rows = read_rows(args.tsv)
    by_package: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in rows:
        by_package[row["package"]].append(row)

    command = shlex.split(args.asynclint)
    if Path(command[0]).exists():  # a relative path still works from inside each package
        command[0] = str(Path(command[0]).resolve())
    codes = sorted({code for row in rows for code in codes_of(row["rule"])})
    found: dict[str, list[dict]] = {}
    for package, its_rows in sorted(by_package.items()):
        root = args.dest / "src" / package
        if not root.is_dir():
            sys.exit(f"{root} is missing: run realworld_fetch.sh {args.dest} first")
        prepare(root)
        paths = sorted({row["path"] for row in its_rows}) if package in FILES_ONLY else ["."]
        scope = "the rows' files" if package in FILES_ONLY else "whole package"
        print(f"linting {package} ({scope})", file=sys.stderr)
        found[package] = lint(command, root, paths, codes)

    wrong = 0
    print("| id | rule | verdict | place | asynclint | result |")
    print("| --- | --- | --- | --- | --- | --- |")
    for row in rows:
        hits = matches(row, found[row["package"]])
        want = expected(row)
        said = ", ".join(sorted({f"{f['code']} {f['relative']}:{f['location']['row']}" for f in hits})[:3]) or "quiet"
        if want is None:
            result = "policy: " + ("fires" if hits else "quiet")
        elif bool(hits) == want:
            result = "as expected"
        elif row["id"] in KNOWN_MISSES and not hits:
            result = f"known miss: {KNOWN_MISSES[row['id']]}"
        else:
            result = "**NOT as expected**"
            wrong += 1
        place = f"{row['package']} {row['path']}:{row['line']}"
        print(f"| {row['id']} | {row['rule']} | {row['verdict']} | {place} | {said} | {result} |")
    print(f"\n{len(rows) - wrong} of {len(rows)} rows as expected or known", file=sys.stderr)
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())
