"""Password checks, lockout and password administration through the binding
(docs/reference/credentials.md, Passwords and Lockout): conversions, errors,
threads and transactions."""

from __future__ import annotations

import threading
from typing import Any, Callable

import pyotp
import pytest

import rosterdb
from conftest import CHEAP, PASSWORD, user


def failure(call: Callable[[], object]) -> tuple[type, str, tuple[object, ...], dict[str, Any]]:
    """Everything a caller can see of the AuthenticationError `call` raises."""
    with pytest.raises(rosterdb.AuthenticationError) as info:
        call()
    e = info.value
    return type(e), str(e), e.args, dict(vars(e))


def test_verify_password_by_username_or_email(mem: rosterdb.Store) -> None:
    created = mem.users.create(user("ann", password=PASSWORD))
    assert "lastLoginAt" not in created
    for identifier in ("ann", "ANN", "ann@example.com", "Ann@Example.COM"):
        checked = mem.users.verify_password(identifier, PASSWORD)
        assert checked["id"] == created["id"]
        assert checked["lastLoginAt"] >= created["createdAt"]
        assert "password" not in checked and "passwordHash" not in checked
    # A successful check is bookkeeping: no version bump, no change-log entry.
    assert mem.users.get(created["id"])["version"] == 1
    assert len(mem.changes()) == 1


def test_verify_password_keyword_arguments(mem: rosterdb.Store) -> None:
    mem.users.create(user("ann", password=PASSWORD))
    checked = mem.users.verify_password(
        identifier="ann", password=PASSWORD, tenant=None, totp_code=None
    )
    assert checked["username"] == "ann"


def test_tenants_are_told_apart(mem: rosterdb.Store) -> None:
    mem.users.create(user("ann", password="no tenant password"))
    mem.users.create(user("ann", tenant="acme", password="acme password"))
    assert "tenant" not in mem.users.verify_password("ann", "no tenant password")
    assert mem.users.verify_password("ann", "acme password", tenant="acme")["tenant"] == "acme"
    with pytest.raises(rosterdb.AuthenticationError):
        mem.users.verify_password("ann", "acme password")
    with pytest.raises(rosterdb.AuthenticationError):
        mem.users.verify_password("ann", "no tenant password", tenant="acme")
    # A scoped view checks the users of its own tenant only.
    acme = mem.scoped("acme")
    assert acme.users.verify_password("ann", "acme password")["tenant"] == "acme"
    with pytest.raises(rosterdb.AuthenticationError):
        acme.users.verify_password("ann", "no tenant password")
    with pytest.raises(rosterdb.AuthenticationError):
        mem.scoped("other").users.verify_password("ann", "acme password", tenant="acme")


def test_every_failure_looks_the_same(mem: rosterdb.Store) -> None:
    mem.users.create(user("ann", password=PASSWORD))
    disabled = mem.users.create(user("dis", password=PASSWORD, enabled=False))
    locked = mem.users.create(user("loc", password=PASSWORD))
    mem.users.create(user("nopw"))
    for _ in range(3):
        with pytest.raises(rosterdb.AuthenticationError):
            mem.users.verify_password("loc", "wrong password")
    assert "lockedUntil" in mem.users.get(locked["id"])
    tfa = mem.users.create(user("tfa", password=PASSWORD))
    enrolment = mem.users.totp_enroll(tfa["id"])
    mem.users.totp_confirm(tfa["id"], pyotp.TOTP(enrolment["secret"]).now())

    attempts: list[tuple[str, str, dict[str, Any]]] = [
        ("ann", "wrong password", {}),
        ("nobody", PASSWORD, {}),
        ("ann", PASSWORD, {"tenant": "acme"}),
        ("dis", PASSWORD, {}),
        ("loc", PASSWORD, {}),
        ("nopw", PASSWORD, {}),
        ("tfa", PASSWORD, {}),
        ("tfa", PASSWORD, {"totp_code": "not a code"}),
        ("tfa", PASSWORD, {"totp_code": ""}),
    ]
    seen = set()
    for identifier, password, extra in attempts:
        seen.add(repr(failure(lambda: mem.users.verify_password(identifier, password, **extra))))
        seen.add(repr(failure(lambda: mem.login(identifier, password, **extra))))
    assert len(seen) == 1, seen
    (only,) = seen
    assert "authentication failed" in only
    assert disabled["enabled"] is False


def test_lockout_and_unlock(mem: rosterdb.Store) -> None:
    u = mem.users.create(user("ann", password=PASSWORD))
    for n in range(1, 4):
        with pytest.raises(rosterdb.AuthenticationError):
            mem.users.verify_password("ann", "wrong password")
        assert ("lockedUntil" in mem.users.get(u["id"])) == (n == 3)
    locked = mem.users.get(u["id"])
    assert locked["lockedUntil"] > locked["updatedAt"]
    assert locked["version"] == 1  # lockout is bookkeeping
    with pytest.raises(rosterdb.AuthenticationError):
        mem.users.verify_password("ann", PASSWORD)
    with pytest.raises(rosterdb.AuthenticationError):
        mem.login("ann", PASSWORD)
    # A check while locked neither counts nor extends the lock.
    assert mem.users.get(u["id"])["lockedUntil"] == locked["lockedUntil"]

    unlocked = mem.users.unlock(u["id"])
    assert "lockedUntil" not in unlocked
    assert unlocked["version"] == 2  # clearing a lock in force is an admin write
    assert mem.users.get(u["id"]) == unlocked
    assert mem.users.verify_password("ann", PASSWORD)["id"] == u["id"]
    # Unlocking a user that is not locked changes nothing.
    assert mem.users.unlock(u["id"])["version"] == 2


def test_a_success_resets_the_count(mem: rosterdb.Store) -> None:
    u = mem.users.create(user("ann", password=PASSWORD))
    for _ in range(3):
        for _ in range(2):
            with pytest.raises(rosterdb.AuthenticationError):
                mem.users.verify_password("ann", "wrong password")
        mem.users.verify_password("ann", PASSWORD)
    assert "lockedUntil" not in mem.users.get(u["id"])


def run_together(n: int, work: Callable[[], object]) -> list[BaseException]:
    """Runs `work` in `n` threads released at once; returns what they raised."""
    barrier = threading.Barrier(n)
    raised: list[BaseException] = []
    lock = threading.Lock()

    def body() -> None:
        barrier.wait(30)
        try:
            work()
        except BaseException as e:  # noqa: BLE001 - collected for the test
            with lock:
                raised.append(e)

    threads = [threading.Thread(target=body) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not any(t.is_alive() for t in threads)
    return raised


def test_concurrent_failures_lock_exactly_once(mem: rosterdb.Store) -> None:
    u = mem.users.create(user("ann", password=PASSWORD))
    raised = run_together(20, lambda: mem.users.verify_password("ann", "wrong password"))
    assert len(raised) == 20
    assert all(type(e) is rosterdb.AuthenticationError for e in raised)
    locked_until = mem.users.get(u["id"])["lockedUntil"]
    # More failures while locked neither count nor extend the lock.
    raised = run_together(20, lambda: mem.users.verify_password("ann", "wrong password"))
    assert len(raised) == 20
    assert mem.users.get(u["id"])["lockedUntil"] == locked_until
    assert mem.users.get(u["id"])["version"] == 1
    # The count started again at the lock: after unlock it takes exactly
    # three more failures to lock.
    mem.users.unlock(u["id"])
    for n in range(1, 4):
        with pytest.raises(rosterdb.AuthenticationError):
            mem.users.verify_password("ann", "wrong password")
        assert ("lockedUntil" in mem.users.get(u["id"])) == (n == 3)


def test_concurrent_failures_are_never_lost() -> None:
    with rosterdb.Store.memory(lockout_threshold=20, **CHEAP) as s:
        u = s.users.create(user("ann", password=PASSWORD))
        raised = run_together(19, lambda: s.users.verify_password("ann", "wrong password"))
        assert len(raised) == 19
        assert "lockedUntil" not in s.users.get(u["id"])
        with pytest.raises(rosterdb.AuthenticationError):
            s.users.verify_password("ann", "wrong password")
        assert "lockedUntil" in s.users.get(u["id"])


def test_concurrent_successes(mem: rosterdb.Store) -> None:
    mem.users.create(user("ann", password=PASSWORD))
    results: list[str] = []
    raised = run_together(20, lambda: results.append(mem.login("ann", PASSWORD)["token"]))
    assert raised == []
    assert len(set(results)) == 20
    assert all(mem.authenticate(t)["id"] == 1 for t in results)


def test_set_password(mem: rosterdb.Store) -> None:
    u = mem.users.create(user("ann"))
    assert u["hasPassword"] is False
    with pytest.raises(rosterdb.AuthenticationError):
        mem.users.verify_password("ann", "")
    updated = mem.users.set_password(u["id"], PASSWORD)
    assert updated["hasPassword"] is True and updated["version"] == 2
    assert [c["op"] for c in mem.changes()] == ["create", "update"]
    token = mem.login("ann", PASSWORD)["token"]
    mem.users.set_password(u["id"], "another password")
    with pytest.raises(rosterdb.AuthenticationError):
        mem.users.verify_password("ann", PASSWORD)
    assert mem.users.verify_password("ann", "another password")["id"] == u["id"]
    with pytest.raises(rosterdb.InvalidTokenError):
        mem.authenticate(token)  # a new password ends the sessions


def test_passwords_are_normalised_as_opaque_strings(mem: rosterdb.Store) -> None:
    """RFC 8265 §4.2: a no-break space is a space; NFC."""
    u = mem.users.create(user("ann"))
    mem.users.set_password(u["id"], "caf\u00e9 au\u00a0lait")
    assert mem.users.verify_password("ann", "cafe\u0301 au lait")["id"] == u["id"]


@pytest.mark.parametrize(
    "password",
    ["short", "", "x" * 1025, "x" * 1_000_000, "abc\x00defghij", "\n" * 10, "\ud800abcdefgh"],
    ids=["short", "empty", "1025", "1MB", "nul", "control", "surrogate"],
)
def test_set_password_refuses_bad_passwords(mem: rosterdb.Store, password: str) -> None:
    u = mem.users.create(user("ann"))
    with pytest.raises(rosterdb.ValidationError) as info:
        mem.users.set_password(u["id"], password)
    assert [e["field"] for e in info.value.errors] == ["password"]
    assert mem.users.get(u["id"]) == u
    assert len(mem.changes()) == 1


def test_id_conversions(mem: rosterdb.Store) -> None:
    users = mem.users
    for call in (
        lambda i: users.set_password(i, PASSWORD),
        users.unlock,
        users.totp_enroll,
        lambda i: users.totp_confirm(i, "123456"),
        users.totp_disable,
        users.sessions,
        users.revoke_sessions,
        mem.clients.rotate_secret,
    ):
        for missing in (1, -1, 2**64, -(2**70)):
            with pytest.raises(rosterdb.NotFoundError):
                call(missing)
        bads: list[Any] = [None, 1.0, "1", True, b"1"]
        for bad in bads:
            with pytest.raises(TypeError, match="id must be an int"):
                call(bad)


BAD_TEXT = ["", "x" * 1_000_000, "ann\x00", "\x00", "\ud800", "ann\udcff", "\u202ebob", " ann "]


@pytest.mark.parametrize("text", BAD_TEXT, ids=range(len(BAD_TEXT)))
def test_bad_identifiers_and_passwords_fail_authentication(text: str) -> None:
    with rosterdb.Store.memory(lockout_threshold=0, **CHEAP) as s:
        s.users.create(user("ann", password=PASSWORD))
        for identifier, password in ((text, PASSWORD), ("ann", text), (text, text)):
            with pytest.raises(rosterdb.AuthenticationError):
                s.users.verify_password(identifier, password)
            with pytest.raises(rosterdb.AuthenticationError):
                s.login(identifier, password)
            with pytest.raises(rosterdb.AuthenticationError):
                s.users.verify_password("ann", PASSWORD, tenant=text)
        assert s.users.verify_password("ann", PASSWORD)["username"] == "ann"


def test_identifiers_match_in_their_caseless_form() -> None:
    # fold (NFKC_Casefold; docs/reference/documents.md, Caseless matching)
    # drops invisible format characters and folds compatibility forms, so
    # look-alikes name the same user.
    with rosterdb.Store.memory(**CHEAP) as s:
        s.users.create(user("ann", password=PASSWORD))
        for spelling in ("\u202eann", "a\u200dnn", "ＡＮＮ", "ANN"):
            assert s.users.verify_password(spelling, PASSWORD)["username"] == "ann"


@pytest.mark.parametrize("bad", [None, 5, b"ann", ["ann"], 1.5])
def test_non_str_arguments_are_type_errors(mem: rosterdb.Store, bad: Any) -> None:
    mem.users.create(user("ann", password=PASSWORD))
    calls: list[tuple[str, Callable[[], object]]] = [
        ("password", lambda: mem.users.verify_password("ann", bad)),
        ("password", lambda: mem.login("ann", bad)),
        ("password", lambda: mem.users.set_password(1, bad)),
    ]
    if bad is not None:
        calls += [
            ("identifier", lambda: mem.users.verify_password(bad, PASSWORD)),
            ("identifier", lambda: mem.login(bad, PASSWORD)),
            ("tenant", lambda: mem.users.verify_password("ann", PASSWORD, tenant=bad)),
            ("totp_code", lambda: mem.users.verify_password("ann", PASSWORD, totp_code=bad)),
            ("totp_code", lambda: mem.login("ann", PASSWORD, totp_code=bad)),
        ]
    for name, call in calls:
        with pytest.raises(TypeError, match=f"{name} must be a str") as info:
            call()
        assert not isinstance(info.value, rosterdb.RosterError)
        if bad is not None:
            assert repr(bad) not in str(info.value)
    # Nothing counted as a failed check.
    assert "lockedUntil" not in mem.users.get(1)
    assert mem.users.verify_password("ann", PASSWORD)


def test_inside_a_transaction(mem: rosterdb.Store) -> None:
    u = mem.users.create(user("ann"))
    with mem.transaction() as tx:
        tx.users.set_password(u["id"], PASSWORD)
        # Checks run on their own: a rollback would undo their failure count.
        for password in (PASSWORD, "wrong password"):
            with pytest.raises(rosterdb.ArgumentError) as info:
                tx.users.verify_password("ann", password)
            assert info.value.argument == "transaction"
        assert not hasattr(tx, "login") and not hasattr(tx, "client_login")
        # The store outside does not see the transaction's writes yet.
        assert mem.users.get(u["id"])["hasPassword"] is False
    assert mem.users.verify_password("ann", PASSWORD)["id"] == u["id"]
    with pytest.raises(RuntimeError), mem.transaction() as tx:
        tx.users.set_password(u["id"], "rolled back password")
        raise RuntimeError
    assert mem.users.verify_password("ann", PASSWORD)["id"] == u["id"]


def test_a_scoped_transaction(mem: rosterdb.Store) -> None:
    mem.users.create(user("ann", password=PASSWORD))
    acme = mem.scoped("acme")
    with acme.transaction() as tx:
        created = tx.users.create(user("ann", password="acme password"))
        with pytest.raises(rosterdb.ArgumentError):
            tx.users.verify_password("ann", "acme password")
        with pytest.raises(rosterdb.NotFoundError):
            tx.users.set_password(1, "a password from acme")
    assert acme.users.verify_password("ann", "acme password")["id"] == created["id"]
    with pytest.raises(rosterdb.AuthenticationError):
        acme.users.verify_password("ann", PASSWORD)


def test_store_calls_from_a_thread_with_an_open_transaction(mem: rosterdb.Store) -> None:
    mem.users.create(user("ann", password=PASSWORD))
    with mem.transaction():
        for call in (
            lambda: mem.users.verify_password("ann", PASSWORD),
            lambda: mem.users.set_password(1, PASSWORD),
            lambda: mem.users.unlock(1),
            lambda: mem.login("ann", PASSWORD),
            lambda: mem.logout("rs_x"),
            lambda: mem.users.revoke_sessions(1),
        ):
            with pytest.raises(rosterdb.StorageError, match="transaction is open"):
                call()
        # Reads do not wait for the transaction.
        assert mem.users.sessions(1) == []
        with pytest.raises(rosterdb.InvalidTokenError):
            mem.authenticate("rs_x")


def test_every_call_fails_after_close(mem: rosterdb.Store) -> None:
    u = mem.users.create(user("ann", password=PASSWORD))
    c = mem.clients.create({"name": "svc"})
    token = mem.login("ann", PASSWORD)["token"]
    users, clients = mem.users, mem.clients
    mem.close()
    for call in (
        lambda: users.verify_password("ann", PASSWORD),
        lambda: users.set_password(u["id"], PASSWORD),
        lambda: users.unlock(u["id"]),
        lambda: users.totp_enroll(u["id"]),
        lambda: users.totp_confirm(u["id"], "123456"),
        lambda: users.totp_disable(u["id"]),
        lambda: users.sessions(u["id"]),
        lambda: users.revoke_sessions(u["id"]),
        lambda: clients.rotate_secret(c["client"]["id"]),
        lambda: mem.login("ann", PASSWORD),
        lambda: mem.authenticate(token),
        lambda: mem.logout(token),
        lambda: mem.client_login(c["client"]["clientId"], c["secret"]),
    ):
        with pytest.raises(rosterdb.StorageError, match="closed"):
            call()


# ---------------------------------------------------------------------------
# The GIL: every call that writes waits, without the GIL, for another
# thread's transaction, whose thread runs Python code (so needs the GIL) to
# finish it. A call that kept the GIL while waiting would deadlock.


def blocking_calls(s: rosterdb.Store) -> dict[str, Callable[[], object]]:
    c = s.clients.create({"name": "svc"})
    cid, secret = c["client"]["clientId"], c["secret"]
    token = s.login("ann", PASSWORD)["token"]  # logout writes only for a live session
    return {
        "verify_password": lambda: s.users.verify_password("ann", PASSWORD),
        "verify_password (wrong)": lambda: s.users.verify_password("ann", "wrong password"),
        "verify_password (unknown)": lambda: s.users.verify_password("nobody", PASSWORD),
        "set_password": lambda: s.users.set_password(1, PASSWORD),
        "unlock": lambda: s.users.unlock(1),
        "totp_enroll": lambda: s.users.totp_enroll(1),
        "totp_confirm": lambda: s.users.totp_confirm(1, "123456"),
        "totp_disable": lambda: s.users.totp_disable(1),
        "revoke_sessions": lambda: s.users.revoke_sessions(1),
        "rotate_secret": lambda: s.clients.rotate_secret(c["client"]["id"]),
        "login": lambda: s.login("ann", PASSWORD),
        "logout": lambda: s.logout(token),
        "client_login": lambda: s.client_login(cid, secret),
    }


BLOCKING = [
    "verify_password", "verify_password (wrong)", "verify_password (unknown)",
    "set_password", "unlock", "totp_enroll", "totp_confirm", "totp_disable",
    "revoke_sessions", "rotate_secret", "login", "logout", "client_login",
]


@pytest.mark.parametrize("name", BLOCKING)
def test_a_blocked_call_releases_the_gil(name: str) -> None:
    with rosterdb.Store.memory(**CHEAP) as s:
        s.users.create(user("ann", password=PASSWORD))
        calls = blocking_calls(s)
        assert sorted(calls) == sorted(BLOCKING)
        call = calls[name]
        entered, release = threading.Event(), threading.Event()
        outcome: list[object] = []

        def holder() -> None:
            with s.transaction() as tx:
                tx.roles.create({"name": "r"})
                entered.set()
                release.wait(60)  # Python code: needs the GIL to return

        def waiter() -> None:
            entered.wait(60)
            try:
                call()
            except rosterdb.RosterError:
                pass
            # It wrote, so it could only finish after the holder's commit.
            outcome.append(release.is_set())

        threads = [threading.Thread(target=holder), threading.Thread(target=waiter)]
        for t in threads:
            t.start()
        entered.wait(60)
        # Give the waiter time to block in the extension (it may also get
        # there later; either way the test must not hang).
        threads[1].join(0.05)
        release.set()
        for t in threads:
            t.join(60)
        assert not any(t.is_alive() for t in threads), "deadlock: the GIL was held"
        assert outcome == [True]
