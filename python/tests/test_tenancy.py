"""store.scoped(tenant): the whole API, one tenant (docs/reference/tenancy.md)."""

from __future__ import annotations

from typing import Any, Callable

import pytest

import rosterdb
from conftest import user


@pytest.fixture
def tenants(store: rosterdb.Store) -> tuple[rosterdb.Store, int, int]:
    acme, globex = store.scoped("acme"), store.scoped("globex")
    a = acme.users.create(user("ann", externalIds=[{"type": "gh", "value": "1"}]))
    g = globex.users.create(user("ann", externalIds=[{"type": "gh", "value": "1"}]))
    return store, a["id"], g["id"]


def test_a_view_is_a_store_of_one_tenant(tenants: tuple[rosterdb.Store, int, int]) -> None:
    store, a, g = tenants
    acme = store.scoped("acme")
    assert isinstance(acme, rosterdb.Store)
    assert acme.tenant == "acme" and store.tenant is None
    assert acme.users.get(a)["tenant"] == "acme"
    assert acme.users.get_by_username("ANN")["id"] == a
    assert acme.users.get_by_email("ann@example.com", tenant="globex")["id"] == a
    assert acme.users.get_by_external_id("gh", "1")["id"] == a
    assert [u["id"] for u in acme.users.list()] == [a]
    assert acme.users.count() == 1 and store.users.count() == 2
    assert [c["id"] for c in acme.changes()] == [a]


@pytest.mark.parametrize(
    "call",
    [
        lambda v, g: v.users.get(g),
        lambda v, g: v.users.delete(g),
        lambda v, g: v.users.patch(g, [{"op": "replace", "path": "/lastName", "value": "X"}]),
        lambda v, g: v.users.merge(g, {"lastName": "X"}, expected_version=7),
        lambda v, g: v.users.replace(g, user("x")),
    ],
)
def test_other_tenants_records_are_not_found(
    tenants: tuple[rosterdb.Store, int, int], call: Callable[[rosterdb.Store, int], Any]
) -> None:
    store, _, g = tenants
    with pytest.raises(rosterdb.NotFoundError):
        call(store.scoped("acme"), g)
    assert store.users.get(g)["version"] == 1


def test_creates_and_transactions_take_the_tenant(store: rosterdb.Store) -> None:
    acme = store.scoped("acme")
    with acme.transaction() as tx:
        role = tx.roles.create({"name": "staff"})
        tx.users.create(user("bob", roles=[role["id"]]))
        assert tx.users.count() == 1
    assert store.users.get_by_username("bob", tenant="acme")["roles"] == [role["id"]]
    with pytest.raises(rosterdb.ValidationError) as info:
        acme.users.create(user("cid", tenant="globex"))
    assert info.value.errors[0]["field"] == "tenant"
    # The view's tenant rule and the document's own problems come together.
    with pytest.raises(rosterdb.ValidationError) as info:
        acme.users.create(user("cid", tenant="globex", email="not an email"))
    assert sorted(e["field"] for e in info.value.errors) == ["email", "tenant"]
    assert acme.users.count() == 1
    with pytest.raises(rosterdb.ValidationError):
        store.scoped("not a tenant!")


def test_cursors_belong_to_their_view(tenants: tuple[rosterdb.Store, int, int]) -> None:
    store, _, _ = tenants
    globex = store.scoped("globex")
    for i in range(3):
        globex.users.create(user(f"g{i}"))
    cursor = globex.users.list(page_size=1).next_cursor
    assert cursor
    with pytest.raises(rosterdb.QueryError):
        store.scoped("acme").users.list(cursor=cursor)
    assert len(globex.users.list(cursor=cursor)) == 1
