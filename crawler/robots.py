"""robots.txt fetched once for all the workers of a shared crawl (``NEWSARCHIVE_REDIS_URL``).

Scrapy's RobotsTxtMiddleware keeps each host's parsed robots.txt in its process, so N
workers fetch it N times. This subclass looks in Redis first (under the archive's
politeness prefix, for an hour) and stores what it fetched there. It hooks Scrapy's
``robot_parser`` / ``_parse_robots`` (Scrapy 2.13 and later; tests/test_shared_crawl.py
checks it against the version installed).
"""

from __future__ import annotations

import time
from typing import Any

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.exceptions import NotConfigured
from scrapy.http import Response
from scrapy.robotstxt import RobotParser
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from scrapy.utils.misc import build_from_crawler
from twisted.internet.task import deferLater

CACHE_SECONDS = 3600
FETCH_WAIT_SECONDS = 30.0


def is_robots_request(request: Request) -> bool:
    """The robots.txt request Scrapy's RobotsTxtMiddleware makes (it marks its own request
    ``dont_obey_robotstxt``); a page that merely links to /robots.txt is a page."""
    return bool(request.meta.get("dont_obey_robotstxt")) and urlparse_cached(request).path == "/robots.txt"


def _reactor() -> Any:
    from twisted.internet import reactor  # installed by Scrapy before any request

    return reactor


class SharedRobotsTxtMiddleware(RobotsTxtMiddleware):
    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        import redis

        self.server: Any = redis.Redis.from_url(crawler.settings["NEWSARCHIVE_REDIS_URL"])
        prefix = crawler.settings["NEWSARCHIVE_FRONTIER_PREFIX"]
        self.prefix = prefix.rsplit(":", 2)[0] + ":politeness:robots:"

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SharedRobotsTxtMiddleware:
        if not crawler.settings.get("NEWSARCHIVE_REDIS_URL") or not crawler.settings.get(
            "NEWSARCHIVE_FRONTIER_PREFIX"
        ):
            raise NotConfigured("NEWSARCHIVE_REDIS_URL is not set: no shared crawl")
        if not crawler.settings.getbool("ROBOTSTXT_OBEY"):
            raise NotConfigured("ROBOTSTXT_OBEY is off")
        return cls(crawler)

    async def robot_parser(self, request: Request) -> RobotParser | None:
        netloc = urlparse_cached(request).netloc
        if netloc not in self._parsers:
            body = await self._shared_body(netloc)
            if body is not None:  # another worker fetched it
                self._parsers[netloc] = build_from_crawler(self._parserimpl, self.crawler, body)
                self._stats.inc_value("robotstxt/shared")
        return await super().robot_parser(request)

    async def _shared_body(self, netloc: str) -> bytes | None:
        """The cached robots.txt of ``netloc``; when another worker is fetching it right now
        (its marker is set), wait for it rather than fetch it a second time."""
        key = self.prefix + netloc
        deadline = time.monotonic() + FETCH_WAIT_SECONDS
        while True:
            body: bytes | None = self.server.get(key)
            if body is not None:
                return body
            if self.server.set(key + ":fetching", 1, nx=True, ex=int(FETCH_WAIT_SECONDS)):
                return None  # ours to fetch
            if time.monotonic() > deadline:
                return None  # the other worker is taking too long: fetch it too
            await maybe_deferred_to_future(deferLater(_reactor(), 0.1, lambda: None))

    async def _parse_robots(self, response: Response, netloc: str, request: Request) -> None:
        await super()._parse_robots(response, netloc, request)
        if response.status < 500:  # a server error is not a robots.txt to keep
            self.server.set(self.prefix + netloc, response.body, ex=CACHE_SECONDS)
