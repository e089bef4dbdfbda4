"""Alembic environment: run programmatically by ``storage.archive``.

The caller passes an open connection in ``config.attributes["connection"]``;
there is no alembic.ini and no URL here.
"""

from __future__ import annotations

from alembic import context

from storage.models import Base

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite cannot ALTER most things
)
with context.begin_transaction():
    context.run_migrations()
