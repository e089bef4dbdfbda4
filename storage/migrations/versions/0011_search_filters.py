"""v11: site and publication day in the SQLite search index, so a filtered search is
answered by the index alone.

``article_fts_bigram`` gains a third column, ``meta``: one token for the article's site
and one per calendar unit its UTC publication day falls in (day, month, year, decade,
century, millennium; see ``storage.search_tokens.meta_tokens``). A search with a site or
date filter adds them to its MATCH expression, so FTS5 intersects the term's matches
with the site's and the period's in its own doclists, newest first, instead of looking
every match up in ``article``. The triggers also re-index an article whose site or
publication date changes. PostgreSQL is unchanged.

The index is rebuilt from ``article`` here (about a minute per 100,000 articles).

Revision ID: 0011_search_filters
Revises: 0010_job_part
Create Date: 2026-11-27
"""

from __future__ import annotations

from importlib import import_module

from alembic import op

V9 = import_module("storage.migrations.versions.0009_search_index")  # the index without meta, for downgrade

revision = "0011_search_filters"
down_revision = "0010_job_part"
branch_labels = None
depends_on = None

# the meta tokens of row r in SQL (storage.search_tokens.meta_tokens says the same in Python):
# ⓢ + the site's UTF-8 bytes in hex, then ⓓYYYYMMDD ⓜYYYYMM ⓨYYYY ⓨYYY ⓨYY ⓨY when dated
_META = """'ⓢ' || lower(hex(coalesce({r}.site, ''))) || coalesce(
    ' ⓓ' || strftime('%Y%m%d', {r}.published_at) || ' ⓜ' || strftime('%Y%m', {r}.published_at)
    || ' ⓨ' || strftime('%Y', {r}.published_at) || ' ⓨ' || substr(strftime('%Y', {r}.published_at), 1, 3)
    || ' ⓨ' || substr(strftime('%Y', {r}.published_at), 1, 2)
    || ' ⓨ' || substr(strftime('%Y', {r}.published_at), 1, 1), '')"""
_ROW = "{r}.id, newsarchive_tokens({r}.title), newsarchive_tokens({r}.text), " + _META

SQLITE_INDEX = [
    """CREATE VIRTUAL TABLE article_fts_bigram USING fts5(
        title, text, meta, content='', tokenize='ascii', prefix='1')""",
    f"""CREATE TRIGGER article_fts_bigram_insert AFTER INSERT ON article BEGIN
        INSERT INTO article_fts_bigram(rowid, title, text, meta) VALUES ({_ROW.format(r="new")});
    END""",
    f"""CREATE TRIGGER article_fts_bigram_delete AFTER DELETE ON article BEGIN
        INSERT INTO article_fts_bigram(article_fts_bigram, rowid, title, text, meta)
        VALUES ('delete', {_ROW.format(r="old")});
    END""",
    f"""CREATE TRIGGER article_fts_bigram_update AFTER UPDATE OF title, text, site, published_at
    ON article BEGIN
        INSERT INTO article_fts_bigram(article_fts_bigram, rowid, title, text, meta)
        VALUES ('delete', {_ROW.format(r="old")});
        INSERT INTO article_fts_bigram(rowid, title, text, meta) VALUES ({_ROW.format(r="new")});
    END""",
    f"""INSERT INTO article_fts_bigram(rowid, title, text, meta)
        SELECT {_ROW.format(r="article")} FROM article""",
]
_DROP = [
    *(f"DROP TRIGGER IF EXISTS article_fts_bigram_{name}" for name in ("insert", "delete", "update")),
    "DROP TABLE IF EXISTS article_fts_bigram",
]


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for statement in [*_DROP, *SQLITE_INDEX]:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for statement in [*_DROP, *V9.SQLITE_INDEX]:
            op.execute(statement)
