"""Type stubs of the native extension; import from ``rosterdb`` instead."""

import os
from collections.abc import Iterator
from types import TracebackType
from typing import Any, Literal, Optional, TypedDict, Union, final

__all__ = ["Clients", "Page", "PageWalk", "Roles", "Store", "Transaction", "Users"]

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
    def authenticate(self, token: str) -> _Principal: ...
    def logout(self, token: str) -> None: ...

class _Logins(_Sessions):
    def login(
        self,
        identifier: str,
        password: str,
        tenant: Optional[str] = None,
        ttl_seconds: int = 900,
        totp_code: Optional[str] = None,
    ) -> _Login: ...
    def client_login(
        self,
        client_id: str,
        secret: str,
        ip: Optional[str] = None,
        ttl_seconds: int = 900,
    ) -> _ClientLogin: ...

@final
class Page:
    """One page of results; iterable, with ``len()``."""

    @property
    def items(self) -> list[_Document]: ...
    @property
    def total(self) -> Optional[int]: ...
    @property
    def next_cursor(self) -> Optional[str]: ...
    def __len__(self) -> int: ...
    def __iter__(self) -> Iterator[_Document]: ...

@final
class PageWalk:
    """Every match of a query, fetched a page at a time."""

    def __iter__(self) -> PageWalk: ...
    def __next__(self) -> _Document: ...

class _Updatable:
    def patch(
        self, id: int, ops: list[dict[str, Any]], expected_version: Optional[int] = None
    ) -> _Document: ...
    def merge(
        self, id: int, partial: _Document, expected_version: Optional[int] = None
    ) -> _Document: ...
    def replace(
        self, id: int, doc: _Document, expected_version: Optional[int] = None
    ) -> _Document: ...

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
    ) -> Page: ...
    def iter(
        self,
        *,
        where: Optional[str] = None,
        search: Optional[str] = None,
        filters: Optional[dict[str, Union[str, int, bool]]] = None,
        sort: Optional[_Names] = None,
        fields: Optional[_Names] = None,
        page_size: Optional[int] = None,
    ) -> PageWalk: ...
    def count(
        self,
        *,
        where: Optional[str] = None,
        search: Optional[str] = None,
        filters: Optional[dict[str, Union[str, int, bool]]] = None,
    ) -> int: ...
    def exists(
        self,
        *,
        where: Optional[str] = None,
        search: Optional[str] = None,
        filters: Optional[dict[str, Union[str, int, bool]]] = None,
    ) -> bool: ...
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
    ) -> str: ...

@final
class Store(_Logins):
    """An open rosterdb store (also a context manager that closes it)."""

    def __new__(
        cls,
        path: Union[str, os.PathLike[str]],
        *,
        lockout_threshold: int = 5,
        lockout_seconds: int = 900,
        argon2_memory_kib: int = 19456,
        argon2_iterations: int = 2,
        argon2_parallelism: int = 1,
        cache_bytes: int = 4294967296,
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
        cache_bytes: int = 4294967296,
    ) -> Store: ...
    @property
    def users(self) -> Users: ...
    @property
    def roles(self) -> Roles: ...
    @property
    def clients(self) -> Clients: ...
    def transaction(self) -> Transaction: ...
    def scoped(self, tenant: str) -> Store: ...
    @property
    def tenant(self) -> Optional[str]: ...
    def changes(self, after: int = 0, limit: int = 100) -> list[_Document]: ...
    def export_jsonl(self, path: Union[str, os.PathLike[str]]) -> int: ...
    def import_jsonl(self, path: Union[str, os.PathLike[str]]) -> int: ...
    def check(self) -> dict[str, Any]: ...
    def compact(self) -> bool: ...
    def close(self) -> None: ...
    def __enter__(self) -> Store: ...
    def __exit__(self, *_exc: object) -> bool: ...

@final
class Transaction(_Sessions):
    """A write transaction: ``with store.transaction() as tx:``."""

    @property
    def users(self) -> Users: ...
    @property
    def roles(self) -> Roles: ...
    @property
    def clients(self) -> Clients: ...
    def changes(self, after: int = 0, limit: int = 100) -> list[_Document]: ...
    def __enter__(self) -> Transaction: ...
    def __exit__(
        self,
        exc_type: Optional[type[BaseException]],
        _exc_value: Optional[BaseException],
        _traceback: Optional[TracebackType],
    ) -> bool: ...

@final
class Users(_Queryable, _Updatable):
    """The users of a store or transaction."""

    def get(self, id: int) -> _Document: ...
    def create(self, doc: _Document) -> _Document: ...
    def create_many(self, docs: list[_Document]) -> list[int]: ...
    def get_by_username(self, username: str, tenant: Optional[str] = None) -> _Document: ...
    def get_by_email(self, email: str, tenant: Optional[str] = None) -> _Document: ...
    def get_by_external_id(
        self, type: str, value: str, tenant: Optional[str] = None
    ) -> _Document: ...
    def delete(self, id: int) -> _Document: ...
    def set_password(self, id: int, password: str) -> _Document: ...
    def unlock(self, id: int) -> _Document: ...
    def verify_password(
        self,
        identifier: str,
        password: str,
        tenant: Optional[str] = None,
        totp_code: Optional[str] = None,
    ) -> _Document: ...
    def totp_enroll(self, id: int) -> _TotpEnrollment: ...
    def totp_confirm(self, id: int, code: str) -> list[str]: ...
    def totp_disable(self, id: int) -> _Document: ...
    def sessions(self, id: int) -> list[_Session]: ...
    def revoke_sessions(self, id: int) -> int: ...

@final
class Roles(_Queryable, _Updatable):
    """The roles of a store or transaction."""

    def get(self, id: int) -> _Document: ...
    def create(self, doc: _Document) -> _Document: ...
    def delete(self, id: int, cascade: bool = False) -> _Document: ...

@final
class Clients(_Queryable, _Updatable):
    """The app-clients of a store or transaction."""

    def get(self, id: int) -> _Document: ...
    def create(self, doc: _Document) -> dict[str, Any]: ...
    def get_by_client_id(self, client_id: str) -> _Document: ...
    def delete(self, id: int) -> _Document: ...
    def rotate_secret(self, id: int) -> str: ...
