"""Sessions through the binding (docs/reference/credentials.md, Sessions):
login, authenticate, logout, revocation, lifetimes, scoped views and
transactions."""

from __future__ import annotations

import re
from pathlib import Path
from datetime import datetime, timedelta
from typing import Any

import pytest

import rosterdb
from conftest import CHEAP, PASSWORD, user

TOKEN = re.compile(r"rs_[A-Za-z0-9_-]{43}")


def ts(text: str) -> datetime:
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", text), text
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@pytest.fixture
def ann(mem: rosterdb.Store) -> dict[str, Any]:
    reader = mem.roles.create({"name": "reader", "permissions": ["users:read", "roles:read"]})
    writer = mem.roles.create({"name": "writer", "permissions": ["users:write", "users:read"]})
    return mem.users.create(user("ann", password=PASSWORD, roles=[reader["id"], writer["id"]]))


def test_login_and_authenticate(mem: rosterdb.Store, ann: dict[str, Any]) -> None:
    login = mem.login("ann", PASSWORD)
    assert list(login) == ["token", "expiresAt", "user"]
    assert TOKEN.fullmatch(login["token"])
    assert login["user"]["id"] == ann["id"] and "lastLoginAt" in login["user"]
    assert login["user"] == mem.users.get(ann["id"])
    principal = mem.authenticate(login["token"])
    assert principal == {
        "kind": "user",
        "id": ann["id"],
        "tenant": None,
        "roles": ann["roles"],
        "permissions": ["roles:read", "users:read", "users:write"],
        "expiresAt": login["expiresAt"],
    }
    assert list(principal) == ["kind", "id", "tenant", "roles", "permissions", "expiresAt"]
    (session,) = mem.users.sessions(ann["id"])
    assert list(session) == ["createdAt", "expiresAt"]
    assert session["expiresAt"] == login["expiresAt"]
    assert ts(session["expiresAt"]) - ts(session["createdAt"]) == timedelta(seconds=900)
    assert login["token"] not in repr(mem.users.sessions(ann["id"]))
    # A login is bookkeeping: no version bump, no change-log entry.
    assert mem.users.get(ann["id"])["version"] == 1
    assert [c["entity"] for c in mem.changes()] == ["role", "role", "user"]


def test_keyword_arguments_and_lifetimes(mem: rosterdb.Store, ann: dict[str, Any]) -> None:
    for ttl in (60, 2_592_000):
        login = mem.login(
            identifier="ann", password=PASSWORD, tenant=None, ttl_seconds=ttl, totp_code=None
        )
        assert mem.authenticate(token=login["token"])["expiresAt"] == login["expiresAt"]
    lifetimes = [ts(s["expiresAt"]) - ts(s["createdAt"]) for s in mem.users.sessions(id=ann["id"])]
    assert sorted(lifetimes) == [timedelta(seconds=60), timedelta(seconds=2_592_000)]
    assert TOKEN.fullmatch(mem.login("ann", PASSWORD, ttl_seconds=1)["token"])


@pytest.mark.parametrize(
    "ttl", [0, -5, 2_592_001, 10**30, -(10**30), 1.5, 900.0, "900", None, True, False]
)
def test_bad_lifetimes_are_argument_errors(
    mem: rosterdb.Store, ann: dict[str, Any], ttl: Any
) -> None:
    c = mem.clients.create({"name": "svc"})
    for call in (
        lambda: mem.login("ann", PASSWORD, ttl_seconds=ttl),
        lambda: mem.client_login(c["client"]["clientId"], c["secret"], ttl_seconds=ttl),
        lambda: mem.scoped("acme").login("ann", PASSWORD, ttl_seconds=ttl),
    ):
        with pytest.raises(rosterdb.ArgumentError) as info:
            call()
        assert info.value.argument == "ttl_seconds"
        assert isinstance(info.value, ValueError)
    assert mem.users.sessions(ann["id"]) == []
    assert "lastLoginAt" not in mem.users.get(ann["id"])


def test_permissions_follow_the_roles_at_once(mem: rosterdb.Store, ann: dict[str, Any]) -> None:
    token = mem.login("ann", PASSWORD)["token"]
    reader, writer = ann["roles"]
    mem.roles.merge(reader, {"permissions": ["audit:read"]})
    assert mem.authenticate(token)["permissions"] == ["audit:read", "users:read", "users:write"]
    mem.users.merge(ann["id"], {"roles": [reader]})
    principal = mem.authenticate(token)
    assert (principal["roles"], principal["permissions"]) == ([reader], ["audit:read"])
    mem.roles.delete(reader, cascade=True)
    assert mem.authenticate(token)["permissions"] == []


def test_logout(mem: rosterdb.Store, ann: dict[str, Any]) -> None:
    first, second = mem.login("ann", PASSWORD)["token"], mem.login("ann", PASSWORD)["token"]
    mem.logout(first)
    with pytest.raises(rosterdb.InvalidTokenError):
        mem.authenticate(first)
    assert mem.authenticate(second)["id"] == ann["id"]
    assert len(mem.users.sessions(ann["id"])) == 1
    # Unknown, ended and malformed tokens are no-ops.
    for token in (first, "rs_" + "A" * 43, "", "x" * 1_000_000, "rs_\x00", "\ud800"):
        mem.logout(token)
    assert mem.authenticate(second)["id"] == ann["id"]


def test_revoke_sessions(mem: rosterdb.Store, ann: dict[str, Any]) -> None:
    other = mem.users.create(user("bob", password=PASSWORD))
    tokens = [mem.login("ann", PASSWORD)["token"] for _ in range(3)]
    bob = mem.login("bob", PASSWORD)["token"]
    assert len(mem.users.sessions(ann["id"])) == 3
    assert mem.users.revoke_sessions(ann["id"]) == 3
    assert mem.users.revoke_sessions(ann["id"]) == 0
    assert mem.users.sessions(ann["id"]) == []
    for token in tokens:
        with pytest.raises(rosterdb.InvalidTokenError):
            mem.authenticate(token)
    assert mem.authenticate(bob)["id"] == other["id"]
    assert mem.users.get(ann["id"])["version"] == 1  # ending sessions is no update


@pytest.mark.parametrize("how", ["delete", "disable", "patch password", "set_password"])
def test_ending_a_user_ends_its_sessions(mem: rosterdb.Store, ann: dict[str, Any], how: str) -> None:
    token = mem.login("ann", PASSWORD)["token"]
    if how == "delete":
        mem.users.delete(ann["id"])
    elif how == "disable":
        mem.users.merge(ann["id"], {"enabled": False})
    elif how == "patch password":
        mem.users.patch(ann["id"], [{"op": "replace", "path": "/password", "value": "new password"}])
    else:
        mem.users.set_password(ann["id"], "new password")
    with pytest.raises(rosterdb.InvalidTokenError):
        mem.authenticate(token)
    if how == "disable":
        mem.users.merge(ann["id"], {"enabled": True})
        with pytest.raises(rosterdb.InvalidTokenError):
            mem.authenticate(token)  # re-enabling does not bring them back


BAD_TOKENS = [
    "",
    "rs_",
    "rs_" + "A" * 43,
    "rs_" + "A" * 42 + "\x00",
    "RS_" + "A" * 43,
    "x" * 1_000_000,
    "rs_" + "A" * 1_000_000,
    "\x00" * 46,
    "\ud800" * 46,
    "rs_" + "\udcff" * 43,
]


@pytest.mark.parametrize("token", BAD_TOKENS, ids=range(len(BAD_TOKENS)))
def test_bad_tokens_are_invalid(mem: rosterdb.Store, ann: dict[str, Any], token: str) -> None:
    real = mem.login("ann", PASSWORD)["token"]
    for target in (mem, mem.scoped("acme")):
        with pytest.raises(rosterdb.InvalidTokenError) as info:
            target.authenticate(token)
        assert token[:20] not in str(info.value) or not token
        target.logout(token)
    with mem.transaction() as tx, pytest.raises(rosterdb.InvalidTokenError):
        tx.authenticate(token)
    # A token that differs from a real one in its last character.
    twin = real[:-1] + ("A" if real[-1] != "A" else "B")
    with pytest.raises(rosterdb.InvalidTokenError):
        mem.authenticate(twin)
    assert mem.authenticate(real)["id"] == ann["id"]


@pytest.mark.parametrize("bad", [None, 5, b"rs_x", ["rs_x"]])
def test_non_str_tokens_are_type_errors(mem: rosterdb.Store, bad: Any) -> None:
    for call in (mem.authenticate, mem.logout):
        with pytest.raises(TypeError, match="token must be a str"):
            call(bad)


def test_the_token_is_shown_only_by_login(mem: rosterdb.Store, ann: dict[str, Any]) -> None:
    login = mem.login("ann", PASSWORD)
    token = login["token"]
    for seen in (
        login["user"],
        mem.authenticate(token),
        mem.users.sessions(ann["id"]),
        mem.users.get(ann["id"]),
        mem.changes(),
        mem.check(),
    ):
        assert token not in repr(seen)
        assert token[3:] not in repr(seen)


def test_a_scoped_view_logs_in_its_own_users(mem: rosterdb.Store) -> None:
    mem.users.create(user("ann", password=PASSWORD))
    acme_ann = mem.users.create(user("ann", tenant="acme", password="acme password"))
    acme = mem.scoped("acme")
    login = acme.login("ann", "acme password")
    assert login["user"]["id"] == acme_ann["id"]
    with pytest.raises(rosterdb.AuthenticationError):
        acme.login("ann", PASSWORD)  # the tenantless ann is not in this view
    # The view's tenant applies whatever `tenant` says.
    assert acme.login("ann", "acme password", tenant="other")["user"]["id"] == acme_ann["id"]
    assert mem.login("ann", "acme password", tenant="acme")["user"]["id"] == acme_ann["id"]

    token = login["token"]
    principal = mem.authenticate(token)
    assert principal["tenant"] == "acme"
    assert acme.authenticate(token) == principal
    other = mem.scoped("other")
    with pytest.raises(rosterdb.InvalidTokenError):
        other.authenticate(token)
    other.logout(token)  # another tenant's token: a no-op
    assert mem.authenticate(token) == principal
    assert acme.users.sessions(acme_ann["id"]) == mem.users.sessions(acme_ann["id"])
    with pytest.raises(rosterdb.NotFoundError):
        other.users.sessions(acme_ann["id"])
    with pytest.raises(rosterdb.NotFoundError):
        other.users.revoke_sessions(acme_ann["id"])
    acme.logout(token)
    with pytest.raises(rosterdb.InvalidTokenError):
        mem.authenticate(token)


def test_sessions_in_a_transaction(mem: rosterdb.Store, ann: dict[str, Any]) -> None:
    login = mem.login("ann", PASSWORD, ttl_seconds=60)
    token = login["token"]
    with mem.transaction() as tx:
        assert tx.authenticate(token)["id"] == ann["id"]
        assert len(tx.users.sessions(ann["id"])) == 1
    assert mem.authenticate(token)["expiresAt"] == login["expiresAt"]

    # A rolled-back logout leaves the session alive.
    with pytest.raises(RuntimeError), mem.transaction() as tx:
        tx.logout(token)
        with pytest.raises(rosterdb.InvalidTokenError):
            tx.authenticate(token)
        raise RuntimeError
    assert mem.authenticate(token)["id"] == ann["id"]

    with mem.transaction() as tx:
        assert tx.users.revoke_sessions(ann["id"]) == 1
    with pytest.raises(rosterdb.InvalidTokenError):
        mem.authenticate(token)


def test_a_transaction_must_be_open(mem: rosterdb.Store, ann: dict[str, Any]) -> None:
    tx = mem.transaction()
    with pytest.raises(rosterdb.StorageError, match="not begun"):
        tx.authenticate("rs_x")
    with tx:
        pass
    with pytest.raises(rosterdb.StorageError, match="finished"):
        tx.authenticate("rs_x")


def test_login_on_a_file_store_survives_reopening(
    cheap_store: rosterdb.Store, path: Path
) -> None:
    cheap_store.users.create(user("ann", password=PASSWORD))
    token = cheap_store.login("ann", PASSWORD, ttl_seconds=3600)["token"]
    cheap_store.close()
    with rosterdb.Store(path, **CHEAP) as again:
        assert again.authenticate(token)["kind"] == "user"
