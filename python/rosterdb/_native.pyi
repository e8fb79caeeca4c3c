"""Type stubs of the native extension; import from ``rosterdb`` instead."""

import os
from collections.abc import Iterator
from types import TracebackType
from typing import Any, Literal, Optional, TypedDict, Union, final

__all__ = ["Clients", "Page", "PageWalk", "Roles", "Store", "Transaction", "Users", "__version__"]

__version__: str

_Document = dict[str, Any]
_Names = Union[str, list[str]]

class _Login(TypedDict):
    token: str
    expiresAt: str
    user: _Document

class _ClientLogin(TypedDict):
    token: str
    expiresAt: str
    client: _Document

class _Principal(TypedDict):
    kind: Literal["user", "client"]
    id: int
    tenant: Optional[str]
    roles: list[int]
    permissions: list[str]
    expiresAt: str

class _Session(TypedDict):
    createdAt: str
    expiresAt: str

class _TotpEnrollment(TypedDict):
    secret: str
    uri: str

class _Sessions:
    def authenticate(self, token: str) -> _Principal:
        """Who a session token stands for, with the permissions of their roles now.

        Role changes take effect at once. See
        docs/reference/credentials.md, Sessions.

        Args:
            token (str): a token ``login`` or ``client_login`` returned.

        Returns:
            dict: ``{"kind": "user" | "client", "id": int, "tenant":
            str | None, "roles": [int], "permissions": [str],
            "expiresAt": str (RFC 3339 UTC)}``.

        Raises:
            InvalidTokenError: the token is malformed, unknown,
                expired or revoked, or its user or client was
                deleted or disabled (or belongs to another tenant
                than a scoped view's).
            TypeError: ``token`` is not a ``str``.
            ClosedError: the store is closed (in a transaction: or
                the transaction is not open).
        """
    def logout(self, token: str) -> None:
        """Ends the session of a token; an unknown, expired or malformed token is a no-op.

        Args:
            token (str): a token ``login`` or ``client_login`` returned.

        Raises:
            TypeError: ``token`` is not a ``str``.
            BusyError: on the store, this thread has a transaction
                open (log out through it).
            ClosedError: the store is closed (in a transaction: or
                the transaction is not open).
        """

class _Logins(_Sessions):
    def login(
        self,
        identifier: str,
        password: str,
        tenant: Optional[str] = None,
        ttl_seconds: int = 900,
        totp_code: Optional[str] = None,
    ) -> _Login:
        """Checks a user's credentials and opens a session.

        The checks are those of ``users.verify_password`` (password, second
        factor, enabled, not locked; failures count towards the lockout).
        See docs/reference/credentials.md, Sessions.

        Args:
            identifier (str): a username or an email (any case).
            password (str): the password, normalised as an RFC 8265 §4.2
                OpaqueString before it is checked.
            tenant (str | None): the user's tenant; ``None`` means users
                without one (a scoped view uses its own).
            ttl_seconds (int): the session's lifetime in seconds (1 to
                2,592,000, 30 days; default 900).
            totp_code (str | None): for a user with ``totpEnabled``, a
                current RFC 6238 code or an unused recovery code.

        Returns:
            dict: ``{"token": str, "expiresAt": str (RFC 3339 UTC), "user":
            dict}``; the bearer token (``rs_`` + 43 base64url characters) is
            shown only here, and ``user`` is the user document with
            ``lastLoginAt`` set.

        Raises:
            AuthenticationError: any failed check (unknown user, wrong
                password, disabled or locked user, missing or wrong code),
                all alike.
            ArgumentError: ``ttl_seconds`` is not an ``int`` from 1 to
                2,592,000.
            TypeError: a text argument is not a ``str``.
            BusyError: this thread has a transaction open.
            ClosedError: the store is closed.
        """
    def client_login(
        self,
        client_id: str,
        secret: str,
        ip: Optional[str] = None,
        ttl_seconds: int = 900,
    ) -> _ClientLogin:
        """Checks an app-client's secret and opens a session for it.

        The client must be enabled and, when its ``ipAllowlist`` is not
        empty, ``ip`` must match an entry (an IPv4-mapped IPv6 address
        ``::ffff:a.b.c.d`` matches as ``a.b.c.d``). Sets ``lastUsedAt``
        (bookkeeping: no version bump). See docs/reference/credentials.md,
        Client logins.

        Args:
            client_id (str): the client's public ``clientId`` (``rc_`` + 22
                base62 characters).
            secret (str): the secret ``clients.create`` or
                ``clients.rotate_secret`` returned.
            ip (str | None): the caller's IPv4 or IPv6 address; ``None``
                fails against a non-empty allowlist.
            ttl_seconds (int): the session's lifetime in seconds (1 to
                2,592,000; default 900).

        Returns:
            dict: ``{"token": str, "expiresAt": str (RFC 3339 UTC),
            "client": dict}``; the token is shown only here.

        Raises:
            AuthenticationError: any failed check (unknown client, wrong
                secret, disabled, address not allowed), all alike.
            ArgumentError: ``ttl_seconds`` is not an ``int`` from 1 to
                2,592,000.
            TypeError: a text argument is not a ``str``.
            BusyError: this thread has a transaction open.
            ClosedError: the store is closed.
        """

@final
class Page:
    """One page of a query's results, as ``list`` returns it.

    Iterating it yields its documents, and ``len(page)`` counts them:

        page = store.users.list(sort="lastName", page_size=50, with_total=True)
        while True:
            for user in page: ...
            if page.next_cursor is None: break
            page = store.users.list(cursor=page.next_cursor)

    See docs/reference/queries.md, Results, paging and planning.
    """

    @property
    def items(self) -> list[_Document]:
        """list[dict]: the documents of the page, projected to ``fields`` when given."""
    @property
    def total(self) -> Optional[int]:
        """int | None: the number of all matches with ``with_total=True``; else ``None``."""
    @property
    def next_cursor(self) -> Optional[str]:
        """str | None: the opaque cursor of the next page; ``None`` on the last page.

        ``list(cursor=...)`` continues the query; a cursor stays valid
        across writes.
        """
    def __len__(self) -> int: ...
    def __iter__(self) -> Iterator[_Document]: ...

@final
class PageWalk:
    """An iterator of every match of a query, as ``iter`` returns it.

    It fetches ``page_size`` documents at a time with cursors, so it never
    skips or repeats a document that exists unchanged for the whole walk.
    Each fetch may raise the errors of ``list`` (``ClosedError`` once the
    store is closed). See docs/reference/queries.md, Results, paging and
    planning.
    """

    def __iter__(self) -> PageWalk: ...
    def __next__(self) -> _Document: ...

class _Updatable:
    def patch(
        self, id: int, ops: list[dict[str, Any]], expected_version: Optional[int] = None
    ) -> _Document:
        """Applies an RFC 6902 JSON Patch to a record, all or nothing.

        Operations: ``add``, ``remove``, ``replace``, ``move``,
        ``copy`` and ``test`` on the camelCase document; read-only
        fields may only be read by ``test``, and ``add`` or
        ``replace`` on ``/password`` sets a user's password. A failed
        operation or a result that breaks the field rules leaves the
        record as it was. See docs/reference/updates.md.

            store.users.patch(7, [
                {"op": "test", "path": "/version", "value": 3},
                {"op": "replace", "path": "/lastName", "value": "Byron"},
            ])

        Args:
            id (int): the record's id.
            ops (list[dict]): the operations, each ``{"op": str,
                "path": str, ...}`` (with ``"value"`` or ``"from"``
                as the operation needs).
            expected_version (int | None): when given, change the record
                only if its ``version`` is this one (optimistic
                concurrency, like HTTP If-Match).

        Returns:
            dict: the record's document after the update; an update
            that changes nothing writes nothing (no version bump).

        Raises:
            ValidationError: the result breaks the field rules
                (``errors`` lists every failing field).
            PatchError: an operation is malformed, names a
                read-only field or fails (``op_index`` names it,
                ``code`` the problem).
            ConflictError: a unique value is taken (``field``
                names it).
            VersionConflictError: the record's ``version`` is not
                ``expected_version``; nothing changed.
            NotFoundError: no record of the collection has this id.
            ArgumentError: ``expected_version`` is not ``None`` or an
                ``int`` from 0 to 2**64 - 1.
            TypeError: ``id`` is not an ``int``, or ``ops`` is of the wrong type.
            BusyError: this thread has a transaction open (use it).
            ClosedError: the store is closed (or the transaction the
                call goes through is not open).
        """
    def merge(
        self, id: int, partial: _Document, expected_version: Optional[int] = None
    ) -> _Document:
        """Applies an RFC 7396 JSON Merge Patch to a record.

        Keys of ``partial`` replace the document's (objects such as
        ``attributes`` are merged key by key); ``None`` removes an
        optional field. Read-only fields are accepted only when equal
        to the stored value, so a fetched document can be sent back.
        See docs/reference/updates.md.

        Args:
            id (int): the record's id.
            partial (dict): the fields to change, camelCase keys.
            expected_version (int | None): when given, change the record
                only if its ``version`` is this one (optimistic
                concurrency, like HTTP If-Match).

        Returns:
            dict: the record's document after the update; an update
            that changes nothing writes nothing (no version bump).

        Raises:
            ValidationError: the result breaks the field rules
                (``errors`` lists every failing field).
            ConflictError: a unique value is taken (``field``
                names it).
            VersionConflictError: the record's ``version`` is not
                ``expected_version``; nothing changed.
            NotFoundError: no record of the collection has this id.
            ArgumentError: ``expected_version`` is not ``None`` or an
                ``int`` from 0 to 2**64 - 1.
            TypeError: ``id`` is not an ``int``, or ``partial`` is of the wrong type.
            BusyError: this thread has a transaction open (use it).
            ClosedError: the store is closed (or the transaction the
                call goes through is not open).
        """
    def replace(
        self, id: int, doc: _Document, expected_version: Optional[int] = None
    ) -> _Document:
        """Replaces every writable field of a record (a PUT).

        Absent optional fields are cleared and absent defaulted ones
        take their defaults; the tenant and a user's password are
        kept unless given. Read-only fields are accepted only when
        equal to the stored value. See docs/reference/updates.md.

        Args:
            id (int): the record's id.
            doc (dict): the whole document, camelCase keys.
            expected_version (int | None): when given, change the record
                only if its ``version`` is this one (optimistic
                concurrency, like HTTP If-Match).

        Returns:
            dict: the record's document after the update; an update
            that changes nothing writes nothing (no version bump).

        Raises:
            ValidationError: the result breaks the field rules
                (``errors`` lists every failing field).
            ConflictError: a unique value is taken (``field``
                names it).
            VersionConflictError: the record's ``version`` is not
                ``expected_version``; nothing changed.
            NotFoundError: no record of the collection has this id.
            ArgumentError: ``expected_version`` is not ``None`` or an
                ``int`` from 0 to 2**64 - 1.
            TypeError: ``id`` is not an ``int``, or ``doc`` is of the wrong type.
            BusyError: this thread has a transaction open (use it).
            ClosedError: the store is closed (or the transaction the
                call goes through is not open).
        """

class _Queryable:
    def list(
        self,
        *,
        where: Optional[str] = None,
        search: Optional[str] = None,
        filters: Optional[dict[str, Union[str, int, bool]]] = None,
        sort: Optional[_Names] = None,
        fields: Optional[_Names] = None,
        page: Optional[int] = None,
        page_size: Optional[int] = None,
        offset: Optional[int] = None,
        limit: Optional[int] = None,
        cursor: Optional[str] = None,
        with_total: bool = False,
    ) -> Page:
        """One page of the matching documents.

        Field names are caseless; strings compare caselessly.
        See docs/reference/queries.md.

        Args:
            where (str | None): an expression, e.g. ``"enabled = true and
                (lastName like 'ho%' or roles in (1, 2))"``: tests ``=
                != < <= > >= like co sw ew in pr``, ``is [not] null``,
                joined by ``and``/``or``/``not`` and parentheses
                (SQL- and SCIM-style operators alike).
            search (str | None): free text; every whitespace-separated
                term must occur, caselessly, in a searchable text field.
            filters (dict | None): the parameter form, ``{field: value}``
                ANDed, each value a ``str``, ``int`` or ``bool``: ``x``
                (equals), ``"in:x,y"``, ``"like:Ho%"``, or ``"eq:"``,
                ``"ne:"``, ``"gt:"``, ``"ge:"``, ``"lt:"``, ``"le:"`` and a
                value, e.g. ``{"lastName": "like:Ho%", "roles": "in:1,2"}``.
            sort (str | list[str] | None): keys, each optionally ``:asc``
                or ``:desc`` (``"lastName,firstName:desc"`` or a list);
                default ``id``, which always breaks ties.
            fields (str | list[str] | None): the top-level fields to
                return (``"id,username"`` or a list); ``id`` always is.
            page (int | None): the page number, from 1 (default 1).
            page_size (int | None): documents per page, 1 to 1000
                (default 100).
            offset (int | None): documents to skip (0 or more), with
                ``limit`` instead of ``page``/``page_size``.
            limit (int | None): documents to return, 1 to 1000.
            cursor (str | None): a previous page's ``next_cursor``; it
                carries its query, so ``cursor=`` alone continues it.
            with_total (bool): also count every match (``Page.total``).

        Returns:
            Page: ``items`` (the documents, projected to ``fields``),
            ``total`` (with ``with_total``) and ``next_cursor``.

        Raises:
            QueryError: a syntax error, unknown field, type mismatch,
                bad paging value or cursor (``code``, and ``position`` or
                ``field`` name it).
            TypeError: an argument is of the wrong type.
            ClosedError: the store is closed (or the transaction the
                call goes through is not open).
        """
    def iter(
        self,
        *,
        where: Optional[str] = None,
        search: Optional[str] = None,
        filters: Optional[dict[str, Union[str, int, bool]]] = None,
        sort: Optional[_Names] = None,
        fields: Optional[_Names] = None,
        page_size: Optional[int] = None,
    ) -> PageWalk:
        """Every matching document, fetched ``page_size`` at a time.

        The walk pages with cursors: it never skips or repeats a
        document that exists unchanged for the whole walk.

        Field names are caseless; strings compare caselessly.
        See docs/reference/queries.md.

        Args:
            where (str | None): an expression, e.g. ``"enabled = true and
                (lastName like 'ho%' or roles in (1, 2))"``: tests ``=
                != < <= > >= like co sw ew in pr``, ``is [not] null``,
                joined by ``and``/``or``/``not`` and parentheses
                (SQL- and SCIM-style operators alike).
            search (str | None): free text; every whitespace-separated
                term must occur, caselessly, in a searchable text field.
            filters (dict | None): the parameter form, ``{field: value}``
                ANDed, each value a ``str``, ``int`` or ``bool``: ``x``
                (equals), ``"in:x,y"``, ``"like:Ho%"``, or ``"eq:"``,
                ``"ne:"``, ``"gt:"``, ``"ge:"``, ``"lt:"``, ``"le:"`` and a
                value, e.g. ``{"lastName": "like:Ho%", "roles": "in:1,2"}``.
            sort (str | list[str] | None): keys, each optionally ``:asc``
                or ``:desc`` (``"lastName,firstName:desc"`` or a list);
                default ``id``, which always breaks ties.
            fields (str | list[str] | None): the top-level fields to
                return (``"id,username"`` or a list); ``id`` always is.
            page_size (int | None): documents per fetch, 1 to 1000
                (default 100).

        Returns:
            PageWalk: an iterator of the documents (dicts); each fetch
            may raise the errors below.

        Raises:
            QueryError: a syntax error, unknown field, type mismatch,
                bad paging value or cursor (``code``, and ``position`` or
                ``field`` name it).
            TypeError: an argument is of the wrong type.
            ClosedError: the store is closed (or the transaction the
                call goes through is not open).
        """
    def count(
        self,
        *,
        where: Optional[str] = None,
        search: Optional[str] = None,
        filters: Optional[dict[str, Union[str, int, bool]]] = None,
    ) -> int:
        """The number of matching documents.

        Field names are caseless; strings compare caselessly.
        See docs/reference/queries.md.

        Args:
            where (str | None): an expression, e.g. ``"enabled = true and
                (lastName like 'ho%' or roles in (1, 2))"``: tests ``=
                != < <= > >= like co sw ew in pr``, ``is [not] null``,
                joined by ``and``/``or``/``not`` and parentheses
                (SQL- and SCIM-style operators alike).
            search (str | None): free text; every whitespace-separated
                term must occur, caselessly, in a searchable text field.
            filters (dict | None): the parameter form, ``{field: value}``
                ANDed, each value a ``str``, ``int`` or ``bool``: ``x``
                (equals), ``"in:x,y"``, ``"like:Ho%"``, or ``"eq:"``,
                ``"ne:"``, ``"gt:"``, ``"ge:"``, ``"lt:"``, ``"le:"`` and a
                value, e.g. ``{"lastName": "like:Ho%", "roles": "in:1,2"}``.

        Returns:
            int: how many documents match.

        Raises:
            QueryError: a syntax error, unknown field, type mismatch,
                bad paging value or cursor (``code``, and ``position`` or
                ``field`` name it).
            TypeError: an argument is of the wrong type.
            ClosedError: the store is closed (or the transaction the
                call goes through is not open).
        """
    def exists(
        self,
        *,
        where: Optional[str] = None,
        search: Optional[str] = None,
        filters: Optional[dict[str, Union[str, int, bool]]] = None,
    ) -> bool:
        """Whether any document matches.

        Field names are caseless; strings compare caselessly.
        See docs/reference/queries.md.

        Args:
            where (str | None): an expression, e.g. ``"enabled = true and
                (lastName like 'ho%' or roles in (1, 2))"``: tests ``=
                != < <= > >= like co sw ew in pr``, ``is [not] null``,
                joined by ``and``/``or``/``not`` and parentheses
                (SQL- and SCIM-style operators alike).
            search (str | None): free text; every whitespace-separated
                term must occur, caselessly, in a searchable text field.
            filters (dict | None): the parameter form, ``{field: value}``
                ANDed, each value a ``str``, ``int`` or ``bool``: ``x``
                (equals), ``"in:x,y"``, ``"like:Ho%"``, or ``"eq:"``,
                ``"ne:"``, ``"gt:"``, ``"ge:"``, ``"lt:"``, ``"le:"`` and a
                value, e.g. ``{"lastName": "like:Ho%", "roles": "in:1,2"}``.

        Returns:
            bool: ``True`` when at least one document matches.

        Raises:
            QueryError: a syntax error, unknown field, type mismatch,
                bad paging value or cursor (``code``, and ``position`` or
                ``field`` name it).
            TypeError: an argument is of the wrong type.
            ClosedError: the store is closed (or the transaction the
                call goes through is not open).
        """
    def explain(
        self,
        *,
        where: Optional[str] = None,
        search: Optional[str] = None,
        filters: Optional[dict[str, Union[str, int, bool]]] = None,
        sort: Optional[_Names] = None,
        fields: Optional[_Names] = None,
        page: Optional[int] = None,
        page_size: Optional[int] = None,
        offset: Optional[int] = None,
        limit: Optional[int] = None,
        cursor: Optional[str] = None,
        with_total: bool = False,
    ) -> str:
        """How a ``list`` with these arguments would run, without running it.

        Field names are caseless; strings compare caselessly.
        See docs/reference/queries.md.

        Args:
            where (str | None): an expression, e.g. ``"enabled = true and
                (lastName like 'ho%' or roles in (1, 2))"``: tests ``=
                != < <= > >= like co sw ew in pr``, ``is [not] null``,
                joined by ``and``/``or``/``not`` and parentheses
                (SQL- and SCIM-style operators alike).
            search (str | None): free text; every whitespace-separated
                term must occur, caselessly, in a searchable text field.
            filters (dict | None): the parameter form, ``{field: value}``
                ANDed, each value a ``str``, ``int`` or ``bool``: ``x``
                (equals), ``"in:x,y"``, ``"like:Ho%"``, or ``"eq:"``,
                ``"ne:"``, ``"gt:"``, ``"ge:"``, ``"lt:"``, ``"le:"`` and a
                value, e.g. ``{"lastName": "like:Ho%", "roles": "in:1,2"}``.
            sort (str | list[str] | None): keys, each optionally ``:asc``
                or ``:desc`` (``"lastName,firstName:desc"`` or a list);
                default ``id``, which always breaks ties.
            fields (str | list[str] | None): the top-level fields to
                return (``"id,username"`` or a list); ``id`` always is.
            page (int | None): the page number, from 1 (default 1).
            page_size (int | None): documents per page, 1 to 1000
                (default 100).
            offset (int | None): documents to skip (0 or more), with
                ``limit`` instead of ``page``/``page_size``.
            limit (int | None): documents to return, 1 to 1000.
            cursor (str | None): a previous page's ``next_cursor``; it
                carries its query, so ``cursor=`` alone continues it.
            with_total (bool): also count every match (``Page.total``).

        Returns:
            str: the plan as text: the index used, the order, the
            checks left for each candidate.

        Raises:
            QueryError: a syntax error, unknown field, type mismatch,
                bad paging value or cursor (``code``, and ``position`` or
                ``field`` name it).
            TypeError: an argument is of the wrong type.
            ClosedError: the store is closed (or the transaction the
                call goes through is not open).
        """

@final
class Store(_Logins):
    """An open rosterdb store; also a context manager that closes it.

        with rosterdb.Store("roster.redb") as store:
            store.users.create({"username": "ada", "email": "ada@example.com",
                                "firstName": "Ada", "lastName": "Lovelace"})

    ``store.users``, ``store.roles`` and ``store.clients`` hold the records;
    each call is its own durable transaction unless grouped with
    ``with store.transaction() as tx:``. Commits are appended to a
    write-ahead log beside the file (``<path>-wal``), which a clean close
    folds into the file: back a store up after closing it, or copy both
    files together. The whole Python API: see docs/reference/api.md.

    Args:
        path (str | bytes | os.PathLike): the store file; created when
            missing (a 0-byte file is initialised as a new store).
        lockout_threshold (int): failed password checks in a row that lock
            a user (0: never; default 5). See
            docs/reference/credentials.md, Lockout.
        lockout_seconds (int): how long a lock lasts, in seconds (1 to
            31,536,000, one year; default 900).
        argon2_memory_kib (int): the memory of Argon2id for new password
            and secret hashes, in KiB (8 per lane to 1,048,576; default
            19456, the OWASP minimum).
        argon2_iterations (int): Argon2id passes (1 to 100; default 2).
        argon2_parallelism (int): Argon2id lanes (1 to 64; default 1).
        cache_bytes (int): the most bytes of file pages kept in memory (at
            least 1 MiB, 1,048,576; default 256 MiB, 268,435,456); the cache
            fills as pages are read or written and never holds more than the
            file.
        totp_issuer (str | None): the issuer that authenticator apps show
            for this store's TOTP secrets, in the ``otpauth://`` URI that
            ``users.totp_enroll`` returns (1 to 100 characters, no ``:`` and
            no control characters; ``None``, the default, is ``"rosterdb"``). See
            docs/reference/credentials.md, Second factor (TOTP).

    Raises:
        ArgumentError: an option has the wrong type (``totp_issuer`` not a
            ``str``, any other not an ``int``) or is out of its range
            (``argument`` names it), checked before any file is created.
        TypeError: ``path`` is not a ``str``, ``bytes`` or ``os.PathLike``.
        StoreLockedError: another process or open store holds the file.
        FormatError: the file is not a rosterdb store, or a newer release
            wrote it.
        StorageError: the file cannot be created, opened or read (``path``
            names it; ``errno`` is the system's error number).
    """

    def __new__(
        cls,
        path: Union[str, os.PathLike[str]],
        *,
        lockout_threshold: int = 5,
        lockout_seconds: int = 900,
        argon2_memory_kib: int = 19456,
        argon2_iterations: int = 2,
        argon2_parallelism: int = 1,
        cache_bytes: int = 268435456,
        totp_issuer: Optional[str] = None,
    ) -> Store: ...
    @classmethod
    def memory(
        cls,
        *,
        lockout_threshold: int = 5,
        lockout_seconds: int = 900,
        argon2_memory_kib: int = 19456,
        argon2_iterations: int = 2,
        argon2_parallelism: int = 1,
        cache_bytes: int = 268435456,
        totp_issuer: Optional[str] = None,
    ) -> Store:
        """An in-memory store, for tests and examples; gone when closed.

        Args:
            lockout_threshold (int): as for ``Store(path, ...)``.
            lockout_seconds (int): as for ``Store(path, ...)``, in seconds.
            argon2_memory_kib (int): as for ``Store(path, ...)``, in KiB.
            argon2_iterations (int): as for ``Store(path, ...)``.
            argon2_parallelism (int): as for ``Store(path, ...)``.
            cache_bytes (int): as for ``Store(path, ...)``, in bytes.
            totp_issuer (str | None): as for ``Store(path, ...)``.

        Returns:
            Store: a new, empty store.

        Raises:
            ArgumentError: an option has the wrong type or is out of its
                range (``argument`` names it).
        """
    @property
    def users(self) -> Users:
        """Users: the users of the store (of its tenant in a scoped view).

        Create, look up, query, update and delete users, and
        administer their passwords, second factor and sessions;
        ``help(rosterdb.Users)`` lists the document's fields and the
        calls. Reading the attribute never raises; its calls do.

        Each call is its own durable transaction.
        """
    @property
    def roles(self) -> Roles:
        """Roles: the roles of the store (of its tenant in a scoped view).

        Roles are permission groups; ``help(rosterdb.Roles)`` lists
        the document's fields and the calls. Reading the attribute
        never raises; its calls do.

        Each call is its own durable transaction.
        """
    @property
    def clients(self) -> Clients:
        """Clients: the app-clients of the store (of its tenant in a scoped view).

        App-clients are service identities; ``help(rosterdb.Clients)``
        lists the document's fields and the calls. Reading the
        attribute never raises; its calls do.

        Each call is its own durable transaction.
        """
    def transaction(self) -> Transaction:
        """A write transaction, begun by its ``with`` block.

            with store.transaction() as tx:
                role = tx.roles.create({"name": "ops"})
                tx.users.merge(7, {"roles": [role["id"]]})

        Everything in the block commits together, durably, or nothing does
        when an exception leaves it. See docs/reference/transactions.md.

        Returns:
            Transaction: not begun yet; entering it waits for any other
            thread's transaction. In a scoped view it sees the view's tenant.
        """
    def scoped(self, tenant: str) -> Store:
        """A view of one tenant, with the whole store API.

        Creates set the tenant; lookups, lists, counts, cursors and the
        change log see only its records, and another tenant's record is
        ``NotFoundError``. Whole-store operations (``export_jsonl``,
        ``import_jsonl``, ``check``, ``compact``) raise ``StorageError``
        there. Closing the store closes its views. See
        docs/reference/tenancy.md.

        Args:
            tenant (str): 1 to 64 characters of ``[A-Za-z0-9._:-]``,
                compared exactly (case-sensitively).

        Returns:
            Store: the view, sharing this store.

        Raises:
            TypeError: ``tenant`` is not a ``str``.
            ValidationError: ``tenant`` is not a valid tenant (the field is
                ``tenant``).
            ClosedError: the store is closed.
        """
    @property
    def tenant(self) -> Optional[str]:
        """str | None: the tenant of a scoped view; ``None`` for the whole store."""
    def changes(self, after: int = 0, limit: int = 100) -> list[_Document]:
        """Change-log entries after sequence number ``after``, oldest first.

        Every committed write appends one entry in its own
        transaction, so another system can follow the store (sync,
        audit). It reads the committed entries (in a scoped view, those of the tenant's records). See
        docs/reference/changes-and-export.md.

        Args:
            after (int): the ``seq`` to read after (0 to 2**64 - 1;
                default 0, from the start).
            limit (int): the most entries to return (1 to 1000;
                default 100).

        Returns:
            list[dict]: up to ``limit`` entries ``{"seq": int, "at":
            str (RFC 3339 UTC), "entity": "user" | "role" | "client",
            "id": int, "op": "create" | "update" | "delete",
            "version": int}``; a delete's entry carries the last
            version.

        Raises:
            ArgumentError: ``after`` is not an ``int`` from 0 to
                2**64 - 1.
            QueryError: ``limit`` is not an ``int`` from 1 to 1000
                (``field`` is ``"limit"``).
            ClosedError: the store is closed.
        """
    def export_jsonl(self, path: Union[str, os.PathLike[str]]) -> int:
        """Writes every role, user and client to a file as JSON Lines.

        One ``{"kind": "role" | "user" | "client", "doc": dict}`` per line,
        roles first, from one snapshot; a user's doc carries
        ``passwordHash`` (a PHC string) when it has a password and a
        client's ``secretHash``, never plaintext. See
        docs/reference/changes-and-export.md.

        Args:
            path (str | bytes | os.PathLike): the file to write (replaced
                when it exists).

        Returns:
            int: the number of records written.

        Raises:
            TypeError: ``path`` is not a ``str``, ``bytes`` or ``os.PathLike``.
            StorageError: the file cannot be written (``path`` names it), or
                the call went to a scoped view (whole-store operations are
                refused there).
            ClosedError: the store is closed.
        """
    def import_jsonl(self, path: Union[str, os.PathLike[str]]) -> int:
        """Loads a file ``export_jsonl`` wrote into this empty store, all or nothing.

        Ids, timestamps, versions and credential hashes are kept, so logins
        still work and later ids do not collide; each record gets one
        ``create`` change-log entry. See docs/reference/changes-and-export.md.

        Args:
            path (str | bytes | os.PathLike): the file to read.

        Returns:
            int: the number of records read.

        Raises:
            TypeError: ``path`` is not a ``str``, ``bytes`` or ``os.PathLike``.
            ConflictError: the store is not empty.
            ValidationError: a line is not a valid record (the field names
                the line).
            StorageError: the file cannot be read (``path`` names it), or
                the call went to a scoped view.
            BusyError: this thread has a transaction open.
            ClosedError: the store is closed.
        """
    def check(self) -> dict[str, Any]:
        """Checks that the indexes and the records agree.

        Every index entry is checked against its record, and every record
        against the indexes. See docs/reference/changes-and-export.md.

        Returns:
            dict: ``{"ok": bool, "problems": [str, ...]}``, one line per
            mismatch found (none when ``ok``).

        Raises:
            StorageError: the store cannot be read, or the call went to a
                scoped view.
            ClosedError: the store is closed.
        """
    def compact(self) -> bool:
        """Reclaims unused file space; other calls wait while it runs.

        Returns:
            bool: whether any space was reclaimed.

        Raises:
            BusyError: another call, a scoped view's call or an open
                transaction holds the store.
            StorageError: the file cannot be written, or the call went to a
                scoped view.
            ClosedError: the store is closed.
        """
    def close(self) -> None:
        """Closes the store and every view of it; closing again does nothing.

        Later calls raise ``ClosedError`` (a ``StorageError``). The file
        closes when the calls running now end, or, while a transaction is
        open, when it ends (it is then rolled back); a clean close folds the
        write-ahead log into the file. It may wait on the disk. Never
        raises.
        """
    def __enter__(self) -> Store: ...
    def __exit__(self, *_exc: object) -> bool: ...

@final
class Transaction(_Sessions):
    """A write transaction, made by ``store.transaction()``.

        with store.transaction() as tx:
            tx.users.create({...})

    Everything in the ``with`` block commits together, durably, or nothing
    does when an exception leaves the block. Reads inside see the
    transaction's own writes; a call that raised leaves no trace and the
    transaction goes on. ``tx.users``, ``tx.roles`` and ``tx.clients`` have
    the calls of the store's collections; logins and password checks are
    refused inside (``ArgumentError``: a rollback would undo their failure
    count). Entering waits for any other thread's transaction; entering
    raises ``BusyError`` when this transaction was begun before or this
    thread holds another open one, and ``ClosedError`` when the store is
    closed. Leaving raises ``ClosedError`` when the store was closed
    meanwhile (the transaction is rolled back). See
    docs/reference/transactions.md.
    """

    @property
    def users(self) -> Users:
        """Users: the users inside the transaction.

        Create, look up, query, update and delete users, and
        administer their passwords, second factor and sessions;
        ``help(rosterdb.Users)`` lists the document's fields and the
        calls. Reading the attribute never raises; its calls do.

        Writes through them commit or roll back with the transaction.
        """
    @property
    def roles(self) -> Roles:
        """Roles: the roles inside the transaction.

        Roles are permission groups; ``help(rosterdb.Roles)`` lists
        the document's fields and the calls. Reading the attribute
        never raises; its calls do.

        Writes through them commit or roll back with the transaction.
        """
    @property
    def clients(self) -> Clients:
        """Clients: the app-clients inside the transaction.

        App-clients are service identities; ``help(rosterdb.Clients)``
        lists the document's fields and the calls. Reading the
        attribute never raises; its calls do.

        Writes through them commit or roll back with the transaction.
        """
    def changes(self, after: int = 0, limit: int = 100) -> list[_Document]:
        """Change-log entries after sequence number ``after``, oldest first.

        Every committed write appends one entry in its own
        transaction, so another system can follow the store (sync,
        audit). It reads the committed entries and this transaction's own. See
        docs/reference/changes-and-export.md.

        Args:
            after (int): the ``seq`` to read after (0 to 2**64 - 1;
                default 0, from the start).
            limit (int): the most entries to return (1 to 1000;
                default 100).

        Returns:
            list[dict]: up to ``limit`` entries ``{"seq": int, "at":
            str (RFC 3339 UTC), "entity": "user" | "role" | "client",
            "id": int, "op": "create" | "update" | "delete",
            "version": int}``; a delete's entry carries the last
            version.

        Raises:
            ArgumentError: ``after`` is not an ``int`` from 0 to
                2**64 - 1.
            QueryError: ``limit`` is not an ``int`` from 1 to 1000
                (``field`` is ``"limit"``).
            ClosedError: the store is closed, or the transaction is not open.
        """
    def __enter__(self) -> Transaction: ...
    def __exit__(
        self,
        exc_type: Optional[type[BaseException]],
        _exc_value: Optional[BaseException],
        _traceback: Optional[TracebackType],
    ) -> bool: ...

@final
class Users(_Queryable, _Updatable):
    """The users of a store, scoped view or transaction: ``store.users``.

    A user is a dict with camelCase keys (see
    docs/reference/documents.md, Users). Lengths count characters;
    strings are stored as given and compared caselessly (NFKC_Casefold).

    - ``id`` (int): read-only, assigned by the store from 1.
    - ``username`` (str): required; 1-100 letters of any script, ASCII
      digits and ``@ . - _``; unique per tenant, case-insensitively.
    - ``email`` (str): required; 5-255, ``local@domain.tld``; unique per
      tenant, case-insensitively.
    - ``firstName``, ``lastName`` (str): required; 1-50.
    - ``nickname`` (str): optional; 0-50. ``telephoneNumber`` (str):
      optional; 1-100. ``mobileNumber`` (str): optional; 1-30.
    - ``tenant`` (str): optional; 1-64 of ``[A-Za-z0-9._:-]``; set at
      creation, immutable, compared exactly.
    - ``enabled`` (bool): default true.
    - ``roles`` (list[int]): role ids of the same tenant; default [];
      kept sorted, without duplicates; at most 1,000.
    - ``externalIds`` (list[dict]): ``{"type": str (1-50), "value": str
      (1-255)}``; (tenant, type, value) unique; default []; at most 100.
    - ``attributes`` (dict): free-form JSON object, at most 16 KiB as
      JSON; default {}.
    - ``password`` (str): write-only; 8-1024; stored as an Argon2id hash,
      never returned. ``passwordHash`` (str): write-only; another
      system's hash to import (docs/reference/credentials.md, Passwords).
    - read-only: ``createdAt``, ``updatedAt``, ``lastLoginAt``,
      ``lockedUntil`` (str, RFC 3339 UTC; the last two only when set),
      ``hasPassword``, ``totpEnabled`` (bool), ``version`` (int, +1 on
      every change).

    Absent optional fields are left out of documents; unknown fields are
    a ``ValidationError``.

    Queries (``list``, ``iter``, ``count``, ``exists``, ``explain``) take a
    parameter-form ``filters`` dict (``{"lastName": "like:Ho%", "roles":
    "in:1,2"}``), an expression ``where="enabled = true and username sw
    'fr'"``, or free-text ``search``; see docs/reference/queries.md.
    """

    def get(self, id: int) -> _Document:
        """The user with this id.

        Args:
            id (int): the user's id (assigned by the store, from 1).

        Returns:
            dict: the user document (its keys: ``help(rosterdb.Users)``).

        Raises:
            NotFoundError: no user has this id (in a scoped view: in its tenant).
            TypeError: ``id`` is not an ``int``.
            ClosedError: the store is closed (or the transaction the
                call goes through is not open).
        """
    def create(self, doc: _Document) -> _Document:
        """Creates a user from its document.

        Args:
            doc (dict): the user document (``help(rosterdb.Users)`` lists
                the fields); required: ``username``, ``email``,
                ``firstName``, ``lastName``. In a scoped view the tenant
                is the view's.

        Returns:
            dict: the stored user document, with ``id``, ``version`` 1
            and the timestamps; never the password.

        Raises:
            ValidationError: the document breaks the field rules, names
                a read-only or unknown field, or a role no record has
                (``errors`` lists every failing field).
            ConflictError: the username, email or an external id is
                taken (``field`` names it).
            TypeError: ``doc`` is not a ``dict`` with ``str`` keys.
            BusyError: this thread has a transaction open (use it).
            ClosedError: the store is closed (or the transaction the
                call goes through is not open).
        """
    def create_many(self, docs: list[_Document]) -> list[int]:
        """Creates many users in one write, all or nothing.

        Faster than ``create`` in a loop. Inside a transaction, the users
        are part of it. The documents are read with the GIL held, so no
        other thread can change one mid-call; the write releases it.

        Args:
            docs (list[dict]): user documents, each read as ``create`` reads
                one (in a scoped view each gets the view's tenant).

        Returns:
            list[int]: the new users' ids, in the order of ``docs``.

        Raises:
            ValidationError: a document is invalid, its fields named inside
                the item (``docs[3].email``), or names a role no record has;
                nothing is written.
            ConflictError: a username, email or external id is taken in the
                store or by an earlier document of the list.
            TypeError: ``docs`` is not a ``list`` or an item not a ``dict``
                (naming it: ``docs[3]``).
            BusyError: this thread has a transaction open (use it).
            ClosedError: the store is closed (or the transaction the call
                goes through is not open).
        """
    def get_by_username(self, username: str, tenant: Optional[str] = None) -> _Document:
        """The user with this username, compared caselessly.

        Args:
            username (str): the username, in any case.
            tenant (str | None): the tenant to look in; ``None`` means users
                without one (a scoped view always uses its own).

        Returns:
            dict: the user document (its keys: ``help(rosterdb.Users)``).

        Raises:
            NotFoundError: no user matches (never ``None``).
            TypeError: an argument is not a ``str`` (``tenant``: or ``None``).
            ClosedError: the store is closed (or the transaction the call
                goes through is not open).
        """
    def get_by_email(self, email: str, tenant: Optional[str] = None) -> _Document:
        """The user with this email, compared caselessly.

        Args:
            email (str): the email, in any case.
            tenant (str | None): the tenant to look in; ``None`` means users
                without one (a scoped view always uses its own).

        Returns:
            dict: the user document (its keys: ``help(rosterdb.Users)``).

        Raises:
            NotFoundError: no user matches (never ``None``).
            TypeError: an argument is not a ``str`` (``tenant``: or ``None``).
            ClosedError: the store is closed (or the transaction the call
                goes through is not open).
        """
    def get_by_external_id(
        self, type: str, value: str, tenant: Optional[str] = None
    ) -> _Document:
        """The user with this external id (an entry of ``externalIds``).

        Args:
            type (str): the external id's ``type`` (e.g. ``"ldap"``).
            value (str): its ``value``.
            tenant (str | None): the tenant to look in; ``None`` means users
                without one (a scoped view always uses its own).

        Returns:
            dict: the user document (its keys: ``help(rosterdb.Users)``).

        Raises:
            NotFoundError: no user matches (never ``None``).
            TypeError: an argument is not a ``str`` (``tenant``: or ``None``).
            ClosedError: the store is closed (or the transaction the call
                goes through is not open).
        """
    def delete(self, id: int) -> _Document:
        """Deletes a user and ends its sessions.

        Args:
            id (int): the user's id.

        Returns:
            dict: the user's last document.

        Raises:
            NotFoundError: no user has this id.
            TypeError: ``id`` is not an ``int``.
            BusyError: this thread has a transaction open (use it).
            ClosedError: the store is closed (or the transaction the call
                goes through is not open).
        """
    def set_password(self, id: int, password: str) -> _Document:
        """Sets a user's password and ends the user's sessions.

        The password is normalised as a PRECIS OpaqueString (RFC 8265 §4.2:
        non-ASCII spaces become U+0020, then NFC) and stored as an Argon2id
        hash. An admin write: version bump, change-log entry. See
        docs/reference/credentials.md, Passwords.

        Args:
            id (int): the user's id.
            password (str): 8 to 1024 characters.

        Returns:
            dict: the user document, with ``hasPassword`` true.

        Raises:
            ValidationError: the password is too short, too long or not
                Unicode text (the field is ``password``).
            NotFoundError: no user has this id.
            TypeError: ``id`` is not an ``int`` or ``password`` not a ``str``.
            BusyError: this thread has a transaction open (use it).
            ClosedError: the store is closed (or the transaction the call
                goes through is not open).
        """
    def unlock(self, id: int) -> _Document:
        """Clears a user's lockout and failed-check count.

        Clearing a lock in force is an admin write (version bump,
        change-log entry). See docs/reference/credentials.md, Lockout.

        Args:
            id (int): the user's id.

        Returns:
            dict: the user document, without ``lockedUntil``.

        Raises:
            NotFoundError: no user has this id.
            TypeError: ``id`` is not an ``int``.
            BusyError: this thread has a transaction open (use it).
            ClosedError: the store is closed (or the transaction the call
                goes through is not open).
        """
    def verify_password(
        self,
        identifier: str,
        password: str,
        tenant: Optional[str] = None,
        totp_code: Optional[str] = None,
    ) -> _Document:
        """Checks a user's password (and second factor) without opening a session.

        ``lockout_threshold`` failures in a row lock the user for
        ``lockout_seconds``; a success resets the count and re-hashes a
        password whose hash is not the store's current Argon2id. That
        bookkeeping is no update (no version bump, no change-log entry). See
        docs/reference/credentials.md, Passwords.

        Args:
            identifier (str): a username or an email (any case).
            password (str): the password, normalised as an RFC 8265 §4.2
                OpaqueString before it is checked.
            tenant (str | None): the user's tenant; ``None`` means users
                without one (a scoped view uses its own).
            totp_code (str | None): for a user with ``totpEnabled``, a
                current RFC 6238 code (6 digits, 30-second step, one step of
                drift either way) or an unused recovery code; each works once.

        Returns:
            dict: the user document, with ``lastLoginAt`` set.

        Raises:
            AuthenticationError: any failed check (unknown user, wrong
                password, disabled or locked user, missing or wrong code),
                all alike and in similar time.
            ArgumentError: called through a transaction (``argument`` is
                ``transaction``: a rollback would undo the failure count).
            TypeError: a text argument is not a ``str``.
            BusyError: this thread has a transaction open.
            ClosedError: the store is closed (or the transaction the call
                goes through is not open).
        """
    def totp_enroll(self, id: int) -> _TotpEnrollment:
        """Starts a TOTP second-factor enrolment (RFC 6238).

        Codes are SHA-1, 6 digits, with a 30-second step. The new secret is pending until ``totp_confirm``; an earlier pending
        one is replaced. An admin write. See docs/reference/credentials.md,
        Second factor (TOTP).

        Args:
            id (int): the user's id.

        Returns:
            dict: ``{"secret": str (base32), "uri": str
            ("otpauth://totp/...", for an authenticator app's QR code)}``,
            shown only here.

        Raises:
            ValidationError: a confirmed second factor exists already
                (the field is ``totpEnabled``; disable it first).
            NotFoundError: no user has this id.
            TypeError: ``id`` is not an ``int``.
            BusyError: this thread has a transaction open (use it).
            ClosedError: the store is closed (or the transaction the call
                goes through is not open).
        """
    def totp_confirm(self, id: int, code: str) -> list[str]:
        """Confirms a pending TOTP enrolment with a current code and sets ``totpEnabled``.

        From then on ``login`` and ``verify_password`` need a
        ``totp_code``. An admin write. See docs/reference/credentials.md,
        Second factor (TOTP).

        Args:
            id (int): the user's id.
            code (str): a current 6-digit RFC 6238 code of the pending secret.

        Returns:
            list[str]: ten one-time recovery codes (``xxxxx-xxxxx``), shown
            only here and stored as SHA-256 digests.

        Raises:
            AuthenticationError: the code is wrong.
            ValidationError: no enrolment is pending (the field is ``totp``).
            NotFoundError: no user has this id.
            TypeError: ``id`` is not an ``int`` or ``code`` not a ``str``.
            BusyError: this thread has a transaction open (use it).
            ClosedError: the store is closed (or the transaction the call
                goes through is not open).
        """
    def totp_disable(self, id: int) -> _Document:
        """Removes a user's TOTP second factor, confirmed or pending.

        An admin write; with no second factor nothing is written. See
        docs/reference/credentials.md, Second factor (TOTP).

        Args:
            id (int): the user's id.

        Returns:
            dict: the user document, with ``totpEnabled`` false.

        Raises:
            NotFoundError: no user has this id.
            TypeError: ``id`` is not an ``int``.
            BusyError: this thread has a transaction open (use it).
            ClosedError: the store is closed (or the transaction the call
                goes through is not open).
        """
    def sessions(self, id: int) -> list[_Session]:
        """A user's live sessions, oldest first; never a token.

        See docs/reference/credentials.md, Sessions.

        Args:
            id (int): the user's id.

        Returns:
            list[dict]: ``[{"createdAt": str, "expiresAt": str}, ...]``
            (RFC 3339 UTC).

        Raises:
            NotFoundError: no user has this id.
            TypeError: ``id`` is not an ``int``.
            ClosedError: the store is closed (or the transaction the call
                goes through is not open).
        """
    def revoke_sessions(self, id: int) -> int:
        """Ends every session of a user.

        See docs/reference/credentials.md, Sessions.

        Args:
            id (int): the user's id.

        Returns:
            int: how many live sessions there were.

        Raises:
            NotFoundError: no user has this id.
            TypeError: ``id`` is not an ``int``.
            BusyError: this thread has a transaction open (use it).
            ClosedError: the store is closed (or the transaction the call
                goes through is not open).
        """

@final
class Roles(_Queryable, _Updatable):
    """The roles (permission groups) of a store: ``store.roles``.

    Also ``view.roles`` of a scoped view and ``tx.roles`` of a
    transaction. A role is a dict with camelCase keys (see
    docs/reference/documents.md, Roles):

    - ``id`` (int): read-only, assigned by the store from 1.
    - ``name`` (str): required; 1-100 characters; unique per tenant,
      case-insensitively.
    - ``description`` (str): optional; 0-500 (tab and newline allowed).
    - ``externalId`` (str): optional; 1-255; another system's id for the
      role (SCIM), compared exactly, not unique.
    - ``permissions`` (list[str]): each 1-100 of ``[A-Za-z0-9:._*-]``;
      deduplicated and sorted; default []; at most 1,000.
    - ``tenant`` (str): optional; set at creation, immutable.
    - read-only: ``createdAt``, ``updatedAt`` (str, RFC 3339 UTC),
      ``version`` (int).

    Queries (``list``, ``iter``, ``count``, ``exists``, ``explain``) take a
    parameter-form ``filters`` dict (``{"name": "like:adm%"}``), an
    expression ``where="permissions = 'users:write'"``, or free-text
    ``search``; see docs/reference/queries.md.
    """

    def get(self, id: int) -> _Document:
        """The role with this id.

        Args:
            id (int): the role's id (assigned by the store, from 1).

        Returns:
            dict: the role document (its keys: ``help(rosterdb.Roles)``).

        Raises:
            NotFoundError: no role has this id (in a scoped view: in its tenant).
            TypeError: ``id`` is not an ``int``.
            ClosedError: the store is closed (or the transaction the
                call goes through is not open).
        """
    def create(self, doc: _Document) -> _Document:
        """Creates a role from its document.

        Args:
            doc (dict): the role document (``help(rosterdb.Roles)`` lists
                the fields); required: ``name``. In a scoped view the
                tenant is the view's.

        Returns:
            dict: the stored role document, with ``id``, ``version`` 1
            and the timestamps.

        Raises:
            ValidationError: the document breaks the field rules or
                names a read-only or unknown field (``errors`` lists
                every failing field).
            ConflictError: the name is taken in the tenant (``field`` is
                ``name``).
            TypeError: ``doc`` is not a ``dict`` with ``str`` keys.
            BusyError: this thread has a transaction open (use it).
            ClosedError: the store is closed (or the transaction the
                call goes through is not open).
        """
    def delete(self, id: int, cascade: bool = False) -> _Document:
        """Deletes a role.

        Args:
            id (int): the role's id.
            cascade (bool): also remove the role from every user and client
                holding it, in the same transaction (default ``False``).

        Returns:
            dict: the role's last document.

        Raises:
            InUseError: users or clients hold the role and ``cascade`` is
                false (``count`` says how many).
            NotFoundError: no role has this id.
            TypeError: ``id`` is not an ``int`` or ``cascade`` not a ``bool``.
            BusyError: this thread has a transaction open (use it).
            ClosedError: the store is closed (or the transaction the call
                goes through is not open).
        """

@final
class Clients(_Queryable, _Updatable):
    """The app-clients (service identities) of a store: ``store.clients``.

    Also ``view.clients`` of a scoped view and ``tx.clients`` of a
    transaction. A client is a dict with camelCase keys (see
    docs/reference/documents.md, Clients):

    - ``id`` (int): read-only, assigned by the store from 1.
    - ``clientId`` (str): read-only; ``rc_`` + 22 random base62
      characters; unique; what ``client_login`` takes.
    - ``name`` (str): required; 1-100 characters.
    - ``description`` (str): optional; 0-500.
    - ``tenant`` (str): optional; set at creation, immutable.
    - ``enabled`` (bool): default true.
    - ``roles`` (list[int]): role ids, as for users.
    - ``ipAllowlist`` (list[str]): IPv4/IPv6 addresses or CIDR blocks;
      default [] (any address); at most 100.
    - read-only: ``createdAt``, ``updatedAt``, ``lastUsedAt`` (str,
      RFC 3339 UTC; the last only once used), ``version`` (int).

    The secret (32 random bytes, base64url) is stored only as a hash and
    returned once, by ``create`` and ``rotate_secret``.

    Queries (``list``, ``iter``, ``count``, ``exists``, ``explain``) take a
    parameter-form ``filters`` dict (``{"enabled": "true", "roles":
    "in:1,2"}``), an expression ``where="name sw 'ci' and not (roles eq
    3)"``, or free-text ``search``; see docs/reference/queries.md.
    """

    def get(self, id: int) -> _Document:
        """The client with this id.

        Args:
            id (int): the client's id (assigned by the store, from 1).

        Returns:
            dict: the client document (its keys: ``help(rosterdb.Clients)``).

        Raises:
            NotFoundError: no client has this id (in a scoped view: in its tenant).
            TypeError: ``id`` is not an ``int``.
            ClosedError: the store is closed (or the transaction the
                call goes through is not open).
        """
    def create(self, doc: _Document) -> dict[str, Any]:
        """Creates an app-client with a new secret.

        Args:
            doc (dict): the client document (``help(rosterdb.Clients)``
                lists the fields); required: ``name``. In a scoped view
                the tenant is the view's.

        Returns:
            dict: ``{"client": dict, "secret": str}``: the stored client
            document and its secret (32 random bytes, base64url), shown
            only here.

        Raises:
            ValidationError: the document breaks the field rules, names
                a read-only or unknown field, or a role no record has
                (``errors`` lists every failing field).
            TypeError: ``doc`` is not a ``dict`` with ``str`` keys.
            BusyError: this thread has a transaction open (use it).
            ClosedError: the store is closed (or the transaction the
                call goes through is not open).
        """
    def get_by_client_id(self, client_id: str) -> _Document:
        """The app-client with this public client id (compared exactly).

        Args:
            client_id (str): the ``clientId`` (``rc_`` + 22 base62 characters).

        Returns:
            dict: the client document (its keys: ``help(rosterdb.Clients)``).

        Raises:
            NotFoundError: no client has this client id.
            TypeError: ``client_id`` is not a ``str``.
            ClosedError: the store is closed (or the transaction the call
                goes through is not open).
        """
    def delete(self, id: int) -> _Document:
        """Deletes an app-client and ends its sessions.

        Args:
            id (int): the client's id.

        Returns:
            dict: the client's last document.

        Raises:
            NotFoundError: no client has this id.
            TypeError: ``id`` is not an ``int``.
            BusyError: this thread has a transaction open (use it).
            ClosedError: the store is closed (or the transaction the call
                goes through is not open).
        """
    def rotate_secret(self, id: int) -> str:
        """Gives an app-client a new secret, ending the old one and its sessions.

        The old secret and the client's sessions stop working at once. An
        admin write (version bump, change-log entry). See
        docs/reference/credentials.md, Client logins.

        Args:
            id (int): the client's id.

        Returns:
            str: the new secret (32 random bytes, base64url), shown only here.

        Raises:
            NotFoundError: no client has this id.
            TypeError: ``id`` is not an ``int``.
            BusyError: this thread has a transaction open (use it).
            ClosedError: the store is closed (or the transaction the call
                goes through is not open).
        """
