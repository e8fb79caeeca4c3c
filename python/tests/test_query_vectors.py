"""Runs the language-neutral query vectors (tests/vectors/queries.json).

Each case's parameter pairs become the keyword arguments of ``list``; a case
that Python's typed keywords cannot express (a name given twice, a page size
that is not a number, a negative offset) is skipped: the Rust runner covers
those.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Optional

import pytest

import rosterdb

VECTORS = Path(__file__).resolve().parents[2] / "tests" / "vectors" / "queries.json"
DATA = json.loads(VECTORS.read_text(encoding="utf-8"))
CASES = DATA["cases"]
NUMERIC = {"page": "page", "pageSize": "page_size", "offset": "offset", "limit": "limit"}
TEXT = {"cursor": "cursor", "sort": "sort", "fields": "fields", "search": "search", "where": "where"}


@pytest.fixture(scope="module")
def store() -> rosterdb.Store:
    s = rosterdb.Store.memory()
    population = DATA["population"]
    for doc in population.get("roles", []):
        s.roles.create(doc)
    for doc in population.get("users", []):
        s.users.create(doc)
    for doc in population.get("clients", []):
        s.clients.create(doc)
    return s


def kwargs_of(case: dict[str, Any]) -> Optional[dict[str, Any]]:
    """The keyword arguments of a case, or None when Python cannot express it."""
    kwargs: dict[str, Any] = {}
    filters: dict[str, str] = {}
    seen: set[str] = set()
    if "where" in case:
        kwargs["where"] = case["where"]
        seen.add("where")
    for name, value in case.get("params", []):
        if name in seen:
            return None
        seen.add(name)
        if name in NUMERIC:
            if not value.isdigit():
                return None
            kwargs[NUMERIC[name]] = int(value)
        elif name in TEXT:
            kwargs[TEXT[name]] = value
        elif name == "withTotal":
            if value not in ("true", "false"):
                return None
            kwargs["with_total"] = value == "true"
        else:
            filters[name] = value
    if filters:
        kwargs["filters"] = filters
    return kwargs


def test_the_vector_file_is_not_empty() -> None:
    assert len(CASES) > 50


def test_most_cases_are_expressible() -> None:
    skipped = [c["name"] for c in CASES if kwargs_of(c) is None]
    assert len(skipped) < len(CASES) // 5, skipped


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_query_vector(store: rosterdb.Store, case: dict[str, Any]) -> None:
    kwargs = kwargs_of(case)
    if kwargs is None:
        pytest.skip("not expressible through Python's typed keyword arguments")
    collection = {"user": store.users, "role": store.roles, "client": store.clients}[case["entity"]]
    if "error" in case:
        assert case["error"] == "InvalidQuery"
        with pytest.raises(rosterdb.QueryError) as info:
            collection.list(**kwargs)
        if "errorField" in case:
            assert info.value.field == case["errorField"]
        if "errorPosition" in case:
            assert info.value.position == case["errorPosition"]
        return
    if "count" in case:
        counted = {k: v for k, v in kwargs.items() if k in ("where", "search", "filters")}
        assert collection.count(**counted) == case["count"]
        assert collection.exists(**counted) == (case["count"] > 0)
    if "pages" in case:
        pages = []
        page = collection.list(**kwargs)
        while True:
            pages.append([d["id"] for d in page.items])
            if page.next_cursor is None:
                break
            page = collection.list(cursor=page.next_cursor)
        assert pages == case["pages"]
        return
    page = collection.list(**kwargs)
    if "ids" in case:
        assert [d["id"] for d in page.items] == case["ids"]
    if "items" in case:
        assert page.items == case["items"]
    if "total" in case:
        assert page.total == case["total"]
    if "nextCursor" in case:
        assert (page.next_cursor is not None) == case["nextCursor"]
