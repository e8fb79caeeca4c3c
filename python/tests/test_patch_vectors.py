"""Runs the language-neutral update vectors (tests/vectors/patches.json).

Each case gets a fresh in-memory store: its ``before`` records are created,
then ``doc``, then one ``patch``, ``merge`` or ``replace``; the result or the
error is compared as tests/vectors/README.md describes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Union

import pytest

import rosterdb

VECTORS = Path(__file__).resolve().parents[2] / "tests" / "vectors" / "patches.json"
CASES = json.loads(VECTORS.read_text(encoding="utf-8"))["cases"]

Records = Union[rosterdb.Users, rosterdb.Roles, rosterdb.Clients]

#: Fields no update changes.
KEPT = ("id", "createdAt", "clientId")

ERRORS: dict[str, type[rosterdb.RosterError]] = {
    "InvalidPatch": rosterdb.PatchError,
    "Validation": rosterdb.ValidationError,
    "Conflict": rosterdb.ConflictError,
    "VersionConflict": rosterdb.VersionConflictError,
    "NotFound": rosterdb.NotFoundError,
}


def same(a: Any, b: Any) -> bool:
    """JSON equality: key order does not matter, but True is not 1."""
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


def records_of(store: rosterdb.Store, entity: str) -> Records:
    records: dict[str, Records] = {"user": store.users, "role": store.roles, "client": store.clients}
    return records[entity]


def create(store: rosterdb.Store, entity: str, doc: dict[str, Any]) -> dict[str, Any]:
    created = records_of(store, entity).create(doc)
    return dict(created["client"]) if entity == "client" else created


def apply(records: Records, case: dict[str, Any], id: int) -> dict[str, Any]:
    version = case.get("expectedVersion")
    if "ops" in case:
        return records.patch(id, case["ops"], expected_version=version)
    if "merge" in case:
        return records.merge(id, case["merge"], expected_version=version)
    return records.replace(id, case["replace"], expected_version=version)


def test_the_vector_file_is_not_empty() -> None:
    assert len(CASES) > 100


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_patch_vector(case: dict[str, Any]) -> None:
    with rosterdb.Store.memory() as store:
        for record in case.get("before", []):
            create(store, record["entity"], record["doc"])
        created = create(store, case["entity"], case["doc"])
        records = records_of(store, case["entity"])
        target = case.get("id", created["id"])
        if "result" in case:
            returned = apply(records, case, target)
            assert same(records.get(created["id"]), returned)
            if case["result"]["version"] == 1:  # no write at all
                assert same(returned, created)
            for key in KEPT:
                assert same(returned.get(key), created.get(key)), key
            for key, value in case["result"].items():
                assert same(returned.get(key), value), key
            return
        with pytest.raises(ERRORS[case["error"]]) as info:
            apply(records, case, target)
        error: Any = info.value
        if case["error"] == "InvalidPatch":
            assert error.op_index == case["opIndex"]
        elif case["error"] == "Validation":
            assert sorted(e["field"] for e in error.errors) == sorted(case["errorFields"])
        elif case["error"] == "Conflict":
            assert error.field == case["field"]
        elif case["error"] == "VersionConflict":
            assert (error.expected, error.actual) == (case["expectedVersion"], 1)
        assert same(records.get(created["id"]), created)
