"""Tenant isolation under random queries through the Python API
(docs/reference/tenancy.md; docs/reference/queries.md, Results, paging and
planning), the twin of core/tests/isolation_tests.rs.

Non-interference: two stores run the same steps. The steps of the tenant
under test (``t1``, through ``store.scoped("t1")``) are the same in both; the
other tenants' records (``t2``, ``T1`` — tenants compare exactly — and
records without a tenant) are created at the same steps in both, so ids and
change-log sequence numbers line up, but their contents are drawn
independently for each store from the same small pools as the tenant's own,
so usernames, emails and role names collide across tenants. Whatever the
view returns or raises — documents (timestamps aside: the two stores run at
different instants), totals, counts, ``exists``, cursors, ``explain``,
error kinds, messages and attributes, logins, the change log — must be the
same in both stores. Each output is also checked directly: only ``t1``'s
records, no other tenant's id, and a ``t1`` cursor is refused elsewhere.

``HYPOTHESIS_PROFILE=long`` runs many more cases; failures are shrunk,
printed with a ``@reproduce_failure`` blob and kept in ``.hypothesis/``.
"""

from __future__ import annotations

import base64
import json
import os
from typing import Any, Callable, Optional

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import rosterdb
from conftest import CHEAP

LONG = os.environ.get("HYPOTHESIS_PROFILE") == "long"
MINE = "t1"
OTHERS: list[Optional[str]] = ["t2", "T1", None]
USERNAMES = ["ann", "ANN", "bob", "straße", "STRASSE", "zoë", "ａｎｎ"]
EMAILS = ["ann@x.io", "Ann@X.io", "bob@x.io", "strasse@x.io", "zoë@y.io"]
LAST_NAMES = ["Lovelace", "lovelace", "Hopper", "Ünal"]
ROLE_NAMES = ["admin", "ADMIN", "ops", "straße"]
PASSWORDS = ["password-one", "password-two"]
TIMES = ("createdAt", "updatedAt", "lastLoginAt", "lastUsedAt", "lockedUntil", "at",
         "expiresAt")

user_st = st.fixed_dictionaries(
    {"username": st.sampled_from(USERNAMES), "email": st.sampled_from(EMAILS),
     "firstName": st.just("First"), "lastName": st.sampled_from(LAST_NAMES),
     "enabled": st.booleans()},
    optional={"nickname": st.sampled_from(["Nan", ""]),
              "attributes": st.fixed_dictionaries({"dept": st.sampled_from(["R&D", "ops"])}),
              "externalIds": st.lists(st.fixed_dictionaries(
                  {"type": st.sampled_from(["github", "GitHub"]),
                   "value": st.sampled_from(["1", "ann"])}), max_size=1),
              "password": st.sampled_from(PASSWORDS)})

value_st = st.sampled_from([f"'{s}'" for s in USERNAMES + EMAILS + LAST_NAMES]
                           + ["'t2'", "'T1'", "'a'", "true", "3", "null"])
field_st = st.sampled_from(["username", "email", "lastName", "nickname", "tenant", "enabled",
                            "roles", "id", "attributes.dept", "externalIds.value"])
test_st = st.one_of(
    st.tuples(field_st, st.sampled_from(["=", "!=", "<", ">=", "sw", "co", "like"]),
              value_st).map(" ".join),
    field_st.map(lambda f: f"{f} pr"),
    st.tuples(field_st, value_st, value_st).map(lambda t: f"{t[0]} in ({t[1]}, {t[2]})"))
where_st = st.recursive(test_st, lambda inner: st.one_of(
    st.tuples(inner, inner).map(lambda t: f"({t[0]}) and ({t[1]})"),
    st.tuples(inner, inner).map(lambda t: f"({t[0]}) or ({t[1]})"),
    inner.map(lambda a: f"not ({a})")), max_leaves=4)
query_st = st.fixed_dictionaries({}, optional={
    "where": where_st,
    "search": st.sampled_from(["ann", "x.io", "ss", "lov"]),
    "filters": st.dictionaries(st.sampled_from(["username", "tenant", "enabled",
                                                "filter[lastName]"]),
                               st.sampled_from(["ann", "like:an%", "in:t2,T1,t1", "true",
                                                "ne:t2", "lovelace"]), max_size=2),
    "sort": st.lists(st.tuples(st.sampled_from(["username", "email", "lastName", "nickname",
                                                "tenant", "enabled", "attributes.dept", "id"]),
                               st.sampled_from(["", ":asc", ":desc"])).map("".join),
                     min_size=1, max_size=2),
    "fields": st.lists(st.sampled_from(["username", "email", "tenant", "roles"]), min_size=1,
                       max_size=3, unique=True),
    "with_total": st.booleans()})
paging_st = st.one_of(
    st.tuples(st.just("page"), st.integers(1, 3), st.integers(1, 4)),
    st.tuples(st.just("offset"), st.integers(0, 6), st.integers(1, 4)),
    st.tuples(st.just("walk"), st.integers(1, 3), st.just(0)))
id_st = st.integers(0, 14)
named_st = st.sampled_from([None, "t1", "t2", "T1"])

mine_st = st.one_of(
    st.tuples(st.just("create_user"), user_st),
    st.tuples(st.just("create_role"), st.sampled_from(ROLE_NAMES)),
    st.tuples(st.just("list"), query_st, paging_st),
    st.tuples(st.just("list"), query_st, paging_st),
    st.tuples(st.just("count"), query_st),
    st.tuples(st.just("get"), id_st),
    st.tuples(st.just("lookup"), st.sampled_from(USERNAMES + EMAILS + ["1"]), named_st),
    st.tuples(st.just("patch"), id_st, st.sampled_from(["/username", "/email", "/lastName"]),
              st.sampled_from(["ann", "bob@x.io", "ANN@x.io", "Hopper"])),
    st.tuples(st.just("delete"), id_st),
    st.tuples(st.just("delete_role"), st.integers(0, 6), st.booleans()),
    st.tuples(st.just("login"), st.sampled_from(["ann", "ANN", "bob", "ann@x.io", "strasse"]),
              st.sampled_from(PASSWORDS), named_st),
    st.tuples(st.just("changes"),))
step_st = st.one_of(
    mine_st.map(lambda m: ("mine", m)),
    mine_st.map(lambda m: ("mine", m)),
    st.tuples(st.just("other"), st.sampled_from(OTHERS), user_st, user_st),
    st.tuples(st.just("other_role"), st.sampled_from(OTHERS), st.sampled_from(ROLE_NAMES),
              st.sampled_from(ROLE_NAMES)),
    st.tuples(st.just("other_delete"), st.integers(0, 100)))


def masked(value: Any) -> Any:
    """A result with its timestamps reduced to their presence and tokens
    (random in each store) dropped."""
    if isinstance(value, dict):
        return {k: (True if k in TIMES else masked(v)) for k, v in value.items()
                if k != "token"}
    if isinstance(value, list):
        return [masked(v) for v in value]
    return value


def error_shown(e: BaseException) -> Any:
    """An error's kind, message, repr and attributes."""
    return (type(e).__name__, str(e), repr(e), sorted(vars(e).items(), key=repr))


def shown(call: Callable[[], Any]) -> Any:
    """What a call shows: its masked result, or its error."""
    try:
        return ("ok", masked(call()))
    except rosterdb.RosterError as e:
        return error_shown(e)


def cursor_json(cursor: str) -> Any:
    raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    return json.loads(raw[1:-8])


class Side:
    """One of the two stores, with what it holds outside the tenant."""

    def __init__(self) -> None:
        self.store = rosterdb.Store.memory(**CHEAP)
        self.view = self.store.scoped(MINE)
        self.other_users: list[int] = []
        self.other_roles: list[int] = []
        self.other_strings: set[str] = set()

    def other(self, tenant: Optional[str], doc: dict[str, Any]) -> None:
        doc = dict(doc)
        if tenant is not None:
            doc["tenant"] = tenant
        try:
            u = self.store.users.create(doc)
        except rosterdb.ConflictError:
            # Taken in that tenant: a unique one instead, so that both
            # stores create one record at this step.
            n = len(self.other_users)
            doc.update(username=f"other{n}", email=f"other{n}@z.io", externalIds=[])
            u = self.store.users.create(doc)
            self.other_strings |= {doc["username"], doc["email"]}
        self.other_users.append(u["id"])

    def other_role(self, tenant: Optional[str], name: str) -> None:
        doc: dict[str, Any] = {"name": name, "permissions": [f"perm:{len(self.other_roles)}"]}
        if tenant is not None:
            doc["tenant"] = tenant
        try:
            r = self.store.roles.create(doc)
        except rosterdb.ConflictError:
            doc["name"] = f"other-role{len(self.other_roles)}"
            r = self.store.roles.create(doc)
        self.other_roles.append(r["id"])

    def check_doc(self, doc: Any) -> None:
        """A document (or a login's user) of the view is the tenant's."""
        if isinstance(doc, dict) and "user" in doc:
            doc = doc["user"]
        if isinstance(doc, dict) and "tenant" in doc:
            assert doc["tenant"] == MINE, doc

    def check_text(self, out: Any) -> None:
        text = repr(out)
        for s in self.other_strings:
            assert s not in text, f"{s} shows in {text}"

    def check_cursor(self, cursor: str) -> None:
        data = cursor_json(cursor)
        assert data["scope"] == MINE and data["kind"] == "user", data
        self.check_text(data["after"])
        for elsewhere in (self.store.scoped("t2"), self.store.scoped("T1"), self.store):
            try:
                elsewhere.users.list(cursor=cursor)
            except rosterdb.QueryError as e:
                assert e.field == "cursor", e
                self.check_text(str(e))
            else:
                raise AssertionError("a t1 cursor was accepted elsewhere")

    def mine(self, step: tuple[Any, ...]) -> list[Any]:
        v = self.view
        kind = step[0]
        out: list[Any] = []
        if kind == "create_user":
            roles = [r["id"] for r in v.roles.list(page_size=1000)]
            doc = dict(step[1], roles=roles[:1])
            out.append(shown(lambda: v.users.create(doc)))
        elif kind == "create_role":
            out.append(shown(lambda: v.roles.create({"name": step[1]})))
        elif kind == "list":
            query, (how, a, b) = step[1], step[2]
            paging = ({"page": a, "page_size": b} if how == "page" else
                      {"offset": a, "limit": b} if how == "offset" else {"page_size": a})
            try:
                page = v.users.list(**query, **paging)
            except rosterdb.QueryError as e:
                out.append(error_shown(e))
                page = None
            walked = 0
            while page is not None:
                for d in page.items:
                    self.check_doc(d)
                    assert d["id"] not in self.other_users, d
                out.append(("page", masked(page.items), page.total, page.next_cursor))
                if how != "walk" or page.next_cursor is None:
                    break
                self.check_cursor(page.next_cursor)
                walked += 1
                assert walked < 100
                page = v.users.list(**query, cursor=page.next_cursor)
        elif kind == "count":
            q = {k: val for k, val in step[1].items() if k in ("where", "search", "filters")}
            count = shown(lambda: v.users.count(**q))
            exists = shown(lambda: v.users.exists(**q))
            explain = shown(lambda: v.users.explain(**step[1]))
            if count[0] == "ok":
                assert exists == ("ok", count[1] > 0)
                items = list(v.users.iter(**q))
                assert len(items) == count[1]
                for d in items:
                    self.check_doc(d)
            out += [count, exists, explain]
        elif kind == "get":
            for coll in (v.users, v.roles):
                got = shown(lambda: coll.get(step[1]))
                out.append(got)
            if step[1] in self.other_users:
                assert out[0][0] == "NotFoundError", out
            if step[1] in self.other_roles:
                assert out[1][0] == "NotFoundError", out
        elif kind == "lookup":
            key, tenant = step[1], step[2]
            out.append(shown(lambda: v.users.get_by_username(key, tenant=tenant)))
            out.append(shown(lambda: v.users.get_by_email(key, tenant=tenant)))
            out.append(shown(lambda: v.users.get_by_external_id("github", key, tenant=tenant)))
        elif kind == "patch":
            id, path, value = step[1], step[2], step[3]
            out.append(shown(lambda: v.users.patch(
                id, [{"op": "replace", "path": path, "value": value}])))
            out.append(shown(lambda: v.users.merge(id, {"nickname": "m"}, expected_version=1)))
        elif kind == "delete":
            out.append(shown(lambda: v.users.delete(step[1])))
        elif kind == "delete_role":
            out.append(shown(lambda: v.roles.delete(step[1], cascade=step[2])))
            if step[1] in self.other_roles:
                assert out[0][0] == "NotFoundError", out
        elif kind == "login":
            identifier, password, tenant = step[1], step[2], step[3]
            got = shown(lambda: v.login(identifier, password, tenant=tenant))
            if got[0] == "ok":
                assert got[1]["user"]["tenant"] == MINE
            out.append(got)
            out.append(shown(lambda: v.users.verify_password(identifier, password,
                                                             tenant=tenant)))
        elif kind == "changes":
            changes = v.changes(limit=1000)
            for c in changes:
                assert not (c["entity"] == "user" and c["id"] in self.other_users), c
                assert not (c["entity"] == "role" and c["id"] in self.other_roles), c
            out.append(masked(changes))
        for o in out:
            if o and o[0] == "ok":
                self.check_doc(o[1])
        self.check_text(out)
        return out


@settings(max_examples=3000 if LONG else 200, deadline=None, print_blob=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(steps=st.lists(step_st, min_size=1, max_size=30))
def test_a_view_shows_nothing_of_other_tenants(steps: list[tuple[Any, ...]]) -> None:
    a, b = Side(), Side()
    try:
        for i, step in enumerate(steps):
            kind = step[0]
            if kind == "mine":
                x, y = a.mine(step[1]), b.mine(step[1])
                assert x == y, f"step {i} {step[1]!r} differs:\n{x!r}\n{y!r}"
            elif kind == "other":
                a.other(step[1], step[2])
                b.other(step[1], step[3])
            elif kind == "other_role":
                a.other_role(step[1], step[2])
                b.other_role(step[1], step[3])
            elif kind == "other_delete" and a.other_users:
                id = a.other_users[step[1] % len(a.other_users)]
                assert shown(lambda: a.store.users.delete(id))[0] == shown(
                    lambda: b.store.users.delete(id))[0]
        for side in (a, b):
            assert side.store.check() == {"ok": True, "problems": []}
    finally:
        a.store.close()
        b.store.close()


def test_a_cursor_of_one_view_tells_nothing_in_another() -> None:
    """A cursor names its view; in another view, or the whole store, it is
    one `QueryError` on `cursor` whose message holds nothing of the records
    it walked."""
    with rosterdb.Store.memory(**CHEAP) as store:
        for t in ("t1", "t2"):
            for name in ("ann", "bob", "cyd"):
                store.scoped(t).users.create({"username": f"{name}-{t}-secret",
                                              "email": f"{name}@{t}.io",
                                              "firstName": "F", "lastName": "L"})
        cursor = store.scoped("t1").users.list(sort="username", page_size=1).next_cursor
        assert cursor is not None
        assert cursor_json(cursor)["after"]["values"]  # the position of ann-t1-secret
        for elsewhere in (store.scoped("t2"), store.scoped("T1"), store):
            try:
                elsewhere.users.list(cursor=cursor)
            except rosterdb.QueryError as e:
                assert e.field == "cursor"
                assert "secret" not in str(e) and "t1" not in str(e)
            else:
                raise AssertionError("accepted")


def test_another_tenants_client_is_as_absent_as_an_unknown_one() -> None:
    """Looking up another tenant's clientId through a view fails exactly as
    an unknown clientId does: the message names the clientId asked for,
    never the record's id (it used to say "client id 1 not found")."""
    with rosterdb.Store.memory(**CHEAP) as store:
        theirs = store.scoped("t2").clients.create({"name": "svc"})
        client_id, secret = theirs["client"]["clientId"], theirs["secret"]
        view = store.scoped("t1")
        with rosterdb.Store.memory(**CHEAP) as empty:
            for call in (lambda v: v.clients.get_by_client_id(client_id),
                         lambda v: v.clients.get(theirs["client"]["id"]),
                         lambda v: v.clients.rotate_secret(theirs["client"]["id"]),
                         lambda v: v.client_login(client_id, secret)):
                got, absent = shown(lambda: call(view)), shown(lambda: call(empty.scoped("t1")))
                assert got == absent
                assert got[0] in ("NotFoundError", "AuthenticationError"), got
        # Whole-store calls are refused in a view, saying nothing of the store.
        for whole in (view.check, view.compact, lambda: view.export_jsonl("x.jsonl"),
                      lambda: view.import_jsonl("x.jsonl")):
            try:
                whole()
            except rosterdb.StorageError as e:
                assert "svc" not in str(e) and client_id not in str(e)
            else:
                raise AssertionError("a whole-store call worked in a view")
        assert store.clients.get_by_client_id(client_id)["id"] == theirs["client"]["id"]
