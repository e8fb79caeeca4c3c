"""Fixtures shared by the rosterdb Python tests."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

import rosterdb

#: Argon2 parameters that make hashing cheap; tests only.
CHEAP = {"argon2_memory_kib": 8, "argon2_iterations": 1, "argon2_parallelism": 1}

#: The password the credential tests give their users.
PASSWORD = "correct horse battery staple"

_names = itertools.count()


def assert_consistent(store: rosterdb.Store) -> None:
    """Every scenario ends with a store whose indexes match its records."""
    try:
        report = store.check()
    except rosterdb.StorageError:
        return  # the test closed the store
    assert report == {"ok": True, "problems": []}, report


@pytest.fixture
def store() -> Iterator[rosterdb.Store]:
    """A fresh in-memory store, checked after the test."""
    with rosterdb.Store.memory() as s:
        yield s
        assert_consistent(s)


@pytest.fixture
def mem() -> Iterator[rosterdb.Store]:
    """A fresh in-memory store with cheap hashing and a lockout after 3
    failures, checked after the test."""
    with rosterdb.Store.memory(lockout_threshold=3, **CHEAP) as s:
        yield s
        assert_consistent(s)


@pytest.fixture
def path(tmp_path: Path) -> Path:
    """Where a file store may be created."""
    return tmp_path / "roster.redb"


@pytest.fixture
def cheap_store(path: Path) -> Iterator[rosterdb.Store]:
    """A fresh file store with cheap password hashing."""
    with rosterdb.Store(path, **CHEAP) as s:
        yield s
        assert_consistent(s)


def user(name: str | None = None, **fields: Any) -> dict[str, Any]:
    """A valid user document; `name` defaults to a fresh unique one."""
    name = name or f"user{next(_names)}"
    doc: dict[str, Any] = {
        "username": name,
        "email": f"{name}@example.com",
        "firstName": "First",
        "lastName": "Last",
    }
    doc.update(fields)
    return doc


@pytest.fixture
def make_user() -> Callable[..., dict[str, Any]]:
    return user
