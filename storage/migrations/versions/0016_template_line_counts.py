"""v16: site templates learned incrementally.

``site_template_line`` keeps, per site, how many distinct articles hold each line (a
64-bit hash of the normalised line), and ``site_template.counted_through`` /
``counted_pages`` say which articles are counted: a refresh after an import reads only
the articles stored since, not every text of the site. Existing templates start
uncounted (``counted_through`` NULL): their next refresh counts the site's stored texts
once. ``ix_article_site_id`` finds a site's articles stored after a given id.

Revision ID: 0016_template_line_counts
Revises: 0015_raw_page_dictionary
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016_template_line_counts"
down_revision = "0015_raw_page_dictionary"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("site_template") as batch:
        batch.add_column(sa.Column("counted_through", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("counted_pages", sa.Integer(), nullable=False, server_default="0"))
    op.create_table(
        "site_template_line",
        sa.Column("site", sa.String(200), nullable=False),
        sa.Column("line_hash", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("pages", sa.Integer(), nullable=False),
        sa.Column("delta", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("site", "line_hash", name=op.f("pk_site_template_line")),
    )
    op.create_index("ix_article_site_id", "article", ["site", "id"])


def downgrade() -> None:
    op.drop_index("ix_article_site_id", table_name="article")
    op.drop_table("site_template_line")
    with op.batch_alter_table("site_template") as batch:
        batch.drop_column("counted_pages")
        batch.drop_column("counted_through")
