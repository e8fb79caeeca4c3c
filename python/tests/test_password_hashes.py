"""Imported password hashes (docs/reference/credentials.md, Passwords): runs
tests/vectors/password_hashes.json through the binding. Each valid hash, given
as a user's `passwordHash`, verifies its `matches` and refuses its `rejects`;
the first success upgrades it to the store's Argon2id as login bookkeeping (no
version bump, no change-log entry). Each invalid hash is a ValidationError on
`passwordHash` that does not quote it."""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path
from typing import Any

import pytest

import rosterdb
from conftest import CHEAP, user

VECTORS = Path(__file__).resolve().parents[2] / "tests" / "vectors" / "password_hashes.json"
DATA: dict[str, Any] = (
    json.loads(VECTORS.read_text(encoding="utf-8")) if VECTORS.exists() else {"valid": [], "invalid": []}
)
VALID: list[dict[str, Any]] = DATA["valid"]
INVALID: list[dict[str, Any]] = DATA["invalid"]
needs_vectors = pytest.mark.skipif(
    not VECTORS.exists(), reason=f"{VECTORS} is missing (written by the core's hash work)"
)

#: The store's own hashes: what an imported hash becomes.
CURRENT = "$argon2id$v=19$m=8,t=1,p=1$"


def exported_user(store: rosterdb.Store, tmp_path: Path, id: int) -> dict[str, Any]:
    out = tmp_path / "export.jsonl"
    store.export_jsonl(out)
    for line in out.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        if record["kind"] == "user" and record["doc"]["id"] == id:
            doc: dict[str, Any] = record["doc"]
            return doc
    raise AssertionError(f"user {id} is not in the export")


@needs_vectors
def test_the_vector_file_is_not_empty() -> None:
    assert len(VALID) >= 30 and len(INVALID) >= 50
    assert {v["scheme"] for v in VALID} >= {
        "argon2id", "argon2i", "argon2d", "bcrypt", "pbkdf2-sha256", "pbkdf2-sha512",
        "django-pbkdf2-sha256", "scrypt",
    }


def vector_id(v: dict[str, Any]) -> str:
    return f"{v['scheme']}:{v['hash'][:40]}"


def prepared(password: str) -> str:
    """RFC 8265 OpaqueString, as far as these vectors need it: non-ASCII
    spaces become U+0020, then NFC."""
    spaced = "".join(" " if unicodedata.category(c) == "Zs" else c for c in password)
    return unicodedata.normalize("NFC", spaced)


@needs_vectors
@pytest.mark.parametrize("vector", VALID, ids=[vector_id(v) for v in VALID])
def test_valid_hash(vector: dict[str, Any], tmp_path: Path) -> None:
    # The store also accepts other spellings of a normalised password.
    matches = vector["matches"] + vector.get("store_matches", [])
    rejects = [r for r in vector["rejects"] if r not in matches]
    # No lockout: a vector has more rejects than the default threshold.
    with rosterdb.Store.memory(lockout_threshold=0, **CHEAP) as store:
        for n, password in enumerate(matches):
            name = f"u{n}"
            created = store.users.create(user(name, passwordHash=vector["hash"]))
            assert created["hasPassword"] is True
            assert "passwordHash" not in created
            if n == 0:
                # Still the imported hash, exported as it came.
                assert exported_user(store, tmp_path, created["id"])["passwordHash"] == vector["hash"]
                for wrong in rejects:
                    with pytest.raises(rosterdb.AuthenticationError):
                        store.users.verify_password(name, wrong)
            changes = store.changes(limit=1000)
            checked = store.users.verify_password(name, password)
            assert checked["id"] == created["id"] and "lastLoginAt" in checked
            doc = exported_user(store, tmp_path, created["id"])
            assert doc["passwordHash"].startswith(CURRENT), doc["passwordHash"]
            assert doc["version"] == 1
            assert store.changes(limit=1000) == changes
            # The upgraded hash (of the prepared password) takes the same
            # password and refuses the others.
            assert store.login(name, password)["user"]["id"] == created["id"]
            for wrong in rejects:
                if prepared(wrong) != prepared(password):
                    with pytest.raises(rosterdb.AuthenticationError):
                        store.users.verify_password(name, wrong)
            assert store.users.get(created["id"])["version"] == 1
        assert store.check() == {"ok": True, "problems": []}


@needs_vectors
@pytest.mark.parametrize("vector", INVALID, ids=[v["why"][:60] for v in INVALID])
def test_invalid_hash(vector: dict[str, Any]) -> None:
    with rosterdb.Store.memory(**CHEAP) as store:
        with pytest.raises(rosterdb.ValidationError) as info:
            store.users.create(user("ann", passwordHash=vector["hash"]))
        assert [e["field"] for e in info.value.errors] == ["passwordHash"]
        shown = str(info.value) + repr(info.value.errors)
        if len(vector["hash"]) >= 8:
            assert vector["hash"] not in shown
        assert store.changes() == []


def test_password_and_hash_together_are_refused(mem: rosterdb.Store) -> None:
    with pytest.raises(rosterdb.ValidationError) as info:
        mem.users.create(user("ann", password="a new password", passwordHash=CURRENT + "x$y"))
    assert "passwordHash" in {e["field"] for e in info.value.errors}
