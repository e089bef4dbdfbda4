"""Archive statistics: what to look at first when a site changes its layout."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from storage import postgres_sql
from storage import sqlite_sql as sql
from storage.errors import wraps_driver_errors
from storage.filters import ArticleFilter
from storage.reader import as_reader, dialect_of, utc_datetime

# ``source`` below: a reader (``storage.reader``) or a SQLAlchemy session. The counts kept by
# triggers are read with the same SQL everywhere; the aggregates over the rows with that of
# ``storage.sqlite_sql`` on SQLite and of ``storage.postgres_sql`` on PostgreSQL.


def _counted(filters: ArticleFilter) -> bool:
    """What ``site_day_stats`` answers: no filter, or a site alone."""
    return filters == ArticleFilter(site=filters.site)


def _site(site: str) -> str | None:
    return site or None  # '' stands for "no site" in site_day_stats


@dataclass(frozen=True)
class SiteStats:
    site: str | None
    articles: int
    duplicates: int
    missing_date: int
    missing_author: int
    last_fetched: datetime | None
    uncertain: int = 0  # kept, but not surely an article (is_article other than "yes")

    @property
    def missing_date_share(self) -> float:
        return self.missing_date / self.articles if self.articles else 0.0

    @property
    def missing_author_share(self) -> float:
        return self.missing_author / self.articles if self.articles else 0.0

    @property
    def uncertain_share(self) -> float:
        return self.uncertain / self.articles if self.articles else 0.0


@wraps_driver_errors
def archive_summary(source: Any) -> dict[str | None, int]:
    """Articles per site (from the counts kept by triggers: instant at any size)."""
    return {_site(site): int(count) for site, count in as_reader(source)(sql.SITE_SUMMARY)}


@wraps_driver_errors
def site_stats(source: Any, filters: ArticleFilter | None = None) -> list[SiteStats]:
    filters = filters or ArticleFilter()
    if _counted(filters):
        reader = as_reader(source)
        rows = (
            reader(sql.SITE_TOTALS_OF_SITE, {"site": filters.site})
            if filters.site
            else reader(sql.SITE_TOTALS)
        )
        return [
            SiteStats(
                _site(site), int(n), int(dup), int(no_date), int(no_author), utc_datetime(last), int(unsure)
            )
            for site, n, dup, no_date, no_author, last, unsure in rows
        ]
    dialect = postgres_sql if dialect_of(source) == "postgresql" else sql
    where, params = dialect.conditions(filters)
    rows = as_reader(source)(dialect.site_aggregate(where), params)
    return [
        SiteStats(site, int(n), int(dup or 0), int(no_date or 0), int(no_author or 0), utc_datetime(last),
                  int(unsure or 0))
        for site, n, dup, no_date, no_author, last, unsure in rows
    ]  # fmt: skip


@wraps_driver_errors
def articles_per_day(
    source: Any, filters: ArticleFilter | None = None, *, days: int | None = None
) -> list[tuple[str | None, date, int]]:
    """(site, UTC publication day, articles), newest day first; undated articles are
    left out. ``days``: only the newest that many publication days (from the
    maintained counts when the filters allow: a few rows, not ten years of them)."""
    filters = filters or ArticleFilter()
    if _counted(filters):
        params: dict[str, Any] = {"site": filters.site, "days": days}
        rows = as_reader(source)(sql.day_counts(site=bool(filters.site), newest=days is not None), params)
        return [(_site(site), date.fromisoformat(d), int(n)) for site, d, n in rows]
    dialect = postgres_sql if dialect_of(source) == "postgresql" else sql
    where, params = dialect.conditions(filters)
    rows = as_reader(source)(dialect.day_aggregate(where), params)
    found = [(site, d if isinstance(d, date) else date.fromisoformat(d), int(n)) for site, d, n in rows]
    if days is not None:
        recent = set(sorted({d for _, d, _ in found}, reverse=True)[:days])
        found = [row for row in found if row[1] in recent]
    return found
