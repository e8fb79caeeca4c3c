"""Every core error reaches Python as its own exception class, with its data."""

from __future__ import annotations

from pathlib import Path

import pytest

import rosterdb
from conftest import CHEAP, user

HIERARCHY = {
    rosterdb.NotFoundError: (LookupError,),
    rosterdb.ConflictError: (),
    rosterdb.ValidationError: (ValueError,),
    rosterdb.QueryError: (ValueError,),
    rosterdb.PatchError: (ValueError,),
    rosterdb.VersionConflictError: (),
    rosterdb.InUseError: (),
    rosterdb.AuthenticationError: (),
    rosterdb.InvalidTokenError: (),
    rosterdb.StoreLockedError: (),
    rosterdb.FormatError: (),
    rosterdb.StorageError: (OSError,),
    rosterdb.ArgumentError: (ValueError,),
}


@pytest.mark.parametrize("cls", list(HIERARCHY))
def test_every_class_is_a_roster_error_with_its_builtin_bases(cls: type) -> None:
    assert issubclass(cls, rosterdb.RosterError)
    for base in HIERARCHY[cls]:
        assert issubclass(cls, base)
    assert cls.__module__ == "rosterdb.errors"


def test_version_conflict_is_not_a_conflict() -> None:
    assert not issubclass(rosterdb.VersionConflictError, rosterdb.ConflictError)


def test_error_attributes_of_kinds_raised_by_later_features() -> None:
    e = rosterdb.VersionConflictError("v", expected=1, actual=2)
    assert (e.expected, e.actual) == (1, 2)
    assert rosterdb.PatchError("p", op_index=3).op_index == 3
    q = rosterdb.QueryError("q")
    assert (q.position, q.field) == (None, None)


def test_not_found(store: rosterdb.Store) -> None:
    with pytest.raises(rosterdb.NotFoundError, match="user not found: id 7"):
        store.users.get(7)
    for call in (
        lambda: store.users.get_by_username("nobody"),
        lambda: store.users.get_by_email("no@body.com"),
        lambda: store.users.get_by_external_id("github", "1"),
        lambda: store.roles.get(1),
        lambda: store.clients.get(1),
        lambda: store.clients.get_by_client_id("rc_x"),
        lambda: store.users.delete(1),
        lambda: store.users.get(-1),
        lambda: store.users.get(2**64),
    ):
        with pytest.raises(LookupError):
            call()


def test_conflict_names_the_field(store: rosterdb.Store) -> None:
    store.users.create(user("ann"))
    with pytest.raises(rosterdb.ConflictError) as info:
        store.users.create(user("ANN", email="other@example.com"))
    assert info.value.field == "username"
    store.roles.create({"name": "r"})
    with pytest.raises(rosterdb.ConflictError) as info:
        store.roles.create({"name": "R"})
    assert info.value.field == "name"


def test_validation_lists_every_field(store: rosterdb.Store) -> None:
    with pytest.raises(rosterdb.ValidationError) as info:
        store.users.create({"username": "a b", "email": "nope", "id": 3, "shoe": 42})
    fields = {e["field"] for e in info.value.errors}
    assert fields == {"username", "email", "firstName", "lastName", "id", "shoe"}
    assert all(set(e) == {"field", "message"} for e in info.value.errors)
    with pytest.raises(ValueError):
        store.users.create(user(roles=[99]))


def test_in_use_carries_the_count(store: rosterdb.Store) -> None:
    role = store.roles.create({"name": "r"})
    store.users.create(user(roles=[role["id"]]))
    store.clients.create({"name": "c", "roles": [role["id"]]})
    with pytest.raises(rosterdb.InUseError) as info:
        store.roles.delete(role["id"])
    assert info.value.count == 2


def test_query_error_names_the_parameter(store: rosterdb.Store) -> None:
    with pytest.raises(rosterdb.QueryError) as info:
        store.changes(limit=0)
    assert info.value.field == "limit" and info.value.position is None


def test_store_locked(path: Path) -> None:
    with rosterdb.Store(path, **CHEAP):
        with pytest.raises(rosterdb.StoreLockedError):
            rosterdb.Store(path, **CHEAP)


def test_format_error_leaves_the_file_alone(tmp_path: Path) -> None:
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"\x00\x01not a store" * 100)
    with pytest.raises(rosterdb.FormatError):
        rosterdb.Store(junk)
    assert junk.read_bytes() == b"\x00\x01not a store" * 100


def test_storage_error_after_close(store: rosterdb.Store) -> None:
    store.close()
    with pytest.raises(rosterdb.StorageError, match="closed") as info:
        store.users.get(1)
    assert isinstance(info.value, rosterdb.ClosedError)
    with pytest.raises(OSError):
        store.changes()


def test_bad_options_are_argument_errors(path: Path) -> None:
    with pytest.raises(rosterdb.ArgumentError) as info:
        rosterdb.Store(path, argon2_memory_kib=1)
    assert info.value.argument == "argon2_memory_kib"
    assert not path.exists()


def test_passwords_never_reach_messages(store: rosterdb.Store) -> None:
    secret = "hunter2-secret"
    with pytest.raises(rosterdb.ValidationError) as info:
        store.users.create(user(email="bad", password=secret))
    assert secret not in str(info.value) and secret not in repr(info.value.errors)
    with pytest.raises(rosterdb.ValidationError) as info:
        store.users.create(user(password="short"))
    assert "short" not in str(info.value)
