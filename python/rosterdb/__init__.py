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
        session = store.login("ada", "analytical-engine")   # 15-minute bearer token
        print(store.authenticate(session["token"])["permissions"])  # ['users:write']

Documents are plain dicts with the camelCase keys of the specification.
Every failed password, code or secret check raises the same
:class:`AuthenticationError`; a bad token raises :class:`InvalidTokenError`;
an option or argument out of range raises :class:`ArgumentError`.
"""

from ._native import Clients, Page, PageWalk, Roles, Store, Transaction, Users
from .errors import *  # noqa: F403 (the exception classes)
from .errors import __all__ as __all__

# The classes of the extension, then the exception classes (errors.__all__).
__all__ = ["Store", "Transaction", "Users", "Roles", "Clients", "Page", "PageWalk", *__all__]
