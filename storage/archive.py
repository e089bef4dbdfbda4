"""Opening an archive: URL or file path, SQLite pragmas, schema upgrades."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from storage.errors import ArchiveTooNew, StorageError, one_line
from storage.locks import advisory_xact_lock

MIGRATIONS = Path(__file__).parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 30_000
MIGRATION_LOCK = "schema-migration"


def _alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The schema revision this code writes."""
    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    assert head is not None
    return head


def _to_url(db: str) -> URL:
    if not db.strip():
        raise StorageError("no archive given: the database path or URL is empty")
    if "://" in db:
        try:
            return make_url(db)
        except ArgumentError as exc:
            raise StorageError(f"not a database URL: {db}") from exc
    return make_url("sqlite:///" + os.path.abspath(os.path.expanduser(db)))


def _check_sqlite_path(url: URL, create: bool) -> None:
    database = url.database
    if not database or database == ":memory:":
        return
    if database.startswith("file:") and url.query.get("uri") == "true":
        # a SQLite URI (sqlite:///file:archive.db?mode=ro&uri=true): the path is its path part
        database = unquote(urlsplit(database).path)
    path = Path(database)
    if path.exists():
        if path.is_dir():
            raise StorageError(f"archive path is a directory: {path}")
        if not os.access(path, os.R_OK):
            raise StorageError(f"cannot read archive {path}: permission denied")
        return
    if not create:
        raise StorageError(f"no archive at {path}")
    if not path.parent.is_dir():
        raise StorageError(f"cannot create archive {path}: directory {path.parent} does not exist")
    if not os.access(path.parent, os.W_OK):
        raise StorageError(f"cannot create archive {path}: directory is not writable")


READ_ONLY = "newsarchive_read_only"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # SQLAlchemy, not the sqlite3 module, emits BEGIN (see _sqlite_begin).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
    finally:
        cursor.close()


def _sqlite_begin(connection: Connection) -> None:
    """Writers take the write lock when their transaction starts. A deferred
    transaction that reads and then writes fails at once ("database is
    locked") when another process committed in between, busy_timeout or not;
    BEGIN IMMEDIATE waits for the other writer instead. Readers (WAL) never
    block anyone and stay deferred."""
    read_only = connection.get_execution_options().get(READ_ONLY, False)
    connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


class Archive:
    """An open archive. ``session()`` gives a Session; the caller owns the
    transaction: ``with archive.session() as s, s.begin(): ...``."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        self._readers = sessionmaker(engine.execution_options(**{READ_ONLY: True}), expire_on_commit=False)

    @property
    def url(self) -> str:
        return self.engine.url.render_as_string(hide_password=True)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def session(self, *, read_only: bool = False) -> Session:
        """A new Session. On SQLite a transaction takes the write lock when it
        begins, so that concurrent writers queue instead of failing; pass
        ``read_only=True`` for long reads (exports, search) that must not
        hold it."""
        return self._readers() if read_only else self._sessions()

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Archive({self.url!r})"


def create_archive_engine(db: str, *, create: bool = True) -> Engine:
    url = _to_url(db)
    if url.get_backend_name() == "sqlite":
        _check_sqlite_path(url, create)
    try:
        engine = create_engine(url, pool_pre_ping=url.get_backend_name() != "sqlite")
    except (ArgumentError, ImportError, SQLAlchemyError) as exc:
        raise StorageError(f"cannot open {db}: {one_line(exc)}") from exc
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
    return engine


def schema_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def _check_known(current: str | None, script: ScriptDirectory, head: str) -> None:
    if current is not None and current not in {rev.revision for rev in script.walk_revisions()}:
        raise ArchiveTooNew(
            f"archive schema {current} is newer than this newsarchive (knows up to {head}); "
            "upgrade newsarchive"
        )


def upgrade_schema(engine: Engine, revision: str = "head") -> tuple[str | None, str]:
    """Bring the schema to ``revision`` (default: the newest); returns
    (before, after).

    Raises ArchiveTooNew, without touching anything, when the archive carries a
    revision this code does not know. The common case, an archive already up
    to date, is checked without taking SQLite's write lock.
    """
    script = ScriptDirectory.from_config(_alembic_config())
    head = head_revision()
    target = head if revision == "head" else revision
    try:
        with engine.execution_options(**{READ_ONLY: True}).connect() as connection:
            current = schema_revision(connection)
        if current == target:
            return current, target
        _check_known(current, script, head)
        with engine.begin() as connection:  # writers queue here; re-check under the lock
            if connection.dialect.name == "postgresql":
                # PostgreSQL lets concurrent upgraders run their DDL side by side (and fail on
                # each other's tables); the advisory lock queues them like SQLite's write lock
                advisory_xact_lock(connection, MIGRATION_LOCK)
            current = schema_revision(connection)
            if current == target:
                return current, target
            _check_known(current, script, head)
            if current is None and "article" in inspect(connection).get_table_names():
                raise StorageError("database has an 'article' table but no newsarchive schema version")
            command.upgrade(_alembic_config(connection), target)
            return current, target
    except SQLAlchemyError as exc:
        raise StorageError(f"cannot open archive {engine.url.render_as_string()}: {one_line(exc)}") from exc


def open_archive(db: str, *, create: bool = True, upgrade: bool = True) -> Archive:
    """Open (and by default create and upgrade) the archive at ``db``, a
    SQLAlchemy URL or a SQLite file path."""
    engine = create_archive_engine(db, create=create)
    try:
        if upgrade:
            upgrade_schema(engine)
        else:
            with engine.connect() as connection:
                current = schema_revision(connection)
            if current != head_revision():
                raise StorageError(
                    f"archive schema is {current}, expected {head_revision()}; run `db upgrade`"
                )
    except SQLAlchemyError as exc:
        engine.dispose()
        raise StorageError(f"cannot open {db}: {one_line(exc)}") from exc
    except StorageError:
        engine.dispose()
        raise
    return Archive(engine)
