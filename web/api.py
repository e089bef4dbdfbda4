"""The JSON API under ``/api/``; FastAPI writes its OpenAPI document at ``/api/openapi.json``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from sqlalchemy.orm import Session

from storage import archive_summary, article_versions, get_article, list_runs
from storage.browse import related_duplicates, site_health
from web.deps import session_for
from web.views import (
    DEFAULT_PER_PAGE,
    MAX_PER_PAGE,
    SearchParams,
    article_json,
    find,
    run_json,
    site_json,
    version_json,
)

router = APIRouter(prefix="/api", tags=["api"])
DB = Annotated[Session, Depends(session_for)]


@router.get("/search", summary="Search or list articles")
def api_search(
    session: DB,
    q: Annotated[str, Query(description="Full-text query; empty lists the latest articles")] = "",
    site: str | None = None,
    since: Annotated[str | None, Query(description="YYYY-MM-DD or ISO 8601, published on or after")] = None,
    until: Annotated[str | None, Query(description="YYYY-MM-DD or ISO 8601, published on or before")] = None,
    lang: Annotated[str | None, Query(description="Language code; zh matches zh-CN")] = None,
    author: Annotated[str | None, Query(description="Author contains this text")] = None,
    hide_duplicates: bool = False,
    page: Annotated[int, Query(ge=1)] = 1,
    per_page: Annotated[int, Query(ge=1, le=MAX_PER_PAGE)] = DEFAULT_PER_PAGE,
) -> dict[str, Any]:
    """Ranked hits for `q` (best first), else the latest articles (newest first);
    `total` counts every match, `hits` is one page of them."""
    params = SearchParams.parse(
        {
            "q": q,
            "site": site,
            "since": since,
            "until": until,
            "lang": lang,
            "author": author,
            "hide_duplicates": str(hide_duplicates),
            "page": str(page),
            "per_page": str(per_page),
        }
    )
    return find(session, params).as_json()


@router.get("/articles/{article_id}", summary="One article with all its metadata")
def api_article(session: DB, article_id: int) -> dict[str, Any]:
    article = get_article(session, article_id)
    row = article_json(article)
    row["duplicates"] = [
        {"id": a.id, "site": a.site, "title": a.title, "url": a.canonical_url}
        for a in related_duplicates(session, article)
    ]
    return row


@router.get("/articles/{article_id}/versions", summary="Every version of an article, oldest first")
def api_versions(session: DB, article_id: int) -> dict[str, Any]:
    article = get_article(session, article_id)
    return {"id": article.id, "versions": [version_json(v) for v in article_versions(session, article)]}


@router.get("/sites", summary="Per-site health")
def api_sites(session: DB) -> dict[str, Any]:
    return {"sites": [site_json(health) for health in site_health(session)]}


@router.get("/runs", summary="Crawl runs, latest first")
def api_runs(
    session: DB, site: str | None = None, limit: Annotated[int, Query(ge=1, le=1000)] = 50
) -> dict[str, Any]:
    return {"runs": [run_json(run) for run in list_runs(session, site, limit)]}


@router.get("/stats", summary="Articles per site and in all")
def api_stats(session: DB) -> dict[str, Any]:
    per_site = archive_summary(session)
    return {"articles": sum(per_site.values()), "sites": {site or "": n for site, n in per_site.items()}}
