"""The generic news spider: discover pages from start URLs, sitemaps and feeds, and
hand candidate article pages on as :class:`~core.items.FetchedPage` items.

The spider never touches the archive. What to skip on a recrawl is decided by the
incremental-crawl downloader middleware; what is an article (when the site profile has no
``article_patterns``) is decided by the extraction classifier in the pipeline.

Usage with Scrapy's own command line::

    scrapy crawl news -a url=https://example.com/news/
    scrapy crawl news -a site=xunjk -s NEWSARCHIVE_DB=archive.db
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import scrapy
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import HtmlResponse, Request, Response, TextResponse
from scrapy.selector import Selector
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils._compression import _DecompressionMaxSizeExceeded
from scrapy.utils.gz import gunzip, gzip_magic_number
from scrapy.utils.sitemap import Sitemap
from twisted.python.failure import Failure
from w3lib.encoding import http_content_type_encoding
from w3lib.url import safe_url_string

from core.errors import ConfigError
from core.items import FetchedPage
from core.keys import (
    KIND_BAD_FEED,
    KIND_BAD_SCHEME,
    KIND_BAD_SITEMAP,
    KIND_DECOMPRESSION_BOMB,
    KIND_TOO_MANY_ELEMENTS,
    KIND_TOO_MANY_ENTRIES,
    KIND_TOO_MANY_LINKS,
    KIND_URL_TOO_LONG,
    META_ALWAYS,
    META_LASTMOD,
    META_QUIET,
    STAT_LISTING_PAGES,
    dropped_key,
    error_key,
)
from crawler import settings as defaults
from crawler.links import scan_page
from crawler.profiles import SiteProfile, load_profiles, profile_for_urls
from crawler.runner import apply_site_settings, error_kind
from crawler.safety import SiteScope, host_port

logger = logging.getLogger(__name__)

# An XML entity declaration: no sitemap or feed needs one; billion-laughs and XXE need them.
_ENTITY_DECLARATION = re.compile(rb"<!ENTITY", re.IGNORECASE)


def parse_date(value: str | None) -> datetime | None:
    """A sitemap ``lastmod`` (W3C datetime) or a feed date (RFC 822 or ISO 8601), in UTC."""
    if not value:
        return None
    value = value.strip()
    parsed: datetime | None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        try:
            parsed = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
    if parsed is None:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _header(response: Response, name: str) -> str:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else ""


class NewsSpider(scrapy.Spider):
    """Crawl one site (a profile) and yield its candidate article pages."""

    name = "news"

    def __init__(
        self,
        url: str | None = None,
        site: str | None = None,
        profile: SiteProfile | None = None,
        config: str | None = None,
        **kwargs: Any,
    ) -> None:
        if profile is None:
            if site:
                profile = load_profiles(config or os.environ.get("NEWSARCHIVE_CONFIG")).get(site)
            elif url:
                profile = profile_for_urls(re.split(r"[\s,]+", url.strip()))
            else:
                raise ConfigError("the news spider needs -a url=URL or -a site=NAME")
        super().__init__(name=self.name, **kwargs)
        self.profile = profile
        self.site = profile.name
        # Scrapy's OffsiteMiddleware knows host names only; ports are checked by self.scope
        # (crawler.safety.SafetyMiddleware and on_site())
        self.allowed_domains = list(dict.fromkeys(host_port(d)[0] for d in profile.allowed_domains))
        self.scope = SiteScope.build(
            [*profile.start_urls, *profile.feeds, *profile.sitemaps], profile.allowed_domains
        )
        self._robots_asked: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> NewsSpider:
        spider: NewsSpider = super().from_crawler(crawler, *args, **kwargs)
        # Settings are still mutable here (Scrapy applies them after creating the spider),
        # which is what lets a site profile sit between project defaults and the command line.
        apply_site_settings(crawler.settings, spider.profile)
        return spider

    def on_site(self, url: str) -> bool:
        """Whether ``url`` is an http(s) URL of the site: a seed's origin, or one of the
        profile's domains (or their subdomains) on the default ports or a named port."""
        return self.scope.allows(url)

    def _limit(self, name: str) -> int:
        return self.settings.getint(name, getattr(defaults, name))

    # --- seeds ----------------------------------------------------------------------------

    async def start(self) -> AsyncIterator[Any]:
        for item in self._seed_requests():
            yield item

    def _seed_requests(self) -> Iterator[Request]:
        meta = {META_ALWAYS: True}
        for url in self.profile.start_urls:
            yield Request(url, callback=self.parse, errback=self.on_error, meta=meta)
        for url in self.profile.feeds:
            yield Request(url, callback=self.parse_feed, errback=self.on_error, meta=meta)
        for url in self.profile.sitemaps:
            yield Request(url, callback=self.parse_sitemap, errback=self.on_error, meta=meta)

    def _robots_sitemaps(self, response: Response) -> Iterator[Request]:
        """Once per site origin, after a start page: read the ``Sitemap:`` lines of its
        robots.txt when the profile names no sitemap. Asked for with the start page's links
        and behind them (depth 1 has priority -1): the sitemaps a site names supplement its
        pages, and a short crawl should not spend its pages on them first."""
        if self.profile.sitemaps or not self.settings.getbool("NEWSARCHIVE_SITEMAP_DISCOVERY"):
            return
        origin = f"{urlsplit(response.url).scheme}://{urlsplit(response.url).netloc}"
        if origin in self._robots_asked:
            return
        self._robots_asked.add(origin)
        yield Request(
            f"{origin}/robots.txt",
            callback=self.parse_robots,
            errback=self.on_error,
            priority=-2,
            meta={META_ALWAYS: True, "dont_obey_robotstxt": True, META_QUIET: True},
        )

    # --- callbacks ------------------------------------------------------------------------

    def parse(self, response: Response, **kwargs: Any) -> Iterator[Any]:
        """An HTML page: yield it if it may be an article, follow its links and feeds."""
        if response.status == 304:
            yield self._page(response, not_modified=True)
            return
        content_type = _header(response, "Content-Type").lower()
        if not isinstance(response, TextResponse) or not (
            "html" in content_type or isinstance(response, HtmlResponse)
        ):
            self.crawler.stats.inc_value(dropped_key("not_html"))
            logger.info(
                "Skipping non-HTML response %(url)s (%(type)s)",
                {"url": response.url, "type": content_type or "no Content-Type"},
            )
            return
        # one streaming pass, bounded by the body size and the limits (crawler/links.py)
        scan = scan_page(
            response.body, response.url, response.encoding,
            max_links=self._limit("NEWSARCHIVE_MAX_LINKS_PER_PAGE"),
            max_url_length=self._limit("NEWSARCHIVE_MAX_URL_LENGTH"),
            max_elements=self._limit("NEWSARCHIVE_MAX_PAGE_ELEMENTS"),
        )
        if scan.too_many_elements:
            # no article has this many elements, and extracting one took minutes and GBs
            self._count_error(KIND_TOO_MANY_ELEMENTS, response.url,
                              f"more than {scan.elements - 1} HTML elements, not extracted")
        elif self.profile.is_article_url(response.url) is not False:
            yield self._page(response)
        else:
            self.crawler.stats.inc_value(STAT_LISTING_PAGES)
        if scan.links_over_cap:
            self.crawler.stats.inc_value(error_key(KIND_TOO_MANY_LINKS), scan.links_over_cap)
            logger.warning("%(url)s: %(n)d more links than NEWSARCHIVE_MAX_LINKS_PER_PAGE left out",
                           {"url": response.url, "n": scan.links_over_cap})
        if scan.too_long:
            self.crawler.stats.inc_value(error_key(KIND_URL_TOO_LONG), scan.too_long)
        for url in scan.feeds:
            if self.on_site(url):
                yield Request(url, callback=self.parse_feed, errback=self.on_error, meta={META_ALWAYS: True})
        for url in scan.links:
            if not self.on_site(url):
                continue
            # articles a page links to come before the next listing pages of the same depth
            priority = 1 if self.profile.is_article_url(url) else 0
            yield Request(url, callback=self.parse, errback=self.on_error, priority=priority)
        if response.meta.get(META_ALWAYS):
            yield from self._robots_sitemaps(response)

    def parse_robots(self, response: Response) -> Iterator[Request]:
        """Sitemaps named in robots.txt, when the profile names none."""
        if not isinstance(response, TextResponse):
            return
        named = 0
        for line in response.text.splitlines():
            name, _, value = line.partition(":")
            if name.strip().lower() == "sitemap" and value.strip():
                url = self._entry_url(response.url, value)
                if url is None:
                    continue
                named += 1
                if named > self._limit("NEWSARCHIVE_MAX_FEED_ENTRIES"):
                    self.crawler.stats.inc_value(error_key(KIND_TOO_MANY_ENTRIES))
                    continue
                yield Request(url, callback=self.parse_sitemap, errback=self.on_error,
                              meta={META_ALWAYS: True})

    def parse_sitemap(self, response: Response) -> Iterator[Request]:
        """A sitemap or sitemap index; ``lastmod`` is passed on for the incremental check."""
        body = response.body
        if gzip_magic_number(response):
            try:
                body = gunzip(body, max_size=self._limit("DOWNLOAD_MAXSIZE"))
            except _DecompressionMaxSizeExceeded:
                self._count_error(KIND_DECOMPRESSION_BOMB, response.url, "unpacks beyond DOWNLOAD_MAXSIZE")
                return
            except OSError as exc:
                self._count_error(KIND_BAD_SITEMAP, response.url, f"broken gzip: {exc}")
                return
        if _ENTITY_DECLARATION.search(body, 0, 64 * 1024):
            self._count_error(KIND_BAD_SITEMAP, response.url, "declares XML entities")
            return
        try:
            sitemap = Sitemap(body)
        except (SyntaxError, ValueError, StopIteration) as exc:  # lxml's errors are SyntaxErrors
            self._count_error(KIND_BAD_SITEMAP, response.url, str(exc) or "not XML")
            return
        if sitemap.type not in ("sitemapindex", "urlset"):
            self._count_error(KIND_BAD_SITEMAP, response.url, f"<{sitemap.type}> is not a sitemap")
            return
        cap = self._limit("NEWSARCHIVE_MAX_FEED_ENTRIES")
        taken = 0
        for entry in sitemap:
            loc = self._entry_url(response.url, entry.get("loc"))
            if loc is None:
                continue
            if taken >= cap:
                self.crawler.stats.inc_value(error_key(KIND_TOO_MANY_ENTRIES))
                continue
            taken += 1
            if sitemap.type == "sitemapindex":
                # not filtered by on_site(): a site may keep its sitemaps on another host it
                # names; SafetyMiddleware refuses (and counts) what is not the site's
                if urlsplit(loc).scheme not in ("http", "https"):
                    self.crawler.stats.inc_value(error_key(KIND_BAD_SCHEME))
                    continue
                yield Request(loc, callback=self.parse_sitemap, errback=self.on_error,
                              meta={META_ALWAYS: True})
            elif self.on_site(loc):
                yield self._dated_request(loc, parse_date(entry.get("lastmod")))

    def parse_feed(self, response: Response) -> Iterator[Request]:
        """An RSS or Atom feed; item dates are passed on for the incremental check."""
        if _ENTITY_DECLARATION.search(response.body, 0, 64 * 1024):
            self._count_error(KIND_BAD_FEED, response.url, "declares XML entities")
            return
        try:
            selector = Selector(body=response.body, type="xml")  # links and dates are ASCII
            selector.remove_namespaces()
        except ValueError as exc:
            self._count_error(KIND_BAD_FEED, response.url, exc)
            return
        cap = self._limit("NEWSARCHIVE_MAX_FEED_ENTRIES")
        entries: list[tuple[str | None, str | None]] = []
        for item in selector.xpath("//item"):
            if len(entries) >= cap:
                self.crawler.stats.inc_value(error_key(KIND_TOO_MANY_ENTRIES))
                continue
            entries.append((item.xpath("string(link)").get(), item.xpath("string(pubDate)").get()
                            or item.xpath("string(date)").get()))
        for entry in selector.xpath("//entry"):
            if len(entries) >= cap:
                self.crawler.stats.inc_value(error_key(KIND_TOO_MANY_ENTRIES))
                continue
            link = entry.xpath("link[not(@rel) or @rel='alternate']/@href").get()
            date = entry.xpath("string(updated)").get() or entry.xpath("string(published)").get()
            entries.append((link, date))
        if not entries:
            self._count_error(KIND_BAD_FEED, response.url, "no items or entries")
        for link, date in entries:
            url = self._entry_url(response.url, link)
            if url is not None and self.on_site(url):
                yield self._dated_request(url, parse_date(date))

    def on_error(self, failure: Failure) -> None:
        """Count a failed request by kind and carry on."""
        if failure.check(IgnoreRequest) and not failure.check(HttpError):
            if isinstance(failure.value.__cause__, _DecompressionMaxSizeExceeded):
                # Scrapy's HttpCompressionMiddleware gave up unpacking: a gzip/brotli bomb
                request = getattr(failure, "request", None)
                self._count_error(KIND_DECOMPRESSION_BOMB, request.url if request else "?", failure.value)
            return  # robots.txt, refused (counted by SafetyMiddleware), or skipped as known
        request = getattr(failure, "request", None)
        if request is not None and request.meta.get(META_QUIET):
            return  # a missing robots.txt is no error
        # routine on the web: counted by kind, reported with the run, logged quietly
        self._count_error(error_kind(failure.value), request.url if request else "?", failure.value,
                          logging.INFO)

    # --- helpers ---

    def _entry_url(self, base: str, value: str | None) -> str | None:
        """A sitemap ``loc``, feed link or robots ``Sitemap:`` value as an absolute URL;
        None when empty, or too long (counted)."""
        value = (value or "").strip()
        if not value:
            return None
        if len(value) > self._limit("NEWSARCHIVE_MAX_URL_LENGTH"):
            self.crawler.stats.inc_value(error_key(KIND_URL_TOO_LONG))
            return None
        try:  # measured as it will be requested: percent-encoded
            url = safe_url_string(urljoin(base, value))
        except ValueError:  # "Invalid IPv6 URL": no address at all
            return None
        if len(url) > self._limit("NEWSARCHIVE_MAX_URL_LENGTH"):
            self.crawler.stats.inc_value(error_key(KIND_URL_TOO_LONG))
            return None
        return url

    def _dated_request(self, url: str, lastmod: datetime | None) -> Request:
        """A page named by a sitemap or feed. A dated one bypasses the dupefilter: the same
        URL may have been skipped as a known article when met as a plain link, and its newer
        date must still be able to bring it in (the incremental middleware fetches it once)."""
        return Request(url, callback=self.parse, errback=self.on_error,
                       dont_filter=lastmod is not None, meta={META_LASTMOD: lastmod})

    def _count_error(self, kind: str, url: str, reason: object, level: int = logging.WARNING) -> None:
        self.crawler.stats.inc_value(error_key(kind))
        logger.log(level, "%(kind)s: %(url)s (%(reason)s)", {"kind": kind, "url": url, "reason": reason})

    def _page(self, response: Response, *, not_modified: bool = False) -> FetchedPage:
        request = response.request
        original = (request.meta.get("redirect_urls") or [request.url])[0] if request else response.url
        return FetchedPage(
            url=original,
            final_url=response.url,
            status=response.status,
            headers={k.decode("latin-1"): v[0].decode("latin-1") for k, v in response.headers.items() if v},
            body=b"" if not_modified else response.body,
            encoding=http_content_type_encoding(_header(response, "Content-Type")),
            fetched_at=datetime.now(UTC),
            site=self.site,
            not_modified=not_modified,
        )
