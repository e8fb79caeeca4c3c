"""The exceptions rosterdb raises: one class per error kind of the spec (§9).

Every class derives from :class:`RosterError`; several also derive from the
built-in exception a Python caller would expect (``LookupError``,
``ValueError``, ``OSError``).
"""

from __future__ import annotations

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
    """No record with that id or key (records of other tenants included)."""


class ConflictError(RosterError):
    """A unique field's value is already taken; ``field`` names it."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


class ValidationError(RosterError, ValueError):
    """A document breaks field rules; ``errors`` lists ``{"field", "message"}`` dicts."""

    def __init__(self, message: str, errors: list[dict[str, str]]) -> None:
        super().__init__(message)
        self.errors = errors


class QueryError(RosterError, ValueError):
    """A malformed filter, sort, projection, page or cursor."""

    def __init__(
        self, message: str, position: Optional[int] = None, field: Optional[str] = None
    ) -> None:
        super().__init__(message)
        self.position = position
        self.field = field


class PatchError(RosterError, ValueError):
    """A malformed JSON Patch operation; ``op_index`` names it."""

    def __init__(self, message: str, op_index: int) -> None:
        super().__init__(message)
        self.op_index = op_index


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
    """An I/O or storage-engine error, or a call on a closed store."""


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
