"""v9: a search index that serves every query length, and per-site, per-day counts.

Search: the tokens of ``storage.search_tokens`` (Chinese as character pairs, words,
traditional characters folded to simplified). SQLite gets the FTS5 table
``article_fts_bigram`` (contentless, the ``ascii`` tokenizer only splits the
pre-tokenised text on spaces; a one-character prefix index for one-character Chinese
queries), kept in step with ``article`` by triggers that call the SQL function
``newsarchive_tokens`` (registered on every connection by ``storage.archive``).
PostgreSQL gets the table ``article_fts_vector`` (a ``tsvector`` per article, GIN
indexed, no extension needed), written by ``storage.search_index`` with the article.
The trigram indexes of v2 served only terms of three or more characters; the new index
serves all of them, so they are dropped (they were the largest part of the archive).

Stats: ``site_day_stats`` counts articles (duplicates, missing authors, pages kept as
uncertain) per site and UTC publication day (day '' for
undated articles, site '' for none), maintained by triggers, so ``stats`` reads a few
rows instead of every article.

Existing archives are indexed and counted here, which takes a while on a large one
(about a minute per 100,000 articles).

Revision ID: 0009_search_index
Revises: 0008_run_kind
Create Date: 2026-11-27
"""

from __future__ import annotations

from importlib import import_module

import sqlalchemy as sa
from alembic import op

from storage.search_tokens import tsvector_literal

V2 = import_module("storage.migrations.versions.0002_search_templates")  # the trigram index, for downgrade

revision = "0009_search_index"
down_revision = "0008_run_kind"
branch_labels = None
depends_on = None

BATCH = 2000

SQLITE_INDEX = [
    """CREATE VIRTUAL TABLE article_fts_bigram USING fts5(
        title, text, content='', tokenize='ascii', prefix='1')""",
    """CREATE TRIGGER article_fts_bigram_insert AFTER INSERT ON article BEGIN
        INSERT INTO article_fts_bigram(rowid, title, text)
        VALUES (new.id, newsarchive_tokens(new.title), newsarchive_tokens(new.text));
    END""",
    """CREATE TRIGGER article_fts_bigram_delete AFTER DELETE ON article BEGIN
        INSERT INTO article_fts_bigram(article_fts_bigram, rowid, title, text)
        VALUES ('delete', old.id, newsarchive_tokens(old.title), newsarchive_tokens(old.text));
    END""",
    """CREATE TRIGGER article_fts_bigram_update AFTER UPDATE OF title, text ON article BEGIN
        INSERT INTO article_fts_bigram(article_fts_bigram, rowid, title, text)
        VALUES ('delete', old.id, newsarchive_tokens(old.title), newsarchive_tokens(old.text));
        INSERT INTO article_fts_bigram(rowid, title, text)
        VALUES (new.id, newsarchive_tokens(new.title), newsarchive_tokens(new.text));
    END""",
    """INSERT INTO article_fts_bigram(rowid, title, text)
        SELECT id, newsarchive_tokens(title), newsarchive_tokens(text) FROM article""",
]
SQLITE_TRIGRAM = [
    "DROP TRIGGER IF EXISTS article_fts_insert",
    "DROP TRIGGER IF EXISTS article_fts_delete",
    "DROP TRIGGER IF EXISTS article_fts_update",
    "DROP TABLE IF EXISTS article_fts",
]

# one row's contribution to site_day_stats, as the columns of an INSERT ... SELECT
_SQLITE_ROW = """coalesce({r}.site, ''), coalesce(date({r}.published_at), ''), {sign},
    {sign} * ({r}.duplicate_of IS NOT NULL), {sign} * (coalesce({r}.author, '') = ''),
    {sign} * coalesce({r}.is_article != 'yes', 0), {r}.fetched_at"""
_SQLITE_UPSERT = """INSERT INTO site_day_stats
        (site, day, articles, duplicates, missing_author, uncertain, last_fetched)
    SELECT {row} WHERE true
    ON CONFLICT(site, day) DO UPDATE SET
        articles = articles + excluded.articles,
        duplicates = duplicates + excluded.duplicates,
        missing_author = missing_author + excluded.missing_author,
        uncertain = uncertain + excluded.uncertain,
        last_fetched = max(coalesce(last_fetched, excluded.last_fetched), excluded.last_fetched);"""
_STATS_COLUMNS = "site, published_at, author, duplicate_of, is_article, fetched_at"
SQLITE_STATS = [
    f"""CREATE TRIGGER site_day_stats_insert AFTER INSERT ON article BEGIN
        {_SQLITE_UPSERT.format(row=_SQLITE_ROW.format(r="new", sign=1))}
    END""",
    f"""CREATE TRIGGER site_day_stats_delete AFTER DELETE ON article BEGIN
        {_SQLITE_UPSERT.format(row=_SQLITE_ROW.format(r="old", sign=-1))}
    END""",
    f"""CREATE TRIGGER site_day_stats_update AFTER UPDATE OF {_STATS_COLUMNS} ON article BEGIN
        {_SQLITE_UPSERT.format(row=_SQLITE_ROW.format(r="old", sign=-1))}
        {_SQLITE_UPSERT.format(row=_SQLITE_ROW.format(r="new", sign=1))}
    END""",
    """INSERT INTO site_day_stats(site, day, articles, duplicates, missing_author, uncertain, last_fetched)
        SELECT coalesce(site, ''), coalesce(date(published_at), ''), count(*),
               sum(duplicate_of IS NOT NULL), sum(coalesce(author, '') = ''),
               sum(coalesce(is_article != 'yes', 0)), max(fetched_at)
        FROM article GROUP BY 1, 2""",
]

_PG_DAY = "coalesce(to_char({r}.published_at AT TIME ZONE 'UTC', 'YYYY-MM-DD'), '')"
_PG_ADD = """INSERT INTO site_day_stats AS s
            (site, day, articles, duplicates, missing_author, uncertain, last_fetched)
        VALUES (coalesce({r}.site, ''), {day}, {sign}, {sign} * ({r}.duplicate_of IS NOT NULL)::int,
                {sign} * (coalesce({r}.author, '') = '')::int,
                {sign} * coalesce({r}.is_article != 'yes', false)::int, {r}.fetched_at)
        ON CONFLICT (site, day) DO UPDATE SET
            articles = s.articles + excluded.articles,
            duplicates = s.duplicates + excluded.duplicates,
            missing_author = s.missing_author + excluded.missing_author,
            uncertain = s.uncertain + excluded.uncertain,
            last_fetched = greatest(s.last_fetched, excluded.last_fetched);"""
POSTGRES_STATS = [
    f"""CREATE FUNCTION site_day_stats_count() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP IN ('UPDATE', 'DELETE') THEN
            {_PG_ADD.format(r="OLD", sign=-1, day=_PG_DAY.format(r="OLD"))}
        END IF;
        IF TG_OP IN ('UPDATE', 'INSERT') THEN
            {_PG_ADD.format(r="NEW", sign=1, day=_PG_DAY.format(r="NEW"))}
        END IF;
        RETURN NULL;
    END $$""",
    f"""CREATE TRIGGER site_day_stats_count AFTER INSERT OR DELETE OR UPDATE OF {_STATS_COLUMNS}
        ON article FOR EACH ROW EXECUTE FUNCTION site_day_stats_count()""",
    f"""INSERT INTO site_day_stats(site, day, articles, duplicates, missing_author, uncertain, last_fetched)
        SELECT coalesce(site, ''), {_PG_DAY.format(r="article")}, count(*),
               sum((duplicate_of IS NOT NULL)::int), sum((coalesce(author, '') = '')::int),
               sum(coalesce(is_article != 'yes', false)::int), max(fetched_at)
        FROM article GROUP BY 1, 2""",
]
POSTGRES_TRIGRAM = ["DROP INDEX IF EXISTS ix_article_text_trgm", "DROP INDEX IF EXISTS ix_article_title_trgm"]


def _fill_vectors() -> None:
    bind = op.get_bind()
    after = 0
    while True:
        rows = bind.execute(
            sa.text("SELECT id, title, text FROM article WHERE id > :after ORDER BY id LIMIT :n"),
            {"after": after, "n": BATCH},
        ).all()
        if not rows:
            return
        bind.execute(
            sa.text(
                "INSERT INTO article_fts_vector(article_id, vector) VALUES (:id, CAST(:vector AS tsvector))"
            ),
            [{"id": id_, "vector": tsvector_literal(title, text)} for id_, title, text in rows],
        )
        after = rows[-1][0]


def upgrade() -> None:
    op.create_table(
        "site_day_stats",
        sa.Column("site", sa.String(200), nullable=False),
        sa.Column("day", sa.String(10), nullable=False),
        sa.Column("articles", sa.Integer, nullable=False),
        sa.Column("duplicates", sa.Integer, nullable=False),
        sa.Column("missing_author", sa.Integer, nullable=False),
        sa.Column("uncertain", sa.Integer, nullable=False),
        sa.Column("last_fetched", sa.DateTime(timezone=True)),
        sa.PrimaryKeyConstraint("site", "day", name="pk_site_day_stats"),
    )
    op.create_index("ix_article_site_published_at", "article", ["site", "published_at"])
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for statement in [*SQLITE_TRIGRAM, *SQLITE_INDEX, *SQLITE_STATS]:
            op.execute(statement)
    elif dialect == "postgresql":
        for statement in POSTGRES_TRIGRAM:
            op.execute(statement)
        op.create_table(
            "article_fts_vector",
            sa.Column(
                "article_id",
                sa.Integer,
                sa.ForeignKey(
                    "article.id", ondelete="CASCADE", name="fk_article_fts_vector_article_id_article"
                ),
                nullable=False,
            ),
            sa.Column("vector", sa.dialects.postgresql.TSVECTOR, nullable=False),
            sa.PrimaryKeyConstraint("article_id", name="pk_article_fts_vector"),
        )
        _fill_vectors()
        op.execute("CREATE INDEX ix_article_fts_vector_vector ON article_fts_vector USING gin (vector)")
        for statement in POSTGRES_STATS:
            op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for name in ("bigram_insert", "bigram_delete", "bigram_update"):
            op.execute(f"DROP TRIGGER IF EXISTS article_fts_{name}")
        for name in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER IF EXISTS site_day_stats_{name}")
        op.execute("DROP TABLE IF EXISTS article_fts_bigram")
        for statement in V2.SQLITE_FTS:
            op.execute(statement)
    elif dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS site_day_stats_count ON article")
        op.execute("DROP FUNCTION IF EXISTS site_day_stats_count()")
        op.drop_table("article_fts_vector")
        op.execute(V2.POSTGRES_TRGM)
    op.drop_index("ix_article_site_published_at", "article")
    op.drop_table("site_day_stats")
