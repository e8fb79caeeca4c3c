"""A file store keeps a write-ahead log beside it (decision 0018): what a
crash leaves (the store file and its log copied while the store is open)
reopens to every write acknowledged before the copy, from two threads and
a transaction that raised."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import pytest

import rosterdb
from conftest import CHEAP, user


def _log(path: Path) -> Path:
    return path.with_name(path.name + "-wal")


def _crash_copy(path: Path, to: Path) -> None:
    shutil.copyfile(path, to)
    shutil.copyfile(_log(path), _log(to))


def test_two_threads_and_a_raising_transaction_survive_a_crash(
    tmp_path: Path,
) -> None:
    path = tmp_path / "roster.redb"
    s = rosterdb.Store(path, **CHEAP)
    # The store file as its open left it: durable; the log brings the rest.
    base = tmp_path / "base.redb"
    shutil.copyfile(path, base)
    assert _log(path).exists()
    errors: list[BaseException] = []

    def writer(t: int) -> None:
        try:
            for i in range(15):
                u = s.users.create(user(f"t{t}u{i}"))
                s.users.merge(u["id"], {"nickname": f"n{i}"})
                if i % 5 == 0:
                    s.users.delete(u["id"])
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=writer, args=(t,)) for t in range(2)]
    for t in threads:
        t.start()
    with pytest.raises(RuntimeError, match="boom"):
        with s.transaction() as tx:
            tx.roles.create({"name": "never"})
            tx.users.create(user("never"))
            raise RuntimeError("boom")
    with s.transaction() as tx:
        role = tx.roles.create({"name": "staff"})
        tx.users.create(user("kept", roles=[role["id"]]))
    for t in threads:
        t.join()
    assert errors == []
    want = sorted(u["username"] for u in s.users.iter(page_size=100))
    assert len(want) == 2 * 12 + 1

    killed = tmp_path / "killed.redb"
    _crash_copy(path, killed)
    lost = tmp_path / "lost.redb"
    shutil.copyfile(base, lost)
    shutil.copyfile(_log(path), _log(lost))
    for copy in (killed, lost):
        with rosterdb.Store(copy, **CHEAP) as r:
            got = sorted(u["username"] for u in r.users.iter(page_size=100))
            assert got == want, copy
            assert [x["name"] for x in r.roles.iter()] == ["staff"]
            with pytest.raises(rosterdb.NotFoundError):
                r.users.get_by_username("never")
            assert r.check() == {"ok": True, "problems": []}
    s.close()
    # A clean close: the store file alone holds everything.
    _log(path).unlink()
    with rosterdb.Store(path, **CHEAP) as r:
        got = sorted(u["username"] for u in r.users.iter(page_size=100))
        assert got == want


def test_a_second_store_on_the_same_path_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "roster.redb"
    with rosterdb.Store(path, **CHEAP) as s:
        s.users.create(user("ann"))
        before = _log(path).read_bytes()
        with pytest.raises(rosterdb.StoreLockedError):
            rosterdb.Store(path, **CHEAP)
        assert _log(path).read_bytes() == before
        s.users.create(user("bob"))
    with rosterdb.Store(path, **CHEAP) as s:
        assert s.users.count() == 2
