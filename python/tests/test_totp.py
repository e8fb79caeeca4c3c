"""The TOTP second factor end to end (docs/reference/credentials.md, Second
factor (TOTP); RFC 6238), with codes made by an independent implementation,
pyotp, from the enrolment's secret."""

from __future__ import annotations

import re
import time
from typing import Any

import pyotp
import pytest

import rosterdb
from conftest import PASSWORD, user

RECOVERY = re.compile(r"[a-z0-9]{5}-[a-z0-9]{5}")


def wrong_code(totp: pyotp.TOTP, at: float) -> str:
    """A six-digit code that no step near `at` accepts."""
    near = {totp.at(at + d) for d in (-60, -30, 0, 30, 60)}
    code = int(totp.at(at))
    while f"{code:06d}" in near:
        code = (code + 1) % 1_000_000
    return f"{code:06d}"


@pytest.fixture
def ann(mem: rosterdb.Store) -> dict[str, Any]:
    return mem.users.create(user("ann", password=PASSWORD))


def test_enrolment_follows_the_key_uri_format(mem: rosterdb.Store, ann: dict[str, Any]) -> None:
    enrolment = mem.users.totp_enroll(ann["id"])
    assert list(enrolment) == ["secret", "uri"]
    assert re.fullmatch(r"[A-Z2-7]+", enrolment["secret"])  # RFC 4648 base32
    assert len(enrolment["secret"]) >= 26  # at least 128 bits
    parsed = pyotp.parse_uri(enrolment["uri"])
    assert isinstance(parsed, pyotp.TOTP)
    assert parsed.secret == enrolment["secret"]
    assert (parsed.issuer, parsed.name) == ("rosterdb", "ann")
    assert (parsed.digits, parsed.interval) == (6, 30)
    assert parsed.digest().name == "sha1"
    # Pending: not enforced yet, and an update (version bump, change log).
    pending = mem.users.get(ann["id"])
    assert pending["totpEnabled"] is False and pending["version"] == 2
    assert mem.users.verify_password("ann", PASSWORD)["id"] == ann["id"]
    # A new enrolment replaces a pending one.
    again = mem.users.totp_enroll(ann["id"])
    assert again["secret"] != enrolment["secret"]


def test_confirm_then_log_in_with_codes(mem: rosterdb.Store, ann: dict[str, Any]) -> None:
    enrolment = mem.users.totp_enroll(ann["id"])
    totp = pyotp.TOTP(enrolment["secret"])
    t0 = time.time()
    with pytest.raises(rosterdb.AuthenticationError):
        mem.users.totp_confirm(ann["id"], wrong_code(totp, t0))
    assert mem.users.get(ann["id"])["totpEnabled"] is False
    codes = mem.users.totp_confirm(ann["id"], totp.at(t0))
    assert isinstance(codes, list) and len(codes) == 10 and len(set(codes)) == 10
    assert all(RECOVERY.fullmatch(c) for c in codes)
    enabled = mem.users.get(ann["id"])
    assert enabled["totpEnabled"] is True and enabled["version"] == 3
    assert mem.users.count(filters={"totpEnabled": "true"}) == 1

    # Now a code is needed, for verify_password and login alike.
    for call in (mem.users.verify_password, mem.login):
        with pytest.raises(rosterdb.AuthenticationError):
            call("ann", PASSWORD)
        with pytest.raises(rosterdb.AuthenticationError):
            call("ann", PASSWORD, totp_code=wrong_code(totp, t0))
    # The confirming step is used; the next one is accepted once (±1 step).
    with pytest.raises(rosterdb.AuthenticationError):
        mem.login("ann", PASSWORD, totp_code=totp.at(t0))
    mem.users.unlock(ann["id"])  # six failures so far: locked
    next_code = totp.at(t0 + 30)
    # A wrong password does not use the code up.
    with pytest.raises(rosterdb.AuthenticationError):
        mem.login("ann", "wrong password", totp_code=next_code)
    login = mem.login("ann", PASSWORD, totp_code=next_code)
    assert login["user"]["id"] == ann["id"]
    with pytest.raises(rosterdb.AuthenticationError):
        mem.users.verify_password("ann", PASSWORD, totp_code=next_code)  # replayed
    # Using a code is bookkeeping.
    assert mem.users.get(ann["id"])["version"] == 4  # 3, and the unlock


def enable(mem: rosterdb.Store, id: int) -> tuple[pyotp.TOTP, list[str]]:
    totp = pyotp.TOTP(mem.users.totp_enroll(id)["secret"])
    return totp, mem.users.totp_confirm(id, totp.now())


def test_recovery_codes_are_single_use(mem: rosterdb.Store, ann: dict[str, Any]) -> None:
    _, codes = enable(mem, ann["id"])
    for code in codes:
        assert mem.login("ann", PASSWORD, totp_code=code)["user"]["id"] == ann["id"]
        with pytest.raises(rosterdb.AuthenticationError):
            mem.users.verify_password("ann", PASSWORD, totp_code=code)
        mem.users.unlock(ann["id"])
    for code in codes:
        with pytest.raises(rosterdb.AuthenticationError):
            mem.login("ann", PASSWORD, totp_code=code)


def test_confirm_and_enrol_out_of_order(mem: rosterdb.Store, ann: dict[str, Any]) -> None:
    with pytest.raises(rosterdb.ValidationError) as info:
        mem.users.totp_confirm(ann["id"], "123456")
    assert [e["field"] for e in info.value.errors] == ["totp"]
    enable(mem, ann["id"])
    with pytest.raises(rosterdb.ValidationError) as info:
        mem.users.totp_enroll(ann["id"])
    assert [e["field"] for e in info.value.errors] == ["totpEnabled"]
    with pytest.raises(rosterdb.ValidationError):
        mem.users.totp_confirm(ann["id"], "123456")


def test_disable(mem: rosterdb.Store, ann: dict[str, Any]) -> None:
    enable(mem, ann["id"])
    disabled = mem.users.totp_disable(ann["id"])
    assert disabled["totpEnabled"] is False and disabled["version"] == 4
    assert mem.users.verify_password("ann", PASSWORD)["id"] == ann["id"]
    # Disabling with nothing enrolled writes nothing.
    assert mem.users.totp_disable(ann["id"])["version"] == 4
    # A new enrolment works after disabling.
    totp, _ = enable(mem, ann["id"])
    assert mem.users.get(ann["id"])["totpEnabled"] is True
    mem.users.totp_disable(ann["id"])


BAD_CODES = ["", " ", "12345", "1234567", "abcdef", "x" * 1_000_000, "12345\x00", "\ud800" * 6,
             "١٢٣٤٥٦"]


@pytest.mark.parametrize("code", BAD_CODES, ids=range(len(BAD_CODES)))
def test_bad_codes_fail_authentication(code: str) -> None:
    with rosterdb.Store.memory(lockout_threshold=0, argon2_memory_kib=8, argon2_iterations=1) as s:
        u = s.users.create(user("ann", password=PASSWORD))
        enrolment = s.users.totp_enroll(u["id"])
        with pytest.raises(rosterdb.AuthenticationError):
            s.users.totp_confirm(u["id"], code)
        s.users.totp_confirm(u["id"], pyotp.TOTP(enrolment["secret"]).now())
        with pytest.raises(rosterdb.AuthenticationError):
            s.users.verify_password("ann", PASSWORD, totp_code=code)
        with pytest.raises(rosterdb.AuthenticationError):
            s.login("ann", PASSWORD, totp_code=code)


@pytest.mark.parametrize("bad", [None, 123456, b"123456", ["123456"]])
def test_non_str_codes_are_type_errors(mem: rosterdb.Store, ann: dict[str, Any], bad: Any) -> None:
    mem.users.totp_enroll(ann["id"])
    with pytest.raises(TypeError, match="code must be a str"):
        mem.users.totp_confirm(ann["id"], bad)
    assert mem.users.get(ann["id"])["totpEnabled"] is False


def test_in_a_transaction(mem: rosterdb.Store, ann: dict[str, Any]) -> None:
    with mem.transaction() as tx:
        totp = pyotp.TOTP(tx.users.totp_enroll(ann["id"])["secret"])
        t0 = time.time()
        codes = tx.users.totp_confirm(ann["id"], totp.at(t0))
        assert tx.users.get(ann["id"])["totpEnabled"] is True
        with pytest.raises(rosterdb.ArgumentError):
            tx.users.verify_password("ann", PASSWORD, totp_code=codes[0])
    assert mem.login("ann", PASSWORD, totp_code=codes[0])["user"]["id"] == ann["id"]
    with pytest.raises(rosterdb.AuthenticationError):
        mem.login("ann", PASSWORD, totp_code=codes[0])
    assert mem.login("ann", PASSWORD, totp_code=totp.at(t0 + 30))["user"]["id"] == ann["id"]
    # A rolled-back enrolment leaves the second factor as it was.
    with pytest.raises(RuntimeError), mem.transaction() as tx:
        tx.users.totp_disable(ann["id"])
        raise RuntimeError
    assert mem.users.get(ann["id"])["totpEnabled"] is True


def test_a_scoped_view_manages_its_own_users(mem: rosterdb.Store, ann: dict[str, Any]) -> None:
    acme = mem.scoped("acme")
    with pytest.raises(rosterdb.NotFoundError):
        acme.users.totp_enroll(ann["id"])
    bob = acme.users.create(user("bob", password=PASSWORD))
    totp = pyotp.TOTP(acme.users.totp_enroll(bob["id"])["secret"])
    t0 = time.time()
    acme.users.totp_confirm(bob["id"], totp.at(t0))
    assert acme.login("bob", PASSWORD, totp_code=totp.at(t0 + 30))["user"]["tenant"] == "acme"
