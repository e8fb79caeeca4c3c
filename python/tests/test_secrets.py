"""No secret leaks (docs/reference/documents.md,
docs/reference/credentials.md): passwords, client secrets, TOTP secrets,
recovery codes and session tokens appear only in the one result that hands them
out, never in another result, a repr, an exception (message or attribute), an
export or the change log."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Callable

import pyotp
import pytest

import rosterdb
from conftest import CHEAP, user


def exception_text(e: BaseException) -> str:
    """Everything an exception shows: message, repr, args, attributes, notes."""
    parts = [str(e), repr(e), repr(e.args), repr(getattr(e, "__notes__", None))]
    parts += [repr(v) for v in vars(e).values()]
    for chained in (e.__cause__, e.__context__):
        if chained is not None:
            parts.append(exception_text(chained))
    return "\n".join(parts)


class Scenario:
    """Runs every credential call, keeping what each returned (minus the
    secret it hands out) and what each failure showed."""

    def __init__(self, store: rosterdb.Store) -> None:
        self.store = store
        self.secrets: list[str] = []
        self.shown: list[str] = []

    def keep(self, value: Any, *, without: tuple[str, ...] = ()) -> Any:
        if isinstance(value, dict):
            self.shown.append(repr({k: v for k, v in value.items() if k not in without}))
        else:
            self.shown.append(repr(value))
        return value

    def secret(self, *values: str) -> None:
        for v in values:
            self.secrets.append(v)
            if v.startswith("rs_"):
                self.secrets.append(v[3:])

    def fails(
        self, call: Callable[[], object], kind: type[BaseException] = rosterdb.RosterError
    ) -> None:
        try:
            call()
        except kind as e:
            self.shown.append(exception_text(e))
        else:
            raise AssertionError("the call did not fail")


def test_no_secret_leaks(tmp_path: Path) -> None:
    s = Scenario(rosterdb.Store.memory(lockout_threshold=3, **CHEAP))
    store = s.store
    first, second = "first-Pa55word-zebra", "second-Pa55word-yak"
    s.secret(first, second)
    role = s.keep(store.roles.create({"name": "staff", "permissions": ["users:read"]}))
    ann = s.keep(store.users.create(user("ann", password=first, roles=[role["id"]])))
    s.keep(store.users.set_password(ann["id"], second))
    s.keep(store.users.verify_password("ann", second))

    enrolment = store.users.totp_enroll(ann["id"])
    s.secret(enrolment["secret"])
    totp = pyotp.TOTP(enrolment["secret"])
    t0 = time.time()
    codes = store.users.totp_confirm(ann["id"], totp.at(t0))
    s.secret(*codes)
    login = s.keep(store.login("ann", second, totp_code=codes[0]), without=("token",))
    s.secret(login["token"])
    other = s.keep(store.login("ann", second, totp_code=codes[1]), without=("token",))
    s.secret(other["token"])
    with store.transaction() as tx:
        s.keep(tx.authenticate(other["token"]))
        try:
            tx.users.verify_password("ann", second, totp_code=codes[2])
        except rosterdb.ArgumentError as e:
            s.keep(e)
    s.keep(store.authenticate(login["token"]))
    s.keep(store.users.sessions(ann["id"]))

    created = s.keep(
        store.clients.create({"name": "svc", "roles": [role["id"]], "ipAllowlist": ["10.0.0.0/8"]}),
        without=("secret",),
    )
    client = created["client"]
    s.secret(created["secret"])
    rotated = store.clients.rotate_secret(client["id"])
    s.secret(rotated)
    client_login = s.keep(
        store.client_login(client["clientId"], rotated, "10.1.2.3"), without=("token",)
    )
    s.secret(client_login["token"])
    s.keep(store.authenticate(client_login["token"]))

    # Failures, with the secrets in every wrong place.
    auth = rosterdb.AuthenticationError
    for wrong in (first, created["secret"], codes[0], login["token"], enrolment["secret"]):
        s.fails(lambda: store.users.verify_password("ann", wrong, totp_code=codes[2]), auth)
        s.fails(lambda: store.users.verify_password(wrong, second), auth)
        s.fails(lambda: store.users.verify_password("ann", second, tenant=wrong), auth)
        s.fails(lambda: store.login("ann", second, totp_code=wrong), auth)
        s.fails(lambda: store.client_login(client["clientId"], wrong, "10.1.2.3"), auth)
        s.fails(lambda: store.client_login(wrong, rotated, "10.1.2.3"), auth)
        s.fails(lambda: store.client_login(client["clientId"], rotated, ip=wrong))
        s.fails(lambda: store.authenticate(wrong + "A"), rosterdb.InvalidTokenError)
        s.fails(lambda: store.users.totp_confirm(ann["id"], wrong))
        s.fails(lambda: store.users.create(user("bob", email=wrong, password=wrong)))
        s.fails(lambda: store.users.create(user("bob", passwordHash=wrong)))
        s.fails(lambda: store.users.set_password(ann["id"], wrong[:5]))
        s.fails(lambda: store.users.set_password(ann["id"], wrong + "\x00"))
        s.fails(lambda: store.users.set_password(ann["id"], "\ud800" + wrong))
        s.fails(lambda: store.users.create(user("bob", password="\ud800" + wrong)), ValueError)
        s.fails(lambda: store.users.patch(ann["id"], [{"op": "test", "path": "/password",
                                                      "value": wrong}]))
        s.fails(lambda: store.users.merge(ann["id"], {"password": wrong, "nope": 1}))
        s.fails(lambda: store.login("ann", second, ttl_seconds=0, totp_code=wrong))
        s.fails(lambda: store.users.verify_password("ann", wrong.encode()), TypeError)  # type: ignore[arg-type]
        s.fails(lambda: store.authenticate(wrong.encode()), TypeError)  # type: ignore[arg-type]
    store.users.unlock(ann["id"])

    # Everything the store shows afterwards.
    page = store.users.list(with_total=True)
    s.keep(page)
    for u in page:
        s.keep(u)
    s.keep(store.users.list())
    s.keep(store.users.get(ann["id"]))
    s.keep(store.clients.get(client["id"]))
    s.keep(store.changes(limit=1000))
    s.keep(store.check())
    s.keep(store.users.explain(where="username = 'ann'"))
    export = tmp_path / "out.jsonl"
    store.export_jsonl(export)
    s.shown.append(export.read_text(encoding="utf-8"))
    json.loads(export.read_text(encoding="utf-8").splitlines()[0])
    store.close()

    everything = "\n".join(s.shown)
    assert len(s.secrets) >= 20
    for secret in s.secrets:
        assert secret not in everything, f"a secret leaked: {secret[:4]}…"


@pytest.mark.parametrize("password", ["\ud800-secret-pass", "secret-pass-\udfff"])
def test_surrogates_in_a_document_do_not_leak(password: str) -> None:
    with rosterdb.Store.memory(**CHEAP) as store:
        with pytest.raises(ValueError) as info:
            store.users.create(user("ann", password=password))
        text = exception_text(info.value)
        assert "secret-pass" not in text
        assert not isinstance(info.value, UnicodeError)
        with pytest.raises(ValueError) as info:
            store.users.create(user("ann", attributes={password: 1}))
        assert "secret-pass" not in exception_text(info.value)
