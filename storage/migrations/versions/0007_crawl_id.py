"""v7: crawl_run.crawl_id (the shared crawl a worker's run served) and heartbeat_at.

Several workers, on one machine or many, may serve one shared crawl of a site (see
crawler/frontier.py); each records its own run, and ``crawl_id`` groups them. A running
crawl refreshes ``heartbeat_at``, so a run whose process died on any host can be told from
a live one.

Revision ID: 0007_crawl_id
Revises: 0006_is_article
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_crawl_id"
down_revision = "0006_is_article"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("crawl_run") as batch:
        batch.add_column(sa.Column("crawl_id", sa.String(64), nullable=True))
        batch.add_column(sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_index("ix_crawl_run_crawl_id", ["crawl_id"])


def downgrade() -> None:
    with op.batch_alter_table("crawl_run") as batch:
        batch.drop_index("ix_crawl_run_crawl_id")
        batch.drop_column("heartbeat_at")
        batch.drop_column("crawl_id")
