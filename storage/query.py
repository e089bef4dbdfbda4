"""Article filters shared by search, export, re-extraction and stats.

A text query (see ``storage.search_syntax`` for the language) is answered from the
search index: an FTS5 table over bigram tokens on SQLite (``article_fts_bigram``), a
``tsvector`` with a GIN index on PostgreSQL (``article_fts_vector``); both hold the
tokens of ``storage.search_tokens``, traditional characters folded to simplified.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, column, func, or_, select, table, text
from sqlalchemy.orm import Session

from storage.errors import StorageError
from storage.models import Article
from storage.search_syntax import All, Any_, Node, only_excludes, parse, positive_terms, to_fts5, to_tsquery
from storage.search_tokens import DAY_MARK, day_range_tokens, site_token

FTS_TABLE = table("article_fts_bigram", column("rowid"))
VECTOR_TABLE = table("article_fts_vector", column("article_id"), column("vector"))


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


def _contains(column_: Any, term: str, dialect: str) -> ColumnElement[bool]:
    if dialect == "sqlite":  # lower() folds ASCII only, like ILIKE does for Chinese: nothing to fold
        return func.instr(func.lower(column_), term.lower()) > 0
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return column_.ilike(f"%{escaped}%", escape="\\")


def match_condition(session: Session, query: str) -> ColumnElement[bool]:
    """``Article.id`` among the index's matches for ``query`` (or, for a query of
    NOT terms only, not among the matches of those terms). Needs the parameters
    of ``bind_params``."""
    node = check_query(query)
    if session.get_bind().dialect.name == "sqlite":
        matches = select(FTS_TABLE.c.rowid).where(text("article_fts_bigram MATCH :fts_query"))
    else:
        matches = select(VECTOR_TABLE.c.article_id).where(text("vector @@ CAST(:ts_query AS tsquery)"))
    return Article.id.not_in(matches) if only_excludes(node) else Article.id.in_(matches)


def match_params(session: Session, query: str) -> dict[str, str]:
    node = check_query(query)
    if isinstance(node, All) and not node.include:  # matched: any excluded term
        node = node.exclude[0] if len(node.exclude) == 1 else Any_(node.exclude)
    if session.get_bind().dialect.name == "sqlite":
        return {"fts_query": to_fts5(node)}
    return {"ts_query": to_tsquery(node)}


# the largest integer SQLite and PostgreSQL's bigint take; a bigger LIMIT or id means "no limit"
SQL_INT_MAX = 2**63 - 1


def _utc(value: datetime) -> datetime:
    aware = value if value.tzinfo else value.replace(tzinfo=UTC)
    try:
        return aware.astimezone(UTC)
    except OverflowError:  # past the year 9999 (or before the year 1) once in UTC: unbounded
        return (datetime.max if aware.year > 1 else datetime.min).replace(tzinfo=UTC)


def _start(value: date | datetime) -> datetime:
    if isinstance(value, datetime):
        return _utc(value)
    return datetime.combine(value, time(), tzinfo=UTC)


def _end(value: date | datetime) -> tuple[datetime, bool]:
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
        start = _start(filters.since) if filters.since is not None else None
        end, inclusive = _end(filters.until) if filters.until is not None else (None, False)
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


def filter_conditions(session: Session, filters: ArticleFilter) -> list[ColumnElement[bool]]:
    """WHERE conditions on ``Article`` for ``filters``. A text query on SQLite
    FTS5 needs the ``fts_query`` parameter: see ``bind_params``."""
    dialect = session.get_bind().dialect.name
    conditions: list[ColumnElement[bool]] = []
    if filters.articles_only:
        conditions.append(Article.is_article == "yes")
    if filters.site:
        conditions.append(Article.site == filters.site)
    if filters.since is not None:
        conditions.append(Article.published_at >= _start(filters.since))
    if filters.until is not None:
        bound, inclusive = _end(filters.until)
        conditions.append(Article.published_at <= bound if inclusive else Article.published_at < bound)
    if filters.author:
        conditions.append(_contains(Article.author, filters.author, dialect))
    if filters.language:
        conditions.append(
            or_(Article.language == filters.language, Article.language.like(filters.language + "-%"))
        )
    if filters.query is not None:
        conditions.append(match_condition(session, filters.query))
    return conditions


def bind_params(session: Session, filters: ArticleFilter) -> dict[str, str]:
    """The parameters ``filter_conditions`` needs (the query for the index)."""
    if filters.query is not None:
        return match_params(session, filters.query)
    return {}
