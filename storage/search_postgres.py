"""Search on PostgreSQL: the statements of ``storage.search`` built with SQLAlchemy for a
``tsvector`` index with GIN (SQLite runs the SQL of ``storage.sqlite_sql``)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    String,
    Subquery,
    TextClause,
    bindparam,
    cast,
    func,
    select,
    text,
)
from sqlalchemy.orm import Session

from storage.filters import ArticleFilter, is_listing
from storage.models import Article, SiteDayStats
from storage.query import VECTOR_TABLE, filter_conditions, match_condition, match_params

Condition = ColumnElement[bool] | TextClause


def _ts_query() -> ColumnElement[Any]:
    from sqlalchemy.dialects.postgresql import TSQUERY  # PostgreSQL only: see storage.types.JSONType

    return cast(bindparam("ts_query", type_=String), TSQUERY)


def _matches(others: list[Condition]) -> Select[Any]:
    """(id, score) of the matching articles, newest first: the index drives the scan
    and scores (relevance; the title's tokens weigh A), so that a LIMIT stops it early."""
    score = func.ts_rank(VECTOR_TABLE.c.vector, _ts_query())
    statement = select(VECTOR_TABLE.c.article_id.label("id"), score.label("score")).where(
        VECTOR_TABLE.c.vector.op("@@")(_ts_query())
    )
    id_ = statement.selected_columns.id
    if others:  # the article row only when a filter needs it
        statement = statement.join(Article, Article.id == id_).where(*others)
    return statement.order_by(id_.desc())


def _counted_matches(session: Session, others: list[Condition], query: str) -> Select[Any]:
    """The matches to count. With filters, the articles they keep are looked up in the
    index's matches gathered once: walking a common word's matches to test each
    against a site or a month costs a lookup per match."""
    if not others:  # the ids alone: a score in the counted rows would be computed for each
        matches = _matches(others)
        return matches.with_only_columns(matches.selected_columns.id)
    return select(Article.id).where(match_condition(session, query), *others)


def _window(others: list[Condition], rank_window: int) -> Subquery:
    """(id, score) of the newest ``rank_window`` matches. PostgreSQL would score every
    match before sorting them by id (``ts_rank`` reads the whole vector), so the window's
    ids are found first and only they are scored."""
    matches = _matches(others)
    ids = matches.with_only_columns(matches.selected_columns.id).limit(rank_window).subquery()
    ranked = VECTOR_TABLE.alias("ranked")
    score = func.ts_rank(ranked.c.vector, _ts_query())
    return (
        select(ids.c.id, score.label("score"))
        .select_from(ids.join(ranked, ranked.c.article_id == ids.c.id))
        .subquery()
    )


def _ranked_page(
    session: Session,
    others: list[Condition],
    params: dict[str, str],
    offset: int,
    limit: int,
    rank_window: int,
) -> list[tuple[int, float]]:
    """Positions [offset, offset + limit) of: the window ranked, then the rest newest first."""
    rows: list[tuple[int, float]] = []
    if offset < rank_window:
        window = _window(others, rank_window)
        statement = (
            select(window.c.id, window.c.score)
            .order_by(window.c.score.desc(), window.c.id.desc())
            .offset(offset)
            .limit(min(limit, rank_window - offset))
        )
        rows = [(int(i), float(s or 0)) for i, s in session.execute(statement, params)]
    if offset + limit > rank_window:
        start = max(offset, rank_window)
        tail = _matches(others).offset(start).limit(offset + limit - start)
        rows += [(int(i), float(s or 0)) for i, s in session.execute(tail, params)]
    return rows


@contextmanager
def _from_the_index(session: Session) -> Iterator[None]:
    """Find the matches through the GIN index alone. The planner does not know that testing
    ``vector @@ query`` row by row decompresses each vector: for a common word it walked the
    articles newest first testing each (1.1 s to count 10,001 matches at 80,000 articles)
    where the index's bitmap takes 24 ms."""
    switches = ("enable_seqscan", "enable_indexscan")
    for name in switches:
        session.execute(text(f"SET LOCAL {name} = off"))
    try:
        yield
    finally:
        for name in switches:
            session.execute(text(f"SET LOCAL {name} = on"))


def _count(session: Session, statement: Select[Any], params: dict[str, str], cap: int) -> tuple[int, bool]:
    capped = statement.limit(cap + 1).subquery()
    count = int(session.scalar(select(func.count()).select_from(capped), params) or 0)
    return min(count, cap), count <= cap


def matched(
    session: Session, filters: ArticleFilter, offset: int, limit: int, rank_window: int, count_cap: int
) -> tuple[list[tuple[int, float]], int, bool]:
    """(id, score) of a page of ``filters.query``'s matches, their total and whether it is exact."""
    assert filters.query is not None
    params = match_params(session, filters.query)
    others = filter_conditions(session, replace(filters, query=None))
    with _from_the_index(session):
        rows = _ranked_page(session, others, params, offset, limit, rank_window)
        total, exact = _count(session, _counted_matches(session, others, filters.query), params, count_cap)
    return rows, total, exact


def listed(
    session: Session, filters: ArticleFilter, offset: int, limit: int, count_cap: int
) -> tuple[list[tuple[int, float]], int, bool]:
    """Articles newest published first (undated last); with a query of NOT terms
    only, those without the terms."""
    if is_listing(filters.query):
        filters = replace(filters, query=None)
    conditions = filter_conditions(session, filters)
    params = match_params(session, filters.query) if filters.query is not None else {}
    newest = Article.published_at.desc().nulls_last()
    statement = select(Article.id).where(*conditions).order_by(newest, Article.id.desc())
    ids = session.scalars(statement.offset(offset).limit(limit), params).all()
    if filters.query is None and filters == ArticleFilter(site=filters.site):  # kept by triggers
        total = select(func.coalesce(func.sum(SiteDayStats.articles), 0))
        if filters.site:
            total = total.where(SiteDayStats.site == filters.site)
        return [(i, 0.0) for i in ids], int(session.scalar(total) or 0), True
    count, exact = _count(session, select(Article.id).where(*conditions), params, count_cap)
    return [(i, 0.0) for i in ids], count, exact


def hit_rows(session: Session, ids: list[int]) -> list[tuple[Any, ...]]:
    """The fields of ``sqlite_sql.HITS`` for ``ids``."""
    statement = select(
        Article.id, Article.site, Article.title, Article.canonical_url, Article.author,
        Article.published_at, Article.published_utc_offset, Article.duplicate_of, Article.text,
    ).where(Article.id.in_(ids))  # fmt: skip
    return [tuple(row) for row in session.execute(statement)]
