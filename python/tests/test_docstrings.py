"""Every public name of ``rosterdb`` has a docstring in one format.

The format is Google style: a one-line summary ending in a period, then
sections. This test walks ``rosterdb.__all__``, and every public method and
property of each class (skipping dunder names and what ``object`` or the
built-in exceptions define), and checks that:

- each has a docstring, whose first line is a summary ending in a period,
  80 characters at most;
- a callable taking arguments has an ``Args:`` section naming exactly its
  parameters (as ``inspect.signature`` reports them; pyo3 provides
  ``__text_signature__``);
- a callable whose stub (``_native.pyi``) returns something has a
  ``Returns:`` section, and one returning ``None`` has none;
- a method of the store API has a ``Raises:`` section naming
  ``ClosedError`` (every call on a closed store raises it), except the two
  that never raise, which are checked to return on a closed store;
- every name under ``Raises:`` is a rosterdb error class or a built-in
  exception;
- a property's docstring starts with its type (``"Users: the users ..."``);
- an exception class documents under ``Attributes:`` each attribute its
  constructor takes;
- no docstring cites the old specification, and each
  ``docs/reference/<topic>.md`` a docstring cites exists (with the section
  it names) once the reference is in the repository.
"""

from __future__ import annotations

import ast
import builtins
import inspect
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Callable

import pytest

import rosterdb

ROOT = Path(__file__).resolve().parents[2]
STUB = Path(rosterdb.__file__).parent / "_native.pyi"

#: The section headers of the format.
SECTIONS = ("Args:", "Returns:", "Raises:", "Attributes:")

#: The classes whose methods are store operations: each can raise
#: ``ClosedError`` once the store is closed.
STORE_API = ("Store", "Transaction", "Users", "Roles", "Clients")

#: Store operations that never raise, with why; the test below calls them
#: on a closed store.
NEVER_RAISE = {
    "Store.transaction": "it only makes the object; entering it may raise",
    "Store.close": "closing a closed store does nothing",
}


def sections(doc: str) -> dict[str, list[str]]:
    """The sections of a cleaned docstring: header -> its lines."""
    out: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in doc.splitlines():
        if line in SECTIONS:
            current = out.setdefault(line, [])
        elif line and not line.startswith(" "):
            current = None  # prose after a section
        elif current is not None:
            current.append(line)
    return out


def entries(lines: list[str]) -> list[str]:
    """The names a section's entries start with: ``    name (type): text``."""
    names = []
    for line in lines:
        m = re.match(r"    (\w+)(?: \([^)]*\))?:", line)
        if m:
            names.append(m.group(1))
    return names


def stub_returns() -> dict[str, bool]:
    """``"Class.method"`` -> whether the stub says it returns something, with
    the methods of the stub's private base classes given to each subclass."""
    tree = ast.parse(STUB.read_text(encoding="utf-8"))
    classes = {node.name: node for node in tree.body if isinstance(node, ast.ClassDef)}

    def methods(name: str) -> dict[str, bool]:
        node = classes[name]
        out: dict[str, bool] = {}
        for base in node.bases:
            if isinstance(base, ast.Name) and base.id in classes:
                out.update(methods(base.id))
        for item in node.body:
            if isinstance(item, ast.FunctionDef):
                returns = item.returns
                out[item.name] = not (isinstance(returns, ast.Constant) and returns.value is None)
        return out

    return {
        f"{cls}.{method}": value
        for cls in classes
        if not cls.startswith("_")
        for method, value in methods(cls).items()
    }


RETURNS = stub_returns()


def defined_members(cls: type) -> Iterator[tuple[str, Any]]:
    """The public members of `cls` that rosterdb defines (not ``object`` or a
    built-in exception), each with the raw object of the class defining it."""
    for name in dir(cls):
        if name.startswith("_"):
            continue
        for base in cls.__mro__:
            if name in vars(base):
                if base.__module__ != "builtins":
                    yield name, vars(base)[name]
                break


def public_objects() -> Iterator[tuple[str, Any, Any]]:
    """(qualified name, object, raw member or None) for every public name."""
    for name in rosterdb.__all__:
        obj = getattr(rosterdb, name)
        yield name, obj, None
        if inspect.isclass(obj):
            for member, raw in defined_members(obj):
                yield f"{name}.{member}", getattr(obj, member), raw


OBJECTS = list(public_objects())
IDS = [name for name, _, _ in OBJECTS]


def is_property(raw: Any) -> bool:
    return isinstance(raw, property) or inspect.isgetsetdescriptor(raw)


def doc_of(name: str, obj: Any, raw: Any) -> str:
    doc = (raw if raw is not None and is_property(raw) else obj).__doc__
    assert doc and doc.strip(), f"{name} has no docstring"
    return inspect.cleandoc(doc)


def parameters(obj: Callable[..., Any]) -> list[str] | None:
    """The parameter names of a callable (without self/cls), or None when
    Python cannot tell (a class without a constructor of its own)."""
    try:
        signature = inspect.signature(obj)
    except (TypeError, ValueError):
        return None
    return [p for p in signature.parameters if p not in ("self", "cls")]


def test_the_walk_finds_the_whole_api() -> None:
    # A walk that finds nothing would check nothing.
    for name in ("Store", "Store.users", "Store.login", "Users.list", "Users.verify_password",
                 "Roles.delete", "Clients.rotate_secret", "Transaction.changes", "Page.items",
                 "NotFoundError", "StorageError"):
        assert name in IDS, name
    assert len(IDS) > 80


@pytest.mark.parametrize(("name", "obj", "raw"), OBJECTS, ids=IDS)
def test_docstring(name: str, obj: Any, raw: Any) -> None:
    doc = doc_of(name, obj, raw)
    summary = doc.splitlines()[0]
    assert summary.endswith("."), f"{name}: the summary line must be one sentence: {summary!r}"
    assert len(summary) <= 80, f"{name}: the summary line is longer than 80 characters"
    found = sections(doc)
    owner = name.split(".")[0]

    if raw is not None and is_property(raw):
        # Google style for attributes: "type: what it is."
        assert re.match(r"[\w\[\], |]+: \S", summary), f"{name}: start with its type: {summary!r}"
        return

    if inspect.isclass(obj):
        if issubclass(obj, BaseException):
            # The attributes a class's own constructor takes (not those of
            # Exception's or of an error class it derives from).
            init = parameters(vars(obj)["__init__"]) if "__init__" in vars(obj) else []
            documented = entries(found.get("Attributes:", []))
            for param in (init or [])[1:]:  # the first is the message, str(e)
                assert param in documented, f"{name}: Attributes: lacks {param!r}"
            return
        params = parameters(obj)
        if params:
            assert entries(found.get("Args:", [])) == params, (
                f"{name}: Args: must name {params} in order"
            )
        return

    params = parameters(obj)
    assert params is not None, f"{name}: no signature"
    args = entries(found.get("Args:", []))
    assert args == params, f"{name}: Args: names {args}, the signature {params}"
    returns = RETURNS.get(name)
    assert returns is not None, f"{name} is not in the stub"
    if returns:
        assert found.get("Returns:"), f"{name}: no Returns: section"
    else:
        assert "Returns:" not in found, f"{name} returns None: no Returns: section"

    raises = entries(found.get("Raises:", []))
    for error in raises:
        assert error in rosterdb.errors.__all__ or isinstance(
            getattr(builtins, error, None), type
        ), f"{name}: Raises: names {error!r}, which is no exception class"
    is_class_method = isinstance(raw, classmethod) or type(raw).__name__ == "classmethod_descriptor"
    if owner in STORE_API and not is_class_method:
        if name in NEVER_RAISE:
            assert not raises, f"{name} never raises: no Raises: section"
        else:
            assert "ClosedError" in raises, f"{name}: Raises: must name ClosedError"
    elif params:
        assert raises, f"{name}: no Raises: section"


def test_the_calls_said_never_to_raise_do_not_raise_on_a_closed_store() -> None:
    store = rosterdb.Store.memory()
    store.close()
    for name in NEVER_RAISE:
        getattr(store, name.split(".")[1])()
    with pytest.raises(rosterdb.ClosedError):
        store.users.get(1)


def all_docs() -> Iterator[tuple[str, str]]:
    yield "rosterdb", rosterdb.__doc__ or ""
    yield "rosterdb.errors", rosterdb.errors.__doc__ or ""
    for name, obj, raw in OBJECTS:
        yield name, doc_of(name, obj, raw)


def test_the_modules_have_docstrings() -> None:
    for module in (rosterdb, rosterdb.errors):
        assert module.__doc__ and module.__doc__.strip(), module.__name__


def test_no_docstring_cites_the_old_specification() -> None:
    for name, doc in all_docs():
        # The old specification's name, spelt so that this line does not cite it.
        assert "S" + "PEC" not in doc, name
        assert not re.search(r"(?<!RFC \d{4} )§", doc), f"{name}: a § not of an RFC"


def test_the_cited_reference_pages_exist() -> None:
    reference = ROOT / "docs" / "reference"
    assert reference.is_dir(), "docs/reference/ is missing"
    cited = 0
    for name, doc in all_docs():
        text = " ".join(doc.split())
        for m in re.finditer(r"docs/reference/([\w-]+\.md)(, )?", text):
            page = reference / m.group(1)
            assert page.is_file(), f"{name} cites {page}, which does not exist"
            cited += 1
            if m.group(2):
                headings = re.findall(r"^#+ (.+)$", page.read_text(encoding="utf-8"), re.M)
                rest = text[m.end():]
                assert any(rest.startswith(h) for h in headings), (
                    f"{name} cites a section of {page.name} it lacks: {rest[:40]!r}"
                )
    assert cited > 20
