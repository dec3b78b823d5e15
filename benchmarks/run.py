"""Time asynclint side by side with the LibCST parse floor, ruff and flake8-async.

Every tool runs over the same files (the pinned corpus from corpus.py, or --paths),
copied once into a temporary work tree so asynclint's cache and the one-file edit never
touch the corpus. Prints a Markdown table; --json writes the same data as JSON.
See benchmarks/README.md for what each row means and the targets.

Standard library only; libcst is needed only by the python that runs parse_floor.py.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import os
import platform
import random
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import corpus

PEERS = {"ruff": "0.17.6", "flake8": "7.5.0", "flake8-async": "26.8.1"}
QUICK_LINES = 20_000  # --quick: corpus slice size
QUICK_FLAKE8_LINES = 5_000
SAMPLE_EVERY = 0.1  # s between memory samples; ru_maxrss catches shorter peaks
SKIP_DIRS = {"__pycache__", "node_modules", "site-packages"}
TARGETS_DOC = "benchmarks/README.md#targets"


# ---------------------------------------------------------------- file sets


@dataclass
class FileSet:
    root: Path  # every tool runs with this as cwd
    files: list[str]  # paths relative to root, sorted
    lines: dict[str, int] = field(repr=False)

    @property
    def total(self) -> int:
        return sum(self.lines[f] for f in self.files)

    def subset(self, files: list[str]) -> FileSet:
        return FileSet(self.root, sorted(files), self.lines)


def discover(paths: list[Path]) -> tuple[Path, list[Path]]:
    """All .py files under paths (hidden and vendored folders skipped) and their common root."""
    found = []
    for path in (p.resolve() for p in paths):
        if path.is_file():
            found.append(path)
            continue
        for folder, dirs, names in os.walk(path):
            dirs[:] = [d for d in dirs if not d.startswith(".") and d not in SKIP_DIRS]
            found += [Path(folder, n) for n in names if n.endswith(".py")]
    if not found:
        sys.exit("run: no .py files found")
    root = Path(os.path.commonpath([p.parent for p in found]))
    return root, found


def load_fileset(root: Path, files: list[Path]) -> FileSet:
    rel = sorted(str(f.relative_to(root)) for f in files)
    lines = {r: corpus.count_lines((root / r).read_bytes()) for r in rel}
    return FileSet(root, rel, lines)


def sample(fs: FileSet, budget: int, seed: int = 0) -> FileSet:
    """A fixed pseudo-random slice of about `budget` lines, spread over all packages.

    A plain "first N files" slice would all come from the alphabetically first package.
    """
    order = list(fs.files)
    random.Random(seed).shuffle(order)
    picked, total = [], 0
    for f in order:
        if total + fs.lines[f] <= budget:
            picked.append(f)
            total += fs.lines[f]
    return fs.subset(picked or order[:1])


def pick_file(fs: FileSet, want_lines: int) -> str:
    """The async file whose size is closest to want_lines (any file if none is async)."""

    def is_async(f: str) -> bool:
        return b"async def" in (fs.root / f).read_bytes()

    pool = [f for f in fs.files if is_async(f)] or fs.files
    return min(pool, key=lambda f: (abs(fs.lines[f] - want_lines), f))


def copy_tree(fs: FileSet, dest: Path) -> FileSet:
    for f in fs.files:
        (dest / f).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(fs.root / f, dest / f)
    return FileSet(dest, fs.files, fs.lines)


# ---------------------------------------------------------------- measuring


def descendants(pid: int) -> list[int]:
    """pid and all processes below it, found through the ppid field of /proc/*/stat."""
    children: dict[int, list[int]] = {}
    try:
        entries = [e for e in os.listdir("/proc") if e.isdigit()]
    except OSError:
        return []  # no /proc (macOS): only ru_maxrss is reported
    for entry in entries:
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])  # comm may contain spaces and ')'
        children.setdefault(ppid, []).append(int(entry))
    tree, stack = [], [pid]
    while stack:
        tree.append(stack.pop())
        stack += children.get(tree[-1], [])
    return tree


def pss_kb(pid: int) -> int:
    """Proportional set size: shared pages (forked workers, the libcst .so) count once in a sum."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


class TreeMemory(threading.Thread):
    """Peak of the summed PSS of a child and all its descendants, sampled in the background."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid, self.peak_kb, self.done = pid, 0, threading.Event()

    def run(self) -> None:
        while True:
            self.peak_kb = max(self.peak_kb, sum(map(pss_kb, descendants(self.pid))))
            if self.done.wait(SAMPLE_EVERY):
                return

    def stop(self) -> float:
        self.done.set()
        self.join()
        return self.peak_kb / 1024


@dataclass
class Run:
    wall: float
    cpu: float = 0.0
    peak_mb: float = 0.0
    out_lines: int = 0
    out_tail: str = ""
    err_tail: str = ""
    error: str = ""


def run_once(argv: list[str], cwd: Path, env: dict | None = None) -> Run:
    """One timed run. wait4 gives exact CPU and max RSS for the child and its reaped children."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        try:
            proc = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=err)
        except OSError as e:  # missing binary, or a file list too long for the OS
            return Run(0.0, error=f"cannot start: {e}")
        memory = TreeMemory(proc.pid)
        memory.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        except BaseException:  # Ctrl-C / SIGTERM: leave no tool running behind us
            proc.kill()
            raise
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)  # so Popen never waits again
        tree_mb = memory.stop()
        out.seek(0)
        stdout = out.read()
        err.seek(0)
        stderr = err.read().decode(errors="replace")
    scale = 1 if sys.platform == "darwin" else 1024  # ru_maxrss: bytes on macOS, KiB on Linux
    run = Run(
        wall,
        usage.ru_utime + usage.ru_stime,
        max(tree_mb, usage.ru_maxrss * scale / 2**20),
        stdout.count(b"\n"),
        stdout[-2000:].decode(errors="replace"),
        stderr[-2000:],
    )
    if proc.returncode != 0:
        run.error = f"exit {proc.returncode}: {stderr.strip()[-300:]}"
    return run


def measure(
    argv: list[str],
    cwd: Path,
    repeats: int,
    env: dict | None = None,
    before: Callable[[int], None] | None = None,
    median: bool = False,
) -> Run:
    """Best (or median) wall time of `repeats` runs; memory is the worst run's."""
    runs = []
    for i in range(repeats):
        if before:
            before(i)
        runs.append(run_once(argv, cwd, env))
        if runs[-1].error:
            return runs[-1]
    runs.sort(key=lambda r: r.wall)
    chosen = runs[len(runs) // 2] if median else runs[0]
    chosen.peak_mb = max(r.peak_mb for r in runs)
    return chosen


# ---------------------------------------------------------------- tools


def which(cmd: list[str]) -> list[str] | None:
    """cmd with its program as an absolute path (tools run in another cwd), or None."""
    exe = shutil.which(cmd[0]) if cmd else None
    return [os.path.abspath(exe), *cmd[1:]] if exe else None


def first_line(argv: list[str]) -> str:
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as e:
        return f"error: {e}"
    text = (out.stdout or out.stderr).strip()
    return " ".join(text.split()) if out.returncode == 0 else f"error: {text[-200:]}"


def peer(venv: Path, name: str) -> list[str] | None:
    """A peer tool from the pinned venv, else from PATH."""
    exe = venv / "bin" / name
    return [str(exe)] if exe.exists() else which([name])


def compile_bytecode(cmd: list[str]) -> None:
    """Compile asynclint's modules as pip does when it installs a wheel. An editable install
    run with PYTHONDONTWRITEBYTECODE set would compile them again on every run (about 50 ms,
    which no installed copy pays)."""
    python = Path(cmd[0]).with_name("python")
    if python.exists():
        code = "import asynclint, compileall, os; compileall.compile_dir(os.path.dirname(asynclint.__file__), quiet=1)"
        subprocess.run([str(python), "-c", code], capture_output=True, timeout=120)


def setup_peers(venv: Path) -> None:
    """Pinned ruff / flake8 / flake8-async in their own venv: the repo's env stays clean."""
    if not (venv / "bin" / "python").exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pins = [f"{name}=={version}" for name, version in PEERS.items()]
    subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", *pins], check=True)


# ---------------------------------------------------------------- rows

# Row names, shared by the benches, the ratios and the targets.
FLOOR, FLOOR_1 = "parse floor (libcst.parse_module)", "parse floor: 1 small file"
RUFF, RUFF_1 = "ruff --select ASYNC, cold", "ruff: 1 small file"
FLAKE8 = "flake8 --select ASYNC (flake8-async), slice"
COLD, PRIME = "asynclint cold (--no-cache)", "asynclint cold, writing cache"
COLD_OFF = "asynclint cold, project analysis off (--no-cache --no-project-analysis)"
COLD_EACH = "asynclint cold, each package its own project (--no-cache)"
WARM, CHANGED = "asynclint warm, no change", "asynclint warm, 1 file changed"
HELPER_CHANGED = "asynclint warm, 1 helper changed (facts change)"
# A sync helper 32 of dstack's async modules call: a blocking call added to it (and taken away
# again) changes its facts, and the chains of everything that calls it.
HELPER = ("dstack/_internal/utils/common.py", "def get_current_datetime() -> datetime:\n", "    time.sleep(0)\n")
SINGLE = "asynclint: 1 small file (--no-cache)"
FIX_PRIME, FIX_WARM = "asynclint --fix, applying the corpus's safe fixes", "asynclint warm --fix, nothing to fix"
KIND = {FLOOR_1: "single", RUFF_1: "single", SINGLE: "single"}  # the rest: "corpus"


@dataclass
class Row:
    name: str
    files: int | None = None
    lines: int | None = None
    wall_s: float | None = None
    cpu_s: float | None = None
    peak_mb: float | None = None
    out_lines: int | None = None
    status: str = "ok"  # ok | skipped | error
    note: str = ""
    command: str = ""
    lines_per_s: float | None = None
    x_floor: float | None = None
    # The cold row only: the median of its wall time over the floor's, the floor timed just
    # before each repeat (the floor row is timed minutes earlier, and a machine drifts).
    x_floor_beside: float | None = None
    output_tail: str = ""  # JSON only: last output lines, to see what a tool really did


def skipped(names: tuple[str, ...], why: str) -> list[Row]:
    return [Row(name, status="skipped", note=why) for name in names]


def show(argv: list[str], fs: FileSet) -> str:
    """The command as a person would retype it, with the file list abbreviated."""
    listed = set(fs.files)
    head = [a for a in argv if a not in listed]
    return shlex.join(head) + f" <{len(fs.files)} files>"


def row(name: str, argv: list[str], fs: FileSet, run: Run, note: str = "") -> Row:
    r = Row(name, len(fs.files), fs.total, command=show(argv, fs), note=note)
    if run.error:
        r.status, r.note = "error", run.error
        return r
    r.wall_s, r.cpu_s, r.peak_mb, r.out_lines = run.wall, run.cpu, run.peak_mb, run.out_lines
    r.output_tail = "\n".join(run.out_tail.splitlines()[-3:] + run.err_tail.splitlines()[-2:])
    r.lines_per_s = r.lines / r.wall_s if r.wall_s else None
    return r


class Bench:
    """Holds the options, the file sets and the work tree; one method per tool, each gives rows."""

    def __init__(self, args: argparse.Namespace, fs: FileSet):
        self.args, self.fs = args, fs
        self.small = fs.subset([pick_file(fs, 150)])
        self.changed = pick_file(fs, statistics.median_low(fs.lines.values()))
        self.xdg = fs.root.parent / "xdg-cache"
        self.pristine = set(os.listdir(fs.root))
        self.versions: dict[str, str] = {}
        self.floor_argv: list[str] | None = None  # the whole corpus's floor, once it ran

    def timed(
        self, name: str, argv: list[str], fs: FileSet, repeats: int, note: str = "", median: bool = False, **kw
    ) -> Row:
        run = measure(argv, self.fs.root, repeats, median=median, **kw)
        how = f"median of {repeats}" if median else f"best of {repeats}"
        return row(name, argv, fs, run, f"{note}; {how}" if note else how)

    def floor(self) -> list[Row]:
        a = self.args
        probe = first_line(
            [a.floor_python, "-c", "import importlib.metadata as m; print('libcst', m.version('libcst'))"]
        )
        if probe.startswith("error"):
            return skipped((FLOOR, FLOOR_1), f"{a.floor_python} has no libcst (--floor-python)")
        self.versions["floor"] = probe
        listing = self.fs.root.parent / "files.txt"
        listing.write_text("\n".join(self.fs.files) + "\n")
        base = [a.floor_python, str(HERE / "parse_floor.py"), "--jobs", str(a.jobs)]
        whole = self.timed(FLOOR, [*base, "--files-from", str(listing)], self.fs, a.repeats, f"{a.jobs} processes")
        if whole.status == "ok":
            failed = json.loads(whole.output_tail.splitlines()[0])["failed"]
            whole.note += f"; {failed} files LibCST cannot parse" if failed else ""
            self.floor_argv = [*base, "--files-from", str(listing)]
        whole.command = shlex.join(base) + f" --files-from <{len(self.fs.files)} files>"
        single = self.timed(
            FLOOR_1, base + self.small.files, self.small, a.single_repeats, self.small.files[0], median=True
        )
        for r in (whole, single):
            r.out_lines = None  # a JSON summary, not findings
        return [whole, single]

    def ruff(self) -> list[Row]:
        a, cmd = self.args, peer(self.args.peers_venv, "ruff")
        if not cmd:
            return skipped((RUFF, RUFF_1), "ruff not found (--setup-peers)")
        self.versions["ruff"] = first_line([*cmd, "--version"])
        base = [
            *cmd,
            "check",
            "--isolated",
            "--no-cache",
            "--select",
            "ASYNC",
            "--exit-zero",
            "-q",
            "--output-format",
            "concise",
        ]
        return [
            self.timed(RUFF, base + self.fs.files, self.fs, a.fast_repeats),
            self.timed(RUFF_1, base + self.small.files, self.small, a.single_repeats, median=True),
        ]

    def flake8(self) -> list[Row]:
        a, cmd = self.args, peer(self.args.peers_venv, "flake8")
        version = first_line([*cmd, "--version"]) if cmd else ""
        if "flake8-async" not in version:
            return skipped((FLAKE8,), "flake8 with flake8-async not found (--setup-peers)")
        self.versions["flake8"] = version
        part = sample(self.fs, a.flake8_lines)
        r = self.timed(FLAKE8, [*cmd, "--isolated", "--select", "ASYNC", "--exit-zero", *part.files], part, a.repeats)
        if r.lines_per_s:
            r.note += f"; all {self.fs.total} lines would take {self.fs.total / r.lines_per_s:.0f} s"
        return [r]

    def asynclint(self) -> list[Row]:
        a, cmd = self.args, which(shlex.split(self.args.asynclint))
        if not cmd:
            return skipped(
                (COLD, COLD_OFF, COLD_EACH, PRIME, WARM, CHANGED, HELPER_CHANGED, SINGLE, FIX_PRIME, FIX_WARM),
                f"`{a.asynclint}` not found",
            )
        self.versions["asynclint"] = first_line([*cmd, "--version"])
        compile_bytecode(cmd)
        env = dict(os.environ, XDG_CACHE_HOME=str(self.xdg))  # a cache under ~/.cache stays ours
        base = [*cmd, "check", "--exit-zero", "-q", "--output-format", "concise"]
        full, fresh = base + self.fs.files, [*base, "--no-cache", *self.fs.files]
        rows = [self.cold_beside_floor(fresh, env)]
        # The same without project analysis: what reading the whole project for facts costs.
        off = [*base, "--no-cache", "--no-project-analysis", *self.fs.files]
        rows.append(self.timed(COLD_OFF, off, self.fs, a.repeats, env=env, before=self.clear_cache))
        rows.append(self.each_package(fresh, env))
        self.clear_cache()
        rows.append(self.timed(PRIME, full, self.fs, 1, "primes the cache for the next rows", env=env))
        rows.append(self.timed(WARM, full, self.fs, a.fast_repeats, env=env))
        target = self.fs.root / self.changed
        original = target.read_bytes()
        try:
            rows.append(
                self.timed(
                    CHANGED,
                    full,
                    self.fs,
                    a.fast_repeats,
                    f"edits {self.changed}",
                    env=env,
                    before=lambda i: self.edit(target, original, i),
                )
            )
        finally:
            target.write_bytes(original)
        rows.append(self.helper_changed(full, env))
        rows.append(
            self.timed(
                SINGLE, [*base, "--no-cache", *self.small.files], self.small, a.single_repeats, median=True, env=env
            )
        )
        # Last: the first --fix edits the work tree's copy of the corpus; after it, nothing is
        # left to fix and --fix should cost about what a warm check does (the cache answers).
        fix = [*base, "--fix", *self.fs.files]
        rows.append(self.timed(FIX_PRIME, fix, self.fs, 1, "edits the work tree; primes the next row", env=env))
        rows.append(self.timed(FIX_WARM, fix, self.fs, a.fast_repeats, env=env))
        return rows

    def cold_beside_floor(self, argv: list[str], env: dict) -> Row:
        """The cold row, each repeat right after a run of the floor (where the floor ran):
        `x_floor_beside` is the median ratio of the pairs, which a machine's drift between
        the floor row and this one does not move."""
        runs: list[Run] = []
        floors: list[float] = []
        for _ in range(self.args.repeats):
            self.clear_cache()
            if self.floor_argv is not None:
                floor = run_once(self.floor_argv, self.fs.root)
                floors.append(floor.wall if not floor.error else 0.0)
            runs.append(run_once(argv, self.fs.root, env))
            if runs[-1].error:
                return row(COLD, argv, self.fs, runs[-1])
        best = min(runs, key=lambda r: r.wall)
        best.peak_mb = max(r.peak_mb for r in runs)
        result = row(COLD, argv, self.fs, best, f"best of {self.args.repeats}")
        ratios = [r.wall / floor for r, floor in zip(runs, floors, strict=False) if floor > 0]  # none: no floor
        if ratios:
            result.x_floor_beside = statistics.median(ratios)
            result.note += f"; {result.x_floor_beside:.2f}x a floor timed just before each repeat (median)"
        return result

    def each_package(self, argv: list[str], env: dict) -> Row:
        """The cold run once per top-level folder (a package of the corpus), each its own
        project, as a user runs it on one application: wall and CPU summed, the worst peak.
        The row above reads them all as one project, where one application's names can
        send another's modules to be read."""
        files = set(self.fs.files)
        head = [arg for arg in argv if arg not in files]
        packages: dict[str, list[str]] = {}
        for f in self.fs.files:
            packages.setdefault(f.split("/", 1)[0], []).append(f)
        total = Run(0.0)
        for names in packages.values():
            self.clear_cache()
            run = run_once([*head, *names], self.fs.root, env)
            if run.error:
                return row(COLD_EACH, argv, self.fs, run)
            total.wall += run.wall
            total.cpu += run.cpu
            total.peak_mb = max(total.peak_mb, run.peak_mb)
            total.out_lines += run.out_lines
        return row(
            COLD_EACH,
            argv,
            self.fs,
            total,
            f"{len(packages)} runs, one per package; times summed, each with its start-up",
        )

    def helper_changed(self, argv: list[str], env: dict) -> Row:
        """`HELPER` starts blocking, then stops, and so on: each run sees its facts changed."""
        path, line, added = HELPER
        found = [f for f in self.fs.files if f.endswith(path)]
        target = self.fs.root / found[0] if found else None
        original = target.read_bytes() if target else b""
        if target is None or line.encode() not in original:
            return Row(HELPER_CHANGED, status="skipped", note=f"no {path} with `{line.strip()}` in the corpus")
        edited = original.replace(line.encode(), (line + added).encode(), 1)
        try:
            return self.timed(
                HELPER_CHANGED,
                argv,
                self.fs,
                self.args.fast_repeats,
                f"adds and takes away `{added.strip()}` in `{line.strip()}` of {found[0]}",
                env=env,
                before=lambda i: target.write_bytes(original if i % 2 else edited),
            )
        finally:
            target.write_bytes(original)

    @staticmethod
    def edit(target: Path, original: bytes, i: int) -> None:
        """A new trailing comment each repeat, so every run sees exactly one changed file."""
        sep = b"" if original.endswith(b"\n") else b"\n"
        target.write_bytes(original + sep + f"# asynclint-bench edit {i}\n".encode())

    def clear_cache(self, _: int = 0) -> None:
        """Delete asynclint's cache wherever it may be: XDG dir, anything new in the tree, the option."""
        shutil.rmtree(self.xdg, ignore_errors=True)
        for entry in set(os.listdir(self.fs.root)) - self.pristine:
            path = self.fs.root / entry
            shutil.rmtree(path) if path.is_dir() else path.unlink()
        if self.args.asynclint_cache_dir:
            shutil.rmtree(self.fs.root / self.args.asynclint_cache_dir, ignore_errors=True)

    def run_all(self) -> list[Row]:
        rows = []
        for tool in ("floor", "ruff", "flake8", "asynclint"):
            if tool in self.args.skip:
                continue
            print(f"run: {tool} ...", file=sys.stderr)
            for r in getattr(self, tool)():  # progress: a full run can take many minutes
                print(
                    f"run:   {r.name}: {fmt(r.wall_s, '.3f')} s, {fmt(r.cpu_s, '.2f')} CPU s, "
                    f"{fmt(r.peak_mb, '.0f')} MB {r.status}",
                    file=sys.stderr,
                )
                rows.append(r)
        add_ratios(rows)
        return rows


def add_ratios(rows: list[Row]) -> None:
    """x floor = how many times longer per line than the parse floor of the same kind."""
    floor = {KIND.get(r.name, "corpus"): r.lines_per_s for r in rows if r.name in (FLOOR, FLOOR_1)}
    for r in rows:
        ref = floor.get(KIND.get(r.name, "corpus"))
        if r.lines_per_s and ref:
            r.x_floor = ref / r.lines_per_s


# ---------------------------------------------------------------- targets and output


def targets(rows: list[Row], cold_limit: float = 1.5) -> list[dict]:
    """The performance targets of README.md, each ok / failed / n/a (a row is missing).
    `cold_limit`: the cold row's x floor allowed (1.0 on the application corpus)."""
    by = {r.name: r for r in rows if r.status == "ok"}
    cold, warm, ruff, flake8, small = (by.get(n) for n in (COLD, WARM, RUFF, FLAKE8, SINGLE))
    warm_fix = by.get(FIX_WARM)
    changed, helper = by.get(CHANGED), by.get(HELPER_CHANGED)
    peak = lambda: max(by[n].peak_mb for n in (COLD, COLD_OFF, PRIME, WARM, CHANGED, HELPER_CHANGED) if n in by)
    cold_ratio = lambda: cold.x_floor_beside if cold.x_floor_beside is not None else cold.x_floor

    def check(name: str, limit: str, value_ok: Callable[[], tuple[str, bool]]) -> dict:
        try:
            value, ok = value_ok()
        except (AttributeError, TypeError, ValueError, ZeroDivisionError):  # a row is missing
            value, ok = None, None
        return {"target": name, "value": value, "limit": limit, "ok": ok}

    return [
        check(
            f"cold <= {cold_limit:g}x parse floor (timed beside it, where it was)",
            f"{cold_limit:g}x",
            lambda: (f"{cold_ratio():.2f}x", cold_ratio() <= cold_limit),
        ),
        check(
            "warm <= ruff cold time",
            "ruff's time",
            lambda: (f"{warm.wall_s:.2f} s vs {ruff.wall_s:.2f} s", warm.wall_s <= ruff.wall_s),
        ),
        check(
            ">= 20x faster than flake8-async",
            "20x",
            lambda: (f"{cold.lines_per_s / flake8.lines_per_s:.1f}x", cold.lines_per_s >= 20 * flake8.lines_per_s),
        ),
        check(
            "1 small file end to end <= 250 ms",
            "250 ms",
            lambda: (f"{small.wall_s * 1000:.0f} ms", small.wall_s <= 0.25),
        ),
        check(
            "warm --fix, nothing to fix <= 2x warm",
            "2x warm",
            lambda: (f"{warm_fix.wall_s:.2f} s vs {warm.wall_s:.2f} s", warm_fix.wall_s <= 2 * warm.wall_s),
        ),
        check("1 file changed <= 0.5 s", "0.5 s", lambda: (f"{changed.wall_s:.2f} s", changed.wall_s <= 0.5)),
        check(
            "1 helper changed (facts change) <= 0.5 s",
            "0.5 s",
            lambda: (f"{helper.wall_s:.2f} s", helper.wall_s <= 0.5),
        ),
        check("peak memory <= 300 MB (whole corpus)", "300 MB", lambda: (f"{peak():.0f} MB", peak() <= 300)),
    ]


def fmt(value, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def table(header: list[str], body: list[list[str]], numeric: range = range(0)) -> list[str]:
    """A Markdown table whose `numeric` columns are right-aligned."""
    align = ["---:" if i in numeric else "---" for i in range(len(header))]
    return [f"| {' | '.join(cells)} |" for cells in (header, align, *body)]


def markdown(rows: list[Row], checks: list[dict], meta: dict) -> str:
    out = [
        f"Corpus: {meta['files']} files, {meta['lines']} lines ({meta['root_label']}); "
        f"{meta['cpu_count']} CPUs, Python {meta['python']}; load average "
        f"{meta['load_average']['before']:.1f} before, {meta['load_average']['after']:.1f} after",
        "",
    ]
    body = [
        [
            r.name,
            fmt(r.files, "d"),
            fmt(r.lines, "d"),
            fmt(r.wall_s, ".3f"),
            fmt(r.lines_per_s, ",.0f"),
            fmt(r.x_floor, ".2f"),
            fmt(r.cpu_s, ".2f"),
            fmt(r.peak_mb, ".0f"),
            fmt(r.out_lines, "d"),
            (r.note if r.status == "ok" else f"**{r.status}**: {r.note}").replace("|", "/"),
        ]
        for r in rows
    ]
    out += table(
        ["row", "files", "lines", "wall s", "lines/s", "x floor", "CPU s", "peak MB", "out lines", "notes"],
        body,
        numeric=range(1, 9),
    )
    results = [
        [c["target"], c["value"] or "-", c["limit"], "n/a" if c["ok"] is None else ("ok" if c["ok"] else "**FAILED**")]
        for c in checks
    ]
    out += ["", f"Targets ({TARGETS_DOC}):", ""]
    out += table(["target", "measured", "limit", "result"], results)
    versions = "; ".join(f"{k}: {v}" for k, v in meta["versions"].items())
    out += ["", f"Commands (run in a temporary copy of the files; versions: {versions}):", ""]
    out += [f"- {r.name}: `{r.command}`" for r in rows if r.command]
    return "\n".join(out)


# ---------------------------------------------------------------- main


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--paths", nargs="+", type=Path, help="benchmark these instead of the corpus")
    p.add_argument("--dest", type=Path, default=None, help=f"corpus folder (default {corpus.default_dest()})")
    p.add_argument(
        "--kind", choices=("app", "lib"), help="only the corpus packages of this kind (corpus.lock's kind column)"
    )
    p.add_argument("--asynclint", default="asynclint", help='command, e.g. "python -m asynclint"')
    p.add_argument("--asynclint-cache-dir", help="extra cache dir to clear, relative to the work tree")
    p.add_argument("--floor-python", default=sys.executable, help="python with libcst for the floor")
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="parse floor processes")
    p.add_argument("--repeats", type=int, default=1, help="best-of for the slow corpus rows")
    p.add_argument("--fast-repeats", type=int, default=3, help="best-of for ruff and warm asynclint")
    p.add_argument("--single-repeats", type=int, default=10, help="median-of for the 1-file rows")
    p.add_argument("--flake8-lines", type=int, default=30_000, help="size of the flake8 slice")
    p.add_argument("--quick", action="store_true", help=f"smoke test on a ~{QUICK_LINES}-line slice")
    p.add_argument("--skip", default="", help="comma list of: floor,ruff,flake8,asynclint")
    p.add_argument("--json", type=Path, help="also write the results here")
    p.add_argument("--setup-peers", action="store_true", help="install pinned ruff/flake8-async first")
    p.add_argument("--peers-venv", type=Path, default=corpus.cache_home() / "peers-venv")
    args = p.parse_args(argv)
    args.skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    args.floor_python = (which([args.floor_python]) or [args.floor_python])[0]
    args.peers_venv = args.peers_venv.expanduser().absolute()
    if args.quick:
        args.flake8_lines = min(args.flake8_lines, QUICK_FLAKE8_LINES)
        args.single_repeats = min(args.single_repeats, 3)
        args.fast_repeats = 1
    return args


def busy_warning() -> float:
    """Other work on the machine skews wall times (not CPU s much): say so up front."""
    load = os.getloadavg()[0]
    if load > 0.5 * (os.cpu_count() or 1):
        print(
            f"run: warning: load average {load:.1f} on {os.cpu_count()} CPUs; "
            "wall times will be inflated, compare CPU s or rerun on an idle machine",
            file=sys.stderr,
        )
    return load


def libcst_versions(args: argparse.Namespace) -> tuple[str, str] | None:
    """(the floor's LibCST, asynclint's) where they differ, else None. A floor parsed with
    another LibCST measures another parser (1.0 is slower than 1.9 and builds bigger trees):
    every "x floor" ratio would compare asynclint with it, not with its own parse."""
    cmd = which(shlex.split(args.asynclint))
    if "floor" in args.skip or "asynclint" in args.skip or not cmd:
        return None
    python = Path(cmd[0]).with_name("python")  # the venv asynclint's console script runs in
    probe = "import importlib.metadata as m; print('libcst', m.version('libcst'))"
    floor, ours = (first_line([str(py), "-c", probe]) for py in (args.floor_python, python))
    if floor.startswith("error") or ours.startswith("error") or floor == ours:
        return None
    return floor, ours


def main(argv: list[str] | None = None) -> None:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("run: terminated"))  # so `finally` cleans up
    args = parse_args(argv)
    differ = libcst_versions(args)
    if differ is not None:
        sys.exit(
            f"run: the floor's python has {differ[0]}, asynclint's has {differ[1]}: the ratios would "
            f"compare asynclint with another parser. Run run.py with asynclint's python, or pass "
            f"--floor-python {Path(which(shlex.split(args.asynclint))[0]).with_name('python')}"
        )
    if args.setup_peers:
        setup_peers(args.peers_venv)
    if args.paths:
        root, files = discover(args.paths)
        label = " ".join(map(str, args.paths))
    else:
        root = corpus.build(args.dest, kind=args.kind)
        if args.kind:
            trees = [root / pin.dirname for pin in corpus.read_lock() if pin.kind == args.kind]
            files = [f for tree in trees for f in tree.rglob("*.py")]
            label = f"pinned corpus {root}, {args.kind} packages only ({len(trees)})"
        else:
            files, label = list(root.rglob("*.py")), f"pinned corpus {root}"
    fs = load_fileset(root, files)
    if args.quick:
        fs = sample(fs, QUICK_LINES)
    load_before = busy_warning()
    work = Path(tempfile.mkdtemp(prefix="asynclint-bench-"))
    try:
        bench = Bench(args, copy_tree(fs, work / "tree"))
        rows = bench.run_all()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    meta = {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "root_label": label + (" (--quick slice)" if args.quick else ""),
        "files": len(fs.files),
        "lines": fs.total,
        "cpu_count": os.cpu_count(),
        "load_average": {"before": load_before, "after": os.getloadavg()[0]},
        "platform": platform.platform(),
        "python": platform.python_version(),
        "lock_sha256": hashlib.sha256(corpus.DEFAULT_LOCK.read_bytes()).hexdigest(),
        "versions": bench.versions,
        "small_file": bench.small.files[0],
        "changed_file": bench.changed,
        "args": {k: str(v) for k, v in vars(args).items()},
    }
    # #18: on application code, a cold run should cost no more than the parse itself.
    checks = targets(rows, cold_limit=1.0 if args.kind == "app" else 1.5)
    print(markdown(rows, checks, meta))
    if args.json:
        args.json.write_text(
            json.dumps({"meta": meta, "rows": [vars(r) for r in rows], "targets": checks}, indent=2) + "\n"
        )


if __name__ == "__main__":
    main()
