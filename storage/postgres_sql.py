"""The SQL of search, the listing and the stats aggregates on PostgreSQL, written once.

Both ways of reading a PostgreSQL archive run these statements: psycopg alone
(``storage.reader.PostgresReader``, the read commands' path, which never imports SQLAlchemy)
and a SQLAlchemy session (``storage.reader.SessionReader``, through ``text()``). Statements
take named parameters (``:name``). The search index is ``article_fts_vector``: a ``tsvector``
per article (title weighted A), GIN indexed (migration 0009), beside copies of the article's
``site`` and ``published_at`` (migration 0018) that answer those filters without reading
the (wide) article rows.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from storage import sqlite_sql
from storage.filters import ArticleFilter, check_query, period_end, period_start
from storage.search_syntax import All, Any_, only_excludes, to_tsquery

TS_QUERY = "CAST(:ts_query AS tsquery)"
_MATCH = f"article_fts_vector.vector @@ {TS_QUERY}"
# the index's matching articles
VECTOR_MATCHES = f"SELECT article_fts_vector.article_id FROM article_fts_vector WHERE {_MATCH}"
# relevance; a title token weighs ten times a text token (ts_rank's weights: A 1.0, D 0.1)
_RANK = f"ts_rank(vector, {TS_QUERY})"

# Find the matches through the GIN index alone. The planner does not know that testing
# ``vector @@ query`` row by row reads each vector from TOAST: for a common word it walked
# the articles newest first testing each (1.1 s to count 10,001 matches at 80,000 articles)
# where the index's bitmap takes 24 ms. Parallel workers cost more than they bring on
# statements of a few tens of milliseconds (measured at 200,000 articles, 2 cores).
FROM_THE_INDEX = (
    "SET LOCAL enable_seqscan = off",
    "SET LOCAL enable_indexscan = off",
    "SET LOCAL max_parallel_workers_per_gather = 0",
)
AS_CONFIGURED = (
    "SET LOCAL enable_seqscan = on",
    "SET LOCAL enable_indexscan = on",
    "SET LOCAL max_parallel_workers_per_gather = DEFAULT",
)


def ts_query(query: str) -> str:
    """The ``tsquery`` of ``query`` (for a query of NOT terms only: what any of its
    excluded terms matches)."""
    node = check_query(query)
    if isinstance(node, All) and not node.include:  # matched: any excluded term
        node = node.exclude[0] if len(node.exclude) == 1 else Any_(node.exclude)
    return to_tsquery(node)


def rechecked(tsquery: str) -> bool:
    """Whether PostgreSQL must read each candidate's vector to decide a match: the GIN
    index knows which articles hold the tokens, not where (a phrase, NEAR, or a Chinese term
    of three characters or more, which is a phrase of character pairs)."""
    return "<" in tsquery


def conditions(filters: ArticleFilter) -> tuple[list[str], dict[str, Any]]:
    """WHERE conditions on ``article`` for ``filters``, and their parameters: those of
    ``sqlite_sql.conditions`` but for times (``timestamptz``), the author (``ILIKE``) and the
    query (the vector index)."""
    where, params = sqlite_sql.conditions(replace(filters, since=None, until=None, author=None, query=None))
    if filters.since is not None:
        where.append("article.published_at >= :since")
        params["since"] = period_start(filters.since)
    if filters.until is not None:
        bound, inclusive = period_end(filters.until)
        where.append(f"article.published_at {'<=' if inclusive else '<'} :until")
        params["until"] = bound
    if filters.author:
        escaped = filters.author.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        where.append("article.author ILIKE :author ESCAPE '\\'")
        params["author"] = f"%{escaped}%"
    if filters.query is not None:
        negated = only_excludes(check_query(filters.query))
        where.append(f"article.id {'NOT IN' if negated else 'IN'} ({VECTOR_MATCHES})")
        params["ts_query"] = ts_query(filters.query)
    return where, params


def index_conditions(filters: ArticleFilter) -> tuple[list[str], dict[str, Any]] | None:
    """``conditions`` on the index's own rows (``article_fts_vector``'s copies of the site
    and publication time) when the filters are a site and a period and nothing else (the
    query aside); None when others need the article rows."""
    rest = replace(filters, query=None, site=None, since=None, until=None)
    if rest != ArticleFilter():
        return None
    where, params = conditions(replace(filters, query=None))
    return [condition.replace("article.", "article_fts_vector.") for condition in where], params


def _where(where: list[str]) -> str:
    return " WHERE " + " AND ".join(where) if where else ""


# -- search -----------------------------------------------------------------------------------


def _on_articles(where: list[str]) -> bool:
    """Whether conditions test the article rows (rather than the index's, ``index_conditions``)."""
    return any("article." in condition for condition in where)


def _matches(where: list[str], columns: str) -> str:
    """``columns`` of the index's matches; ``where``: conditions on the article row
    (joined only when there are some) or on the index's (``index_conditions``)."""
    join = " JOIN article ON article.id = article_fts_vector.article_id" if _on_articles(where) else ""
    return f"SELECT {columns} FROM article_fts_vector{join} WHERE {' AND '.join([_MATCH, *where])}"


_ID_VECTOR = "article_fts_vector.article_id AS id, article_fts_vector.vector"


def ranked_window(where: list[str]) -> str:
    """Positions ``:offset``.. of the newest ``:window`` matches, best first. Only the
    window is scored (``ts_rank`` reads the whole vector); the vectors travel with the ids,
    so that they are not looked up again."""
    return (
        f"SELECT id, {_RANK} AS score FROM ({_matches(where, _ID_VECTOR)} "
        "ORDER BY id DESC LIMIT :window) AS newest ORDER BY score DESC, id DESC LIMIT :limit OFFSET :offset"
    )


def ranked_window_counted(where: list[str]) -> str:
    """``ranked_window`` with the number of matches (up to ``:cap``) on every row, from one
    pass over the index's matches: for a query whose candidates are rechecked one by one
    (``rechecked``), or with filters on the article rows, counting them apart would read
    every candidate's vector, or join every match to its article, a second time."""
    return (
        f"WITH matched AS MATERIALIZED ({_matches(where, _ID_VECTOR)}), "
        "newest AS (SELECT id, vector FROM matched ORDER BY id DESC LIMIT :window) "
        f"SELECT id, {_RANK} AS score, (SELECT count(*) FROM (SELECT 1 FROM matched LIMIT :cap) AS capped) "
        "FROM newest ORDER BY score DESC, id DESC LIMIT :limit OFFSET :offset"
    )


def older_matches(where: list[str]) -> str:
    """Matches past the ranked window, newest first, with their scores."""
    return (
        f"SELECT id, {_RANK} AS score FROM ({_matches(where, _ID_VECTOR)} "
        "ORDER BY id DESC LIMIT :limit OFFSET :offset) AS older ORDER BY id DESC"
    )


def counted_matches(where: list[str]) -> str:
    """How many articles match, counting up to ``:cap``, in no order (so the scan stops at
    the cap). With filters, the articles they keep are looked up in the index's matches
    gathered once: walking a common word's matches to test each against a site or a month
    costs a lookup per match."""
    if not _on_articles(where):
        inner = _matches(where, "1")
    else:
        inner = f"SELECT 1 FROM article WHERE article.id IN ({VECTOR_MATCHES}) AND {' AND '.join(where)}"
    return f"SELECT count(*) FROM ({inner} LIMIT :cap) AS capped"


def listed(where: list[str]) -> str:
    """Article ids newest published first, undated last."""
    return (
        f"SELECT article.id FROM article{_where(where)} "
        "ORDER BY article.published_at DESC NULLS LAST, article.id DESC LIMIT :limit OFFSET :offset"
    )


counted = sqlite_sql.counted  # plain SQL


# the fields of a hit, for the ids of a page (a list)
HITS = (
    "SELECT id, site, title, canonical_url, author, published_at, published_utc_offset, "
    "duplicate_of, text FROM article WHERE id = ANY(:ids)"
)

# -- stats over the rows (filters the maintained counts cannot answer) ------------------------


site_aggregate = sqlite_sql.site_aggregate  # plain SQL


def day_aggregate(where: list[str]) -> str:
    day = "CAST(timezone('UTC', article.published_at) AS date)"
    return (
        f"SELECT article.site, {day} AS day, count(*) "
        f"FROM article{_where(['article.published_at IS NOT NULL', *where])} "
        f"GROUP BY article.site, day ORDER BY day DESC, article.site"
    )


# -- schema ------------------------------------------------------------------------------------

HAS_VERSION_TABLE = "SELECT 1 WHERE to_regclass('alembic_version') IS NOT NULL"
