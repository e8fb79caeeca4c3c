"""`with store.transaction() as tx:` commits all or nothing."""

from __future__ import annotations

import threading

import pytest

import rosterdb
from conftest import user


def test_a_block_commits_together(store: rosterdb.Store) -> None:
    with store.transaction() as tx:
        role = tx.roles.create({"name": "staff"})
        u = tx.users.create(user("ann", roles=[role["id"]]))
        # Reads inside see the transaction's own writes.
        assert tx.users.get_by_username("ANN")["roles"] == [role["id"]]
        assert [c["op"] for c in tx.changes()] == ["create", "create"]
    assert store.users.get(u["id"]) == u
    assert len(store.changes()) == 2


def test_an_exception_rolls_everything_back(store: rosterdb.Store) -> None:
    with pytest.raises(RuntimeError, match="boom"):
        with store.transaction() as tx:
            tx.roles.create({"name": "staff"})
            tx.users.create(user("ann"))
            raise RuntimeError("boom")
    with pytest.raises(rosterdb.NotFoundError):
        store.users.get_by_username("ann")
    with pytest.raises(rosterdb.NotFoundError):
        store.roles.get(1)
    assert store.changes() == []
    # The ids of the rolled-back records were never handed out.
    assert store.roles.create({"name": "staff"})["id"] == 1


def test_a_failed_operation_leaves_no_trace_and_the_block_goes_on(
    store: rosterdb.Store,
) -> None:
    with store.transaction() as tx:
        tx.users.create(user("ann"))
        with pytest.raises(rosterdb.ConflictError):
            tx.users.create(user("ann"))
        with pytest.raises(rosterdb.ValidationError):
            tx.users.create(user("bob", roles=[5]))
        bob = tx.users.create(user("bob"))
    assert bob["id"] == 2
    assert [c["id"] for c in store.changes()] == [1, 2]


def test_a_store_write_inside_the_block_is_refused_not_deadlocked(
    store: rosterdb.Store,
) -> None:
    with store.transaction() as tx:
        tx.users.create(user("ann"))
        with pytest.raises(rosterdb.BusyError, match="transaction is open"):
            store.users.create(user("bob"))
        # Reads through the store see the last commit, not the open block.
        with pytest.raises(rosterdb.NotFoundError):
            store.users.get_by_username("ann")
    assert store.users.get_by_username("ann")["id"] == 1


def test_a_transaction_outside_its_block_refuses_calls(store: rosterdb.Store) -> None:
    tx = store.transaction()
    with pytest.raises(rosterdb.ClosedError, match="not begun"):
        tx.users.create(user())
    with tx:
        tx.users.create(user())
    with pytest.raises(rosterdb.ClosedError, match="finished"):
        tx.users.get(1)
    with pytest.raises(rosterdb.BusyError, match="only once"):
        with tx:
            pass


def test_closing_the_store_inside_a_block_rolls_it_back(store: rosterdb.Store) -> None:
    with pytest.raises(rosterdb.ClosedError, match="the store is closed"):
        with store.transaction() as tx:
            tx.users.create(user())
            store.close()
            tx.users.create(user())
    # Leaving the block normally after the close rolls back too, and says so.
    with rosterdb.Store.memory() as other:
        with pytest.raises(rosterdb.ClosedError, match="rolled back"):
            with other.transaction() as tx:
                tx.users.create(user())
                other.close()


def test_transactions_of_two_threads_take_turns(cheap_store: rosterdb.Store) -> None:
    errors: list[BaseException] = []

    def work(prefix: str) -> None:
        try:
            for i in range(20):
                with cheap_store.transaction() as tx:
                    tx.users.create(user(f"{prefix}{i}a"))
                    tx.users.create(user(f"{prefix}{i}b"))
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(p,)) for p in ("x", "y")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    changes = cheap_store.changes(limit=1000)
    assert len(changes) == 80
    # Each transaction's two creates are adjacent in the log.
    names = [cheap_store.users.get(c["id"])["username"] for c in changes]
    assert all(names[i][:-1] == names[i + 1][:-1] for i in range(0, 80, 2))
