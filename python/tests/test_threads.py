"""Threads share a store; calls that touch the file release the GIL."""

from __future__ import annotations

import threading
import time

import rosterdb
from conftest import user


def test_four_readers_while_one_writes(cheap_store: rosterdb.Store) -> None:
    seed = cheap_store.users.create(user("seed"))
    stop = threading.Event()
    errors: list[BaseException] = []
    reads = [0] * 4

    def reader(slot: int) -> None:
        try:
            while not stop.is_set():
                assert cheap_store.users.get(seed["id"]) == seed
                seqs = [c["seq"] for c in cheap_store.changes(limit=1000)]
                assert seqs == list(range(1, len(seqs) + 1))
                reads[slot] += 1
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    def writer() -> None:
        try:
            for i in range(100):
                cheap_store.users.create(user(f"w{i}"))
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    readers = [threading.Thread(target=reader, args=(i,)) for i in range(4)]
    w = threading.Thread(target=writer)
    for t in readers:
        t.start()
    w.start()
    w.join()
    stop.set()
    for t in readers:
        t.join()
    assert errors == []
    assert all(n > 0 for n in reads)
    assert len(cheap_store.changes(limit=1000)) == 101


def test_a_blocked_call_releases_the_gil(cheap_store: rosterdb.Store) -> None:
    """A write waiting for another thread's transaction must not hold the
    GIL, or the transaction's thread could never run to finish it."""
    entered = threading.Event()
    release = threading.Event()
    results: list[object] = []

    def holder() -> None:
        with cheap_store.transaction() as tx:
            tx.users.create(user("first"))
            entered.set()
            release.wait(60)  # Python code that needs the GIL to run

    def waiter() -> None:
        entered.wait(60)
        # Blocks inside the extension until `holder` commits.
        results.append(cheap_store.users.create(user("second"))["id"])

    threads = [threading.Thread(target=holder), threading.Thread(target=waiter)]
    for t in threads:
        t.start()
    entered.wait(60)
    time.sleep(0.05)  # let `waiter` reach the blocking call (not needed for correctness)
    release.set()
    for t in threads:
        t.join(60)
    assert not any(t.is_alive() for t in threads), "deadlock: the GIL was held while blocked"
    assert results == [2]
