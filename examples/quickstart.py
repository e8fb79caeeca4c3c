"""A first session with rosterdb: a store file with roles, users and an
app-client; lookups; refused duplicates; an all-or-nothing transaction;
queries and pages; a guarded patch; a tenant's view; an export; and the
change log.

Run it with ``bash scripts/demo.sh`` (which builds the package into .venv),
or ``python examples/quickstart.py [PATH]`` once ``rosterdb`` is installed.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import rosterdb


def show(label: str, doc: dict) -> None:
    print(f"{label}: {json.dumps(doc, ensure_ascii=False)}")


def main(path: Path) -> None:
    path.unlink(missing_ok=True)
    with rosterdb.Store(path) as store:
        print(f"opened {path}")

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

        export = path.with_suffix(".jsonl")
        print(f"exported {store.export_jsonl(export)} records to {export};"
              f" check: {store.check()}")

        print("change log:")
        for change in store.changes():
            print("  " + json.dumps(change))


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.gettempdir()) / "rosterdb-quickstart.redb"
    main(target)
