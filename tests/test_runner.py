"""The runner: how many times each file goes through the engine."""

from __future__ import annotations

import os
from collections import Counter

from asynclint import runner
from asynclint.config import Settings
from asynclint.runner import Job


def test_project_pass_lints_each_requested_file_once_however_it_is_named(tmp_path, monkeypatch):
    # The command line names files relatively, discovery names the project absolutely:
    # the same file must not be parsed again as "the rest of the project".
    package = tmp_path / "app"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "helpers.py").write_text("import time\n\ndef pause():\n    time.sleep(1)\n")
    (package / "views.py").write_text("from app.helpers import pause\n\nasync def view():\n    pause()\n")
    (package / "other.py").write_text("def unrelated():\n    return 1\n")
    monkeypatch.chdir(tmp_path)
    calls: Counter[str] = Counter()
    process = runner._process

    def counting(path, job):
        calls[os.path.abspath(path)] += 1
        return process(path, job)

    monkeypatch.setattr(runner, "_process", counting)
    settings = Settings(root=str(tmp_path))
    requested = [os.path.join("app", "views.py"), os.path.join("app", "helpers.py")]
    project = sorted(str(p) for p in package.glob("*.py"))
    result = runner.run(requested, Job(settings), jobs=1, project_files=project)

    assert [d.code for d in result.diagnostics] == ["ASL207"]
    views = str(package / "views.py")
    # views.py: once for rules + facts, once more for ASL207 with the index; the others once.
    assert calls == {views: 2, str(package / "helpers.py"): 1, str(package / "other.py"): 1,
                     str(package / "__init__.py"): 1}
