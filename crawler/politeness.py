"""Politeness across the workers of a shared crawl (``NEWSARCHIVE_REDIS_URL``).

Scrapy's download delay and per-domain concurrency are per process: N workers would hit a
site N times as hard. This downloader middleware, last before the downloader, makes every
worker of one archive take a slot in Redis first:

- **delay**: each request to a domain reserves the next free instant on a shared clock
  (``DOWNLOAD_DELAY`` apart) and waits for it, so the workers together keep the delay;
- **the page limit** (``--max-pages``): pages are counted as they are sent, over all
  workers, so the whole crawl sends exactly that many (each worker's own PageLimitMiddleware
  still caps it alone, which never binds first);
- **concurrency**: at most ``CONCURRENT_REQUESTS_PER_DOMAIN`` requests to a domain are in
  flight over all workers (a token per request, given back when the request leaves the
  downloader; a token of a killed worker expires after ``NEWSARCHIVE_LEASE_SECONDS``).

All timing reads the Redis server's clock. The shared delay is the site's
``DOWNLOAD_DELAY``; in a shared crawl it replaces Scrapy's per-process delay and AutoThrottle
(crawler.frontier.apply_redis_frontier switches those off), which would otherwise hold a
request after its shared slot and let it reach the site out of turn.
"""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlsplit

from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.utils.defer import deferred_from_coro, maybe_deferred_to_future
from twisted.internet.task import deferLater

from crawler.pagelimit import CLOSE_REASON, limit_reason
from crawler.pagelimit import SETTING as PAGE_LIMIT_SETTING

META_SLOT = "newsarchive_shared_slot"  # the concurrency token this request holds
META_SHARED_COUNTED = "newsarchive_shared_counted"  # counted against the crawl's page limit

# KEYS: next-free-instant key; ARGV: delay. Returns seconds to wait.
_RESERVE = """
local t = redis.call('TIME'); local now = tonumber(t[1]) + tonumber(t[2]) / 1e6
local free = tonumber(redis.call('GET', KEYS[1]) or '0')
local at = math.max(now, free)
redis.call('SET', KEYS[1], tostring(at + tonumber(ARGV[1])), 'EX', 3600)
return tostring(at - now)
"""

# KEYS: tokens zset; ARGV: limit, token, lease seconds. 1 when a token was taken.
_ACQUIRE = """
local t = redis.call('TIME'); local now = tonumber(t[1]) + tonumber(t[2]) / 1e6
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then return 0 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[2])
redis.call('EXPIRE', KEYS[1], 3600)
return 1
"""

_POLL_SECONDS = 0.05


def _reactor() -> Any:
    from twisted.internet import reactor  # installed by Scrapy before any request

    return reactor


class SharedPolitenessMiddleware:
    def __init__(self, crawler: Crawler, server: Any, prefix: str, pages_key: str) -> None:
        self.crawler = crawler
        self.server = server
        self.prefix = prefix
        self.pages_key = pages_key
        self.max_pages = crawler.settings.getint(PAGE_LIMIT_SETTING)
        self.delay = crawler.settings.getfloat("NEWSARCHIVE_SHARED_DELAY")
        self.limit = crawler.settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN")
        self.lease = crawler.settings.getfloat("NEWSARCHIVE_LEASE_SECONDS")
        self.reserve = server.register_script(_RESERVE)
        self.acquire = server.register_script(_ACQUIRE)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SharedPolitenessMiddleware:
        prefix = crawler.settings.get("NEWSARCHIVE_FRONTIER_PREFIX")
        if not crawler.settings.get("NEWSARCHIVE_REDIS_URL") or not prefix:
            raise NotConfigured("NEWSARCHIVE_REDIS_URL is not set: no shared crawl")
        import redis

        server = redis.Redis.from_url(crawler.settings["NEWSARCHIVE_REDIS_URL"])
        # per archive, not per site: two sites on one host share its politeness
        middleware = cls(crawler, server, prefix.rsplit(":", 2)[0] + ":politeness:", prefix + "pages")
        crawler.signals.connect(middleware.request_left, signal=signals.request_left_downloader)
        return middleware

    def _budget_spent(self) -> bool:
        return bool(self.max_pages) and int(self.server.get(self.pages_key) or 0) >= self.max_pages

    async def process_request(self, request: Request, spider: Spider | None = None) -> None:
        counts = not request.meta.get(META_SHARED_COUNTED) and urlsplit(request.url).path != "/robots.txt"
        domain = urlsplit(request.url).hostname or ""
        if self.limit > 0:
            token = uuid.uuid4().hex
            while not self.acquire(keys=[self.prefix + "slots:" + domain],
                                   args=[self.limit, token, self.lease]):
                if counts and self._budget_spent():
                    raise IgnoreRequest(limit_reason(self.max_pages))
                await maybe_deferred_to_future(deferLater(_reactor(), _POLL_SECONDS, lambda: None))
            request.meta[META_SLOT] = (domain, token)
        if self.delay > 0:
            wait = float(self.reserve(keys=[self.prefix + "next:" + domain], args=[self.delay]))
            if wait > 0:
                await maybe_deferred_to_future(deferLater(_reactor(), wait, lambda: None))
        if counts and self.max_pages:
            # counted as it is sent, over all workers: exactly max_pages pages reach the site
            sent = self.server.incr(self.pages_key)
            if sent > self.max_pages:
                self.request_left(request)
                raise IgnoreRequest(limit_reason(self.max_pages))
            request.meta[META_SHARED_COUNTED] = True
            if sent == self.max_pages:
                engine = self.crawler.engine
                assert engine is not None
                deferred_from_coro(engine.close_spider_async(reason=CLOSE_REASON))

    def request_left(self, request: Request, spider: Spider | None = None) -> None:
        slot = request.meta.pop(META_SLOT, None)
        if slot is not None:
            self.server.zrem(self.prefix + "slots:" + slot[0], slot[1])
