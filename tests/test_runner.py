"""The runner: how many times each file goes through the engine."""

from __future__ import annotations

import os
from collections import Counter

import pytest

from asynclint import passes, runner, workers
from asynclint.config import Settings
from asynclint.diagnostics import Facts
from asynclint.runner import Job


def test_project_pass_lints_each_requested_file_once_however_it_is_named(tmp_path, monkeypatch):
    # The command line names files relatively, discovery names the project absolutely:
    # the same file must not be parsed again as "the rest of the project".
    package = _project(tmp_path)
    (package / "other.py").write_text("async def unrelated():\n    return 1\n")
    monkeypatch.chdir(tmp_path)
    parses = _counting_parses(monkeypatch)
    settings = Settings(root=str(tmp_path))
    requested = [os.path.join("app", "views.py"), os.path.join("app", "helpers.py")]
    project = sorted(str(p) for p in package.glob("*.py"))
    result = runner.run(requested, Job(settings), jobs=1, project_files=project)

    assert [d.code for d in result.diagnostics] == ["ASL207"]
    # views.py once, for its facts (async code: its calls lead to the helpers) and ASL207's
    # places, which the index then judges without parsing it again; helpers.py once, for
    # its facts, when views is seen to call it;
    # other.py (async, but not requested: what it calls is nobody's finding) and the empty
    # __init__.py, which async code never calls into, never.
    assert parses == {"views.py": 1, "helpers.py": 1}


def test_facts_of_a_module_between_are_fetched_when_the_index_reaches_it(tmp_path, monkeypatch):
    # views -> middle.wrapper -> helpers.pause: middle.py has no blocking call and no async
    # code of its own, so its facts are read once views' async code is seen to call into it.
    package = _project(tmp_path)
    (package / "middle.py").write_text("from .helpers import pause\n\ndef wrapper():\n    pause()\n")
    (package / "views.py").write_text("from app.middle import wrapper\n\nasync def view():\n    wrapper()\n")
    parses = _counting_parses(monkeypatch)
    files = sorted(str(p) for p in package.glob("*.py"))
    [finding] = runner.run(files, Job(Settings(root=str(tmp_path))), jobs=1, project_files=files).diagnostics
    assert finding.code == "ASL207" and "wrapper -> pause -> time.sleep" in finding.message, finding.message
    assert parses == {"helpers.py": 1, "middle.py": 1, "views.py": 1}  # ASL207 from its recorded places


def _counting_parses(monkeypatch) -> Counter[str]:
    from asynclint import engine

    parses: Counter[str] = Counter()
    parse = engine.parse_or_report

    def counting(text, path, *args, **kwargs):
        parses[os.path.basename(path)] += 1
        return parse(text, path, *args, **kwargs)

    monkeypatch.setattr(engine, "parse_or_report", counting)
    return parses


def _package(tmp_path, name):
    """An empty package `name` in the folder."""
    package = tmp_path / name
    package.mkdir()
    (package / "__init__.py").write_text("")
    return package


def _project(tmp_path):
    package = _package(tmp_path, "app")
    (package / "helpers.py").write_text("import time\n\ndef pause():\n    time.sleep(1)\n")
    (package / "views.py").write_text("from app.helpers import pause\n\nasync def view():\n    pause()\n")
    return package


def _counting(monkeypatch) -> Counter[str]:
    calls: Counter[str] = Counter()
    process = workers.process

    def counting(path, job):
        calls[os.path.basename(path)] += 1
        return process(path, job)

    monkeypatch.setattr(workers, "process", counting)
    return calls


def test_a_warm_run_lints_nothing_and_reports_the_same(tmp_path, monkeypatch):
    package = _project(tmp_path)
    settings = Settings(root=str(tmp_path))
    files = sorted(str(p) for p in package.glob("*.py"))
    first = runner.run(files, Job(settings), jobs=1, use_cache=True, project_files=files)
    calls = _counting(monkeypatch)
    second = runner.run(files, Job(settings), jobs=1, use_cache=True, project_files=files)
    assert calls == {}, "the ASL207 pass, too, comes from the cache"
    assert (
        [(d.path, d.code, d.message) for d in second.diagnostics]
        == [(d.path, d.code, d.message) for d in first.diagnostics]
        == [(str(package / "views.py"), "ASL207", first.diagnostics[0].message)]
    )


def test_the_cached_project_pass_follows_a_change_in_another_module(tmp_path, monkeypatch):
    # views.py does not change, but whether its call blocks does: its cached ASL207
    # result must not outlive the index it was computed with.
    package = _project(tmp_path)
    settings = Settings(root=str(tmp_path))
    files = sorted(str(p) for p in package.glob("*.py"))
    assert [
        d.code for d in runner.run(files, Job(settings), jobs=1, use_cache=True, project_files=files).diagnostics
    ] == ["ASL207"]
    helpers = package / "helpers.py"
    helpers.write_text("import asyncio\n\ndef pause():\n    return 1\n")
    os.utime(helpers, ns=(1, 1))  # a different mtime whatever the clock's resolution
    assert runner.run(files, Job(settings), jobs=1, use_cache=True, project_files=files).diagnostics == []
    helpers.write_text("import subprocess\n\ndef pause():\n    subprocess.run(['true'])\n")
    os.utime(helpers, ns=(2, 2))
    [finding] = runner.run(files, Job(settings), jobs=1, use_cache=True, project_files=files).diagnostics
    assert "subprocess.run" in finding.message


def test_an_unchanged_project_is_answered_from_the_run_record(tmp_path, monkeypatch):
    package = _project(tmp_path)
    settings = Settings(root=str(tmp_path))
    files = sorted(str(p) for p in package.glob("*.py"))
    first = runner.run(files, Job(settings), jobs=1, use_cache=True, project_files=files)
    monkeypatch.setattr(passes, "run_cached", lambda *args: pytest.fail("the per-file caches were read"))
    second = runner.run(files, Job(settings), jobs=1, use_cache=True, project_files=files)
    assert second.diagnostics == first.diagnostics and [d.code for d in second.diagnostics] == ["ASL207"]


@pytest.mark.parametrize("change", ["new file", "touched", "edited", "fewer files", "garbage record"])
def test_the_run_record_is_not_used_once_anything_changed(tmp_path, change):
    package = _project(tmp_path)
    settings = Settings(root=str(tmp_path))
    files = sorted(str(p) for p in package.glob("*.py"))
    runner.run(files, Job(settings), jobs=1, use_cache=True, project_files=files)
    expected = ["ASL207"]
    if change == "new file":
        # A second caller of the blocking helper: the project changed though no old file did.
        (package / "more.py").write_text("from app.helpers import pause\n\nasync def more():\n    pause()\n")
        files = sorted(str(p) for p in package.glob("*.py"))
        expected = ["ASL207", "ASL207"]
    elif change == "touched":
        os.utime(package / "views.py", ns=(5, 5))
    elif change == "edited":
        (package / "helpers.py").write_text("def pause():\n    return 1\n")
        os.utime(package / "helpers.py", ns=(6, 6))
        expected = []
    elif change == "fewer files":
        files = [f for f in files if not f.endswith("helpers.py")]
        expected = []  # the helper is not part of the project any more
    else:
        for record in (tmp_path / ".asynclint_cache").rglob("run-*.json"):
            record.write_text('{"files": [')
    result = runner.run(files, Job(settings), jobs=1, use_cache=True, project_files=files)
    assert [d.code for d in result.diagnostics] == expected


def test_a_file_edited_during_the_run_leaves_no_run_record(tmp_path, monkeypatch):
    package = _project(tmp_path)
    settings = Settings(root=str(tmp_path))
    files = sorted(str(p) for p in package.glob("*.py"))
    build = runner._project_pass

    def editing(*args, **kwargs):
        found = build(*args, **kwargs)
        os.utime(package / "views.py", ns=(7, 7))  # as if saved by an editor meanwhile
        return found

    monkeypatch.setattr(runner, "_project_pass", editing)
    runner.run(files, Job(settings), jobs=1, use_cache=True, project_files=files)
    assert not list((tmp_path / ".asynclint_cache").rglob("run-*.json"))


def test_importing_the_module_of_a_session_factory_is_not_using_it(tmp_path, monkeypatch):
    # A module that imports `app.db` for something else never spells `get_session`: the
    # session rules need not run on it again with the index.
    package = _package(tmp_path, "app")
    (package / "db.py").write_text(
        "from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker\n\n"
        "factory = async_sessionmaker(expire_on_commit=False)\n\n\n"
        "def get_session() -> AsyncSession:\n    return factory()\n\n\nLIMIT = 10\n"
    )
    (package / "uses.py").write_text(
        "from app.db import get_session\n\n\nasync def handler():\n    session = get_session()\n    session.commit()\n"
    )
    (package / "other.py").write_text(
        "from app import db\n\n\nasync def limit(s):\n    s.commit()\n    return db.LIMIT\n"
    )
    parses = _counting_parses(monkeypatch)
    files = sorted(str(p) for p in package.glob("*.py"))
    result = runner.run(files, Job(Settings(root=str(tmp_path))), jobs=1, project_files=files)
    assert [(os.path.basename(d.path), d.code) for d in result.diagnostics] == [("uses.py", "ASL304")]
    assert parses["uses.py"] == 2 and parses["other.py"] == 1


def test_a_name_of_one_package_does_not_send_another_packages_modules_to_be_read(tmp_path, monkeypatch):
    # `app.run.Run` takes a session: a module of `other` saying `run` and `Run` cannot use
    # it without importing it, which spells `app` (a relative import stays in `other`); a
    # module of `app` saying them is read, through a relative import too.
    for name in ("app", "other"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "__init__.py").write_text("")
    (tmp_path / "app" / "run.py").write_text(
        "from sqlalchemy.ext.asyncio import AsyncSession\n\n\n"
        "class Run:\n    async def save(self, session: AsyncSession):\n        await session.commit()\n"
    )
    (tmp_path / "app" / "jobs.py").write_text("from .run import Run\n\n\ndef make():\n    return Run()\n")
    (tmp_path / "other" / "steps.py").write_text("class Run:\n    pass\n\n\ndef run():\n    return Run()\n")
    # A relative import reaches only its own package's names: not `app`'s.
    (tmp_path / "other" / "relative.py").write_text("from .steps import Run\n\n\ndef run():\n    return Run()\n")
    parses = _counting_parses(monkeypatch)
    files = sorted(str(p) for p in tmp_path.rglob("*.py"))
    runner.run(files, Job(Settings(root=str(tmp_path))), jobs=1, project_files=files)
    assert parses["jobs.py"] == 1 and parses["steps.py"] == 0 and parses["relative.py"] == 0


def test_a_call_through_a_re_export_fetches_the_package_then_the_module(tmp_path, monkeypatch):
    # views calls `app.tools.pause`: the package `app.tools` re-exports it from `.impl`.
    # Neither has async code or a session: the package's facts are read first (it is where
    # the call leads), then the module's (where its re-export leads).
    package = tmp_path / "app"
    (package / "tools").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "tools" / "__init__.py").write_text("from .impl import pause\n")
    (package / "tools" / "impl.py").write_text("import time\n\ndef pause():\n    time.sleep(1)\n")
    (package / "views.py").write_text("from app import tools\n\nasync def view():\n    tools.pause()\n")
    (package / "unrelated.py").write_text("import time\n\ndef nap():\n    time.sleep(1)\n")
    parses = _counting_parses(monkeypatch)
    files = sorted(str(p) for p in package.rglob("*.py"))
    [finding] = runner.run(files, Job(Settings(root=str(tmp_path))), jobs=1, project_files=files).diagnostics
    assert finding.code == "ASL207" and "pause -> time.sleep" in finding.message, finding.message
    assert parses == {"views.py": 1, "__init__.py": 1, "impl.py": 1}  # not unrelated.py


def test_checking_a_few_files_after_the_whole_project_reads_no_file_again(tmp_path, monkeypatch):
    # The whole-project run cached every module's facts; checking one file then takes the
    # other modules' facts from there instead of parsing them again for a run of its own.
    # (views.py itself may be linted again with the index: the second pass's cache is keyed
    # by the rules it runs, here fewer than for the whole project.)
    package = _project(tmp_path)
    (package / "models.py").write_text(
        "from sqlalchemy.ext.asyncio import async_sessionmaker\n\nfactory = async_sessionmaker(expire_on_commit=False)\n"
    )
    settings = Settings(root=str(tmp_path))
    files = sorted(str(p) for p in package.glob("*.py"))
    whole = runner.run(files, Job(settings), jobs=1, use_cache=True, project_files=files)
    parses = _counting_parses(monkeypatch)
    views = [str(package / "views.py")]
    few = runner.run(views, Job(settings), jobs=1, use_cache=True, project_files=files)
    assert (
        [(d.path, d.code, d.message) for d in few.diagnostics]
        == [(d.path, d.code, d.message) for d in whole.diagnostics if d.path in views]
        != []
    )
    assert set(parses) <= {"views.py"}, parses


def test_the_cache_knows_a_file_however_it_is_named(tmp_path, monkeypatch):
    (tmp_path / "jobs.py").write_text("import time\n\nasync def job():\n    time.sleep(1)\n")
    monkeypatch.chdir(tmp_path)
    settings = Settings(root=str(tmp_path))
    first = runner.run(["jobs.py"], Job(settings), jobs=1, use_cache=True)
    parses = _counting_parses(monkeypatch)
    absolute = str(tmp_path / "jobs.py")
    again = runner.run([absolute], Job(settings), jobs=1, use_cache=True)
    (tmp_path / "other.py").write_text("x = 1\n")  # another run, so the run record cannot answer
    third = runner.run(["jobs.py", "other.py"], Job(settings), jobs=1, use_cache=True)
    assert parses == {}
    assert [(d.path, d.code) for d in again.diagnostics] == [(absolute, "ASL201")]
    assert [(d.path, d.code) for d in third.diagnostics] == [("jobs.py", "ASL201")]
    assert [d.code for d in first.diagnostics] == ["ASL201"] and first.diagnostics[0].path == "jobs.py"


def test_a_worker_gives_memory_back_after_a_large_file_only_when_it_holds_much(tmp_path, monkeypatch):
    # glibc keeps a large file's freed tree; giving it back costs page faults later, so only
    # after a large file, and only once the process holds more than the limit.
    from asynclint import memory

    small, large = tmp_path / "small.py", tmp_path / "large.py"
    small.write_text("x = 1\n")
    large.write_text("x = 1\n" + "#" * workers.LARGE_FILE + "\n")
    trims = []
    monkeypatch.setattr(memory, "_malloc_trim", lambda pad: trims.append(pad))
    job = Job(Settings(root=str(tmp_path)))

    monkeypatch.setattr(memory, "resident", lambda: memory.HELD_LIMIT + 1)
    workers.chunk([(str(small), job), (str(large), job), (str(small), job)])
    assert trims == [0]

    monkeypatch.setattr(memory, "resident", lambda: memory.HELD_LIMIT)
    workers.chunk([(str(large), job)])
    assert trims == [0]


def test_resident_memory_is_read_where_proc_has_it():
    from asynclint import memory

    if not os.path.exists("/proc/self/statm"):
        pytest.skip("no /proc")
    assert 1024 * 1024 < memory.resident() < 10 * 1024**3


class _Recorder:
    def __init__(self):
        self.passes: list[list] = []  # [name, size, done]

    def start(self, name, files):
        self.passes.append([name, files, 0])

    def advance(self, files):
        self.passes[-1][2] += files


def test_progress_is_told_each_pass_and_its_size(tmp_path, monkeypatch):
    # The bar starts over for each pass over many files, so its count never runs past its total.
    for i in range(30):
        (tmp_path / f"requested_{i}.py").write_text("import time\n\nasync def f():\n    time.sleep(1)\n")
        (tmp_path / f"other_{i}.py").write_text("from sqlalchemy.ext.asyncio import AsyncSession\n")
    requested = sorted(str(p) for p in tmp_path.glob("requested_*.py"))
    project = sorted(str(p) for p in tmp_path.glob("*.py"))
    recorder = _Recorder()
    monkeypatch.setattr(passes, "PROGRESS", recorder)
    result = runner.run(requested, Job(Settings(root=str(tmp_path))), jobs=2, project_files=project)

    assert len(result.diagnostics) == 30
    assert recorder.passes == [["linting", 30, 30], ["reading the project", 30, 30]]


def test_the_terminal_bar_is_one_bar_and_later_passes_are_stages():
    from rich.progress import Progress

    from asynclint.cli import _Bar

    with Progress(disable=True) as progress:
        task = progress.add_task("linting", total=10, stage="")
        bar = _Bar(progress, task)
        bar.start("linting", 10)
        bar.advance(10)
        bar.start("project-wide rules", 4)
        bar.advance(1)
        state = progress.tasks[0]
        assert (state.description, state.total, state.completed) == ("linting", 10, 10)
        assert state.fields["stage"] == "project-wide rules 1/4"


def test_a_run_reads_each_cache_file_once(tmp_path, monkeypatch):
    # A few files of a project: the first pass, the rest of the project, facts on demand and
    # the second pass share cache files (the whole-project facts are megabytes in a real one).
    from asynclint import cache

    package = _project(tmp_path)
    (package / "middle.py").write_text("from .helpers import pause\n\ndef wrapper():\n    pause()\n")
    settings = Settings(root=str(tmp_path))
    project = sorted(str(p) for p in package.glob("*.py"))
    runner.run(project, Job(settings), jobs=1, use_cache=True, project_files=project)
    (package / "views.py").write_text("from app.middle import wrapper\n\nasync def view():\n    wrapper()\n")

    reads: Counter[str] = Counter()
    init = cache.Cache.__init__

    def reading(self, *args):
        init(self, *args)
        reads[self.file.name] += 1

    monkeypatch.setattr(cache.Cache, "__init__", reading)
    requested = [str(package / "views.py")]
    result = runner.run(requested, Job(settings), jobs=1, use_cache=True, project_files=project)
    assert [d.code for d in result.diagnostics] == ["ASL207"]
    assert len(reads) >= 3 and set(reads.values()) == {1}


def test_the_language_servers_workers_read_a_project_on_every_core(tmp_path):
    # `read_all` starts its workers by "forkserver": their parent is the fork server, which
    # they must not take for a sign that the main process is gone.
    files = []
    for number in range(workers.PARALLEL_THRESHOLD + 6):
        path = tmp_path / f"m{number}.py"
        path.write_text(f"def f{number}():\n    return {number}\n")
        files.append(str(path))
    job = Job(passes.facts_only(Settings(root=str(tmp_path))), facts=Facts.ALL)
    results = runner.read_all(files, job, 2, use_cache=False)
    assert sorted(r.path for r in results) == sorted(files)
    assert all(r.facts and r.facts.get("functions") for r in results)


def test_a_recorded_place_is_silenced_as_its_finding_would_be(tmp_path):
    # ASL207's places are recorded in the first pass, noqa applied there: a line's noqa for
    # ASL207 (or for every code) and a file's exemption silence the finding to be; a noqa
    # for another code does not.
    package = _project(tmp_path)
    (package / "views.py").write_text(
        "from app.helpers import pause\n\n"
        "async def view():\n"
        "    pause()  # noqa: ASL207\n"
        "    pause()  # noqa\n"
        "    pause()  # noqa: ASL201\n"
        "    pause()\n"
    )
    (package / "quiet.py").write_text(
        "# asynclint: noqa: ASL207\nfrom app.helpers import pause\n\nasync def view():\n    pause()\n"
    )
    files = sorted(str(p) for p in package.glob("*.py"))
    found = runner.run(files, Job(Settings(root=str(tmp_path))), jobs=1, project_files=files).diagnostics
    assert [(os.path.basename(d.path), d.row, d.code) for d in found] == [
        ("views.py", 6, "ASL207"),
        ("views.py", 7, "ASL207"),
    ]


def test_a_finding_at_a_place_not_located_is_linted_again(tmp_path, monkeypatch):
    # A recorded place CPython's positions could not locate (`positions.call_ranges` gave
    # None): that it is a finding is known from its record, where it is takes a second lint.
    from asynclint import positions

    package = _project(tmp_path)
    (package / "views.py").write_text(
        "from app.helpers import pause\n\nasync def view():\n    (pause())\n    pause()\n"
    )
    files = sorted(str(p) for p in package.glob("*.py"))
    located = runner.run(files, Job(Settings(root=str(tmp_path))), jobs=1, project_files=files)
    monkeypatch.setattr(positions, "call_ranges", lambda text, tree, calls: [None] * len(calls))
    parses = _counting_parses(monkeypatch)
    found = runner.run(files, Job(Settings(root=str(tmp_path))), jobs=1, project_files=files)
    assert found.diagnostics == located.diagnostics
    assert [(d.row, d.col, d.end_col) for d in found.diagnostics] == [(4, 6, 13), (5, 5, 12)]
    assert parses["views.py"] == 2


def test_recorded_places_are_located_by_the_first_pass(tmp_path, monkeypatch):
    # Where CPython's tree is at hand: judging a place later (a re-check after a helper
    # changed judges the places of every file calling it) then takes no parse of the file.
    from asynclint import engine, positions
    from asynclint.project import ProjectIndex

    package = _project(tmp_path)
    (package / "views.py").write_text(
        "from app.helpers import pause\n\nasync def view():\n    (pause())\n    x = [pause() for _ in f()]\n"
    )
    settings = Settings(root=str(tmp_path))
    first = engine.lint_file(str(package / "views.py"), settings, collect_facts=Facts.FIRST)
    helper = engine.lint_file(str(package / "helpers.py"), settings, collect_facts=Facts.ALL)
    assert [(site["code"], site["range"]) for site in first.sites] == [
        ("ASL207", [4, 6, 4, 13]),
        ("ASL207", [5, 10, 5, 17]),
    ]

    def no_parse(*args, **kwargs):
        raise AssertionError("parsed again")

    monkeypatch.setattr(positions, "call_ranges", no_parse)
    monkeypatch.setattr(engine, "parse_or_report", no_parse)
    index = ProjectIndex.build([first.facts, helper.facts])
    found = passes.judged_at_sites(first, frozenset({"ASL207"}), index, Job(settings))
    assert [(d.code, d.row, d.col, d.end_row, d.end_col) for d in found] == [
        ("ASL207", 4, 6, 4, 13),
        ("ASL207", 5, 10, 5, 17),
    ]


def test_a_task_root_without_a_swallowed_cancellation_is_not_linted_again(tmp_path, monkeypatch):
    # The index can only exempt ASL102/ASL107 findings (a coroutine another module starts as a
    # task); a module whose first pass found none has nothing for it to take away.
    package = _package(tmp_path, "app")
    swallow = "    try:\n        await asyncio.sleep(1)\n    except asyncio.CancelledError:\n        return\n"
    (package / "workers.py").write_text(f"import asyncio\n\nasync def poll():\n{swallow}")
    reraise = swallow.replace("return", "raise")  # mentions CancelledError, swallows nothing
    (package / "clean.py").write_text(f"import asyncio\n\nasync def tick():\n{reraise}")
    (package / "other.py").write_text(f"import asyncio\n\nasync def awaited():\n{swallow}")
    (package / "main.py").write_text(
        "import asyncio\nfrom app.clean import tick\nfrom app.other import awaited\nfrom app.workers import poll\n\n"
        "async def start():\n    asyncio.create_task(poll())\n    asyncio.create_task(tick())\n"
        "    await awaited()\n"
    )
    files = sorted(str(p) for p in package.glob("*.py"))
    parses = _counting_parses(monkeypatch)
    settings = Settings(root=str(tmp_path), extend_select=("ASL107",))
    found = runner.run(files, Job(settings), jobs=1, project_files=files).diagnostics
    # poll's handler is exempt (a task's root, started in main.py); awaited's is not.
    assert [(os.path.basename(d.path), d.row) for d in found if d.code == "ASL107"] == [("other.py", 6)]
    assert parses["workers.py"] == 2  # linted again: the index takes its finding away
    assert parses["clean.py"] == 1  # a task's root too, with nothing to take away


def test_the_second_pass_is_one_progress_stage_whatever_its_groups_of_rules(tmp_path, monkeypatch):
    # Files are linted again in groups of the same rules; the bar shows one stage for all.
    import asynclint.project
    from asynclint.diagnostics import FileResult
    from asynclint.project import ProjectIndex

    paths = []
    for name in "abc":
        path = tmp_path / f"{name}.py"
        path.write_text("async def f(session):\n    session.commit()\n")
        paths.append(str(path))
    plan = {paths[0]: frozenset({"ASL302"}), paths[1]: frozenset({"ASL304"}), paths[2]: frozenset({"ASL304"})}
    monkeypatch.setattr(asynclint.project, "rerun_plan", lambda *args: dict(plan))
    recorder = _Recorder()
    monkeypatch.setattr(passes, "PROGRESS", recorder)
    results = [FileResult(path) for path in paths]
    passes.project_wide_again(results, ProjectIndex.build([]), Job(Settings(root=str(tmp_path))), 1, False)
    assert recorder.passes == [["project-wide rules", 3, 3]]


@pytest.mark.parametrize("jobs", [1, 2])
def test_batches_of_different_rules_run_together_and_each_gets_its_own_results(tmp_path, jobs):
    # The second pass runs each file with its own rules: its groups go to the workers at
    # once, and each group's results come back to it, its own rules' findings only.
    text = "import time, subprocess\n\nasync def f():\n    time.sleep(1)\n    subprocess.run(['x'])\n"
    files = []
    for number in range(workers.PARALLEL_THRESHOLD + 6):
        path = tmp_path / f"m{number}.py"
        path.write_text(text)
        files.append(str(path))
    settings = Settings(root=str(tmp_path))
    sleep = Job(Settings(root=str(tmp_path), select=("ASL201",)))
    run = Job(Settings(root=str(tmp_path), select=("ASL203",)))
    try:
        found = passes.run_batches([(files[:20], sleep), (files[10:], run), ([], Job(settings))], jobs, False)
    finally:
        workers.shutdown_pool()
    assert [sorted(r.path for r in done) for done in found] == [sorted(files[:20]), sorted(files[10:]), []]
    assert {d.code for r in found[0] for d in r.diagnostics} == {"ASL201"}
    assert {d.code for r in found[1] for d in r.diagnostics} == {"ASL203"}
    assert all(len(r.diagnostics) == 1 for done in found for r in done)


def test_a_session_method_on_a_standard_library_value_is_no_place_for_the_index(tmp_path):
    # ASL304 records where a coroutine would be lost were the receiver a session, for the
    # index to say (a file with such a place is linted again with it). A receiver this module
    # knows as a value of the standard library (`os.environ`, `d: dict`) the index cannot
    # make a session: no place, no second parse. One it knows nothing about stays a place.
    from asynclint import engine

    package = _project(tmp_path)
    (package / "views.py").write_text(
        "import os\n"
        "from sqlalchemy.ext.asyncio import AsyncSession\n\n"
        "async def view(client, d: dict, session: AsyncSession, q):\n"
        "    mode = os.environ.get('MODE').lower()\n"
        "    hit = d.get('key').strip()\n"
        "    res = await session.execute(q)\n"
        "    rows = res.scalars().all()\n"
        "    rows = res.unique().scalars().all()\n"
        "    return client.get('key').value\n\n"
        "async def handed(session: AsyncSession, q):\n"
        "    res = await session.execute(q)\n"
        "    keep(res)\n"
        "    return res.scalars().all()\n"
    )
    first = engine.lint_file(str(package / "views.py"), Settings(root=str(tmp_path)), collect_facts=Facts.FIRST)
    # Kept: `client` (anything), and `res` handed to a call (an `AsyncSession` parameter?).
    assert [site["range"][0] for site in first.sites or () if site["code"] == "ASL304"] == [10, 15]


def test_a_project_package_named_as_the_standard_librarys_keeps_its_places(tmp_path):
    # A project whose package is called `calendar`: its own names are no library's.
    from asynclint import engine

    package = _package(tmp_path, "calendar")
    (package / "views.py").write_text(
        "from calendar.db import open_session\n\n"
        "async def view(q):\n"
        "    session = open_session()\n"
        "    return session.execute(q).scalars()\n"
    )
    settings = Settings(root=str(tmp_path))
    first = engine.lint_file(str(package / "views.py"), settings, collect_facts=Facts.FIRST)
    assert [site["range"][0] for site in first.sites or () if site["code"] == "ASL304"] == [5, 5]
