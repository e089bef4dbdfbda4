"""v3: keep the UTC offset a page gave its publication time.

``published_at`` is stored in UTC; the publisher's own offset (+08:00 for a Chinese
site that names none) is kept beside it so that exports show the time — and above all
the calendar day — as published. Existing rows keep a NULL offset and export in UTC.

Revision ID: 0003_published_offset
Revises: 0002_search_templates
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_published_offset"
down_revision = "0002_search_templates"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("article", sa.Column("published_utc_offset", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("article") as batch:
        batch.drop_column("published_utc_offset")
