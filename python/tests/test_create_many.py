"""`users.create_many(docs)`: many users in one write, all or nothing."""

from __future__ import annotations

import inspect
import math
from typing import Any

import pytest

import rosterdb
from conftest import PASSWORD, user


def written(store: rosterdb.Store) -> tuple[int, int]:
    """What a failed bulk create must leave as it was: users, change log."""
    return store.users.count(), len(store.changes(limit=1000))


def with_int_key(doc: dict[str, Any]) -> dict[Any, Any]:
    """`doc` with a key that is not a `str` (which JSON cannot hold)."""
    out: dict[Any, Any] = dict(doc)
    out[1] = "x"
    return out


def test_returns_the_ids_in_input_order_and_the_users_are_readable(
    mem: rosterdb.Store,
) -> None:
    first = mem.users.create(user("first"))
    role = mem.roles.create({"name": "staff"})
    docs = [
        user("zed", roles=[role["id"]], attributes={"n": 1}),
        user("amy", password=PASSWORD, externalIds=[{"type": "gh", "value": "7"}]),
        user("Jörg", nickname="J", enabled=False),
    ]
    ids = mem.users.create_many(docs)
    assert ids == [first["id"] + 1, first["id"] + 2, first["id"] + 3]
    assert all(type(i) is int for i in ids)
    for id, doc in zip(ids, docs):
        got = mem.users.get(id)
        assert got["username"] == doc["username"] and got["email"] == doc["email"]
        assert got["version"] == 1 and "tenant" not in got
    assert mem.users.get(ids[0])["roles"] == [role["id"]]
    assert mem.users.get(ids[0])["attributes"] == {"n": 1}
    assert mem.users.get_by_external_id("gh", "7")["id"] == ids[1]
    assert mem.users.get(ids[2])["enabled"] is False
    assert "password" not in mem.users.get(ids[1])
    assert mem.users.verify_password("amy", PASSWORD)["id"] == ids[1]
    assert mem.users.count() == 4
    assert [(c["id"], c["op"]) for c in mem.changes()][-3:] == [(i, "create") for i in ids]


def test_an_empty_list_creates_nothing(store: rosterdb.Store) -> None:
    assert store.users.create_many([]) == []
    assert written(store) == (0, 0)


@pytest.mark.parametrize(
    ("docs", "field"),
    [
        # Within the batch, keys compare as create compares them (any case).
        ([user("ann"), user("ANN", email="other@example.com")], "username"),
        ([user("ann"), user("bob", email="ANN@example.com")], "email"),
        (
            [
                user("ann", externalIds=[{"type": "gh", "value": "1"}]),
                user("bob", externalIds=[{"type": "gh", "value": "1"}]),
            ],
            "externalIds",
        ),
        # With a user already stored.
        ([user("new"), user("taken")], "username"),
        ([user("new"), user("other", email="taken@example.com")], "email"),
    ],
)
def test_a_conflict_in_the_batch_or_with_the_store_writes_nothing(
    store: rosterdb.Store, docs: list[dict[str, Any]], field: str
) -> None:
    store.users.create(user("taken"))
    before = written(store)
    with pytest.raises(rosterdb.ConflictError) as info:
        store.users.create_many(docs)
    assert info.value.entity == "user" and info.value.field == field
    assert written(store) == before
    with pytest.raises(rosterdb.NotFoundError):
        store.users.get_by_username(docs[0]["username"])
    # The ids of the refused batch were never handed out.
    assert store.users.create(user("next"))["id"] == 2


@pytest.mark.parametrize(
    ("bad", "fields"),
    [
        (user("b", email="not an email"), ["docs[2].email"]),
        (user("b", unknown=1), ["docs[2].unknown"]),
        (user("b", id=9), ["docs[2].id"]),
        ({"username": "b"}, ["docs[2].email", "docs[2].firstName", "docs[2].lastName"]),
        # Values JSON cannot hold, named as create names them, inside the item.
        (user("b", attributes={"level": math.nan}), ["docs[2].attributes.level"]),
        (user("b", attributes={"tags": ["a", 2**70]}), ["docs[2].attributes.tags[1]"]),
        (with_int_key(user("b")), ["docs[2]"]),
        # Both kinds of problem come together, as for create.
        (
            user("b", email="not an email", attributes={"level": math.inf}),
            ["docs[2].attributes.level", "docs[2].email"],
        ),
    ],
)
def test_an_invalid_item_is_named_by_its_position_and_nothing_is_written(
    store: rosterdb.Store, bad: dict[Any, Any], fields: list[str]
) -> None:
    store.users.create(user("first"))
    before = written(store)
    with pytest.raises(rosterdb.ValidationError) as info:
        store.users.create_many([user("a0"), user("a1"), bad, user("a3")])
    assert sorted(e["field"] for e in info.value.errors) == fields
    assert all(e["field"] in str(info.value) for e in info.value.errors)
    assert written(store) == before
    with pytest.raises(rosterdb.NotFoundError):
        store.users.get_by_username("a0")


def test_a_missing_role_writes_nothing(store: rosterdb.Store) -> None:
    with pytest.raises(rosterdb.ValidationError) as info:
        store.users.create_many([user("a"), user("b", roles=[77])])
    assert [e["code"] for e in info.value.errors] == ["role_not_found"]
    assert written(store) == (0, 0)


@pytest.mark.parametrize(
    ("docs", "message"),
    [
        (None, "docs must be a list of dicts, not NoneType"),
        (user("a"), "docs must be a list of dicts, not dict"),
        ((user("a"),), "docs must be a list of dicts, not tuple"),
        ([user("a"), "b"], r"docs\[1\] must be a dict, not str"),
        ([user("a"), user("b"), None], r"docs\[2\] must be a dict, not NoneType"),
    ],
)
def test_a_wrong_type_is_a_type_error_naming_the_item(
    store: rosterdb.Store, docs: Any, message: str
) -> None:
    with pytest.raises(TypeError, match=message):
        store.users.create_many(docs)
    assert written(store) == (0, 0)


def test_a_transaction_that_raises_keeps_none_of_them(store: rosterdb.Store) -> None:
    with pytest.raises(RuntimeError, match="boom"):
        with store.transaction() as tx:
            ids = tx.users.create_many([user("ann"), user("bob")])
            assert [tx.users.get(i)["username"] for i in ids] == ["ann", "bob"]
            assert tx.users.count() == 2
            raise RuntimeError("boom")
    assert written(store) == (0, 0)
    assert store.users.create_many([user("ann")]) == [1]


def test_in_a_transaction_they_commit_with_it_and_a_failed_batch_leaves_no_trace(
    store: rosterdb.Store,
) -> None:
    with store.transaction() as tx:
        role = tx.roles.create({"name": "staff"})
        first = tx.users.create_many([user("ann", roles=[role["id"]]), user("bob")])
        with pytest.raises(rosterdb.ConflictError):
            tx.users.create_many([user("cid"), user("ann")])
        with pytest.raises(rosterdb.ValidationError):
            tx.users.create_many([user("cid"), user("dan", email="no")])
        second = tx.users.create_many([user("cid")])
    assert first == [1, 2] and second == [3]
    assert [u["username"] for u in store.users.list(sort="id")] == ["ann", "bob", "cid"]
    assert store.users.get(1)["roles"] == [role["id"]]


def test_a_tenant_view_assigns_its_tenant(store: rosterdb.Store) -> None:
    acme = store.scoped("acme")
    store.scoped("globex").users.create(user("ann"))
    ids = acme.users.create_many([user("ann"), user("bob", tenant="acme")])
    assert [store.users.get(i)["tenant"] for i in ids] == ["acme", "acme"]
    assert acme.users.count() == 2 and store.users.count() == 3
    with store.scoped("acme").transaction() as tx:
        (cid,) = tx.users.create_many([user("cid")])
    assert store.users.get(cid)["tenant"] == "acme"
    # A document naming another tenant is refused, by its position.
    with pytest.raises(rosterdb.ValidationError) as info:
        acme.users.create_many([user("dan"), user("eve", tenant="globex")])
    assert [e["field"] for e in info.value.errors] == ["docs[1].tenant"]
    assert acme.users.count() == 3


def test_the_signature_is_docs() -> None:
    s = rosterdb.Store.memory()
    for users in (s.users, s.scoped("acme").users, s.transaction().users):
        assert list(inspect.signature(users.create_many).parameters) == ["docs"]
    assert "all or nothing" in (rosterdb.Users.create_many.__doc__ or "")


# A batch of 512 documents or more is read on a second thread while the
# next chunk converts (python/src/bulk.rs); it must answer as a small one.
LARGE = 1500


def many(n: int, **changes: Any) -> list[dict[str, Any]]:
    return [user(f"u{i}", attributes={"i": i, "tags": ["a", i]}, **changes) for i in range(n)]


@pytest.mark.parametrize("n", [3, LARGE])
def test_a_large_batch_creates_every_user_in_input_order(store: rosterdb.Store, n: int) -> None:
    docs = many(n)
    ids = store.users.create_many(docs)
    assert ids == list(range(1, n + 1))
    for i in (0, n // 2, n - 1):
        got = store.users.get(ids[i])
        assert got["username"] == f"u{i}" and got["attributes"] == {"i": i, "tags": ["a", i]}


@pytest.mark.parametrize("n", [3, LARGE])
def test_in_a_large_batch_the_first_invalid_item_in_input_order_is_named(
    store: rosterdb.Store, n: int
) -> None:
    docs = many(n)
    first, later = n // 2, n - 1
    docs[first] = user("bad", email="not an email", attributes={"x": math.nan})
    docs[later] = user("worse", unknown=1)
    with pytest.raises(rosterdb.ValidationError) as info:
        store.users.create_many(docs)
    assert sorted(e["field"] for e in info.value.errors) == [
        f"docs[{first}].attributes.x",
        f"docs[{first}].email",
    ]
    assert written(store) == (0, 0)


@pytest.mark.parametrize("n", [3, LARGE])
def test_in_a_large_batch_an_item_not_a_dict_comes_before_any_invalid_one(
    store: rosterdb.Store, n: int
) -> None:
    docs: list[Any] = many(n)
    docs[0] = user("bad", email="not an email")
    docs[n - 1] = ["not", "a", "dict"]
    with pytest.raises(TypeError, match=rf"docs\[{n - 1}\] must be a dict, not list"):
        store.users.create_many(docs)
    assert written(store) == (0, 0)


@pytest.mark.parametrize("n", [3, LARGE])
def test_in_a_large_batch_a_scoped_view_refuses_another_tenant_by_position(
    store: rosterdb.Store, n: int
) -> None:
    acme = store.scoped("acme")
    docs = many(n)
    docs[n - 2] = user("eve", tenant="globex", unknown=1)
    with pytest.raises(rosterdb.ValidationError) as info:
        acme.users.create_many(docs)
    assert sorted(e["field"] for e in info.value.errors) == [f"docs[{n - 2}].tenant", f"docs[{n - 2}].unknown"]
    assert written(store) == (0, 0)
    assert acme.users.create_many(many(n)) == list(range(1, n + 1))
    assert store.users.get(n)["tenant"] == "acme"
