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
from scrapy.linkextractors import LinkExtractor
from scrapy.selector import Selector
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils.gz import gunzip, gzip_magic_number
from scrapy.utils.sitemap import Sitemap
from twisted.python.failure import Failure
from w3lib.encoding import http_content_type_encoding

from core.errors import ConfigError
from core.items import FetchedPage
from core.keys import META_ALWAYS, META_LASTMOD, META_QUIET, STAT_LISTING_PAGES, dropped_key, error_key
from crawler.profiles import SiteProfile, load_profiles, profile_for_urls
from crawler.runner import apply_site_settings, error_kind

logger = logging.getLogger(__name__)

# request.meta keys read by crawler.middlewares.IncrementalCrawlMiddleware


_FEED_TYPES = ("application/rss+xml", "application/atom+xml")


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
        self.allowed_domains = list(profile.allowed_domains)
        # LinkExtractor(allow_domains=) compares host:port, so hosts are checked in on_site()
        self.links = LinkExtractor(unique=True)
        self._robots_asked: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> NewsSpider:
        spider: NewsSpider = super().from_crawler(crawler, *args, **kwargs)
        # Settings are still mutable here (Scrapy applies them after creating the spider),
        # which is what lets a site profile sit between project defaults and the command line.
        apply_site_settings(crawler.settings, spider.profile)
        return spider

    def on_site(self, url: str) -> bool:
        """Whether ``url`` is on one of the site's domains (or their subdomains)."""
        host = (urlsplit(url).hostname or "").lower()
        return any(host == d or host.endswith("." + d) for d in self.allowed_domains)

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
        if self.profile.sitemaps or not self.settings.getbool("NEWSARCHIVE_SITEMAP_DISCOVERY", True):
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
        if self.profile.is_article_url(response.url) is not False:
            yield self._page(response)
        else:
            self.crawler.stats.inc_value(STAT_LISTING_PAGES)
        for href in response.css("link[rel=alternate]"):
            if (href.attrib.get("type") or "").lower() in _FEED_TYPES and href.attrib.get("href"):
                yield response.follow(
                    href.attrib["href"], callback=self.parse_feed, errback=self.on_error,
                    meta={META_ALWAYS: True},
                )
        for link in self.links.extract_links(response):
            if not self.on_site(link.url):
                continue
            # articles a page links to come before the next listing pages of the same depth
            priority = 1 if self.profile.is_article_url(link.url) else 0
            yield Request(link.url, callback=self.parse, errback=self.on_error, priority=priority)
        if response.meta.get(META_ALWAYS):
            yield from self._robots_sitemaps(response)

    def parse_robots(self, response: Response) -> Iterator[Request]:
        """Sitemaps named in robots.txt, when the profile names none."""
        if not isinstance(response, TextResponse):
            return
        for line in response.text.splitlines():
            name, _, value = line.partition(":")
            if name.strip().lower() == "sitemap" and value.strip():
                yield Request(
                    urljoin(response.url, value.strip()), callback=self.parse_sitemap,
                    errback=self.on_error, meta={META_ALWAYS: True},
                )

    def parse_sitemap(self, response: Response) -> Iterator[Request]:
        """A sitemap or sitemap index; ``lastmod`` is passed on for the incremental check."""
        body = gunzip(response.body) if gzip_magic_number(response) else response.body
        try:
            sitemap = Sitemap(body)
        except (SyntaxError, ValueError, StopIteration) as exc:  # lxml's errors are SyntaxErrors
            self._count_error("bad_sitemap", response.url, str(exc) or "not XML")
            return
        if sitemap.type not in ("sitemapindex", "urlset"):
            self._count_error("bad_sitemap", response.url, f"<{sitemap.type}> is not a sitemap")
            return
        for entry in sitemap:
            loc = entry.get("loc")
            if not loc:
                continue
            if sitemap.type == "sitemapindex":
                yield Request(loc, callback=self.parse_sitemap, errback=self.on_error,
                              meta={META_ALWAYS: True})
            elif sitemap.type == "urlset" and self.on_site(loc):
                yield self._dated_request(loc, parse_date(entry.get("lastmod")))

    def parse_feed(self, response: Response) -> Iterator[Request]:
        """An RSS or Atom feed; item dates are passed on for the incremental check."""
        try:
            selector = Selector(body=response.body, type="xml")  # links and dates are ASCII
            selector.remove_namespaces()
        except ValueError as exc:
            self._count_error("bad_feed", response.url, exc)
            return
        entries: list[tuple[str | None, str | None]] = []
        for item in selector.xpath("//item"):
            entries.append((item.xpath("string(link)").get(), item.xpath("string(pubDate)").get()
                            or item.xpath("string(date)").get()))
        for entry in selector.xpath("//entry"):
            link = entry.xpath("link[not(@rel) or @rel='alternate']/@href").get()
            date = entry.xpath("string(updated)").get() or entry.xpath("string(published)").get()
            entries.append((link, date))
        if not entries:
            self._count_error("bad_feed", response.url, "no items or entries")
        for link, date in entries:
            url = urljoin(response.url, (link or "").strip())
            if link and link.strip() and self.on_site(url):
                yield self._dated_request(url, parse_date(date))

    def on_error(self, failure: Failure) -> None:
        """Count a failed request by kind and carry on."""
        if failure.check(IgnoreRequest) and not failure.check(HttpError):
            return  # robots.txt, offsite, or skipped by the incremental middleware
        request = getattr(failure, "request", None)
        if request is not None and request.meta.get(META_QUIET):
            return  # a missing robots.txt is no error
        # routine on the web: counted by kind, reported with the run, logged quietly
        self._count_error(error_kind(failure.value), request.url if request else "?", failure.value,
                          logging.INFO)

    # --- helpers ---

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
