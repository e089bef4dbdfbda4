"""Storage errors: every driver error leaves ``storage/`` as one of these."""

from __future__ import annotations

import functools
import sqlite3
import sys
from collections.abc import Callable, Iterator
from typing import ParamSpec, TypeVar

from core.errors import NewsArchiveError

P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T")


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


def is_driver_error(exc: BaseException) -> bool:
    """An error of SQLAlchemy or of a database driver (the standard library's ``sqlite3`` on
    the read commands' path). SQLAlchemy is not imported for this: when it is not imported
    already, none of its errors can have been raised."""
    sqlalchemy_errors = sys.modules.get("sqlalchemy.exc")
    if sqlalchemy_errors is not None and isinstance(exc, sqlalchemy_errors.SQLAlchemyError):
        return True
    return isinstance(exc, sqlite3.Error)


def wraps_driver_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn a SQLAlchemy/driver error raised by ``func`` into a one-line StorageError."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except Exception as exc:
            if not is_driver_error(exc):
                raise
            raise StorageError(f"{func.__name__}: {one_line(exc)}") from exc

    return wrapper


def wraps_driver_errors_in_iterator(func: Callable[P, Iterator[T]]) -> Callable[P, Iterator[T]]:
    """The same for a generator: errors can come at any ``next()``."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> Iterator[T]:
        try:
            yield from func(*args, **kwargs)
        except Exception as exc:
            if not is_driver_error(exc):
                raise
            raise StorageError(f"{func.__name__}: {one_line(exc)}") from exc

    return wrapper
