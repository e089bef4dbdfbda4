"""Storage errors: every driver error leaves ``storage/`` as one of these."""

from __future__ import annotations

from crawler.errors import NewsArchiveError


class StorageError(NewsArchiveError):
    """The archive cannot be opened, read or written; ``str()`` is one line."""


class ArchiveTooNew(StorageError):
    """The archive was written by a newer newsarchive than this one."""


class NotFound(StorageError):
    """An article id or URL that is not in the archive."""


def one_line(exc: BaseException) -> str:
    """The first line of a driver error, without SQLAlchemy's background links."""
    orig = getattr(exc, "orig", None) or exc
    text = str(orig).strip().splitlines()
    return text[0] if text else type(orig).__name__
