"""Store-level writes from several threads share write groups (decision
0016) while other threads hold `store.transaction()` blocks: every block
commits all of its writes together and adjacently in the change log, refused
grouped writes (taken names, stale versions) leave no trace, and sequence
numbers and ids come out unique and in commit order."""

from __future__ import annotations

import threading
from typing import Any

import rosterdb
from conftest import user


def test_grouped_writers_and_held_transactions_mix(
    cheap_store: rosterdb.Store,
) -> None:
    s = cheap_store
    shared = s.users.create(user("shared"))
    errors: list[BaseException] = []
    done: list[tuple[int, str, int]] = [(shared["id"], "create", 1)]
    lock = threading.Lock()
    start = threading.Barrier(8)

    def note(entry: tuple[int, str, int]) -> None:
        with lock:
            done.append(entry)

    def grouped(t: int) -> None:
        try:
            start.wait()
            for i in range(25):
                u = s.users.create(user(f"g{t}x{i}"))
                note((u["id"], "create", 1))
                try:
                    won = s.users.create(user(f"taken{i}"))
                    note((won["id"], "create", 1))
                except rosterdb.ConflictError:
                    pass
                seen = s.users.get(shared["id"])["version"]
                try:
                    p = s.users.patch(
                        shared["id"],
                        [{"op": "replace", "path": "/lastName", "value": f"L{t}x{i}"}],
                        expected_version=seen,
                    )
                    note((shared["id"], "update", p["version"]))
                except rosterdb.VersionConflictError:
                    pass
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    def held(t: int) -> None:
        try:
            start.wait()
            for i in range(10):
                with s.transaction() as tx:
                    a = tx.users.create(user(f"h{t}x{i}a"))
                    try:
                        tx.users.create(user(f"taken{i}"))
                    except rosterdb.ConflictError:
                        pass
                    else:
                        raise AssertionError("a grouped writer took it first")
                    b = tx.users.create(user(f"h{t}x{i}b"))
                note((a["id"], "create", 1))
                note((b["id"], "create", 1))
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    # The held blocks try names the grouped writers take in their first
    # rounds: let those go first.
    for i in range(10):
        s.users.create(user(f"taken{i}"))
    done.extend((c["id"], "create", 1) for c in s.changes(after=1, limit=100))
    threads = [threading.Thread(target=grouped, args=(t,)) for t in range(6)]
    threads += [threading.Thread(target=held, args=(t,)) for t in range(2)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []

    log: list[dict[str, Any]] = []
    while True:
        batch = s.changes(after=log[-1]["seq"] if log else 0, limit=1000)
        if not batch:
            break
        log.extend(batch)
    assert [c["seq"] for c in log] == list(range(1, len(log) + 1))
    assert sorted((c["id"], c["op"], c["version"]) for c in log) == sorted(done)
    creates = [c["id"] for c in log if c["op"] == "create"]
    assert creates == list(range(1, len(creates) + 1)), "ids in commit order"
    # Each block's two creates are adjacent in the log.
    names = [s.users.get(c["id"])["username"] for c in log if c["op"] == "create"]
    for n, name in enumerate(names):
        if name.startswith("h") and name.endswith("a"):
            assert names[n + 1] == name[:-1] + "b"
    assert s.check()["ok"]
