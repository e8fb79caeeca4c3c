"""Runs the language-neutral query vectors (tests/vectors/queries.json).

Each case's parameter pairs become the keyword arguments of ``list``; a case
that Python's typed keywords cannot express (a name given twice, a page size
that is not a number, a ``withTotal=false`` sent with a cursor) is skipped:
the Rust runner covers those. The steps of ``then`` list with their own
keywords plus ``cursor``, the ``next_cursor`` of the last page listed.
"""

from __future__ import annotations

import json
import re
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


def kwargs_of(case: dict[str, Any], *, step: bool = False) -> Optional[dict[str, Any]]:
    """The keyword arguments of a case (or of a step of its ``then``), or
    None when Python cannot express it."""
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
            # Any int reaches the core, which checks the range.
            if not re.fullmatch(r"-?[0-9]+", value):
                return None
            kwargs[NUMERIC[name]] = int(value)
        elif name in TEXT:
            kwargs[TEXT[name]] = value
        elif name == "withTotal":
            if value not in ("true", "false"):
                return None
            # with_total=False is the default: with a cursor it is not sent,
            # and the cursor's choice holds.
            if step and value == "false":
                return None
            kwargs["with_total"] = value == "true"
        else:
            filters[name] = value
    if filters:
        kwargs["filters"] = filters
    return kwargs


def test_the_vector_file_is_not_empty() -> None:
    assert len(CASES) > 50


def expressible(case: dict[str, Any]) -> bool:
    return kwargs_of(case) is not None and all(
        kwargs_of(step, step=True) is not None for step in case.get("then", [])
    )


def test_most_cases_are_expressible() -> None:
    skipped = [c["name"] for c in CASES if not expressible(c)]
    assert len(skipped) < len(CASES) // 5, skipped


def check_page(page: rosterdb.Page, want: dict[str, Any]) -> None:
    """Checks the ids, items, total and next cursor a case or step expects."""
    if "ids" in want:
        assert [d["id"] for d in page.items] == want["ids"]
    if "items" in want:
        assert page.items == want["items"]
    if "total" in want:
        assert page.total == want["total"]
    if "nextCursor" in want:
        assert (page.next_cursor is not None) == want["nextCursor"]


def follow(collection: Any, page: rosterdb.Page, steps: list[dict[str, Any]]) -> None:
    """Runs the steps of ``then``, each with the cursor of the last page listed."""
    cursor = page.next_cursor
    for n, step in enumerate(steps, 1):
        kwargs = kwargs_of(step, step=True)
        assert kwargs is not None
        assert cursor is not None, f"step {n}: the page before has no next_cursor"
        if "error" in step:
            assert step["error"] == "InvalidQuery"
            with pytest.raises(rosterdb.QueryError) as info:
                collection.list(**kwargs, cursor=cursor)
            if "errorField" in step:
                assert info.value.field == step["errorField"], f"step {n}"
            if "errorPosition" in step:
                assert info.value.position == step["errorPosition"], f"step {n}"
            continue
        page = collection.list(**kwargs, cursor=cursor)
        check_page(page, step)
        cursor = page.next_cursor


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_query_vector(store: rosterdb.Store, case: dict[str, Any]) -> None:
    kwargs = kwargs_of(case)
    if kwargs is None or not expressible(case):
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
    check_page(page, case)
    if "then" in case:
        follow(collection, page, case["then"])
