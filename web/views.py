"""What the pages and the API show: storage objects as JSON-ready dicts, and
the one search/browse function both use."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from storage import ArticleFilter, CrawlRun, SearchHit, export_row, search_page
from storage.browse import SiteHealth, latest_articles
from storage.inspect import VersionView
from storage.models import Article

MAX_PER_PAGE = 100
DEFAULT_PER_PAGE = 20


class BadRequest(ValueError):
    """A query parameter the archive cannot answer: shown as a 400 with its message."""


def parse_day(value: str | None, name: str) -> date | datetime | None:
    """``YYYY-MM-DD`` (a whole day, UTC) or an ISO 8601 date-time; empty means unset."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        if len(value) == 10:
            return date.fromisoformat(value)
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise BadRequest(f"{name}: {value!r} is not a date (YYYY-MM-DD) or ISO 8601 date-time") from exc


@dataclass(frozen=True)
class SearchParams:
    q: str = ""
    site: str | None = None
    since: date | datetime | None = None
    until: date | datetime | None = None
    lang: str | None = None
    author: str | None = None
    hide_duplicates: bool = False
    page: int = 1
    per_page: int = DEFAULT_PER_PAGE

    @classmethod
    def parse(cls, args: Mapping[str, str | None]) -> SearchParams:
        def text(name: str) -> str | None:
            value = (args.get(name) or "").strip()
            return value or None

        try:
            page = int(args.get("page") or 1)
            per_page = int(args.get("per_page") or DEFAULT_PER_PAGE)
        except ValueError as exc:
            raise BadRequest("page and per_page must be whole numbers") from exc
        if page < 1 or not 1 <= per_page <= MAX_PER_PAGE:
            raise BadRequest(f"page must be 1 or more, per_page between 1 and {MAX_PER_PAGE}")
        return cls(
            q=(args.get("q") or "").strip(),
            site=text("site"),
            since=parse_day(args.get("since"), "since"),
            until=parse_day(args.get("until"), "until"),
            lang=text("lang"),
            author=text("author"),
            hide_duplicates=(args.get("hide_duplicates") or "").lower() in {"1", "true", "on", "yes"},
            page=page,
            per_page=per_page,
        )

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page

    def filters(self) -> ArticleFilter:
        return ArticleFilter(self.q or None, self.site, self.since, self.until, self.author, self.lang)


@dataclass
class ResultPage:
    total: int
    page: int
    per_page: int
    hits: list[dict[str, Any]] = field(default_factory=list)
    total_exact: bool = True  # False: more matches than storage counts (total is a lower bound)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    def as_json(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "page": self.page,
            "per_page": self.per_page,
            "pages": self.pages,
            "total_exact": self.total_exact,
            "hits": self.hits,
        }


def excerpt(text: str, size: int = 160) -> str:
    """The start of a text, cut at a space when there is one near the end (English), with "…"."""
    flat = " ".join(text.split())
    if len(flat) <= size:
        return flat
    cut = flat[:size]
    space = cut.rfind(" ")
    return (cut[:space] if space > size * 0.7 else cut) + "…"


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _hit(article: Article, text_snippet: str, score: float | None) -> dict[str, Any]:
    return {
        "id": article.id,
        "site": article.site,
        "title": article.title,
        "url": article.canonical_url,
        "author": article.author,
        "published_at": _iso(article.published_local),
        "language": article.language,
        "duplicate_of": article.duplicate_of,
        "score": score,
        "snippet": text_snippet,
    }


def _search_hit(hit: SearchHit) -> dict[str, Any]:
    return {
        "id": hit.id,
        "site": hit.site,
        "title": hit.title,
        "url": hit.url,
        "author": hit.author,
        "published_at": _iso(hit.published_at),
        "language": None,
        "duplicate_of": hit.duplicate_of,
        "score": hit.score,
        "snippet": hit.snippet,
    }


def find(session: Session, params: SearchParams) -> ResultPage:
    """One page of results: ranked search hits for a query, else the latest articles
    (storage's search_page does both, with the total)."""
    result = ResultPage(0, params.page, params.per_page)
    if params.hide_duplicates:
        return _find_originals(session, params, result)
    found = search_page(
        session, params.q or None, site=params.site, since=params.since, until=params.until,
        author=params.author, language=params.lang, limit=params.per_page, offset=params.offset,
    )  # fmt: skip
    result.total = found.total
    result.total_exact = found.total_exact
    result.hits = [_search_hit(hit) for hit in found.hits]
    return result


def _find_originals(session: Session, params: SearchParams, result: ResultPage) -> ResultPage:
    """The same without duplicates (``duplicate_of`` set), which search_page cannot filter."""
    filters = params.filters()
    if not params.q:
        found = latest_articles(
            session, filters, hide_duplicates=True, offset=params.offset, limit=params.per_page
        )
        result.total = found.total
        result.hits = [_hit(a, excerpt(a.text), None) for a in found.articles]
        return result
    wanted = params.offset + params.per_page
    limit = wanted
    while True:  # duplicates are left out after ranking: ask for more until the page is full
        page = search_page(
            session, params.q, site=params.site, since=params.since, until=params.until,
            author=params.author, language=params.lang, limit=limit,
        )  # fmt: skip
        kept = [hit for hit in page.hits if hit.duplicate_of is None]
        if len(kept) >= wanted or len(page.hits) < limit:
            break
        limit *= 2
    result.total = latest_articles(session, filters, hide_duplicates=True, limit=0).total
    result.hits = [_search_hit(hit) for hit in kept[params.offset : wanted]]
    return result


def article_json(article: Article) -> dict[str, Any]:
    row = export_row(article)
    row["has_raw"] = article.raw_page_id is not None
    return row


def version_json(view: VersionView) -> dict[str, Any]:
    return {
        "version": view.version,
        "title": view.title,
        "text": view.text,
        "fetched_at": _iso(view.fetched_at),
        "replaced_at": _iso(view.replaced_at),
        "reason": view.reason,
        "extractor_version": view.extractor_version,
    }


def run_json(run: CrawlRun) -> dict[str, Any]:
    duration = (
        (run.finished_at - run.started_at).total_seconds() if run.finished_at and run.started_at else None
    )
    return {
        "id": run.id,
        "site": run.site,
        "status": run.status,
        "started_at": _iso(run.started_at),
        "finished_at": _iso(run.finished_at),
        "duration_seconds": duration,
        "pages_fetched": run.pages_fetched,
        "articles_new": run.articles_new,
        "articles_updated": run.articles_updated,
        "articles_unchanged": run.articles_unchanged,
        "errors": dict(run.errors or {}),
        "reason": run.reason,
    }


def site_json(health: SiteHealth) -> dict[str, Any]:
    return {
        "site": health.site,
        "articles": health.articles,
        "duplicates": health.duplicates,
        "missing_title": health.missing_title,
        "missing_date": health.missing_date,
        "missing_author": health.missing_author,
        "missing_title_share": round(health.share(health.missing_title), 4),
        "missing_date_share": round(health.share(health.missing_date), 4),
        "missing_author_share": round(health.share(health.missing_author), 4),
        "last_fetched": _iso(health.last_fetched),
        "last_runs": [run_json(run) for run in health.last_runs],
    }
