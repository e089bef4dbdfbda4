"""Run crawls in this process: build the settings, start Scrapy, report each run.

Twisted's reactor cannot be restarted, so :func:`run_crawl` may be called once per
process; the CLI's ``crawl`` command and the scheduler's child processes do exactly that.
Several sites are crawled side by side in one ``CrawlerProcess``, one crawler each.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from typing import Any

# Imported here, near the bottom of the stack, not first by the downloader's start deep in
# the reactor: its module body calls inspect.stack() three times (Scrapy's deprecated class
# aliases), which reads the source of every frame on the stack (0.1 s of CPU there)
import scrapy.core.downloader.contextfactory  # noqa: F401
from scrapy.crawler import Crawler, CrawlerProcess
from scrapy.settings import Settings
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet import error as net_error
from twisted.python.failure import Failure

from core.errors import ConfigError
from core.keys import STAT_RUN_ID, STAT_RUN_REASON, STAT_RUN_STATUS
from core.memory import release_large_blocks
from crawler.frontier_url import shared_frontier_url
from crawler.identity import user_agent
from crawler.profiles import SiteProfile
from crawler.setting_check import CUSTOM_SETTINGS, check_setting, custom_names

__all__ = [
    "ENV_PRIORITY",
    "ENV_SETTINGS",
    "RunResult",
    "apply_site_settings",
    "base_settings",
    "error_kind",
    "run_crawl",
]

logger = logging.getLogger(__name__)

# Between the site profile ("spider", 30) and the command line ("cmdline", 40).
ENV_PRIORITY = 35

# environment variable -> Scrapy setting
ENV_SETTINGS = {
    "NEWSARCHIVE_DB": "NEWSARCHIVE_DB",
    "NEWSARCHIVE_CONTACT": "NEWSARCHIVE_CONTACT",
    "NEWSARCHIVE_USER_AGENT": "USER_AGENT",
    "NEWSARCHIVE_EXTRACT_WORKERS": "EXTRACT_WORKERS",
    "NEWSARCHIVE_PROGRESS": "NEWSARCHIVE_PROGRESS",
    "NEWSARCHIVE_REDIS_URL": "NEWSARCHIVE_REDIS_URL",
}

_COOKIES_MIDDLEWARE = "scrapy.downloadermiddlewares.cookies.CookiesMiddleware"


def apply_site_settings(settings: Settings, profile: SiteProfile) -> None:
    """Layer the site profile and the environment over the project defaults.

    Called while the settings are still mutable (from the spider's ``from_crawler``), so
    ``scrapy crawl news`` and ``newsarchive crawl`` read settings the same way.
    """
    for name, value in profile.settings.items():
        settings.set(name, value, priority="spider")
    if profile.max_pages:
        settings.set("NEWSARCHIVE_MAX_PAGES", profile.max_pages, priority="spider")
    for env, name in ENV_SETTINGS.items():
        if os.environ.get(env):
            settings.set(name, os.environ[env], priority=ENV_PRIORITY)
    if (settings.getpriority("USER_AGENT") or 0) < ENV_PRIORITY and "USER_AGENT" not in profile.settings:
        contact = settings.get("NEWSARCHIVE_CONTACT")
        settings.set("USER_AGENT", user_agent(contact), priority="spider")
    if not settings.getbool("COOKIES_ENABLED"):
        # the middleware would only raise NotConfigured, after its module has imported
        # tldextract and requests (0.05-0.1 s of every crawl's start-up); Scrapy imports
        # every middleware it is given, a disabled one (None) too, to normalise the names
        base = settings.getdict("DOWNLOADER_MIDDLEWARES_BASE")
        if base.pop(_COOKIES_MIDDLEWARE, None) is not None:
            settings.set("DOWNLOADER_MIDDLEWARES_BASE", base, priority="spider")
    if settings.get("NEWSARCHIVE_REDIS_URL"):  # a shared crawl, see crawler/frontier.py
        from crawler.frontier import apply_redis_frontier  # scrapy-redis: for shared crawls only

        apply_redis_frontier(settings, profile.name)


def base_settings(*, db: str | None, overrides: dict[str, str] | None = None,
                  max_pages: int | None = None) -> Settings:
    """Project defaults plus command-line flags (the top layer)."""
    settings = Settings()
    settings.setmodule("crawler.settings", priority="project")
    settings.set("LOG_INSTALL_ROOT_HANDLER", False, priority="project")  # the CLI configures logging
    if db:
        settings.set("NEWSARCHIVE_DB", db, priority="cmdline")
    for name, value in (overrides or {}).items():
        settings.set(name, value, priority="cmdline")
    if max_pages is not None:
        settings.set("NEWSARCHIVE_MAX_PAGES", max_pages, priority="cmdline")
    return settings


def parse_overrides(pairs: tuple[str, ...] | list[str]) -> dict[str, str]:
    """``-s NAME=VALUE`` flags as a dict; ConfigError for one without ``=``, for a name no
    one declares (with the nearest known name) or a value that cannot be the type of the
    setting's default (a number, a boolean, a JSON object): see crawler/setting_check.py."""
    result: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise ConfigError(f"bad setting {pair!r}: expected NAME=VALUE")
        result[name.strip()] = value
    custom = custom_names(result.get(CUSTOM_SETTINGS))
    for name, value in result.items():
        problem = check_setting(name, value, custom)
        if problem:
            raise ConfigError(f"bad setting {name}={value!r}: {problem}")
    return result


_ERROR_KINDS: list[tuple[type[BaseException] | tuple[type[BaseException], ...], str]] = [
    ((net_error.DNSLookupError,), "dns"),
    ((net_error.ConnectionRefusedError,), "connection_refused"),
    ((net_error.TimeoutError, net_error.TCPTimedOutError), "timeout"),
    ((net_error.ConnectError, net_error.ConnectionLost, net_error.ConnectionDone), "connection"),
]


def error_kind(exc: BaseException) -> str:
    """A short, stable name for why a request failed: ``http_404``, ``dns``, ``timeout`` …"""
    if isinstance(exc, HttpError) and exc.response is not None:
        return f"http_{exc.response.status}"
    for types, kind in _ERROR_KINDS:
        if isinstance(exc, types):
            return kind
    name = type(exc).__name__
    scrapy_kinds = {
        "CannotResolveHostError": "dns",
        "DownloadConnectionRefusedError": "connection_refused",
        "DownloadTimeoutError": "timeout",
        "DownloadCancelledError": "too_large",  # DOWNLOAD_MAXSIZE; nothing else cancels here
        "ResponseDataLossError": "data_loss",
        "DownloadFailedError": "connection",
    }
    if name in scrapy_kinds:
        return scrapy_kinds[name]
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")


@dataclass
class RunResult:
    """What one site's crawl did, as the run recorder saw it."""

    site: str
    status: str  # ok | failed | interrupted | skipped
    reason: str | None = None
    run_id: int | None = None
    stats: dict[str, Any] = field(default_factory=dict)


def run_crawl(
    profiles: list[SiteProfile],
    *,
    db: str,
    overrides: dict[str, str] | None = None,
    max_pages: int | None = None,
) -> list[RunResult]:
    """Crawl the given sites side by side in this process and return one result each.

    A site already being crawled by another process (its lock is held) is skipped; with a
    shared frontier (NEWSARCHIVE_REDIS_URL) the lock is taken shared, so workers join one
    shared crawl of the site and only a crawl without one is refused.
    """
    from crawler.schedule import lock_held_by_parent, site_lock  # the lock lives with the scheduler

    release_large_blocks()  # downloaded bodies, decoded texts, pickles: returned when freed
    settings = base_settings(db=db, overrides=overrides, max_pages=max_pages)
    results: dict[str, RunResult] = {}
    crawlers: dict[str, Crawler] = {}
    locks = []
    process = _quiet_process(settings)
    for profile in profiles:
        if not lock_held_by_parent():
            shared = shared_frontier_url(profile.settings, overrides) is not None
            lock = site_lock(db, profile.name, shared=shared)
            if not lock.try_acquire():
                results[profile.name] = RunResult(
                    profile.name, "skipped", "another crawl of this site is running"
                    + ("" if shared else " (or a shared crawl of it, with NEWSARCHIVE_REDIS_URL)")
                )
                continue
            locks.append(lock)
        crawler = process.create_crawler("news")  # found by SPIDER_MODULES
        crawlers[profile.name] = crawler
        deferred = process.crawl(crawler, profile=profile)
        deferred.addErrback(_crawl_failed, profile.name, results, db)
    try:
        if crawlers:
            process.start()
    finally:
        for lock in locks:
            lock.release()
    for name, crawler in crawlers.items():
        if name in results:
            continue
        stats = crawler.stats.get_stats() if crawler.stats is not None else {}
        results[name] = RunResult(
            site=name,
            status=stats.get(STAT_RUN_STATUS, "failed"),
            reason=stats.get(STAT_RUN_REASON),
            run_id=stats.get(STAT_RUN_ID),
            stats=stats,
        )
    return [results[p.name] for p in profiles]


def _quiet_process(settings: Settings) -> CrawlerProcess:
    """A CrawlerProcess that logs through the caller's logging setup: Scrapy pins its own
    logger to DEBUG, which would flood a non-verbose ``newsarchive crawl``."""
    logging.disable(max(logging.root.level - 1, logging.NOTSET))  # Scrapy's startup banner
    try:
        process = CrawlerProcess(settings)
    finally:
        logging.disable(logging.NOTSET)
    logging.getLogger("scrapy").setLevel(logging.NOTSET)
    logging.getLogger("scrapy.downloadermiddlewares.robotstxt").addFilter(_robots_failure)
    return process


def _robots_failure(record: logging.LogRecord) -> bool:
    """Scrapy logs an unreachable robots.txt as an ERROR with a traceback. The page fetch
    fails the same way and is counted by kind and reported with the run, so this is
    detail: one line, shown with ``-v`` only."""
    record.exc_info = None
    record.exc_text = None
    record.levelno, record.levelname = logging.INFO, "INFO"
    return logging.root.level <= logging.INFO


def _crawl_failed(failure: Failure, site: str, results: dict[str, RunResult], db: str) -> None:
    """A crawl that could not even start (a bad setting, an unusable Redis): recorded as a
    failed run with the reason, reported by the caller; the other sites go on."""
    from crawler.schedule import record_failed_run
    from storage import StorageError, open_archive

    reason = str(failure.value).splitlines()[0] if str(failure.value) else type(failure.value).__name__
    logger.info("Crawl of %(site)s could not start: %(reason)s", {"site": site, "reason": reason})
    run_id = None
    try:
        with open_archive(db) as archive:
            run_id = record_failed_run(archive, site, reason)
    except StorageError as exc:
        logger.error("Cannot record the failed run of %(site)s: %(error)s", {"site": site, "error": exc})
    results[site] = RunResult(site, "failed", reason, run_id)
