"""``--max-pages N`` / a profile's ``max_pages``: exactly N pages reach the downloader.

Scrapy's CLOSESPIDER_PAGECOUNT counts responses, robots.txt included, and closes the spider
only after the N-th response arrived, while up to CONCURRENT_REQUESTS more are on their way:
``--max-pages 2`` spent one of its two pages on robots.txt, and a Redis-fed crawl overshot.
This middleware counts page requests as they are sent (robots.txt, retries and redirects of a
counted page are not counted again), and on sending the N-th starts closing the spider: the
engine then takes nothing more from the scheduler (a Redis frontier keeps the rest for the
next run), lets the requests in flight finish, and anything else is dropped unsent. The run
ends "ok" with the reason "stopped at the page limit (N)".
"""

from __future__ import annotations

import logging

from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import Request
from scrapy.utils.defer import deferred_from_coro

from core.keys import META_PAGE_COUNTED, STAT_PAGE_LIMIT_DROPPED
from crawler.robots import is_robots_request

logger = logging.getLogger(__name__)

SETTING = "NEWSARCHIVE_MAX_PAGES"
CLOSE_REASON = "max_pages"


def limit_reason(limit: int) -> str:
    return f"stopped at the page limit ({limit})"


class PageLimitMiddleware:
    """Downloader middleware, after robots.txt and the incremental skip: those requests
    never cost a page."""

    def __init__(self, crawler: Crawler, limit: int) -> None:
        self.crawler = crawler
        self.limit = limit
        self.sent = 0
        self.closing = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> PageLimitMiddleware:
        limit = crawler.settings.getint(SETTING)
        if limit <= 0:
            # no message: Scrapy logs a NotConfigured reason as a WARNING, and a crawl
            # without a page limit is the normal case, not worth a line on stderr
            raise NotConfigured
        return cls(crawler, limit)

    def process_request(self, request: Request) -> None:
        if request.meta.get(META_PAGE_COUNTED) or is_robots_request(request):
            return  # a retry or redirect of a page already counted, or robots.txt
        if self.sent >= self.limit:
            assert self.crawler.stats is not None
            self.crawler.stats.inc_value(STAT_PAGE_LIMIT_DROPPED)
            raise IgnoreRequest(limit_reason(self.limit))
        self.sent += 1
        request.meta[META_PAGE_COUNTED] = True
        if self.sent == self.limit and not self.closing:
            self.closing = True
            logger.info(
                "Reached the page limit (%(limit)d): finishing the pages in flight", {"limit": self.limit}
            )
            engine = self.crawler.engine
            assert engine is not None
            # started now, not later: closing at once stops the engine from taking more requests
            deferred_from_coro(engine.close_spider_async(reason=CLOSE_REASON))
