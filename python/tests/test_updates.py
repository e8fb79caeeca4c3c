"""patch, merge and replace with expected_version (docs/reference/updates.md,
docs/reference/api.md)."""

from __future__ import annotations

import pytest

import rosterdb
from conftest import user


def test_patch_merge_replace(store: rosterdb.Store) -> None:
    u = store.users.create(user("ann", nickname="Annie"))
    u2 = store.users.patch(u["id"], [
        {"op": "replace", "path": "/firstName", "value": "Anna"},
        {"op": "add", "path": "/attributes/dept", "value": "R&D"},
        {"op": "test", "path": "/version", "value": 1},
    ], expected_version=1)
    assert (u2["firstName"], u2["attributes"], u2["version"]) == ("Anna", {"dept": "R&D"}, 2)
    u3 = store.users.merge(u["id"], {"nickname": None, "attributes": {"office": 3}})
    assert "nickname" not in u3 and u3["attributes"] == {"dept": "R&D", "office": 3}
    u4 = store.users.replace(u["id"], {"username": "ann", "email": "ann@example.com",
                                       "firstName": "A", "lastName": "B"}, expected_version=3)
    assert u4["attributes"] == {} and u4["version"] == 4
    # A fetched document can be sent back unchanged: no write.
    assert store.users.merge(u["id"], store.users.get(u["id"])) == u4
    assert [c["op"] for c in store.changes()] == ["create", "update", "update", "update"]


def test_update_errors(store: rosterdb.Store) -> None:
    u = store.users.create(user("ann"))
    store.users.create(user("bob"))
    with pytest.raises(rosterdb.VersionConflictError) as vc:
        store.users.merge(u["id"], {"lastName": "X"}, expected_version=5)
    assert (vc.value.expected, vc.value.actual) == (5, 1)
    assert not isinstance(vc.value, rosterdb.ConflictError)
    with pytest.raises(rosterdb.PatchError) as pe:
        store.users.patch(u["id"], [{"op": "add", "path": "/lastName", "value": "Y"},
                                    {"op": "replace", "path": "/id", "value": 9}])
    assert pe.value.op_index == 1 and isinstance(pe.value, ValueError)
    with pytest.raises(rosterdb.ConflictError) as ce:
        store.users.merge(u["id"], {"username": "BOB"})
    assert ce.value.field == "username"
    with pytest.raises(rosterdb.ValidationError) as ve:
        store.users.replace(u["id"], {"username": "ann"})
    assert {e["field"] for e in ve.value.errors} == {"email", "firstName", "lastName"}
    with pytest.raises(rosterdb.NotFoundError):
        store.roles.merge(42, {"name": "x"})
    with pytest.raises(TypeError):
        store.users.patch(u["id"], {"op": "add"})  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        store.users.merge(u["id"], [("lastName", "x")])  # type: ignore[arg-type]
    assert store.users.get(u["id"]) == u


def test_password_through_patch(store: rosterdb.Store) -> None:
    u = store.users.create(user("ann"))
    after = store.users.patch(u["id"], [{"op": "add", "path": "/password", "value": "correct horse"}])
    assert after["hasPassword"] is True and "password" not in after


def test_roles_and_clients(store: rosterdb.Store) -> None:
    r = store.roles.create({"name": "staff"})
    assert store.roles.merge(r["id"], {"description": "d"})["description"] == "d"
    c = store.clients.create({"name": "svc"})["client"]
    c2 = store.clients.patch(c["id"], [{"op": "add", "path": "/roles/-", "value": r["id"]}])
    assert c2["roles"] == [r["id"]] and c2["clientId"] == c["clientId"]
    with pytest.raises(rosterdb.InUseError):
        store.roles.delete(r["id"])
