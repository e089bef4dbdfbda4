"""v18: PostgreSQL's search index holds the site and publication time its filters test.

A search with a site or a period joined every match to its ``article`` row to test the
filter there: ``article`` rows are wide (the text is stored inline, two or three rows a page),
so a period of a third of the archive read a third of the table's pages (64 ms at 200,000
articles for the benchmark's date filters). ``article_fts_vector`` now carries
``site`` and ``published_at`` beside the vector: its rows are narrow (the vector lives in
TOAST), and a filter on site and period alone is answered on the index's own rows
(``storage.postgres_sql.index_conditions``). Triggers keep the copies in step whatever
writes: a new index row takes its article's values, a change of an article's site or
publication time is copied to its index row.

Existing archives are upgraded in place: the index table is written again with the
copies and its GIN index built again, which takes a while on a large archive (2 min 16 s
at 200,000 articles, 2 shared cores at load 1-3), then vacuumed once committed
(``storage.archive.upgrade_schema``). SQLite's index answers these filters
already (the ``meta`` tokens of migration 0011): nothing changes there.

Revision ID: 0018_search_filter_columns
Revises: 0017_listing_index
Create Date: 2026-11-28
"""

from __future__ import annotations

from alembic import op

revision = "0018_search_filter_columns"
down_revision = "0017_listing_index"
branch_labels = None
depends_on = None

# The table is written anew with the copies (its rows in article order, as they were) rather
# than updated in place: an UPDATE of every row left each row's old version in the table and
# in the GIN index built after it in the same transaction (both twice their size, and common
# words' searches slower by as much).
UPGRADE = [
    """CREATE TABLE article_fts_vector_new (
        article_id INTEGER NOT NULL, vector TSVECTOR NOT NULL,
        site VARCHAR(200), published_at TIMESTAMPTZ)""",
    """INSERT INTO article_fts_vector_new (article_id, vector, site, published_at)
        SELECT v.article_id, v.vector, article.site, article.published_at
        FROM article_fts_vector AS v JOIN article ON article.id = v.article_id ORDER BY v.article_id""",
    "DROP TABLE article_fts_vector",
    "ALTER TABLE article_fts_vector_new RENAME TO article_fts_vector",
    "ALTER TABLE article_fts_vector ADD CONSTRAINT pk_article_fts_vector PRIMARY KEY (article_id)",
    """ALTER TABLE article_fts_vector ADD CONSTRAINT fk_article_fts_vector_article_id_article
        FOREIGN KEY (article_id) REFERENCES article (id) ON DELETE CASCADE""",
    "SET LOCAL maintenance_work_mem = '256MB'",  # this build only; the server's setting is kept
    "CREATE INDEX ix_article_fts_vector_vector ON article_fts_vector USING gin (vector)",
    "ANALYZE article_fts_vector",  # the planner's statistics, as the fill's VACUUM ANALYZE left them
    # a new index row (or an upsert's proposed one) takes its article's values
    """CREATE FUNCTION article_fts_vector_filters() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        SELECT site, published_at INTO NEW.site, NEW.published_at FROM article WHERE id = NEW.article_id;
        RETURN NEW;
    END $$""",
    """CREATE TRIGGER article_fts_vector_filters BEFORE INSERT ON article_fts_vector
        FOR EACH ROW EXECUTE FUNCTION article_fts_vector_filters()""",
    # an article's new site or publication time, copied to its index row
    """CREATE FUNCTION article_fts_vector_follow() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE article_fts_vector SET site = NEW.site, published_at = NEW.published_at
            WHERE article_id = NEW.id;
        RETURN NULL;
    END $$""",
    """CREATE TRIGGER article_fts_vector_follow AFTER UPDATE OF site, published_at ON article
        FOR EACH ROW WHEN (OLD.site IS DISTINCT FROM NEW.site
                           OR OLD.published_at IS DISTINCT FROM NEW.published_at)
        EXECUTE FUNCTION article_fts_vector_follow()""",
]
DOWNGRADE = [
    "DROP TRIGGER IF EXISTS article_fts_vector_follow ON article",
    "DROP FUNCTION IF EXISTS article_fts_vector_follow()",
    "DROP TRIGGER IF EXISTS article_fts_vector_filters ON article_fts_vector",
    "DROP FUNCTION IF EXISTS article_fts_vector_filters()",
    "ALTER TABLE article_fts_vector DROP COLUMN IF EXISTS site, DROP COLUMN IF EXISTS published_at",
]


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in UPGRADE:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in DOWNGRADE:
            op.execute(statement)
