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

Documents are plain dicts with camelCase keys (``help(rosterdb.Users)``
lists a user's; docs/reference/documents.md has them all). Every failed
password, code or secret check raises the same :class:`AuthenticationError`;
a bad token raises :class:`InvalidTokenError`; an option or argument out of
range raises :class:`ArgumentError`; every error is a :class:`RosterError`
(docs/reference/errors.md). ``help(rosterdb.Store)`` shows the whole API;
docs/reference/api.md describes it.
"""

from ._native import Clients, Page, PageWalk, Roles, Store, Transaction, Users
from ._native import __version__ as __version__
from .errors import *  # noqa: F403 (the exception classes)
from .errors import __all__ as __all__

# The classes of the extension, then the exception classes (errors.__all__).
# ``__version__`` (a str, e.g. "0.1.0") is not in ``__all__``: a star import
# should not bring it in.
__all__ = [
    "Store",
    "Transaction",
    "Users",
    "Roles",
    "Clients",
    "Page",
    "PageWalk",
    *__all__,
]
