"""Build the pinned benchmark corpus: real async-heavy Python code from PyPI.

The corpus lives outside the repository (it is ~50 MB of third-party code):
``$ASYNCLINT_BENCH_CORPUS`` or ``--dest``, default ``~/.cache/asynclint-bench/corpus``.

Layout::

    DEST/wheels/<file>                 downloaded archives, verified by sha256
    DEST/src/<name>-<version>/...      only the *.py files of each archive
    DEST/src/<name>-<version>/.sha256  marker: archive hash this tree came from

Usage: ``python benchmarks/corpus.py [--dest DIR] [--lock FILE] [--kind app|lib]``.
With ``--kind``, only the pins of that kind (the lock's fifth column) are built, nothing
else in DEST is touched, and their folders are printed one per line.
Standard library only.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_LOCK = HERE / "corpus.lock"
MARKER = ".sha256"


@dataclass(frozen=True)
class Pin:
    name: str
    version: str
    file: str
    sha256: str
    kind: str = "lib"  # "app": a deployable application; "lib": a library or framework

    @property
    def dirname(self) -> str:
        return f"{self.name}-{self.version}"


def cache_home() -> Path:
    """Root of everything the benchmarks keep outside the repository."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "asynclint-bench"


def default_dest() -> Path:
    env = os.environ.get("ASYNCLINT_BENCH_CORPUS")
    return Path(env).expanduser() if env else cache_home() / "corpus"


def read_lock(lock: Path = DEFAULT_LOCK) -> list[Pin]:
    pins = []
    for line in lock.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            pins.append(Pin(*line.split("\t")))
    return pins


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def is_unpacked(pin: Pin, src: Path) -> bool:
    marker = src / pin.dirname / MARKER
    return marker.is_file() and marker.read_text().strip() == pin.sha256


def target_args(file: str) -> tuple[str, ...]:
    """pip options that make pip pick exactly this archive, whatever python runs pip.

    A platform wheel (e.g. cp311 manylinux) is only chosen when pip is told its tags;
    pure wheels and sdists need no tags.
    """
    if file.endswith((".tar.gz", ".zip")):
        return ("--no-binary=:all:",)
    python_tag, abi, platforms = file[: -len(".whl")].split("-")[-3:]
    if platforms == "any":
        return ("--only-binary=:all:",)
    args = [
        "--only-binary=:all:",
        "--implementation",
        python_tag[:2],
        "--python-version",
        python_tag[2:],
        "--abi",
        abi,
    ]
    for platform in platforms.split("."):
        args += ["--platform", platform]
    return tuple(args)


def download(pins: list[Pin], wheels: Path) -> None:
    """Fetch the archives with pip, which checks every hash (--require-hashes)."""
    groups: dict[tuple[str, ...], list[Pin]] = {}
    for pin in pins:
        groups.setdefault(target_args(pin.file), []).append(pin)
    for args, group in groups.items():
        with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as req:
            for pin in group:
                req.write(f"{pin.name}=={pin.version} --hash=sha256:{pin.sha256}\n")
        try:
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "pip",
                    "download",
                    "--no-deps",
                    "--require-hashes",
                    "--quiet",
                    "--dest",
                    str(wheels),
                    "-r",
                    req.name,
                    *args,
                ],
                check=True,
            )
        finally:
            os.unlink(req.name)


def py_members(archive: Path):
    """Yield (relative path, bytes) for every .py file in a wheel or sdist."""
    if archive.suffix == ".whl" or archive.name.endswith(".zip"):
        with zipfile.ZipFile(archive) as z:
            for name in z.namelist():
                if name.endswith(".py"):
                    yield name, z.read(name)
    else:
        with tarfile.open(archive) as t:
            for member in t.getmembers():
                if member.isfile() and member.name.endswith(".py"):
                    yield member.name, t.extractfile(member).read()


def unpack(pin: Pin, archive: Path, src: Path) -> None:
    """Extract the .py files into a temp dir, then rename: a killed run leaves no half tree."""
    final = src / pin.dirname
    tmp = Path(tempfile.mkdtemp(prefix=f".{pin.dirname}-", dir=src))
    for name, data in py_members(archive):
        rel = Path(name)
        if rel.is_absolute() or ".." in rel.parts:  # never write outside the tree
            continue
        out = tmp / rel
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(data)
    (tmp / MARKER).write_text(pin.sha256 + "\n")
    shutil.rmtree(final, ignore_errors=True)
    tmp.rename(final)


def prune(pins: list[Pin], src: Path) -> None:
    """Drop trees no longer in the lock, so they are never benchmarked by mistake."""
    wanted = {pin.dirname for pin in pins}
    for entry in src.iterdir():
        if entry.is_dir() and entry.name not in wanted:
            shutil.rmtree(entry)


def build(dest: Path | None = None, lock: Path = DEFAULT_LOCK, kind: str | None = None) -> Path:
    """Make sure DEST/src holds the pinned corpus (only the pins of ``kind`` if given); return that folder."""
    dest = Path(dest or default_dest()).expanduser()
    wheels, src = dest / "wheels", dest / "src"
    wheels.mkdir(parents=True, exist_ok=True)
    src.mkdir(parents=True, exist_ok=True)
    all_pins = read_lock(lock)
    pins = [pin for pin in all_pins if kind is None or pin.kind == kind]
    todo = [pin for pin in pins if not is_unpacked(pin, src)]
    for pin in todo:  # a corrupt cached archive is fetched again
        archive = wheels / pin.file
        if archive.exists() and sha256_of(archive) != pin.sha256:
            archive.unlink()
    missing = [pin for pin in todo if not (wheels / pin.file).exists()]
    if missing:
        download(missing, wheels)
    for pin in todo:
        archive = wheels / pin.file
        if not archive.exists() or sha256_of(archive) != pin.sha256:
            sys.exit(f"corpus: {pin.file} missing or hash mismatch after download")
        unpack(pin, archive, src)
        print(f"corpus: unpacked {pin.dirname}", file=sys.stderr)
    prune(all_pins, src)
    return src


def count_lines(data: bytes) -> int:
    return data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--dest",
        type=Path,
        default=None,
        help=f"corpus folder (default: $ASYNCLINT_BENCH_CORPUS or {default_dest()})",
    )
    parser.add_argument("--lock", type=Path, default=DEFAULT_LOCK)
    parser.add_argument(
        "--kind",
        choices=("app", "lib"),
        default=None,
        help="only the pins of this kind; prints their folders, one per line",
    )
    args = parser.parse_args()
    src = build(args.dest, args.lock, args.kind)
    if args.kind:
        trees = [src / pin.dirname for pin in read_lock(args.lock) if pin.kind == args.kind]
        files = sorted(f for tree in trees for f in tree.rglob("*.py"))
        lines = sum(count_lines(p.read_bytes()) for p in files)
        print(
            f"corpus: {len(trees)} {args.kind} packages: {len(files)} files, {lines} lines",
            file=sys.stderr,
        )
        print("\n".join(map(str, trees)))
        return
    files = sorted(src.rglob("*.py"))
    lines = sum(count_lines(p.read_bytes()) for p in files)
    print(f"corpus: {src}: {len(files)} files, {lines} lines", file=sys.stderr)
    print(src)


if __name__ == "__main__":
    main()
