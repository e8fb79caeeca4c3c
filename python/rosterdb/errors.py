"""The exceptions rosterdb raises: one class per error kind of the spec (§9).

Every class derives from :class:`RosterError`; several also derive from the
built-in exception a Python caller would expect (``LookupError``,
``ValueError``, ``OSError``). ``str(e)`` is the core's description, the same
in every language.

Field, query and patch errors carry a ``code``: a stable snake_case string
naming the kind of problem (``"missing"``, ``"string_too_long"``,
``"unknown_field"``, ``"read_only"``, …), listed with their meanings in
``docs/errors.md``. Match on codes, not messages.
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
    """The base class of every rosterdb error."""


class NotFoundError(RosterError, LookupError):
    """No record with that id or key (records of other tenants included).

    ``entity`` is the kind looked for (``"user"``, ``"role"`` or
    ``"client"``) and ``key`` how it was looked for (``'id 42'``,
    ``'username "alice"'``).
    """

    def __init__(
        self, message: str, entity: Optional[str] = None, key: Optional[str] = None
    ) -> None:
        super().__init__(message)
        self.entity = entity
        self.key = key


class ConflictError(RosterError):
    """A unique field's value is already taken; ``field`` names it and
    ``entity`` the kind of record written (``"user"``, ``"role"``,
    ``"client"``)."""

    def __init__(self, message: str, field: str, entity: Optional[str] = None) -> None:
        super().__init__(message)
        self.field = field
        self.entity = entity


class ValidationError(RosterError, ValueError):
    """A document breaks field rules; ``errors`` lists one
    ``{"field": str, "code": str, "message": str}`` dict per failing field
    (``field`` is ``""`` for the whole document)."""

    def __init__(self, message: str, errors: list[dict[str, str]]) -> None:
        super().__init__(message)
        self.errors = errors


class QueryError(RosterError, ValueError):
    """A malformed filter, sort, projection, page or cursor: ``code`` says
    what kind of problem (``"syntax"``, ``"unknown_field"``, …),
    ``position`` the character position in the expression and ``field`` the
    field or parameter at fault, each when there is one."""

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
    """A malformed JSON Patch operation; ``op_index`` names it and ``code``
    says what kind of problem (``"read_only"``, ``"path_not_found"``, …)."""

    def __init__(self, message: str, op_index: int, code: Optional[str] = None) -> None:
        super().__init__(message)
        self.op_index = op_index
        self.code = code


class VersionConflictError(RosterError):
    """The record's version (``actual``) is not the ``expected`` one."""

    def __init__(self, message: str, expected: int, actual: int) -> None:
        super().__init__(message)
        self.expected = expected
        self.actual = actual


class InUseError(RosterError):
    """A role is still held by ``count`` users or clients."""

    def __init__(self, message: str, count: int) -> None:
        super().__init__(message)
        self.count = count


class AuthenticationError(RosterError):
    """A password or client-secret check failed."""


class InvalidTokenError(RosterError):
    """A session token is unknown, expired or revoked."""


class StoreLockedError(RosterError):
    """The store file is held by another process or store."""


class FormatError(RosterError):
    """The file is not a rosterdb store, or a newer release wrote it."""


class StorageError(RosterError, OSError):
    """An I/O or storage-engine error, or a call on a closed store.

    ``path`` (also ``filename``) names the file when the failure is about
    one (opening a store, export, import), else ``None``. When an
    operating-system error caused it, ``errno`` is its number and
    ``strerror`` its text, as on any ``OSError``; ``str(e)`` stays the
    core's description.
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
    """The store was closed, or the transaction the call went through is not
    open (not entered yet, or already committed or rolled back)."""


class BusyError(StorageError):
    """The call cannot run now because of other work on the same store, e.g.
    ``compact()`` while another call or view holds the store, or a store-level
    write from the thread whose transaction is open (it would wait for
    itself)."""


class ArgumentError(RosterError, ValueError):
    """An option or argument is out of its range, or not an ``int`` where one
    is needed (e.g. ``lockout_seconds=-1``, ``ttl_seconds=0``,
    ``argon2_memory_kib=1``); ``argument`` names it."""

    def __init__(self, message: str, argument: str) -> None:
        super().__init__(message)
        self.argument = argument


class InternalError(RosterError):
    """A bug in rosterdb (a broken invariant). Please report it."""
