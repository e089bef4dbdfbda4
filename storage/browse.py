"""Reading the archive page by page, for the web UI: the latest articles,
an article's duplicates, and each site's health at a glance."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import Session

from storage.errors import wraps_driver_errors
from storage.models import Article, CrawlRun
from storage.query import SQL_INT_MAX, ArticleFilter, bind_params, filter_conditions


@dataclass(frozen=True)
class ArticlePage:
    """One page of articles and how many match in all."""

    total: int
    articles: list[Article]


@wraps_driver_errors
def latest_articles(
    session: Session,
    filters: ArticleFilter | None = None,
    *,
    hide_duplicates: bool = False,
    offset: int = 0,
    limit: int = 20,
) -> ArticlePage:
    """Matching articles, newest publication first (undated ones last), with
    the total count; for browsing without a text query."""
    filters = filters or ArticleFilter()
    conditions = filter_conditions(session, filters)
    if hide_duplicates:
        conditions.append(Article.duplicate_of.is_(None))
    params = bind_params(session, filters)
    total = session.scalar(select(func.count()).select_from(Article).where(*conditions), params) or 0
    statement = (
        select(Article)
        .where(*conditions)
        .order_by(Article.published_at.desc().nulls_last(), Article.id.desc())
        .offset(min(max(offset, 0), SQL_INT_MAX))
        .limit(min(max(limit, 0), SQL_INT_MAX))
    )
    return ArticlePage(int(total), list(session.scalars(statement, params)))


@wraps_driver_errors
def related_duplicates(session: Session, article: Article) -> list[Article]:
    """The article it duplicates, and the articles that duplicate it (or its original)."""
    original = article.duplicate_of or article.id
    statement = (
        select(Article)
        .where(or_(Article.id == original, Article.duplicate_of == original), Article.id != article.id)
        .order_by(Article.id)
    )
    return list(session.scalars(statement))


@dataclass(frozen=True)
class SiteHealth:
    site: str | None
    articles: int
    duplicates: int
    missing_title: int
    missing_date: int
    missing_author: int
    last_fetched: datetime | None
    last_runs: list[CrawlRun]

    def share(self, count: int) -> float:
        return count / self.articles if self.articles else 0.0


@wraps_driver_errors
def site_health(session: Session, *, runs_per_site: int = 5) -> list[SiteHealth]:
    """Per site: articles, duplicates, how many miss a title, date or author,
    the latest fetch and the latest runs. Sites with runs but no article yet
    are listed too."""
    empty = func.coalesce(Article.title, "") == ""
    rows = session.execute(
        select(
            Article.site,
            func.count(),
            func.sum(case((Article.duplicate_of.is_not(None), 1), else_=0)),
            func.sum(case((empty, 1), else_=0)),
            func.sum(case((Article.published_at.is_(None), 1), else_=0)),
            func.sum(case((func.coalesce(Article.author, "") == "", 1), else_=0)),
            func.max(Article.fetched_at),
        )
        .group_by(Article.site)
        .order_by(Article.site)
    ).all()
    counted = {row[0] for row in rows}
    run_sites = session.scalars(select(CrawlRun.site).distinct()).all()
    result = []
    for site, n, dup, no_title, no_date, no_author, last in rows:
        result.append(
            SiteHealth(
                site,
                int(n),
                int(dup or 0),
                int(no_title or 0),
                int(no_date or 0),
                int(no_author or 0),
                last,
                _last_runs(session, site, runs_per_site),
            )
        )
    for site in sorted((s for s in run_sites if s not in counted), key=lambda s: s or ""):
        result.append(SiteHealth(site, 0, 0, 0, 0, 0, None, _last_runs(session, site, runs_per_site)))
    return result


def _last_runs(session: Session, site: str | None, limit: int) -> list[CrawlRun]:
    where = CrawlRun.site.is_(None) if site is None else CrawlRun.site == site
    statement = select(CrawlRun).where(where).order_by(CrawlRun.started_at.desc(), CrawlRun.id.desc())
    return list(session.scalars(statement.limit(limit)))
