"""export_jsonl, import_jsonl, check and compact
(docs/reference/changes-and-export.md, docs/reference/api.md)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import rosterdb
from conftest import CHEAP, user


def fill(store: rosterdb.Store) -> None:
    staff = store.roles.create({"name": "staff"})
    store.users.create(user("ann", roles=[staff["id"]], password="correct horse battery",
                            attributes={"big": 2**60, "x": [1, None]}))
    store.scoped("acme").users.create(user("bob"))
    store.clients.create({"name": "svc", "roles": [staff["id"]]})


def test_a_round_trip_is_identical(tmp_path: Path) -> None:
    with rosterdb.Store(tmp_path / "a.redb", **CHEAP) as a:
        fill(a)
        assert a.export_jsonl(tmp_path / "a.jsonl") == 4
        assert a.check() == {"ok": True, "problems": []}
    text = (tmp_path / "a.jsonl").read_text()
    lines = [json.loads(line) for line in text.splitlines()]
    assert [line["kind"] for line in lines] == ["role", "user", "user", "client"]
    assert lines[1]["doc"]["passwordHash"].startswith("$argon2id$")
    assert lines[3]["doc"]["secretHash"].startswith("$argon2id$")
    assert "correct horse" not in text
    with rosterdb.Store(tmp_path / "b.redb", **CHEAP) as b:
        assert b.import_jsonl(str(tmp_path / "a.jsonl")) == 4
        b.export_jsonl(tmp_path / "b.jsonl")
        assert (tmp_path / "b.jsonl").read_text() == text
        assert b.users.create(user("cid"))["id"] == 3
        assert b.check()["ok"] is True
        assert isinstance(b.compact(), bool)
        assert b.users.get_by_username("ann")["attributes"]["big"] == 2**60


def test_import_errors(tmp_path: Path, store: rosterdb.Store) -> None:
    fill(store)
    store.export_jsonl(tmp_path / "x.jsonl")
    with pytest.raises(rosterdb.ConflictError):
        store.import_jsonl(tmp_path / "x.jsonl")
    (tmp_path / "bad.jsonl").write_text('{"kind": "user", "doc": {"id": 1}}\n')
    fresh = rosterdb.Store.memory()
    with pytest.raises(rosterdb.ValidationError) as info:
        fresh.import_jsonl(tmp_path / "bad.jsonl")
    assert "line 1" in info.value.errors[0]["message"]
    assert fresh.users.count() == 0
    with pytest.raises(rosterdb.StorageError):
        fresh.import_jsonl(tmp_path / "missing.jsonl")
    with pytest.raises(TypeError):
        fresh.export_jsonl(None)  # type: ignore[arg-type]


def test_whole_store_operations_are_refused_in_a_view(store: rosterdb.Store, tmp_path: Path) -> None:
    view = store.scoped("acme")
    for call in (lambda: view.export_jsonl(tmp_path / "v.jsonl"), view.check, view.compact,
                 lambda: view.import_jsonl(tmp_path / "v.jsonl")):
        with pytest.raises(rosterdb.StorageError, match="scoped view"):
            call()


def test_compact_needs_the_store_to_itself(store: rosterdb.Store) -> None:
    fill(store)
    with store.transaction() as tx:
        tx.users.create(user("zed"))
        with pytest.raises(rosterdb.BusyError, match="in use"):
            store.compact()
    assert store.compact() in (True, False)
