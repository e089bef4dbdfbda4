"""Full-text search over the archive, ranked, paged, with highlighted snippets.

Ranking stops early: the newest ``RANK_WINDOW`` matches (by article id, which grows
with time) are ranked by relevance (BM25 on SQLite, ``ts_rank`` on PostgreSQL; a title
match weighs ten times a text match) and come first; older matches follow, newest
first. A common word in a million articles so costs what a rare one does, and the
ranking of a search with fewer matches than the window covers all of them. Without a
query, articles are listed newest published first.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    String,
    Subquery,
    bindparam,
    cast,
    func,
    literal_column,
    select,
    text,
)
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from core.hanzi import fold_chinese
from storage.errors import StorageError, one_line
from storage.models import Article, SiteDayStats
from storage.query import (
    FTS_TABLE,
    SQL_INT_MAX,
    VECTOR_TABLE,
    ArticleFilter,
    check_query,
    filter_conditions,
    index_filter,
    is_listing,
    match_condition,
    match_params,
    query_terms,
)
from storage.search_syntax import only_excludes

HIGHLIGHT = ("**", "**")  # the snippet marks matches Markdown-style: plain text, JSON and terminals
SNIPPET_BEFORE = 30
SNIPPET_AFTER = 70
RANK_WINDOW = 1000  # the newest matches ranked by relevance; older ones follow newest first
COUNT_CAP = 10_000  # matches counted up to here; beyond, the total is "more than"


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


@dataclass(frozen=True)
class SearchPage:
    """One page of results: ``hits`` from position ``offset`` of ``total`` matches
    (``total_exact`` False when there are more than ``total``: counting stops at
    ``COUNT_CAP``)."""

    hits: list[SearchHit]
    total: int
    total_exact: bool
    offset: int
    limit: int

    def describe(self) -> str:
        """``1-20 of 42``, ``0 of 0``, ``21-40 of more than 10000``."""
        shown = f"{self.offset + 1}-{self.offset + len(self.hits)}" if self.hits else "0"
        return f"{shown} of {'' if self.total_exact else 'more than '}{self.total}"


def snippet(text: str, terms: list[str], *, before: int = SNIPPET_BEFORE, after: int = SNIPPET_AFTER) -> str:
    """A window of ``text`` around the first match with every match marked;
    traditional and simplified characters match each other, as in the search."""
    flat = " ".join(text.split())
    if not terms:
        return flat[: before + after] + ("…" if len(flat) > before + after else "")
    folded_terms = sorted({fold_chinese(t) for t in terms}, key=len, reverse=True)
    pattern = re.compile("|".join(re.escape(t) for t in folded_terms), re.IGNORECASE)
    folded = fold_chinese(flat)  # same length as flat: positions carry over
    first = pattern.search(folded)
    start = max(0, first.start() - before) if first else 0
    end = min(len(flat), (first.end() if first else 0) + after)
    parts: list[str] = []
    position = start
    for match in pattern.finditer(folded, start, end):
        parts.append(flat[position : match.start()])
        parts.append(f"{HIGHLIGHT[0]}{flat[match.start() : match.end()]}{HIGHLIGHT[1]}")
        position = match.end()
    parts.append(flat[position:end])
    return ("…" if start > 0 else "") + "".join(parts) + ("…" if end < len(flat) else "")


def _ts_query() -> ColumnElement[Any]:
    from sqlalchemy.dialects.postgresql import TSQUERY  # PostgreSQL only: see storage.types.JSONType

    return cast(bindparam("ts_query", type_=String), TSQUERY)


def _index_score(session: Session) -> ColumnElement[Any]:
    if session.get_bind().dialect.name == "sqlite":
        return -func.bm25(literal_column("article_fts_bigram"), 10.0, 1.0, 0.0)  # title 10, site/date 0
    return func.ts_rank(VECTOR_TABLE.c.vector, _ts_query())  # the title's tokens weigh A


def _index_matches(session: Session) -> Select[Any]:
    """The index's matching rows: columns ``id`` and ``score`` (its relevance)."""
    if session.get_bind().dialect.name == "sqlite":
        return (
            select(FTS_TABLE.c.rowid.label("id"), _index_score(session).label("score"))
            .select_from(FTS_TABLE)
            .where(text("article_fts_bigram MATCH :fts_query"))
        )
    return select(VECTOR_TABLE.c.article_id.label("id"), _index_score(session).label("score")).where(
        VECTOR_TABLE.c.vector.op("@@")(_ts_query())
    )


def _matches(session: Session, others: list[ColumnElement[bool]]) -> Select[Any]:
    """(id, score) of the matching articles, newest first: the index drives the scan
    and scores (relevance), so that a LIMIT stops it early."""
    statement = _index_matches(session)
    id_ = statement.selected_columns.id
    if others:  # the article row only when a filter needs it
        statement = statement.join(Article, Article.id == id_).where(*others)
    return statement.order_by(id_.desc())


def _counted_matches(session: Session, others: list[ColumnElement[bool]], query: str) -> Select[Any]:
    """The matches to count. With filters, the articles they keep are looked up in the
    index's matches gathered once: walking a common word's matches to test each
    against a site or a month costs a lookup per match."""
    if not others:  # the ids alone: a score in the counted rows would be computed for each
        matches = _matches(session, others)
        return matches.with_only_columns(matches.selected_columns.id)
    return select(Article.id).where(match_condition(session, query), *others)


def _window(session: Session, others: list[ColumnElement[bool]]) -> Subquery:
    """(id, score) of the newest ``RANK_WINDOW`` matches. PostgreSQL would score every
    match before sorting them by id (``ts_rank`` reads the whole vector), so there the
    window's ids are found first and only they are scored; FTS5 yields matches newest
    first and scores only the rows it returns."""
    matches = _matches(session, others)
    if session.get_bind().dialect.name != "postgresql":
        return matches.limit(RANK_WINDOW).subquery()
    ids = matches.with_only_columns(matches.selected_columns.id).limit(RANK_WINDOW).subquery()
    ranked = VECTOR_TABLE.alias("ranked")
    score = func.ts_rank(ranked.c.vector, _ts_query())
    return (
        select(ids.c.id, score.label("score"))
        .select_from(ids.join(ranked, ranked.c.article_id == ids.c.id))
        .subquery()
    )


def _ranked_page(
    session: Session, others: list[ColumnElement[bool]], params: dict[str, str], offset: int, limit: int
) -> list[tuple[int, float]]:
    """Positions [offset, offset + limit) of: the window ranked, then the rest newest first."""
    rows: list[tuple[int, float]] = []
    if offset < RANK_WINDOW:
        window = _window(session, others)
        statement = (
            select(window.c.id, window.c.score)
            .order_by(window.c.score.desc(), window.c.id.desc())
            .offset(offset)
            .limit(min(limit, RANK_WINDOW - offset))
        )
        rows = [(int(i), float(s or 0)) for i, s in session.execute(statement, params)]
    if offset + limit > RANK_WINDOW:
        start = max(offset, RANK_WINDOW)
        tail = _matches(session, others).offset(start).limit(offset + limit - start)
        rows += [(int(i), float(s or 0)) for i, s in session.execute(tail, params)]
    return rows


@contextmanager
def _from_the_index(session: Session) -> Iterator[None]:
    """On PostgreSQL, find the matches through the GIN index alone. The planner does not
    know that testing ``vector @@ query`` row by row decompresses each vector: for a common
    word it walked the articles newest first testing each (1.1 s to count 10,001 matches
    at 80,000 articles) where the index's bitmap takes 24 ms."""
    if session.get_bind().dialect.name != "postgresql":
        yield
        return
    switches = ("enable_seqscan", "enable_indexscan")
    for name in switches:
        session.execute(text(f"SET LOCAL {name} = off"))
    try:
        yield
    finally:
        for name in switches:
            session.execute(text(f"SET LOCAL {name} = on"))


def _index_filtered(session: Session, filters: ArticleFilter, params: dict[str, str]) -> ArticleFilter:
    """On SQLite, the site and period go into the MATCH expression (``params``), so the
    index answers them in its own scan; the filters left to test on the article rows."""
    rest = replace(filters, query=None)
    if session.get_bind().dialect.name != "sqlite":
        return rest
    meta, rest = index_filter(rest)
    if meta:
        params["fts_query"] = f"({params['fts_query']}) AND {meta}"
    return rest


def _site_only(filters: ArticleFilter) -> bool:
    return filters == ArticleFilter(query=filters.query, site=filters.site)


def _count(session: Session, statement: Select[Any], params: dict[str, str]) -> tuple[int, bool]:
    capped = statement.limit(COUNT_CAP + 1).subquery()
    count = int(session.scalar(select(func.count()).select_from(capped), params) or 0)
    return min(count, COUNT_CAP), count <= COUNT_CAP


def _listing(
    session: Session, filters: ArticleFilter, offset: int, limit: int
) -> tuple[list[tuple[int, float]], int, bool]:
    """Articles newest published first (undated last); with a query of NOT terms
    only, those without the terms."""
    if is_listing(filters.query):
        filters = replace(filters, query=None)
    conditions = filter_conditions(session, filters)
    params = match_params(session, filters.query) if filters.query is not None else {}
    newest = Article.published_at.desc()
    if session.get_bind().dialect.name == "postgresql":
        newest = newest.nulls_last()  # SQLite puts NULL last in DESC on its own (and uses the index)
    statement = select(Article.id).where(*conditions).order_by(newest, Article.id.desc())
    ids = session.scalars(statement.offset(offset).limit(limit), params).all()
    if filters.query is None and _site_only(filters):  # kept by triggers: exact and instant
        total = select(func.coalesce(func.sum(SiteDayStats.articles), 0))
        if filters.site:
            total = total.where(SiteDayStats.site == filters.site)
        return [(i, 0.0) for i in ids], int(session.scalar(total) or 0), True
    count, exact = _count(session, select(Article.id).where(*conditions), params)
    return [(i, 0.0) for i in ids], count, exact


def _hits(session: Session, rows: list[tuple[int, float]], terms: list[str]) -> list[SearchHit]:
    articles = {a.id: a for a in session.scalars(select(Article).where(Article.id.in_([i for i, _ in rows])))}
    hits = []
    for id_, score in rows:
        article = articles.get(id_)
        if article is None:  # deleted between the two queries
            continue
        hits.append(
            SearchHit(
                id=article.id,
                site=article.site,
                title=article.title,
                url=article.canonical_url,
                author=article.author,
                published_at=article.published_local,  # as the publisher gave it
                duplicate_of=article.duplicate_of,
                score=score,
                snippet=snippet(article.text, terms),
            )
        )
    return hits


def search_page(
    session: Session,
    query: str | None,
    *,
    site: str | None = None,
    since: date | datetime | None = None,
    until: date | datetime | None = None,
    author: str | None = None,
    language: str | None = None,
    articles_only: bool = False,
    limit: int = 20,
    offset: int = 0,
) -> SearchPage:
    """One page of the articles matching ``query`` (syntax: ``storage.search_syntax``),
    best first, with the number of matches. An empty query lists the articles
    newest published first; a query of NOT terms only lists those without them."""
    if limit < 1 or offset < 0:
        raise StorageError("a page needs limit >= 1 and offset >= 0")
    limit = min(limit, SQL_INT_MAX)
    offset = min(offset, SQL_INT_MAX - limit)
    filters = ArticleFilter(query, site, since, until, author, language, articles_only)
    try:
        if is_listing(query) or only_excludes(check_query(query or "")):
            rows, total, exact = _listing(session, filters, offset, limit)
        else:
            assert query is not None
            params = match_params(session, query)
            others = filter_conditions(session, _index_filtered(session, filters, params))
            with _from_the_index(session):
                rows = _ranked_page(session, others, params, offset, limit)
                total, exact = _count(session, _counted_matches(session, others, query), params)
        hits = _hits(session, rows, query_terms(query or ""))
    except DBAPIError as exc:
        message = one_line(exc)
        if "fts5" in message.lower() or "tsquery" in message.lower():  # the index refused the query
            raise StorageError(f"invalid search query {query!r}: {message}") from exc
        raise StorageError(f"search failed: {message}") from exc
    return SearchPage(hits, total, exact, offset, limit)


def search(
    session: Session,
    query: str | None,
    *,
    site: str | None = None,
    since: date | datetime | None = None,
    until: date | datetime | None = None,
    author: str | None = None,
    language: str | None = None,
    articles_only: bool = False,
    limit: int = 20,
    offset: int = 0,
) -> list[SearchHit]:
    """The hits of ``search_page`` alone."""
    return search_page(
        session, query, site=site, since=since, until=until, author=author, language=language,
        articles_only=articles_only, limit=limit, offset=offset,
    ).hits  # fmt: skip


def known_sites(session: Session) -> list[str]:
    """The sites the archive holds articles of (from the maintained counts)."""
    statement = (
        select(SiteDayStats.site)
        .where(SiteDayStats.site != "")
        .group_by(SiteDayStats.site)
        .having(func.sum(SiteDayStats.articles) > 0)
        .order_by(SiteDayStats.site)
    )
    return list(session.scalars(statement))
