"""v14: how much of ``published_at`` the page stated.

``article.published_precision``: ``day`` (the default, and every existing row) or ``month``
when the page names only a month (a magazine issue, ``1996年3月号``). ``published_at`` is then
the month's first day, and exports print only the month (``1996-03``), so no day is claimed
that the page never gave.

Revision ID: 0014_published_precision
Revises: 0013_site_totals
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014_published_precision"
down_revision = "0013_site_totals"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("article") as batch:
        batch.add_column(
            sa.Column("published_precision", sa.String(5), nullable=False, server_default="day")
        )


def downgrade() -> None:
    with op.batch_alter_table("article") as batch:
        batch.drop_column("published_precision")
