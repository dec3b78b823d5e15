"""`asynclint check --stdin-filename PATH -`: the source on stdin, linted as if it were at
PATH: that file's settings (found by the CLI from PATH), its project's index (the other
modules as on disk, this one as given) and its noqa comments. With `--fix`, the fixed
source goes to stdout and the report to stderr; with `--diff`, the diff to stdout."""

from __future__ import annotations

import os
import sys

from asynclint.config import Settings
from asynclint.server import pipeline


def check_stdin(
    path: str,
    settings: Settings,
    *,
    fix: bool,
    diff: bool,
    unsafe: bool,
    report,
    use_cache: bool = True,
) -> int:
    """Runs the check; `report(findings, stream, text, fixed=n)` prints them. The exit code."""
    from asynclint.fixer import unified_diff
    from asynclint.source import UnreadableSource, decode

    data = sys.stdin.buffer.read()
    try:
        text = decode(data).text
    except UnreadableSource as exc:
        print(f"asynclint: error: stdin: {exc}", file=sys.stderr)
        return 2
    index = _index(path, text, settings, use_cache)
    if not fix and not diff:
        found = _findings(text, path, settings, index)
        report(found, sys.stdout, text)
        return 1 if found else 0
    fixed, done, notes = pipeline.fix_all(text, path, settings, unsafe=unsafe)
    for note in notes:
        print(f"asynclint: {note}", file=sys.stderr)
    if diff:
        sys.stdout.write(unified_diff(text, fixed, path))
        print(
            f"Would fix {len(done)} error{'s' if len(done) != 1 else ''}.",
            file=sys.stderr,
        )
        return 1 if fixed != text else 0
    sys.stdout.write(fixed)
    sys.stdout.flush()
    remaining = _findings(
        fixed,
        path,
        settings,
        _index(path, fixed, settings, use_cache) if index is not None else None,
    )
    report(remaining, sys.stderr, fixed, fixed=len(done))
    return 1 if remaining else 0


def _index(path: str, text: str, settings: Settings, use_cache: bool):
    """The project's index with this module's facts from `text`; None without project analysis."""
    if not pipeline.wants_project(settings):
        return None
    # The project: the config's folder, else the file's own (as `check PATH` takes it).
    root = (
        settings.root
        if settings.config_file
        else os.path.dirname(os.path.abspath(path))
    )
    facts = pipeline.project_facts(
        pipeline.project_files(settings, root), settings, use_cache=use_cache
    )
    own = pipeline.first_pass(text, path, settings).facts
    facts.pop(os.path.abspath(path), None)
    if own:
        facts[os.path.abspath(path)] = own
    return pipeline.build_index(facts.values())


def _findings(text: str, path: str, settings: Settings, index):
    if index is None:
        return pipeline.standalone(text, path, settings)
    return pipeline.with_index(
        pipeline.first_pass(text, path, settings), text, path, settings, index
    )
