"""Reading a SQLite archive with the standard library's ``sqlite3``, without SQLAlchemy.

The read commands (``show``, ``stats``, ``search``, ``list``) spend most of their time
starting up: importing SQLAlchemy's ORM takes about 0.65 s, the lookup itself a few
milliseconds. On a SQLite archive at the current schema they read through
``SqliteReader`` instead, and on a PostgreSQL one (``postgresql+psycopg://``) through
``PostgresReader`` (psycopg alone); anything else (a schema to upgrade, a SQLite URI with
options, another driver) goes through SQLAlchemy as before. Both run the same SQL
(``storage.sqlite_sql``, ``storage.postgres_sql``): a SQLAlchemy session is read through
``SessionReader``.

A reader is called with a statement and its named parameters and returns the rows as
tuples: ``reader(sql, {"id": 12})``.
"""

from __future__ import annotations

import os
import re
import sqlite3
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol, Self, TypeVar
from urllib.parse import quote

from storage.errors import StorageError, one_line
from storage.postgres_sql import HAS_VERSION_TABLE as PG_HAS_VERSION_TABLE
from storage.sqlite_sql import HAS_VERSION_TABLE, SCHEMA_VERSION

MIGRATIONS = Path(__file__).parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 30_000
# set to "sqlalchemy" to read through SQLAlchemy even where the sqlite3 path would do
# (the tests compare the two; a way round should this path ever misbehave)
READ_PATH_ENV = "NEWSARCHIVE_READ_PATH"


class Reader(Protocol):
    dialect: str

    def __call__(self, sql: str, params: Mapping[str, Any] | None = None) -> Sequence[Sequence[Any]]: ...


def head_revision() -> str:
    """The schema revision this code writes: the newest migration (revisions are
    named after their files, ``NNNN_what.py``, numbered in order)."""
    return max(path.stem for path in (MIGRATIONS / "versions").glob("[0-9][0-9][0-9][0-9]_*.py"))


def check_archive_path(path: Path, *, create: bool) -> None:
    """A SQLite archive path that can be opened (``create``: or created); StorageError
    with what is wrong otherwise."""
    if path.exists():
        if path.is_dir():
            raise StorageError(f"archive path is a directory: {path}")
        if not os.access(path, os.R_OK):
            raise StorageError(f"cannot read archive {path}: permission denied")
        return
    if not create:
        raise StorageError(
            f"no archive at {path}: crawl, import or run `newsarchive demo` first, or give --db"
        )
    if not path.parent.is_dir():
        raise StorageError(f"cannot create archive {path}: directory {path.parent} does not exist")
    if not os.access(path.parent, os.W_OK):
        raise StorageError(f"cannot create archive {path}: directory is not writable")


def read_only_options(path: Path) -> dict[str, str] | None:
    """SQLite URI options to open an existing archive file this process cannot write (the
    file, or its directory, where SQLite keeps its -wal and -shm files), or None.

    ``mode=ro`` opens it without writing; when the directory is not writable and there is
    no -wal or -shm file, ``immutable=1`` also tells SQLite nobody else writes it, so it
    needs no lock files (a DVD, a read-only mount, a snapshot)."""
    if not path.is_file():
        return None
    # os.access answers for root too when writing is impossible: a read-only mount (EROFS),
    # an immutable file (chattr +i)
    directory_writable = os.access(path.parent, os.W_OK)
    if os.access(path, os.W_OK) and directory_writable:
        return None
    options = {"mode": "ro"}
    if not directory_writable and not any(Path(f"{path}{ext}").exists() for ext in ("-wal", "-shm")):
        options["immutable"] = "1"
    return options


def sqlite_path(db: str) -> Path | None:
    """The file of a SQLite archive given as a path or a plain ``sqlite:///`` URL (None for
    anything else: another database, a URI with options, an in-memory database)."""
    if db.startswith("sqlite:///"):
        db = db[len("sqlite:///") :]
        if not db or "?" in db or "%" in db or db.startswith(("file:", ":memory:")):
            return None
        return Path(db if os.path.isabs(db) else os.path.abspath(db))
    if "://" in db or not db.strip():
        return None
    return Path(os.path.abspath(os.path.expanduser(db)))


def utc_datetime(value: Any) -> datetime | None:
    """A stored time as ``UTCDateTime`` reads it back: aware, in UTC."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class _ConnectionReader:
    """A reader that owns its driver connection: closed with it, or at the end of a ``with``."""

    def __init__(self, connection: Any) -> None:
        self.connection = connection

    def close(self) -> None:
        self.connection.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class SqliteReader(_ConnectionReader):
    """A read-only ``sqlite3`` connection to an archive: ``reader(sql, params)`` -> rows."""

    dialect = "sqlite"

    def __call__(self, sql: str, params: Mapping[str, Any] | None = None) -> list[tuple[Any, ...]]:
        return self.connection.execute(sql, params or {}).fetchall()


class SessionReader:
    """A SQLAlchemy session read as a ``Reader``: the same SQL through ``text()``."""

    def __init__(self, session: Any) -> None:
        self.session = session
        self.dialect = session.get_bind().dialect.name

    def __call__(self, sql: str, params: Mapping[str, Any] | None = None) -> list[tuple[Any, ...]]:
        from sqlalchemy import text  # a session is open: SQLAlchemy is imported already

        result = self.session.execute(text(sql), dict(params or {}))
        return [tuple(row) for row in result] if result.returns_rows else []


_NAMED = re.compile(r"(?<![:\w]):(\w+)")
PSYCOPG_URL = "postgresql+psycopg://"


def pyformat(sql: str) -> str:
    """``sql`` with its ``:name`` parameters as psycopg spells them (``%(name)s``)."""
    return _NAMED.sub(r"%(\1)s", sql.replace("%", "%%"))


class PostgresReader(_ConnectionReader):
    """A read-only psycopg connection to an archive, in one transaction (one snapshot):
    ``reader(sql, params)`` -> rows, as a SQLAlchemy session's driver returns them."""

    dialect = "postgresql"

    def __call__(self, sql: str, params: Mapping[str, Any] | None = None) -> list[tuple[Any, ...]]:
        with self.connection.cursor() as cursor:
            cursor.execute(pyformat(sql), dict(params or {}))
            return cursor.fetchall() if cursor.description is not None else []


READERS = (SqliteReader, SessionReader, PostgresReader)
R = TypeVar("R", SqliteReader, PostgresReader)


def as_reader(source: Any) -> Reader:
    """A Reader for a reader or a SQLAlchemy session."""
    return source if isinstance(source, READERS) else SessionReader(source)


def dialect_of(source: Any) -> str:
    if isinstance(source, READERS):
        return str(source.dialect)
    return str(source.get_bind().dialect.name)


def schema_revision(reader: Reader) -> str | None:
    """The archive's schema revision (None when it has none), read without Alembic."""
    if not reader(PG_HAS_VERSION_TABLE if reader.dialect == "postgresql" else HAS_VERSION_TABLE):
        return None
    rows = [row[0] for row in reader(SCHEMA_VERSION)]
    if len(rows) > 1:
        raise StorageError(f"archive has several schema heads: {', '.join(sorted(rows))}")
    return rows[0] if rows else None


def open_sqlite_reader(db: str) -> SqliteReader | None:
    """A reader of the SQLite archive ``db`` when it exists and has the current schema;
    None when it must go through SQLAlchemy (not a SQLite file, a schema to upgrade or
    to refuse, ``NEWSARCHIVE_READ_PATH=sqlalchemy``). A missing file is an error, as on
    the SQLAlchemy path."""
    if os.environ.get(READ_PATH_ENV, "").lower() == "sqlalchemy":
        return None
    path = sqlite_path(db)
    if path is None:
        return None
    check_archive_path(path, create=False)
    options = read_only_options(path) or {"mode": "rw"}  # rw: never creates a file
    uri = f"file:{quote(str(path))}?" + "&".join(f"{k}={v}" for k, v in options.items())
    try:
        connection = sqlite3.connect(uri, uri=True, timeout=SQLITE_BUSY_TIMEOUT_MS / 1000)
    except sqlite3.Error as exc:
        raise StorageError(f"cannot open {db}: {one_line(exc)}") from exc
    connection.isolation_level = None  # the BEGIN below is ours: one snapshot for every statement
    # not a database, or one SQLAlchemy's path explains better: None
    return _at_current_schema(SqliteReader(connection), ("PRAGMA query_only = ON", "BEGIN"), sqlite3.Error)


def _at_current_schema(reader: R, first: tuple[str, ...], errors: type[Exception]) -> R | None:
    """``reader`` after its ``first`` statements when the archive has the current schema;
    otherwise (or on ``errors``) None, the reader closed."""
    try:
        for statement in first:
            reader(statement)
        if schema_revision(reader) == head_revision():
            return reader
    except errors:
        pass
    reader.close()
    return None


def open_postgres_reader(db: str) -> PostgresReader | None:
    """A reader of the PostgreSQL archive at ``db`` (a ``postgresql+psycopg://`` URL) when
    it has the current schema; None when it must go through SQLAlchemy (another URL or
    driver, a schema to create, upgrade or refuse, ``NEWSARCHIVE_READ_PATH=sqlalchemy``, a
    server that refuses: SQLAlchemy's path explains it)."""
    if os.environ.get(READ_PATH_ENV, "").lower() == "sqlalchemy" or not db.startswith(PSYCOPG_URL):
        return None
    import psycopg

    try:
        # as the archive's engine does (storage.archive): every statement planned for its parameters
        connection = psycopg.connect(
            "postgresql://" + db[len(PSYCOPG_URL) :], options="-c plan_cache_mode=force_custom_plan"
        )
    except (psycopg.Error, ValueError):
        return None
    return _at_current_schema(PostgresReader(connection), ("SET TRANSACTION READ ONLY",), psycopg.Error)
