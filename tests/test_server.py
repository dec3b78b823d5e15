"""`asynclint server`, driven over stdio by a real LSP client (pytest-lsp), and by Neovim.

Each test starts the server as a subprocess on a copy of a small project: the
cross-module fixture project (ASL207 chains through helpers) plus a file with a
safe fix (ASL201) and one with only an unsafe fix (ASL104).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

pytest_lsp = pytest.importorskip("pytest_lsp", reason="the server tests need the test extras (pytest-lsp)")
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

FIXTURE = Path(__file__).parent / "fixtures" / "projects" / "helpers"
SERVER = [sys.executable, "-m", "asynclint", "server"]

SLEEPY = textwrap.dedent(
    """\
    import time


    async def handler():
        time.sleep(1)  # noqa: E501
        time.sleep(2)
        return 1
    """
)
ROUTE = textwrap.dedent(
    """\
    from app.util.slow import fetch_rates


    async def rates_route():
        return fetch_rates()
    """
)
HELPER = textwrap.dedent(
    """\
    def fetch_rates():
        return {"EUR": 1.0}
    """
)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    shutil.copytree(FIXTURE, root)
    pyproject = root / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('select = ["ASL207"]', 'select = ["ASL2", "ASL104"]'))
    (root / "app" / "sleepy.py").write_text(SLEEPY)
    (root / "app" / "route.py").write_text(ROUTE)
    (root / "app" / "util" / "slow.py").write_text(HELPER)
    return root


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER))
async def client(lsp_client: LanguageClient, project: Path):
    lsp_client.registrations = []

    @lsp_client.feature(types.CLIENT_REGISTER_CAPABILITY)
    def register(params: types.RegistrationParams) -> None:
        lsp_client.registrations.extend(params.registrations)

    await lsp_client.initialize_session(
        types.InitializeParams(
            capabilities=client_capabilities("visual-studio-code"),
            root_uri=project.as_uri(),
            workspace_folders=[types.WorkspaceFolder(uri=project.as_uri(), name="project")],
        )
    )
    yield
    await lsp_client.shutdown_session()


def _open(client: LanguageClient, path: Path, text: str | None = None, version: int = 1) -> str:
    uri = path.as_uri()
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            types.TextDocumentItem(
                uri=uri,
                language_id="python",
                version=version,
                text=path.read_text() if text is None else text,
            )
        )
    )
    return uri


def _change(client: LanguageClient, uri: str, text: str, version: int) -> None:
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)],
        )
    )


async def _until(client: LanguageClient, uri: str, check, timeout: float = 60.0):
    """The diagnostics of `uri` once `check(diagnostics)` holds (published ones only)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = client.diagnostics.get(uri)
        if found is not None and check(found):
            return found
        try:
            await asyncio.wait_for(
                client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS),
                max(0.1, deadline - time.monotonic()),
            )
        except asyncio.TimeoutError:
            break
    raise AssertionError(f"diagnostics of {uri} never matched; last: {client.diagnostics.get(uri)}")


def _codes(diagnostics) -> list[str]:
    return sorted(d.code for d in diagnostics)


def _apply(text: str, edits: list[types.TextEdit]) -> str:
    """Apply LSP edits (ASCII text: UTF-16 columns are characters)."""
    lines = text.splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))

    def offset(position: types.Position) -> int:
        return starts[min(position.line, len(lines))] + position.character

    for edit in sorted(edits, key=lambda e: offset(e.range.start), reverse=True):
        text = text[: offset(edit.range.start)] + edit.new_text + text[offset(edit.range.end) :]
    return text


async def _actions(client: LanguageClient, uri: str, diagnostics, line: int, only=None):
    return await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=types.Range(types.Position(line, 0), types.Position(line, 0)),
            context=types.CodeActionContext(diagnostics=list(diagnostics), only=only),
        )
    )


def _edits(action: types.CodeAction) -> list[types.TextEdit]:
    return [edit for change in action.edit.document_changes for edit in change.edits]


@pytest.mark.asyncio
async def test_diagnostics_quick_fix_and_fix_all_match_the_cli(client: LanguageClient, project: Path):
    path = project / "app" / "sleepy.py"
    uri = _open(client, path)
    found = await _until(client, uri, lambda d: len(d) == 2)
    first = min(found, key=lambda d: d.range.start.line)
    assert first.code == "ASL201"
    # The server asked the editor to watch the configs and modules.
    (watch,) = client.registrations
    assert watch.method == types.WORKSPACE_DID_CHANGE_WATCHED_FILES
    assert first.severity == types.DiagnosticSeverity.Warning
    assert first.code_description.href.endswith("/ASL201.html")
    assert "help: " in first.message
    assert (first.range.start.line, first.range.start.character) == (4, 4)

    # The finding's own fix, preferred (safe), and the noqa action for its line.
    actions = await _actions(client, uri, [first], 4, only=[types.CodeActionKind.QuickFix])
    titles = [a.title for a in actions]
    assert any(t.startswith("Fix ASL201") for t in titles), titles
    assert "Disable ASL201 on this line" in titles
    fix = next(a for a in actions if a.title.startswith("Fix ASL201"))
    assert fix.is_preferred
    noqa = next(a for a in actions if a.title == "Disable ASL201 on this line")
    assert _apply(SLEEPY, _edits(noqa)).splitlines()[4] == "    time.sleep(1)  # noqa: E501, ASL201"

    # Fix all: the same text `asynclint check --fix` writes for the file.
    actions = await _actions(client, uri, found, 0, only=["source.fixAll"])
    (fix_all,) = actions
    assert fix_all.kind == "source.fixAll.asynclint"
    if fix_all.edit is None:
        fix_all = await client.code_action_resolve_async(fix_all)
    fixed = _apply(SLEEPY, _edits(fix_all))
    subprocess.run(
        [*SERVER[:-1], "check", "--no-cache", "--fix", "--exit-zero", "-q", str(path)],
        check=True,
        cwd=project,
        capture_output=True,
    )
    assert fixed == path.read_text()
    assert fixed != SLEEPY

    # The editor applies it: the findings go.
    _change(client, uri, fixed, 2)
    await _until(client, uri, lambda d: len(d) == 0)


@pytest.mark.asyncio
async def test_unsafe_fix_says_so(client: LanguageClient, project: Path):
    path = project / "app" / "waits.py"
    text = "import asyncio\n\n\nasync def go(coro):\n    return await asyncio.wait_for(coro, 1)\n"
    path.write_text(text)
    uri = _open(client, path)
    (found,) = await _until(client, uri, lambda d: len(d) == 1)
    assert found.code == "ASL104"
    actions = await _actions(client, uri, [found], 4)
    fix = next(a for a in actions if a.title.startswith("Fix ASL104"))
    assert "unsafe" in fix.title and not fix.is_preferred
    # No safe fix in the file: no fix-all either.
    assert await _actions(client, uri, [found], 0, only=["source.fixAll.asynclint"]) in ((), [], None)


@pytest.mark.asyncio
async def test_chain_hops_are_related_locations(client: LanguageClient, project: Path):
    uri = _open(client, project / "app" / "services" / "orders.py")
    found = await _until(client, uri, lambda d: len([x for x in d if x.code == "ASL207"]) == 7)
    step = next(d for d in found if d.range.start.line == 17)  # `Step(0.5)`
    hops = [(Path(r.location.uri).name, r.location.range.start.line, r.message) for r in step.related_information]
    steps_py = (project / "app" / "util" / "steps.py").read_text().splitlines()
    assert [(name, steps_py[line].strip()) for name, line, _ in hops] == [
        ("steps.py", "class Step:"),
        ("steps.py", "def __init__(self, delay):"),
        ("steps.py", "time.sleep(delay)"),
    ]


@pytest.mark.asyncio
async def test_editing_a_helper_refreshes_the_open_route(client: LanguageClient, project: Path):
    route = _open(client, project / "app" / "route.py")
    await _until(client, route, lambda d: len(d) == 0)
    await asyncio.sleep(0.5)  # let the first index finish, so the change is seen as one
    helper_path = project / "app" / "util" / "slow.py"
    helper = _open(client, helper_path)
    await _until(client, helper, lambda d: len(d) == 0)
    blocking = 'import time\n\n\ndef fetch_rates():\n    time.sleep(0.2)\n    return {"EUR": 1.0}\n'
    _change(client, helper, blocking, 2)
    (found,) = await _until(client, route, lambda d: len(d) == 1)
    assert found.code == "ASL207" and "fetch_rates -> time.sleep" in found.message
    assert found.range.start.line == 4
    # Undone in the editor (never saved): the finding goes again.
    _change(client, helper, HELPER, 3)
    await _until(client, route, lambda d: len(d) == 0)
    # Closed: the helper's facts are the file's on disk; changed on disk, the route follows.
    client.text_document_did_close(types.DidCloseTextDocumentParams(types.TextDocumentIdentifier(helper)))
    helper_path.write_text(blocking)
    client.workspace_did_change_watched_files(
        types.DidChangeWatchedFilesParams([types.FileEvent(uri=helper, type=types.FileChangeType.Changed)])
    )
    await _until(client, route, lambda d: len(d) == 1)


@pytest.mark.asyncio
async def test_settings_reload_when_pyproject_changes(client: LanguageClient, project: Path):
    uri = _open(client, project / "app" / "sleepy.py")
    await _until(client, uri, lambda d: len(d) == 2)
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('select = ["ASL2", "ASL104"]', 'select = ["ASL207"]'))
    client.workspace_did_change_watched_files(
        types.DidChangeWatchedFilesParams([types.FileEvent(uri=pyproject.as_uri(), type=types.FileChangeType.Changed)])
    )
    await _until(client, uri, lambda d: len(d) == 0)


def test_stdin_filename_lints_as_that_file(project: Path):
    """`check --stdin-filename PATH -`: that file's settings and project (ASL207 through the
    helpers on disk) and the text given, not the file's."""
    route = project / "app" / "route.py"
    text = route.read_text().replace(
        "return fetch_rates()",
        "return fetch_rates()\n\n\nasync def two():\n    time.sleep(1)\n",
    )
    text = "import time\n" + text

    def check_stdin() -> subprocess.CompletedProcess[str]:
        command = [*SERVER[:-1], "check", "--no-cache", "--output-format", "concise"]
        return subprocess.run(
            [*command, "--stdin-filename", "app/route.py", "-"],
            input=text,
            text=True,
            capture_output=True,
            cwd=project,
        )

    run = check_stdin()
    assert run.returncode == 1, run.stderr
    assert "app/route.py:10:5: ASL201" in run.stdout
    (project / "app" / "util" / "slow.py").write_text("import time\n\n\ndef fetch_rates():\n    time.sleep(1)\n")
    run = check_stdin()
    assert "app/route.py:6:12: ASL207" in run.stdout, run.stdout


def test_stdin_fix_writes_source_to_stdout_and_report_to_stderr(project: Path):
    path = project / "app" / "sleepy.py"
    run = subprocess.run(
        [
            *SERVER[:-1],
            "check",
            "--no-cache",
            "--fix",
            "--stdin-filename",
            str(path),
            "-",
        ],
        input=SLEEPY,
        text=True,
        capture_output=True,
        cwd=project,
    )
    assert run.returncode == 0, run.stderr
    assert "(2 fixed, 0 remaining)" in run.stderr and "fixed" not in run.stdout
    subprocess.run(
        [*SERVER[:-1], "check", "--no-cache", "--fix", "-q", str(path)],
        cwd=project,
        capture_output=True,
    )
    assert run.stdout == path.read_text()
    assert (project / "app" / "sleepy.py").read_text() != SLEEPY  # (written by the second run only)


def test_neovim_attaches_and_shows_a_diagnostic(project: Path, tmp_path: Path):
    """A real editor: Neovim, headless, starts the server with vim.lsp on a file."""
    nvim = shutil.which("nvim")
    if nvim is None:
        pytest.skip("Neovim (nvim) is not installed: apt-get install neovim")
    out = tmp_path / "diagnostics.txt"
    env = {
        **os.environ,
        "ASL_FILE": str(project / "app" / "sleepy.py"),
        "ASL_ROOT": str(project),
        "ASL_OUT": str(out),
        "ASL_PYTHON": sys.executable,
    }
    script = Path(__file__).parent / "editors" / "nvim_attach.lua"
    subprocess.run(
        [
            nvim,
            "--headless",
            "-u",
            "NONE",
            "-i",
            "NONE",
            "-n",
            "-c",
            f"luafile {script}",
        ],
        env=env,
        cwd=project,
        timeout=120,
        capture_output=True,
        check=True,
    )
    rows = out.read_text().splitlines()
    assert rows[0].startswith("4:4:ASL201:`time.sleep` blocks the event loop"), rows
    assert len(rows) == 2


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER))
async def two_roots(lsp_client: LanguageClient, tmp_path: Path):
    """Two workspace folders, each its own project with its own pyproject.toml."""
    for name, select in (("one", "ASL201"), ("two", "ASL207")):
        root = tmp_path / name
        root.mkdir()
        (root / "pyproject.toml").write_text(f'[tool.asynclint]\nselect = ["{select}"]\n')
        (root / "sleepy.py").write_text(SLEEPY)
    lsp_client.feature(types.CLIENT_REGISTER_CAPABILITY)(lambda params: None)
    await lsp_client.initialize_session(
        types.InitializeParams(
            capabilities=client_capabilities("neovim"),
            workspace_folders=[
                types.WorkspaceFolder(uri=(tmp_path / name).as_uri(), name=name) for name in ("one", "two")
            ],
        )
    )
    yield
    await lsp_client.shutdown_session()


@pytest.mark.asyncio
async def test_multi_root_each_folder_its_own_settings(two_roots: LanguageClient, tmp_path: Path):
    one = _open(two_roots, tmp_path / "one" / "sleepy.py")
    two = _open(two_roots, tmp_path / "two" / "sleepy.py")
    await _until(two_roots, one, lambda d: _codes(d) == ["ASL201", "ASL201"])
    await _until(two_roots, two, lambda d: len(d) == 0)
