"""App-client logins through the binding (docs/reference/credentials.md, Client
logins): secrets, allowlists, rotation, sessions of clients."""

from __future__ import annotations

from typing import Any

import pytest

import rosterdb
from conftest import user


def make(mem: rosterdb.Store, **fields: Any) -> tuple[dict[str, Any], str]:
    created = mem.clients.create({"name": "svc", **fields})
    return created["client"], created["secret"]


def test_client_login_and_authenticate(mem: rosterdb.Store) -> None:
    role = mem.roles.create({"name": "sync", "permissions": ["users:read"]})
    client, secret = make(mem, roles=[role["id"]])
    assert "lastUsedAt" not in client
    login = mem.client_login(client["clientId"], secret)
    assert list(login) == ["token", "expiresAt", "client"]
    assert login["token"].startswith("rs_") and len(login["token"]) == 46
    assert login["client"]["id"] == client["id"] and "lastUsedAt" in login["client"]
    assert login["client"]["version"] == 1  # bookkeeping
    assert mem.authenticate(login["token"]) == {
        "kind": "client",
        "id": client["id"],
        "tenant": None,
        "roles": [role["id"]],
        "permissions": ["users:read"],
        "expiresAt": login["expiresAt"],
    }
    again = mem.client_login(client_id=client["clientId"], secret=secret, ip=None, ttl_seconds=5)
    assert again["expiresAt"] < login["expiresAt"]
    mem.logout(again["token"])
    with pytest.raises(rosterdb.InvalidTokenError):
        mem.authenticate(again["token"])


def test_every_failure_looks_the_same(mem: rosterdb.Store) -> None:
    client, secret = make(mem)
    off, off_secret = make(mem, enabled=False)
    fenced, fenced_secret = make(mem, ipAllowlist=["10.0.0.0/8"])
    seen = set()
    for client_id, s, ip in (
        (client["clientId"], secret + "x", None),
        (client["clientId"], "", None),
        (client["clientId"], off_secret, None),
        ("rc_" + "x" * 22, secret, None),
        ("", secret, None),
        (off["clientId"], off_secret, None),
        (fenced["clientId"], fenced_secret, None),
        (fenced["clientId"], fenced_secret, "11.0.0.1"),
        (fenced["clientId"], fenced_secret, "not an address"),
    ):
        with pytest.raises(rosterdb.AuthenticationError) as info:
            mem.client_login(client_id, s, ip)
        seen.add((type(info.value), str(info.value), info.value.args))
    assert seen == {(rosterdb.AuthenticationError, "authentication failed",
                     ("authentication failed",))}


ALLOWED = ["10.0.0.0/8", "192.168.1.5", "2001:db8::/32", "::1", "172.16.0.0/12"]


@pytest.mark.parametrize(
    "ip, ok",
    [
        ("10.0.0.5", True),
        ("10.255.255.255", True),
        ("192.168.1.5", True),
        ("172.31.0.1", True),
        ("2001:db8::1", True),
        ("2001:DB8:0:0:0:0:0:2", True),
        ("::1", True),
        ("::ffff:10.0.0.5", True),
        ("::ffff:192.168.1.5", True),
        ("11.0.0.1", False),
        ("192.168.1.6", False),
        ("172.32.0.1", False),
        ("2001:db9::1", False),
        ("::2", False),
        ("::ffff:11.0.0.5", False),
        ("127.0.0.1", False),
        ("", False),
        ("10.0.0.5/32", False),
        (" 10.0.0.5\n", True),  # the core ignores surrounding whitespace
        ("10.0.0.5\x00", False),
        ("x" * 1_000_000, False),
        ("\ud800", False),
        (None, False),
    ],
)
def test_ip_allowlists(mem: rosterdb.Store, ip: Any, ok: bool) -> None:
    client, secret = make(mem, ipAllowlist=ALLOWED)
    if ok:
        assert mem.client_login(client["clientId"], secret, ip)["client"]["id"] == client["id"]
    else:
        with pytest.raises(rosterdb.AuthenticationError):
            mem.client_login(client["clientId"], secret, ip=ip)


def test_a_mapped_block_is_its_ipv4_block(mem: rosterdb.Store) -> None:
    client, secret = make(mem, ipAllowlist=["::ffff:192.0.2.0/120"])
    for ip in ("192.0.2.7", "::ffff:192.0.2.200"):
        assert mem.client_login(client["clientId"], secret, ip)["client"]["id"] == client["id"]
    with pytest.raises(rosterdb.AuthenticationError):
        mem.client_login(client["clientId"], secret, "192.0.3.1")


def test_an_empty_allowlist_admits_any_address(mem: rosterdb.Store) -> None:
    client, secret = make(mem)
    for ip in (None, "10.0.0.1", "::1"):
        assert mem.client_login(client["clientId"], secret, ip)["client"]["id"] == client["id"]


def test_rotate_secret(mem: rosterdb.Store) -> None:
    client, old = make(mem)
    token = mem.client_login(client["clientId"], old)["token"]
    new = mem.clients.rotate_secret(client["id"])
    assert isinstance(new, str) and new != old and len(new) == 43
    with pytest.raises(rosterdb.AuthenticationError):
        mem.client_login(client["clientId"], old)
    with pytest.raises(rosterdb.InvalidTokenError):
        mem.authenticate(token)
    assert mem.client_login(client["clientId"], new)["client"]["id"] == client["id"]
    assert mem.clients.get(client["id"])["version"] == 2  # an admin write
    assert [c["op"] for c in mem.changes() if c["entity"] == "client"] == ["create", "update"]
    with pytest.raises(RuntimeError), mem.transaction() as tx:
        tx.clients.rotate_secret(client["id"])
        raise RuntimeError
    assert mem.client_login(client["clientId"], new)["client"]["id"] == client["id"]


@pytest.mark.parametrize("how", ["delete", "disable"])
def test_ending_a_client_ends_its_sessions(mem: rosterdb.Store, how: str) -> None:
    client, secret = make(mem)
    token = mem.client_login(client["clientId"], secret)["token"]
    if how == "delete":
        mem.clients.delete(client["id"])
    else:
        mem.clients.merge(client["id"], {"enabled": False})
    with pytest.raises(rosterdb.InvalidTokenError):
        mem.authenticate(token)
    with pytest.raises(rosterdb.AuthenticationError):
        mem.client_login(client["clientId"], secret)


def test_clients_and_users_are_told_apart(mem: rosterdb.Store) -> None:
    u = mem.users.create(user("ann", password="a user's password"))
    client, secret = make(mem)
    assert client["id"] == u["id"] == 1
    token = mem.client_login(client["clientId"], secret)["token"]
    mem.users.delete(u["id"])  # user 1 ending does not end client 1's sessions
    assert mem.authenticate(token)["kind"] == "client"
    assert mem.users.revoke_sessions(mem.users.create(user("bob"))["id"]) == 0
    assert mem.authenticate(token)["kind"] == "client"


def test_scoped_client_logins(mem: rosterdb.Store) -> None:
    acme = mem.scoped("acme")
    created = acme.clients.create({"name": "svc"})
    client, secret = created["client"], created["secret"]
    assert client["tenant"] == "acme"
    login = acme.client_login(client["clientId"], secret)
    assert mem.authenticate(login["token"])["tenant"] == "acme"
    with pytest.raises(rosterdb.AuthenticationError):
        mem.scoped("other").client_login(client["clientId"], secret)
    assert mem.client_login(client["clientId"], secret)["client"]["tenant"] == "acme"
    with pytest.raises(rosterdb.NotFoundError):
        mem.scoped("other").clients.rotate_secret(client["id"])
    assert isinstance(acme.clients.rotate_secret(client["id"]), str)


def test_in_a_transaction(mem: rosterdb.Store) -> None:
    created = mem.clients.create({"name": "svc", "ipAllowlist": ["::1"]})
    cid = created["client"]["clientId"]
    token = mem.client_login(cid, created["secret"], "::1")["token"]
    with mem.transaction() as tx:
        assert tx.authenticate(token)["kind"] == "client"
        new = tx.clients.rotate_secret(created["client"]["id"])
        with pytest.raises(rosterdb.InvalidTokenError):
            tx.authenticate(token)
        # Logins run on their own, never inside a transaction.
        assert not hasattr(tx, "client_login")
    assert mem.client_login(cid, new, "::1")["client"]["clientId"] == cid


@pytest.mark.parametrize("bad", [None, 5, b"x", ["x"]])
def test_non_str_arguments_are_type_errors(mem: rosterdb.Store, bad: Any) -> None:
    client, secret = make(mem)
    calls = [
        ("secret", lambda: mem.client_login(client["clientId"], bad)),
        ("ip", lambda: mem.client_login(client["clientId"], secret, bad)),
    ]
    if bad is not None:
        calls.append(("client_id", lambda: mem.client_login(bad, secret)))
    else:
        assert mem.client_login(client["clientId"], secret, bad)  # ip=None is allowed
        calls.pop()
    for name, call in calls:
        with pytest.raises(TypeError, match=f"{name} must be a str"):
            call()
