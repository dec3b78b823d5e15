"""The command line: click commands that wire discovery, config, engine and reporters.

No linting logic lives here. Errors the user can fix (a bad path, a bad config
value, an unknown code) are one line on stderr and exit code 2.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import os
import shutil
import sys
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, NoReturn, TextIO, cast

import click

from asynclint import __version__
from asynclint.reporters import FORMATS

if TYPE_CHECKING:
    from types import FrameType

    from rich.progress import Progress, TaskID

    from asynclint.diagnostics import Diagnostic, InternalError
    from asynclint.job import FixMode, RunResult
    from asynclint.pipeline import Project, Request

ISSUES_URL = "https://github.com/asynclint/asynclint/issues"


def _fail(message: str) -> NoReturn:
    click.echo(f"asynclint: error: {message}", err=True)
    sys.exit(2)


def _codes(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in value.split(",") if part.strip())


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="asynclint", message="%(prog)s %(version)s")
def cli() -> None:
    """asynclint: catch the mistakes that quietly break async Python backends."""


class _PathName(click.Path):
    """A path as given, not looked at (`click.Path` stats each one: pre-commit and CI name
    thousands); discovery says which do not exist. Shells still complete it as a path."""

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> str | bytes | os.PathLike[str]:
        return cast("str | bytes | os.PathLike[str]", value)


@cli.command()
@click.argument("paths", nargs=-1, type=_PathName())
@click.option("--select", help="Rule codes or prefixes to enable (comma-separated), e.g. ASL2,ASL101.")
@click.option("--extend-select", help="Codes or prefixes to enable in addition to the selected ones.")
@click.option("--ignore", help="Codes or prefixes to disable.")
@click.option(
    "--output-format",
    type=click.Choice(FORMATS),
    default=None,
    help="How to print findings [default: full].",
)
@click.option("-o", "--output-file", type=click.Path(dir_okay=False), help="Write the report to this file.")
@click.option("--target-version", help="Python version to target: py310 .. py314.")
@click.option("--config", "config_file", type=click.Path(), help="Use this pyproject.toml instead of searching.")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when there are findings.")
@click.option(
    "--exit-non-zero-on-fix", is_flag=True, help="Exit 1 when fixes were applied, even if no finding remains."
)
@click.option("--statistics", is_flag=True, help="Show a count per rule instead of each finding.")
@click.option("--no-cache", is_flag=True, help="Do not read or write the cache.")
@click.option(
    "--cache-dir",
    type=click.Path(file_okay=False),
    help="The cache's folder [default: ASYNCLINT_CACHE_DIR, else .asynclint_cache in each project's root].",
)
@click.option("--force-exclude", is_flag=True, help="Apply excludes also to files named on the command line.")
@click.option("-q", "--quiet", is_flag=True, help="Print findings only, no summary.")
@click.option("-s", "--silent", is_flag=True, help="Print nothing (errors that exit 2 excepted); the exit code tells.")
@click.option(
    "--color",
    type=click.Choice(["auto", "always", "never"]),
    default="auto",
    help="Colour the output [default: auto: on a terminal, unless NO_COLOR is set or FORCE_COLOR forces it].",
)
@click.option("--fix", is_flag=True, help="Apply safe fixes and write the files.")
@click.option("--unsafe-fixes", is_flag=True, help="Also apply fixes that may change behaviour (with --fix or --diff).")
@click.option("--diff", is_flag=True, help="Print the fixes as a unified diff; write nothing (exit 1 if any).")
@click.option("--show-fixes", is_flag=True, help="List the findings that were fixed.")
@click.option("--add-noqa", is_flag=True, help="Add `# noqa: ASLnnn` to every line with findings (to adopt asynclint).")
@click.option(
    "--no-project-analysis", is_flag=True, help="Lint each file on its own: no facts from the rest of the project."
)
@click.option(
    "--show-files", is_flag=True, help="List the files that would be linted, each with its configuration, and exit."
)
@click.option(
    "--show-settings",
    "show_settings",
    is_flag=True,
    help="Print the settings the first file would be linted with, and exit.",
)
@click.option(
    "--stdin-filename",
    type=click.Path(dir_okay=False),
    help="With PATH `-`: lint stdin as if it were this file (its config, project and noqa).",
)
def check(
    paths: tuple[str, ...],
    select: str | None,
    extend_select: str | None,
    ignore: str | None,
    output_format: str | None,
    output_file: str | None,
    target_version: str | None,
    config_file: str | None,
    exit_zero: bool,
    exit_non_zero_on_fix: bool,
    statistics: bool,
    no_cache: bool,
    cache_dir: str | None,
    force_exclude: bool,
    quiet: bool,
    silent: bool,
    color: str,
    fix: bool,
    unsafe_fixes: bool,
    diff: bool,
    show_fixes: bool,
    add_noqa: bool,
    no_project_analysis: bool,
    show_files: bool,
    show_settings: bool,
    stdin_filename: str | None,
) -> None:
    """Lint PATHS (files or folders; default: the current folder; `-`: stdin)."""
    from asynclint import pipeline
    from asynclint.config import ConfigError, check_selectors, parse_target
    from asynclint.discovery import DiscoveryError

    mode: FixMode = "diff" if diff else "fix" if fix else None
    if add_noqa and mode:
        _fail("--add-noqa cannot be combined with --fix or --diff")
    paths = paths or (".",)
    sources: dict[str, str] = {}
    if "-" in paths or stdin_filename:
        if paths != ("-",) or not stdin_filename:
            _fail("stdin is read with `-` as the only PATH and --stdin-filename naming the file")
        if add_noqa:
            _fail("--add-noqa cannot be combined with stdin")
        paths = (stdin_filename,)
        sources = {stdin_filename: _read_stdin()}
    try:
        overrides = pipeline.Overrides(
            select=check_selectors(_codes(select), "--select") if select is not None else None,
            extend_select=check_selectors(_codes(extend_select), "--extend-select")
            if extend_select is not None
            else None,
            ignore=check_selectors(_codes(ignore), "--ignore") if ignore is not None else None,
            target_version=parse_target(target_version, "--target-version") if target_version else None,
            project_analysis=False if no_project_analysis else None,
        )
        request = pipeline.Request(
            paths=tuple(paths),
            overrides=overrides,
            config_file=config_file,
            force_exclude=force_exclude,
            fix=mode,
            unsafe=unsafe_fixes,
            use_cache=not no_cache,
            sources=sources,
            cache_dir=os.path.abspath(cache_dir) if cache_dir else None,
        )
        if show_files or show_settings:
            _show(request, show_settings)
            sys.exit(0)
        plan = pipeline.plan(request)
    except (ConfigError, DiscoveryError) as exc:
        _fail(str(exc))
        return
    for item in plan.skipped:
        click.echo(f"asynclint: warning: {item.path}: {item.reason}; skipped", err=True)
    # A folder that could not be read may hold findings: the run is incomplete (exit 2).
    incomplete = any(item.lost for item in plan.skipped) and not exit_zero
    projects = plan.projects

    if mode and any(p.settings.fix_format == "ruff" for p in projects):
        import importlib.util

        if importlib.util.find_spec("ruff_api") is None:
            _fail('fix-format = "ruff" needs the ruff extra: pip install "asynclint[ruff]"')
    size = sum(len(p.files) for p in projects)
    if not size and not silent:
        click.echo("warning: No Python files found under the given path(s)", err=True)
    with _progress(size, enabled=not silent), _slow_project_note(projects, request.paths, enabled=not silent):
        run = pipeline.run(request, plan)
    if add_noqa:
        _add_noqa(run, quiet or silent)
    if not silent:
        for note in run.notes:
            click.echo(f"asynclint: {note}", err=True)
    # Text from stdin with --fix: as ruff does, the fixed source on stdout, the report on stderr.
    stdin_fix = bool(sources) and mode == "fix"
    if stdin_fix:
        [(path, text)] = sources.items()
        sys.stdout.write(run.outputs.get(path, text))
        sys.stdout.flush()
        sources = {path: run.outputs.get(path, text)}
    if diff:
        if not silent:
            sys.stdout.write("".join(run.diffs))
            if not quiet:
                from asynclint.reporters.text import diff_summary

                click.echo(diff_summary(len(run.fixed), run.diagnostics, unsafe_fixes), err=True, nl=False)
    else:
        if show_fixes and run.fixed and not (quiet or silent):
            click.echo(f"Fixed {len(run.fixed)} error{'s' if len(run.fixed) != 1 else ''}:", err=stdin_fix)
            for d in run.fixed:
                click.echo(f"  {d.path}:{d.row}:{d.col}: {d.code} {d.message}", err=stdin_fix)
        if not silent or output_file:
            view = _View(output_format or "full", statistics, quiet, color, unsafe_fixes)
            _report(
                run.diagnostics,
                view,
                output_file,
                fixed=len(run.fixed),
                complete=not (run.errors or incomplete),
                to_stderr=stdin_fix,
                sources=sources,
            )
    _report_errors(run.errors)
    sys.exit(2 if incomplete else _exit_code(run, diff=diff, exit_zero=exit_zero, on_fix=exit_non_zero_on_fix))


# A run of a few files that takes longer than this (s) is reading its project: say so.
SLOW_NOTE_AFTER = 1.0
SLOW_NOTE_FILES = 10


@contextlib.contextmanager
def _slow_project_note(projects: Sequence[Project], paths: Sequence[str], enabled: bool = True) -> Iterator[None]:
    """A check of a few files in a project with no cache reads the whole project for project
    analysis (seconds in a large one): when that takes long, say why on stderr, and how to
    skip it. Said while it runs, or at the end of a run that took long."""
    reading = sorted({p.root for p in projects if p.root and p.settings.project_analysis})
    if (
        not enabled
        or not reading
        or sum(len(p.files) for p in projects) > SLOW_NOTE_FILES
        or not all(os.path.isfile(path) for path in paths)  # files, not a folder: the rest is read
    ):
        yield
        return
    import threading
    import time

    roots = ", ".join(reading)
    said = threading.Event()

    def say() -> None:
        if not said.is_set():
            said.set()
            click.echo(
                f"asynclint: project analysis is reading the project ({roots}) for findings across "
                "modules; later runs read the cache. --no-project-analysis skips it.",
                err=True,
            )

    timer = threading.Timer(SLOW_NOTE_AFTER, say)
    timer.daemon = True
    started = time.monotonic()
    timer.start()
    try:
        yield
    finally:
        timer.cancel()
        if time.monotonic() - started >= SLOW_NOTE_AFTER:
            say()


def _exit_code(run: RunResult, *, diff: bool, exit_zero: bool, on_fix: bool) -> int:
    """ruff's: 2 for an internal error; else 0 with --exit-zero; with --diff, 1 when there
    is something to fix; with --exit-non-zero-on-fix, 1 when something was fixed or remains;
    else 1 when findings remain."""
    if run.errors:
        return 2
    if exit_zero:
        return 0
    if diff:
        return 1 if run.diffs else 0
    return 1 if run.diagnostics or (on_fix and run.fixed) else 0


def _report_errors(errors: Iterable[InternalError]) -> None:
    for error in errors:
        click.echo(
            f"asynclint: internal error: rule {error.rule} failed on {error.path} (asynclint {__version__}).\n"
            f"Please report this at {ISSUES_URL} with the file if you can.\n{error.detail}",
            err=True,
        )


def _read_stdin() -> str:
    from asynclint.source import UnreadableSource, decode

    try:
        return decode(sys.stdin.buffer.read()).text
    except UnreadableSource as exc:
        _fail(f"stdin: {exc}")
        raise  # not reached: _fail exits


def _show(request: Request, settings_only: bool) -> None:
    """--show-files: each file and the configuration it is linted with; --show-settings: the
    resolved settings of the first file (ruff's options of the same names)."""
    from dataclasses import asdict

    from asynclint import pipeline

    projects = pipeline.plan(request).projects
    if settings_only:
        files = sorted((f, p) for p in projects for f in p.files)
        if not files:
            _fail("no Python files found")
        path, project = files[0]
        click.echo(f"Settings for {path}")
        click.echo(f"  config file: {project.settings.config_file or '(none: defaults)'}")
        click.echo(f"  project root: {project.root}")
        for key, value in asdict(project.settings).items():
            if key not in ("root", "config_file"):
                click.echo(f"  {key.replace('_', '-')}: {_setting_text(value)}")
        # For this file: after its per-file-ignores, and silent in test code (`test-files`).
        click.echo(f"  enabled: {', '.join(sorted(project.settings.codes_for(path)))}")
        return
    for project in projects:
        config = project.settings.config_file or "(defaults)"
        for path in project.files:
            click.echo(f"{path}  [{config}]")


def _setting_text(value: object) -> str:
    if isinstance(value, tuple) and value and isinstance(value[0], int):
        return "py" + "".join(str(v) for v in value)
    if isinstance(value, tuple):
        return ", ".join(_setting_text(v) if isinstance(v, tuple) else str(v) for v in value) or "[]"
    return str(value)


def _add_noqa(run: RunResult, quiet: bool) -> None:
    from asynclint.add_noqa import add_noqa

    outcome = add_noqa(run.diagnostics)
    for note in [*run.notes, *outcome.notes]:
        click.echo(f"asynclint: {note}", err=True)
    for path, row, why in outcome.skipped:
        click.echo(f"asynclint: {path}:{row}: no noqa comment added: {why}", err=True)
    _report_errors(run.errors)
    if not quiet:
        count = outcome.added
        files = f" in {outcome.files} file{'s' if outcome.files != 1 else ''}" if count else ""
        click.echo(f"Added {count} noqa directive{'s' if count != 1 else ''}{files}.", err=True)
    sys.exit(2 if run.errors or outcome.notes else 0)


PROGRESS_THRESHOLD = 300


@contextlib.contextmanager
def _progress(total: int, enabled: bool = True) -> Iterator[None]:
    """One bar on stderr for a large run on a terminal (nothing when stderr is piped, in CI,
    or with --silent): the files asked for, advanced as each is linted; the passes over the
    rest of the project are stages named beside it. Never on stdout, where the report goes."""
    if not enabled or total < PROGRESS_THRESHOLD or not _stderr_is_a_terminal():
        yield
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from asynclint import passes

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[stage]}"))
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        passes.PROGRESS = _Bar(bar, bar.add_task("linting", total=total, stage=""))
        try:
            yield
        finally:
            passes.PROGRESS = None


def _stderr_is_a_terminal() -> bool:
    return sys.stderr.isatty() and not os.environ.get("CI")


class _Bar:
    """The runner's progress hooks on one rich bar. The passes over the files asked for
    ("linting", "fixing") advance it; the others (reading the project, project-wide rules,
    checking fixed files) show as a stage beside it with their own count."""

    MAIN = ("linting", "fixing")

    def __init__(self, bar: Progress, task: TaskID) -> None:
        self.bar, self.task = bar, task
        self.stage: tuple[str, int, int] | None = None  # (name, done, files) of the current stage

    def start(self, name: str, files: int) -> None:
        if name in self.MAIN:
            self.stage = None
            self.bar.update(self.task, description=name, stage="")
        else:
            self.stage = (name, 0, files)
            self.bar.update(self.task, stage=f"{name} 0/{files}")

    def advance(self, files: int) -> None:
        if self.stage is None:
            self.bar.advance(self.task, files)
        else:
            name, done, total = self.stage
            done += files
            self.stage = (name, done, total)
            self.bar.update(self.task, stage=f"{name} {done}/{total}")


@dataclasses.dataclass(frozen=True)
class _View:
    """How the report is shown: the command line's reporting options."""

    fmt: str = "full"
    statistics: bool = False
    quiet: bool = False
    color: str = "auto"
    unsafe: bool = False


def _use_color(choice: str, out: TextIO) -> bool:
    """--color always/never decide; auto: NO_COLOR (any value) turns colour off, FORCE_COLOR
    on, else colour on a terminal (https://no-color.org, https://force-color.org)."""
    if choice != "auto":
        return choice == "always"
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return out.isatty()


def _report(
    diagnostics: list[Diagnostic],
    view: _View,
    output_file: str | None,
    fixed: int = 0,
    *,
    complete: bool = True,
    to_stderr: bool = False,
    sources: dict[str, str] | None = None,
) -> None:
    """Write the report. `complete`: False when an internal error or an unreadable folder
    means files went unchecked, so "All checks passed!" would not be true. `sources`: text
    that is not on disk (stdin), whose lines the report shows."""
    import io

    buffer = io.StringIO()
    stream = (sys.stderr if to_stderr else sys.stdout) if output_file is None else None
    color = stream is not None and _use_color(view.color, stream)
    _render(buffer, diagnostics, view, fixed, color, sources or {})
    text = buffer.getvalue()
    if not complete:
        text = "".join(line for line in text.splitlines(keepends=True) if not line.startswith("All checks passed"))
    # Written at once, after it is complete: a failing disk or a bad -o path is one line and
    # exit 2 (rc 1 means findings), and -o does not truncate the old report before then.
    try:
        if output_file is not None:
            with open(output_file, "w", encoding="utf-8", errors="surrogateescape") as handle:
                handle.write(text)
        elif stream is not None:  # None: stdout was closed (`>&-`); nothing to print to
            stream.write(text)
            stream.flush()
    except BrokenPipeError:
        pass  # `| head`: the reader has what it wanted
    except OSError as exc:
        _fail(f"{output_file or 'standard output'}: cannot write the report: {exc.strerror or exc}")


def _render(
    out: TextIO, diagnostics: list[Diagnostic], view: _View, fixed: int, color: bool, sources: dict[str, str]
) -> None:
    from asynclint.reporters import ReportContext, write
    from asynclint.reporters.text import write_statistics
    from asynclint.source import split_lines

    # Text that is not on disk (stdin) shows its own lines.
    lines_cache: dict[str, list[str]] = {path: split_lines(text) for path, text in sources.items()}

    def source_line(path: str, row: int) -> str:
        if path not in lines_cache:
            from asynclint.source import UnreadableSource, read_source

            try:
                lines_cache[path] = split_lines(read_source(path).text)
            except UnreadableSource:
                lines_cache[path] = []
        lines = lines_cache[path]
        return lines[row - 1] if 0 < row <= len(lines) else ""

    ctx = ReportContext(
        source_line=source_line,
        color=color,
        fixed=fixed,
        rule_names=_rule_names(),
        unsafe=view.unsafe,
        summary=not view.quiet,
    )
    if view.statistics:
        write_statistics(diagnostics, out, ctx, view.fmt)
    else:
        write(view.fmt, diagnostics, out, ctx)


def _rule_names() -> dict[str, str]:
    from asynclint import registry

    names = {code: name for code, (name, _) in registry.ENGINE_CODES.items()}
    for code, module in registry.rule_modules().items():
        names[code] = module.rsplit(".", 1)[-1].split("_", 1)[1].replace("_", "-")
    return names


@cli.command("rules")
@click.option("--output-format", type=click.Choice(["table", "json"]), default="table", help="How to list the rules.")
def list_rules(output_format: str) -> None:
    """List every rule: code, name, fix, whether it runs by default, summary."""
    from asynclint import registry

    rows = _rule_rows()
    if output_format == "json":
        import json

        click.echo(
            json.dumps(
                [
                    {"code": code, "name": name, "fix": fix, "opt_in": code in registry.OPT_IN, "summary": summary}
                    for code, name, fix, summary in rows
                ],
                indent=2,
            )
        )
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(box=None, header_style="bold", pad_edge=False)
    for column in ("Code", "Name", "Fix", "Runs", "Summary"):
        table.add_column(column, overflow="fold")
    for code, name, fix, summary in rows:
        table.add_row(code, name, fix, "opt-in" if code in registry.OPT_IN else "default", summary)
    Console(highlight=False, soft_wrap=False).print(table)


def _rule_rows() -> list[tuple[str, str, str, str]]:
    from asynclint import registry

    rows = [
        (code, name, registry.ENGINE_FIXES.get(code, "none"), summary)
        for code, (name, summary) in registry.ENGINE_CODES.items()
    ]
    for code in registry.rule_modules():
        rule = registry.load_rule(code)
        rows.append((code, rule.name, rule.fix_applicability or "none", rule.summary))
    return sorted(rows)


@cli.command("rule")
@click.argument("code")
def show_rule(code: str) -> None:
    """Explain one rule: what it flags, why, an example, the fix."""
    from asynclint import registry
    from asynclint.catalogue import page

    code = code.upper()
    if code not in registry.all_codes():
        _fail(f"unknown rule code {code!r} (see `asynclint rules`)")
    text = page(code)
    if text is None:
        _fail(f"the page for {code} is missing from this installation")
    if sys.stdout.isatty():
        from rich.console import Console
        from rich.markdown import Markdown

        Console().print(Markdown(text))
    else:
        click.echo(text, nl=not text.endswith("\n"))


@cli.command("clean")
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--cache-dir", help="Also remove this cache folder (default: `ASYNCLINT_CACHE_DIR`, if set).")
def clean(paths: tuple[str, ...], cache_dir: str | None) -> None:
    """Remove the caches in PATHS (default: the current folder) and the folders below."""
    from asynclint.cache import cache_folders, is_ours

    try:
        found = cache_folders(paths or (".",), cache_dir)
    except FileNotFoundError as missing:
        _fail(f"{missing.filename}: no such file or directory")
    refused = False
    for folder in found:
        if not is_ours(folder):
            click.echo(
                f"asynclint: {folder}: not a cache asynclint made (no .gitignore of its own); left as it is", err=True
            )
            refused = True
            continue
        click.echo(f"Removing cache at: {folder}", err=True)
        try:
            shutil.rmtree(folder)
        except OSError as exc:
            _fail(f"{folder}: cannot remove: {exc.strerror or exc}")
    if refused:
        sys.exit(2)


@cli.command("server")
def server() -> None:
    """Run the language server on stdin and stdout (for editors; needs `asynclint[server]`)."""
    try:
        from asynclint.server.lsp import serve
    except ImportError as exc:
        _fail(f'the language server needs the server extra: pip install "asynclint[server]" ({exc})')
    serve()


def main() -> None:
    # A run allocates millions of nodes that live until their file is done and are then freed
    # by reference counting (the engine keeps no cycle through a tree: tests/test_memory.py).
    # CPython's default thresholds would have the collector scan them over and over while
    # they are built: about a tenth of a cold run's CPU time. Workers inherit this setting.
    gc.set_threshold(50_000, 20, 20)
    _stop_on_signals()
    try:
        cli(prog_name="asynclint")  # click ends with sys.exit, on success too
    except SystemExit as done:
        _exit_now(done.code)
    except Interrupted as stop:
        # The runner has stopped its workers on the way out; no file is written after this.
        with contextlib.suppress(OSError, ValueError):
            sys.stderr.write("asynclint: interrupted\n")
        _exit_now(128 + stop.signum)


class Interrupted(BaseException):
    """Ctrl-C or SIGTERM. Not a KeyboardInterrupt, which click turns into "Aborted!" and
    exit code 1, the code for findings: the shell's 130 and 143 say what happened."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _stop_on_signals() -> None:
    import signal

    def interrupted(signum: int, frame: FrameType | None) -> NoReturn:
        raise Interrupted(signum)

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, interrupted)


def _exit_now(code: int | str | None) -> None:
    """sys.exit's meaning of `code`, without the interpreter's teardown: freeing every
    module, class and function of LibCST and the engine costs 35-65 ms, a fifth of a
    one-file run. Nothing is left to clean up: output goes out here, the worker pool is
    shut down, cache and fixed files are written (atomically) before the command returns."""
    if code is None:
        code = 0
    elif not isinstance(code, int):
        print(code, file=sys.stderr)
        code = 1
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:  # None: closed before we started (`>&-`)
                stream.flush()
        except (OSError, ValueError):  # a closed pipe (`| head`) or a closed stream
            pass
    os._exit(code)
