"""StoreArticlePipeline: the Scrapy adapter of the ingest path's writer (pipelines/ingest.py).

Articles are buffered and written in one transaction every ``STORE_BATCH_SIZE`` articles
or every ``STORE_FLUSH_SECONDS`` (a LoopingCall), and when the spider closes, so a crawl
killed with SIGKILL loses at most the last few seconds of work, and the next run (which
skips what is stored) neither loses nor duplicates articles. Each batch updates the run's
record in its own transaction, so a killed crawl's run shows what it committed.

The writes run on one dedicated writer thread, never on the reactor: a commit that waits
for SQLite's lock (another process writing, up to ``busy_timeout``) must not stall the
downloads. One write is in flight at a time; while it runs new articles gather for the
next one, and when more than four batches are waiting ``process_item`` waits too, so a slow
disk slows the crawl instead of filling memory.

Outcomes are counted as ``newsarchive/stored/<new|updated|unchanged|duplicate>``; an
article that cannot be stored is counted as ``newsarchive/errors/storage`` (the run then
ends ``failed``), its error logged once however often it repeats. When every article of
several batches in a row fails, the archive is unusable (a full disk, a read-only file, a
lost server) and the crawl stops instead of fetching pages it cannot keep.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.utils.asyncio import call_later
from scrapy.utils.defer import deferred_from_coro, maybe_deferred_to_future
from twisted.internet.defer import Deferred, succeed
from twisted.internet.task import LoopingCall
from twisted.internet.threads import deferToThreadPool
from twisted.python.failure import Failure
from twisted.python.threadpool import ThreadPool

from core.items import ArticleItem, FetchedPage
from core.keys import (
    STAT_PAGES,
    STAT_RUN_ID,
    STAT_STORAGE_FAILURE,
    STAT_TEMPLATE_CLEANED,
    STAT_TEMPLATE_FAILURE,
    error_key,
    stored_key,
)
from core.signals import archive_written
from pipelines.crawl_archive import crawl_archive
from pipelines.ingest import (
    ArchiveWriter,
    Pending,
    WriteReport,
    pending_url,
    refresh_templates,
    store_pending,
)

__all__ = ["StoreArticlePipeline"]

logger = logging.getLogger(__name__)

_BACKLOG_BATCHES = 4
# this many batches in a row with nothing stored: the archive cannot be written, stop
_FAILED_BATCHES_TO_STOP = 3


def _reactor() -> Any:
    # imported when used: importing it at module level would install the default reactor
    # before Scrapy installs the one its settings ask for
    from twisted.internet import reactor

    return reactor


class StoreArticlePipeline:
    """Batched, periodic writes of ArticleItems (and 304 revisits) to NEWSARCHIVE_DB."""

    def __init__(self, crawler: Crawler, batch_size: int, flush_seconds: float) -> None:
        self.crawler = crawler
        self.batch_size = batch_size
        self.flush_seconds = flush_seconds
        self.pending: list[Pending] = []
        self.writer: ArchiveWriter[Pending] | None = None
        self.failed_batches = 0
        self.pool: ThreadPool | None = None
        self.task: LoopingCall | None = None
        self.writing = False
        self.lost = False  # a write lost items (see _announce)
        self._idle_waiters: list[Deferred[None]] = []
        self._stop_trigger: Any = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StoreArticlePipeline:
        if not crawler.settings.get("NEWSARCHIVE_DB"):
            raise NotConfigured("NEWSARCHIVE_DB must be set to enable StoreArticlePipeline")
        return cls(
            crawler,
            batch_size=max(1, crawler.settings.getint("STORE_BATCH_SIZE")),
            flush_seconds=crawler.settings.getfloat("STORE_FLUSH_SECONDS"),
        )

    def open_spider(self) -> None:
        self.writer = ArchiveWriter(crawl_archive(self.crawler), store_pending("crawl"), describe=pending_url)
        self.pool = ThreadPool(minthreads=1, maxthreads=1, name="newsarchive-writer")
        self.pool.start()
        # should the spider never close (a crash in the engine), the thread must not keep the
        # process alive after the reactor stops
        self._stop_trigger = _reactor().addSystemEventTrigger("during", "shutdown", self.pool.stop)
        self.task = LoopingCall(self.flush)
        self.task.start(self.flush_seconds, now=False)

    async def close_spider(self) -> None:
        if self.task is not None and self.task.running:
            self.task.stop()
        while self.writing or self.pending:
            await maybe_deferred_to_future(self._idle() if self.writing else self.flush())
        if self.writer is not None:
            self.writer.failures.summary()
        await maybe_deferred_to_future(self._refresh_template())
        if self.pool is not None:
            _reactor().removeSystemEventTrigger(self._stop_trigger)
            self.pool.stop()
            self.pool = None

    async def process_item(self, item: Any) -> Any:
        if isinstance(item, ArticleItem) or (isinstance(item, FetchedPage) and item.not_modified):
            self.pending.append(item)
            if len(self.pending) >= self.batch_size:
                self.flush()
            if len(self.pending) >= _BACKLOG_BATCHES * self.batch_size:
                # the writer is behind: hold this item until it catches up
                await maybe_deferred_to_future(self._idle())
        return item

    # --- handing work to the writer thread -----------------------------------------------

    def flush(self) -> Deferred[None]:
        """Send what is pending to the writer thread; fires once it is written. While a write
        runs this only waits for it: the next flush (timer, batch, close) takes the rest."""
        if self.writing:
            return self._idle()
        taken_at = time.monotonic()
        if not self.pending or self.writer is None or self.pool is None:
            if not self.pending:
                self._announce(taken_at)
            return succeed(None)
        batch, self.pending = self.pending, []
        assert self.crawler.stats is not None
        self.writer.run_id = self.crawler.stats.get_value(STAT_RUN_ID)  # known once the spider opened
        progress = {"pages_fetched": int(self.crawler.stats.get_value(STAT_PAGES, 0))}
        self.writing = True
        d: Deferred[Any] = deferToThreadPool(_reactor(), self.pool, self.writer.write, batch, progress)
        d.addCallbacks(self._count, self._write_crashed)
        d.addCallback(lambda _: self._announce(taken_at))
        d.addBoth(self._written)
        return self._idle()

    def _announce(self, upto: float) -> None:
        """Tell the shared frontier that everything received by ``upto`` is committed. After a
        write that lost items, never again this run: the frontier then hands those pages
        (and the rest of this worker's) to another worker or the next run."""
        if not self.lost:
            self.crawler.signals.send_catch_log(signal=archive_written, upto=upto)

    def _idle(self) -> Deferred[None]:
        """A Deferred that fires when no write is in flight."""
        if not self.writing:
            return succeed(None)
        waiter: Deferred[None] = Deferred()
        self._idle_waiters.append(waiter)
        return waiter

    def _written(self, _: object) -> None:
        self.writing = False
        waiters, self._idle_waiters = self._idle_waiters, []
        for waiter in waiters:
            waiter.callback(None)

    def _count(self, report: WriteReport) -> None:
        if report.failed:
            self.lost = True
        assert self.crawler.stats is not None
        for outcome, n in report.outcomes.items():
            self.crawler.stats.inc_value(stored_key(outcome), n)
        if report.failed:
            self.crawler.stats.inc_value(error_key("storage"), report.failed)
            if self.writer is not None and not self.crawler.stats.get_value(STAT_STORAGE_FAILURE):
                self.crawler.stats.set_value(STAT_STORAGE_FAILURE, self.writer.failures.first())
        self.failed_batches = self.failed_batches + 1 if report.failed and not report.outcomes else 0
        if self.failed_batches == _FAILED_BATCHES_TO_STOP and self.crawler.engine is not None:
            logger.error("Nothing could be stored in %(n)d batches in a row: stopping the crawl",
                         {"n": self.failed_batches})
            engine = self.crawler.engine
            call_later(0, lambda: deferred_from_coro(engine.close_spider_async(reason="archive_error")))

    def _write_crashed(self, failure: Failure) -> None:
        # not a storage error (those are counted per item): a bug; the timer must keep running
        self._inc(error_key("storage_bug"))
        self.lost = True
        logger.error("Storing a batch failed unexpectedly", exc_info=failure.value)

    def _refresh_template(self) -> Deferred[None]:
        """After a run, learn the lines every article of the site repeats (footer, ICP line,
        "related news") and strip them, as ``import`` does after a file. Incremental, so it
        runs after a run that stored nothing too: it then reads only what an earlier run
        stored and could not count (its refresh failed), which is nothing most of the time."""
        site = getattr(self.crawler.spider, "site", None)
        if not site or self.writer is None or self.pool is None:
            return succeed(None)
        if not self.crawler.settings.getbool("NEWSARCHIVE_LEARN_TEMPLATES"):
            return succeed(None)
        archive = self.writer.archive
        d: Deferred[Any] = deferToThreadPool(_reactor(), self.pool, refresh_templates, archive, [site])

        def done(cleaned: int) -> None:
            if cleaned:
                assert self.crawler.stats is not None
                self.crawler.stats.set_value(STAT_TEMPLATE_CLEANED, cleaned)

        def failed(failure: Failure) -> None:
            # the articles are stored: not a storage error; the next refresh counts them
            assert self.crawler.stats is not None
            self._inc(error_key("templates"))
            message = str(failure.value).strip()
            why = message.splitlines()[0] if message else type(failure.value).__name__
            self.crawler.stats.set_value(STAT_TEMPLATE_FAILURE, why)
            logger.error(
                "Cannot refresh the template of %(site)s: %(error)s", {"site": site, "error": failure.value}
            )

        d.addCallbacks(done, failed)
        return d

    def _inc(self, key: str) -> None:
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value(key)
