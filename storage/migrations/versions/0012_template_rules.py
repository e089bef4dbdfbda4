"""v12: the rules a site template was learned by.

``site_template.rules``: the version of the learning rules (``TEMPLATE_RULES`` in
``pipelines.extraction.template``) that learned the row's lines. Existing rows were learned
by the first rules (every stored row counted, copies of one article too, and lines kept
for ever), which could learn an article's own lines as furniture: they are ``1``, and the
ingest side rebuilds such a template from scratch under the current rules.

Revision ID: 0012_template_rules
Revises: 0011_search_filters
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_template_rules"
down_revision = "0011_search_filters"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("site_template") as batch:
        batch.add_column(sa.Column("rules", sa.Integer(), nullable=False, server_default="1"))


def downgrade() -> None:
    with op.batch_alter_table("site_template") as batch:
        batch.drop_column("rules")
