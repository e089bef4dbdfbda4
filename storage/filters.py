"""Which articles a command works on (``ArticleFilter``) and what a query asks for,
without SQLAlchemy: the read commands' SQLite path (``storage.sqlite_read``) and the
SQLAlchemy path (``storage.query``) both start here.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta

from storage.errors import StorageError
from storage.search_syntax import Node, parse, positive_terms
from storage.search_tokens import DAY_MARK, day_range_tokens, site_token


@dataclass(frozen=True)
class ArticleFilter:
    """Which articles a command works on; every field is optional."""

    query: str | None = None
    site: str | None = None
    since: date | datetime | None = None
    until: date | datetime | None = None  # inclusive: the whole day when a date
    author: str | None = None
    language: str | None = None
    articles_only: bool = False  # only pages the classifier was sure of (is_article = "yes")


def check_query(query: str) -> Node:
    """The parsed query; it must name something to look for."""
    if not query.strip():
        raise StorageError("empty search query")
    node = parse(query)
    if node is None:
        raise StorageError(f"search query {query!r} has no term to look for")
    return node


def query_terms(query: str) -> list[str]:
    """The terms a match contains (for snippets), longest first."""
    return positive_terms(parse(query)) if query.strip() else []


def is_listing(query: str | None) -> bool:
    """No query (or a blank one): every article, newest first."""
    return query is None or not query.strip()


# the largest integer SQLite and PostgreSQL's bigint take; a bigger LIMIT or id means "no limit"
SQL_INT_MAX = 2**63 - 1


def _utc(value: datetime) -> datetime:
    aware = value if value.tzinfo else value.replace(tzinfo=UTC)
    try:
        return aware.astimezone(UTC)
    except OverflowError:  # past the year 9999 (or before the year 1) once in UTC: unbounded
        return (datetime.max if aware.year > 1 else datetime.min).replace(tzinfo=UTC)


def period_start(value: date | datetime) -> datetime:
    if isinstance(value, datetime):
        return _utc(value)
    return datetime.combine(value, time(), tzinfo=UTC)


def period_end(value: date | datetime) -> tuple[datetime, bool]:
    """(bound, inclusive)."""
    if isinstance(value, datetime):
        return _utc(value), True
    if value >= date.max:  # the whole last day there is: no upper bound
        return datetime.max.replace(tzinfo=UTC), True
    return datetime.combine(value + timedelta(days=1), time(), tzinfo=UTC), False


def _midnight(value: datetime) -> bool:
    return value.time() == time()


def index_filter(filters: ArticleFilter) -> tuple[str | None, ArticleFilter]:
    """For SQLite's search index: an FTS5 expression over its ``meta`` column that keeps
    the articles of ``filters``' site and period (None when there is neither), and the
    filters still to test on the article rows. The site, and a period of whole UTC days,
    are answered by the expression alone; a period that starts or ends within a day keeps
    its bounds for the rows (the expression takes the whole days)."""
    parts: list[str] = []
    rest = filters
    if filters.site:
        parts.append(f'"{site_token(filters.site)}"')
        rest = replace(rest, site=None)
    if filters.since is not None or filters.until is not None:
        start = period_start(filters.since) if filters.since is not None else None
        end, inclusive = period_end(filters.until) if filters.until is not None else (None, False)
        stop: date | None = None
        if end is not None and end.date() < date.max:
            stop = end.date() if _midnight(end) and not inclusive else end.date() + timedelta(days=1)
        tokens = day_range_tokens(start.date() if start else None, stop)
        parts.append("(" + " OR ".join(f'"{t}"' for t in tokens or [DAY_MARK]) + ")")  # bare ⓓ: none
        exact_end = (
            end is None or (_midnight(end) and not inclusive) or end.replace(tzinfo=None) == datetime.max
        )
        if (start is None or _midnight(start)) and exact_end:
            rest = replace(rest, since=None, until=None)
    if not parts:
        return None, filters
    return "meta : (" + " AND ".join(parts) + ")", rest
