"""v5: one row per (article, version number) in article_version.

Concurrent writers on PostgreSQL could number two superseded versions alike before
``store_article`` locked the article row. Such archives are repaired first — an affected
article's versions are numbered again in the order they were replaced, and its current
version follows the last — so the unique index can be created without losing a row.

Revision ID: 0005_version_unique
Revises: 0004_modified_at
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_version_unique"
down_revision = "0004_modified_at"
branch_labels = None
depends_on = None

INDEX = "uq_article_version_article_version"


def upgrade() -> None:
    bind = op.get_bind()
    clashing = bind.execute(
        sa.text(
            "SELECT DISTINCT article_id FROM article_version GROUP BY article_id, version HAVING COUNT(*) > 1"
        )
    ).scalars()
    for article_id in list(clashing):
        ids = list(
            bind.execute(
                sa.text("SELECT id FROM article_version WHERE article_id = :a ORDER BY replaced_at, id"),
                {"a": article_id},
            ).scalars()
        )
        for number, version_id in enumerate(ids, 1):
            bind.execute(
                sa.text("UPDATE article_version SET version = :n WHERE id = :id"),
                {"n": number, "id": version_id},
            )
        bind.execute(
            sa.text("UPDATE article SET version = :v WHERE id = :a AND version <= :last"),
            {"v": len(ids) + 1, "a": article_id, "last": len(ids)},
        )
    op.create_index(INDEX, "article_version", ["article_id", "version"], unique=True)


def downgrade() -> None:
    op.drop_index(INDEX, table_name="article_version")
