"""Crawl-level extensions: the run record (issue 5) and progress output.

:class:`CrawlRunRecorder` opens a ``crawl_run`` row when the spider opens (first marking
runs left open by killed processes as interrupted) and closes it with a status, counts and
errors by kind when the spider closes. :class:`CrawlProgress` shows a live table on a
terminal and logs a stats line every so often otherwise.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from typing import Any

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import Request, Response
from scrapy.logformatter import LogFormatter, LogFormatterResult
from scrapy.utils.asyncio import call_later
from scrapy.utils.defer import deferred_from_coro
from twisted.internet.task import LoopingCall
from twisted.internet.threads import deferToThread
from twisted.python.failure import Failure

from core.keys import (
    DROPPED_PREFIX,
    ERROR_PREFIX,
    STAT_CRAWL_ID,
    STAT_INCREMENTAL_SKIPPED,
    STAT_KNOWN_CACHE_PEAK,
    STAT_KNOWN_QUERIES,
    STAT_PAGES,
    STAT_PAGES_OK,
    STAT_RUN_ID,
    STAT_RUN_REASON,
    STAT_RUN_STATUS,
    STAT_SHARED_DELAY_MS,
    STAT_STORAGE_FAILURE,
    STAT_TEMPLATE_FAILURE,
    stored_key,
)
from crawler.pagelimit import CLOSE_REASON as PAGE_LIMIT_CLOSE
from crawler.pagelimit import limit_reason
from crawler.robots import is_robots_request
from crawler.runner import error_kind
from pipelines.crawl_archive import crawl_archive
from storage import Archive, StorageError, finish_run, mark_dead_runs_interrupted, start_run
from storage.runs import HEARTBEAT_SECONDS, RunStatus, heartbeat_run

__all__ = ["ArchiveLogFormatter", "CrawlProgress", "CrawlRunRecorder", "crawl_archive", "run_counts"]

logger = logging.getLogger(__name__)
progress_logger = logging.getLogger("newsarchive.progress")


def run_counts(stats: dict[str, Any]) -> dict[str, int]:
    """Pages and articles of a run, from the crawler stats."""
    return {
        "pages_fetched": int(stats.get(STAT_PAGES, 0)),
        "articles_new": int(stats.get(stored_key("new"), 0)),
        "articles_updated": int(stats.get(stored_key("updated"), 0)),
        "articles_unchanged": int(stats.get(stored_key("unchanged"), 0)),
        "articles_duplicate": int(stats.get(stored_key("duplicate"), 0)),
        # what the incremental check skipped, and what it asked the archive (crawl_run.stats)
        **{
            name: int(stats[key])
            for name, key in (("incremental_skipped", STAT_INCREMENTAL_SKIPPED),
                              ("known_url_queries", STAT_KNOWN_QUERIES),
                              ("known_url_cache_peak", STAT_KNOWN_CACHE_PEAK),
                              ("shared_delay_ms", STAT_SHARED_DELAY_MS))
            if key in stats
        },
        # pages not stored, by reason (listing_page, not_html, ...): kept in crawl_run.stats
        **{
            "dropped_" + key.removeprefix(DROPPED_PREFIX): int(value)
            for key, value in stats.items()
            if key.startswith(DROPPED_PREFIX)
        },
    }


def run_errors(stats: dict[str, Any]) -> dict[str, int]:
    return {k.removeprefix(ERROR_PREFIX): int(v) for k, v in stats.items() if k.startswith(ERROR_PREFIX)}


class CrawlRunRecorder:
    """Records each crawl as a ``crawl_run``: ok, failed (with a reason) or interrupted."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.run_id: int | None = None
        self.heartbeat: LoopingCall | None = None
        self.archive_failure: str | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CrawlRunRecorder:
        if not crawler.settings.get("NEWSARCHIVE_DB"):
            raise NotConfigured("NEWSARCHIVE_DB must be set to record crawl runs")
        ext = cls(crawler)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(ext.response_received, signal=signals.response_received)
        crawler.signals.connect(ext.spider_error, signal=signals.spider_error)
        return ext

    def spider_opened(self, spider: Spider) -> None:
        site = getattr(spider, "site", spider.name)
        try:
            archive = crawl_archive(self.crawler)
            with archive.transaction() as session:
                stale = mark_dead_runs_interrupted(session)
                self.run_id = start_run(session, site, pid=os.getpid(),
                                        crawl_id=self.crawler.stats.get_value(STAT_CRAWL_ID))
        except StorageError as exc:
            # a crawl whose results cannot be kept is not worth the site's bandwidth
            self._inc("storage")
            self.archive_failure = str(exc)
            # reported with the run's result (the crawl command's Error line, the stats)
            logger.info("Cannot record the crawl run of %(site)s: %(error)s", {"site": site, "error": exc})
            engine = self.crawler.engine
            call_later(0, lambda: deferred_from_coro(engine.close_spider_async(reason="archive_error")))
            return
        if stale:
            logger.warning("Marked %(n)d run(s) left open by dead processes as interrupted", {"n": stale})
        assert self.crawler.stats is not None
        self.crawler.stats.set_value(STAT_RUN_ID, self.run_id)
        # a heartbeat in the run, so that a crawl on any host can tell this one died
        self.heartbeat = LoopingCall(lambda: deferToThread(self._beat, archive))
        self.heartbeat.start(HEARTBEAT_SECONDS, now=False)

    def _beat(self, archive: Archive) -> None:
        try:
            with archive.transaction() as session:
                heartbeat_run(session, self.run_id or 0)
        except StorageError as exc:  # the next beat tries again; the run's writes report it
            logger.info("Cannot refresh the run's heartbeat: %(error)s", {"error": exc})

    def response_received(self, response: Response, request: Request, spider: Spider) -> None:
        if is_robots_request(request):
            return
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value(STAT_PAGES)
        if response.status < 400:
            self.crawler.stats.inc_value(STAT_PAGES_OK)

    def spider_error(self, failure: Failure, response: Response, spider: Spider) -> None:
        self._inc("spider_" + error_kind(failure.value))

    def _inc(self, kind: str) -> None:
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value(ERROR_PREFIX + kind)

    def outcome(self, reason: str) -> tuple[RunStatus, str | None]:
        """(status, reason) of the run from how the spider closed and what it saw."""
        assert self.crawler.stats is not None
        stats = self.crawler.stats.get_stats()
        errors = run_errors(stats)
        if self.archive_failure is not None:
            return "failed", f"cannot write the archive: {self.archive_failure}"
        if reason == "shutdown":
            return "interrupted", "stopped by a signal (Ctrl-C or SIGTERM)"
        if errors.get("storage"):
            # any article lost fails the run, however many others were stored
            why = stats.get(STAT_STORAGE_FAILURE)
            detail = f" ({why})" if why else ""
            return "failed", f"cannot write the archive: {errors['storage']} articles not stored{detail}"
        if reason == "archive_error":
            return "failed", "cannot write the archive"
        if errors.get("templates"):
            why = stats.get(STAT_TEMPLATE_FAILURE) or "unknown error"
            return "failed", (f"cannot refresh the site template ({why}); every article is stored, "
                              "the next import or crawl of the site learns it")
        if (not stats.get(STAT_PAGES) and not errors and stats.get(STAT_CRAWL_ID)
                and (reason in ("finished", PAGE_LIMIT_CLOSE) or reason.startswith("closespider_"))):
            # a worker of a shared crawl that had nothing to do: the others fetched it all
            return "ok", "a worker of a shared crawl: nothing left for it to fetch"
        if not stats.get(STAT_PAGES_OK):
            summary = ", ".join(f"{k} x{v}" for k, v in sorted(errors.items(), key=lambda kv: -kv[1]))
            if not stats.get(STAT_PAGES):
                return "failed", f"site unreachable: {summary or 'no response'}"
            return "failed", f"site answered only errors: {summary}"
        if reason == PAGE_LIMIT_CLOSE:
            return "ok", limit_reason(self.crawler.settings.getint("NEWSARCHIVE_MAX_PAGES"))
        if reason != "finished" and not reason.startswith("closespider_"):
            return "failed", f"crawl stopped: {reason}"
        return "ok", None

    def spider_closed(self, spider: Spider, reason: str) -> None:
        if self.heartbeat is not None and self.heartbeat.running:
            self.heartbeat.stop()
        assert self.crawler.stats is not None
        status, why = self.outcome(reason)
        self.crawler.stats.set_value(STAT_RUN_STATUS, status)
        self.crawler.stats.set_value(STAT_RUN_REASON, why)
        stats = self.crawler.stats.get_stats()
        if self.run_id is None:
            return
        try:
            with crawl_archive(self.crawler).transaction() as session:
                finish_run(session, self.run_id, status=status, stats=run_counts(stats),
                           errors=run_errors(stats), reason=why)
        except StorageError as exc:
            logger.error("Cannot finish the crawl run record %(id)s: %(error)s",
                         {"id": self.run_id, "error": exc})


def _item_url(item: Any) -> str:
    page = getattr(item, "page", item)
    return str(getattr(page, "url", type(item).__name__))


class ArchiveLogFormatter(LogFormatter):
    """Log items by URL: the default repr would dump whole response bodies into the log."""

    def scraped(self, item: Any, response: Response | Failure | None, spider: Spider) -> LogFormatterResult:
        result = super().scraped(item, response, spider)
        result["args"] = {"src": response if isinstance(response, Response) else spider.name,
                          "item": _item_url(item)}
        return result

    def dropped(self, item: Any, exception: BaseException, response: Response | Failure | None,
                spider: Spider) -> LogFormatterResult:
        result = super().dropped(item, exception, response, spider)
        result["msg"] = "Dropped: %(exception)s"
        return result

    def item_error(self, item: Any, exception: BaseException, response: Response | Failure | None,
                   spider: Spider) -> LogFormatterResult:
        result = super().item_error(item, exception, response, spider)
        result["args"] = {"item": _item_url(item)}
        return result


class _LiveBoard:
    """One rich Live table for every crawler of the process (rich allows one at a time)."""

    def __init__(self) -> None:
        self.rows: dict[str, CrawlProgress] = {}
        self.live: Any = None
        self.log_streams: list[tuple[logging.StreamHandler[Any], Any]] = []

    def add(self, progress: CrawlProgress) -> None:
        from rich.console import Console
        from rich.live import Live

        self.rows[progress.site] = progress
        if self.live is None:
            self.live = Live(self.render(), console=Console(stderr=True), auto_refresh=False,
                             transient=False)
            self.live.start()
            # log lines go through the live display (which redirects sys.stderr) instead of
            # tearing through it
            for handler in logging.root.handlers:
                if isinstance(handler, logging.StreamHandler) and handler.stream is sys.__stderr__:
                    self.log_streams.append((handler, handler.setStream(sys.stderr)))

    def render(self) -> Any:
        from rich.table import Table

        table = Table(title="newsarchive crawl", expand=False)
        for column in ("site", "pages", "new", "updated", "unchanged", "skipped", "errors", "pages/min"):
            table.add_column(column, justify="left" if column == "site" else "right")
        for site, progress in self.rows.items():
            table.add_row(site, *(str(v) for v in progress.snapshot()))
        return table

    def refresh(self) -> None:
        if self.live is not None:
            self.live.update(self.render(), refresh=True)

    def done(self, progress: CrawlProgress) -> None:
        progress.finished = True
        self.refresh()
        if self.live is not None and all(p.finished for p in self.rows.values()):
            self.live.stop()
            self.live = None
            self.rows.clear()
            for handler, stream in self.log_streams:
                handler.setStream(stream)
            self.log_streams.clear()


_board = _LiveBoard()


class CrawlProgress:
    """Live progress on a terminal; a stats line every NEWSARCHIVE_PROGRESS_INTERVAL s otherwise."""

    def __init__(self, crawler: Crawler, mode: str, interval: float) -> None:
        self.crawler = crawler
        self.mode = mode
        self.interval = interval
        self.site = "?"
        self.started = time.monotonic()
        self.finished = False
        self.task: LoopingCall | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CrawlProgress:
        mode = str(crawler.settings.get("NEWSARCHIVE_PROGRESS")).lower()
        if mode in ("off", "false", "0", "none"):
            raise NotConfigured("NEWSARCHIVE_PROGRESS is off")
        if mode == "auto":
            mode = "live" if sys.stderr.isatty() else "log"
        interval = crawler.settings.getfloat("NEWSARCHIVE_PROGRESS_INTERVAL")
        ext = cls(crawler, mode, 0.5 if mode == "live" else interval)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def snapshot(self) -> tuple[int, int, int, int, int, int, float]:
        assert self.crawler.stats is not None
        stats = self.crawler.stats.get_stats()
        counts = run_counts(stats)
        minutes = max(time.monotonic() - self.started, 1e-6) / 60
        return (
            counts["pages_fetched"],
            counts["articles_new"],
            counts["articles_updated"],
            counts["articles_unchanged"],
            int(stats.get(STAT_INCREMENTAL_SKIPPED, 0)),
            sum(run_errors(stats).values()),
            round(counts["pages_fetched"] / minutes, 1),
        )

    def spider_opened(self, spider: Spider) -> None:
        self.site = getattr(spider, "site", spider.name)
        self.started = time.monotonic()
        if self.mode == "live":
            _board.add(self)
            self.task = LoopingCall(_board.refresh)
        else:
            self.task = LoopingCall(self.log_line)
        self.task.start(self.interval, now=False)

    def log_line(self) -> None:
        pages, new, updated, unchanged, skipped, errors, rate = self.snapshot()
        progress_logger.info(
            "%(site)s: %(pages)d pages (%(rate).1f/min), articles %(new)d new, %(updated)d updated, "
            "%(unchanged)d unchanged, %(skipped)d skipped as known, %(errors)d errors",
            {"site": self.site, "pages": pages, "rate": rate, "new": new, "updated": updated,
             "unchanged": unchanged, "skipped": skipped, "errors": errors},
        )

    def spider_closed(self, spider: Spider, reason: str) -> None:
        if self.task is not None and self.task.running:
            self.task.stop()
        if self.mode == "live":
            _board.done(self)
        elif time.monotonic() - self.started >= self.interval:
            self.log_line()  # the last word of a long crawl; a short one has said nothing yet
