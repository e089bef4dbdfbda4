"""v6: whether the classifier was sure a page is an article.

``is_article`` is ``yes``, ``uncertain`` (some signals said listing page, too few to
drop it) or ``no`` (a page stored earlier that re-extraction now takes for a listing;
a crawl does not store such pages). Existing rows were stored by a classifier that kept
only the pages it took for articles: they start as ``yes`` and are judged again by
``reextract``.

Revision ID: 0006_is_article
Revises: 0005_version_unique
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_is_article"
down_revision = "0005_version_unique"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("article", sa.Column("is_article", sa.String(10), nullable=False, server_default="yes"))


def downgrade() -> None:
    with op.batch_alter_table("article") as batch:
        batch.drop_column("is_article")
