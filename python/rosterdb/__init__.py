"""rosterdb: an embedded identity store.

Users, roles (permission groups) and app-clients (service identities) live in
one file, with unique indexes, Argon2id-hashed credentials, all-or-nothing
transactions and a change log::

    import rosterdb

    with rosterdb.Store("roster.redb") as store:
        admins = store.roles.create({"name": "admins", "permissions": ["users:write"]})
        store.users.create({"username": "ada", "email": "ada@example.com",
                            "firstName": "Ada", "lastName": "Lovelace",
                            "roles": [admins["id"]], "password": "analytical-engine"})
        print(store.users.get_by_email("ADA@example.com"))

Documents are plain dicts with the camelCase keys of the specification.
"""

from ._native import Clients, Page, PageWalk, Roles, Store, Transaction, Users
from .errors import (
    AuthenticationError,
    ConflictError,
    FormatError,
    InUseError,
    InvalidTokenError,
    NotFoundError,
    PatchError,
    QueryError,
    RosterError,
    StorageError,
    StoreLockedError,
    ValidationError,
    VersionConflictError,
)

__all__ = [
    "Store",
    "Transaction",
    "Users",
    "Roles",
    "Clients",
    "Page",
    "PageWalk",
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
]
