"""Locks that live in the archive when it is PostgreSQL (advisory locks).

Several machines that share one PostgreSQL archive cannot see each other's lock files, so
on PostgreSQL the per-site crawl lock and the migration lock are advisory locks. They are
named by a 64-bit key derived from a name; PostgreSQL scopes them to the database, so two
archives on one server never share a lock. A session lock is held by a dedicated
connection: it is released when the holder releases it, or when its connection ends (the
process died, or the network dropped), so a killed holder leaves no stale lock.
"""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from storage.errors import StorageError, one_line

__all__ = ["AdvisoryLock", "advisory_key", "advisory_xact_lock"]


def advisory_key(name: str) -> int:
    """A stable signed 64-bit key for ``name`` (PostgreSQL's advisory locks take a bigint)."""
    digest = hashlib.sha256(f"newsarchive:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def advisory_xact_lock(connection: Connection, name: str) -> None:
    """Wait for the transaction-scoped lock ``name``; it is released at commit or rollback."""
    connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": advisory_key(name)})


class AdvisoryLock:
    """A non-blocking session-level advisory lock, exclusive or shared.

    Exclusive excludes every other holder; shared ones coexist with each other and
    exclude an exclusive one (the workers of one shared crawl hold it shared; a crawl
    of the site on its own holds it exclusive).
    """

    def __init__(self, url: str, name: str, *, shared: bool = False) -> None:
        self.url = url
        self.name = name
        self.shared = shared
        self.key = advisory_key(name)
        self._engine: Engine | None = None
        self._connection: Connection | None = None

    def _connect(self) -> Connection:
        try:
            self._engine = create_engine(self.url, poolclass=NullPool)
            connection = self._engine.connect()
        except SQLAlchemyError as exc:
            raise StorageError(f"cannot take lock {self.name}: {one_line(exc)}") from exc
        # autocommit: the lock must outlive the statement's transaction
        return connection.execution_options(isolation_level="AUTOCOMMIT")

    def _try(self, connection: Connection, shared: bool) -> bool:
        function = "pg_try_advisory_lock_shared" if shared else "pg_try_advisory_lock"
        return bool(connection.execute(text(f"SELECT {function}(:key)"), {"key": self.key}).scalar())

    def try_acquire(self) -> bool:
        if self._connection is not None:
            return True
        connection = self._connect()
        try:
            got = self._try(connection, self.shared)
        except SQLAlchemyError as exc:
            connection.close()
            raise StorageError(f"cannot take lock {self.name}: {one_line(exc)}") from exc
        if got:
            self._connection = connection
        else:
            connection.close()
            self._dispose()
        return got

    def release(self) -> None:
        if self._connection is None:
            return
        try:
            function = "pg_advisory_unlock_shared" if self.shared else "pg_advisory_unlock"
            self._connection.execute(text(f"SELECT {function}(:key)"), {"key": self.key})
        except SQLAlchemyError:
            pass  # the connection is gone, and the lock with it
        finally:
            self._connection.close()
            self._connection = None
            self._dispose()

    def is_held_elsewhere(self) -> bool:
        """Whether another session holds it in a mode that excludes ours."""
        if self._connection is not None:
            return False
        if not self.try_acquire():
            return True
        self.release()
        return False

    def _dispose(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    def __enter__(self) -> AdvisoryLock:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.release()
