"""The "met" cells of the Python benchmark table (benches/python/compare.py):
a line met is "yes", a ratio below its line (open work) a plain "no", and a
patch at SQLite's speed that meets its line names decision 0028."""

from __future__ import annotations

import importlib.util
from pathlib import Path

_PATH = Path(__file__).resolve().parents[2] / "benches" / "python" / "compare.py"
_SPEC = importlib.util.spec_from_file_location("bench_compare", _PATH)
assert _SPEC is not None and _SPEC.loader is not None
compare = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(compare)


def test_a_line_met_is_yes() -> None:
    assert compare.verdict("get by id", 4.06, 3.0) == "yes"
    assert compare.verdict("single durable patch of one attribute", 1.2, 0.6) == "yes"


def test_open_work_and_slower_than_sqlite3_are_a_plain_no() -> None:
    # The import is open work at the engine's floor (decision 0021, amendment 1).
    assert compare.verdict("import 20000 users, one transaction", 1.14, 2.0) == "no"
    assert compare.verdict("get by email", 2.5, 3.0) == "no"
    assert compare.verdict("get by id", 0.8, 3.0) == "no"
    assert compare.verdict("count enabled and roles eq 4", 1.5, 2.0) == "no"


def test_a_patch_at_sqlites_speed_meeting_its_line_names_decision_0028() -> None:
    got = compare.verdict("single durable patch of one attribute", 0.92, 0.6)
    assert got == (
        "yes; at SQLite's speed, [decision 0028](decisions/0028-durable-patch-at-sqlites-speed.md)"
    )
    assert compare.verdict("single durable patch of one attribute", 0.5, 0.6) == "no"
