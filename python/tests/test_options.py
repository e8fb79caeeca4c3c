"""Store options and numeric arguments: every bad value is an ArgumentError
naming it (docs/reference/errors.md), whether the binding or the core finds it."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import pytest

import rosterdb
from conftest import CHEAP, PASSWORD, user

OPTIONS = [
    "lockout_threshold",
    "lockout_seconds",
    "argon2_memory_kib",
    "argon2_iterations",
    "argon2_parallelism",
]

#: Not an int at all, or an int no option can hold.
NOT_AN_OPTION = [-1, 2**32, 2**64, 2**70, -(2**70), True, False, 1.0, "5", None, b"5", [5]]

#: Ints that fit the option's type but lie outside the range the core accepts.
OUT_OF_RANGE = [
    ("lockout_seconds", 0),
    ("lockout_seconds", 31_536_001),
    ("lockout_seconds", 2**63),
    ("argon2_memory_kib", 0),
    ("argon2_memory_kib", 1),
    ("argon2_memory_kib", 2**32 - 1),
    ("argon2_iterations", 0),
    ("argon2_parallelism", 0),
    ("argon2_parallelism", 2**24),
    ("cache_bytes", 0),
    ("cache_bytes", 2**20 - 1),
]


def open_file(path: Path) -> Callable[..., rosterdb.Store]:
    return lambda **options: rosterdb.Store(path, **options)


@pytest.fixture(params=["file", "memory"])
def opener(request: pytest.FixtureRequest, path: Path) -> Callable[..., rosterdb.Store]:
    if request.param == "file":
        return open_file(path)
    return rosterdb.Store.memory


@pytest.mark.parametrize("option", OPTIONS)
@pytest.mark.parametrize("value", NOT_AN_OPTION, ids=repr)
def test_values_no_option_can_hold(
    opener: Callable[..., rosterdb.Store], path: Path, option: str, value: Any
) -> None:
    with pytest.raises(rosterdb.ArgumentError) as info:
        opener(**{**CHEAP, option: value})
    assert info.value.argument == option
    assert isinstance(info.value, ValueError)
    assert option in str(info.value)
    assert not path.exists()


@pytest.mark.parametrize("option, value", OUT_OF_RANGE)
def test_values_out_of_the_cores_range(
    opener: Callable[..., rosterdb.Store], path: Path, option: str, value: int
) -> None:
    with pytest.raises(rosterdb.ArgumentError) as info:
        opener(**{**CHEAP, option: value})
    assert info.value.argument == option
    assert not path.exists()


def test_the_edges_of_the_ranges_open(opener: Callable[..., rosterdb.Store]) -> None:
    for options in (
        {"lockout_threshold": 0},
        {"lockout_threshold": 2**32 - 1},
        {"lockout_seconds": 1},
        {"lockout_seconds": 31_536_000},
    ):
        opener(**CHEAP, **options).close()


@pytest.mark.parametrize(
    "value", [-1, 2**64, 2**70, -(2**70), True, 1.0, 2.0**30, "1048576", None, b"5"], ids=repr
)
def test_cache_sizes_no_option_can_hold(
    opener: Callable[..., rosterdb.Store], path: Path, value: Any
) -> None:
    with pytest.raises(rosterdb.ArgumentError) as info:
        opener(**CHEAP, cache_bytes=value)
    assert info.value.argument == "cache_bytes"
    assert "cache_bytes" in str(info.value)
    assert not path.exists()


def test_any_cache_size_from_one_mib_opens_and_reads(
    opener: Callable[..., rosterdb.Store],
) -> None:
    # The smallest cache evicts and rereads pages; the largest never fills.
    for cache_bytes in (2**20, 2**63):
        with opener(**CHEAP, cache_bytes=cache_bytes) as s:
            with s.transaction() as tx:
                made = [tx.users.create(user(f"u{k}-{cache_bytes}", attributes={"pad": "x" * 2000}))
                        for k in range(600)]
            assert [s.users.get(u["id"]) for u in made] == made


def test_int_subclasses_are_ints(opener: Callable[..., rosterdb.Store]) -> None:
    import enum

    class Seconds(enum.IntEnum):
        MINUTE = 60

    opener(**CHEAP, lockout_seconds=Seconds.MINUTE).close()


def test_options_are_keyword_only(path: Path) -> None:
    with pytest.raises(TypeError):
        rosterdb.Store(path, 5)  # type: ignore[misc]
    with pytest.raises(TypeError):
        rosterdb.Store.memory(5)  # type: ignore[misc]


def test_the_lockout_options_take_effect() -> None:
    with rosterdb.Store.memory(lockout_threshold=2, lockout_seconds=60, **CHEAP) as s:
        u = s.users.create(user("ann", password=PASSWORD))
        for _ in range(2):
            with pytest.raises(rosterdb.AuthenticationError):
                s.users.verify_password("ann", "wrong password")
        locked = s.users.get(u["id"])
        assert "lockedUntil" in locked
        assert locked["lockedUntil"] > locked["createdAt"]
    with rosterdb.Store.memory(lockout_threshold=0, **CHEAP) as s:
        s.users.create(user("ann", password=PASSWORD))
        for _ in range(10):
            with pytest.raises(rosterdb.AuthenticationError):
                s.users.verify_password("ann", "wrong password")
        assert s.users.verify_password("ann", PASSWORD)["username"] == "ann"


def test_the_argon2_options_take_effect(path: Path, tmp_path: Path) -> None:
    with rosterdb.Store(path, argon2_memory_kib=16, argon2_iterations=3, argon2_parallelism=2) as s:
        s.users.create(user("ann", password=PASSWORD))
        s.export_jsonl(tmp_path / "out.jsonl")
    assert "$argon2id$v=19$m=16,t=3,p=2$" in (tmp_path / "out.jsonl").read_text()


@pytest.mark.parametrize("after", [-1, 2**64, -(2**70), 1.0, "0", None, True])
def test_changes_after_out_of_range(mem: rosterdb.Store, after: Any) -> None:
    for target in (mem, mem.scoped("acme")):
        with pytest.raises(rosterdb.ArgumentError) as info:
            target.changes(after=after)
        assert info.value.argument == "after"
    with mem.transaction() as tx, pytest.raises(rosterdb.ArgumentError):
        tx.changes(after=after)


@pytest.mark.parametrize("limit", [0, -1, 1001, 2**64, -(2**70), 1.0, "10", None, True])
def test_changes_limit_out_of_range_is_a_query_error(mem: rosterdb.Store, limit: Any) -> None:
    with pytest.raises(rosterdb.QueryError) as info:
        mem.changes(limit=limit)
    assert info.value.field == "limit"
    with mem.transaction() as tx, pytest.raises(rosterdb.QueryError):
        tx.changes(limit=limit)


def test_changes_accepts_the_largest_after(mem: rosterdb.Store) -> None:
    mem.users.create(user())
    assert mem.changes(after=2**64 - 1, limit=1000) == []
    assert len(mem.changes(after=0, limit=1)) == 1


@pytest.mark.parametrize(
    "value", [0, -1, 2**64, -(2**70), 10**5000], ids=["0", "-1", "2**64", "-2**70", "10**5000"]
)
@pytest.mark.parametrize("name", ["page", "page_size", "offset", "limit"])
def test_paging_values_out_of_range_are_query_errors(
    mem: rosterdb.Store, name: str, value: int
) -> None:
    mem.users.create(user())
    if name == "offset" and value == 0:
        assert len(mem.users.list(offset=0, limit=5)) == 1
        return
    camel = {"page_size": "pageSize"}.get(name, name)
    for call in (mem.users.list, mem.roles.explain):
        with pytest.raises(rosterdb.QueryError) as info:
            call(**{name: value})
        assert info.value.field == camel
    if name == "page_size":
        with pytest.raises(rosterdb.QueryError):
            list(mem.users.iter(page_size=value))


@pytest.mark.parametrize("value", [1.0, "2", True, b"2"])
def test_paging_values_must_be_ints(mem: rosterdb.Store, value: Any) -> None:
    for name in ("page", "page_size", "offset", "limit"):
        with pytest.raises(TypeError, match="paging values must be ints"):
            mem.users.list(**{name: value})


@pytest.mark.parametrize("value", [-1, 2**64, 1.0, "1", True])
def test_expected_version_out_of_range(mem: rosterdb.Store, value: Any) -> None:
    u = mem.users.create(user())
    for call in (
        lambda: mem.users.patch(u["id"], [], expected_version=value),
        lambda: mem.users.merge(u["id"], {}, expected_version=value),
        lambda: mem.users.replace(u["id"], user(), expected_version=value),
    ):
        with pytest.raises(rosterdb.ArgumentError) as info:
            call()
        assert info.value.argument == "expected_version"
    with pytest.raises(rosterdb.VersionConflictError):
        mem.users.merge(u["id"], {"lastName": "X"}, expected_version=2**64 - 1)
    assert mem.users.merge(u["id"], {"lastName": "X"}, expected_version=None)["version"] == 2


def test_the_totp_issuer_names_the_store_in_enrolment_uris(
    opener: Callable[..., rosterdb.Store],
) -> None:
    from urllib.parse import parse_qs, unquote, urlsplit

    for options, issuer in (
        ({}, "rosterdb"),
        ({"totp_issuer": None}, "rosterdb"),
        ({"totp_issuer": "Acme Corp"}, "Acme Corp"),
    ):
        # The file opener reopens one file: a user per store opened.
        name = f"ada{len(options)}{issuer[0]}"
        with opener(**CHEAP, **options) as s:
            made = s.users.create(user(name))
            uri = urlsplit(s.users.totp_enroll(made["id"])["uri"])
            assert uri.scheme == "otpauth" and uri.netloc == "totp"
            assert unquote(uri.path) == f"/{issuer}:{name}"
            assert parse_qs(uri.query)["issuer"] == [issuer]


@pytest.mark.parametrize(
    "value", ["", "a" * 101, "Acme:Corp", "Acme\nCorp", "\ud800", 5, b"Acme"], ids=repr
)
def test_issuers_the_core_or_the_binding_refuses(
    opener: Callable[..., rosterdb.Store], path: Path, value: Any
) -> None:
    with pytest.raises(rosterdb.ArgumentError) as info:
        opener(**CHEAP, totp_issuer=value)
    assert info.value.argument == "totp_issuer"
    assert not path.exists()


def test_the_longest_issuer_opens(opener: Callable[..., rosterdb.Store]) -> None:
    opener(**CHEAP, totp_issuer="é" * 100).close()
