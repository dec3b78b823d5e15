from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
# The fixture checks live in helpers: rewrite its asserts so a failure shows both sides.
pytest.register_assert_rewrite("helpers")
