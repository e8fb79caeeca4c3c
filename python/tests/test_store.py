"""Opening, closing and reopening stores."""

from __future__ import annotations

from pathlib import Path

import pytest

import rosterdb
from conftest import CHEAP, user


def test_data_survives_close_and_reopen(path: Path) -> None:
    with rosterdb.Store(path, **CHEAP) as s:
        s.users.create(user("ann", password="correct horse"))
        s.users.create(user("bob"))
        s.users.delete(2)
    with rosterdb.Store(str(path), **CHEAP) as s:
        assert s.users.get_by_username("ann")["hasPassword"] is True
        assert s.users.create(user("cid"))["id"] == 3


def test_close_is_idempotent_and_frees_the_file(path: Path) -> None:
    s = rosterdb.Store(path, **CHEAP)
    s.close()
    s.close()
    with pytest.raises(rosterdb.StorageError):
        s.users.create(user())
    with pytest.raises(rosterdb.StorageError):
        s.transaction().__enter__()
    # The file is free again.
    rosterdb.Store(path, **CHEAP).close()


def test_the_context_manager_closes(path: Path) -> None:
    with rosterdb.Store(path, **CHEAP) as s:
        assert isinstance(s, rosterdb.Store)
    with pytest.raises(rosterdb.StorageError):
        s.users.get(1)


def test_an_empty_file_becomes_a_store(path: Path) -> None:
    path.write_bytes(b"")
    with rosterdb.Store(path, **CHEAP) as s:
        assert s.users.create(user())["id"] == 1


def test_memory_stores_are_independent() -> None:
    a, b = rosterdb.Store.memory(), rosterdb.Store.memory()
    a.users.create(user("ann"))
    with pytest.raises(rosterdb.NotFoundError):
        b.users.get_by_username("ann")


def test_collections_outlive_their_store_object(path: Path) -> None:
    users = rosterdb.Store(path, **CHEAP).users
    assert users.create(user())["id"] == 1
