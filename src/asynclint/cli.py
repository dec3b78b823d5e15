"""The command line: click commands that wire discovery, config, engine and reporters.

No linting logic lives here. Errors the user can fix (a bad path, a bad config
value, an unknown code) are one line on stderr and exit code 2.
"""

from __future__ import annotations

import contextlib
import gc
import os
import sys

import click

from asynclint import __version__

ISSUES_URL = "https://github.com/asynclint/asynclint/issues"


def _fail(message: str) -> None:
    click.echo(f"asynclint: error: {message}", err=True)
    sys.exit(2)


def _codes(value: str | None) -> tuple[str, ...] | None:
    if value is None:
        return None
    return tuple(part.strip() for part in value.split(",") if part.strip())


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="asynclint", message="%(prog)s %(version)s")
def cli() -> None:
    """asynclint: catch the mistakes that quietly break async Python backends."""


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--select", help="Rule codes or prefixes to enable (comma-separated), e.g. ASL2,ASL101.")
@click.option("--extend-select", help="Codes or prefixes to enable in addition to the selected ones.")
@click.option("--ignore", help="Codes or prefixes to disable.")
@click.option(
    "--output-format",
    type=click.Choice(["full", "concise", "json", "json-lines", "sarif", "github", "junit"]),
    default=None,
    help="How to print findings [default: full].",
)
@click.option("-o", "--output-file", type=click.Path(dir_okay=False), help="Write the report to this file.")
@click.option("--target-version", help="Python version to target: py310 .. py314.")
@click.option("--config", "config_file", type=click.Path(), help="Use this pyproject.toml instead of searching.")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when there are findings.")
@click.option("--statistics", is_flag=True, help="Show a count per rule instead of each finding.")
@click.option("--no-cache", is_flag=True, help="Do not read or write the cache.")
@click.option("--force-exclude", is_flag=True, help="Apply excludes also to files named on the command line.")
@click.option("-q", "--quiet", is_flag=True, help="Print findings only, no summary.")
@click.option("--fix", is_flag=True, help="Apply safe fixes and write the files.")
@click.option("--unsafe-fixes", is_flag=True, help="Also apply fixes that may change behaviour (with --fix or --diff).")
@click.option("--diff", is_flag=True, help="Print the fixes as a unified diff; write nothing (exit 1 if any).")
@click.option("--show-fixes", is_flag=True, help="List the findings that were fixed.")
@click.option("--add-noqa", is_flag=True, help="Add `# noqa: ASLnnn` to every line with findings (to adopt asynclint).")
@click.option("--stdin-filename", type=click.Path(dir_okay=False),
              help="With PATH `-`: lint stdin as if it were this file (its config, project and noqa).")
def check(paths, select, extend_select, ignore, output_format, output_file, target_version, config_file,
          exit_zero, statistics, no_cache, force_exclude, quiet, fix, unsafe_fixes, diff, show_fixes,
          add_noqa, stdin_filename) -> None:
    """Lint PATHS (files or folders; default: the current folder; `-`: stdin)."""
    from asynclint.config import ConfigError, check_selectors, load_settings, parse_target, with_overrides
    from asynclint.discovery import DiscoveryError, discover

    paths = paths or (".",)
    if "-" in paths or stdin_filename:
        if paths != ("-",) or not stdin_filename:
            _fail("stdin is read with `-` as the only PATH and --stdin-filename naming the file")
        paths = (stdin_filename,)
    try:
        settings = load_settings(paths, config_file)
        settings = with_overrides(
            settings,
            select=check_selectors(_codes(select), "--select") if select is not None else None,
            extend_select=check_selectors(_codes(extend_select), "--extend-select") if extend_select is not None else None,
            ignore=check_selectors(_codes(ignore), "--ignore") if ignore is not None else None,
            target_version=parse_target(target_version, "--target-version") if target_version else None,
        )
        files = discover(paths, settings, force_exclude=force_exclude) if not stdin_filename else []
    except (ConfigError, DiscoveryError) as exc:
        _fail(str(exc))
        return
    if stdin_filename:
        from asynclint.server.stdin import check_stdin

        code = check_stdin(stdin_filename, settings, fix=fix, diff=diff, unsafe=unsafe_fixes, use_cache=not no_cache,
                           report=lambda found, stream, text, fixed=0: _report(
                               found, output_format or "full", output_file, statistics, quiet, fixed=fixed,
                               stream=stream, source=text))
        sys.exit(0 if code == 1 and exit_zero else code)

    from asynclint.runner import Job, run as run_files

    if add_noqa:
        if fix or diff:
            _fail("--add-noqa cannot be combined with --fix or --diff")
        _add_noqa(run_files(files, Job(settings), use_cache=not no_cache), quiet)

    mode = "diff" if diff else "fix" if fix else None
    if mode and settings.fix_format == "ruff":
        import importlib.util

        if importlib.util.find_spec("ruff_api") is None:
            _fail('fix-format = "ruff" needs the ruff extra: pip install "asynclint[ruff]"')
    project_files = _project_files(paths, settings, files) if mode != "diff" else None
    with _progress(len(project_files or files)):
        run = run_files(files, Job(settings, fix=mode, unsafe=unsafe_fixes), use_cache=not no_cache,
                        project_files=project_files)
    for note in run.notes:
        click.echo(f"asynclint: {note}", err=True)
    if diff:
        sys.stdout.write("".join(run.diffs))
        if not quiet:
            count = len(run.fixed)
            click.echo(f"Would fix {count} error{'s' if count != 1 else ''}.", err=True)
        sys.exit(2 if run.errors else 1 if run.diffs else 0)
    if show_fixes and run.fixed and not quiet:
        click.echo(f"Fixed {len(run.fixed)} error{'s' if len(run.fixed) != 1 else ''}:")
        for d in run.fixed:
            click.echo(f"  {d.path}:{d.row}:{d.col}: {d.code} {d.message}")
    _report(run.diagnostics, output_format or "full", output_file, statistics, quiet, fixed=len(run.fixed))
    for error in run.errors:
        click.echo(
            f"asynclint: internal error: rule {error.rule} failed on {error.path} (asynclint {__version__}).\n"
            f"Please report this at {ISSUES_URL} with the file if you can.\n{error.detail}",
            err=True,
        )
    if run.errors:
        sys.exit(2)
    sys.exit(1 if run.diagnostics and not exit_zero else 0)


def _add_noqa(run, quiet: bool) -> None:
    from asynclint.add_noqa import add_noqa

    outcome = add_noqa(run.diagnostics)
    for note in [*run.notes, *outcome.notes]:
        click.echo(f"asynclint: {note}", err=True)
    for path, row, why in outcome.skipped:
        click.echo(f"asynclint: {path}:{row}: no noqa comment added: {why}", err=True)
    for error in run.errors:
        click.echo(f"asynclint: internal error: rule {error.rule} failed on {error.path}.\n{error.detail}", err=True)
    if not quiet:
        count = outcome.added
        files = f" in {outcome.files} file{'s' if outcome.files != 1 else ''}" if count else ""
        click.echo(f"Added {count} noqa directive{'s' if count != 1 else ''}{files}.", err=True)
    sys.exit(2 if run.errors or outcome.notes else 0)


PROGRESS_THRESHOLD = 300


@contextlib.contextmanager
def _progress(total: int):
    """A progress bar on stderr for large runs on a terminal; nothing when piped or in CI."""
    if total < PROGRESS_THRESHOLD or not sys.stderr.isatty() or os.environ.get("CI"):
        yield
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from asynclint import runner

    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), transient=True) as bar:
        runner.PROGRESS = _Bar(bar, bar.add_task("linting", total=None))
        try:
            yield
        finally:
            runner.PROGRESS = None


class _Bar:
    """The runner's progress hooks on a rich bar: each pass starts it over with its size."""

    def __init__(self, bar, task) -> None:
        self.bar, self.task = bar, task

    def start(self, name: str, files: int) -> None:
        self.bar.reset(self.task, total=files, completed=0, description=name)

    def advance(self, files: int) -> None:
        self.bar.advance(self.task, files)


def _project_files(paths, settings, files: list[str]) -> list[str] | None:
    """Every Python file of the project (the folder of the config's pyproject.toml, else
    the common folder of the paths given), for project-wide analysis."""
    if not settings.project_analysis:
        return None
    from asynclint.discovery import DiscoveryError, discover

    given = [os.path.abspath(p) for p in paths]
    root = settings.root if settings.config_file else os.path.commonpath(given)
    if os.path.isfile(root):
        root = os.path.dirname(root)
    if given == [os.path.abspath(root)]:
        return files  # the project is the folder asked for: no second walk
    try:
        return discover([root], settings)
    except DiscoveryError:
        return None


def _report(diagnostics, fmt: str, output_file: str | None, statistics: bool, quiet: bool, fixed: int = 0,
            stream=None, source: str | None = None) -> None:
    from asynclint.reporters import ReportContext, write
    from asynclint.reporters.text import write_statistics

    lines_cache: dict[str, list[str]] = {}

    def source_line(path: str, row: int) -> str:
        if path not in lines_cache:
            from asynclint.source import UnreadableSource, read_source, split_lines

            try:
                lines_cache[path] = split_lines(read_source(path).text)
            except UnreadableSource:
                lines_cache[path] = []
        lines = lines_cache[path]
        return lines[row - 1] if 0 < row <= len(lines) else ""

    if source is not None:  # read from stdin: the lines shown are its own
        from asynclint.source import split_lines

        lines_cache.update({d.path: split_lines(source) for d in diagnostics})
    out = open(output_file, "w", encoding="utf-8") if output_file else stream or sys.stdout
    try:
        if statistics:
            write_statistics(diagnostics, out, _rule_names())
            return
        color = out.isatty() and "NO_COLOR" not in os.environ
        ctx = ReportContext(source_line=source_line, color=color, fixed=fixed, rule_names=_rule_names())
        if quiet and fmt in ("full", "concise"):
            import io

            buffer = io.StringIO()
            write(fmt, diagnostics, buffer, ctx)
            # Quiet: the findings without the closing summary lines.
            text = buffer.getvalue()
            kept = [line for line in text.splitlines(keepends=True) if not _is_summary(line)]
            out.write("".join(kept))
        else:
            write(fmt, diagnostics, out, ctx)
    finally:
        if output_file:
            out.close()


def _is_summary(line: str) -> bool:
    return line.startswith(("Found ", "All checks passed", "[*] ", "No fixes available", "Fixed "))


def _rule_names() -> dict[str, str]:
    from asynclint import registry

    names = {code: name for code, (name, _) in registry.ENGINE_CODES.items()}
    for code, module in registry.rule_modules().items():
        names[code] = module.rsplit(".", 1)[-1].split("_", 1)[1].replace("_", "-")
    return names


@cli.command("rules")
@click.option("--output-format", type=click.Choice(["table", "json"]), default="table", help="How to list the rules.")
def list_rules(output_format: str) -> None:
    """List every rule: code, name, fix, summary."""
    rows = _rule_rows()
    if output_format == "json":
        import json

        click.echo(json.dumps([dict(zip(("code", "name", "fix", "summary"), row)) for row in rows], indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(box=None, header_style="bold", pad_edge=False)
    for column in ("Code", "Name", "Fix", "Summary"):
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*row)
    Console(highlight=False, soft_wrap=False).print(table)


def _rule_rows() -> list[tuple[str, str, str, str]]:
    from asynclint import registry

    rows = [(code, name, "none", summary) for code, (name, summary) in registry.ENGINE_CODES.items()]
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


@cli.command("server")
def server() -> None:
    """Run the language server on stdin and stdout (for editors; needs `asynclint[server]`)."""
    try:
        from asynclint.server.lsp import serve
    except ImportError as exc:
        _fail(f"the language server needs the server extra: pip install \"asynclint[server]\" ({exc})")
    serve()


def main() -> None:
    # A run allocates millions of nodes that live until their file is done and are then freed
    # by reference counting (the engine keeps no cycle through a tree: tests/test_memory.py).
    # CPython's default thresholds would have the collector scan them over and over while
    # they are built: about a tenth of a cold run's CPU time. Workers inherit this setting.
    gc.set_threshold(50_000, 20, 20)
    try:
        cli(prog_name="asynclint")  # click ends with sys.exit, on success too
    except SystemExit as done:
        _exit_now(done.code)


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
            stream.flush()
        except (OSError, ValueError):  # a closed pipe (`| head`) or a closed stream
            pass
    os._exit(code)
