"""What every route needs: a read-only session per request."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import Request
from sqlalchemy.orm import Session

from storage import Archive


def session_for(request: Request) -> Iterator[Session]:
    """A read-only session per request: a SQLite reader never holds the write lock."""
    archive: Archive = request.app.state.archive
    with archive.session(read_only=True) as session:
        yield session
