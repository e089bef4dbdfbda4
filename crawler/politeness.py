"""Politeness across the workers of a shared crawl (``NEWSARCHIVE_REDIS_URL``).

Scrapy's download delay and per-domain concurrency are per process: N workers would hit a
site N times as hard. This downloader middleware, last before the downloader, makes every
worker of one archive take a slot in Redis first:

- **delay**: each request to a domain reserves the next free instant on a shared clock
  (the domain's delay apart) and waits for it, so the workers together keep the delay;
- **AutoThrottle, shared**: with ``AUTOTHROTTLE_ENABLED`` the domain's delay is not fixed but
  adapted from the latencies every worker observes, by AutoThrottle's rule, in Redis: each
  response moves the one shared delay halfway towards ``latency /
  AUTOTHROTTLE_TARGET_CONCURRENCY`` (never below that target, nor below ``DOWNLOAD_DELAY``
  or above ``AUTOTHROTTLE_MAX_DELAY``; it starts at ``AUTOTHROTTLE_START_DELAY``; an error
  response may raise it, never lower it). So the target concurrency holds for all workers
  together, not per worker; the delay in force is in each run's stats
  (``shared_delay_ms``, the last one it saw) and in Redis (``…:politeness:delay:<domain>``);
- **the page limit** (``--max-pages``): pages are counted as they are sent, over all
  workers, so the whole crawl sends exactly that many (each worker's own PageLimitMiddleware
  still caps it alone, which never binds first);
- **concurrency**: at most ``CONCURRENT_REQUESTS_PER_DOMAIN`` requests to a domain are in
  flight over all workers (a token per request, given back when the request leaves the
  downloader; a token of a killed worker expires after ``NEWSARCHIVE_LEASE_SECONDS``).

All timing reads the Redis server's clock. In a shared crawl this replaces Scrapy's
per-process delay and AutoThrottle (crawler.frontier.apply_redis_frontier switches those
off and hands their settings here), which would otherwise hold a request after its shared
slot and let it reach the site out of turn.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any
from urllib.parse import urlsplit

from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import Response
from scrapy.utils.defer import deferred_from_coro, maybe_deferred_to_future
from twisted.internet.task import deferLater

from core.keys import STAT_SHARED_DELAY_MS
from crawler.pagelimit import CLOSE_REASON, limit_reason
from crawler.pagelimit import SETTING as PAGE_LIMIT_SETTING
from crawler.robots import is_robots_request

logger = logging.getLogger(__name__)

META_SLOT = "newsarchive_shared_slot"  # the concurrency token this request holds
META_SHARED_COUNTED = "newsarchive_shared_counted"  # counted against the crawl's page limit

# KEYS: next-free-instant key, the domain's adaptive delay; ARGV: the fixed delay, or "" to
# use the adaptive one (ARGV[2] when none yet). Returns seconds to wait.
_RESERVE = """
local t = redis.call('TIME'); local now = tonumber(t[1]) + tonumber(t[2]) / 1e6
local delay = tonumber(ARGV[1])
if ARGV[1] == '' then delay = tonumber(redis.call('GET', KEYS[2]) or ARGV[2]) end
local free = tonumber(redis.call('GET', KEYS[1]) or '0')
local at = math.max(now, free)
redis.call('SET', KEYS[1], tostring(at + delay), 'EX', 3600)
return tostring(at - now)
"""

# AutoThrottle's rule (scrapy.extensions.throttle) on the one delay all workers share.
# KEYS: the domain's delay; ARGV: latency, target concurrency, min, max, start delay, "1"
# for a 200 response. Returns the delay in force.
_ADAPT = """
local old = tonumber(redis.call('GET', KEYS[1]) or ARGV[5])
local target = tonumber(ARGV[1]) / tonumber(ARGV[2])
local new = math.max(target, (old + target) / 2)
new = math.min(math.max(tonumber(ARGV[3]), new), tonumber(ARGV[4]))
if ARGV[6] ~= '1' and new <= old then return tostring(old) end
redis.call('SET', KEYS[1], tostring(new), 'EX', 3600)
return tostring(new)
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
        settings = crawler.settings
        self.max_pages = settings.getint(PAGE_LIMIT_SETTING)
        self.delay = settings.getfloat("NEWSARCHIVE_SHARED_DELAY")  # the fixed delay, or the least
        self.limit = settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN")
        self.lease = settings.getfloat("NEWSARCHIVE_LEASE_SECONDS")
        self.throttle = settings.getbool("NEWSARCHIVE_SHARED_AUTOTHROTTLE")
        self.target = settings.getfloat("AUTOTHROTTLE_TARGET_CONCURRENCY")
        self.max_delay = settings.getfloat("AUTOTHROTTLE_MAX_DELAY")
        self.start_delay = max(self.delay, settings.getfloat("AUTOTHROTTLE_START_DELAY"))
        self.debug = settings.getbool("AUTOTHROTTLE_DEBUG")
        if self.throttle and self.target <= 0:
            raise NotConfigured("AUTOTHROTTLE_TARGET_CONCURRENCY must be above 0")
        self.reserve = server.register_script(_RESERVE)
        self.acquire = server.register_script(_ACQUIRE)
        self.adapt = server.register_script(_ADAPT)

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
        counts = not request.meta.get(META_SHARED_COUNTED) and not is_robots_request(request)
        domain = urlsplit(request.url).hostname or ""
        if self.limit > 0:
            token = uuid.uuid4().hex
            while not self.acquire(keys=[self.prefix + "slots:" + domain],
                                   args=[self.limit, token, self.lease]):
                if counts and self._budget_spent():
                    raise IgnoreRequest(limit_reason(self.max_pages))
                await maybe_deferred_to_future(deferLater(_reactor(), _POLL_SECONDS, lambda: None))
            request.meta[META_SLOT] = (domain, token)
        if self.delay > 0 or self.throttle:
            wait = float(self.reserve(keys=[self.prefix + "next:" + domain, self.prefix + "delay:" + domain],
                                      args=["" if self.throttle else self.delay, self.start_delay]))
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

    def process_response(
        self, request: Request, response: Response, spider: Spider | None = None
    ) -> Response:
        latency = request.meta.get("download_latency")
        # the meta key with which Scrapy's AutoThrottle leaves a response out
        if not self.throttle or latency is None or request.meta.get("autothrottle_dont_adjust_delay"):
            return response
        domain = urlsplit(request.url).hostname or ""
        delay = float(self.adapt(keys=[self.prefix + "delay:" + domain], args=[
            latency, self.target, self.delay, self.max_delay, self.start_delay,
            "1" if response.status == 200 else "0"]))
        assert self.crawler.stats is not None
        self.crawler.stats.set_value(STAT_SHARED_DELAY_MS, round(delay * 1000))
        if self.debug:
            logger.info("Shared AutoThrottle %(domain)s: delay %(delay).0f ms (latency %(latency).0f ms, "
                        "%(size)d bytes)", {"domain": domain, "delay": delay * 1000,
                                            "latency": latency * 1000, "size": len(response.body)})
        return response

    def request_left(self, request: Request, spider: Spider | None = None) -> None:
        slot = request.meta.pop(META_SLOT, None)
        if slot is not None:
            self.server.zrem(self.prefix + "slots:" + slot[0], slot[1])
