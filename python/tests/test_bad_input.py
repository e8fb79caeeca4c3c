"""Every bad input is a typed error (docs/reference/errors.md): the decisions,
row by row.

A wrong Python *type* for a top-level argument is a ``TypeError`` naming the
argument, the binding's convention (mypy and the stubs catch these). Every
other bad input reaches Python as a :class:`rosterdb.RosterError` of the kind
docs/reference/errors.md names: never a bare ``OverflowError``, ``ValueError``,
``UnicodeEncodeError``, ``RecursionError`` or ``SystemError``, never a crash,
and never an exception that carries the offending string.

=========================  ============================  ====================================
argument (calls)           wrong Python type             bad value
=========================  ============================  ====================================
``id`` (get, delete,       TypeError "id must be an      NotFoundError (an id no record can
patch, merge, replace,     int": None, "1", b"1", 1.0,   have): -1, -2**70, 2**53, 2**64,
set_password, unlock,      1.5, nan, inf, True, [1]      10**30, 10**5000
totp_*, sessions,
revoke_sessions,
rotate_secret)
``page``, ``page_size``,   TypeError "paging values      QueryError, ``.field`` = page,
``offset``, ``limit``      must be ints": 1.0, 1.5,      pageSize, offset or limit: -1,
(list, explain; iter:      nan, inf, True, "1", b"1"     1001, 2**64, 10**30, 10**5000
``page_size``)
``changes(after=)``        ArgumentError                 ArgumentError ``.argument="after"``:
                           ``.argument="after"``         -1, 2**64, -2**70
``changes(limit=)``        QueryError                    QueryError ``.field="limit"``: 0,
                           ``.field="limit"``            -1, 1001, 2**64
``expected_version``       ArgumentError                 ArgumentError: -1, 2**64; an int
(patch, merge, replace)    ``.argument``                 no record has: VersionConflictError
``ttl_seconds`` (login,    ArgumentError ``.argument``   ArgumentError: 0, -1, 2**64
client_login)
store options (``Store``,  ArgumentError ``.argument``   ArgumentError, at open, before a
``Store.memory``)          (test_options.py)             file is made (test_options.py)
``with_total``,            TypeError "... must be a      (none)
``cascade``                bool": 1, None, "yes"
``doc`` (create,           TypeError "... must be a      see *inside documents*
replace), ``partial``      dict"
(merge)
``ops`` (patch)            TypeError "ops must be a      see *inside patches*
                           list": dict, tuple
``where``, ``search``      TypeError "... must be a      lone surrogate: QueryError
                           str"                          ``.field`` = the parameter,
                                                         ``.position`` = its index
``sort``, ``fields``       TypeError "... must be a      lone surrogate: QueryError
                           str or a list of str"         ``.field``, ``.position`` in the
                                                         comma string
``cursor``                 TypeError                     lone surrogate: QueryError
                                                         ``.field="cursor"``
``filters``                TypeError: not a dict; a      lone surrogate in a value:
                           name not a str; a value not   QueryError ``.field`` = the name;
                           a str, int or bool (1.5,      in a name: ``.field="filters"``;
                           nan, None)                    an int too long to write out:
                                                         QueryError ``.field`` = the name
lookups: ``username``,     TypeError "<argument> must    lone surrogate: NotFoundError (no
``email``, ``type``,       be a str"                     record can have it)
``value``, ``client_id``,
``tenant``
``scoped(tenant)``         TypeError                     lone surrogate: ValidationError on
                                                         ``tenant``
credentials:               TypeError "<argument> must    lone surrogate: replaced by U+FFFD,
``identifier``,            be a str"                     so the core's own failure:
``password``, ``tenant``,                                AuthenticationError,
``totp_code``,                                           InvalidTokenError (logout: a
``client_id``, ``secret``,                               no-op); ``set_password``:
``ip``, ``token``,                                       ValidationError on ``password``
``code``
paths (``Store``,          TypeError (not a str, bytes   a str the file system cannot
``export_jsonl``,          or PathLike)                  encode, or a NUL: StorageError
``import_jsonl``)
=========================  ============================  ====================================

Inside documents (create, replace, merge) a value JSON cannot hold is a
ValidationError whose ``.errors[i]["field"]`` is the dotted path to it
(``attributes.level``, ``attributes.tags[1]``, ``roles[0]``, ``nickname``):

==============================  =================================================
value                           field named, message
==============================  =================================================
NaN, inf, -inf                  its path: "must be a finite number"
int below -2**63 or from 2**64  its path: "must be an integer from ... to ..."
str holding lone surrogates     its path: "must be Unicode text" (never the value)
key not a str, or holding lone  the object holding it (``attributes``; ``""`` for
surrogates                      the document itself)
any other type (bytes, set,     its path: "must be a JSON value ..., not <type>"
object, Decimal, date, complex)
nesting deeper than 64 levels   the top-level field (``attributes``): "nests ...
(100,000 deep costs 64 frames,  more than 64 levels deep"; 33 to 64 levels: the
no RecursionError)              core's own error on ``attributes`` ("at most 32")
==============================  =================================================

A create lists these together with the core's errors on its other
top-level fields. Inside patches, the operation's ``value`` follows the
same rules, named by the field its ``path`` points at (``/attributes/level``
→ ``attributes.level``; ``/roles/0`` → ``roles[0]``; the place inside the
value appended); anything else in an operation JSON cannot hold (``op``,
``path``, ``from``, a key, or a ``value`` without a JSON Pointer ``path``)
is a PatchError with ``.op_index``; an operation that is not a dict is the
core's PatchError. Nothing is written by any failing call.
"""

from __future__ import annotations

import datetime
import decimal
import math
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

import rosterdb
from conftest import CHEAP, PASSWORD, user

NAN, INF = math.nan, math.inf
#: A lone surrogate, and a marker that must never appear in an exception.
SECRET = "sekrit-\ud800-value"


def nested(levels: int, leaf: Any = 1, *, dicts: bool = False) -> Any:
    """A value `levels` objects or arrays deep."""
    value = leaf
    for _ in range(levels):
        value = {"k": value} if dicts else [value]
    return value


DEEP = nested(100_000)
DEEP_DICTS = nested(100_000, dicts=True)


def shows(e: BaseException) -> str:
    """Everything an exception shows: message, args, attributes."""
    return "\n".join([str(e), repr(e), repr(e.args), *map(repr, vars(e).values())])


#: The ids of the user, role and client of the `s` fixture.
UID = RID = CID = 1


@pytest.fixture
def s() -> Iterator[rosterdb.Store]:
    """A store holding one user (ann, with a password), role and client."""
    with rosterdb.Store.memory(**CHEAP) as store:
        role = store.roles.create({"name": "r"})
        u = store.users.create(user("ann", password=PASSWORD, roles=[role["id"]]))
        c = store.clients.create({"name": "c"})["client"]
        assert (u["id"], role["id"], c["id"]) == (UID, RID, CID)
        yield store
        assert store.check() == {"ok": True, "problems": []}


def unchanged(store: rosterdb.Store, call: Callable[[], Any], kind: type[BaseException]) -> Any:
    """Runs `call`, which must raise `kind` (exactly that class) and write nothing."""
    before = store.changes(limit=1000)
    with pytest.raises(kind) as info:
        call()
    assert type(info.value) is kind, repr(info.value)
    assert store.changes(limit=1000) == before
    assert "sekrit" not in shows(info.value)
    return info.value


# --- ids -------------------------------------------------------------------

ID_CALLS: dict[str, Callable[[rosterdb.Store, Any], Any]] = {
    "users.get": lambda s, i: s.users.get(i),
    "roles.get": lambda s, i: s.roles.get(i),
    "clients.get": lambda s, i: s.clients.get(i),
    "users.delete": lambda s, i: s.users.delete(i),
    "roles.delete": lambda s, i: s.roles.delete(i, cascade=True),
    "clients.delete": lambda s, i: s.clients.delete(i),
    "users.patch": lambda s, i: s.users.patch(i, []),
    "roles.merge": lambda s, i: s.roles.merge(i, {}),
    "clients.replace": lambda s, i: s.clients.replace(i, {"name": "c"}),
    "users.set_password": lambda s, i: s.users.set_password(i, PASSWORD),
    "users.unlock": lambda s, i: s.users.unlock(i),
    "users.totp_enroll": lambda s, i: s.users.totp_enroll(i),
    "users.totp_confirm": lambda s, i: s.users.totp_confirm(i, "123456"),
    "users.totp_disable": lambda s, i: s.users.totp_disable(i),
    "users.sessions": lambda s, i: s.users.sessions(i),
    "users.revoke_sessions": lambda s, i: s.users.revoke_sessions(i),
    "clients.rotate_secret": lambda s, i: s.clients.rotate_secret(i),
}
NOT_INTS = [None, "1", b"1", 1.0, 1.5, NAN, INF, True, False, [1], object()]
NO_SUCH_ID = [0, -1, -(2**70), 2**53, 2**64 - 1, 2**64, 10**30, 10**5000]


@pytest.mark.parametrize("call", list(ID_CALLS), ids=str)
@pytest.mark.parametrize("bad", NOT_INTS, ids=repr)
def test_ids_of_the_wrong_type(s: rosterdb.Store, call: str, bad: Any) -> None:
    e = unchanged(s, lambda: ID_CALLS[call](s, bad), TypeError)
    assert "id must be an int" in str(e)


@pytest.mark.parametrize("call", list(ID_CALLS), ids=str)
@pytest.mark.parametrize("missing", NO_SUCH_ID, ids=["0", "-1", "-2**70", "2**53", "2**64-1",
                                                     "2**64", "10**30", "10**5000"])
def test_ids_no_record_can_have_are_not_found(s: rosterdb.Store, call: str, missing: int) -> None:
    e = unchanged(s, lambda: ID_CALLS[call](s, missing), rosterdb.NotFoundError)
    assert len(str(e)) < 200


# --- paging and other numbers ----------------------------------------------

PAGING = {"page": "page", "page_size": "pageSize", "offset": "offset", "limit": "limit"}
NOT_PAGING_INTS = [1.0, 1.5, NAN, INF, -INF, True, "1", b"1", [1]]
PAGING_OUT_OF_RANGE = [-1, 1001, 2**64, -(2**64), 10**30, 10**5000]


def paging_calls(s: rosterdb.Store, name: str) -> list[Callable[[Any], Any]]:
    calls: list[Callable[[Any], Any]] = [
        lambda v: s.users.list(**{name: v}),
        lambda v: s.roles.explain(**{name: v}),
        lambda v: s.clients.list(**{name: v}),
    ]
    if name == "page_size":
        calls.append(lambda v: list(s.users.iter(page_size=v)))
    return calls


@pytest.mark.parametrize("name", list(PAGING))
@pytest.mark.parametrize("bad", NOT_PAGING_INTS, ids=repr)
def test_paging_values_of_the_wrong_type(s: rosterdb.Store, name: str, bad: Any) -> None:
    for call in paging_calls(s, name):
        e = unchanged(s, lambda: call(bad), TypeError)
        assert "paging values must be ints" in str(e)


@pytest.mark.parametrize("name", list(PAGING))
@pytest.mark.parametrize("value", PAGING_OUT_OF_RANGE,
                         ids=["-1", "1001", "2**64", "-2**64", "10**30", "10**5000"])
def test_paging_values_out_of_range(s: rosterdb.Store, name: str, value: int) -> None:
    if name in ("page", "offset") and value == 1001:
        return  # a page or offset past the end is an empty page
    for call in paging_calls(s, name):
        e = unchanged(s, lambda: call(value), rosterdb.QueryError)
        assert (e.field, e.position) == (PAGING[name], None)


@pytest.mark.parametrize("after", [-1, 2**64, -(2**70), 10**30, 1.0, 1.5, NAN, INF, True, "0", None])
def test_changes_after(s: rosterdb.Store, after: Any) -> None:
    e = unchanged(s, lambda: s.changes(after=after), rosterdb.ArgumentError)
    assert e.argument == "after"


@pytest.mark.parametrize("limit", [0, -1, 1001, 2**64, 10**30, 1.0, 1.5, NAN, INF, True, "1", None])
def test_changes_limit(s: rosterdb.Store, limit: Any) -> None:
    e = unchanged(s, lambda: s.changes(limit=limit), rosterdb.QueryError)
    assert e.field == "limit"


@pytest.mark.parametrize("value", [-1, 2**64, 10**30, 1.0, 1.5, NAN, INF, True, "1", [1]], ids=repr)
def test_expected_version(s: rosterdb.Store, value: Any) -> None:
    uid = UID
    for call in (
        lambda: s.users.patch(uid, [], expected_version=value),
        lambda: s.users.merge(uid, {"lastName": "X"}, expected_version=value),
        lambda: s.users.replace(uid, user("ann"), expected_version=value),
    ):
        e = unchanged(s, call, rosterdb.ArgumentError)
        assert e.argument == "expected_version"
    e = unchanged(s, lambda: s.users.merge(uid, {"lastName": "X"}, expected_version=2**53),
                  rosterdb.VersionConflictError)
    assert (e.expected, e.actual) == (2**53, 1)


@pytest.mark.parametrize("ttl", [0, -1, 2**64, 10**30, 1.5, NAN, INF, True, "900", None], ids=repr)
def test_session_lifetimes(s: rosterdb.Store, ttl: Any) -> None:
    e = unchanged(s, lambda: s.login("ann", PASSWORD, ttl_seconds=ttl), rosterdb.ArgumentError)
    assert e.argument == "ttl_seconds"
    e = unchanged(s, lambda: s.client_login("rc_x", "secret", ttl_seconds=ttl),
                  rosterdb.ArgumentError)
    assert e.argument == "ttl_seconds"


@pytest.mark.parametrize("option", ["lockout_threshold", "lockout_seconds", "argon2_memory_kib",
                                    "argon2_iterations", "argon2_parallelism"])
@pytest.mark.parametrize("value", [1.5, NAN, INF, 10**30, -(10**30)], ids=repr)
def test_store_options(path: Path, option: str, value: Any) -> None:
    openers: list[Callable[[], Any]] = [
        lambda: rosterdb.Store(path, **{option: value}),
        lambda: rosterdb.Store.memory(**{option: value}),
    ]
    for opener in openers:
        with pytest.raises(rosterdb.ArgumentError) as info:
            opener()
        assert info.value.argument == option
    assert not path.exists()


@pytest.mark.parametrize("bad", [1, 0, None, "yes", 1.0], ids=repr)
def test_flags_must_be_bools(s: rosterdb.Store, bad: Any) -> None:
    e = unchanged(s, lambda: s.users.list(with_total=bad), TypeError)
    assert "with_total must be a bool" in str(e)
    e = unchanged(s, lambda: s.roles.explain(with_total=bad), TypeError)
    e = unchanged(s, lambda: s.roles.delete(RID, cascade=bad), TypeError)
    assert "cascade must be a bool" in str(e)


# --- documents -------------------------------------------------------------

#: (attributes given, the field named, a word of the message)
NOT_JSON: list[tuple[Any, str, str]] = [
    ({"level": NAN}, "attributes.level", "finite"),
    ({"level": INF}, "attributes.level", "finite"),
    ({"level": -INF}, "attributes.level", "finite"),
    ({"tags": ["a", NAN]}, "attributes.tags[1]", "finite"),
    ({"tags": ("a", {"b": INF})}, "attributes.tags[1].b", "finite"),
    ({"k": 2**64}, "attributes.k", "integer"),
    ({"k": -(2**63) - 1}, "attributes.k", "integer"),
    ({"k": 10**30}, "attributes.k", "integer"),
    ({"k": 10**5000}, "attributes.k", "integer"),
    ({"k": SECRET}, "attributes.k", "Unicode"),
    ({SECRET: 1}, "attributes", "Unicode"),
    ({"a": {SECRET: 1}}, "attributes.a", "Unicode"),
    ({1: "x"}, "attributes", "keys must be str, not int"),
    ({None: "x"}, "attributes", "keys must be str, not NoneType"),
    ({(1, 2): "x"}, "attributes", "keys must be str, not tuple"),
    ({"k": b"bytes"}, "attributes.k", "not bytes"),
    ({"k": bytearray(b"x")}, "attributes.k", "not bytearray"),
    ({"k": {1, 2}}, "attributes.k", "not set"),
    ({"k": frozenset()}, "attributes.k", "not frozenset"),
    ({"k": object()}, "attributes.k", "not object"),
    ({"k": decimal.Decimal("1.5")}, "attributes.k", "not Decimal"),
    ({"k": datetime.date(2026, 1, 1)}, "attributes.k", "not date"),
    ({"k": 1j}, "attributes.k", "not complex"),
    ({"k": range(3)}, "attributes.k", "not range"),
    ({"k": DEEP}, "attributes", "more than 64 levels deep"),
    ({"k": DEEP_DICTS}, "attributes", "more than 64 levels deep"),
    ({"k": nested(64)}, "attributes", "more than 64 levels deep"),
    ({"k": nested(40)}, "attributes", "at most 32 levels deep"),  # the core's bound
]
NOT_JSON_IDS = [f"{i}-{field}-{word}" for i, (_, field, word) in enumerate(NOT_JSON)]


@pytest.mark.parametrize("attributes, field, word", NOT_JSON, ids=NOT_JSON_IDS)
def test_values_documents_cannot_hold(
    s: rosterdb.Store, attributes: Any, field: str, word: str
) -> None:
    uid = UID
    for call in (
        lambda: s.users.create(user("bob", attributes=attributes)),
        lambda: s.users.replace(uid, user("ann", attributes=attributes)),
        lambda: s.users.merge(uid, {"attributes": attributes}),
        lambda: s.users.patch(uid, [{"op": "add", "path": "/attributes", "value": attributes}]),
        lambda: s.users.patch(uid, [{"op": "replace", "path": "/attributes", "value": attributes}]),
    ):
        e = unchanged(s, call, rosterdb.ValidationError)
        assert [x["field"] for x in e.errors] == [field], e.errors
        assert word in e.errors[0]["message"]
        assert isinstance(e, ValueError)


def test_the_edge_of_the_cores_nesting_bound(s: rosterdb.Store) -> None:
    created = s.users.create(user("bob", attributes={"k": nested(31)}))
    assert created["attributes"]["k"] == nested(31)
    # 32 levels under attributes (attributes itself is level 1) is too deep for the core.
    e = unchanged(s, lambda: s.users.create(user("cy", attributes={"k": nested(32)})),
                  rosterdb.ValidationError)
    assert e.errors[0]["field"] == "attributes"


@pytest.mark.parametrize(
    "fields, named",
    [
        ({"nickname": SECRET}, "nickname"),
        ({"password": "pass-" + SECRET}, "password"),
        ({"username": NAN}, "username"),
        ({"enabled": INF}, "enabled"),
        ({"roles": [2**64]}, "roles[0]"),
        ({"roles": [1, NAN]}, "roles[1]"),
        ({"externalIds": [{"type": "t", "value": b"v"}]}, "externalIds[0].value"),
        ({"shoe": DEEP}, "shoe"),
        ({"roles": DEEP}, "roles"),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_top_level_fields(s: rosterdb.Store, fields: dict[str, Any], named: str) -> None:
    e = unchanged(s, lambda: s.users.create(user("bob", **fields)), rosterdb.ValidationError)
    assert [x["field"] for x in e.errors] == [named]
    uid = UID
    e = unchanged(s, lambda: s.users.merge(uid, fields), rosterdb.ValidationError)
    assert [x["field"] for x in e.errors] == [named]


def test_a_create_lists_the_cores_errors_too(s: rosterdb.Store) -> None:
    doc: dict[Any, Any] = {"username": "a b", "email": NAN, "attributes": {"x": b"y"}, 7: "seven"}
    e = unchanged(s, lambda: s.users.create(doc), rosterdb.ValidationError)
    assert sorted(x["field"] for x in e.errors) == sorted(
        ["", "username", "email", "firstName", "lastName", "attributes.x"]
    )
    creates: list[Callable[[Any], Any]] = [s.roles.create, s.clients.create]
    for create in creates:
        e = unchanged(s, lambda: create({"description": SECRET}), rosterdb.ValidationError)
        assert sorted(x["field"] for x in e.errors) == ["description", "name"]


@pytest.mark.parametrize("doc", [None, [], ("a",), "doc", b"{}", 42, NAN], ids=repr)
def test_documents_must_be_dicts(s: rosterdb.Store, doc: Any) -> None:
    uid = UID
    for call, what in (
        (lambda: s.users.create(doc), "doc"),
        (lambda: s.roles.create(doc), "doc"),
        (lambda: s.clients.create(doc), "doc"),
        (lambda: s.users.replace(uid, doc), "doc"),
        (lambda: s.users.merge(uid, doc), "partial"),
    ):
        e = unchanged(s, call, TypeError)
        assert f"{what} must be a dict" in str(e)


def test_mapping_subclasses_and_int_subclasses_are_json(s: rosterdb.Store) -> None:
    import collections
    import enum

    class Level(enum.IntEnum):
        HIGH = 3

    class Text(str):
        pass

    attributes = collections.OrderedDict([("level", Level.HIGH), (Text("t"), Text("x")),
                                          ("f", -0.0), ("big", 2**64 - 1), ("low", -(2**63))])
    created = s.users.create(user("bob", attributes=attributes))
    assert created["attributes"] == {"level": 3, "t": "x", "f": -0.0, "big": 2**64 - 1,
                                     "low": -(2**63)}


@pytest.mark.parametrize(
    "field, value",
    [("username", None), ("username", 5), ("enabled", "yes"), ("enabled", 1),
     ("roles", [1.5]), ("roles", [True]), ("roles", "1"), ("attributes", [])],
)
def test_mistyped_fields_are_the_cores_validation_errors(
    s: rosterdb.Store, field: str, value: Any
) -> None:
    e = unchanged(s, lambda: s.users.create(user("bob", **{field: value})),
                  rosterdb.ValidationError)
    assert [x["field"] for x in e.errors] == [field]


# --- patches ---------------------------------------------------------------

PATCHES: list[tuple[list[Any], type[rosterdb.RosterError], Any]] = [
    ([{"op": "add", "path": "/attributes/level", "value": NAN}],
     rosterdb.ValidationError, "attributes.level"),
    ([{"op": "add", "path": "/attributes", "value": {"a": [1, INF]}}],
     rosterdb.ValidationError, "attributes.a[1]"),
    ([{"op": "add", "path": "/attributes/a~1b/c~0d", "value": 2**64}],
     rosterdb.ValidationError, "attributes.a/b.c~d"),
    ([{"op": "add", "path": "/roles/0", "value": NAN}], rosterdb.ValidationError, "roles[0]"),
    ([{"op": "add", "path": "/roles/-", "value": NAN}], rosterdb.ValidationError, "roles[-]"),
    ([{"op": "replace", "path": "/nickname", "value": SECRET}],
     rosterdb.ValidationError, "nickname"),
    ([{"op": "add", "path": "/password", "value": "pass-" + SECRET}],
     rosterdb.ValidationError, "password"),
    ([{"op": "test", "path": "/attributes", "value": {1: 2}}],
     rosterdb.ValidationError, "attributes"),
    ([{"op": "add", "path": "/attributes/x", "value": DEEP}],
     rosterdb.ValidationError, "attributes"),
    ([{"op": "add", "path": "/nickname", "value": "ok"},
      {"op": "add", "path": "/attributes/x", "value": NAN},
      {"op": "add", "path": "/attributes/y", "value": b"y"}],
     rosterdb.ValidationError, ["attributes.x", "attributes.y"]),
    ([{"op": "add", "path": "/attributes/" + SECRET, "value": 1}], rosterdb.PatchError, 0),
    ([{"op": "add", "path": NAN, "value": 1}], rosterdb.PatchError, 0),
    ([{"op": b"add", "path": "/nickname", "value": "x"}], rosterdb.PatchError, 0),
    ([{"op": "move", "from": SECRET, "path": "/nickname"}], rosterdb.PatchError, 0),
    ([{"op": "add", "path": "/nickname", "value": "x", 1: 2}], rosterdb.PatchError, 0),
    ([{"op": "add", "path": "/nickname", "value": "x", "note": DEEP}], rosterdb.PatchError, 0),
    ([{"op": "add", "value": NAN}], rosterdb.PatchError, 0),
    ([{"op": "add", "path": "attributes", "value": NAN}], rosterdb.PatchError, 0),
    ([{"op": "test", "path": "/id", "value": 1}, [NAN]], rosterdb.PatchError, 1),
    ([{"op": "test", "path": "/id", "value": 1}, DEEP], rosterdb.PatchError, 1),
    ([{"op": "test", "path": "/id", "value": 1}, {"op": SECRET}], rosterdb.PatchError, 1),
    ([{"op": "add", "path": "/attributes/x", "value": NAN}, {"op": NAN}],
     rosterdb.ValidationError, "attributes.x"),
]


@pytest.mark.parametrize("ops, kind, where", PATCHES, ids=[str(i) for i in range(len(PATCHES))])
def test_patches(s: rosterdb.Store, ops: list[Any], kind: type, where: Any) -> None:
    for collection in (s.users, s.roles, s.clients):
        e = unchanged(s, lambda: collection.patch(1, ops), kind)
        if kind is rosterdb.PatchError:
            assert e.op_index == where
        else:
            fields = [x["field"] for x in e.errors]
            assert fields == (where if isinstance(where, list) else [where])


@pytest.mark.parametrize("ops", [{"op": "add"}, ({"op": "test", "path": "/id", "value": 1},),
                                 None, "[]", NAN], ids=repr)
def test_ops_must_be_a_list(s: rosterdb.Store, ops: Any) -> None:
    e = unchanged(s, lambda: s.users.patch(UID, ops), TypeError)
    assert "ops must be a list" in str(e)


# --- query text ------------------------------------------------------------

SURROGATE_QUERIES: list[tuple[dict[str, Any], str, Any]] = [
    ({"where": "username = 'x\ud800'"}, "where", 13),
    ({"search": "ann \udcff"}, "search", 4),
    ({"sort": "lastName,\ud800"}, "sort", 9),
    ({"sort": ["lastName", "first\ud800"]}, "sort", 14),
    ({"fields": ["\udfff"]}, "fields", 0),
    ({"cursor": "\ud800"}, "cursor", None),
    ({"filters": {"username": SECRET}}, "username", None),
    ({"filters": {"attributes.k": "in:a," + SECRET}}, "attributes.k", None),
    ({"filters": {SECRET: "x"}}, "filters", None),
    ({"filters": {"attributes.k": 10**5000}}, "attributes.k", None),
]


def query_calls(s: rosterdb.Store, kwargs: dict[str, Any]) -> list[Callable[[], Any]]:
    calls = [lambda: s.users.list(**kwargs), lambda: s.roles.explain(**kwargs)]
    counting = {k: v for k, v in kwargs.items() if k in ("where", "search", "filters")}
    if counting == kwargs:
        calls += [lambda: s.clients.count(**kwargs), lambda: s.users.exists(**kwargs),
                  lambda: list(s.users.iter(**kwargs))]
    return calls


@pytest.mark.parametrize("kwargs, field, position", SURROGATE_QUERIES,
                         ids=[str(i) for i in range(len(SURROGATE_QUERIES))])
def test_query_text_that_is_not_unicode(
    s: rosterdb.Store, kwargs: dict[str, Any], field: str, position: Any
) -> None:
    for call in query_calls(s, kwargs):
        e = unchanged(s, call, rosterdb.QueryError)
        assert (e.field, e.position) == (field, position)


def test_big_int_filter_values_reach_the_core(s: rosterdb.Store) -> None:
    s.users.merge(UID, {"attributes": {"n": 2**63}})
    assert s.users.count(filters={"attributes.n": 2**63}) == 1
    # Beyond 64 bits a whole number is out of range (decision 0010), with the range.
    for huge in (10**30, -(2**100)):
        e = unchanged(s, lambda: s.users.count(filters={"attributes.n": huge}), rosterdb.QueryError)
        assert e.field == "attributes.n" and "out of range" in str(e)
    e = unchanged(s, lambda: s.users.count(filters={"roles": 2**64}), rosterdb.QueryError)
    assert e.field == "roles"


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"where": 5}, "where must be a str"),
        ({"search": b"ann"}, "search must be a str"),
        ({"cursor": 5}, "cursor must be a str"),
        ({"sort": 5}, "sort must be a str or a list of str"),
        ({"sort": ("id",)}, "sort must be a str or a list of str"),
        ({"fields": ["id", 2]}, "fields must be a str or a list of str"),
        ({"filters": [("enabled", "true")]}, "filters must be a dict"),
        ({"filters": {1: "x"}}, "filters keys must be str"),
        ({"filters": {"enabled": 1.5}}, "must be a str, int or bool, not float"),
        ({"filters": {"enabled": NAN}}, "must be a str, int or bool, not float"),
        ({"filters": {"nickname": None}}, "must be a str, int or bool, not NoneType"),
    ],
    ids=repr,
)
def test_query_arguments_of_the_wrong_type(
    s: rosterdb.Store, kwargs: dict[str, Any], message: str
) -> None:
    for call in query_calls(s, kwargs):
        e = unchanged(s, call, TypeError)
        assert message in str(e)


# --- lookups, tenants, credentials, paths ----------------------------------

LOOKUPS: dict[str, Callable[[rosterdb.Store, Any], Any]] = {
    "username": lambda s, v: s.users.get_by_username(v),
    "email": lambda s, v: s.users.get_by_email(v),
    "type": lambda s, v: s.users.get_by_external_id(v, "x"),
    "value": lambda s, v: s.users.get_by_external_id("github", v),
    "client_id": lambda s, v: s.clients.get_by_client_id(v),
    "tenant": lambda s, v: s.users.get_by_username("ann", tenant=v),
}


@pytest.mark.parametrize("argument", list(LOOKUPS))
def test_lookup_keys(s: rosterdb.Store, argument: str) -> None:
    for view in (s, s.scoped("acme")):
        unchanged(s, lambda: LOOKUPS[argument](view, SECRET), rosterdb.NotFoundError)
        for bad in (5, b"ann", [1]):
            e = unchanged(s, lambda: LOOKUPS[argument](view, bad), TypeError)
            assert f"{argument} must be a str" in str(e)


def test_scoped_tenants(s: rosterdb.Store) -> None:
    e = unchanged(s, lambda: s.scoped(SECRET), rosterdb.ValidationError)
    assert [x["field"] for x in e.errors] == ["tenant"]
    bads: list[Any] = [None, 5, b"acme"]
    for bad in bads:
        e = unchanged(s, lambda: s.scoped(bad), TypeError)
        assert "tenant must be a str" in str(e)


def test_credentials_with_lone_surrogates_fail_their_check(s: rosterdb.Store) -> None:
    unchanged(s, lambda: s.login("ann", SECRET), rosterdb.AuthenticationError)
    unchanged(s, lambda: s.users.verify_password(SECRET, PASSWORD), rosterdb.AuthenticationError)
    unchanged(s, lambda: s.login("ann", PASSWORD, tenant=SECRET), rosterdb.AuthenticationError)
    unchanged(s, lambda: s.client_login(SECRET, SECRET, ip=SECRET), rosterdb.AuthenticationError)
    unchanged(s, lambda: s.authenticate(SECRET), rosterdb.InvalidTokenError)
    s.logout(SECRET)
    e = unchanged(s, lambda: s.users.set_password(UID, "pass-" + SECRET),
                  rosterdb.ValidationError)
    assert [x["field"] for x in e.errors] == ["password"]


def test_paths(s: rosterdb.Store, tmp_path: Path) -> None:
    for bad in (str(tmp_path / "x\ud800.redb"), str(tmp_path / "a\x00b")):
        with pytest.raises(rosterdb.StorageError) as info:
            rosterdb.Store(bad)
        assert "\ud800" not in shows(info.value)
        unchanged(s, lambda: s.export_jsonl(bad), rosterdb.StorageError)
        unchanged(s, lambda: s.import_jsonl(bad), rosterdb.StorageError)
    wrongs: list[Any] = [None, 5, [str(tmp_path)]]
    for wrong in wrongs:
        unchanged(s, lambda: s.export_jsonl(wrong), TypeError)
        with pytest.raises(TypeError):
            rosterdb.Store(wrong)
    # A str that encodes as a file name through surrogateescape is a name.
    escaped = tmp_path / "x\udcff.jsonl"
    assert s.export_jsonl(escaped) == 3
    assert escaped.exists()
