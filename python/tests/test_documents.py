"""Documents cross the binding as plain dicts, unchanged."""

from __future__ import annotations

import time

import pytest

import rosterdb
from conftest import PASSWORD, user


def test_a_created_user_has_defaults_and_no_password(store: rosterdb.Store) -> None:
    u = store.users.create(user("ada", password="analytical-engine"))
    assert u["id"] == 1
    assert u["enabled"] is True
    assert u["roles"] == [] and u["externalIds"] == [] and u["attributes"] == {}
    assert u["version"] == 1
    assert u["hasPassword"] is True
    assert "password" not in u and "passwordHash" not in u
    assert u["createdAt"] == u["updatedAt"]
    assert u["createdAt"].endswith("Z") and len(u["createdAt"]) == 24
    assert list(u)[:2] == ["id", "username"]
    assert "nickname" not in u  # absent optional fields are left out
    assert store.users.get(1) == u


def test_attributes_round_trip_exactly(store: rosterdb.Store) -> None:
    attributes = {
        "unicode": "Zoë 李小龙 😀",
        "nested": {"list": [1, -2, 2.5, None, True, False, "x"], "empty": {}},
        "beyond_2_53": 2**53 + 1,
        "max_u64": 2**64 - 1,
        "min_i64": -(2**63),
        "float": 1e-300,
        "integral_float": 3.0,
        "bool_not_int": True,
        "tuple_becomes_list": (1, 2),
    }
    u = store.users.create(user(attributes=attributes))
    back = store.users.get(u["id"])["attributes"]
    expected = dict(attributes, tuple_becomes_list=[1, 2])
    assert back == expected
    assert type(back["bool_not_int"]) is bool
    assert type(back["beyond_2_53"]) is int and back["beyond_2_53"] == 9007199254740993
    assert type(back["integral_float"]) is float
    assert type(back["nested"]["list"][4]) is bool
    assert list(back) == list(attributes)  # insertion order is kept


def test_attribute_names_are_each_their_own_whatever_the_binding_reuses(
    store: rosterdb.Store,
) -> None:
    # More short names than the binding keeps made strings for (so that
    # names share its slots), names that differ only in the middle, long
    # names, and the same names again in another user and nested.
    names = [f"k{n}" for n in range(700)]
    names += [f"prefix-{n:04}-suffix" for n in range(100)]
    names += ["a" * 32, "a" * 33, "é" * 16, "é" * 17, "😀" * 8, ""]
    attributes = {name: n for n, name in enumerate(names)}
    first = store.users.create(user(attributes=attributes))
    second = store.users.create(user(attributes={"nested": dict(reversed(attributes.items()))}))
    for _ in range(2):
        got = store.users.get(first["id"])["attributes"]
        assert got == attributes and list(got) == names
        nested = store.users.get(second["id"])["attributes"]["nested"]
        assert nested == attributes and list(nested) == names[::-1]


def test_unicode_fields_are_kept_as_given(store: rosterdb.Store) -> None:
    u = store.users.create(user("Zoë", firstName=" Zoë ", lastName="李", nickname=""))
    assert (u["username"], u["firstName"], u["lastName"], u["nickname"]) == (
        "Zoë",
        " Zoë ",
        "李",
        "",
    )
    assert store.users.get_by_username("ZOË")["id"] == u["id"]


def test_lookups_by_username_email_and_external_id(store: rosterdb.Store) -> None:
    a = store.users.create(user("ann", externalIds=[{"type": "github", "value": "42"}]))
    b = store.users.create(user("ann", tenant="acme"))
    assert store.users.get_by_username("ANN")["id"] == a["id"]
    assert store.users.get_by_username("ann", tenant="acme")["id"] == b["id"]
    assert store.users.get_by_email("Ann@Example.com", "acme")["id"] == b["id"]
    assert store.users.get_by_external_id("github", "42")["id"] == a["id"]
    assert store.users.get_by_external_id(type="GitHub", value="42", tenant=None)["id"] == a["id"]


def test_roles_and_clients(store: rosterdb.Store) -> None:
    role = store.roles.create({"name": "ops", "permissions": ["b", "a", "b"], "description": "d"})
    assert role["permissions"] == ["a", "b"]
    created = store.clients.create({"name": "deployer", "roles": [role["id"]],
                                    "ipAllowlist": ["10.0.0.0/8"]})
    assert set(created) == {"client", "secret"}
    client, secret = created["client"], created["secret"]
    assert client["clientId"].startswith("rc_") and len(client["clientId"]) == 25
    assert isinstance(secret, str) and len(secret) == 43
    assert secret not in repr(store.clients.get(client["id"]))
    assert store.clients.get_by_client_id(client["clientId"]) == client
    assert store.roles.get(role["id"]) == role


def test_a_role_external_id(store: rosterdb.Store) -> None:
    role = store.roles.create({"name": "ops", "externalId": "Grp-1"})
    assert role["externalId"] == "Grp-1"
    assert "externalId" not in store.roles.create({"name": "staff"})
    assert [r["id"] for r in store.roles.list(where="externalId = 'Grp-1'").items] == [role["id"]]
    assert store.roles.list(where="externalId = 'grp-1'").items == []
    assert "externalId" not in store.roles.merge(role["id"], {"externalId": None})


def _same(a: object, b: object) -> bool:
    """Equal, with the same types and the same key order all the way down."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        assert isinstance(b, dict)
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        assert isinstance(b, list)
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return a == b


def test_a_get_is_the_document_a_list_shows(store: rosterdb.Store) -> None:
    """`get` builds its dict straight from the document; `list` goes through
    JSON values: both give the same objects, types and key order."""
    role = store.roles.create({"name": "ops", "permissions": ["b", "a"], "description": "d",
                               "tenant": "acme"})
    attributes = {
        "unicode": "Zoë 李小龙 😀", "nested": {"l": [1, -2, 2.5, None, True, "x", {}]},
        "max_u64": 2**64 - 1, "min_i64": -(2**63), "float": 1e-300, "whole": 3.0,
    }
    users = [
        store.users.create(user("ann", nickname="", roles=[role["id"]], attributes=attributes,
                                externalIds=[{"type": "github", "value": "42"}],
                                password="analytical-engine", tenant="acme")),
        store.users.create(user("bob", enabled=False, telephoneNumber="+1 555")),
    ]
    client = store.clients.create({"name": "deployer", "ipAllowlist": ["10.0.0.0/8"]})["client"]
    for u in users:
        listed = store.users.list(where=f"id eq {u['id']}").items[0]
        for got in (store.users.get(u["id"]), store.users.get_by_email(u["email"], u.get("tenant")), u):
            assert _same(got, listed), (got, listed)
    assert _same(store.roles.get(role["id"]), store.roles.list().items[0])
    assert _same(store.clients.get(client["id"]), store.clients.list().items[0])


def test_a_user_with_every_optional_field_and_text_of_every_width_gets_as_listed(
    mem: rosterdb.Store,
) -> None:
    """Text is made per width (ASCII, Latin-1, the BMP, beyond it) and per
    length (short non-ASCII text is made in one step): every kind, either
    side of the length where that changes, and a user with every optional
    field set (a login, a lockout, an update) is the same through `get`
    and through `list`."""
    texts = ["plain", "Zoë", "Øvergård", "Ζωή", "李小龙", "😀", "a😀é李", "é" * 32, "é" * 33,
             "a" * 63 + "é", "a" * 62 + "é", "😀" * 16, "😀" * 17, " é ", "\u00ff\u0100\uffff"]
    for n, text in enumerate(texts):
        name = text[-50:]  # names hold 50 characters; the longer texts differ at the end
        u = mem.users.create(user(f"u{n}", firstName=name, lastName=name[::-1],
                                  nickname=name, telephoneNumber="+1 555", mobileNumber="+1 556",
                                  externalIds=[{"type": "t", "value": text}],
                                  attributes={text: [text, {text: text}]}))
        got = mem.users.get(u["id"])
        assert (got["firstName"], got["nickname"]) == (name, name)
        assert got["externalIds"][0]["value"] == text and got["attributes"][text] == [text, {text: text}]
        listed = mem.users.list(where=f"id eq {u['id']}").items[0]
        assert _same(got, listed), (got, listed)
    u = mem.users.create(user("every", password=PASSWORD, nickname="n", tenant="acme",
                              telephoneNumber="1", mobileNumber="2", roles=[]))
    mem.users.verify_password("every", PASSWORD, tenant="acme")
    time.sleep(0.002)
    mem.users.merge(u["id"], {"nickname": "m"})
    for _ in range(3):
        with pytest.raises(rosterdb.AuthenticationError):
            mem.users.verify_password("every", "wrong password", tenant="acme")
    got = mem.users.get(u["id"])
    assert {"nickname", "telephoneNumber", "mobileNumber", "tenant", "lastLoginAt",
            "lockedUntil"} <= set(got)
    assert got["updatedAt"] != got["createdAt"]
    assert _same(got, mem.users.list(where=f"id eq {u['id']}").items[0])
    assert _same(mem.users.get_by_username("every", tenant="acme"), got)


def test_delete_returns_the_last_document(store: rosterdb.Store) -> None:
    u = store.users.create(user())
    assert store.users.delete(u["id"]) == u
    role = store.roles.create({"name": "r"})
    assert store.roles.delete(role["id"]) == role
    c = store.clients.create({"name": "c"})["client"]
    assert store.clients.delete(c["id"]) == c


def test_cascade_removes_a_held_role(store: rosterdb.Store) -> None:
    role = store.roles.create({"name": "staff"})
    u = store.users.create(user(roles=[role["id"]]))
    with __import__("pytest").raises(rosterdb.InUseError) as info:
        store.roles.delete(role["id"])
    assert info.value.count == 1
    store.roles.delete(role["id"], cascade=True)
    after = store.users.get(u["id"])
    assert after["roles"] == [] and after["version"] == 2


def test_change_log(store: rosterdb.Store) -> None:
    u = store.users.create(user())
    store.users.delete(u["id"])
    changes = store.changes()
    assert [(c["seq"], c["entity"], c["id"], c["op"], c["version"]) for c in changes] == [
        (1, "user", 1, "create", 1),
        (2, "user", 1, "delete", 1),
    ]
    assert set(changes[0]) == {"seq", "at", "entity", "id", "op", "version"}
    assert store.changes(after=1, limit=1) == changes[1:]
