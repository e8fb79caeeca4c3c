"""No secret in the store file or in the repr of any object the package returns
(docs/reference/documents.md, Users, Clients and Sessions): passwords and
client secrets are kept only as Argon2id hashes, session tokens only as their
SHA-256 digests."""

from __future__ import annotations

import hashlib
from pathlib import Path

import rosterdb
from conftest import CHEAP, user

PASSWORD = "Unique-Pa55word-Walrus"
CHANGED = "Changed-Pa55word-Otter"


def test_no_secret_reaches_the_store_file(tmp_path: Path) -> None:
    path = tmp_path / "secrets.redb"
    secrets = [PASSWORD, CHANGED]
    live: list[str] = []
    with rosterdb.Store(path, **CHEAP) as store:
        ann = store.users.create(user("ann", password=PASSWORD))
        revoked = store.login("ann", PASSWORD)["token"]
        secrets.append(revoked)
        store.users.set_password(ann["id"], CHANGED)
        created = store.clients.create({"name": "svc"})
        secrets.append(created["secret"])
        rotated = store.clients.rotate_secret(created["client"]["id"])
        secrets.append(rotated)
        for _ in range(3):
            live.append(store.login("ann", CHANGED)["token"])
            live.append(store.client_login(created["client"]["clientId"], rotated)["token"])
        shown = [repr(store), str(store), repr(store.users), repr(store.scoped("t1")),
                 repr(store.users.list()), repr(store.users.iter())]
        with store.transaction() as tx:
            shown += [repr(tx), repr(tx.users), repr(tx.clients)]
    data = path.read_bytes()
    for secret in secrets + live:
        assert secret.encode() not in data, f"the file holds {secret[:4]}…"
        assert secret.removeprefix("rs_").encode() not in data
        assert all(secret not in text for text in shown)
    # Each live session is kept under the SHA-256 digest of its token.
    for token in live:
        assert hashlib.sha256(token.encode()).digest() in data
    assert b"$argon2id$" in data
    with rosterdb.Store(path, **CHEAP) as store:
        for token in live:
            store.authenticate(token)
        store.login("ann", CHANGED)
