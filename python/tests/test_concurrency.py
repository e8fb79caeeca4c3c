"""Reader and writer threads on one file store through the Python API.

The extension releases the GIL inside every call that touches the store
(``py.detach`` in python/src), so these threads really run store calls at
the same time. The properties are the Rust ones (core/tests/
concurrency_tests.rs): a multi-record transaction is seen whole or not at
all, nothing deadlocks (every thread is joined under a deadline), no update
is lost under ``expected_version``, and page walks during writes never
repeat a record nor skip one that lasts.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from typing import Callable

import pytest

import rosterdb
from conftest import user

#: How long a test's threads may run before the test calls it a deadlock.
#: Nothing asserts on speed: this only turns a hang into a failure.
WATCHDOG = 60.0

#: Users per batch: created with their role in one transaction, deleted with it in another.
BATCH = 4


def run_threads(targets: list[Callable[[], None]]) -> None:
    """Runs each target on its own thread; fails on a thread still alive
    after the watchdog (a deadlock) and re-raises the first error."""
    errors: list[BaseException] = []

    def guarded(target: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            try:
                target()
            except BaseException as e:  # noqa: BLE001 - re-raised below
                errors.append(e)

        return run

    threads = [threading.Thread(target=guarded(t), daemon=True) for t in targets]
    for t in threads:
        t.start()
    deadline = time.monotonic() + WATCHDOG
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()))
    stuck = [i for i, t in enumerate(threads) if t.is_alive()]
    assert stuck == [], f"deadlock: threads {stuck} still running after {WATCHDOG} s"
    if errors:
        raise errors[0]


def create_batch(store: rosterdb.Store, k: int) -> tuple[int, list[int]]:
    with store.transaction() as tx:
        role = tx.roles.create({"name": f"batch-{k}"})
        ids = [
            tx.users.create(user(f"b{k}-{j}", lastName=f"B{k}", roles=[role["id"]]))["id"]
            for j in range(BATCH)
        ]
    return role["id"], ids


def test_a_transaction_is_seen_whole_or_not_at_all(cheap_store: rosterdb.Store) -> None:
    store = cheap_store
    writers_left = [2]
    lock = threading.Lock()
    done = threading.Event()
    snapshots = [0]

    def writer(w: int) -> None:
        mine: list[tuple[int, list[int]]] = []
        for i in range(12):
            mine.append(create_batch(store, w * 100 + i))
            if i % 3 == 2:
                role, ids = mine.pop(0)
                with store.transaction() as tx:
                    for u in ids:
                        tx.users.delete(u)
                    tx.roles.delete(role)
        with lock:
            writers_left[0] -= 1
            if writers_left[0] == 0:
                done.set()

    def reader() -> None:
        where = "lastName like 'B%'"
        while True:
            last = done.is_set()
            # One call is one snapshot: whole batches only.
            count = store.users.count(where=where)
            assert count % BATCH == 0, f"count saw a batch in part: {count}"
            sizes = Counter(u["lastName"] for u in store.users.list(where=where, page_size=1000))
            assert all(n == BATCH for n in sizes.values()), f"list saw a batch in part: {sizes}"
            # A transaction's reads share one snapshot: users and roles agree.
            with store.transaction() as tx:
                users = Counter(u["lastName"][1:] for u in tx.users.iter(where=where, page_size=3))
                roles = {r["name"][len("batch-") :] for r in tx.roles.iter(where="name like 'batch-%'")}
                assert tx.users.count(where=where) == sum(users.values())
            assert all(n == BATCH for n in users.values()), users
            assert set(users) == roles, (users, roles)
            snapshots[0] += 1
            if last:
                # 2 writers × (12 created − 4 deleted).
                assert len(roles) == 16
                return

    run_threads([lambda: writer(0), lambda: writer(1), reader, reader])
    assert snapshots[0] >= 2


def test_optimistic_increments_lose_no_update(cheap_store: rosterdb.Store) -> None:
    store = cheap_store
    counter = store.users.create(user("counter", attributes={"count": 0}))
    threads, each = 4, 15
    conflicts = [0]

    def increment() -> None:
        for _ in range(each):
            while True:
                now = store.users.get(counter["id"])
                nxt = {"attributes": {"count": now["attributes"]["count"] + 1}}
                try:
                    after = store.users.merge(counter["id"], nxt, expected_version=now["version"])
                except rosterdb.VersionConflictError as e:
                    assert e.expected == now["version"] and e.actual > e.expected
                    conflicts[0] += 1
                    continue
                assert after["version"] == now["version"] + 1
                break

    run_threads([increment] * threads)
    last = store.users.get(counter["id"])
    assert last["attributes"]["count"] == threads * each
    assert last["version"] == 1 + threads * each
    updates = [c for c in store.changes(limit=1000) if c["id"] == counter["id"] and c["op"] == "update"]
    assert len(updates) == threads * each


def test_an_open_transaction_blocks_writers_but_not_readers(cheap_store: rosterdb.Store) -> None:
    """The writers wait inside the extension for the open transaction; were
    the GIL held while they wait, neither the reader nor the holder (Python
    code) could run and the watchdog would report a deadlock."""
    store = cheap_store
    store.users.create(user("first"))
    opened = threading.Event()
    release = threading.Event()
    read_while_open: list[int] = []

    def holder() -> None:
        with store.transaction() as tx:
            tx.users.create(user("held"))
            opened.set()
            assert release.wait(WATCHDOG)

    def writer(w: int) -> None:
        assert opened.wait(WATCHDOG)
        for i in range(3):
            store.users.create(user(f"w{w}-{i}"))

    def reader() -> None:
        assert opened.wait(WATCHDOG)
        # Reads run while the transaction is open, and do not see it.
        for _ in range(5):
            read_while_open.append(store.users.count())
        release.set()

    run_threads([holder, lambda: writer(0), lambda: writer(1), reader])
    assert read_while_open[0] == 1
    assert store.users.count() == 1 + 1 + 6
    assert store.users.get_by_username("held")["username"] == "held"


@pytest.mark.parametrize("sort", [None, "lastName"])
def test_page_walks_during_writes_never_repeat_or_skip_a_lasting_user(
    cheap_store: rosterdb.Store, sort: str | None
) -> None:
    store = cheap_store
    with store.transaction() as tx:
        lasting = {tx.users.create(user(f"s{i:02}", lastName=f"S{i % 7}"))["id"] for i in range(40)}
    stable = sorted(lasting)
    stop = threading.Event()
    walks = [0]

    def writer(w: int) -> None:
        mine: list[int] = []
        for i in range(25):
            mine.append(store.users.create(user(f"n{w}-{i}", lastName=["A", "S3", "Z"][i % 3]))["id"])
            store.users.merge(stable[(i * 7 + w) % len(stable)], {"attributes": {"touched": i}})
            if i % 2:
                store.users.delete(mine.pop(0))
        stop.set()

    def walker() -> None:
        while True:
            last = stop.is_set()
            seen: list[int] = []
            keys: list[tuple[str, int]] = []
            for u in store.users.iter(sort=sort, page_size=5):
                seen.append(u["id"])
                keys.append((u["lastName"] if sort else "", u["id"]))
            assert len(seen) == len(set(seen)), f"a walk repeated users: {Counter(seen).most_common(3)}"
            assert keys == sorted(keys), "a walk went back"
            missing = lasting - set(seen)
            assert not missing, f"a walk skipped lasting users {sorted(missing)}"
            walks[0] += 1
            if last:
                return

    run_threads([lambda: writer(0), lambda: writer(1), walker])
    assert walks[0] >= 2
