"""The "met" cells of the Python benchmark table (benches/python/compare.py):
a line met is "yes"; a ratio below its line names decision 0034 where that
decision accounts for the line (the import) and rosterdb is still at least as
fast, and is a plain "no" elsewhere; a patch at SQLite's speed that meets its
line names decision 0028."""

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


_EXPLAINED = (
    "no; why, and what was tried: [decision 0034](decisions/0034-benchmark-lines-left-short.md)"
)


def test_the_short_import_names_decision_0034() -> None:
    name = "import 20000 users, one transaction, per user (each repetition into new stores)"
    assert compare.verdict(name, 1.99, 2.0) == _EXPLAINED
    # At sqlite3's speed exactly, still a gap to the line, not a loss.
    assert compare.verdict(name, 1.0, 2.0) == _EXPLAINED


def test_other_shortfalls_and_losses_to_sqlite3_are_a_plain_no() -> None:
    # Slower than sqlite3: a loss, which no decision explains.
    assert compare.verdict("import 20000 users, one transaction", 0.9, 2.0) == "no"
    assert compare.verdict("get by email", 0.8, 3.0) == "no"
    # Lines that have held in every run: a shortfall there is news.
    assert compare.verdict("get by email", 2.5, 3.0) == "no"
    assert compare.verdict("get by id", 2.5, 3.0) == "no"
    assert compare.verdict("count enabled and roles eq 4", 1.5, 2.0) == "no"


def test_a_patch_at_sqlites_speed_meeting_its_line_names_decision_0028() -> None:
    got = compare.verdict("single durable patch of one attribute", 0.92, 0.6)
    assert got == (
        "yes; at SQLite's speed, [decision 0028](decisions/0028-durable-patch-at-sqlites-speed.md)"
    )
    assert compare.verdict("single durable patch of one attribute", 0.5, 0.6) == "no"
