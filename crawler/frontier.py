"""A shared crawl frontier in Redis, built on scrapy-redis.

With ``NEWSARCHIVE_REDIS_URL`` set, a site's pending requests and seen-request fingerprints
live in Redis, and every ``crawl --site S`` started with the same Redis and archive, in one
process or on many machines, is a *worker* of one shared crawl of S:

- **Leases.** A worker pops a request by moving it, atomically, from the queue into a lease
  (``leases``: id -> deadline) and renews its leases while it works on them. A request is
  acknowledged (the lease deleted) only once the worker is done with it: downloaded, parsed,
  the requests it led to queued, and its article committed to the archive (the store
  pipeline's ``archive_written`` signal). A lease whose worker died (SIGKILL, a lost host)
  expires after ``NEWSARCHIVE_LEASE_SECONDS`` and goes back to the queue: nothing is lost.
- **Ending.** A worker ends when the queue is empty and no worker holds a lease: never while
  the shared crawl has work queued or in flight somewhere.
- **Membership.** Workers register with a heartbeat. The frontier (queue, seen set, crawl
  id, page counter) is deleted only by the last live worker to finish, and only when the
  crawl finished. A worker that joins when no live worker is left and nothing is queued or
  leased starts a new crawl (the seen set of the last one is dropped, so listing pages are
  read afresh); otherwise it joins, or resumes an interrupted crawl.
- **Crawl id.** Each shared crawl gets an id, recorded on every worker's run, so ``runs``
  groups the runs that served one crawl.

Keys are ``newsarchive:<archive>:<site>:*``, where ``<archive>`` names the archive (its
database name on PostgreSQL, its resolved path on SQLite), so two archives can share one
Redis without mixing their crawls.

Our classes subclass scrapy-redis's (``Scheduler``, ``PriorityQueue``) and keep its
dupefilter; we carry the lease logic here instead of patching it.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
import uuid
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import ScrapyDeprecationWarning
from scrapy.http import Response
from scrapy.settings import Settings
from scrapy.utils.asyncio import call_later
from scrapy.utils.defer import deferred_from_coro
from scrapy_redis.dupefilter import RFPDupeFilter
from scrapy_redis.queue import PriorityQueue
from scrapy_redis.scheduler import Scheduler
from twisted.internet.task import LoopingCall

from core.errors import ConfigError
from core.keys import STAT_CRAWL_ID
from core.signals import archive_written
from crawler.fingerprint import canonical_fingerprint
from crawler.frontier_url import REDIS_URL_SETTING
from crawler.pagelimit import CLOSE_REASON as PAGE_LIMIT_CLOSE
from crawler.pagelimit import SETTING as PAGE_LIMIT_SETTING

logger = logging.getLogger(__name__)

# scrapy-redis 0.9 still passes spider= to the stats collector
warnings.filterwarnings("ignore", category=ScrapyDeprecationWarning, module="scrapy_redis")

OVER_CMDLINE = 50  # a setting the shared crawl must own, whatever the layers below say
TICK_SECONDS = 0.5  # how often a worker renews its leases and looks for returned work


def archive_name(db: str) -> str:
    """A short name of the archive that every host computes alike: the database name of a
    URL (hosts may reach one server by different names), or the resolved path of a file."""
    if "://" in db:
        from sqlalchemy.engine import make_url  # the URL parser only; storage is not needed

        key = make_url(db).database or db
    else:
        key = str(Path(db).expanduser().resolve())
    return hashlib.sha1(key.encode()).hexdigest()[:12]


@dataclass(frozen=True)
class FrontierKeys:
    """The Redis keys of one site's shared crawl in one archive."""

    prefix: str

    @classmethod
    def of(cls, db: str, site: str) -> FrontierKeys:
        safe_site = "".join(c if c.isalnum() or c in "-_." else "_" for c in site)
        return cls(f"newsarchive:{archive_name(db)}:{safe_site}:")

    # requests: the queue (zset); dupefilter: seen fingerprints (set); leases: lease id ->
    # deadline (zset); leased / lease_score: lease id -> request / its queue score (hashes);
    # workers: worker id -> last heartbeat (zset); crawl: the crawl id; pages: pages fetched
    @property
    def requests(self) -> str:
        return self.prefix + "requests"

    @property
    def dupefilter(self) -> str:
        return self.prefix + "dupefilter"

    @property
    def leases(self) -> str:
        return self.prefix + "leases"

    @property
    def leased(self) -> str:
        return self.prefix + "leased"

    @property
    def lease_score(self) -> str:
        return self.prefix + "lease_score"

    @property
    def workers(self) -> str:
        return self.prefix + "workers"

    @property
    def crawl(self) -> str:
        return self.prefix + "crawl"

    @property
    def pages(self) -> str:
        return self.prefix + "pages"

    def all(self) -> list[str]:
        return [self.requests, self.dupefilter, self.leases, self.leased, self.lease_score,
                self.workers, self.crawl, self.pages]


def frontier_keys(db: str, site: str) -> FrontierKeys:
    return FrontierKeys.of(db, site)


# All scripts read the clock of the Redis server, the one clock every host shares.
_NOW = "local t = redis.call('TIME'); local now = tonumber(t[1]) + tonumber(t[2]) / 1e6\n"

# KEYS: requests leases leased lease_score; ARGV: lease seconds
_POP = _NOW + """
local item = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if #item == 0 then return nil end
redis.call('ZREM', KEYS[1], item[1])
local id = redis.sha1hex(item[1])
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[1]), id)
redis.call('HSET', KEYS[3], id, item[1])
redis.call('HSET', KEYS[4], id, item[2])
return {id, item[1]}
"""

# KEYS: requests leases leased lease_score; ARGV: lease ids. Back to the queue, now.
_RELEASE = """
local n = 0
for _, id in ipairs(ARGV) do
  local data = redis.call('HGET', KEYS[3], id)
  if data then
    redis.call('ZADD', KEYS[1], redis.call('HGET', KEYS[4], id), data)
    redis.call('ZREM', KEYS[2], id)
    redis.call('HDEL', KEYS[3], id)
    redis.call('HDEL', KEYS[4], id)
    n = n + 1
  end
end
return n
"""

# KEYS: requests leases leased lease_score. Expired leases (their worker died) go back.
_RECLAIM = _NOW + """
local ids = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now)
local n = 0
for _, id in ipairs(ids) do
  local data = redis.call('HGET', KEYS[3], id)
  if data then redis.call('ZADD', KEYS[1], redis.call('HGET', KEYS[4], id), data) end
  redis.call('ZREM', KEYS[2], id)
  redis.call('HDEL', KEYS[3], id)
  redis.call('HDEL', KEYS[4], id)
  n = n + 1
end
return n
"""

# KEYS: leases workers; ARGV: lease seconds, worker id, lease ids. Renew our leases (only
# those still ours: a lease reclaimed meanwhile stays reclaimed) and our heartbeat.
_RENEW = _NOW + """
local deadline = now + tonumber(ARGV[1])
redis.call('ZADD', KEYS[2], now, ARGV[2])
for i = 3, #ARGV do redis.call('ZADD', KEYS[1], 'XX', deadline, ARGV[i]) end
return 1
"""

# KEYS: requests leases workers crawl dupefilter pages; ARGV: lease seconds, worker id, new
# crawl id. Returns {crawl id, "new" | "join" | "resume"}.
_JOIN = _NOW + """
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now - tonumber(ARGV[1]))
local live = redis.call('ZCARD', KEYS[3])
local pending = redis.call('ZCARD', KEYS[1]) + redis.call('ZCARD', KEYS[2])
local how = 'join'
if live == 0 and pending == 0 then
  redis.call('DEL', KEYS[4], KEYS[5], KEYS[6])
  how = 'new'
elseif live == 0 then
  redis.call('DEL', KEYS[6])  -- a resumed crawl gets a fresh --max-pages budget
  how = 'resume'
end
redis.call('SET', KEYS[4], ARGV[3], 'NX')
redis.call('ZADD', KEYS[3], now, ARGV[2])
return {redis.call('GET', KEYS[4]), how}
"""

# KEYS: all keys (requests leases workers first); ARGV: lease seconds, worker id, "1" when
# the crawl finished. Returns 1 when this was the last worker and the frontier was cleared.
_LEAVE = _NOW + """
redis.call('ZREM', KEYS[3], ARGV[2])
if ARGV[3] ~= '1' then return 0 end
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now - tonumber(ARGV[1]))
if redis.call('ZCARD', KEYS[3]) + redis.call('ZCARD', KEYS[1]) + redis.call('ZCARD', KEYS[2]) > 0 then
  return 0
end
redis.call('DEL', unpack(KEYS))
return 1
"""


def apply_redis_frontier(settings: Settings, site: str) -> None:
    """Switch the scheduler to the shared frontier when NEWSARCHIVE_REDIS_URL is set."""
    url = settings.get(REDIS_URL_SETTING)
    if not url:
        return
    import redis  # a dependency of scrapy-redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=5).ping()
    except (redis.RedisError, ValueError) as exc:
        raise ConfigError(f"Redis at {url} is not usable: {exc}") from exc
    keys = frontier_keys(settings.get("NEWSARCHIVE_DB") or "", site)
    for name, value in {
        "SCHEDULER": "crawler.frontier.SharedScheduler",
        "SCHEDULER_QUEUE_CLASS": "crawler.frontier.LeasedPriorityQueue",
        "DUPEFILTER_CLASS": "crawler.frontier.CanonicalRedisDupeFilter",
        "REDIS_URL": url,
        # scrapy-redis formats these with "%": FrontierKeys never contain one
        "SCHEDULER_QUEUE_KEY": keys.requests,
        "SCHEDULER_DUPEFILTER_KEY": keys.dupefilter,
        "SCHEDULER_PERSIST": True,  # SharedScheduler clears it when the last worker finishes
        "NEWSARCHIVE_FRONTIER_PREFIX": keys.prefix,
    }.items():
        settings.set(name, value, priority="spider")
    # last before the downloader: the shared delay and per-domain concurrency (politeness.py).
    # It takes the delay over: a per-process delay (or AutoThrottle's) would hold requests
    # after their shared slot and let them reach the site out of turn, closer than the delay.
    # AutoThrottle's settings go to the shared slot, which adapts one delay for all workers
    takeover = {"NEWSARCHIVE_SHARED_DELAY": settings.getfloat("DOWNLOAD_DELAY"), "DOWNLOAD_DELAY": 0,
                "NEWSARCHIVE_SHARED_AUTOTHROTTLE": settings.getbool("AUTOTHROTTLE_ENABLED"),
                "AUTOTHROTTLE_ENABLED": False, "RANDOMIZE_DOWNLOAD_DELAY": False}
    for name, value in takeover.items():
        settings.set(name, value, priority=OVER_CMDLINE)
    middlewares = {**settings.getdict("DOWNLOADER_MIDDLEWARES"),
                   "crawler.politeness.SharedPolitenessMiddleware": 950,
                   # robots.txt fetched once for all workers (robots.py), in Scrapy's place
                   "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
                   "crawler.robots.SharedRobotsTxtMiddleware": 100}
    settings.set("DOWNLOADER_MIDDLEWARES", middlewares, priority="spider")


def _engine_requests_in_progress(crawler: Crawler) -> set[Request]:
    """The requests the engine took from the scheduler and is not done with: it keeps each
    until it is downloaded, parsed and its items through the pipelines (or it failed).

    Scrapy's private ``ExecutionEngine._slot.inprogress``: no public API or signal says when
    the engine is done with a request (``response_received`` and the ``item_*`` signals miss
    requests a downloader middleware ignored, redirected or retried, and errback output).
    Read here only, and checked when a worker opens: were it gone, every lease would be
    acknowledged at once and a killed worker would lose its pages, so a Scrapy without it
    is refused with an error instead."""
    slot = getattr(crawler.engine, "_slot", None)
    in_progress = getattr(slot, "inprogress", None)
    if not isinstance(in_progress, set):
        raise RuntimeError(
            "this Scrapy's engine keeps no _slot.inprogress set: the shared frontier cannot tell "
            "when a request is done (crawler/frontier.py); use a Scrapy version newsarchive allows"
        )
    return in_progress


class LeasedPriorityQueue(PriorityQueue):
    """scrapy-redis's priority queue whose pop leases the request instead of removing it."""

    keys: FrontierKeys
    lease_seconds: float

    def lease(self) -> tuple[str, Request] | None:
        server = self.server
        found = server.register_script(_POP)(
            keys=[self.keys.requests, self.keys.leases, self.keys.leased, self.keys.lease_score],
            args=[self.lease_seconds],
        )
        if not found:
            return None
        lease_id, data = found
        return lease_id.decode(), self._decode_request(data)

    def pop(self, timeout: int = 0) -> Request | None:
        raise NotImplementedError("a shared frontier leases requests: use lease()")


class SharedScheduler(Scheduler):
    """scrapy-redis's scheduler for one worker of a shared crawl (see the module docstring)."""

    crawler: Crawler
    keys: FrontierKeys
    lease_seconds: float
    worker: str
    crawl_id: str
    inflight: dict[Request, list[Any]]  # request -> [lease id, monotonic time it was done, or None]
    written_upto: float
    waits_for_archive: bool
    ticker: LoopingCall
    max_pages: int
    closing: bool
    fetched: set[Request]

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SharedScheduler:
        instance: SharedScheduler = super().from_crawler(crawler)
        instance.crawler = crawler
        instance.keys = FrontierKeys(crawler.settings["NEWSARCHIVE_FRONTIER_PREFIX"])
        instance.lease_seconds = crawler.settings.getfloat("NEWSARCHIVE_LEASE_SECONDS")
        instance.worker = f"{os.uname().nodename}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        instance.inflight = {}
        instance.written_upto = float("-inf")
        instance.waits_for_archive = bool(crawler.settings.get("NEWSARCHIVE_DB"))
        instance.ticker = LoopingCall(instance.tick)
        # --max-pages / max_pages counts the pages of the whole shared crawl (politeness.py
        # counts them as they are sent; the tick notices another worker used the budget up)
        instance.max_pages = crawler.settings.getint(PAGE_LIMIT_SETTING)
        instance.closing = False
        instance.fetched = set()  # leased requests whose own response came
        crawler.signals.connect(instance.archive_written, signal=archive_written)
        crawler.signals.connect(instance.response_received, signal=signals.response_received)
        return instance

    def _lease_keys(self) -> list[str]:
        return [self.keys.requests, self.keys.leases, self.keys.leased, self.keys.lease_score]

    def open(self, spider: Spider) -> None:
        _engine_requests_in_progress(self.crawler)  # refuse to run on a Scrapy without it
        super().open(spider)
        self.queue.keys = self.keys
        self.queue.lease_seconds = self.lease_seconds
        crawl_id, how = self.server.register_script(_JOIN)(
            keys=[self.keys.requests, self.keys.leases, self.keys.workers, self.keys.crawl,
                  self.keys.dupefilter, self.keys.pages],
            args=[self.lease_seconds, self.worker, uuid.uuid4().hex[:12]],
        )
        self.crawl_id = crawl_id.decode()
        assert self.crawler.stats is not None
        self.crawler.stats.set_value(STAT_CRAWL_ID, self.crawl_id)
        logger.info(
            "Shared crawl %(crawl)s of %(site)s: %(how)s (%(queued)d requests queued, %(leased)d leased)",
            {"crawl": self.crawl_id, "site": spider.name, "how": how.decode(),
             "queued": self.server.zcard(self.keys.requests), "leased": self.server.zcard(self.keys.leases)},
        )
        self.ticker.start(TICK_SECONDS, now=False)

    def next_request(self) -> Request | None:
        found = self.queue.lease()
        if found is None:
            return None
        lease_id, request = found
        self.inflight[request] = [lease_id, None]
        self.fetched.discard(request)
        if self.stats:
            self.stats.inc_value("scheduler/dequeued/redis")
        return request

    def has_pending_requests(self) -> bool:
        """Work anywhere in the shared crawl: queued, or leased by any worker (us included)."""
        if self.inflight:
            return True
        if self.closing:
            return False
        pipe = self.server.pipeline()
        pipe.zcard(self.keys.requests).zcard(self.keys.leases)
        queued, leased = pipe.execute()
        return bool(queued or leased)

    # --- the page limit of the whole crawl ----------------------------------------------------

    def response_received(self, response: Response, request: Request, spider: Spider) -> None:
        if request in self.inflight:
            self.fetched.add(request)

    def _close(self, reason: str) -> None:
        if self.closing:
            return
        self.closing = True
        logger.info("Shared crawl %(crawl)s reached its page limit (%(n)d)", {"crawl": self.crawl_id,
                                                                             "n": self.max_pages})
        engine = self.crawler.engine
        assert engine is not None
        call_later(0, lambda: deferred_from_coro(engine.close_spider_async(reason=reason)))

    # --- acknowledging ---------------------------------------------------------------------

    def archive_written(self, upto: float) -> None:
        """The store pipeline committed every article it had received by ``upto``."""
        self.written_upto = max(self.written_upto, upto)
        self._ack()

    def _ack(self) -> None:
        ready = [request for request, (_, done) in self.inflight.items()
                 if done is not None and (done <= self.written_upto or not self.waits_for_archive)
                 # past the page limit, requests are dropped unfetched: those go back
                 and (not self.closing or request in self.fetched)]
        if not ready:
            return
        ids = [self.inflight.pop(request)[0] for request in ready]
        self.fetched.difference_update(ready)
        pipe = self.server.pipeline()
        pipe.zrem(self.keys.leases, *ids).hdel(self.keys.leased, *ids).hdel(self.keys.lease_score, *ids)
        pipe.execute()

    def tick(self) -> None:
        """Mark what the engine is done with, acknowledge, renew leases and the heartbeat,
        return expired leases of dead workers to the queue, and wake the engine."""
        engine = self.crawler.engine
        slot = getattr(engine, "_slot", None)
        in_progress = _engine_requests_in_progress(self.crawler) if slot is not None else set()
        now = time.monotonic()
        for request, state in self.inflight.items():
            if state[1] is None and request not in in_progress:
                state[1] = now
        self._ack()
        try:
            if self.max_pages and int(self.server.get(self.keys.pages) or 0) >= self.max_pages:
                self._close(PAGE_LIMIT_CLOSE)  # the budget is used up
            self.server.register_script(_RENEW)(
                keys=[self.keys.leases, self.keys.workers],
                args=[self.lease_seconds, self.worker, *(state[0] for state in self.inflight.values())],
            )
            reclaimed = self.server.register_script(_RECLAIM)(keys=self._lease_keys())
        except Exception as exc:  # noqa: BLE001 - a Redis hiccup: the next tick tries again
            logger.warning("Shared frontier: %(error)s", {"error": exc})
            return
        if reclaimed:
            logger.info("Shared frontier: %(n)d requests of a dead worker returned to the queue",
                        {"n": reclaimed})
        if slot is not None:
            slot.nextcall.schedule()  # look for work now, not at the engine's 5 s heartbeat

    def close(self, reason: str) -> None:
        if self.ticker.running:
            self.ticker.stop()
        self._ack()  # the store pipeline's last write has run by now
        if self.inflight:  # not done, or not written: back to the queue for another worker
            ids = [state[0] for state in self.inflight.values()]
            self.server.register_script(_RELEASE)(keys=self._lease_keys(), args=ids)
            self.inflight.clear()
        cleared = self.server.register_script(_LEAVE)(
            keys=[self.keys.requests, self.keys.leases, self.keys.workers,
                  *(k for k in self.keys.all() if k not in
                    (self.keys.requests, self.keys.leases, self.keys.workers))],
            args=[self.lease_seconds, self.worker, "1" if reason == "finished" else "0"],
        )
        if cleared:
            logger.info("Shared crawl %(crawl)s finished; frontier cleared", {"crawl": self.crawl_id})
        elif reason != "finished":
            logger.info("Keeping the shared frontier for the other workers or the next run "
                        "(run ended: %(reason)s)", {"reason": reason})


class CanonicalRedisDupeFilter(RFPDupeFilter):  # type: ignore[misc]
    """scrapy-redis's dupefilter (a Redis set shared by every worker) keyed by the canonical
    fingerprint, so workers of one shared crawl agree on what is a duplicate."""

    def request_fingerprint(self, request: Request) -> str:
        return canonical_fingerprint(request).hex()
