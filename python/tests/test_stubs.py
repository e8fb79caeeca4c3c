"""The type stubs match the extension, and the API has the spec's exact names."""

from __future__ import annotations

import inspect
import subprocess
import sys
from pathlib import Path

import rosterdb


def test_stubs_match_the_extension(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mypy.stubtest", "rosterdb"],
        cwd=tmp_path,  # keeps mypy's cache out of the repository
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Success" in result.stdout


def test_the_package_is_typed() -> None:
    package = Path(rosterdb.__file__).parent
    assert (package / "py.typed").exists()
    assert (package / "_native.pyi").exists()


def params(func: object) -> list[str]:
    return [
        f"{p.name}={p.default!r}" if p.default is not p.empty else p.name
        for p in inspect.signature(func).parameters.values()  # type: ignore[arg-type]
        if p.name != "self"
    ]


def test_signatures_are_those_of_the_spec() -> None:
    s = rosterdb.Store.memory()
    options = [
        "lockout_threshold=5",
        "lockout_seconds=900",
        "argon2_memory_kib=19456",
        "argon2_iterations=2",
        "argon2_parallelism=1",
        "cache_bytes=4294967296",
    ]
    assert params(rosterdb.Store) == ["path"] + options
    assert params(rosterdb.Store.memory) == options
    for c in (s.users, s.roles, s.clients):
        assert params(c.create) == ["doc"]
        assert params(c.get) == ["id"]
    assert params(s.users.get_by_username) == ["username", "tenant=None"]
    assert params(s.users.get_by_email) == ["email", "tenant=None"]
    assert params(s.users.get_by_external_id) == ["type", "value", "tenant=None"]
    assert params(s.users.delete) == ["id"]
    assert params(s.clients.delete) == ["id"]
    assert params(s.roles.delete) == ["id", "cascade=False"]
    assert params(s.changes) == ["after=0", "limit=100"]
    assert params(s.users.set_password) == ["id", "password"]
    assert params(s.users.unlock) == ["id"]
    assert params(s.users.verify_password) == [
        "identifier", "password", "tenant=None", "totp_code=None"]
    assert params(s.users.totp_enroll) == ["id"]
    assert params(s.users.totp_confirm) == ["id", "code"]
    assert params(s.users.totp_disable) == ["id"]
    assert params(s.users.sessions) == ["id"]
    assert params(s.users.revoke_sessions) == ["id"]
    assert params(s.clients.rotate_secret) == ["id"]
    for sessions in (s, s.scoped("acme"), s.transaction()):
        assert params(sessions.authenticate) == ["token"]
        assert params(sessions.logout) == ["token"]
    for logins in (s, s.scoped("acme")):
        assert params(logins.login) == [
            "identifier", "password", "tenant=None", "ttl_seconds=900", "totp_code=None"]
        assert params(logins.client_login) == [
            "client_id", "secret", "ip=None", "ttl_seconds=900"]
    assert callable(s.transaction) and callable(s.close)
    filters = ["where=None", "search=None", "filters=None"]
    listing = filters + ["sort=None", "fields=None", "page=None", "page_size=None",
                         "offset=None", "limit=None", "cursor=None", "with_total=False"]
    for c in (s.users, s.roles, s.clients):
        assert params(c.list) == listing
        assert params(c.explain) == listing
        assert params(c.iter) == filters + ["sort=None", "fields=None", "page_size=None"]
        assert params(c.count) == filters
        assert params(c.patch) == ["id", "ops", "expected_version=None"]
        assert params(c.merge) == ["id", "partial", "expected_version=None"]
        assert params(c.replace) == ["id", "doc", "expected_version=None"]
        assert params(c.exists) == filters


def test_all_lists_the_public_names() -> None:
    for name in rosterdb.__all__:
        assert hasattr(rosterdb, name), name
    assert set(rosterdb.__all__) >= {"Store", "RosterError", "StorageError"}
