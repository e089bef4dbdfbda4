"""v8: runs of every kind, and their copies.

``crawl_run.kind`` (``crawl``, ``import``, ``reextract``: existing rows are crawls) and
``crawl_run.articles_duplicate`` (new rows that are copies of stored articles, until now
only in the run's stats JSON).

Revision ID: 0008_run_kind
Revises: 0007_crawl_id
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_run_kind"
down_revision = "0007_crawl_id"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("crawl_run") as batch:
        batch.add_column(sa.Column("kind", sa.String(16), nullable=False, server_default="crawl"))
        batch.add_column(sa.Column("articles_duplicate", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("crawl_run") as batch:
        batch.drop_column("articles_duplicate")
        batch.drop_column("kind")
