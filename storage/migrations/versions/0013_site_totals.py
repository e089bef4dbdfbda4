"""v13: articles per site kept by triggers (``site_total``), and ``site_day_stats``
indexed by day, so that ``stats`` reads one row per site and the newest days alone,
whatever the size of the archive (summing ``site_day_stats`` reads a row per site and
day: 365,000 rows for 100 sites over ten years).

``site_total`` counts what ``site_day_stats`` counts per day (articles, duplicates,
missing author, uncertain, last fetched) plus the undated articles, per site ('' for
none). It is filled from ``article`` here.

Revision ID: 0013_site_totals
Revises: 0012_template_rules
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013_site_totals"
down_revision = "0012_template_rules"
branch_labels = None
depends_on = None

_COLUMNS = "site, published_at, author, duplicate_of, is_article, fetched_at"
_SQLITE_ROW = """coalesce({r}.site, ''), {sign}, {sign} * ({r}.duplicate_of IS NOT NULL),
    {sign} * ({r}.published_at IS NULL), {sign} * (coalesce({r}.author, '') = ''),
    {sign} * coalesce({r}.is_article != 'yes', 0), {r}.fetched_at"""
_SQLITE_UPSERT = """INSERT INTO site_total
        (site, articles, duplicates, missing_date, missing_author, uncertain, last_fetched)
    SELECT {row} WHERE true
    ON CONFLICT(site) DO UPDATE SET
        articles = articles + excluded.articles,
        duplicates = duplicates + excluded.duplicates,
        missing_date = missing_date + excluded.missing_date,
        missing_author = missing_author + excluded.missing_author,
        uncertain = uncertain + excluded.uncertain,
        last_fetched = max(coalesce(last_fetched, excluded.last_fetched), excluded.last_fetched);"""
SQLITE = [
    f"""CREATE TRIGGER site_total_insert AFTER INSERT ON article BEGIN
        {_SQLITE_UPSERT.format(row=_SQLITE_ROW.format(r="new", sign=1))}
    END""",
    f"""CREATE TRIGGER site_total_delete AFTER DELETE ON article BEGIN
        {_SQLITE_UPSERT.format(row=_SQLITE_ROW.format(r="old", sign=-1))}
    END""",
    f"""CREATE TRIGGER site_total_update AFTER UPDATE OF {_COLUMNS} ON article BEGIN
        {_SQLITE_UPSERT.format(row=_SQLITE_ROW.format(r="old", sign=-1))}
        {_SQLITE_UPSERT.format(row=_SQLITE_ROW.format(r="new", sign=1))}
    END""",
    """INSERT INTO site_total
            (site, articles, duplicates, missing_date, missing_author, uncertain, last_fetched)
        SELECT coalesce(site, ''), count(*), sum(duplicate_of IS NOT NULL), sum(published_at IS NULL),
               sum(coalesce(author, '') = ''), sum(coalesce(is_article != 'yes', 0)), max(fetched_at)
        FROM article GROUP BY 1""",
]

_PG_ADD = """INSERT INTO site_total AS s
            (site, articles, duplicates, missing_date, missing_author, uncertain, last_fetched)
        VALUES (coalesce({r}.site, ''), {sign}, {sign} * ({r}.duplicate_of IS NOT NULL)::int,
                {sign} * ({r}.published_at IS NULL)::int, {sign} * (coalesce({r}.author, '') = '')::int,
                {sign} * coalesce({r}.is_article != 'yes', false)::int, {r}.fetched_at)
        ON CONFLICT (site) DO UPDATE SET
            articles = s.articles + excluded.articles,
            duplicates = s.duplicates + excluded.duplicates,
            missing_date = s.missing_date + excluded.missing_date,
            missing_author = s.missing_author + excluded.missing_author,
            uncertain = s.uncertain + excluded.uncertain,
            last_fetched = greatest(s.last_fetched, excluded.last_fetched);"""
POSTGRES = [
    f"""CREATE FUNCTION site_total_count() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP IN ('UPDATE', 'DELETE') THEN
            {_PG_ADD.format(r="OLD", sign=-1)}
        END IF;
        IF TG_OP IN ('UPDATE', 'INSERT') THEN
            {_PG_ADD.format(r="NEW", sign=1)}
        END IF;
        RETURN NULL;
    END $$""",
    f"""CREATE TRIGGER site_total_count AFTER INSERT OR DELETE OR UPDATE OF {_COLUMNS}
        ON article FOR EACH ROW EXECUTE FUNCTION site_total_count()""",
    """INSERT INTO site_total
            (site, articles, duplicates, missing_date, missing_author, uncertain, last_fetched)
        SELECT coalesce(site, ''), count(*), sum((duplicate_of IS NOT NULL)::int),
               sum((published_at IS NULL)::int), sum((coalesce(author, '') = '')::int),
               sum(coalesce(is_article != 'yes', false)::int), max(fetched_at)
        FROM article GROUP BY 1""",
]


def upgrade() -> None:
    op.create_table(
        "site_total",
        sa.Column("site", sa.String(200), nullable=False),
        sa.Column("articles", sa.Integer, nullable=False),
        sa.Column("duplicates", sa.Integer, nullable=False),
        sa.Column("missing_date", sa.Integer, nullable=False),
        sa.Column("missing_author", sa.Integer, nullable=False),
        sa.Column("uncertain", sa.Integer, nullable=False),
        sa.Column("last_fetched", sa.DateTime(timezone=True)),
        sa.PrimaryKeyConstraint("site", name="pk_site_total"),
    )
    op.create_index("ix_site_day_stats_day", "site_day_stats", ["day"])
    dialect = op.get_bind().dialect.name
    for statement in SQLITE if dialect == "sqlite" else POSTGRES if dialect == "postgresql" else []:
        op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for name in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER IF EXISTS site_total_{name}")
    elif dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS site_total_count ON article")
        op.execute("DROP FUNCTION IF EXISTS site_total_count()")
    op.drop_index("ix_site_day_stats_day", "site_day_stats")
    op.drop_table("site_total")
