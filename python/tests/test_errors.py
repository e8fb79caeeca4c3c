"""Every core error reaches Python as its own exception class, with its data."""

from __future__ import annotations

import errno
import os
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
    assert (q.position, q.field, q.code) == (None, None, None)
    s = rosterdb.StorageError("s")
    assert (s.path, s.filename, s.errno, s.strerror, str(s)) == (None, None, None, None, "s")


def test_not_found(store: rosterdb.Store) -> None:
    with pytest.raises(rosterdb.NotFoundError, match="user not found: id 7") as info:
        store.users.get(7)
    assert (info.value.entity, info.value.key) == ("user", "id 7")
    with pytest.raises(rosterdb.NotFoundError) as info:
        store.users.get_by_username("nobody")
    assert (info.value.entity, info.value.key) == ("user", 'username "nobody"')
    with pytest.raises(rosterdb.NotFoundError) as info:
        store.roles.get(3)
    assert (info.value.entity, info.value.key) == ("role", "id 3")
    with pytest.raises(rosterdb.NotFoundError) as info:
        store.clients.get(4)
    assert info.value.entity == "client"
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
    assert (info.value.entity, info.value.field) == ("user", "username")
    store.roles.create({"name": "r"})
    with pytest.raises(rosterdb.ConflictError) as info:
        store.roles.create({"name": "R"})
    assert (info.value.entity, info.value.field) == ("role", "name")


def test_validation_lists_every_field(store: rosterdb.Store) -> None:
    with pytest.raises(rosterdb.ValidationError) as info:
        store.users.create({"username": "a b", "email": "nope", "id": 3, "shoe": 42})
    codes = {e["field"]: e["code"] for e in info.value.errors}
    assert codes == {
        "username": "invalid_characters",
        "email": "string_too_short",
        "firstName": "missing",
        "lastName": "missing",
        "id": "read_only",
        "shoe": "unknown_field",
    }
    assert all(set(e) == {"field", "code", "message"} for e in info.value.errors)
    with pytest.raises(ValueError) as info:
        store.users.create(user(roles=[99]))
    assert info.value.errors == [
        {"field": "roles", "code": "role_not_found", "message": "role 99 not found in this tenant"}
    ]


def test_binding_conversions_have_codes(store: rosterdb.Store) -> None:
    with pytest.raises(rosterdb.ValidationError) as info:
        store.users.create(
            user(attributes={"nan": float("nan"), "big": 2**70, "set": {1}, "s": "\ud800"})
        )
    codes = {e["field"]: e["code"] for e in info.value.errors}
    assert codes == {
        "attributes.nan": "finite_number",
        "attributes.big": "number_out_of_range",
        "attributes.set": "json_type",
        "attributes.s": "string_unicode",
    }
    u = store.users.create(user())
    with pytest.raises(rosterdb.PatchError) as info:
        store.users.patch(u["id"], [{"op": "add", "path": "/attributes/x", "value": 1}, {"op": 1}])
    assert (info.value.op_index, info.value.code) == (1, "unknown_op")
    with pytest.raises(rosterdb.PatchError) as info:
        store.users.patch(u["id"], [{"op": "add", "path": 7, 1: 2}])
    assert (info.value.op_index, info.value.code) == (0, "invalid_operation")


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
    assert info.value.code == "invalid_paging"


@pytest.mark.parametrize(
    ("kwargs", "code", "position", "field"),
    [
        ({"where": "username = 'ann"}, "syntax", 11, "where"),
        ({"where": "nmae = 1"}, "unknown_field", 0, "nmae"),
        ({"where": "enabled = 'x'"}, "type_mismatch", 10, "enabled"),
        ({"sort": ["attributes"]}, "not_sortable", 0, "sort"),
        ({"cursor": "garbage"}, "invalid_cursor", None, "cursor"),
        ({"filters": {"id": "abc"}}, "type_mismatch", 0, "id"),
    ],
)
def test_query_errors_carry_a_code(
    store: rosterdb.Store, kwargs: dict, code: str, position: object, field: object
) -> None:
    with pytest.raises(rosterdb.QueryError) as info:
        store.users.list(**kwargs)
    assert (info.value.code, info.value.position, info.value.field) == (code, position, field)


def test_patch_errors_carry_a_code(store: rosterdb.Store) -> None:
    u = store.users.create(user())
    cases = [
        ([{"op": "replace", "path": "/id", "value": 2}], "read_only"),
        ([{"op": "remove", "path": "/attributes/nope"}], "path_not_found"),
        ([{"op": "test", "path": "/username", "value": "zed"}], "test_failed"),
        ([{"op": "add", "path": "/nickname"}], "missing_member"),
    ]
    for ops, code in cases:
        with pytest.raises(rosterdb.PatchError) as info:
            store.users.patch(u["id"], ops)
        assert (info.value.op_index, info.value.code) == (0, code), ops


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


def test_storage_errors_name_the_file_and_the_os_error(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-dir" / "store.roster"
    with pytest.raises(rosterdb.StorageError) as info:
        rosterdb.Store(missing, **CHEAP)
    e = info.value
    assert e.path == str(missing) and e.filename == str(missing)
    assert e.errno == errno.ENOENT and e.strerror == os.strerror(errno.ENOENT)
    assert not isinstance(e, FileNotFoundError)  # one class per kind, not per errno
    assert str(e).startswith("storage error: ") and "Errno" not in str(e)
    with rosterdb.Store(tmp_path / "s.roster", **CHEAP) as s:
        out = tmp_path / "nowhere" / "x.jsonl"
        with pytest.raises(OSError) as info:
            s.export_jsonl(out)
        assert isinstance(info.value, rosterdb.StorageError)
        assert (info.value.filename, info.value.errno) == (str(out), errno.ENOENT)
        with pytest.raises(rosterdb.StorageError) as info:
            s.import_jsonl(tmp_path / "absent.jsonl")
        assert info.value.path == str(tmp_path / "absent.jsonl")


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
