"""list, iter, count, exists and explain with the keyword arguments of
docs/reference/api.md (Python)."""

from __future__ import annotations

from typing import Any

import pytest

import rosterdb
from conftest import user


@pytest.fixture
def people(store: rosterdb.Store) -> rosterdb.Store:
    staff = store.roles.create({"name": "staff"})
    rows = [
        ("ada", "Ada", "Lovelace", True, {"dept": "R&D", "level": 3}),
        ("grace", "Grace", "Hopper", True, {"dept": "Navy", "level": 5}),
        ("alan", "Alan", "Turing", False, {"dept": "R&D", "level": 4}),
        ("edsger", "Edsger", "Dijkstra", True, {"dept": "Math"}),
        ("barbara", "Barbara", "Liskov", True, {"level": 2}),
        ("linus", "Linus", "Torvalds", False, {}),
    ]
    for i, (name, first, last, enabled, attributes) in enumerate(rows):
        store.users.create(user(name, firstName=first, lastName=last, enabled=enabled,
                                attributes=attributes,
                                roles=[staff["id"]] if i % 2 == 0 else []))
    return store


def ids(items: Any) -> list[int]:
    return [doc["id"] for doc in items]


def test_a_page_is_a_sequence_with_total_and_cursor(people: rosterdb.Store) -> None:
    page = people.users.list(page_size=4, with_total=True)
    assert isinstance(page, rosterdb.Page)
    assert len(page) == 4 and ids(page) == [1, 2, 3, 4] and ids(page.items) == [1, 2, 3, 4]
    assert page.total == 6
    assert isinstance(page.next_cursor, str)
    rest = people.users.list(cursor=page.next_cursor)
    assert ids(rest) == [5, 6] and rest.next_cursor is None and rest.total == 6
    assert people.users.list().total is None


def test_where_filters_search_and_sort(people: rosterdb.Store) -> None:
    assert ids(people.users.list(where="enabled = true and attributes.dept = 'r&d'")) == [1]
    assert ids(people.users.list(filters={"enabled": True, "lastName": "like:%o%"})) == [1, 2, 5]
    assert ids(people.users.list(filters={"filter[roles]": 1})) == [1, 3, 5]
    assert ids(people.users.list(search="ED")) == [4]
    by_last = people.users.list(sort="lastName:desc")
    assert [d["lastName"] for d in by_last] == [
        "Turing", "Torvalds", "Lovelace", "Liskov", "Hopper", "Dijkstra"]
    by_level = people.users.list(sort=["attributes.level:desc", "username"])
    assert ids(by_level) == [2, 3, 1, 5, 4, 6]  # absent levels last when descending


def test_list_items_are_one_key_or_field_each(people: rosterdb.Store) -> None:
    # A comma inside an item is an error, not two keys.
    for call in (lambda: people.users.list(sort=["lastName,firstName"]),
                 lambda: list(people.users.iter(sort=["lastName,firstName"]))):
        with pytest.raises(rosterdb.QueryError) as info:
            call()
        assert (info.value.field, info.value.position) == ("sort", 8)
        assert "sort[0] holds a comma" in str(info.value)
    with pytest.raises(rosterdb.QueryError) as info:
        people.users.list(fields=["id", ""])
    assert (info.value.field, info.value.position) == ("fields", 3)
    assert "fields[1] is empty" in str(info.value)
    # The comma string is still a list of keys.
    assert ids(people.users.list(sort="lastName,firstName")) == ids(
        people.users.list(sort=["lastName", "firstName"]))


def test_projection_keeps_id(people: rosterdb.Store) -> None:
    page = people.users.list(fields=["username"], page_size=2)
    assert page.items == [{"id": 1, "username": "ada"}, {"id": 2, "username": "grace"}]
    assert people.users.list(fields="id,email", limit=1).items == [
        {"id": 1, "email": "ada@example.com"}]


def test_paging_styles(people: rosterdb.Store) -> None:
    assert ids(people.users.list(page=2, page_size=4)) == [5, 6]
    assert ids(people.users.list(offset=1, limit=2)) == [2, 3]
    # Every page with more results carries a cursor, whatever style made it.
    assert people.users.list(offset=1, limit=2).next_cursor
    assert people.users.list(page=2, page_size=4).next_cursor is None


def test_iter_walks_every_match(people: rosterdb.Store) -> None:
    walk = people.users.iter(sort="lastName", page_size=2)
    assert iter(walk) is walk
    assert [d["lastName"] for d in walk] == [
        "Dijkstra", "Hopper", "Liskov", "Lovelace", "Torvalds", "Turing"]
    assert ids(people.users.iter(filters={"enabled": "false"})) == [3, 6]
    assert list(people.users.iter(where="username = 'nobody'")) == []


def test_count_exists_explain(people: rosterdb.Store) -> None:
    assert people.users.count() == 6
    assert people.users.count(filters={"enabled": True}) == 4
    assert people.users.count(where="attributes.level > 2") == 3
    assert people.users.exists(search="grace") is True
    assert people.users.exists(where="lastName = 'nobody'") is False
    plan = people.users.explain(filters={"lastName": "hopper"}, sort="lastName")
    assert "Index lookup idx.user.last_name = 'hopper'" in plan
    assert "Filter lastName = 'hopper'" in plan
    assert "Table scan" not in people.users.explain(where="username co 'race'")
    assert people.roles.count() == 1 and people.clients.count() == 0


def test_queries_see_a_transactions_own_writes(people: rosterdb.Store) -> None:
    with people.transaction() as tx:
        tx.users.create(user("zed", lastName="Zuse"))
        assert tx.users.count(filters={"lastName": "zuse"}) == 1
        assert people.users.count(filters={"lastName": "zuse"}) == 0
    assert people.users.count(filters={"lastName": "zuse"}) == 1


@pytest.mark.parametrize(
    "kwargs, field, position",
    [
        ({"where": "nope = 1"}, "nope", 0),
        ({"where": "enabled = 'yes'"}, "enabled", 10),
        ({"where": "username = "}, None, None),
        ({"sort": "roles"}, "sort", None),
        ({"fields": "password"}, "fields", None),
        ({"page_size": 0}, "pageSize", None),
        ({"page_size": 1001}, "pageSize", None),
        ({"page": 1, "offset": 2}, None, None),
        ({"cursor": "not-a-cursor"}, "cursor", None),
        ({"filters": {"passwordHash": "x"}}, "passwordHash", None),
    ],
)
def test_query_errors_name_the_problem(
    people: rosterdb.Store, kwargs: dict[str, Any], field: str | None, position: int | None
) -> None:
    with pytest.raises(rosterdb.QueryError) as info:
        people.users.list(**kwargs)
    assert isinstance(info.value, ValueError)
    if field is not None:
        assert info.value.field == field
    if position is not None:
        assert info.value.position == position


def test_a_cursor_belongs_to_its_collection(people: rosterdb.Store) -> None:
    cursor = people.users.list(page_size=1).next_cursor
    assert cursor
    with pytest.raises(rosterdb.QueryError):
        people.roles.list(cursor=cursor)
    with pytest.raises(rosterdb.QueryError) as info:
        people.users.list(cursor=cursor, where="enabled = true")
    assert info.value.field == "where"


def test_a_cursor_carries_its_query(people: rosterdb.Store) -> None:
    # Issue 10's example: the filter (and with_total) sent again with the cursor.
    p = people.users.list(where="id > 0", page_size=1, with_total=True)
    assert ids(p) == [1] and p.total == 6
    again = people.users.list(cursor=p.next_cursor, where="id > 0")
    assert ids(again) == [2] and again.total == 6
    also = people.users.list(cursor=p.next_cursor, where="id > 0", with_total=True)
    assert ids(also) == [2] and also.total == 6
    # The whole query again, written otherwise, with a new page size.
    query: dict[str, Any] = {"where": "enabled = true", "filters": {"lastName": "like:%o%"},
                             "sort": "lastName", "fields": ["username", "lastName"]}
    first = people.users.list(**query, page_size=1)
    assert first.items == [{"id": 2, "username": "grace", "lastName": "Hopper"}]
    token = first.next_cursor
    same = people.users.list(cursor=token, where="ENABLED=TRUE",
                             filters={"filter[LASTNAME]": "like:%O%"},
                             sort=["lastname:asc", "id"], fields="lastName,id,username,id",
                             page_size=2)
    assert ids(same) == [5, 1] and same.next_cursor is None
    assert same.items == people.users.list(cursor=token, page_size=2).items


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"where": "enabled = false"}, "where"),
        ({"where": "enabled = true and id > 0"}, "where"),
        ({"filters": {"lastName": "like:%x%"}}, "filters"),
        ({"filters": {"lastName": "like:%o%", "enabled": True}}, "filters"),
        ({"sort": "username"}, "sort"),
        ({"sort": "lastName:desc"}, "sort"),
        ({"fields": ["username"]}, "fields"),
        ({"search": "ada"}, "search"),
    ],
)
def test_a_different_part_with_a_cursor_is_named(
    people: rosterdb.Store, kwargs: dict[str, Any], field: str
) -> None:
    token = people.users.list(where="enabled = true", filters={"lastName": "like:%o%"},
                              sort="lastName", fields=["username", "lastName"],
                              page_size=1).next_cursor
    with pytest.raises(rosterdb.QueryError) as info:
        people.users.list(cursor=token, **kwargs)
    assert info.value.field == field
    assert "differs from the query the cursor continues" in str(info.value)


def test_iter_follows_cursors_of_any_query(people: rosterdb.Store) -> None:
    query: dict[str, Any] = {"where": "id > 0", "filters": {"enabled": True},
                             "sort": ["lastName:desc"], "fields": "username"}
    walked = list(people.users.iter(**query, page_size=1))
    assert walked == people.users.list(**query).items
    assert [d["username"] for d in walked] == ["ada", "barbara", "grace", "edsger"]
    with pytest.raises(rosterdb.QueryError) as info:
        list(people.users.iter(page_size=2**64))
    assert info.value.field == "pageSize"
    with pytest.raises(TypeError):
        people.users.iter(page_size=True)


def test_tenants_compare_exactly(store: rosterdb.Store) -> None:
    # Issue 10's example: one alice in `acme`, one in `ACME`.
    store.scoped("acme").users.create(user("alice"))
    store.scoped("ACME").users.create(user("alice"))
    store.users.create(user("bob", tenant="Acme"))
    assert store.scoped("acme").users.count() == 1
    assert store.users.count(filters={"tenant": "acme"}) == 1
    assert store.users.count(filters={"tenant": "in:acme,ACME"}) == 2
    assert ids(store.users.list(filters={"tenant": "like:a%"})) == [1]
    assert ids(store.users.list(where="tenant sw 'A'")) == [2, 3]
    assert ids(store.users.list(where="tenant < 'a'")) == [2, 3]
    assert ids(store.users.list(sort="tenant")) == [2, 3, 1]
    assert store.users.exists(where="tenant = 'aCmE'") is False


@pytest.mark.parametrize(
    "kwargs, field, words",
    [
        ({"page": 0}, "page", "out of range (too small)"),
        ({"page": -1}, "page", "out of range (too small)"),
        ({"page": 2**64}, "page", "out of range (too large)"),
        ({"offset": -1, "limit": 1}, "offset", "out of range (too small)"),
        ({"offset": 2**64}, "offset", "out of range (too large)"),
        ({"limit": 10**30}, "limit", "out of range (too large)"),
        ({"page_size": -5}, "pageSize", "out of range (too small)"),
        ({"filters": {"id": 2**64}}, "id", "18446744073709551616 is out of range (too large)"),
        ({"filters": {"id": "18446744073709551616"}}, "id", "from 0 to 18446744073709551615"),
        ({"filters": {"version": -1}}, "version", "out of range (too small)"),
        ({"where": "id = 18446744073709551616"}, "where", "out of range (too large)"),
        ({"filters": {"attributes.level": "1e999"}}, "attributes.level", "must be finite"),
    ],
)
def test_numbers_out_of_range_are_query_errors(
    people: rosterdb.Store, kwargs: dict[str, Any], field: str, words: str
) -> None:
    with pytest.raises(rosterdb.QueryError) as info:
        people.users.list(**kwargs)
    assert info.value.field == field
    assert words in str(info.value) and "not a number" not in str(info.value)


@pytest.mark.parametrize(
    "kwargs",
    [{"filters": {"enabled": 1.5}}, {"filters": {1: "x"}}, {"sort": 5}, {"fields": ["id", 2]},
     {"where": 5}, {"page_size": "10"}, {"filters": ["enabled"]}],
)
def test_wrong_argument_types(people: rosterdb.Store, kwargs: dict[str, Any]) -> None:
    with pytest.raises(TypeError):
        people.users.list(**kwargs)
