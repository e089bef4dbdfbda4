"""v15: ``raw_page_dictionary``, the zstd dictionaries raw pages are compressed with.

Raw page bodies are stored as zstd frames from now on (``core.rawcodec``), with a per-site
dictionary learned from the site's first pages once there is one; the frame's header names
its dictionary by ``dict_id``. Rows stored before keep their zlib streams, which the reader
tells apart by their first bytes: nothing to convert.

Revision ID: 0015_raw_page_dictionary
Revises: 0014_published_precision
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015_raw_page_dictionary"
down_revision = "0014_published_precision"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "raw_page_dictionary",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dict_id", sa.BigInteger(), nullable=False),
        sa.Column("site", sa.String(length=200), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("samples", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_raw_page_dictionary")),
        sa.UniqueConstraint("dict_id", name=op.f("uq_raw_page_dictionary_dict_id")),
    )
    op.create_index(op.f("ix_raw_page_dictionary_site"), "raw_page_dictionary", ["site"])


def downgrade() -> None:
    # rows compressed with a dictionary cannot be read without it: refuse rather than lose them
    bind = op.get_bind()
    if bind.execute(sa.text("SELECT count(*) FROM raw_page_dictionary")).scalar():
        raise RuntimeError("raw pages are compressed with the dictionaries of raw_page_dictionary")
    op.drop_index(op.f("ix_raw_page_dictionary_site"), table_name="raw_page_dictionary")
    op.drop_table("raw_page_dictionary")
