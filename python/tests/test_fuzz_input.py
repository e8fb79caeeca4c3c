"""Random Python values into every document and query call (docs/reference/errors.md).

Whatever goes in, what comes out is a result, a :class:`rosterdb.RosterError`,
or a ``TypeError`` when (and only when) a top-level argument has the wrong
Python type: never ``OverflowError``, ``RecursionError``,
``UnicodeEncodeError``, ``SystemError``, a bare ``ValueError``, a panic or a
crash. A fixed seed keeps every run the same; the store stays consistent.
"""

from __future__ import annotations

import datetime
import decimal
import math
import random
from typing import Any, Callable

import pytest

import rosterdb
from conftest import CHEAP, PASSWORD, assert_consistent, user

SEED = 20261201
CASES = 3000

SCALARS: list[Any] = [
    None, True, False, 0, 1, -1, 7, 2**31, 2**53 - 1, 2**53, 2**63, 2**64 - 1, 2**64,
    -(2**63) - 1, 10**30, -(10**30), 10**5000, 0.0, -0.0, 1.5, 1e308, math.nan, math.inf,
    -math.inf, "", "x", "ann", "ann@example.com", "in:a,b", "like:a%", "true", "\x00", "é",
    "\ud800", "a\udcff", "\U0001f600", "x" * 300, b"bytes", bytearray(b"x"), {1, 2},
    frozenset(), object(), decimal.Decimal("1.5"), datetime.date(2026, 1, 1), 1j, range(2),
]
KEYS: list[Any] = [
    "username", "email", "firstName", "lastName", "nickname", "tenant", "enabled", "roles",
    "externalIds", "attributes", "password", "passwordHash", "name", "description",
    "externalId", "permissions", "ipAllowlist", "id", "version", "createdAt", "type", "value",
    "x", "", "\ud800", 1, None, (1, 2), 1.5, True,
]
FIELDS = ["id", "username", "email", "lastName", "enabled", "roles", "createdAt",
          "attributes.x", "name", "nickname", "\ud800", "nope", "password"]
PATHS: list[Any] = ["/attributes/x", "/attributes", "/nickname", "/roles/0", "/roles/-",
                    "/id", "/password", "/", "", "attributes", "/externalIds/0/type",
                    "/a~1b", "/\ud800", 5, None, math.nan]
OPS: list[Any] = ["add", "remove", "replace", "move", "copy", "test", "nope", "\ud800", 1, None]


class Gen:
    """Random Python values, mostly shallow, some absurd."""

    def __init__(self, seed: int) -> None:
        self.r = random.Random(seed)

    def chance(self, p: float) -> bool:
        return self.r.random() < p

    def pick(self, items: list[Any]) -> Any:
        return items[self.r.randrange(len(items))]

    def value(self, depth: int = 0) -> Any:
        if self.chance(0.01):
            deep: Any = self.pick(SCALARS)
            for _ in range(self.pick([33, 65, 1000, 100_000])):
                deep = [deep] if self.chance(0.5) else {"k": deep}
            return deep
        if depth > 3 or self.chance(0.6):
            return self.pick(SCALARS)
        kind = self.r.randrange(3)
        if kind == 0:
            return {self.pick(KEYS): self.value(depth + 1) for _ in range(self.r.randrange(4))}
        items = [self.value(depth + 1) for _ in range(self.r.randrange(4))]
        return items if kind == 1 else tuple(items)

    def document(self) -> Any:
        if self.chance(0.05):
            return self.value()
        doc: dict[Any, Any] = user() if self.chance(0.5) else {}
        for _ in range(self.r.randrange(4)):
            doc[self.pick(KEYS)] = self.value(1)
        return doc

    def op(self) -> Any:
        if self.chance(0.05):
            return self.value()
        op: dict[Any, Any] = {"op": self.pick(OPS), "path": self.pick(PATHS)}
        if self.chance(0.8):
            op["value"] = self.value(1)
        if self.chance(0.2):
            op["from"] = self.pick(PATHS)
        if self.chance(0.1):
            op[self.pick(KEYS)] = self.value(1)
        return op

    def ops(self) -> Any:
        if self.chance(0.05):
            return self.value()
        return [self.op() for _ in range(self.r.randrange(4))]

    def text(self) -> Any:
        if self.chance(0.1):
            return self.value()
        words = ["username", "=", "'ann'", "and", "or", "not", "(", ")", "in", "like",
                 "attributes.x", "1", "\ud800", "'\udcff'", "pr", "createdAt", ">=", "'2026'"]
        return " ".join(self.pick(words) for _ in range(self.r.randrange(6)))

    def names(self) -> Any:
        if self.chance(0.3):
            return [self.pick(FIELDS) for _ in range(self.r.randrange(3))]
        if self.chance(0.2):
            return self.value()
        return ",".join(self.pick(FIELDS) for _ in range(self.r.randrange(3)))

    def filters(self) -> Any:
        if self.chance(0.1):
            return self.value()
        values = ["true", "in:1,2", "like:a", "ann", "gt:2026-01-01", "\ud800", 1, True, 2**64,
                  10**5000, 1.5, None]
        return {self.pick(FIELDS + [1]): self.pick(values) for _ in range(self.r.randrange(3))}

    def number(self) -> Any:
        return self.pick([None, 0, 1, 5, 1000, 1001, -1, 2**64, 10**5000, 1.0, math.nan, True,
                          "1"])

    def query(self, paging: bool) -> dict[str, Any]:
        makers: dict[str, Callable[[], Any]] = {
            "where": self.text, "search": self.text, "filters": self.filters,
        }
        if paging:
            makers.update(sort=self.names, fields=self.names, page=self.number,
                          page_size=self.number, offset=self.number, limit=self.number,
                          cursor=self.text,
                          with_total=lambda: self.pick([True, False, 1, None]))
        return {k: make() for k, make in makers.items() if self.chance(0.3)}


def is_str_list(v: Any) -> bool:
    return isinstance(v, str) or (
        isinstance(v, list) and all(isinstance(x, str) for x in v)
    )


def query_types_ok(kwargs: dict[str, Any]) -> bool:
    """Whether every query argument has a type the stubs allow."""
    for k, v in kwargs.items():
        if v is None and k != "with_total":
            continue
        if k in ("where", "search", "cursor") and not isinstance(v, str):
            return False
        if k in ("sort", "fields") and not is_str_list(v):
            return False
        if k in ("page", "page_size", "offset", "limit") and (
            isinstance(v, bool) or not isinstance(v, int)
        ):
            return False
        if k == "with_total" and not isinstance(v, bool):
            return False
        if k == "filters" and not (
            isinstance(v, dict)
            and all(isinstance(n, str) for n in v)
            and all(isinstance(x, (str, int)) for x in v.values())
        ):
            return False
    return True


def test_random_input_is_a_result_or_a_typed_error() -> None:
    g = Gen(SEED)
    seen: dict[str, int] = {}
    with rosterdb.Store.memory(**CHEAP) as store:
        role = store.roles.create({"name": "base"})
        store.users.create(user("ann", password=PASSWORD, roles=[role["id"]]))
        store.clients.create({"name": "c"})
        collections = [store.users, store.roles, store.clients]
        for case in range(CASES):
            c = g.pick(collections)
            what = g.r.randrange(6)
            call: Callable[[], Any]
            if what == 0:
                doc = g.document()
                call, types_ok = (lambda: c.create(doc)), isinstance(doc, dict)
            elif what == 1:
                ops = g.ops()
                call, types_ok = (lambda: c.patch(1, ops)), isinstance(ops, list)
            elif what == 2:
                partial = g.document()
                call, types_ok = (lambda: c.merge(1, partial)), isinstance(partial, dict)
            elif what == 3:
                doc = g.document()
                call, types_ok = (lambda: c.replace(1, doc)), isinstance(doc, dict)
            elif what == 4:
                kwargs = g.query(paging=True)
                call, types_ok = (lambda: c.list(**kwargs)), query_types_ok(kwargs)
            else:
                kwargs = g.query(paging=False)
                call, types_ok = (lambda: c.count(**kwargs)), query_types_ok(kwargs)
            try:
                call()
                outcome = "ok"
            except rosterdb.RosterError as e:
                outcome = type(e).__name__
            except TypeError as e:
                if types_ok:
                    pytest.fail(f"case {case}: TypeError with arguments of the right types: {e}")
                outcome = "TypeError"
            except BaseException as e:  # noqa: BLE001 - the point of the test
                pytest.fail(f"case {case}: {type(e).__name__}: {str(e)[:200]}")
            seen[outcome] = seen.get(outcome, 0) + 1
        assert_consistent(store)
    # The generator reaches every outcome a bad input can have.
    for outcome in ("ok", "TypeError", "ValidationError", "PatchError", "QueryError"):
        assert seen.get(outcome, 0) > 0, seen
