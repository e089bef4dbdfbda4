"""v17: PostgreSQL lists the newest articles through an index.

``search`` without a query (and ``list``) orders articles newest published first, undated
last: ``published_at DESC NULLS LAST, id DESC``. PostgreSQL's ``ix_article_published_at``
read backwards gives undated articles first, so the listing sorted every article (110 ms
at 200,000); ``ix_article_newest`` is in the listing's order, and a LIMIT reads 20 entries.
SQLite's descending order puts NULLs last already: its ``ix_article_published_at`` serves
the listing, and nothing changes there. The index lives only in the migration (the model
cannot say NULLS LAST for both databases).

Revision ID: 0017_listing_index
Revises: 0016_template_line_counts
Create Date: 2026-11-28
"""

from __future__ import annotations

from alembic import op

revision = "0017_listing_index"
down_revision = "0016_template_line_counts"
branch_labels = None
depends_on = None

INDEX = "ix_article_newest"


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"CREATE INDEX {INDEX} ON article (published_at DESC NULLS LAST, id DESC)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP INDEX IF EXISTS {INDEX}")
