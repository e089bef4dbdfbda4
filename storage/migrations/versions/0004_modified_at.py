"""v4: keep when the page says it was last modified.

``modified_at`` is the page's own ``dateModified`` / ``article:modified_time`` (stored in
UTC, exported in the publisher's offset), distinct from ``updated_at``, which is when the
archive last changed the row. Existing rows keep NULL until they are re-extracted.

Revision ID: 0004_modified_at
Revises: 0003_published_offset
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_modified_at"
down_revision = "0003_published_offset"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("article", sa.Column("modified_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("article") as batch:
        batch.drop_column("modified_at")
