"""Incremental crawling: skip known article pages unless a revisit is due.

The spider never reads the archive; this downloader middleware does, once, when the spider
opens (``storage.known_pages``). A request for a known article URL is dropped unless

* a sitemap ``lastmod`` or feed date on the request is newer than the last fetch,
* the article is young (``revisit_fresh_days`` of the site profile), or
* its last fetch is older than ``revisit_after_days`` (never, when that is unset).

A revisit carries ``If-None-Match`` / ``If-Modified-Since`` when the archive has an ETag or
Last-Modified for the page, and lets a 304 through to the spider, which passes it on as a
``FetchedPage(not_modified=True)`` for the store pipeline to count as unchanged.
Listing pages, feeds and sitemaps are never in the archive, so they are fetched every run.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import Request

from core.keys import (
    META_ALWAYS,
    META_CHECKED,
    META_LASTMOD,
    META_REVISIT,
    STAT_INCREMENTAL_SKIPPED,
    revisit_key,
)
from crawler.profiles import SiteProfile
from pipelines.crawl_archive import crawl_archive
from storage import StorageError, canonicalize_url, known_pages

__all__ = ["IncrementalCrawlMiddleware", "revisit_due"]

logger = logging.getLogger(__name__)



def revisit_due(page: Any, profile: SiteProfile, now: datetime, lastmod: datetime | None) -> str | None:
    """Why a known page should be fetched again now (``lastmod``, ``fresh``, ``interval``),
    or None when it should be skipped."""
    last_fetched = page.last_fetched_at
    if lastmod is not None and (last_fetched is None or lastmod > last_fetched):
        return "lastmod"
    published = page.published_at
    if published is not None and now - published < timedelta(days=profile.revisit_fresh_days):
        return "fresh"
    if profile.revisit_after_days is not None and (
        last_fetched is None or now - last_fetched >= timedelta(days=profile.revisit_after_days)
    ):
        return "interval"
    return None


class IncrementalCrawlMiddleware:
    """Downloader middleware; needs NEWSARCHIVE_DB, off with NEWSARCHIVE_INCREMENTAL=False."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.known: dict[str, Any] = {}
        self.let_through: set[str] = set()
        self.profile: SiteProfile | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> IncrementalCrawlMiddleware:
        if not crawler.settings.get("NEWSARCHIVE_DB"):
            raise NotConfigured("NEWSARCHIVE_DB must be set for incremental crawling")
        if not crawler.settings.getbool("NEWSARCHIVE_INCREMENTAL"):
            raise NotConfigured("NEWSARCHIVE_INCREMENTAL is off")
        mw = cls(crawler)
        crawler.signals.connect(mw.spider_opened, signal=signals.spider_opened)
        return mw

    def spider_opened(self, spider: Spider) -> None:
        self.profile = getattr(spider, "profile", None)
        if self.profile is None:
            return
        try:
            with crawl_archive(self.crawler).session(read_only=True) as session:
                self.known = known_pages(session, self.profile.name)
        except StorageError as exc:
            logger.error("Cannot read known pages, crawling everything: %(error)s", {"error": exc})
            self.known = {}
        site = self.profile.name
        logger.info("%(n)d known article URLs for %(site)s", {"n": len(self.known), "site": site})

    def process_request(self, request: Request) -> None:
        if self.profile is None or META_CHECKED in request.meta or request.meta.get(META_ALWAYS):
            return None  # a retry/redirect of a request let through; a seed, feed or sitemap
        if request.url in self.let_through:
            # dated sitemap/feed requests bypass the dupefilter (so a date can revive a URL
            # skipped earlier in this run as a plain link); fetch each URL once all the same
            raise IgnoreRequest(f"already fetched in this run: {request.url}")
        self._check_known(request)
        request.meta[META_CHECKED] = True
        self.let_through.add(request.url)
        return None

    def _check_known(self, request: Request) -> None:
        page = self.known.get(request.url) or self.known.get(canonicalize_url(request.url))
        if page is None:
            return
        assert self.crawler.stats is not None
        assert self.profile is not None
        why = revisit_due(page, self.profile, datetime.now(UTC), request.meta.get(META_LASTMOD))
        if why is None:
            self.crawler.stats.inc_value(STAT_INCREMENTAL_SKIPPED)
            raise IgnoreRequest(f"known article, no revisit due: {request.url}")
        self.crawler.stats.inc_value(revisit_key(why))
        request.meta[META_REVISIT] = why
        conditional = False
        if getattr(page, "etag", None):
            request.headers.setdefault("If-None-Match", page.etag)
            conditional = True
        if getattr(page, "last_modified", None):
            request.headers.setdefault("If-Modified-Since", page.last_modified)
            conditional = True
        if conditional:
            request.meta["handle_httpstatus_list"] = [*request.meta.get("handle_httpstatus_list", ()), 304]
