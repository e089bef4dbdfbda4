"""The SQL of the read commands (``show``, ``stats``, ``search``) on SQLite, written once.

Both ways of reading a SQLite archive run these statements: the standard library's
``sqlite3`` (``storage.reader.SqliteReader``, the read commands' path, which never imports
SQLAlchemy) and a SQLAlchemy session (``storage.reader.SessionReader``, through ``text()``:
``serve``, library callers). The two cannot drift apart: there is one text of each.

Statements take named parameters (``:name``), which both drivers accept. Times are
compared as SQLAlchemy's SQLite dialect stores them (``storage.types.UTCDateTime``): naive
UTC text, ``YYYY-MM-DD HH:MM:SS.ffffff`` (``sql_datetime``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from storage.filters import ArticleFilter, check_query, period_end, period_start
from storage.search_syntax import All, Any_, only_excludes, to_fts5

# -- one article (these are plain SQL: PostgreSQL runs them as well) ---------------------------

ARTICLE_FIELDS = (
    "id", "url", "canonical_url", "site", "title", "author", "source", "published_at",
    "published_time_known", "published_precision", "published_utc_offset", "modified_at",
    "language", "text", "description", "tags", "image", "site_name", "content_hash",
    "duplicate_of", "version", "extractor_version", "is_article", "first_seen_at",
    "fetched_at", "updated_at", "raw_page_id",
)  # fmt: skip
ARTICLE_BY_ID = f"SELECT {', '.join(ARTICLE_FIELDS)} FROM article WHERE id = :id"
ARTICLE_ID_BY_URL = "SELECT article_id FROM article_url WHERE url = :url"
ARTICLE_VERSIONS = (
    "SELECT version, title, text, fetched_at, extractor_version, replaced_at, reason "
    "FROM article_version WHERE article_id = :id ORDER BY version"
)

# -- schema ------------------------------------------------------------------------------------

HAS_VERSION_TABLE = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'"
SCHEMA_VERSION = "SELECT version_num FROM alembic_version"

# -- counts kept by triggers (site_total, site_day_stats): plain SQL too -------------------------

SITE_SUMMARY = "SELECT site, articles FROM site_total WHERE articles > 0 ORDER BY site"
_SITE_TOTALS = (
    "SELECT site, articles, duplicates, missing_date, missing_author, last_fetched, uncertain "
    "FROM site_total WHERE articles > 0{site} ORDER BY site"
)
SITE_TOTALS = _SITE_TOTALS.format(site="")
SITE_TOTALS_OF_SITE = _SITE_TOTALS.format(site=" AND site = :site")
_DAY_COUNTS = "SELECT site, day, articles FROM site_day_stats WHERE {kept}{newest} ORDER BY day DESC, site"
_KEPT_DAYS = "day != '' AND articles > 0"
_NEWEST_DAYS = (
    " AND day IN (SELECT DISTINCT day FROM site_day_stats WHERE {kept} ORDER BY day DESC LIMIT :days)"
)
KNOWN_SITES = (
    "SELECT site FROM site_day_stats WHERE site != '' GROUP BY site HAVING sum(articles) > 0 ORDER BY site"
)
# every article, from the per-site totals (a row per site; summing site_day_stats, which
# counts the same, reads a row per site and day: 17 ms at 1,000,000 articles)
ARTICLES = "SELECT coalesce(sum(articles), 0) FROM site_total"
SITE_ARTICLES = ARTICLES + " WHERE site = :site"


def day_counts(*, site: bool, newest: bool) -> str:
    """(site, day, articles) per site and publication day, newest day first; ``site``: of
    ``:site`` only; ``newest``: only the newest ``:days`` days."""
    kept = _KEPT_DAYS + (" AND site = :site" if site else "")
    return _DAY_COUNTS.format(kept=kept, newest=_NEWEST_DAYS.format(kept=kept) if newest else "")


# -- filters on article rows ------------------------------------------------------------------

# the index's matching rows
FTS_MATCHES = (
    "SELECT article_fts_bigram.rowid FROM article_fts_bigram WHERE article_fts_bigram MATCH :fts_query"
)


def sql_datetime(value: datetime) -> str:
    """A time as ``UTCDateTime`` stores it in SQLite (naive UTC text)."""
    value = value.astimezone(UTC) if value.tzinfo else value
    return (
        f"{value.year:04d}-{value.month:02d}-{value.day:02d} "
        f"{value.hour:02d}:{value.minute:02d}:{value.second:02d}.{value.microsecond:06d}"
    )


def fts_query(query: str) -> str:
    """The FTS5 expression of ``query`` (for a query of NOT terms only: what any of its
    excluded terms matches)."""
    node = check_query(query)
    if isinstance(node, All) and not node.include:  # matched: any excluded term
        node = node.exclude[0] if len(node.exclude) == 1 else Any_(node.exclude)
    return to_fts5(node)


def conditions(filters: ArticleFilter) -> tuple[list[str], dict[str, Any]]:
    """WHERE conditions on ``article`` for ``filters``, and their parameters."""
    where: list[str] = []
    params: dict[str, Any] = {}
    if filters.articles_only:
        where.append("article.is_article = 'yes'")
    if filters.site:
        where.append("article.site = :site")
        params["site"] = filters.site
    if filters.since is not None:
        where.append("article.published_at >= :since")
        params["since"] = sql_datetime(period_start(filters.since))
    if filters.until is not None:
        bound, inclusive = period_end(filters.until)
        where.append(f"article.published_at {'<=' if inclusive else '<'} :until")
        params["until"] = sql_datetime(bound)
    if filters.author:  # lower() folds ASCII only, like ILIKE does for Chinese: nothing to fold
        where.append("instr(lower(article.author), :author) > 0")
        params["author"] = filters.author.lower()
    if filters.language:
        where.append("(article.language = :language OR article.language LIKE :language_prefix)")
        params["language"] = filters.language
        params["language_prefix"] = filters.language + "-%"
    if filters.query is not None:
        negated = only_excludes(check_query(filters.query))
        where.append(f"article.id {'NOT IN' if negated else 'IN'} ({FTS_MATCHES})")
        params["fts_query"] = fts_query(filters.query)
    return where, params


def _where(where: list[str]) -> str:
    return " WHERE " + " AND ".join(where) if where else ""


# -- stats over the rows (filters the maintained counts cannot answer) ------------------------


def site_aggregate(where: list[str]) -> str:
    return (
        "SELECT article.site, count(*), "
        "sum(CASE WHEN article.duplicate_of IS NOT NULL THEN 1 ELSE 0 END), "
        "sum(CASE WHEN article.published_at IS NULL THEN 1 ELSE 0 END), "
        "sum(CASE WHEN coalesce(article.author, '') = '' THEN 1 ELSE 0 END), "
        "max(article.fetched_at), "
        "sum(CASE WHEN article.is_article != 'yes' THEN 1 ELSE 0 END) "
        f"FROM article{_where(where)} GROUP BY article.site ORDER BY article.site"
    )


def day_aggregate(where: list[str]) -> str:
    return (
        "SELECT article.site, date(article.published_at) AS day, count(*) "
        f"FROM article{_where(['article.published_at IS NOT NULL', *where])} "
        "GROUP BY article.site, day ORDER BY day DESC, article.site"
    )


# -- search -----------------------------------------------------------------------------------

# (id, score) of the index's matches, newest first; a title match weighs ten times a text
# match, the site/date column nothing
_INDEX_MATCHES = (
    "SELECT article_fts_bigram.rowid AS id, -bm25(article_fts_bigram, 10.0, 1.0, 0.0) AS score "
    "FROM article_fts_bigram{join} WHERE article_fts_bigram MATCH :fts_query{others} "
    "ORDER BY article_fts_bigram.rowid DESC"
)


def matches(where: list[str]) -> str:
    """(id, score) of the matching articles, newest first; ``where``: conditions on the
    article row (joined only when there are some)."""
    if not where:
        return _INDEX_MATCHES.format(join="", others="")
    return _INDEX_MATCHES.format(
        join=" JOIN article ON article.id = article_fts_bigram.rowid", others=" AND " + " AND ".join(where)
    )


def ranked_window(where: list[str]) -> str:
    """Positions ``:offset``.. of the newest ``:window`` matches, best first."""
    return (
        f"SELECT id, score FROM ({matches(where)} LIMIT :window) "
        "ORDER BY score DESC, id DESC LIMIT :limit OFFSET :offset"
    )


def older_matches(where: list[str]) -> str:
    """Matches past the ranked window, newest first."""
    return f"{matches(where)} LIMIT :limit OFFSET :offset"


def counted_matches(where: list[str]) -> str:
    """How many articles match, counting up to ``:cap``. With filters, the articles they
    keep are looked up in the index's matches gathered once: walking a common word's
    matches to test each against a site or a month costs a lookup per match."""
    if not where:
        inner = f"{FTS_MATCHES} ORDER BY article_fts_bigram.rowid DESC"
    else:
        inner = (
            f"SELECT article.id FROM article WHERE article.id IN ({FTS_MATCHES}) AND {' AND '.join(where)}"
        )
    return f"SELECT count(*) FROM ({inner} LIMIT :cap)"


def listed(where: list[str]) -> str:
    """Article ids newest published first (SQLite puts undated ones last in DESC)."""
    return (
        f"SELECT article.id FROM article{_where(where)} "
        "ORDER BY article.published_at DESC, article.id DESC LIMIT :limit OFFSET :offset"
    )


def counted(where: list[str]) -> str:
    """How many articles ``where`` keeps, counting up to ``:cap`` (plain SQL: PostgreSQL runs it too)."""
    return f"SELECT count(*) FROM (SELECT article.id FROM article{_where(where)} LIMIT :cap) AS capped"


# the fields of a hit, for the ids of a page (a JSON array)
HITS = (
    "SELECT id, site, title, canonical_url, author, published_at, published_utc_offset, "
    "duplicate_of, text FROM article WHERE id IN (SELECT value FROM json_each(:ids))"
)
