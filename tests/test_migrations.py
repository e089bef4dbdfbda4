"""Schema migrations: a real v1 archive upgrades in place and loses nothing;
an archive from a newer version is refused untouched."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from click.testing import CliRunner
from sqlalchemy import MetaData, select

from crawler.cli import main
from storage import (
    Archive,
    ArchiveTooNew,
    Article,
    StorageError,
    head_revision,
    open_archive,
    search,
    store_article,
)
from storage.archive import create_archive_engine, schema_revision, upgrade_schema
from storage.models import Base
from tests.test_storage_data import item_for

OLD = Path(__file__).parent / "fixtures" / "old_schema" / "archive_v1.db"
ARTICLE = Base.metadata.tables["article"]
TABLES = ("article", "article_url", "article_version", "raw_page", "crawl_run")
V1_TABLES = ["raw_page", "article", "article_url", "article_version", "crawl_run"]  # in foreign-key order


def dump(path: Path, columns: dict[str, list[str]] | None = None) -> dict[str, list[tuple[object, ...]]]:
    """Every row of the v1 tables; with ``columns``, only those columns (later
    migrations may add columns, never lose the old ones' values)."""
    with sqlite3.connect(path) as db:
        return {
            table: db.execute(
                f"SELECT {', '.join(columns[table]) if columns else '*'} FROM {table} ORDER BY 1"
            ).fetchall()
            for table in TABLES
        }


def column_names(path: Path) -> dict[str, list[str]]:
    with sqlite3.connect(path) as db:
        return {table: [row[1] for row in db.execute(f"PRAGMA table_info({table})")] for table in TABLES}


def revision(path: Path) -> str:
    with sqlite3.connect(path) as db:
        return str(db.execute("SELECT version_num FROM alembic_version").fetchone()[0])


def works_after_upgrade(archive: Archive) -> None:
    with archive.session() as session:
        # the new full-text index covers the old rows, short and long queries
        assert {hit.id for hit in search(session, "蝴蝶")} == {3}
        assert {hit.id for hit in search(session, "新能源汽车")} == {2}
    # new writes still find the old rows: a copy of an old article is a duplicate of it
    with archive.session() as session, session.begin():
        outcome = store_article(session, *item_for("innovation", "https://copy.example.org/1", site="copy"))
    assert (outcome.article_id, outcome.status) == (6, "duplicate")
    with archive.session() as session:
        assert session.get(Article, 6).duplicate_of == 3  # type: ignore[union-attr]


@pytest.fixture
def old_archive(tmp_path: Path) -> Path:
    copy = tmp_path / "archive_v1.db"
    shutil.copy(OLD, copy)
    return copy


def test_v1_archive_upgrades_in_place_and_loses_nothing(old_archive: Path) -> None:
    assert revision(old_archive) == "0001_v1"
    v1_columns = column_names(old_archive)
    before = dump(old_archive, v1_columns)
    assert len(before["article"]) == 5 and len(before["article_version"]) == 1
    with open_archive(str(old_archive)) as archive:
        works_after_upgrade(archive)
    assert revision(old_archive) == head_revision()
    after = dump(old_archive, v1_columns)
    for table in TABLES:
        assert set(before[table]) <= set(after[table]), table
    with sqlite3.connect(old_archive) as db:  # plain views for Datasette and the sqlite3 shell
        assert db.execute("SELECT count(*) FROM article_summary").fetchone() == (6,)
        assert db.execute("SELECT site, articles FROM site_stats WHERE site = 'xunjk'").fetchone() == (
            "xunjk",
            4,
        )


def test_db_upgrade_command(old_archive: Path) -> None:
    result = CliRunner().invoke(main, ["--db", str(old_archive), "db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert f"0001_v1 -> {head_revision()}" in result.output
    again = CliRunner().invoke(main, ["--db", str(old_archive), "db", "upgrade"])
    assert "up to date" in again.output


def test_archive_from_a_newer_version_is_refused_untouched(old_archive: Path) -> None:
    with open_archive(str(old_archive)):
        pass
    with sqlite3.connect(old_archive) as db:
        db.execute("UPDATE alembic_version SET version_num = '0099_from_the_future'")
    content = old_archive.read_bytes()
    with pytest.raises(ArchiveTooNew, match="newer than this newsarchive"):
        open_archive(str(old_archive))
    for command in (["db", "upgrade"], ["search", "柳州"], ["stats"]):
        result = CliRunner().invoke(main, ["--db", str(old_archive), *command])
        assert result.exit_code == 1
        assert result.output.count("\n") == 1 and result.output.startswith("Error: archive schema")
    assert old_archive.read_bytes() == content


def test_not_an_archive(tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as db:
        db.execute("CREATE TABLE article (id INTEGER)")
    with pytest.raises(StorageError, match="no newsarchive schema"):
        open_archive(str(other))
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StorageError) as info:
        open_archive(str(garbage))
    assert "\n" not in str(info.value)


@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
def test_models_match_the_migrations(any_db: str) -> None:
    """The declarative models and the migrated schema say the same thing
    (what autogenerate would put into a new migration is empty)."""

    def ours(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
        if type_ == "table" and name and (name.startswith("article_fts") or name == "alembic_version"):
            return False
        # expression indexes (simhash bands, trigram) and PostgreSQL's listing order (NULLS LAST,
        # migration 0017) live only in the migration
        name = name or ""
        only_migrated = "simhash_band" in name or name.endswith("_trgm") or name == "ix_article_newest"
        return not (type_ == "index" and only_migrated)

    with open_archive(any_db) as archive, archive.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"include_object": ours})
        assert compare_metadata(context, Base.metadata) == []


def test_v1_archive_on_postgresql_upgrades_in_place(pg_url: str, old_archive: Path) -> None:
    """The v1 fixture's rows loaded into a v1 PostgreSQL schema, then upgraded."""
    target = create_archive_engine(pg_url)
    upgrade_schema(target, "0001_v1")
    v1 = MetaData()
    v1.reflect(target, only=V1_TABLES)  # the tables as v1 made them: later columns absent
    with open_archive(str(old_archive)) as source:
        with source.engine.connect() as src, target.begin() as dst:
            for name in V1_TABLES:
                table = v1.tables[name]
                columns = [Base.metadata.tables[name].c[column.name] for column in table.c]
                rows = [dict(row._mapping) for row in src.execute(select(*columns).order_by(columns[0]))]
                dst.execute(table.insert(), rows)
                if "id" in table.c:
                    dst.exec_driver_sql(
                        f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), max(id)) FROM {name}"
                    )
            before = {row.id: tuple(row) for row in dst.execute(select(v1.tables["article"]))}
    target.dispose()
    v1_article_columns = [ARTICLE.c[column.name] for column in v1.tables["article"].c]
    with open_archive(pg_url) as archive:
        with archive.engine.connect() as connection:
            assert schema_revision(connection) == head_revision()
            after = {row.id: tuple(row) for row in connection.execute(select(*v1_article_columns))}
        assert after == before
        works_after_upgrade(archive)


def test_clashing_version_numbers_are_renumbered_before_the_unique_index(any_db: str) -> None:
    """An archive where two writers numbered versions alike (before the row lock) upgrades
    to the unique index without losing a version: they are numbered in replacement order."""
    from datetime import UTC, datetime

    from sqlalchemy import text
    from sqlalchemy.exc import IntegrityError

    engine = create_archive_engine(any_db)
    upgrade_schema(engine, "0004_modified_at")
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO article (id, url, canonical_url, text, content_hash, version,"
                " published_time_known, tags, extractor_version, first_seen_at, fetched_at, updated_at)"
                " VALUES (1, 'u', 'u', 't', 'h', 3, false, '[]', '', :t, :t, :t)"
            ),
            {"t": datetime(2024, 1, 1, tzinfo=UTC)},
        )
        for version_id, number, hour in ((1, 1, 1), (2, 2, 2), (3, 2, 3)):  # two "version 2"s
            connection.execute(
                text(
                    "INSERT INTO article_version (id, article_id, version, text, content_hash,"
                    " extractor_version, fetched_at, replaced_at, reason)"
                    " VALUES (:id, 1, :n, :body, 'h', '', :t, :t, 'crawl')"
                ),
                {
                    "id": version_id,
                    "n": number,
                    "body": f"text {version_id}",
                    "t": datetime(2024, 1, 1, hour, tzinfo=UTC),
                },
            )
    upgrade_schema(engine)
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT id, version FROM article_version ORDER BY id")).all()
        current = connection.execute(text("SELECT version FROM article WHERE id = 1")).scalar()
    assert [tuple(row) for row in rows] == [(1, 1), (2, 2), (3, 3)]  # every row kept, in order
    assert current == 4  # the current version follows the last kept one
    with pytest.raises(IntegrityError), engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO article_version (id, article_id, version, text, content_hash, extractor_version,"
                " fetched_at, replaced_at, reason) VALUES (4, 1, 3, 'x', 'h', '', :t, :t, 'crawl')"
            ),
            {"t": datetime(2024, 1, 2, tzinfo=UTC)},
        )
    engine.dispose()
