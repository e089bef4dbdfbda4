"""Full-text search over the archive, ranked, with highlighted snippets."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date, datetime

from sqlalchemy import Select, func, literal_column, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from storage.errors import StorageError, one_line
from storage.models import Article
from storage.query import (
    FTS_TABLE,
    SQL_INT_MAX,
    ArticleFilter,
    bind_params,
    check_query,
    filter_conditions,
    fts_match,
    occurrence_score,
    query_terms,
    use_fts,
)

HIGHLIGHT = ("**", "**")  # the snippet marks matches Markdown-style: plain text, JSON and terminals
SNIPPET_BEFORE = 30
SNIPPET_AFTER = 70


@dataclass(frozen=True)
class SearchHit:
    id: int
    site: str | None
    title: str | None
    url: str
    author: str | None
    published_at: datetime | None
    duplicate_of: int | None
    score: float
    snippet: str


def snippet(text: str, terms: list[str], *, before: int = SNIPPET_BEFORE, after: int = SNIPPET_AFTER) -> str:
    """A window of ``text`` around the first match with every match marked."""
    flat = " ".join(text.split())
    if not terms:
        return flat[: before + after]
    pattern = re.compile("|".join(re.escape(t) for t in sorted(terms, key=len, reverse=True)), re.IGNORECASE)
    first = pattern.search(flat)
    start = max(0, first.start() - before) if first else 0
    end = min(len(flat), (first.end() if first else 0) + after)
    window = pattern.sub(lambda m: f"{HIGHLIGHT[0]}{m.group(0)}{HIGHLIGHT[1]}", flat[start:end])
    return ("…" if start > 0 else "") + window + ("…" if end < len(flat) else "")


def _statement(session: Session, filters: ArticleFilter, limit: int) -> Select[Article, float]:
    assert filters.query is not None
    others = filter_conditions(session, replace(filters, query=None))
    if use_fts(session, filters.query):
        rank = func.bm25(literal_column("article_fts"), 10.0, 1.0)  # title weighs 10
        return (
            select(Article, (-rank).label("score"))
            .join(FTS_TABLE, FTS_TABLE.c.rowid == Article.id)
            .where(fts_match(), *others)
            .order_by(rank, Article.published_at.desc().nulls_last(), Article.id)
            .limit(limit)
        )
    score = occurrence_score(filters.query)
    query_only = filter_conditions(session, ArticleFilter(query=filters.query))
    return (
        select(Article, score.label("score"))
        .where(*query_only, *others)
        .order_by(score.desc(), Article.published_at.desc().nulls_last(), Article.id)
        .limit(limit)
    )


def search(
    session: Session,
    query: str,
    *,
    site: str | None = None,
    since: date | datetime | None = None,
    until: date | datetime | None = None,
    author: str | None = None,
    language: str | None = None,
    articles_only: bool = False,
    limit: int = 20,
) -> list[SearchHit]:
    """Articles matching ``query`` best first. Chinese works at any length:
    terms of three or more characters use the FTS5 trigram index on SQLite,
    shorter ones substring matching; PostgreSQL uses ILIKE (pg_trgm indexed).
    FTS5 syntax (``"a phrase"``, ``OR``, ``NOT``) is accepted on SQLite."""
    check_query(query)
    limit = min(limit, SQL_INT_MAX)
    filters = ArticleFilter(query, site, since, until, author, language, articles_only)
    try:
        rows = session.execute(_statement(session, filters, limit), bind_params(session, filters)).all()
    except DBAPIError as exc:
        message = one_line(exc)
        if use_fts(session, query) and "locked" not in message:  # FTS5 rejected the query
            raise StorageError(f"invalid search query {query!r}: {message}") from exc
        raise StorageError(f"search failed: {message}") from exc
    terms = query_terms(query)
    return [
        SearchHit(
            id=article.id,
            site=article.site,
            title=article.title,
            url=article.canonical_url,
            author=article.author,
            published_at=article.published_local,  # as the publisher gave it
            duplicate_of=article.duplicate_of,
            score=float(score or 0),
            snippet=snippet(article.text, terms),
        )
        for article, score in rows
    ]
