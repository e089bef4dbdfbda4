"""A durable crawl frontier in Redis (optional, via scrapy-redis).

With ``NEWSARCHIVE_REDIS_URL`` set, a site's pending requests and seen-request
fingerprints live in Redis under ``newsarchive:<site>:*`` instead of in the crawl
process. A crawl that is killed or interrupted leaves them there and the next run of
the site resumes where it stopped; a crawl that finishes clears them, so the next
scheduled run reads listing pages, feeds and sitemaps afresh (scrapy-redis's own
persistent dupefilter would otherwise never let it fetch a seen page again).
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Mapping
from typing import Any

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured, ScrapyDeprecationWarning
from scrapy.settings import Settings

from core.errors import ConfigError

logger = logging.getLogger(__name__)

# scrapy-redis 0.9 still passes spider= to the stats collector
warnings.filterwarnings("ignore", category=ScrapyDeprecationWarning, module="scrapy_redis")


REDIS_URL_SETTING = "NEWSARCHIVE_REDIS_URL"


def shared_frontier_url(profile_settings: Mapping[str, Any],
                        overrides: Mapping[str, Any] | None = None) -> str | None:
    """The Redis URL a crawl of this profile will use, if any (command line > environment >
    profile, the settings precedence), read before Scrapy's settings exist: a crawl with
    one joins a shared crawl, and takes the site lock shared."""
    for layer in ((overrides or {}), os.environ, profile_settings):
        if layer.get(REDIS_URL_SETTING):
            return str(layer[REDIS_URL_SETTING])
    return None


def frontier_keys(site: str) -> tuple[str, str]:
    """The Redis keys of a site's request queue and seen-request fingerprints."""
    return f"newsarchive:{site}:requests", f"newsarchive:{site}:dupefilter"


def apply_redis_frontier(settings: Settings, site: str) -> None:
    """Switch the scheduler to scrapy-redis when NEWSARCHIVE_REDIS_URL is set."""
    url = settings.get("NEWSARCHIVE_REDIS_URL")
    if not url:
        return
    import redis  # a dependency of scrapy-redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=5).ping()
    except (redis.RedisError, ValueError) as exc:
        raise ConfigError(f"Redis at {url} is not usable: {exc}") from exc
    queue_key, dupefilter_key = frontier_keys(site)
    for name, value in {
        "SCHEDULER": "scrapy_redis.scheduler.Scheduler",
        "DUPEFILTER_CLASS": "scrapy_redis.dupefilter.RFPDupeFilter",
        "REDIS_URL": url,
        "SCHEDULER_QUEUE_KEY": queue_key,
        "SCHEDULER_DUPEFILTER_KEY": dupefilter_key,
        "SCHEDULER_PERSIST": True,  # RedisFrontier clears it when a run finishes
    }.items():
        settings.set(name, value, priority="spider")


class RedisFrontier:
    """Extension: clears a site's frontier when its crawl finished normally."""

    def __init__(self, url: str) -> None:
        self.url = url

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RedisFrontier:
        url = crawler.settings.get("NEWSARCHIVE_REDIS_URL")
        if not url:
            raise NotConfigured("NEWSARCHIVE_REDIS_URL is not set")
        extension = cls(url)
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def _server(self) -> Any:
        import redis

        return redis.Redis.from_url(self.url, socket_connect_timeout=5)

    def spider_opened(self, spider: Spider) -> None:
        queue_key, _ = frontier_keys(getattr(spider, "site", spider.name))
        pending = self._server().zcard(queue_key)
        if pending:
            logger.info(
                "Resuming %(site)s: %(n)d requests left by an earlier run",
                {"site": spider.name, "n": pending},
            )

    def spider_closed(self, spider: Spider, reason: str) -> None:
        if reason != "finished":
            logger.info(
                "Keeping the Redis frontier for the next run (run ended: %(reason)s)", {"reason": reason}
            )
            return
        self._server().delete(*frontier_keys(getattr(spider, "site", spider.name)))
