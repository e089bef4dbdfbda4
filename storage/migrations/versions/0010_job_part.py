"""v10: job_part, the progress of a job split across processes or machines.

``reextract --shard K/N`` and ``import --shard K/N`` / ``import --claim`` record, per shard
or per file, which run works on it (a claim: another process of the same job leaves it
alone while that run is alive), how far it got (the last article id re-extracted, the
pages of a file imported: a killed run's re-run resumes there) and whether it is done.

Revision ID: 0010_job_part
Revises: 0009_search_index
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_job_part"
down_revision = "0009_search_index"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "job_part",
        sa.Column("job", sa.String(200), nullable=False),
        sa.Column("part", sa.String(500), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("done", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column(
            "run_id",
            sa.Integer(),
            sa.ForeignKey("crawl_run.id", name="fk_job_part_run_id_crawl_run", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("job", "part", name="pk_job_part"),
    )


def downgrade() -> None:
    op.drop_table("job_part")
