"""Opening an archive: URL or file path, SQLite pragmas, schema upgrades."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote, urlsplit

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from storage.errors import ArchiveTooNew, StorageError, one_line
from storage.locks import advisory_xact_lock
from storage.reader import (
    MIGRATIONS,
    SQLITE_BUSY_TIMEOUT_MS,
    check_archive_path,
    head_revision,
    read_only_options,
)
from storage.search_index import register_sqlite_functions

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

MIGRATION_LOCK = "schema-migration"

# Alembic takes about half a second to import: a read command on an up-to-date archive
# (the common case) compares the version row with the newest migration's file name
# (each migration's revision is its file name) and never imports it.


def _alembic_config(connection: Connection | None = None) -> Config:
    from alembic.config import Config  # only when the schema must change: see above

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def _script() -> ScriptDirectory:
    from alembic.script import ScriptDirectory  # only when the schema must change

    return ScriptDirectory.from_config(_alembic_config())


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
    check_archive_path(Path(database), create=create)


READ_ONLY = "newsarchive_read_only"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # SQLAlchemy, not the sqlite3 module, emits BEGIN (see _sqlite_begin).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA journal_mode = WAL")
        # FULL: a commit is on the disk before it returns (the WAL is synced each time), so an
        # article counted as stored survives a disk or OS failure; writes are batched, so that
        # is one sync per batch. NORMAL lost every batch since the last checkpoint when the
        # filesystem failed (tests/test_storage_failures.py)
        cursor.execute("PRAGMA synchronous = FULL")
    finally:
        cursor.close()
    register_sqlite_functions(dbapi_connection)


def _sqlite_read_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # a read-only file: no journal mode to set, nothing to sync
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA query_only = ON")
    finally:
        cursor.close()


def read_only_url(db: str) -> URL | None:
    """A read-only SQLite URI for an existing archive file this process cannot write (the
    file, or its directory, where SQLite keeps its -wal and -shm files), or None.

    ``mode=ro`` opens it without writing; when the directory is not writable and there is
    no -wal or -shm file, ``immutable=1`` also tells SQLite nobody else writes it, so it
    needs no lock files (a DVD, a read-only mount, a snapshot)."""
    url = _to_url(db)
    database = url.database
    if url.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return None
    if database.startswith("file:"):
        return None  # already a SQLite URI: the caller chose its mode
    options = read_only_options(Path(database))
    if options is None:
        return None
    return URL.create("sqlite", database="file:" + quote(database), query={**options, "uri": "true"})


def _sqlite_begin(connection: Connection) -> None:
    """Writers take the write lock when their transaction starts. A deferred
    transaction that reads and then writes fails at once ("database is
    locked") when another process committed in between, busy_timeout or not;
    BEGIN IMMEDIATE waits for the other writer instead. Readers (WAL) never
    block anyone and stay deferred."""
    read_only = connection.get_execution_options().get(READ_ONLY, False)
    connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def _sqlite_begin_deferred(connection: Connection) -> None:
    """A read-only file: no transaction ever writes, none takes the write lock."""
    connection.exec_driver_sql("BEGIN")


class Archive:
    """An open archive. ``session()`` gives a Session; the caller owns the
    transaction: ``with archive.session() as s, s.begin(): ...``, or ``with
    archive.transaction() as s: ...`` where a failed commit must be a StorageError."""

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

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A writing session in one transaction, committed at the end: ``with
        archive.transaction() as session: ...``. A driver error, also one raised by the
        commit itself (a disk that turned read-only or filled up under the archive), leaves
        as a one-line :class:`StorageError`: what every caller of a write catches."""
        try:
            with self._sessions() as session, session.begin():
                yield session
        except SQLAlchemyError as exc:
            raise StorageError(one_line(exc)) from exc

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Archive({self.url!r})"


def create_archive_engine(db: str, *, create: bool = True, ro_url: URL | None = None) -> Engine:
    url = ro_url or _to_url(db)
    if url.get_backend_name() == "sqlite":
        _check_sqlite_path(url, create)
    try:
        engine = create_engine(url, pool_pre_ping=url.get_backend_name() != "sqlite")
    except (ArgumentError, ImportError, SQLAlchemyError) as exc:
        raise StorageError(f"cannot open {db}: {one_line(exc)}") from exc
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_read_pragmas if ro_url else _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin_deferred if ro_url else _sqlite_begin)
    elif engine.dialect.name == "postgresql":
        event.listen(engine, "connect", _postgresql_custom_plans)
    return engine


def _postgresql_custom_plans(dbapi_connection: Any, _record: Any) -> None:
    """Plan every statement for its own parameters. psycopg prepares a statement run five
    times, and PostgreSQL then may keep one generic plan for it; for a search that plan
    cannot know whether the term is common or rare, and the one it keeps (walk the articles
    newest first, testing each vector) reads the whole archive for a rare term (measured:
    5 s instead of 25 ms at 70,000 articles)."""
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("SET plan_cache_mode = force_custom_plan")
    finally:
        cursor.close()
    dbapi_connection.commit()


def schema_revision(connection: Connection) -> str | None:
    """The archive's schema revision (None when it has none), read without Alembic."""
    if not inspect(connection).has_table("alembic_version"):
        return None
    rows = connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    if len(rows) > 1:
        raise StorageError(f"archive has several schema heads: {', '.join(sorted(rows))}")
    return rows[0] if rows else None


def _check_known(current: str | None, script: ScriptDirectory, head: str) -> None:
    if current is not None and current not in {rev.revision for rev in script.walk_revisions()}:
        raise ArchiveTooNew(
            f"archive schema {current} is newer than this newsarchive (knows up to {head}); "
            "upgrade newsarchive"
        )


# the migration that writes PostgreSQL's search index table again (0018): the new table is
# vacuumed once committed (VACUUM cannot run inside the migration's transaction), as the
# server's autovacuum would do if it runs: until then every first read of its rows and TOAST
# chunks writes their hint bits, and searches ran up to three times slower at 200,000 articles
REWRITTEN = "0018_search_filter_columns"


def _vacuum_rewritten(engine: Engine) -> None:
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql("VACUUM (ANALYZE) article_fts_vector")


def upgrade_schema(engine: Engine, revision: str = "head") -> tuple[str | None, str]:
    """Bring the schema to ``revision`` (default: the newest); returns
    (before, after).

    Raises ArchiveTooNew, without touching anything, when the archive carries a
    revision this code does not know. The common case, an archive already up
    to date, is checked without taking SQLite's write lock.
    """
    head = head_revision()
    target = head if revision == "head" else revision
    try:
        with engine.execution_options(**{READ_ONLY: True}).connect() as connection:
            current = schema_revision(connection)
        if current == target:
            return current, target
        from alembic import command  # the schema changes: see the note on _alembic_config

        script = _script()
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
        if engine.dialect.name == "postgresql" and current is not None and current < REWRITTEN <= target:
            _vacuum_rewritten(engine)
        return current, target
    except SQLAlchemyError as exc:
        raise StorageError(f"cannot open archive {engine.url.render_as_string()}: {one_line(exc)}") from exc


def open_archive(db: str, *, create: bool = True, upgrade: bool = True, reading: bool = False) -> Archive:
    """Open (and by default create and upgrade) the archive at ``db``, a
    SQLAlchemy URL or a SQLite file path.

    ``reading=True`` (search, show, export, stats, serve): a SQLite file that cannot be
    written (read-only media, a read-only mount, an immutable file) is opened read-only
    (:func:`read_only_url`) and not upgraded; it must already have the current schema."""
    ro_url = read_only_url(db) if reading else None
    engine = create_archive_engine(db, create=create, ro_url=ro_url)
    if ro_url is not None:
        upgrade = False
    try:
        if upgrade:
            upgrade_schema(engine)
        else:
            with engine.connect() as connection:
                current = schema_revision(connection)
            if current != head_revision():
                where = " on a writable copy" if ro_url is not None else ""
                raise StorageError(
                    f"archive schema is {current}, expected {head_revision()}; run `db upgrade`{where}"
                )
    except SQLAlchemyError as exc:
        engine.dispose()
        raise StorageError(f"cannot open {db}: {one_line(exc)}") from exc
    except StorageError:
        engine.dispose()
        raise
    return Archive(engine)
