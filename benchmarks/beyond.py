"""Findings on projects beyond the corpus: fetch them, lint each, draw a table to judge.

The benchmark corpus has been looked at by every rule change; precision measured there
flatters. `beyond.lock` pins the async projects from PyPI that the blind reviews of
`REVIEW.md` judged (batch, distribution, version, archive, sha256). This script makes those
reviews one command each:

    python benchmarks/beyond.py fetch                      # ~/.cache/asynclint-beyond/<batch>/<project>
    python benchmarks/beyond.py lint --asynclint .venv/bin/asynclint --out after.json [--batch s9]
    python benchmarks/beyond.py table after.json [--batch s9] [--seed 9 --per-project 12] > to-judge.md
    python benchmarks/beyond.py compare before.json after.json   # what a change added and removed

Each project is linted as its own project (`asynclint check .` in its folder, no cache),
as its maintainers would run it. Only the standard library (and pip, for `fetch`).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shlex
import subprocess
import sys
import zipfile
from pathlib import Path

LOCK = Path(__file__).with_name("beyond.lock")


def _default_dest() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
    return Path(base) / "asynclint-beyond"


def read_lock(batches: set[str] | None) -> list[dict[str, str]]:
    rows = []
    for line in LOCK.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        batch, dist, version, archive, sha256 = line.split("\t")
        if batches is None or batch in batches:
            rows.append({"batch": batch, "dist": dist, "version": version, "archive": archive, "sha256": sha256})
    return rows


def project_dir(dest: Path, row: dict[str, str]) -> Path:
    return dest / row["batch"] / row["dist"].lower().replace("-", "_").replace(".", "_")


def fetch(dest: Path, rows: list[dict[str, str]]) -> None:
    downloads = dest / "archives"
    downloads.mkdir(parents=True, exist_ok=True)
    for row in rows:
        target = project_dir(dest, row)
        if target.is_dir():
            continue
        archive = downloads / row["archive"]
        if not archive.exists():
            spec = f"{row['dist']}=={row['version']}"
            wheel = ["--only-binary", ":all:"] if row["archive"].endswith(".whl") else []
            cmd = [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--quiet",
                "--no-deps",
                *wheel,
                "--dest",
                str(downloads),
                spec,
            ]
            done = subprocess.run(cmd, capture_output=True, text=True, check=False)
            if done.returncode != 0 or not archive.exists():
                sys.exit(f"beyond: could not download {row['archive']} ({spec}):\n{done.stderr[-1000:]}")
        digest = hashlib.sha256(archive.read_bytes()).hexdigest()
        if digest != row["sha256"]:
            sys.exit(f"beyond: {archive} has sha256 {digest}, beyond.lock pins {row['sha256']}")
        _unpack(archive, target)
        print(f"beyond: {row['dist']} {row['version']} -> {target}", file=sys.stderr)


def _unpack(archive: Path, target: Path) -> None:
    """Only the `.py` files: the tree asynclint would read in a checkout."""
    partial = target.with_name(target.name + ".partial")
    partial.mkdir(parents=True, exist_ok=True)  # (a wheel may hold no `.py` of its own)
    if archive.suffix == ".whl":
        with zipfile.ZipFile(archive) as whl:
            for name in whl.namelist():
                if name.endswith(".py") and ".dist-info/" not in name and ".data/" not in name:
                    whl.extract(name, partial)
    else:
        import tarfile

        with tarfile.open(archive) as tar:
            members = [m for m in tar.getmembers() if m.isfile() and m.name.endswith(".py")]
            tar.extractall(partial, members=members, filter="data")
    partial.rename(target)


def lint(dest: Path, rows: list[dict[str, str]], asynclint: list[str], extend_select: str | None) -> dict[str, list]:
    found: dict[str, list] = {}
    for row in rows:
        root = project_dir(dest, row)
        if not root.is_dir():
            sys.exit(f"beyond: {root} is missing: run `beyond.py fetch` first")
        cmd = [*asynclint, "check", ".", "--no-cache", "--exit-zero", "--output-format", "json"]
        if extend_select:
            cmd += ["--extend-select", extend_select]
        done = subprocess.run(cmd, cwd=root, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            sys.exit(f"beyond: asynclint failed on {root} ({done.returncode}):\n{done.stderr[-2000:]}")
        findings = json.loads(done.stdout)
        for finding in findings:
            finding["filename"] = os.path.relpath(finding["filename"], root)
        key = f"{row['batch']}/{row['dist']}"
        found[key] = findings
        print(f"beyond: {key}: {len(findings)}", file=sys.stderr)
    return found


def _key(project: str, finding: dict) -> tuple[str, str, str, int]:
    return (project, finding["code"], finding["filename"], finding["location"]["row"])


def table(found: dict[str, list], seed: int | None, per_project: int | None) -> str:
    """The findings to judge, one row each with an id: all of them, or with `per_project`
    at most that many of each project, drawn with `seed`."""
    lines = [
        "| id | rule | project | file:line | message | verdict | reason |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    number = 0
    for project in sorted(found):
        findings = sorted(found[project], key=lambda f: _key(project, f))
        if per_project is not None and len(findings) > per_project:
            findings = sorted(random.Random(seed).sample(findings, per_project), key=lambda f: _key(project, f))
        for finding in findings:
            number += 1
            message = finding["message"].replace("|", "\\|")
            place = f"{finding['filename']}:{finding['location']['row']}"
            lines.append(f"| B{number:03d} | {finding['code']} | {project} | {place} | {message} | | |")
    return "\n".join(lines) + "\n"


def compare(before: dict[str, list], after: dict[str, list]) -> str:
    old = {_key(p, f) for p, fs in before.items() for f in fs}
    new = {_key(p, f) for p, fs in after.items() for f in fs}
    out = [f"before {len(old)}, after {len(new)}: {len(old - new)} removed, {len(new - old)} added"]
    out += [f"- {p} {code} {path}:{row}" for p, code, path, row in sorted(old - new)]
    out += [f"+ {p} {code} {path}:{row}" for p, code, path, row in sorted(new - old)]
    return "\n".join(out) + "\n"


def _load(path: Path) -> dict[str, list]:
    try:
        found: dict[str, list] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        sys.exit(f"beyond: cannot read {path}: {exc}")
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("fetch", "lint"):
        one = sub.add_parser(name)
        one.add_argument("--dest", type=Path, default=_default_dest(), help="where the projects are unpacked")
        one.add_argument("--batch", action="append", help="only this batch of beyond.lock (repeatable)")
        if name == "lint":
            one.add_argument("--asynclint", default="asynclint", help="command to run (default: asynclint on PATH)")
            one.add_argument("--extend-select", help="also run these rules (opt-in ones), comma-separated")
            one.add_argument("--out", type=Path, required=True, help="the findings, JSON, per project")
    drawn = sub.add_parser("table")
    drawn.add_argument("findings", type=Path)
    drawn.add_argument("--seed", type=int, default=9)
    drawn.add_argument("--per-project", type=int, help="at most this many findings per project (drawn with --seed)")
    drawn.add_argument("--batch", action="append", help="only the projects of this batch (repeatable)")
    diff = sub.add_parser("compare")
    diff.add_argument("before", type=Path)
    diff.add_argument("after", type=Path)
    args = parser.parse_args()

    if args.command in ("fetch", "lint"):
        rows = read_lock(set(args.batch) if args.batch else None)
        if not rows:
            parser.error(f"no project of batch {args.batch} in {LOCK.name}")
        if args.command == "fetch":
            fetch(args.dest, rows)
        else:
            command = shlex.split(args.asynclint)
            if os.sep in command[0]:  # a relative path means from here, not from each project
                command[0] = os.path.abspath(command[0])
            found = lint(args.dest, rows, command, args.extend_select)
            args.out.write_text(json.dumps(found, indent=1), encoding="utf-8")
    elif args.command == "table":
        found = _load(args.findings)
        if args.batch:
            found = {key: value for key, value in found.items() if key.split("/", 1)[0] in args.batch}
        sys.stdout.write(table(found, args.seed, args.per_project))
    else:
        before, after = _load(args.before), _load(args.after)
        sys.stdout.write(compare(before, after))
    return 0


if __name__ == "__main__":
    sys.exit(main())
