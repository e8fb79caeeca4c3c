"""The type stubs match the extension, and the API has the spec's exact names."""

from __future__ import annotations

import ast
import inspect
import os
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
        "cache_bytes=268435456",
        # Decision 0024: the TOTP issuer, as in Rust and Kotlin.
        "totp_issuer=None",
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


# The stub carries the extension's docstrings, so that editors, which read
# the stub and not the compiled module, show them. The extension's `///`
# comments are the source; to copy them into the stub after changing one,
# build the wheel and run
#     ROSTERDB_UPDATE_STUB=1 .venv/bin/pytest -q python/tests/test_stubs.py
# which rewrites python/rosterdb/_native.pyi of the checkout.
STUB_SOURCE = Path(__file__).resolve().parents[1] / "rosterdb" / "_native.pyi"


def stub_docstrings(source: str) -> list[tuple[ast.ClassDef | ast.FunctionDef, str]]:
    """Each class and method of the stub with a runtime counterpart, with the
    runtime docstring it must carry. A method of a private base class (such
    as ``_Queryable``) stands for that method of every public class deriving
    from it, whose docstrings must then agree."""
    tree = ast.parse(source)
    classes = {n.name: n for n in tree.body if isinstance(n, ast.ClassDef)}

    def derived(name: str) -> list[str]:
        out = []
        for other, node in classes.items():
            bases = [b.id for b in node.bases if isinstance(b, ast.Name)]
            if name in bases:
                out += [other] if not other.startswith("_") else derived(other)
        return out

    found: list[tuple[ast.ClassDef | ast.FunctionDef, str]] = []
    for name, node in classes.items():
        public = [name] if not name.startswith("_") else derived(name)
        if name.startswith("_") and not any(isinstance(i, ast.FunctionDef) for i in node.body):
            continue  # a TypedDict of a result
        runtime = [getattr(rosterdb._native, c) for c in public]
        if not name.startswith("_"):
            found.append((node, inspect.cleandoc(runtime[0].__doc__ or "")))
        for item in node.body:
            if not isinstance(item, ast.FunctionDef) or item.name.startswith("__"):
                continue
            docs = {inspect.cleandoc(getattr(r, item.name).__doc__ or "") for r in runtime}
            assert len(docs) == 1, f"{name}.{item.name}: the classes' docstrings differ"
            found.append((item, docs.pop()))
    return found


def with_docstrings(source: str) -> str:
    """The stub with each docstring set to the runtime one."""
    lines = source.splitlines()
    edits = sorted(stub_docstrings(source), key=lambda e: e[0].lineno, reverse=True)
    for node, doc in edits:
        assert doc and '"""' not in doc and "\\" not in doc, node.name
        indent = " " * (node.col_offset + 4)
        text = doc.splitlines()
        if len(text) == 1 and not doc.endswith('"'):
            block = [f'{indent}"""{doc}"""']
        else:
            block = [f'{indent}"""{text[0]}']
            block += [f"{indent}{line}" if line else "" for line in text[1:]]
            block += [f'{indent}"""']
        first = node.body[0]
        if (
            isinstance(first, ast.Expr)
            and isinstance(first.value, ast.Constant)
            and isinstance(first.value.value, str)
        ):
            lines[first.lineno - 1 : first.end_lineno] = block
        else:
            # `def f(...) -> T: ...`: the docstring becomes the body.
            row = first.lineno - 1
            head = lines[row][: first.col_offset].rstrip()
            assert lines[row][first.col_offset :].strip() == "...", node.name
            lines[row : row + 1] = [head, *block]
    return "\n".join(lines) + "\n"


def test_the_stub_has_the_extensions_docstrings() -> None:
    source = STUB_SOURCE.read_text(encoding="utf-8")
    expected = with_docstrings(source)
    if os.environ.get("ROSTERDB_UPDATE_STUB") == "1":
        STUB_SOURCE.write_text(expected, encoding="utf-8")
        source = expected
    assert len(stub_docstrings(source)) > 60
    for node, doc in stub_docstrings(source):
        assert ast.get_docstring(node) == doc, (
            f"{node.name}: the stub's docstring is not the extension's; "
            "run ROSTERDB_UPDATE_STUB=1 pytest python/tests/test_stubs.py"
        )
    # The installed stub is the checkout's.
    installed = Path(rosterdb.__file__).parent / "_native.pyi"
    assert installed.read_text(encoding="utf-8") == source, "rebuild the wheel"
