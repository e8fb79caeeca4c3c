"""Runs the language-neutral validation vectors (tests/vectors/validation.json)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import rosterdb

VECTORS = Path(__file__).resolve().parents[2] / "tests" / "vectors" / "validation.json"
CASES = json.loads(VECTORS.read_text(encoding="utf-8"))["cases"]


def test_the_vector_file_is_not_empty() -> None:
    assert len(CASES) > 80


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_validation_vector(case: dict[str, Any]) -> None:
    store = rosterdb.Store.memory()
    collection = {"user": store.users, "role": store.roles, "client": store.clients}[
        case["entity"]
    ]
    doc = case["doc"]
    if not isinstance(doc, dict):
        # Python refuses a non-dict document before the core sees it.
        assert not case["valid"] and case["errorFields"] == [""]
        with pytest.raises(TypeError):
            collection.create(doc)
        return
    if case["valid"]:
        created = collection.create(doc)
        if case["entity"] == "client":
            created = created["client"]
        for key in ("username", "email", "name", "tenant", "description"):
            if doc.get(key) is not None:
                assert created[key] == doc[key]
    else:
        with pytest.raises(rosterdb.ValidationError) as info:
            collection.create(doc)
        assert sorted(e["field"] for e in info.value.errors) == sorted(case["errorFields"])
