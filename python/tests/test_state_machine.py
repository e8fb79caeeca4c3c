"""A hypothesis state machine that mirrors the Rust model test
(core/tests/model_tests.rs) through the Python API (docs/reference: documents,
updates, transactions, credentials, tenancy, changes-and-export).

Random sequences of operations run against a real in-memory store and a
pure-Python oracle (dicts), through the store itself and through scoped views:
creates, patches, merges and deletes of users, roles and clients; role
assignment and the cascade of a role delete; transactions that commit or roll
back; logins with failure counting and lockout; sessions (authenticate,
logout, revoke); list, count and exists with filters, sorts and cursor walks;
and an export/import round trip that then carries on with the imported store.

After every step, every document the store holds must be the oracle's (all
but timestamps, which only have to be present or absent as the oracle says),
lists and counts must agree through every view, the change log must be the
oracle's, ``store.check()`` must be clean, and the unique fields must be
unique per tenant in their caseless form.

The oracle follows the rules listed in model_tests.rs; it folds strings with
``fold`` below (NFKC and full case folding: NFKC_Casefold for every string
the pools hold).

Runs: the default profile keeps the run short; ``HYPOTHESIS_PROFILE=long``
runs many more and longer sequences. A failure is shrunk and printed with its
steps and a ``@reproduce_failure`` blob, and kept in hypothesis' example
database (``.hypothesis/``, git-ignored), which replays it first on the next
run.
"""

from __future__ import annotations

import copy
import os
import re
import tempfile
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

import rosterdb
from conftest import CHEAP

LONG = os.environ.get("HYPOTHESIS_PROFILE") == "long"

# ---------------------------------------------------------------------------
# Input pools: small, so that collisions are frequent (as in model/generators.rs).

#: Some differ only by case folding or compatibility forms.
USERNAMES = ["ann", "bob", "zoë", "straße", "ΟΔΟΣ", "ann.b", "STRASSE", "οδοσ", "ａｎｎ"]
BAD_USERNAMES = ["bad name", "zoe\u0308"]
EMAILS = ["ann@x.io", "bob@x.io", "zoë@x.io", "straße@x.io", "ann@y.io", "Strasse@X.io",
          "ａｎｎ@x.io"]
BAD_EMAILS = ["ann@x", "no pe@x.io"]
ROLE_NAMES = ["admin", "ops", "straße", "ΟΔΟΣ", "ＡＤＭＩＮ", "οδος"]
PERMISSIONS = ["users:read", "users:write", "roles:read", "*"]
CLIENT_NAMES = ["sync", "etl", "Sync"]
EXTERNAL_IDS = [("github", "1"), ("github", "2"), ("GitHub", "1"), ("ldap", "Ann"),
                ("ldap", "ann"), ("LDAP", "ａｎｎ")]
#: "T1" is another tenant than "t1": tenants compare exactly.
TENANTS: list[Optional[str]] = [None, "t1", "t2", "T1"]
BAD_TENANT = "bad tenant"
VIEWS: list[Optional[str]] = [None, "t1", "t2"]
NAMES = ["First", "Last", "Ünal"]
NICKNAMES = ["", "Nan", "Bo"]
DEPTS = ["R&D", "Ops"]
PASSWORDS = ["correct-horse-1", "battery-staple-2"]
WRONG_PASSWORD = "not-the-password"
#: Read-only patch targets: (op, path).
READ_ONLY_OPS = [("replace", "/id"), ("replace", "/version"), ("remove", "/createdAt"),
                 ("add", "/updatedAt"), ("replace", "/hasPassword")]
#: The store locks a user after this many failures in a row.
THRESHOLD = 3
#: Keys of a document only the store sets, compared as present or absent.
TIMES = ("createdAt", "updatedAt", "lastLoginAt", "lastUsedAt", "lockedUntil")


def fold(s: str) -> str:
    """The canonical caseless form (docs/reference/documents.md, Caseless
    matching) of every string in the pools."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", s).casefold())


def recase(s: str, how: int) -> str:
    return [s, s.lower(), s.upper()][how % 3]


def chars_in(s: str, lo: int, hi: int) -> bool:
    return lo <= len(s) <= hi


def valid_username(s: str) -> bool:
    return chars_in(s, 1, 100) and all(
        c.isalpha() or c in "0123456789@.-_" for c in s)


def valid_email(s: str) -> bool:
    if s.count("@") != 1 or not chars_in(s, 5, 255) or any(c.isspace() for c in s):
        return False
    local, domain = s.split("@")
    return bool(local) and "." in domain and all(domain.split("."))


def valid_tenant(t: Optional[str]) -> bool:
    return t is None or re.fullmatch(r"[A-Za-z0-9._:-]{1,64}", t) is not None


# ---------------------------------------------------------------------------
# The oracle.


@dataclass
class MUser:
    username: str
    email: str
    tenant: Optional[str]
    first: str = "First"
    last: str = "Last"
    nickname: Optional[str] = None
    enabled: bool = True
    roles: list[int] = field(default_factory=list)
    ext: list[tuple[str, str]] = field(default_factory=list)
    dept: Optional[str] = None
    version: int = 1
    password: Optional[str] = None
    failures: int = 0
    locked: bool = False
    logged_in: bool = False

    def writable(self) -> tuple[Any, ...]:
        return (self.username, self.email, self.tenant, self.first, self.last, self.nickname,
                self.enabled, self.roles, self.ext, self.dept)

    def problems(self) -> list[str]:
        fields = []
        if not valid_username(self.username):
            fields.append("username")
        if not valid_email(self.email):
            fields.append("email")
        if not chars_in(self.first, 1, 50):
            fields.append("firstName")
        if not chars_in(self.last, 1, 50):
            fields.append("lastName")
        if not valid_tenant(self.tenant):
            fields.append("tenant")
        for i, e in enumerate(self.ext):
            if any(same_ext(e, x) for x in self.ext[:i]):
                fields.append(f"externalIds[{i}]")
        return fields

    def doc(self, id: int) -> dict[str, Any]:
        d: dict[str, Any] = {"id": id, "username": self.username, "email": self.email,
                             "firstName": self.first, "lastName": self.last}
        if self.nickname is not None:
            d["nickname"] = self.nickname
        if self.tenant is not None:
            d["tenant"] = self.tenant
        d.update({"enabled": self.enabled, "roles": sorted(set(self.roles)),
                  "externalIds": [{"type": t, "value": v} for t, v in self.ext],
                  "attributes": {} if self.dept is None else {"dept": self.dept},
                  "createdAt": True, "updatedAt": True})
        if self.logged_in:
            d["lastLoginAt"] = True
        if self.locked:
            d["lockedUntil"] = True
        d.update({"hasPassword": self.password is not None, "totpEnabled": False,
                  "version": self.version})
        return d


@dataclass
class MRole:
    name: str
    tenant: Optional[str]
    permissions: list[str] = field(default_factory=list)
    version: int = 1

    def doc(self, id: int) -> dict[str, Any]:
        d: dict[str, Any] = {"id": id, "name": self.name}
        if self.tenant is not None:
            d["tenant"] = self.tenant
        d.update({"permissions": sorted(set(self.permissions)), "createdAt": True,
                  "updatedAt": True, "version": self.version})
        return d


@dataclass
class MClient:
    name: str
    tenant: Optional[str]
    client_id: str = ""
    secret: str = ""
    enabled: bool = True
    roles: list[int] = field(default_factory=list)
    version: int = 1
    used: bool = False

    def doc(self, id: int) -> dict[str, Any]:
        d: dict[str, Any] = {"id": id, "clientId": self.client_id, "name": self.name}
        if self.tenant is not None:
            d["tenant"] = self.tenant
        d.update({"enabled": self.enabled, "roles": sorted(set(self.roles)),
                  "ipAllowlist": [], "createdAt": True, "updatedAt": True})
        if self.used:
            d["lastUsedAt"] = True
        d["version"] = self.version
        return d


def same_ext(a: tuple[str, str], b: tuple[str, str]) -> bool:
    return fold(a[0]) == fold(b[0]) and fold(a[1]) == fold(b[1])


def visible(tenant: Optional[str], view: Optional[str]) -> bool:
    return view is None or tenant == view


@dataclass
class Model:
    users: dict[int, MUser] = field(default_factory=dict)
    roles: dict[int, MRole] = field(default_factory=dict)
    clients: dict[int, MClient] = field(default_factory=dict)
    last: dict[str, int] = field(default_factory=lambda: {"user": 0, "role": 0, "client": 0})
    #: (entity, id, op, version, tenant of the record)
    log: list[tuple[str, int, str, int, Optional[str]]] = field(default_factory=list)
    #: token -> (kind, id)
    sessions: dict[str, tuple[str, int]] = field(default_factory=dict)

    def table(self, kind: str) -> dict[int, Any]:
        return {"user": self.users, "role": self.roles, "client": self.clients}[kind]

    def logged(self, kind: str, id: int, op: str, version: int, tenant: Optional[str]) -> None:
        self.log.append((kind, id, op, version, tenant))

    def revoke(self, kind: str, id: int) -> int:
        gone = [t for t, p in self.sessions.items() if p == (kind, id)]
        for t in gone:
            del self.sessions[t]
        return len(gone)

    def taken(self, u: MUser, except_id: Optional[int]) -> Optional[str]:
        others = [o for i, o in self.users.items() if i != except_id and o.tenant == u.tenant]
        if any(fold(o.username) == fold(u.username) for o in others):
            return "username"
        if any(fold(o.email) == fold(u.email) for o in others):
            return "email"
        if any(same_ext(e, x) for e in u.ext for o in others for x in o.ext):
            return "externalIds"
        return None

    def roles_ok(self, roles: list[int], tenant: Optional[str]) -> bool:
        return all(r in self.roles and self.roles[r].tenant == tenant for r in roles)

    def find_login(self, identifier: str, tenant: Optional[str]) -> Optional[int]:
        for key in ("username", "email"):
            for i, u in self.users.items():
                if u.tenant == tenant and fold(getattr(u, key)) == fold(identifier):
                    return i
        return None

    def principal_ok(self, token: str, view: Optional[str]) -> Optional[dict[str, Any]]:
        if token not in self.sessions:
            return None
        kind, id = self.sessions[token]
        rec = self.table(kind).get(id)
        if rec is None or not rec.enabled or not visible(rec.tenant, view):
            return None
        perms = sorted({p for r in rec.roles if r in self.roles
                        for p in self.roles[r].permissions})
        return {"kind": kind, "id": id, "tenant": rec.tenant, "roles": sorted(rec.roles),
                "permissions": perms}


# ---------------------------------------------------------------------------
# Outcomes: what a call returned or raised, in a comparable form.


def outcome(call: Callable[[], Any]) -> Any:
    try:
        return ("ok", call())
    except rosterdb.NotFoundError:
        return ("NotFound",)
    except rosterdb.VersionConflictError as e:
        return ("VersionConflict", e.expected, e.actual)
    except rosterdb.ConflictError as e:
        return ("Conflict", e.field)
    except rosterdb.ValidationError as e:
        return ("Validation", sorted(err["field"] for err in e.errors))
    except rosterdb.InUseError as e:
        return ("InUse", e.count)
    except rosterdb.PatchError as e:
        return ("Patch", e.op_index)
    except rosterdb.AuthenticationError:
        return ("AuthenticationFailed",)
    except rosterdb.InvalidTokenError:
        return ("InvalidToken",)


def shown(doc: Any) -> Any:
    """A document with its timestamps reduced to their presence."""
    if isinstance(doc, dict):
        return {k: (True if k in TIMES else v) for k, v in doc.items()}
    return doc


def same(what: str, got: Any, expected: Any) -> None:
    assert got == expected, f"{what}:\n  store: {got!r}\n  model: {expected!r}"


def pick(ix: int, items: list[Any]) -> Any:
    return items[ix % len(items)] if items else None


# ---------------------------------------------------------------------------
# Strategies.

ix = st.integers(min_value=0, max_value=10_000)
how = st.integers(min_value=0, max_value=2)
view_st = st.sampled_from([None, None, "t1", "t1", "t2"])
tenant_st = st.sampled_from(TENANTS * 10 + [BAD_TENANT])
#: The tenant a create names: mostly none in a view (so that it takes the
#: view's), any of the pool otherwise.
create_tenant_st = st.tuples(st.sampled_from([True, True, True, False]), tenant_st)
username_st = st.tuples(st.sampled_from(USERNAMES * 8 + BAD_USERNAMES), how).map(
    lambda p: recase(*p))
email_st = st.tuples(st.sampled_from(EMAILS * 8 + BAD_EMAILS), how).map(lambda p: recase(*p))
ext_st = st.lists(st.sampled_from(EXTERNAL_IDS), max_size=2)
#: An id reference: ("live", ix) a live record the view sees when possible,
#: ("known", ix) any id handed out, or ("raw", n).
ref_st = st.one_of(
    st.tuples(st.sampled_from(["live"] * 6 + ["known"]), ix),
    st.tuples(st.just("raw"), st.integers(0, 40)))
expect_st = st.sampled_from(["any", "any", "any", "right", "right", "above", "below"])
#: One patch op spec; resolved against the target when the step runs.
patch_op_st = st.one_of(
    st.tuples(st.just("name"), st.sampled_from(["firstName", "lastName"]),
              st.sampled_from(NAMES * 4 + [""])),
    st.tuples(st.just("name"), st.sampled_from(["firstName", "lastName"]),
              st.sampled_from(NAMES)),
    st.tuples(st.just("enabled"), st.booleans()),
    st.tuples(st.just("nickname"), st.sampled_from(NICKNAMES)),
    st.tuples(st.just("add_role"), ref_st),
    st.tuples(st.just("username"), username_st),
    st.tuples(st.just("own_username"), how),
    st.tuples(st.just("email"), email_st),
    st.tuples(st.just("nickname"), st.one_of(st.none(), st.sampled_from(NICKNAMES))),
    st.tuples(st.just("enabled"), st.booleans()),
    st.tuples(st.just("add_role"), ref_st),
    st.tuples(st.just("remove_role"), st.integers(0, 2)),
    st.tuples(st.just("add_ext"), st.sampled_from(EXTERNAL_IDS)),
    st.tuples(st.just("tenant"), st.one_of(st.none(), tenant_st)),
    st.tuples(st.just("read_only"), st.sampled_from(READ_ONLY_OPS)),
    st.tuples(st.just("test_version"), st.booleans()),
    st.tuples(st.just("password"), st.sampled_from(PASSWORDS)),
)
#: A sub-step of a transaction: (kind, spec).
tx_step_st = st.one_of(
    st.tuples(st.just("create_user"), st.tuples(username_st, email_st, st.just(None),
                                                st.lists(ref_st, max_size=2), ext_st,
                                                st.none())),
    st.tuples(st.just("create_role"), st.tuples(st.sampled_from(ROLE_NAMES + [""]),
                                                st.sampled_from(TENANTS),
                                                st.lists(st.sampled_from(PERMISSIONS),
                                                         max_size=2))),
    st.tuples(st.just("patch"), st.tuples(ref_st, st.lists(patch_op_st, min_size=1,
                                                           max_size=3), expect_st)),
    st.tuples(st.just("delete_user"), ref_st),
    st.tuples(st.just("delete_role"), st.tuples(ref_st, st.booleans())),
)


# ---------------------------------------------------------------------------
# Operations, each run on a handle (a store, a view or a transaction) and
# predicted on a model (the machine's, or a transaction's shadow).


class Ops:
    """Runs one operation through `h` (whose records the view `view` sees)
    and predicts it on `m`, which it updates when the operation succeeds."""

    def __init__(self, h: Any, m: Model, view: Optional[str], in_tx: bool) -> None:
        self.h, self.m, self.view, self.in_tx = h, m, view, in_tx

    # -- resolving references

    def user_ref(self, ref: tuple[str, int]) -> int:
        m = self.m
        kind, n = ref
        if kind == "raw":
            return n
        seen = [i for i, u in m.users.items() if visible(u.tenant, self.view)]
        if kind == "live" and seen:
            return pick(n, seen)
        return n % m.last["user"] + 1 if m.last["user"] else 1

    def role_ref(self, ref: tuple[str, int], tenant: Optional[str]) -> int:
        m = self.m
        kind, n = ref
        if kind == "raw":
            return n
        same_tenant = [i for i, r in m.roles.items() if r.tenant == tenant]
        if kind == "live" and same_tenant:
            return pick(n, same_tenant)
        return n % m.last["role"] + 1 if m.last["role"] else 1

    def any_ref(self, kind: str, ref: tuple[str, int]) -> int:
        table = self.m.table(kind)
        k, n = ref
        if k == "raw":
            return n
        seen = [i for i, r in table.items() if visible(r.tenant, self.view)]
        if k == "live" and seen:
            return pick(n, seen)
        return n % self.m.last[kind] + 1 if self.m.last[kind] else 1

    def tenant_for_create(self, given: Optional[str]) -> tuple[Optional[str], bool]:
        """The tenant a create gives its record, and whether the document
        names another tenant than the view's."""
        if self.view is None:
            return given, False
        return self.view, given is not None and given != self.view

    @staticmethod
    def create_problems(fields: list[str], mismatch: bool) -> list[str]:
        """A document's field problems and a tenant other than the view's
        are reported together (docs/reference/errors.md: every failing
        field at once), as the typed Rust create does (model_tests.rs)."""
        return sorted(set(fields) | ({"tenant"} if mismatch else set()))

    # -- creates

    def create_user(self, username: str, email: str, tenant: Optional[str],
                    role_refs: list[tuple[str, int]], ext: list[tuple[str, str]],
                    password: Optional[str]) -> None:
        m = self.m
        effective, mismatch = self.tenant_for_create(tenant)
        if not any(r.tenant == effective for r in m.roles.values()):
            # A live role of the user's tenant, when there is none: no role.
            role_refs = [r for r in role_refs if r[0] != "live"]
        roles = [self.role_ref(r, effective) for r in role_refs]
        doc: dict[str, Any] = {"username": username, "email": email, "firstName": "First",
                               "lastName": "Last", "roles": roles,
                               "externalIds": [{"type": t, "value": v} for t, v in ext]}
        if tenant is not None:
            doc["tenant"] = tenant
        if password is not None:
            doc["password"] = password
        new = MUser(username, email, effective, roles=sorted(set(roles)), ext=list(ext),
                    password=password)
        new.tenant = tenant if not valid_tenant(tenant) else effective
        fields = self.create_problems(new.problems(), mismatch)
        new.tenant = effective
        if fields:
            expected: Any = ("Validation", fields)
        elif (taken := m.taken(new, None)) is not None:
            expected = ("Conflict", taken)
        elif not m.roles_ok(new.roles, new.tenant):
            expected = ("Validation", ["roles"])
        else:
            m.last["user"] += 1
            id = m.last["user"]
            m.users[id] = new
            m.logged("user", id, "create", 1, new.tenant)
            expected = ("ok", new.doc(id))
        got = outcome(lambda: self.h.users.create(doc))
        same(f"users.create({doc})", shown_outcome(got), expected)

    def create_role(self, name: str, tenant: Optional[str], permissions: list[str]) -> None:
        m = self.m
        effective, mismatch = self.tenant_for_create(tenant)
        doc: dict[str, Any] = {"name": name, "permissions": permissions}
        if tenant is not None:
            doc["tenant"] = tenant
        fields = []
        if not chars_in(name, 1, 100):
            fields.append("name")
        if not valid_tenant(tenant):
            fields.append("tenant")
        fields = self.create_problems(fields, mismatch)
        if fields:
            expected: Any = ("Validation", fields)
        elif any(r.tenant == effective and fold(r.name) == fold(name) for r in m.roles.values()):
            expected = ("Conflict", "name")
        else:
            m.last["role"] += 1
            id = m.last["role"]
            m.roles[id] = MRole(name, effective, sorted(set(permissions)))
            m.logged("role", id, "create", 1, effective)
            expected = ("ok", m.roles[id].doc(id))
        got = outcome(lambda: self.h.roles.create(doc))
        same(f"roles.create({doc})", shown_outcome(got), expected)

    def create_client(self, name: str, tenant: Optional[str],
                      role_refs: list[tuple[str, int]]) -> None:
        m = self.m
        effective, mismatch = self.tenant_for_create(tenant)
        if not any(r.tenant == effective for r in m.roles.values()):
            role_refs = [r for r in role_refs if r[0] != "live"]
        roles = [self.role_ref(r, effective) for r in role_refs]
        doc: dict[str, Any] = {"name": name, "roles": roles}
        if tenant is not None:
            doc["tenant"] = tenant
        fields = self.create_problems(["tenant"] if not valid_tenant(tenant) else [], mismatch)
        got = outcome(lambda: self.h.clients.create(doc))
        if fields:
            expected: Any = ("Validation", fields)
        elif not m.roles_ok(roles, effective):
            expected = ("Validation", ["roles"])
        else:
            m.last["client"] += 1
            id = m.last["client"]
            c = MClient(name, effective, roles=sorted(set(roles)))
            if got[0] == "ok":
                c.client_id = got[1]["client"]["clientId"]
                c.secret = got[1]["secret"]
                assert re.fullmatch(r"rc_[0-9A-Za-z]{22}", c.client_id), c.client_id
                assert re.fullmatch(r"[A-Za-z0-9_-]{43}", c.secret)
            m.clients[id] = c
            m.logged("client", id, "create", 1, effective)
            expected = ("ok", {"client": c.doc(id), "secret": c.secret})
        same(f"clients.create({doc})", shown_outcome(got), expected)

    # -- updates

    def update_user(self, id: int, expected_version: Optional[int], call: Callable[[], Any],
                    edit: Callable[[MUser], Any], what: str) -> None:
        """`edit(old)` returns (new user, read-only keys that fail, new
        password or None) or an error outcome."""
        expected = self.predict_update(id, expected_version, edit)
        got = outcome(call)
        same(what, shown_outcome(got), expected)

    def predict_update(self, id: int, expected_version: Optional[int],
                       edit: Callable[[MUser], Any]) -> Any:
        m = self.m
        old = m.users.get(id)
        if old is None or not visible(old.tenant, self.view):
            return ("NotFound",)
        if expected_version is not None and expected_version != old.version:
            return ("VersionConflict", expected_version, old.version)
        edited = edit(old)
        if edited[0] != "edited":
            return edited
        _, new, fields, password = edited
        fields = list(fields) + new.problems()
        if new.tenant != old.tenant:
            fields.append("tenant")
        if fields:
            return ("Validation", sorted(set(fields)))
        new.roles = sorted(set(new.roles))
        if new.writable() == old.writable() and password is None:
            return ("ok", old.doc(id))
        if (taken := m.taken(new, id)) is not None:
            return ("Conflict", taken)
        if not m.roles_ok(new.roles, new.tenant):
            return ("Validation", ["roles"])
        new.version = old.version + 1
        if password is not None:
            new.password = password
            m.revoke("user", id)
        if old.enabled and not new.enabled:
            m.revoke("user", id)
        m.users[id] = new
        m.logged("user", id, "update", new.version, new.tenant)
        return ("ok", new.doc(id))

    def expected_of(self, id: int, e: str) -> Optional[int]:
        u = self.m.users.get(id)
        v = u.version if u is not None else 1
        return {"any": None, "right": v, "above": v + 1, "below": max(v - 1, 0)}[e]

    def patch(self, ref: tuple[str, int], specs: list[tuple[Any, ...]], e: str) -> None:
        id = self.user_ref(ref)
        target = self.m.users.get(id) or MUser("x", "x@x.io", None)
        ops: list[dict[str, Any]] = []
        for spec in specs:
            kind = spec[0]
            if kind == "name":
                ops.append({"op": "replace", "path": f"/{spec[1]}", "value": spec[2]})
            elif kind == "username":
                ops.append({"op": "replace", "path": "/username", "value": spec[1]})
            elif kind == "own_username":
                ops.append({"op": "replace", "path": "/username",
                            "value": recase(target.username, spec[1])})
            elif kind == "email":
                ops.append({"op": "replace", "path": "/email", "value": spec[1]})
            elif kind == "nickname":
                ops.append({"op": "remove", "path": "/nickname"} if spec[1] is None else
                           {"op": "add", "path": "/nickname", "value": spec[1]})
            elif kind == "enabled":
                ops.append({"op": "replace", "path": "/enabled", "value": spec[1]})
            elif kind == "add_role":
                ops.append({"op": "add", "path": "/roles/-",
                            "value": self.role_ref(spec[1], target.tenant)})
            elif kind == "remove_role":
                ops.append({"op": "remove", "path": f"/roles/{spec[1]}"})
            elif kind == "add_ext":
                ops.append({"op": "add", "path": "/externalIds/-",
                            "value": {"type": spec[1][0], "value": spec[1][1]}})
            elif kind == "tenant":
                ops.append({"op": "remove", "path": "/tenant"} if spec[1] is None else
                           {"op": "add", "path": "/tenant", "value": spec[1]})
            elif kind == "read_only":
                op, path = spec[1]
                ops.append({"op": op, "path": path} if op == "remove" else
                           {"op": op, "path": path, "value": 7})
            elif kind == "test_version":
                ops.append({"op": "test", "path": "/version",
                            "value": target.version + (0 if spec[1] else 1)})
            elif kind == "password":
                ops.append({"op": "add", "path": "/password", "value": spec[1]})
        expected_version = self.expected_of(id, e)

        def edit(old: MUser) -> Any:
            for i, op in enumerate(ops):
                if op["op"] != "test" and op["path"] in {p for _, p in READ_ONLY_OPS}:
                    return ("Patch", i)
            w = copy.deepcopy(old)
            password = None
            for i, op in enumerate(ops):
                path, value = op["path"], op.get("value")
                ok = True
                if path in ("/firstName", "/lastName", "/username", "/email"):
                    attr = {"/firstName": "first", "/lastName": "last",
                            "/username": "username", "/email": "email"}[path]
                    setattr(w, attr, value)
                elif path == "/nickname":
                    if op["op"] == "remove":
                        ok = w.nickname is not None
                        w.nickname = None
                    else:
                        w.nickname = value
                elif path == "/enabled":
                    w.enabled = value
                elif path == "/roles/-":
                    w.roles = w.roles + [value]
                elif path.startswith("/roles/"):
                    j = int(path.rsplit("/", 1)[1])
                    ok = j < len(w.roles)
                    if ok:
                        w.roles = w.roles[:j] + w.roles[j + 1:]
                elif path == "/externalIds/-":
                    w.ext = w.ext + [(value["type"], value["value"])]
                elif path == "/tenant":
                    if op["op"] == "remove":
                        ok = w.tenant is not None
                        w.tenant = None
                    else:
                        w.tenant = value
                elif path == "/version":
                    ok = value == w.version
                elif path == "/password":
                    password = value
                if not ok:
                    return ("Patch", i)
            return ("edited", w, [], password)

        self.update_user(id, expected_version,
                         lambda: self.h.users.patch(id, ops, expected_version=expected_version),
                         edit, f"users.patch({id}, {ops}, {expected_version})")

    def merge(self, ref: tuple[str, int], partial: dict[str, Any], e: str,
              read_only: Optional[tuple[str, bool]]) -> None:
        id = self.user_ref(ref)
        target = self.m.users.get(id) or MUser("x", "x@x.io", None)
        doc = dict(partial)
        if read_only is not None:
            key, equal = read_only
            stored = {"id": id, "version": target.version,
                      "hasPassword": target.password is not None}[key]
            doc[key] = stored if equal else (not stored if key == "hasPassword" else stored + 1)
        expected_version = self.expected_of(id, e)

        def edit(old: MUser) -> Any:
            w = copy.deepcopy(old)
            fields = []
            for key, value in doc.items():
                if key == "username":
                    w.username = value
                elif key == "email":
                    w.email = value
                elif key == "nickname":
                    w.nickname = value
                elif key == "enabled":
                    w.enabled = value
                elif key == "attributes":
                    w.dept = value["dept"]
                elif key == "tenant":
                    w.tenant = value
                else:
                    stored = {"id": id, "version": old.version,
                              "hasPassword": old.password is not None}[key]
                    if value != stored or type(value) is not type(stored):
                        fields.append(key)
            return ("edited", w, fields, None)

        self.update_user(id, expected_version,
                         lambda: self.h.users.merge(id, doc, expected_version=expected_version),
                         edit, f"users.merge({id}, {doc}, {expected_version})")

    def merge_role(self, ref: tuple[str, int], name: Optional[str],
                   permissions: Optional[list[str]]) -> None:
        m = self.m
        id = self.any_ref("role", ref)
        doc: dict[str, Any] = {}
        if name is not None:
            doc["name"] = name
        if permissions is not None:
            doc["permissions"] = permissions
        old = m.roles.get(id)
        if old is None or not visible(old.tenant, self.view):
            expected: Any = ("NotFound",)
        else:
            new = copy.deepcopy(old)
            if name is not None:
                new.name = name
            if permissions is not None:
                new.permissions = sorted(set(permissions))
            if not chars_in(new.name, 1, 100):
                expected = ("Validation", ["name"])
            elif (new.name, new.permissions) == (old.name, old.permissions):
                expected = ("ok", old.doc(id))
            elif any(i != id and r.tenant == new.tenant and fold(r.name) == fold(new.name)
                     for i, r in m.roles.items()):
                expected = ("Conflict", "name")
            else:
                new.version += 1
                m.roles[id] = new
                m.logged("role", id, "update", new.version, new.tenant)
                expected = ("ok", new.doc(id))
        got = outcome(lambda: self.h.roles.merge(id, doc))
        same(f"roles.merge({id}, {doc})", shown_outcome(got), expected)

    def merge_client(self, ref: tuple[str, int], name: Optional[str], enabled: Optional[bool],
                     role_refs: Optional[list[tuple[str, int]]]) -> None:
        m = self.m
        id = self.any_ref("client", ref)
        old = m.clients.get(id)
        tenant = old.tenant if old is not None else None
        doc: dict[str, Any] = {}
        if name is not None:
            doc["name"] = name
        if enabled is not None:
            doc["enabled"] = enabled
        if role_refs is not None:
            doc["roles"] = [self.role_ref(r, tenant) for r in role_refs]
        if old is None or not visible(old.tenant, self.view):
            expected: Any = ("NotFound",)
        else:
            new = copy.deepcopy(old)
            new.name = doc.get("name", old.name)
            new.enabled = doc.get("enabled", old.enabled)
            new.roles = sorted(set(doc.get("roles", old.roles)))
            if (new.name, new.enabled, new.roles) == (old.name, old.enabled, old.roles):
                expected = ("ok", old.doc(id))
            elif not m.roles_ok(new.roles, new.tenant):
                expected = ("Validation", ["roles"])
            else:
                new.version += 1
                if old.enabled and not new.enabled:
                    m.revoke("client", id)
                m.clients[id] = new
                m.logged("client", id, "update", new.version, new.tenant)
                expected = ("ok", new.doc(id))
        got = outcome(lambda: self.h.clients.merge(id, doc))
        same(f"clients.merge({id}, {doc})", shown_outcome(got), expected)

    # -- deletes

    def delete(self, kind: str, ref: tuple[str, int]) -> None:
        m = self.m
        id = self.user_ref(ref) if kind == "user" else self.any_ref(kind, ref)
        table = m.table(kind)
        rec = table.get(id)
        if rec is None or not visible(rec.tenant, self.view):
            expected: Any = ("NotFound",)
        else:
            expected = ("ok", rec.doc(id))
            del table[id]
            m.revoke(kind, id)
            m.logged(kind, id, "delete", rec.version, rec.tenant)
        collection = self.h.users if kind == "user" else self.h.clients
        got = outcome(lambda: collection.delete(id))
        same(f"{kind}s.delete({id})", shown_outcome(got), expected)

    def delete_role(self, ref: tuple[str, int], cascade: bool) -> None:
        m = self.m
        kind, n = ref
        held = sorted({r for u in m.users.values() for r in u.roles} |
                      {r for c in m.clients.values() for r in c.roles})
        id = pick(n, held) if kind == "live" and held else self.any_ref("role", ref)
        role = m.roles.get(id)
        if role is None or not visible(role.tenant, self.view):
            expected: Any = ("NotFound",)
        else:
            users = [i for i, u in m.users.items() if id in u.roles]
            clients = [i for i, c in m.clients.items() if id in c.roles]
            if (users or clients) and not cascade:
                expected = ("InUse", len(users) + len(clients))
            else:
                for i in users:
                    u = m.users[i]
                    u.roles = [r for r in u.roles if r != id]
                    u.version += 1
                    m.logged("user", i, "update", u.version, u.tenant)
                for i in clients:
                    c = m.clients[i]
                    c.roles = [r for r in c.roles if r != id]
                    c.version += 1
                    m.logged("client", i, "update", c.version, c.tenant)
                expected = ("ok", role.doc(id))
                del m.roles[id]
                m.logged("role", id, "delete", role.version, role.tenant)
        got = outcome(lambda: self.h.roles.delete(id, cascade=cascade))
        same(f"roles.delete({id}, cascade={cascade})", shown_outcome(got), expected)

    def run(self, kind: str, spec: Any) -> None:
        """A transaction's sub-step."""
        if kind == "create_user":
            self.create_user(*spec)
        elif kind == "create_role":
            self.create_role(*spec)
        elif kind == "patch":
            self.patch(*spec)
        elif kind == "delete_user":
            self.delete("user", spec)
        elif kind == "delete_role":
            self.delete_role(*spec)


def shown_outcome(o: Any) -> Any:
    if o[0] != "ok":
        return o
    value = o[1]
    if isinstance(value, dict) and "client" in value and "secret" in value:
        return ("ok", {"client": shown(value["client"]), "secret": value["secret"]})
    return ("ok", shown(value))


class Rollback(Exception):
    """Raised at the end of a transaction block to roll it back."""


# ---------------------------------------------------------------------------
# The machine.


class StoreMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.store = rosterdb.Store.memory(lockout_threshold=THRESHOLD, **CHEAP)
        self.model = Model()
        self.tmp = tempfile.TemporaryDirectory()

    def teardown(self) -> None:
        self.store.close()
        self.tmp.cleanup()

    def handle(self, view: Optional[str]) -> Any:
        return self.store if view is None else self.store.scoped(view)

    def ops(self, view: Optional[str]) -> Ops:
        return Ops(self.handle(view), self.model, view, False)

    # -- creates

    @staticmethod
    def named(view: Optional[str], tenant: tuple[bool, Optional[str]]) -> Optional[str]:
        own, t = tenant
        return None if view is not None and own else t

    @initialize(users=st.lists(st.tuples(username_st, email_st, st.sampled_from(VIEWS),
                                         st.sampled_from(PASSWORDS + [None]), ix),
                               min_size=2, max_size=8),
                roles=st.lists(st.tuples(st.sampled_from(ROLE_NAMES), st.sampled_from(VIEWS),
                                         st.lists(st.sampled_from(PERMISSIONS), max_size=2)),
                               max_size=4),
                clients=st.lists(st.tuples(st.sampled_from(CLIENT_NAMES),
                                           st.sampled_from(VIEWS)), max_size=2))
    def populate(self, users: list[tuple[str, str, Optional[str], Optional[str], int]],
                 roles: list[tuple[str, Optional[str], list[str]]],
                 clients: list[tuple[str, Optional[str]]]) -> None:
        """A few records of the views' tenants to start from."""
        ops = self.ops(None)
        for name, tenant, permissions in roles:
            ops.create_role(name, tenant, permissions)
        for username, email, tenant, password, role in users:
            ops.create_user(username, email, tenant, [("live", role)], [], password)
        for name, tenant in clients:
            ops.create_client(name, tenant, [("live", 0)])

    @rule(view=view_st, username=username_st, email=email_st, tenant=create_tenant_st,
          roles=st.lists(ref_st, max_size=2), ext=ext_st,
          password=st.sampled_from(PASSWORDS + [None]))
    def create_user(self, view: Optional[str], username: str, email: str,
                    tenant: tuple[bool, Optional[str]], roles: list[tuple[str, int]],
                    ext: list[tuple[str, str]], password: Optional[str]) -> None:
        self.ops(view).create_user(username, email, self.named(view, tenant), roles, ext,
                                   password)

    @rule(view=view_st, name=st.tuples(st.sampled_from(ROLE_NAMES * 6 + [""]), how),
          tenant=create_tenant_st,
          permissions=st.lists(st.sampled_from(PERMISSIONS), max_size=3))
    def create_role(self, view: Optional[str], name: tuple[str, int],
                    tenant: tuple[bool, Optional[str]], permissions: list[str]) -> None:
        self.ops(view).create_role(recase(*name), self.named(view, tenant), permissions)

    @rule(view=view_st, name=st.sampled_from(CLIENT_NAMES), tenant=create_tenant_st,
          roles=st.lists(ref_st, max_size=2))
    def create_client(self, view: Optional[str], name: str,
                      tenant: tuple[bool, Optional[str]],
                      roles: list[tuple[str, int]]) -> None:
        self.ops(view).create_client(name, self.named(view, tenant), roles)

    # -- updates and deletes

    @rule(view=view_st, ref=ref_st, specs=st.lists(patch_op_st, min_size=1, max_size=3),
          e=expect_st)
    def patch_user(self, view: Optional[str], ref: tuple[str, int],
                   specs: list[tuple[Any, ...]], e: str) -> None:
        self.ops(view).patch(ref, specs, e)

    @rule(view=view_st, ref=ref_st, e=expect_st,
          partial=st.fixed_dictionaries({}, optional={
              "username": username_st, "email": email_st,
              "nickname": st.one_of(st.none(), st.sampled_from(NICKNAMES)),
              "enabled": st.booleans(),
              "attributes": st.fixed_dictionaries(
                  {"dept": st.one_of(st.none(), st.sampled_from(DEPTS))}),
              "tenant": st.one_of(st.none(), tenant_st)}),
          read_only=st.one_of(st.none(), st.tuples(
              st.sampled_from(["id", "version", "hasPassword"]), st.booleans())))
    def merge_user(self, view: Optional[str], ref: tuple[str, int], e: str,
                   partial: dict[str, Any], read_only: Optional[tuple[str, bool]]) -> None:
        self.ops(view).merge(ref, partial, e, read_only)

    @rule(view=view_st, ref=ref_st,
          name=st.one_of(st.none(), st.sampled_from(ROLE_NAMES + [""])),
          permissions=st.one_of(st.none(), st.lists(st.sampled_from(PERMISSIONS), max_size=3)))
    def merge_role(self, view: Optional[str], ref: tuple[str, int], name: Optional[str],
                   permissions: Optional[list[str]]) -> None:
        self.ops(view).merge_role(ref, name, permissions)

    @rule(view=view_st, ref=ref_st, name=st.one_of(st.none(), st.sampled_from(CLIENT_NAMES)),
          enabled=st.one_of(st.none(), st.booleans()),
          roles=st.one_of(st.none(), st.lists(ref_st, max_size=2)))
    def merge_client(self, view: Optional[str], ref: tuple[str, int], name: Optional[str],
                     enabled: Optional[bool], roles: Optional[list[tuple[str, int]]]) -> None:
        self.ops(view).merge_client(ref, name, enabled, roles)

    @rule(view=view_st, ref=ref_st, kind=st.sampled_from(["user", "client"]))
    def delete(self, view: Optional[str], ref: tuple[str, int], kind: str) -> None:
        self.ops(view).delete(kind, ref)

    @rule(view=view_st, ref=ref_st, cascade=st.booleans())
    def delete_role(self, view: Optional[str], ref: tuple[str, int], cascade: bool) -> None:
        self.ops(view).delete_role(ref, cascade)

    # -- transactions

    @rule(view=view_st, steps=st.lists(tx_step_st, min_size=1, max_size=4),
          commit=st.booleans())
    def transaction(self, view: Optional[str], steps: list[tuple[str, Any]],
                    commit: bool) -> None:
        shadow = copy.deepcopy(self.model)
        try:
            with self.handle(view).transaction() as tx:
                ops = Ops(tx, shadow, view, True)
                for kind, spec in steps:
                    ops.run(kind, spec)
                if not commit:
                    raise Rollback()
        except Rollback:
            pass
        if commit:
            self.model = shadow

    # -- logins and sessions

    @rule(view=view_st, who=ix, key=st.sampled_from(["username", "email"]), how=how,
          right=st.sampled_from([True, True, False]),
          tenant_named=st.sampled_from([True, True, False]), session=st.booleans(),
          anyone=st.sampled_from([False, False, False, True]))
    def login(self, view: Optional[str], who: int, key: str, how: int, right: bool,
              tenant_named: bool, session: bool, anyone: bool) -> None:
        m = self.model
        users = sorted(i for i, u in m.users.items() if anyone or visible(u.tenant, view))
        target = m.users.get(pick(who, users)) if users else None
        identifier = recase(getattr(target, key), how) if target else "nobody"
        tenant = target.tenant if target and tenant_named else None
        password = (target.password or WRONG_PASSWORD) if target and right else WRONG_PASSWORD
        effective = view if view is not None else tenant
        if not valid_tenant(effective):
            found = None
        else:
            found = m.find_login(identifier, effective)
        h = self.handle(view)
        if session:
            got = outcome(lambda: h.login(identifier, password, tenant=tenant))
        else:
            got = outcome(lambda: h.users.verify_password(identifier, password, tenant=tenant))
        expected: Any = ("AuthenticationFailed",)
        if found is not None:
            u = m.users[found]
            if u.enabled and not u.locked:
                if u.password is not None and password == u.password:
                    u.failures = 0
                    u.logged_in = True
                    expected = ("ok", u.doc(found))
                else:
                    u.failures += 1
                    if u.failures >= THRESHOLD:
                        u.failures, u.locked = 0, True
        if session and got[0] == "ok":
            login = got[1]
            assert set(login) == {"token", "expiresAt", "user"}
            assert re.fullmatch(r"rs_[A-Za-z0-9_-]{43}", login["token"])
            m.sessions[login["token"]] = ("user", login["user"]["id"])
            got = ("ok", login["user"])
        same(f"login({identifier!r}, right={right}, tenant={tenant!r}) in {view!r}",
             shown_outcome(got), expected)

    @rule(view=view_st, who=ix, right=st.sampled_from([True, True, False]),
          anyone=st.sampled_from([False, False, False, True]))
    def client_login(self, view: Optional[str], who: int, right: bool, anyone: bool) -> None:
        m = self.model
        ids = sorted(i for i, c in m.clients.items() if anyone or visible(c.tenant, view))
        id = pick(who, ids)
        c = m.clients.get(id) if id is not None else None
        client_id = c.client_id if c else "rc_0000000000000000000000"
        secret = c.secret if c and right else "x" * 43
        got = outcome(lambda: self.handle(view).client_login(client_id, secret))
        expected: Any = ("AuthenticationFailed",)
        if c is not None and visible(c.tenant, view) and c.enabled and right:
            c.used = True
            expected = ("ok", c.doc(id))
        if got[0] == "ok":
            m.sessions[got[1]["token"]] = ("client", got[1]["client"]["id"])
            got = ("ok", got[1]["client"])
        same(f"client_login({id}, right={right}) in {view!r}", shown_outcome(got), expected)

    @rule(view=view_st, which=ix)
    def authenticate(self, view: Optional[str], which: int) -> None:
        tokens = sorted(self.model.sessions) + ["rs_" + "A" * 43]
        token = pick(which, tokens)
        expected = self.model.principal_ok(token, view)
        got = outcome(lambda: self.handle(view).authenticate(token))
        if got[0] == "ok":
            got = ("ok", {k: v for k, v in got[1].items() if k != "expiresAt"})
        same(f"authenticate in {view!r}", got,
             ("InvalidToken",) if expected is None else ("ok", expected))

    @rule(view=view_st, which=ix)
    def logout(self, view: Optional[str], which: int) -> None:
        tokens = sorted(self.model.sessions) + ["rs_" + "A" * 43]
        token = pick(which, tokens)
        if self.model.principal_ok(token, view) is not None:
            del self.model.sessions[token]
        self.handle(view).logout(token)

    @rule(view=view_st, ref=ref_st)
    def revoke_sessions(self, view: Optional[str], ref: tuple[str, int]) -> None:
        ops = self.ops(view)
        id = ops.user_ref(ref)
        u = self.model.users.get(id)
        expected: Any = ("NotFound",)
        if u is not None and visible(u.tenant, view):
            expected = ("ok", self.model.revoke("user", id))
        got = outcome(lambda: self.handle(view).users.revoke_sessions(id))
        same(f"revoke_sessions({id}) in {view!r}", got, expected)

    @rule(view=view_st, ref=ref_st)
    def unlock(self, view: Optional[str], ref: tuple[str, int]) -> None:
        id = self.ops(view).user_ref(ref)
        u = self.model.users.get(id)
        expected: Any = ("NotFound",)
        if u is not None and visible(u.tenant, view):
            if u.locked:
                u.version += 1
                self.model.logged("user", id, "update", u.version, u.tenant)
            u.failures, u.locked = 0, False
            expected = ("ok", u.doc(id))
        got = outcome(lambda: self.handle(view).users.unlock(id))
        same(f"unlock({id}) in {view!r}", shown_outcome(got), expected)

    # -- queries

    @rule(view=view_st, query=st.sampled_from([
              "none", "enabled", "disabled", "username", "email_sw", "role", "tenant",
              "nickname_pr", "search", "dept"]),
          arg=ix, sort=st.sampled_from(["id", "username", "email", "nickname", "lastName"]),
          desc=st.booleans(), page_size=st.integers(1, 4))
    def list_users(self, view: Optional[str], query: str, arg: int, sort: str, desc: bool,
                   page_size: int) -> None:
        m = self.model
        kwargs: dict[str, Any] = {}
        pred: Callable[[MUser], bool] = lambda u: True  # noqa: E731
        if query in ("enabled", "disabled"):
            kwargs["where"] = f"enabled = {str(query == 'enabled').lower()}"
            pred = lambda u: u.enabled == (query == "enabled")  # noqa: E731
        elif query == "username":
            name = pick(arg, USERNAMES)
            kwargs["where"] = f"username = '{name}'"
            pred = lambda u: fold(u.username) == fold(name)  # noqa: E731
        elif query == "email_sw":
            prefix = pick(arg, ["ann", "STR", "zo", "ａ"])
            kwargs["where"] = f"email sw '{prefix}'"
            pred = lambda u: fold(u.email).startswith(fold(prefix))  # noqa: E731
        elif query == "role":
            role = arg % (m.last["role"] + 1)
            kwargs["filters"] = {"roles": str(role)}
            pred = lambda u: role in u.roles  # noqa: E731
        elif query == "tenant":
            tenant = pick(arg, ["t1", "t2", "T1"])
            kwargs["filters"] = {"tenant": tenant}
            pred = lambda u: u.tenant == tenant  # noqa: E731
        elif query == "nickname_pr":
            kwargs["where"] = "nickname pr"
            pred = lambda u: u.nickname is not None  # noqa: E731
        elif query == "search":
            term = pick(arg, ["ann", "X.IO", "ss", "last"])
            kwargs["search"] = term

            def pred(u: MUser) -> bool:
                texts = [u.username, u.email, u.first, u.last, u.nickname or ""]
                return any(fold(term) in fold(t) for t in texts)
        elif query == "dept":
            dept = pick(arg, DEPTS)
            kwargs["where"] = f"attributes.dept = '{dept}'"
            pred = lambda u: u.dept is not None and fold(u.dept) == fold(dept)  # noqa: E731
        matches = [(i, u) for i, u in m.users.items() if visible(u.tenant, view) and pred(u)]
        attr = {"username": "username", "email": "email", "nickname": "nickname",
                "lastName": "last"}.get(sort)

        def key(item: tuple[int, MUser]) -> Any:
            if attr is None:
                return ()
            value = getattr(item[1], attr)
            return (0,) if value is None else (1, fold(value), value)

        ordered = sorted(matches, key=lambda p: p[0])
        ordered = sorted(ordered, key=key, reverse=desc)
        expected_ids = [i for i, _ in ordered]
        h = self.handle(view).users
        sort_arg = sort if sort == "id" else f"{sort}:{'desc' if desc else 'asc'}"
        page = h.list(sort=sort_arg, page_size=page_size, with_total=True, **kwargs)
        got = [d["id"] for d in page.items]
        assert page.total == len(expected_ids), (kwargs, page.total, expected_ids)
        while page.next_cursor is not None:
            page = h.list(cursor=page.next_cursor, **kwargs)
            got += [d["id"] for d in page.items]
        same(f"users.list({kwargs}, sort={sort_arg}) in {view!r}", got, expected_ids)
        same("users.count", h.count(**kwargs), len(expected_ids))
        same("users.exists", h.exists(**kwargs), bool(expected_ids))
        walked = [d["id"] for d in h.iter(sort=sort_arg, page_size=page_size, **kwargs)]
        same("users.iter", walked, expected_ids)

    # -- export and import

    @rule()
    def export_import(self) -> None:
        path = Path(self.tmp.name) / "export.jsonl"
        n = self.store.export_jsonl(path)
        m = self.model
        assert n == len(m.users) + len(m.roles) + len(m.clients)
        fresh = rosterdb.Store.memory(lockout_threshold=THRESHOLD, **CHEAP)
        assert fresh.import_jsonl(path) == n
        for kind in ("users", "roles", "clients"):
            before = list(getattr(self.store, kind).iter())
            after = list(getattr(fresh, kind).iter())
            same(f"{kind} after the round trip", after, before)
        self.store.close()
        self.store = fresh
        # The imported store: no sessions, no failure counts, ids after the
        # largest imported one, and one `create` entry per record.
        m.sessions.clear()
        m.log = []
        for kind in ("role", "user", "client"):
            table = m.table(kind)
            m.last[kind] = max(table, default=0)
            for id, rec in sorted(table.items()):
                m.logged(kind, id, "create", rec.version, rec.tenant)
        for u in m.users.values():
            u.failures = 0

    # -- invariants

    @invariant()
    def documents_agree(self) -> None:
        m = self.model
        for view in VIEWS:
            h = self.handle(view)
            for kind, coll in (("user", h.users), ("role", h.roles), ("client", h.clients)):
                table = m.table(kind)
                for id in range(0, m.last[kind] + 2):
                    rec = table.get(id)
                    expected = (("ok", rec.doc(id)) if rec is not None and
                                visible(rec.tenant, view) else ("NotFound",))
                    same(f"{kind}s.get({id}) in {view!r}",
                         shown_outcome(outcome(lambda: coll.get(id))), expected)
                seen = [rec.doc(id) for id, rec in sorted(table.items())
                        if visible(rec.tenant, view)]
                same(f"{kind}s.list in {view!r}",
                     [shown(d) for d in coll.list(page_size=1000).items], seen)
                same(f"{kind}s.count in {view!r}", coll.count(), len(seen))

    @invariant()
    def lookups_agree(self) -> None:
        m = self.model
        for id, u in m.users.items():
            for key, method in (("username", self.store.users.get_by_username),
                                ("email", self.store.users.get_by_email)):
                for how_ in range(3):
                    value = recase(getattr(u, key), how_)
                    got = outcome(lambda: method(value, tenant=u.tenant))
                    same(f"get_by_{key}({value!r}, {u.tenant!r})", got[0], "ok")
                    assert got[1]["id"] == id
            for t, v in u.ext:
                got = outcome(lambda: self.store.users.get_by_external_id(
                    t.upper(), v.lower(), tenant=u.tenant))
                same(f"get_by_external_id({t!r}, {v!r})", (got[0], got[1]["id"]), ("ok", id))
        for c in m.clients.values():
            assert self.store.clients.get_by_client_id(c.client_id)["clientId"] == c.client_id

    @invariant()
    def unique_fields_hold_caseless(self) -> None:
        users = list(self.store.users.iter())
        for key in ("username", "email"):
            keys = [(u.get("tenant"), fold(u[key])) for u in users]
            assert len(keys) == len(set(keys)), (key, keys)
        ext = [(u.get("tenant"), fold(e["type"]), fold(e["value"]))
               for u in users for e in u["externalIds"]]
        assert len(ext) == len(set(ext)), ext
        roles = [(r.get("tenant"), fold(r["name"])) for r in self.store.roles.iter()]
        assert len(roles) == len(set(roles)), roles

    @invariant()
    def sessions_agree(self) -> None:
        m = self.model
        for id in m.users:
            live = sum(1 for p in m.sessions.values() if p == ("user", id))
            same(f"users.sessions({id})", len(self.store.users.sessions(id)), live)
        for token in list(m.sessions) + ["rs_" + "A" * 43]:
            for view in VIEWS:
                expected = m.principal_ok(token, view)
                got = outcome(lambda: self.handle(view).authenticate(token))
                if got[0] == "ok":
                    got = ("ok", {k: v for k, v in got[1].items() if k != "expiresAt"})
                same(f"authenticate({token[:6]}…) in {view!r}", got,
                     ("InvalidToken",) if expected is None else ("ok", expected))
            if token in m.sessions:
                assert m.principal_ok(token, None) is not None, "a dead session in the model"

    @invariant()
    def change_log_agrees(self) -> None:
        m = self.model
        for view in VIEWS:
            got, after = [], 0
            while True:
                page = self.handle(view).changes(after=after, limit=7)
                got += page
                if len(page) < 7:
                    break
                after = page[-1]["seq"]
            seqs = [c["seq"] for c in got]
            assert seqs == sorted(set(seqs)), seqs
            expected = [(e, i, op, v) for e, i, op, v, t in m.log if visible(t, view)]
            same(f"changes() in {view!r}",
                 [(c["entity"], c["id"], c["op"], c["version"]) for c in got], expected)

    @invariant()
    def store_is_consistent(self) -> None:
        assert self.store.check() == {"ok": True, "problems": []}


StoreMachine.TestCase.settings = settings(
    max_examples=1000 if LONG else 60,
    stateful_step_count=80 if LONG else 40,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

TestStoreMachine = StoreMachine.TestCase


def test_fold_agrees_with_the_pools() -> None:
    """The oracle's fold puts the pools' spellings in the classes
    docs/reference/documents.md, Caseless matching, names: the store agrees (a
    username taken in one spelling is taken in every other)."""
    classes = [["ann", "ANN", "ａｎｎ"], ["straße", "STRASSE", "strasse"],
               ["ΟΔΟΣ", "οδοσ", "οδος"]]
    with rosterdb.Store.memory(**CHEAP) as store:
        for i, cls in enumerate(classes):
            assert len({fold(s) for s in cls}) == 1, cls
            store.users.create({"username": cls[0], "email": f"u{i}@x.io",
                                "firstName": "F", "lastName": "L"})
            for s in cls[1:]:
                assert store.users.get_by_username(s)["username"] == cls[0]
        assert len({fold(c[0]) for c in classes}) == len(classes)
