"""v1: articles, URL aliases, raw pages, versions and crawl runs.

Revision ID: 0001_v1
Revises:
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0001_v1"
down_revision = None
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(JSONB(), "postgresql")
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "raw_page",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("final_url", sa.Text, nullable=False),
        sa.Column("status", sa.Integer, nullable=False),
        sa.Column("headers", JSON, nullable=False),
        sa.Column("body", sa.LargeBinary, nullable=False),
        sa.Column("encoding", sa.String(64)),
        sa.Column("fetched_at", TS, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_raw_page"),
    )
    op.create_index("ix_raw_page_url", "raw_page", ["url"])
    op.create_table(
        "article",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("canonical_url", sa.Text, nullable=False),
        sa.Column("site", sa.String(200)),
        sa.Column("title", sa.Text),
        sa.Column("author", sa.Text),
        sa.Column("source", sa.Text),
        sa.Column("published_at", TS),
        sa.Column("published_time_known", sa.Boolean, nullable=False),
        sa.Column("language", sa.String(35)),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("description", sa.Text),
        sa.Column("tags", JSON, nullable=False),
        sa.Column("image", sa.Text),
        sa.Column("site_name", sa.Text),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("simhash", sa.BigInteger),
        sa.Column("duplicate_of", sa.Integer),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("extractor_version", sa.String(64), nullable=False),
        sa.Column("first_seen_at", TS, nullable=False),
        sa.Column("fetched_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("etag", sa.Text),
        sa.Column("last_modified", sa.Text),
        sa.Column("raw_page_id", sa.Integer),
        sa.PrimaryKeyConstraint("id", name="pk_article"),
        sa.UniqueConstraint("canonical_url", name="uq_article_canonical_url"),
        sa.ForeignKeyConstraint(
            ["duplicate_of"], ["article.id"], name="fk_article_duplicate_of_article", ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["raw_page_id"], ["raw_page.id"], name="fk_article_raw_page_id_raw_page", ondelete="SET NULL"
        ),
    )
    op.create_index("ix_article_site", "article", ["site"])
    op.create_index("ix_article_published_at", "article", ["published_at"])
    op.create_index("ix_article_content_hash", "article", ["content_hash"])
    op.create_index("ix_article_duplicate_of", "article", ["duplicate_of"])
    op.create_table(
        "article_url",
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("article_id", sa.Integer, nullable=False),
        sa.Column("first_seen_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("url", name="pk_article_url"),
        sa.ForeignKeyConstraint(
            ["article_id"], ["article.id"], name="fk_article_url_article_id_article", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_article_url_article_id", "article_url", ["article_id"])
    op.create_table(
        "article_version",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("article_id", sa.Integer, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("title", sa.Text),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("author", sa.Text),
        sa.Column("published_at", TS),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("extractor_version", sa.String(64), nullable=False),
        sa.Column("raw_page_id", sa.Integer),
        sa.Column("fetched_at", TS, nullable=False),
        sa.Column("replaced_at", TS, nullable=False),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_article_version"),
        sa.ForeignKeyConstraint(
            ["article_id"], ["article.id"], name="fk_article_version_article_id_article", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["raw_page_id"],
            ["raw_page.id"],
            name="fk_article_version_raw_page_id_raw_page",
            ondelete="SET NULL",
        ),
    )
    op.create_index("ix_article_version_article_id", "article_version", ["article_id"])
    op.create_table(
        "crawl_run",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("site", sa.String(200)),
        sa.Column("started_at", TS, nullable=False),
        sa.Column("finished_at", TS),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("pid", sa.Integer),
        sa.Column("host", sa.String(255)),
        sa.Column("pages_fetched", sa.Integer, nullable=False),
        sa.Column("articles_new", sa.Integer, nullable=False),
        sa.Column("articles_updated", sa.Integer, nullable=False),
        sa.Column("articles_unchanged", sa.Integer, nullable=False),
        sa.Column("errors", JSON, nullable=False),
        sa.Column("stats", JSON, nullable=False),
        sa.Column("reason", sa.Text),
        sa.PrimaryKeyConstraint("id", name="pk_crawl_run"),
    )
    op.create_index("ix_crawl_run_site", "crawl_run", ["site"])


def downgrade() -> None:
    for table in ("crawl_run", "article_version", "article_url", "article", "raw_page"):
        op.drop_table(table)
