"""Full-text search over the archive, ranked, paged, with highlighted snippets.

Ranking stops early: the newest ``RANK_WINDOW`` matches (by article id, which grows
with time) are ranked by relevance (BM25 on SQLite, ``ts_rank`` on PostgreSQL; a title
match weighs ten times a text match) and come first; older matches follow, newest
first. A common word in a million articles so costs what a rare one does, and the
ranking of a search with fewer matches than the window covers all of them. Without a
query, articles are listed newest published first.

``session`` below is a SQLAlchemy session or a reader (``storage.reader``): on SQLite
both run the SQL of ``storage.sqlite_sql``; on PostgreSQL a session or a psycopg reader runs
that of ``storage.postgres_sql`` (``storage.search_postgres``). This module never imports
SQLAlchemy, so that the read commands need not.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta, timezone
from typing import Any

from core.hanzi import fold_chinese
from storage import sqlite_sql as sql
from storage.errors import StorageError, is_driver_error, one_line
from storage.filters import SQL_INT_MAX, ArticleFilter, check_query, index_filter, is_listing, query_terms
from storage.reader import Reader, as_reader, dialect_of, utc_datetime
from storage.search_syntax import only_excludes

HIGHLIGHT = ("**", "**")  # the snippet marks matches Markdown-style: plain text, JSON and terminals
SNIPPET_BEFORE = 30
SNIPPET_AFTER = 70
SNIPPET_PREFIX = 2000  # characters of a text in which its snippet is looked for first
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
    traditional and simplified characters match each other, as in the search.

    The window is looked for in the first ``SNIPPET_PREFIX`` characters first (most
    matches are near the start), and in the whole text only when the prefix cannot
    decide it: the snippet is the one the whole text gives either way."""
    if len(text) > SNIPPET_PREFIX:
        found = _snippet(text[:SNIPPET_PREFIX], terms, before, after, prefix=True)
        if found is not None:
            return found
    return _snippet(text, terms, before, after, prefix=False) or ""


def _snippet(text: str, terms: list[str], before: int, after: int, *, prefix: bool) -> str | None:
    """The snippet of ``text``; of a prefix of the text (``prefix``), None when the rest could
    change it. The whitespace-collapsed prefix is a prefix of the collapsed text, and each
    match is as long as its term, so the window holds when it ends before the prefix does
    and no longer term could have matched at an earlier position."""
    flat = " ".join(text.split())
    if not terms:
        if prefix and len(flat) <= before + after:
            return None
        return flat[: before + after] + ("…" if len(flat) > before + after else "")
    folded_terms = sorted({fold_chinese(t) for t in terms}, key=len, reverse=True)
    pattern = re.compile("|".join(re.escape(t) for t in folded_terms), re.IGNORECASE)
    folded = fold_chinese(flat)  # same length as flat: positions carry over
    first = pattern.search(folded)
    if prefix and (first is None or first.start() + len(folded_terms[0]) + after >= len(flat)):
        return None
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


Rows = tuple[list[tuple[int, float]], int, bool]  # (id, score) of a page, the total, exact or not


def _count(reader: Reader, statement: str, params: dict[str, Any]) -> tuple[int, bool]:
    count = int(reader(statement, {**params, "cap": COUNT_CAP + 1})[0][0] or 0)
    return min(count, COUNT_CAP), count <= COUNT_CAP


def _sqlite_matched(reader: Reader, filters: ArticleFilter, offset: int, limit: int) -> Rows:
    """A page of the matches, ranked (see the module's note), on SQLite. The site and a
    period go into the MATCH expression, so that the index answers them in its own scan;
    the other filters are tested on the article rows."""
    assert filters.query is not None
    fts = sql.fts_query(filters.query)
    meta, rest = index_filter(replace(filters, query=None))
    if meta:
        fts = f"({fts}) AND {meta}"
    where, params = sql.conditions(rest)
    params["fts_query"] = fts
    rows: list[tuple[int, float]] = []
    if offset < RANK_WINDOW:
        page = {"window": RANK_WINDOW, "limit": min(limit, RANK_WINDOW - offset), "offset": offset}
        rows = [(int(i), float(s or 0)) for i, s in reader(sql.ranked_window(where), {**params, **page})]
    if offset + limit > RANK_WINDOW:
        start = max(offset, RANK_WINDOW)
        page = {"limit": offset + limit - start, "offset": start}
        rows += [(int(i), float(s or 0)) for i, s in reader(sql.older_matches(where), {**params, **page})]
    return (rows, *_count(reader, sql.counted_matches(where), params))


def _sqlite_listed(reader: Reader, filters: ArticleFilter, offset: int, limit: int) -> Rows:
    """Articles newest published first (undated last); with a query of NOT terms
    only, those without the terms."""
    if is_listing(filters.query):
        filters = replace(filters, query=None)
    where, params = sql.conditions(filters)
    ids = [(int(i), 0.0) for (i,) in reader(sql.listed(where), {**params, "limit": limit, "offset": offset})]
    if filters.query is None and filters == ArticleFilter(site=filters.site):  # kept by triggers: exact
        if filters.site:
            total = reader(sql.SITE_ARTICLES, {"site": filters.site})
        else:
            total = reader(sql.ARTICLES)
        return ids, int(total[0][0] or 0), True
    return (ids, *_count(reader, sql.counted(where), params))


def _hit(row: Sequence[Any], score: float, terms: list[str]) -> SearchHit:
    id_, site, title, url, author, published_at, utc_offset, duplicate_of, text = row
    published = utc_datetime(published_at)
    if published is not None and utc_offset is not None:  # as the publisher gave it
        published = published.astimezone(timezone(timedelta(minutes=utc_offset)))
    return SearchHit(
        id=id_, site=site, title=title, url=url, author=author, published_at=published,
        duplicate_of=duplicate_of, score=score, snippet=snippet(text, terms),
    )  # fmt: skip


def search_page(
    session: Any,
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
    listing = is_listing(query) or only_excludes(check_query(query or ""))
    try:
        if dialect_of(session) == "sqlite":
            reader = as_reader(session)
            find = _sqlite_listed if listing else _sqlite_matched
            rows, total, exact = find(reader, filters, offset, limit)
            fields = reader(sql.HITS, {"ids": json.dumps([i for i, _ in rows])}) if rows else []
        else:
            from storage import search_postgres as postgres

            reader = as_reader(session)
            if listing:
                rows, total, exact = postgres.listed(reader, filters, offset, limit, COUNT_CAP)
            else:
                rows, total, exact = postgres.matched(reader, filters, offset, limit, RANK_WINDOW, COUNT_CAP)
            fields = postgres.hit_rows(reader, [i for i, _ in rows]) if rows else []
    except Exception as exc:
        if not is_driver_error(exc):
            raise
        message = one_line(exc)
        if "fts5" in message.lower() or "tsquery" in message.lower():  # the index refused the query
            raise StorageError(f"invalid search query {query!r}: {message}") from exc
        raise StorageError(f"search failed: {message}") from exc
    by_id = {row[0]: row for row in fields}
    terms = query_terms(query or "")
    # an article deleted between the two queries is left out
    hits = [_hit(by_id[id_], score, terms) for id_, score in rows if id_ in by_id]
    return SearchPage(hits, total, exact, offset, limit)


def search(
    session: Any,
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


def known_sites(session: Any) -> list[str]:
    """The sites the archive holds articles of (from the maintained counts)."""
    return [site for (site,) in as_reader(session)(sql.KNOWN_SITES)]
