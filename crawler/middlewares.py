"""Incremental crawling: skip known article pages unless a revisit is due.

The spider never reads the archive; these middlewares do, in batches: the links of each
response are looked up in one query (``storage.known_pages_among``) as they leave the spider
(:class:`KnownUrlPrefetchMiddleware`), into a bounded cache (:class:`KnownPageCache`,
``NEWSARCHIVE_KNOWN_URL_CACHE`` entries, found and not found alike) that the downloader
middleware reads; a request the cache does not know (a start request, an entry evicted) is
looked up alone. Every query runs in a thread of the reactor's pool, never on the reactor
thread: a lookup that waits for the database (a lock, a slow disk, a remote server) holds
back only the requests that need its answer, never the downloads in flight. Memory holds
at most the cache, not every URL of the site. A request for a known article URL is dropped
unless

* a sitemap ``lastmod`` or feed date on the request is newer than the last fetch,
* the article is young (``revisit_fresh_days`` of the site profile), or
* its last fetch is older than ``revisit_after_days`` (never, when that is unset).

A revisit carries ``If-None-Match`` / ``If-Modified-Since`` when the archive has an ETag or
Last-Modified for the page, and lets a 304 through to the spider, which passes it on as a
``FetchedPage(not_modified=True)`` for the store pipeline to count as unchanged.
Listing pages, feeds, sitemaps and robots.txt are never in the archive, so they are fetched
every run (robots.txt and the requests marked ``META_ALWAYS`` without a lookup).
"""

from __future__ import annotations

import logging
import weakref
from collections import OrderedDict
from collections.abc import AsyncIterator, Iterable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import Request, Response
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.defer import Deferred
from twisted.internet.threads import deferToThread
from twisted.python.failure import Failure

from core.keys import (
    META_ALWAYS,
    META_CHECKED,
    META_LASTMOD,
    META_REVISIT,
    STAT_INCREMENTAL_SKIPPED,
    STAT_KNOWN_CACHE_PEAK,
    STAT_KNOWN_QUERIES,
    revisit_key,
)
from crawler.profiles import SiteProfile
from crawler.robots import is_robots_request
from pipelines.crawl_archive import crawl_archive
from storage import KnownPage, StorageError, canonicalize_url, known_pages_among

__all__ = ["IncrementalCrawlMiddleware", "KnownPageCache", "KnownUrlPrefetchMiddleware", "revisit_due"]

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


class _Event:
    """Something under way on the reactor's behalf (a batch lookup in a thread, the check
    of one URL); ``wait()`` fires once it is over."""

    def __init__(self) -> None:
        self.done = False
        self.waiters: list[Deferred[None]] = []
        self.found: dict[str, KnownPage] = {}  # a lookup's answer, for those who waited for it

    def wait(self) -> Deferred[None]:
        waiter: Deferred[None] = Deferred()
        if self.done:
            waiter.callback(None)
        else:
            self.waiters.append(waiter)
        return waiter

    def finish(self) -> None:
        self.done = True
        waiters, self.waiters = self.waiters, []
        for waiter in waiters:
            waiter.callback(None)


class KnownPageCache:
    """What the archive knows of the URLs a crawl meets: URL -> KnownPage, or None for a URL
    it does not know. Filled by batch lookups, at most ``max_entries`` entries (the least
    recently used go first), so its memory is bounded whatever the size of the site.

    Lookups run in threads (``deferToThread``); the cache itself is read and written on
    the reactor thread only."""

    def __init__(self, crawler: Crawler, site: str, *, max_entries: int, batch: int) -> None:
        self.crawler = crawler
        self.site = site
        self.max_entries = max(1, max_entries)
        self.batch = max(1, batch)
        self.entries: OrderedDict[str, KnownPage | None] = OrderedDict()
        self.pending: dict[str, _Event] = {}  # keys being looked up
        self.peak = 0
        self.failed = False  # the archive could not be read: crawl everything, say so once
        # opened here, on the reactor thread; the lookup threads only use it
        self.archive = crawl_archive(crawler)

    def prefetch(self, urls: Iterable[str]) -> None:
        """Start looking up, in batches, those of ``urls`` (and their canonical forms) that
        are neither cached nor being looked up; returns at once."""
        if self.failed:
            return
        keys = [key for url in urls for key in (url, canonicalize_url(url))]
        missing = [key for key in dict.fromkeys(keys) if key not in self.entries and key not in self.pending]
        for start in range(0, len(missing), self.batch):
            self._start(missing[start : start + self.batch])

    async def get(self, url: str) -> KnownPage | None:
        """The known page of ``url`` (as given, or in canonical form), or None; waits for
        its lookup (started now if it was not asked for yet). A lookup's answer is read
        from the lookup itself: a small cache may have evicted it by then."""
        keys = (url, canonicalize_url(url))
        self.prefetch([url])
        # every key is cached or being looked up now: take both before waiting for either
        lookups = {key: self.pending.get(key) for key in keys}
        known: dict[str, KnownPage | None] = {}
        for key in keys:
            if key in self.entries:
                self.entries.move_to_end(key)
                known[key] = self.entries[key]
        for key, lookup in lookups.items():
            if key not in known and lookup is not None:
                await maybe_deferred_to_future(lookup.wait())
                known[key] = lookup.found.get(key)
        return next((page for page in (known.get(key) for key in keys) if page is not None), None)

    def _start(self, keys: list[str]) -> None:
        lookup = _Event()
        for key in keys:
            self.pending[key] = lookup
        d: Deferred[dict[str, KnownPage]] = deferToThread(self._query, keys)
        d.addBoth(self._answered, keys, lookup)

    def _query(self, keys: list[str]) -> dict[str, KnownPage]:
        # in a thread: blocking is fine here
        with self.archive.session(read_only=True) as session:
            return known_pages_among(session, self.site, keys)

    def _answered(self, found: dict[str, KnownPage] | Failure, keys: list[str], lookup: _Event) -> None:
        for key in keys:
            if self.pending.get(key) is lookup:
                del self.pending[key]
        try:
            if isinstance(found, Failure):
                if not found.check(StorageError):
                    logger.error("Looking up known pages failed", exc_info=found.value)
                elif not self.failed:
                    logger.error("Cannot read known pages, crawling everything: %(error)s",
                                 {"error": found.value})
                self.failed = True
                return
            lookup.found = found
            self._fill(keys, found)
        finally:
            lookup.finish()

    def _fill(self, keys: list[str], found: dict[str, KnownPage]) -> None:
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value(STAT_KNOWN_QUERIES)
        for key in keys:
            self.entries[key] = found.get(key)
            self.entries.move_to_end(key)
        while len(self.entries) > self.max_entries:
            self.entries.popitem(last=False)
        self.peak = max(self.peak, len(self.entries))
        self.crawler.stats.max_value(STAT_KNOWN_CACHE_PEAK, self.peak)


_caches: weakref.WeakKeyDictionary[Crawler, KnownPageCache] = weakref.WeakKeyDictionary()


class KnownUrlPrefetchMiddleware:
    """Spider middleware: looks up the requests a response yields in one batch, so the
    incremental check of each finds its answer cached. Does nothing when the incremental
    check is off (no cache for this crawl)."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> KnownUrlPrefetchMiddleware:
        return cls(crawler)

    def _prefetched(self, output: list[Any]) -> list[Any]:
        cache = _caches.get(self.crawler)
        if cache is not None:
            cache.prefetch(r.url for r in output if isinstance(r, Request) and not r.meta.get(META_ALWAYS))
        return output

    def _batch_size(self) -> int:
        cache = _caches.get(self.crawler)
        return cache.batch if cache is not None else 1

    def process_spider_output(self, response: Response, result: Iterable[Any]) -> Iterator[Any]:
        pending: list[Any] = []
        for item in result:
            pending.append(item)
            if len(pending) >= self._batch_size():
                yield from self._prefetched(pending)
                pending = []
        yield from self._prefetched(pending)

    async def process_spider_output_async(
        self, response: Response, result: AsyncIterator[Any]
    ) -> AsyncIterator[Any]:
        pending: list[Any] = []
        async for item in result:
            pending.append(item)
            if len(pending) >= self._batch_size():
                for each in self._prefetched(pending):
                    yield each
                pending = []
        for each in self._prefetched(pending):
            yield each


class IncrementalCrawlMiddleware:
    """Downloader middleware; needs NEWSARCHIVE_DB, off with NEWSARCHIVE_INCREMENTAL=False."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.known: KnownPageCache | None = None
        self.let_through: set[str] = set()
        self.checking: dict[str, _Event] = {}  # URLs whose check waits for a lookup
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
        settings = self.crawler.settings
        self.known = _caches[self.crawler] = KnownPageCache(
            self.crawler, self.profile.name,
            max_entries=settings.getint("NEWSARCHIVE_KNOWN_URL_CACHE"),
            batch=settings.getint("NEWSARCHIVE_KNOWN_URL_BATCH"),
        )

    async def process_request(self, request: Request) -> None:
        if self.profile is None or META_CHECKED in request.meta or request.meta.get(META_ALWAYS):
            return None  # a retry/redirect of a request let through; a seed, feed or sitemap
        if is_robots_request(request):
            return None  # never an article (and every request of the site waits for it)
        while request.url in self.checking:  # the same URL again while its check waits
            await maybe_deferred_to_future(self.checking[request.url].wait())
        if request.url in self.let_through:
            # dated sitemap/feed requests bypass the dupefilter (so a date can revive a URL
            # skipped earlier in this run as a plain link); fetch each URL once all the same
            raise IgnoreRequest(f"already fetched in this run: {request.url}")
        check = self.checking[request.url] = _Event()
        try:
            await self._check_known(request)
            request.meta[META_CHECKED] = True
            self.let_through.add(request.url)
        finally:
            del self.checking[request.url]
            check.finish()
        return None

    async def _check_known(self, request: Request) -> None:
        page = await self.known.get(request.url) if self.known is not None else None
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
