"""`benchmarks/beyond.py`: the pinned projects beyond the corpus, and the tables it draws."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

_PATH = Path(__file__).parents[1] / "benchmarks" / "beyond.py"
_spec = importlib.util.spec_from_file_location("beyond", _PATH)
assert _spec is not None and _spec.loader is not None
beyond = importlib.util.module_from_spec(_spec)
sys.modules["beyond"] = beyond
_spec.loader.exec_module(beyond)


def _finding(code: str, path: str, row: int) -> dict:
    return {"code": code, "filename": path, "location": {"row": row, "column": 1}, "message": f"a | {code}"}


def test_every_pinned_project_names_its_archive_and_hash():
    rows = beyond.read_lock(None)
    assert len(rows) >= 80
    for row in rows:
        assert re.fullmatch(r"s\d+[a-z]?", row["batch"]), row
        assert re.fullmatch(r"[0-9a-f]{64}", row["sha256"]), row
        assert row["archive"].startswith(f"{row['dist']}-{row['version']}"), row
    # One folder per project within a batch: two archives must not unpack over each other.
    dirs = [beyond.project_dir(Path("/x"), row) for row in rows]
    assert len(dirs) == len(set(dirs))
    assert {row["batch"] for row in beyond.read_lock({"s9"})} == {"s9"}


def test_the_table_lists_every_finding_or_a_seeded_draw_per_project():
    found = {
        "s9/b": [_finding("ASL103", "b.py", 3), _finding("ASL102", "a.py", 9)],
        "s9/a": [_finding("ASL201", f"m{i}.py", i) for i in range(1, 6)],
    }
    whole = beyond.table(found, seed=1, per_project=None).splitlines()
    assert len(whole) == 2 + 7
    # Projects in order, each one's findings by file and line; a `|` in a message escaped.
    assert whole[2].startswith("| B001 | ASL201 | s9/a | m1.py:1 | a \\| ASL201 |")
    assert whole[-1].startswith("| B007 | ASL103 | s9/b | b.py:3 |")
    drawn = beyond.table(found, seed=1, per_project=2)
    assert drawn == beyond.table(found, seed=1, per_project=2)  # the seed fixes the draw
    assert len(drawn.splitlines()) == 2 + 2 + 2
    assert drawn.count("| s9/a |") == 2 and drawn.count("| s9/b |") == 2


def test_compare_lists_what_a_change_removed_and_added():
    before = {"s9/a": [_finding("ASL102", "a.py", 9), _finding("ASL103", "a.py", 3)]}
    after = {"s9/a": [_finding("ASL103", "a.py", 3), _finding("ASL201", "b.py", 1)]}
    assert beyond.compare(before, after).splitlines() == [
        "before 2, after 2: 1 removed, 1 added",
        "- s9/a ASL102 a.py:9",
        "+ s9/a ASL201 b.py:1",
    ]
