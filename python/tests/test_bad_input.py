"""Wrong Python types raise TypeError or a RosterError; nothing is written."""

from __future__ import annotations

import math
from typing import Any

import pytest

import rosterdb
from conftest import user


@pytest.mark.parametrize("bad_id", [None, 1.0, "1", b"1", True, [1]])
def test_ids_must_be_ints(store: rosterdb.Store, bad_id: Any) -> None:
    store.users.create(user())
    for call in (store.users.get, store.users.delete, store.roles.get, store.clients.delete):
        with pytest.raises(TypeError, match="id must be an int"):
            call(bad_id)


@pytest.mark.parametrize("doc", [None, [], "doc", b"{}", 42])
def test_documents_must_be_dicts(store: rosterdb.Store, doc: Any) -> None:
    with pytest.raises(TypeError, match="doc must be a dict"):
        store.users.create(doc)


@pytest.mark.parametrize(
    "attributes, error",
    [
        ({1: "x"}, TypeError),
        ({"k": b"bytes"}, TypeError),
        ({"k": {1, 2}}, TypeError),
        ({"k": object()}, TypeError),
        ({"k": math.nan}, ValueError),
        ({"k": math.inf}, ValueError),
        ({"k": 2**64}, ValueError),
        ({"k": -(2**63) - 1}, ValueError),
    ],
)
def test_values_that_are_not_json(store: rosterdb.Store, attributes: Any, error: type) -> None:
    with pytest.raises(error):
        store.users.create(user(attributes=attributes))
    assert store.changes() == []


def test_deep_nesting_is_refused_without_crashing(store: rosterdb.Store) -> None:
    deep: Any = 1
    for _ in range(100_000):
        deep = [deep]
    with pytest.raises(ValueError, match="levels deep"):
        store.users.create(user(attributes={"k": deep}))
    shallow: Any = 1
    for _ in range(40):
        shallow = {"k": shallow}
    with pytest.raises(rosterdb.ValidationError) as info:
        store.users.create(user(attributes=shallow))
    assert info.value.errors[0]["field"] == "attributes"
    assert store.changes() == []


@pytest.mark.parametrize(
    "field, value",
    [("username", None), ("username", 5), ("enabled", "yes"), ("enabled", 1),
     ("roles", [1.5]), ("roles", [True]), ("roles", "1"), ("attributes", [])],
)
def test_mistyped_fields_are_validation_errors(
    store: rosterdb.Store, field: str, value: Any
) -> None:
    with pytest.raises(rosterdb.ValidationError) as info:
        store.users.create(user(**{field: value}))
    assert [e["field"] for e in info.value.errors] == [field]
    assert store.changes() == []


def test_wrong_argument_types(store: rosterdb.Store) -> None:
    with pytest.raises(TypeError):
        store.users.get_by_username(None)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        store.users.get_by_email("a@b.cd", tenant=5)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        store.roles.delete(1, cascade="yes")  # type: ignore[arg-type]
    with pytest.raises(rosterdb.ArgumentError) as info:
        store.changes(after=-1)
    assert info.value.argument == "after"
    with pytest.raises(TypeError):
        rosterdb.Store(None)  # type: ignore[arg-type]
