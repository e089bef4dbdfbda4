"""Archive statistics: what to look at first when a site changes its layout."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Date, case, cast, func, select
from sqlalchemy.orm import Session

from storage.errors import wraps_driver_errors
from storage.models import Article, SiteDayStats, SiteTotal
from storage.query import ArticleFilter, bind_params, filter_conditions


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
def archive_summary(session: Session) -> dict[str | None, int]:
    """Articles per site (from the counts kept by triggers: instant at any size)."""
    rows = session.execute(
        select(SiteTotal.site, SiteTotal.articles).where(SiteTotal.articles > 0).order_by(SiteTotal.site)
    )
    return {_site(site): int(count) for site, count in rows}


@wraps_driver_errors
def site_stats(session: Session, filters: ArticleFilter | None = None) -> list[SiteStats]:
    filters = filters or ArticleFilter()
    if _counted(filters):
        counts = select(
            SiteTotal.site,
            SiteTotal.articles,
            SiteTotal.duplicates,
            SiteTotal.missing_date,
            SiteTotal.missing_author,
            SiteTotal.last_fetched,
            SiteTotal.uncertain,
        ).where(SiteTotal.articles > 0)
        if filters.site:
            counts = counts.where(SiteTotal.site == filters.site)
        return [
            SiteStats(_site(site), int(n), int(dup), int(no_date), int(no_author), last, int(unsure))
            for site, n, dup, no_date, no_author, last, unsure in session.execute(
                counts.order_by(SiteTotal.site)
            )
        ]
    missing_author = func.sum(case((func.coalesce(Article.author, "") == "", 1), else_=0))
    query = (
        select(
            Article.site,
            func.count(),
            func.sum(case((Article.duplicate_of.is_not(None), 1), else_=0)),
            func.sum(case((Article.published_at.is_(None), 1), else_=0)),
            missing_author,
            func.max(Article.fetched_at),
            func.sum(case((Article.is_article != "yes", 1), else_=0)),
        )
        .where(*filter_conditions(session, filters))
        .group_by(Article.site)
        .order_by(Article.site)
    )
    return [
        SiteStats(site, int(n), int(dup or 0), int(no_date or 0), int(no_author or 0), last, int(unsure or 0))
        for site, n, dup, no_date, no_author, last, unsure in session.execute(
            query, bind_params(session, filters)
        )
    ]


@wraps_driver_errors
def articles_per_day(
    session: Session, filters: ArticleFilter | None = None, *, days: int | None = None
) -> list[tuple[str | None, date, int]]:
    """(site, UTC publication day, articles), newest day first; undated articles are
    left out. ``days``: only the newest that many publication days (from the
    maintained counts when the filters allow: a few rows, not ten years of them)."""
    filters = filters or ArticleFilter()
    if _counted(filters):
        kept = [SiteDayStats.day != "", SiteDayStats.articles > 0]
        if filters.site:
            kept.append(SiteDayStats.site == filters.site)
        counts = (
            select(SiteDayStats.site, SiteDayStats.day, SiteDayStats.articles)
            .where(*kept)
            .order_by(SiteDayStats.day.desc(), SiteDayStats.site)
        )
        if days is not None:
            newest = (
                select(SiteDayStats.day).where(*kept).distinct().order_by(SiteDayStats.day.desc()).limit(days)
            )
            counts = counts.where(SiteDayStats.day.in_(newest))
        return [(_site(site), date.fromisoformat(d), int(n)) for site, d, n in session.execute(counts)]
    day: ColumnElement[Any]
    if session.get_bind().dialect.name == "postgresql":
        day = cast(func.timezone("UTC", Article.published_at), Date)
    else:
        day = func.date(Article.published_at)
    query = (
        select(Article.site, day.label("day"), func.count())
        .where(Article.published_at.is_not(None), *filter_conditions(session, filters))
        .group_by(Article.site, day)
        .order_by(day.desc(), Article.site)
    )
    rows = session.execute(query, bind_params(session, filters))
    found = [(site, d if isinstance(d, date) else date.fromisoformat(d), int(n)) for site, d, n in rows]
    if days is not None:
        recent = set(sorted({d for _, d, _ in found}, reverse=True)[:days])
        found = [row for row in found if row[1] in recent]
    return found
