"""v2: full-text search, near-duplicate band indexes, site templates, views.

SQLite gets an FTS5 table with the trigram tokenizer (matches Chinese
substrings of three or more characters), kept in step with ``article`` by
triggers and filled from the existing rows. PostgreSQL gets pg_trgm GIN
indexes (when the extension can be created) for ILIKE searches.

Revision ID: 0002_search_templates
Revises: 0001_v1
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0002_search_templates"
down_revision = "0001_v1"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(JSONB(), "postgresql")
BAND_SHIFTS = (48, 32, 16, 0)

SQLITE_FTS = [
    """CREATE VIRTUAL TABLE article_fts USING fts5(
        title, text, content='article', content_rowid='id', tokenize='trigram')""",
    """CREATE TRIGGER article_fts_insert AFTER INSERT ON article BEGIN
        INSERT INTO article_fts(rowid, title, text) VALUES (new.id, coalesce(new.title, ''), new.text);
    END""",
    """CREATE TRIGGER article_fts_delete AFTER DELETE ON article BEGIN
        INSERT INTO article_fts(article_fts, rowid, title, text)
        VALUES ('delete', old.id, coalesce(old.title, ''), old.text);
    END""",
    """CREATE TRIGGER article_fts_update AFTER UPDATE OF title, text ON article BEGIN
        INSERT INTO article_fts(article_fts, rowid, title, text)
        VALUES ('delete', old.id, coalesce(old.title, ''), old.text);
        INSERT INTO article_fts(rowid, title, text) VALUES (new.id, coalesce(new.title, ''), new.text);
    END""",
    "INSERT INTO article_fts(article_fts) VALUES ('rebuild')",
]

POSTGRES_TRGM = """
DO $$
BEGIN
    CREATE EXTENSION IF NOT EXISTS pg_trgm;
EXCEPTION WHEN insufficient_privilege THEN
    RAISE NOTICE 'pg_trgm not available: search works without its indexes, more slowly';
END $$;
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN
        CREATE INDEX IF NOT EXISTS ix_article_text_trgm ON article USING gin (text gin_trgm_ops);
        CREATE INDEX IF NOT EXISTS ix_article_title_trgm ON article USING gin (title gin_trgm_ops);
    END IF;
END $$;
"""

VIEWS = {
    "article_summary": """
        SELECT a.id, a.site, a.title, a.author, a.published_at, a.canonical_url, a.language,
               a.version, a.duplicate_of, length(a.text) AS text_chars, a.extractor_version,
               a.first_seen_at, a.fetched_at,
               (SELECT count(*) FROM article_url u WHERE u.article_id = a.id) AS url_count
        FROM article a""",
    "site_stats": """
        SELECT site, count(*) AS articles,
               sum(CASE WHEN published_at IS NULL THEN 1 ELSE 0 END) AS missing_date,
               sum(CASE WHEN author IS NULL OR author = '' THEN 1 ELSE 0 END) AS missing_author,
               sum(CASE WHEN duplicate_of IS NOT NULL THEN 1 ELSE 0 END) AS duplicates,
               min(published_at) AS first_published, max(published_at) AS last_published,
               max(fetched_at) AS last_fetched
        FROM article GROUP BY site""",
}


def upgrade() -> None:
    op.create_table(
        "site_template",
        sa.Column("site", sa.String(200), nullable=False),
        sa.Column("lines", JSON, nullable=False),
        sa.Column("pages", sa.Integer, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("site", name="pk_site_template"),
    )
    for shift in BAND_SHIFTS:
        op.create_index(
            f"ix_article_simhash_band{shift}", "article", [sa.text(f"((simhash >> {shift}) & 65535)")]
        )
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for statement in SQLITE_FTS:
            op.execute(statement)
    elif dialect == "postgresql":
        op.execute(POSTGRES_TRGM)
    for name, query in VIEWS.items():
        op.execute(f"CREATE VIEW {name} AS {query}")


def downgrade() -> None:
    for name in VIEWS:
        op.execute(f"DROP VIEW IF EXISTS {name}")
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for trigger in ("article_fts_insert", "article_fts_delete", "article_fts_update"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS article_fts")
    elif dialect == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_article_text_trgm")
        op.execute("DROP INDEX IF EXISTS ix_article_title_trgm")
    for shift in BAND_SHIFTS:
        op.drop_index(f"ix_article_simhash_band{shift}", "article")
    op.drop_table("site_template")
