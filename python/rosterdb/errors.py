"""The exceptions rosterdb raises: one class per error kind.

Every class derives from :class:`RosterError`; several also derive from the
built-in exception a Python caller would expect (``LookupError``,
``ValueError``, ``OSError``). ``str(e)`` is the core's description, the same
in every language; it never holds a password, secret or token.

Field, query and patch errors carry a ``code``: a stable snake_case string
naming the kind of problem (``"missing"``, ``"string_too_long"``,
``"unknown_field"``, ``"read_only"``, …). Match on codes, not messages.
The kinds, their codes and when each is raised: see
docs/reference/errors.md.

A wrong Python type for an argument (an ``id`` that is not an ``int``, a
``doc`` that is not a ``dict``) raises the built-in ``TypeError``.
"""

from __future__ import annotations

import os
from typing import Optional

__all__ = [
    "RosterError",
    "NotFoundError",
    "ConflictError",
    "ValidationError",
    "QueryError",
    "PatchError",
    "VersionConflictError",
    "InUseError",
    "AuthenticationError",
    "InvalidTokenError",
    "StoreLockedError",
    "FormatError",
    "StorageError",
    "ClosedError",
    "BusyError",
    "ArgumentError",
    "InternalError",
]


class RosterError(Exception):
    """The base class of every rosterdb error.

    ``except rosterdb.RosterError`` catches them all; the built-in
    ``TypeError`` for an argument of the wrong type is not one.
    """


class NotFoundError(RosterError, LookupError):
    """No record with that id or key; also a ``LookupError``.

    Raised by every ``get*`` call (they never return ``None``) and by calls
    on a record by id. A record of another tenant than a scoped view's is
    not found either.

    Attributes:
        entity (str | None): the kind looked for: ``"user"``, ``"role"`` or
            ``"client"``.
        key (str | None): how it was looked for, e.g. ``'id 42'`` or
            ``'username "alice"'``.
    """

    def __init__(
        self, message: str, entity: Optional[str] = None, key: Optional[str] = None
    ) -> None:
        super().__init__(message)
        self.entity = entity
        self.key = key


class ConflictError(RosterError):
    """A unique field's value is already taken.

    Also raised by ``import_jsonl`` into a store that is not empty.

    Attributes:
        field (str): the taken field, e.g. ``"username"``, ``"email"``
            or ``"name"``.
        entity (str | None): the kind of record written: ``"user"``,
            ``"role"`` or ``"client"``.
    """

    def __init__(self, message: str, field: str, entity: Optional[str] = None) -> None:
        super().__init__(message)
        self.field = field
        self.entity = entity


class ValidationError(RosterError, ValueError):
    """A document breaks the field rules; also a ``ValueError``.

    Every failing field is reported at once. Also raised for a value a
    document cannot hold (NaN, infinity, an int beyond 64 bits, nesting too
    deep), naming where it is (``attributes.level``, ``roles[0]``). The
    rules: see docs/reference/documents.md.

    Attributes:
        errors (list[dict]): one ``{"field": str, "code": str, "message":
            str}`` per failing field (``field`` is ``""`` for the whole
            document).
    """

    def __init__(self, message: str, errors: list[dict[str, str]]) -> None:
        super().__init__(message)
        self.errors = errors


class QueryError(RosterError, ValueError):
    """A malformed filter, sort, projection, page or cursor; also a ``ValueError``.

    See docs/reference/queries.md.

    Attributes:
        code (str | None): the kind of problem (``"syntax"``,
            ``"unknown_field"``, ``"invalid_paging"``, …).
        position (int | None): the character position in the expression,
            when there is one.
        field (str | None): the field or parameter at fault, when there is
            one.
    """

    def __init__(
        self,
        message: str,
        position: Optional[int] = None,
        field: Optional[str] = None,
        code: Optional[str] = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.position = position
        self.field = field


class PatchError(RosterError, ValueError):
    """A malformed or failing RFC 6902 JSON Patch operation; also a ``ValueError``.

    Nothing was changed. See docs/reference/updates.md.

    Attributes:
        op_index (int): the index of the operation in the list.
        code (str | None): the kind of problem (``"read_only"``,
            ``"path_not_found"``, ``"test_failed"``, …).
    """

    def __init__(self, message: str, op_index: int, code: Optional[str] = None) -> None:
        super().__init__(message)
        self.op_index = op_index
        self.code = code


class VersionConflictError(RosterError):
    """The record's ``version`` is not the ``expected_version`` given; nothing changed.

    Not a :class:`ConflictError`. Re-read the record and try again.

    Attributes:
        expected (int): the version the call expected.
        actual (int): the record's version.
    """

    def __init__(self, message: str, expected: int, actual: int) -> None:
        super().__init__(message)
        self.expected = expected
        self.actual = actual


class InUseError(RosterError):
    """A role being deleted is still held by users or clients (use ``cascade=True``).

    Attributes:
        count (int): how many users and clients hold it.
    """

    def __init__(self, message: str, count: int) -> None:
        super().__init__(message)
        self.count = count


class AuthenticationError(RosterError):
    """A password, second-factor code or client-secret check failed.

    The same error, in similar time, for an unknown user, a wrong password,
    a disabled or locked user and a missing or wrong code, so it tells an
    attacker nothing. See docs/reference/credentials.md, Passwords.
    """


class InvalidTokenError(RosterError):
    """A session token is malformed, unknown, expired or revoked.

    Also when its user or client was deleted or disabled, or belongs to
    another tenant than a scoped view's. See docs/reference/credentials.md,
    Sessions.
    """


class StoreLockedError(RosterError):
    """The store file is held by another process or open store.

    ``Store(path)`` raises it at once, without waiting.
    """


class FormatError(RosterError):
    """The file is not a rosterdb store, or a newer release wrote it.

    ``Store(path)`` raises it; the file is left as it is. See
    docs/reference/storage.md.
    """


class StorageError(RosterError, OSError):
    """An I/O or storage-engine error, or a call on a closed store.

    Also an ``OSError``. Also raised by a whole-store operation (``export_jsonl``,
    ``import_jsonl``, ``check``, ``compact``) on a scoped view. ``str(e)``
    stays the core's description.

    Attributes:
        path (str | None): the file the failure is about (opening a store,
            export, import), else ``None``; also ``filename``.
        errno (int | None): the operating system's error number, when one
            caused it.
        strerror (str | None): that error's text, as on any ``OSError``.
    """

    def __init__(
        self, message: str, path: Optional[str] = None, errno: Optional[int] = None
    ) -> None:
        super().__init__(message)
        self.path = path
        self.filename = path
        self.errno = errno
        self.strerror = os.strerror(errno) if errno is not None else None

    def __str__(self) -> str:
        # OSError would show "[Errno n] strerror: 'filename'" instead.
        return str(self.args[0]) if self.args else ""


class ClosedError(StorageError):
    """The store is closed, or the transaction the call went through is not open.

    Not open: not entered yet, or already committed or rolled back. A
    :class:`StorageError`, as every call on a closed store raises.
    """


class BusyError(StorageError):
    """The call cannot run now because of other work on the same store.

    A :class:`StorageError`. E.g. ``compact()`` while another call or view holds the store, or a
    store-level write from the thread whose transaction is open (it would
    wait for itself: write through the transaction instead).
    """


class ArgumentError(RosterError, ValueError):
    """An option or argument is out of its range, or not an ``int``.

    Also a ``ValueError``. E.g. ``lockout_seconds=-1``, ``ttl_seconds=0``, ``argon2_memory_kib=1``,
    ``changes(after=-1)``, or a login through a transaction.

    Attributes:
        argument (str): the argument's name (``"lockout_seconds"``,
            ``"transaction"``, …).
    """

    def __init__(self, message: str, argument: str) -> None:
        super().__init__(message)
        self.argument = argument


class InternalError(RosterError):
    """A bug in rosterdb (a broken invariant). Please report it, with ``str(e)``."""
