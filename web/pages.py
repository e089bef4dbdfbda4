"""The HTML pages, rendered on the server with Jinja2 (autoescape on: every
title and text from the web is shown as text)."""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader
from markupsafe import Markup, escape
from sqlalchemy.orm import Session

from storage import (
    archive_summary,
    article_versions,
    articles_per_day,
    get_article,
    list_runs,
    raw_page,
    raw_page_body,
    version_diff,
)
from storage.browse import related_duplicates, site_health
from web.chart import day_chart
from web.deps import session_for
from web.security import RAW_CSP
from web.views import SearchParams, article_json, find, run_json, site_json

router = APIRouter(include_in_schema=False)
DB = Annotated[Session, Depends(session_for)]
_MARKED = re.compile(r"\*\*(.+?)\*\*")


def highlight(snippet: str | None) -> Markup:
    """A search snippet's ``**match**`` marks as <mark>, everything else escaped."""
    out = Markup()
    rest = snippet or ""
    position = 0
    for match in _MARKED.finditer(rest):
        out += (
            escape(rest[position : match.start()])
            + Markup("<mark>")
            + escape(match.group(1))
            + Markup("</mark>")
        )
        position = match.end()
    return out + escape(rest[position:])


def when(value: str | None) -> str:
    """An ISO 8601 time as people read it: ``2022-09-14 09:37 +08:00``."""
    if not value:
        return "–"
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    offset = moment.strftime("%z")
    shown = moment.strftime("%Y-%m-%d %H:%M")
    return f"{shown} {offset[:3]}:{offset[3:]}" if offset else shown


def percent(share: float) -> str:
    return f"{share * 100:.0f}%"


_env = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"), autoescape=True)
_env.filters["highlight"] = highlight
_env.filters["percent"] = percent
_env.filters["when"] = when
templates = Jinja2Templates(env=_env)


def _render(request: Request, name: str, http_status: int = 200, **context: Any) -> HTMLResponse:
    return templates.TemplateResponse(request, name, context, status_code=http_status)


def error_page(request: Request, status: int, message: str) -> Response:
    return _render(request, "error.html", status, status=status, message=message)


@router.get("/", response_class=HTMLResponse)
def search_page(request: Request, session: DB) -> Response:
    args = dict(request.query_params)
    params = SearchParams.parse(args)
    result = find(session, params)
    keep = {k: v for k, v in args.items() if k not in {"page", "token"} and v}

    def page_link(number: int) -> str:
        return "/?" + urlencode({**keep, "page": number})

    sites = [site for site in archive_summary(session) if site]
    return _render(
        request, "search.html", params=params, result=result, sites=sites, page_link=page_link, args=args
    )


@router.get("/articles/{article_id}", response_class=HTMLResponse)
def article_page(request: Request, session: DB, article_id: int) -> Response:
    article = get_article(session, article_id)
    versions = article_versions(session, article)
    diffs = [
        (old, new, version_diff(old, new).splitlines())
        for old, new in zip(versions, versions[1:], strict=False)
    ]
    return _render(
        request,
        "article.html",
        article=article_json(article),
        paragraphs=[line for line in article.text.splitlines() if line.strip()],
        versions=versions,
        diffs=list(reversed(diffs)),  # the latest change first
        duplicates=related_duplicates(session, article),
    )


@router.get("/articles/{article_id}/raw")
def raw_view(session: DB, article_id: int) -> Response:
    """The page as archived, inert: RAW_CSP's sandbox runs no script and loads nothing."""
    raw = raw_page(session, get_article(session, article_id))
    declared = str((raw.headers or {}).get("Content-Type") or (raw.headers or {}).get("content-type") or "")
    kind = "text/html" if not declared or "html" in declared.lower() else "text/plain"
    return Response(
        raw_page_body(raw),
        media_type=f"{kind}; charset={raw.encoding or 'utf-8'}",
        headers={"Content-Security-Policy": RAW_CSP, "Cross-Origin-Resource-Policy": "same-origin"},
    )


@router.get("/sites", response_class=HTMLResponse)
def sites_page(request: Request, session: DB) -> Response:
    per_site: dict[str | None, dict[date, int]] = defaultdict(dict)
    for site, day, count in articles_per_day(session):
        per_site[site][day] = count
    rows = [(site_json(health), day_chart(per_site.get(health.site, {}))) for health in site_health(session)]
    return _render(request, "sites.html", rows=rows)


@router.get("/runs", response_class=HTMLResponse)
def runs_page(request: Request, session: DB, site: str | None = None) -> Response:
    runs = [run_json(run) for run in list_runs(session, site or None, 100)]
    return _render(request, "runs.html", runs=runs, site=site)
