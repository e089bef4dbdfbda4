"""Search on PostgreSQL: ``storage.search``'s steps over the SQL of ``storage.postgres_sql``,
run by any reader (psycopg alone for the read commands, a SQLAlchemy session otherwise)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

from storage import postgres_sql as sql
from storage import sqlite_sql
from storage.filters import ArticleFilter, is_listing
from storage.reader import Reader

Rows = tuple[list[tuple[int, float]], int, bool]


@contextmanager
def _from_the_index(reader: Reader) -> Iterator[None]:
    """The planner settings of ``postgres_sql.FROM_THE_INDEX`` for the statements in this block."""
    for statement in sql.FROM_THE_INDEX:
        reader(statement)
    try:
        yield
    finally:
        for statement in sql.AS_CONFIGURED:
            reader(statement)


def _count(reader: Reader, statement: str, params: dict[str, Any], cap: int) -> tuple[int, bool]:
    count = int(reader(statement, {**params, "cap": cap + 1})[0][0] or 0)
    return min(count, cap), count <= cap


def matched(
    reader: Reader, filters: ArticleFilter, offset: int, limit: int, rank_window: int, cap: int
) -> Rows:
    """(id, score) of a page of ``filters.query``'s matches (the newest ``rank_window``
    ranked, then the rest newest first), their total and whether it is exact."""
    assert filters.query is not None
    where, params = sql.index_conditions(filters) or sql.conditions(replace(filters, query=None))
    params["ts_query"] = sql.ts_query(filters.query)
    rows: list[tuple[int, float]] = []
    total: tuple[int, bool] | None = None
    with _from_the_index(reader):
        if offset < rank_window:
            page = {"window": rank_window, "limit": min(limit, rank_window - offset), "offset": offset}
            # one pass over the matches counts them too: where each is rechecked (its vector read)
            # or joined to its article row for the filters, counting apart would do it twice
            if where or sql.rechecked(params["ts_query"]):
                found = reader(sql.ranked_window_counted(where), {**params, **page, "cap": cap + 1})
                if found:
                    count = int(found[0][2])
                    total = min(count, cap), count <= cap
            else:
                found = reader(sql.ranked_window(where), {**params, **page})
            rows = [(int(row[0]), float(row[1] or 0)) for row in found]
        if offset + limit > rank_window:
            start = max(offset, rank_window)
            page = {"limit": offset + limit - start, "offset": start}
            rows += [(int(i), float(s or 0)) for i, s in reader(sql.older_matches(where), {**params, **page})]
        if total is None:
            total = _count(reader, sql.counted_matches(where), params, cap)
    return (rows, *total)


def listed(reader: Reader, filters: ArticleFilter, offset: int, limit: int, cap: int) -> Rows:
    """Articles newest published first (undated last); with a query of NOT terms
    only, those without the terms."""
    if is_listing(filters.query):
        filters = replace(filters, query=None)
    where, params = sql.conditions(filters)
    ids = [(int(i), 0.0) for (i,) in reader(sql.listed(where), {**params, "limit": limit, "offset": offset})]
    if filters.query is None and filters == ArticleFilter(site=filters.site):  # kept by triggers: exact
        if filters.site:
            total = reader(sqlite_sql.SITE_ARTICLES, {"site": filters.site})
        else:
            total = reader(sqlite_sql.ARTICLES)
        return ids, int(total[0][0] or 0), True
    return (ids, *_count(reader, sql.counted(where), params, cap))


def hit_rows(reader: Reader, ids: list[int]) -> list[tuple[Any, ...]]:
    """The fields of ``postgres_sql.HITS`` for ``ids``."""
    return [tuple(row) for row in reader(sql.HITS, {"ids": ids})]
