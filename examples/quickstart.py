"""A first session with rosterdb: a store file with roles, users and an
app-client; lookups; refused duplicates; an all-or-nothing transaction;
queries and pages; a guarded patch; a tenant's view; logins with a second
factor, sessions, a lockout and client logins; an export; and the change log.

Run it with ``bash scripts/demo.sh [--overwrite] [PATH]`` (which builds the
package into .venv first), or ``python examples/quickstart.py [--overwrite]
[PATH]`` once ``rosterdb`` and ``pyotp`` are installed.

PATH is the store file to create; its write-ahead log (PATH-wal) and its
export (PATH with the suffix .jsonl) are written beside it. An existing PATH,
log or export is refused (exit code 2) unless --overwrite is given. Without
PATH the store is target/demo/quickstart.redb in this repository, replacing
the previous run's (or, when this script is not in a checkout of the
repository, a file in a new temporary directory).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

import pyotp  # stands in for the user's authenticator app

import rosterdb

REPO = Path(__file__).resolve().parents[1]


def files_of(store: Path) -> list[Path]:
    """The store file, its write-ahead log and the demo's export of it."""
    return [store, Path(f"{store}-wal"), store.with_suffix(".jsonl")]


def default_store() -> Path:
    """target/demo/quickstart.redb in the repository, whose files (the last
    run's) are removed; a new temporary directory outside a checkout."""
    if not (REPO / "Cargo.toml").is_file():
        return Path(tempfile.mkdtemp(prefix="rosterdb-quickstart-")) / "quickstart.redb"
    store = REPO / "target" / "demo" / "quickstart.redb"
    store.parent.mkdir(parents=True, exist_ok=True)
    for file in files_of(store):
        file.unlink(missing_ok=True)
    return store


def arguments() -> Path:
    parser = argparse.ArgumentParser(
        description="A first session with rosterdb, in a new store file.")
    parser.add_argument(
        "path", nargs="?", type=Path, metavar="PATH",
        help="the store file to create (default: target/demo/quickstart.redb in the"
             " repository, replacing the previous run's); its log PATH-wal and its"
             " export PATH.jsonl go beside it")
    parser.add_argument(
        "--overwrite", action="store_true",
        help="remove an existing PATH, PATH-wal and PATH.jsonl first"
             " (without it, any of them existing is an error, exit code 2)")
    args = parser.parse_args()
    if args.path is None:
        return default_store()
    if args.path.is_dir():
        parser.error(f"{args.path} is a directory; PATH names the store file to create")
    taken = [file for file in files_of(args.path) if file.exists()]
    if taken and not args.overwrite:
        parser.error(f"{', '.join(map(str, taken))} already exist{'s' if len(taken) == 1 else ''};"
                     " pass --overwrite to replace, or choose another PATH")
    for file in taken:
        file.unlink()
    path: Path = args.path
    return path


def show(label: str, doc: dict[str, Any]) -> None:
    print(f"{label}: {json.dumps(doc, ensure_ascii=False)}")


def main(path: Path) -> None:
    print(f"store file: {path}")
    with rosterdb.Store(path) as store:

        admins = store.roles.create({
            "name": "admins",
            "description": "Full access to the back office",
            "permissions": ["users:read", "users:write", "billing:*"],
        })
        support = store.roles.create({"name": "support",
                                      "permissions": ["users:read", "tickets:write"]})
        show("role", admins)
        show("role", support)

        ada = store.users.create({
            "username": "ada.lovelace",
            "email": "ada@example.com",
            "firstName": "Ada",
            "lastName": "Lovelace",
            "nickname": "Ada",
            "roles": [admins["id"]],
            "password": "analytical-engine-1843",
            "externalIds": [{"type": "github", "value": "1815"}],
            "attributes": {"department": "R&D", "office": "London", "employeeNo": 2**60},
        })
        show("user", ada)

        # Several writes in one transaction: all of them commit, or none.
        with store.transaction() as tx:
            for username, first, last in [("grace", "Grace", "Hopper"),
                                          ("linus", "Linus", "Torvalds")]:
                tx.users.create({"username": username, "email": f"{username}@example.com",
                                 "firstName": first, "lastName": last,
                                 "roles": [support["id"]]})
        print("created grace and linus in one transaction")

        found = store.users.get_by_email("ADA@EXAMPLE.COM")
        print(f"lookup by email (any case) -> user {found['id']} ({found['username']})")
        found = store.users.get_by_external_id("github", "1815")
        print(f"lookup by GitHub id -> user {found['id']} ({found['username']})")

        try:
            store.users.create({"username": "Grace", "email": "g2@example.com",
                                "firstName": "G", "lastName": "H"})
        except rosterdb.ConflictError as e:
            print(f"duplicate refused on {e.field!r}: {e}")
        try:
            store.users.create({"username": "bad name", "email": "nope",
                                "firstName": "", "lastName": "x"})
        except rosterdb.ValidationError as e:
            print("invalid document:", ", ".join(f"{x['field']} {x['message']}" for x in e.errors))
        try:
            store.roles.delete(support["id"])
        except rosterdb.InUseError as e:
            print(f"role still held by {e.count} users")

        page = store.users.list(where="enabled = true", sort="lastName:desc",
                                fields=["username", "lastName"], page_size=2, with_total=True)
        print(f"enabled users by last name, descending (page 1, {page.total} in all):",
              [u["username"] for u in page])
        rest = store.users.list(cursor=page.next_cursor)
        print("page 2:", [u["username"] for u in rest])
        print("support staff:", [u["username"] for u in store.users.iter(
            filters={"roles": support["id"]})])
        print("search 'ada':", [u["email"] for u in store.users.list(search="ada")])
        print("plan for lastName like 'Ho%':")
        print("  " + store.users.explain(filters={"lastName": "like:Ho%"}).replace("\n", "\n  "))

        # Updates: a JSON Patch guarded by the version we read, then a merge patch.
        ada = store.users.patch(ada["id"], [
            {"op": "replace", "path": "/attributes/office", "value": "Cambridge"},
            {"op": "add", "path": "/roles/-", "value": support["id"]},
        ], expected_version=ada["version"])
        print(f"patched ada: version {ada['version']}, office {ada['attributes']['office']},"
              f" roles {ada['roles']}")
        try:
            store.users.merge(ada["id"], {"nickname": None}, expected_version=1)
        except rosterdb.VersionConflictError as e:
            print(f"stale update refused: expected version {e.expected}, found {e.actual}")

        # A tenant's view: the same API, one tenant.
        acme = store.scoped("acme")
        acme.users.create({"username": "ada.lovelace", "email": "ada@acme.example",
                           "firstName": "Ada", "lastName": "Byron"})
        print(f"acme sees {acme.users.count()} user; the store holds {store.users.count()}")

        created = store.clients.create({
            "name": "warehouse-export",
            "description": "Nightly export to the data warehouse",
            "roles": [support["id"]],
            "ipAllowlist": ["10.0.0.0/8"],
        })
        show("client", created["client"])
        print(f"client secret: {len(created['secret'])} characters, handed over once;"
              " the store keeps only its Argon2id hash")

        # Logins (docs/reference/credentials.md): a session token, then a second factor.
        login = store.login("ada@example.com", "analytical-engine-1843")
        who = store.authenticate(login["token"])
        print(f"ada logged in: a {len(login['token'])}-character token until {login['expiresAt']};"
              f" permissions {who['permissions']}")
        enrolment = store.users.totp_enroll(ada["id"])
        app = pyotp.parse_uri(enrolment["uri"])  # what scanning the QR code does
        assert isinstance(app, pyotp.TOTP), "an otpauth://totp/ URI"
        recovery = store.users.totp_confirm(ada["id"], app.now())
        print(f"ada enrolled TOTP ({app.issuer}) and got {len(recovery)} one-time recovery codes")
        try:
            store.login("ada.lovelace", "analytical-engine-1843")
        except rosterdb.AuthenticationError as e:
            print(f"password alone refused: {e}")
        # A code is accepted once; the app's next code is (30 s of clock skew are allowed).
        login = store.login("ada.lovelace", "analytical-engine-1843",
                            totp_code=app.at(time.time() + 30))
        print(f"password + TOTP code: session for {login['user']['username']},"
              f" {len(store.users.sessions(ada['id']))} live sessions")
        store.logout(login["token"])
        try:
            store.authenticate(login["token"])
        except rosterdb.InvalidTokenError as e:
            print(f"after logout: {e}")

        grace = store.users.get_by_username("grace")
        store.users.set_password(grace["id"], "cobol-1959-compiler")
        for guess in ["password1", "letmein!", "grace1906", "hopper1992", "COBOL-1959-compiler"]:
            try:
                store.users.verify_password("grace", guess)
            except rosterdb.AuthenticationError:
                pass
        locked = store.users.get(grace["id"])
        print(f"5 wrong guesses lock grace until {locked['lockedUntil']}")
        try:
            store.users.verify_password("grace", "cobol-1959-compiler")
        except rosterdb.AuthenticationError:
            print("while locked even the right password fails, with the same error")
        store.users.unlock(grace["id"])
        print(f"after unlock: {store.users.verify_password('grace', 'cobol-1959-compiler')['username']}"
              " is in")

        for ip in ["10.20.30.40", "203.0.113.9"]:
            try:
                session = store.client_login(created["client"]["clientId"], created["secret"], ip=ip)
                print(f"client login from {ip}: {store.authenticate(session['token'])['kind']}"
                      f" session, permissions {store.authenticate(session['token'])['permissions']}")
            except rosterdb.AuthenticationError as e:
                print(f"client login from {ip} refused: {e}")

        export = path.with_suffix(".jsonl")
        print(f"exported {store.export_jsonl(export)} records to {export};"
              f" check: {store.check()}")

        print("change log:")
        for change in store.changes():
            print("  " + json.dumps(change))


    print(f"store file: {path} (export: {export})")


if __name__ == "__main__":
    main(arguments())
