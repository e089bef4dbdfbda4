"""StoreArticlePipeline: the one writer to the archive.

Articles are buffered and written in one transaction every ``STORE_BATCH_SIZE`` articles
or every ``STORE_FLUSH_SECONDS`` (a LoopingCall), and when the spider closes, so a crawl
killed with SIGKILL loses at most the last few seconds of work, and the next run (which
skips what is stored) neither loses nor duplicates articles. Outcomes are counted as
``newsarchive/stored/<new|updated|unchanged|duplicate>``; a write that fails is logged
with its URL and counted as ``newsarchive/errors/storage``, never dropped silently.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from twisted.internet.task import LoopingCall

from crawler.extensions import STORED_PREFIX, crawl_archive
from crawler.items import ArticleItem, FetchedPage
from crawler.runner import STAT_RUN_ID
from storage import Archive, StorageError, mark_not_modified, refresh_site_templates, store_article

__all__ = ["StoreArticlePipeline"]

logger = logging.getLogger(__name__)

Pending = ArticleItem | FetchedPage  # FetchedPage only for a 304 revisit


class StoreArticlePipeline:
    """Batched, periodic writes of ArticleItems (and 304 revisits) to NEWSARCHIVE_DB."""

    def __init__(self, crawler: Crawler, batch_size: int, flush_seconds: float) -> None:
        self.crawler = crawler
        self.batch_size = batch_size
        self.flush_seconds = flush_seconds
        self.pending: list[Pending] = []
        self.archive: Archive | None = None
        self.task: LoopingCall | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StoreArticlePipeline:
        if not crawler.settings.get("NEWSARCHIVE_DB"):
            raise NotConfigured("NEWSARCHIVE_DB must be set to enable StoreArticlePipeline")
        return cls(
            crawler,
            batch_size=max(1, crawler.settings.getint("STORE_BATCH_SIZE", 50)),
            flush_seconds=crawler.settings.getfloat("STORE_FLUSH_SECONDS", 2.0),
        )

    def open_spider(self) -> None:
        self.archive = crawl_archive(self.crawler)
        self.task = LoopingCall(self._timed_flush)
        self.task.start(self.flush_seconds, now=False)

    def close_spider(self) -> None:
        if self.task is not None and self.task.running:
            self.task.stop()
        self.flush()
        self.refresh_template()

    def refresh_template(self) -> None:
        """Learn the lines every article of the site repeats (footer, ICP line, "related
        news") from what is now stored, and strip them, as ``import`` does after a file."""
        assert self.crawler.stats is not None
        stats = self.crawler.stats.get_stats()
        site = getattr(self.crawler.spider, "site", None)
        changed = stats.get(STORED_PREFIX + "new", 0) + stats.get(STORED_PREFIX + "updated", 0)
        if not site or not changed or self.archive is None:
            return
        if not self.crawler.settings.getbool("NEWSARCHIVE_LEARN_TEMPLATES", True):
            return
        try:
            with self.archive.session() as session, session.begin():
                cleaned = refresh_site_templates(session, [site])
        except StorageError as exc:
            self._inc("newsarchive/errors/storage")
            logger.error("Cannot refresh the template of %(site)s: %(error)s", {"site": site, "error": exc})
            return
        if cleaned.get(site):
            self.crawler.stats.set_value("newsarchive/template_cleaned", cleaned[site])

    def process_item(self, item: Any) -> Any:
        if isinstance(item, ArticleItem) or (isinstance(item, FetchedPage) and item.not_modified):
            self.pending.append(item)
            if len(self.pending) >= self.batch_size:
                self.flush()
        return item

    # --- writing --------------------------------------------------------------------------

    def _inc(self, key: str) -> None:
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value(key)

    def _write(self, session: Session, item: Pending, run_id: int | None) -> str:
        if isinstance(item, FetchedPage):
            fetched_at = item.fetched_at or datetime.now(UTC)
            found = mark_not_modified(session, item.url, fetched_at=fetched_at, run_id=run_id)
            return "unchanged" if found is not None else "not_modified_unknown"
        item.page.run_id = run_id
        return store_article(session, item.page, item.article, run_id=run_id).status

    def _write_batch(self, batch: list[Pending], run_id: int | None) -> list[str]:
        assert self.archive is not None
        with self.archive.session() as session, session.begin():
            return [self._write(session, item, run_id) for item in batch]

    def _timed_flush(self) -> None:
        # An exception would stop the LoopingCall for good, and nothing would be stored
        # until the crawl ends: log it loudly, count it, and keep the timer running.
        try:
            self.flush()
        except Exception:
            self._inc("newsarchive/errors/storage_bug")
            logger.exception("Storing a batch failed unexpectedly")

    def flush(self) -> None:
        """Write what is pending in one transaction; on failure retry item by item, so one
        bad article costs only itself."""
        if not self.pending or self.archive is None:
            return
        batch, self.pending = self.pending, []
        assert self.crawler.stats is not None
        run_id = self.crawler.stats.get_value(STAT_RUN_ID)
        try:
            outcomes = self._write_batch(batch, run_id)
        except (StorageError, SQLAlchemyError) as exc:
            logger.warning("Batch of %(n)d failed (%(error)s); storing one by one",
                           {"n": len(batch), "error": str(exc).splitlines()[0]})
            outcomes = []
            for item in batch:
                try:
                    outcomes += self._write_batch([item], run_id)
                except (StorageError, SQLAlchemyError) as item_exc:
                    url = item.url if isinstance(item, FetchedPage) else item.page.url
                    self._inc("newsarchive/errors/storage")
                    logger.error("Cannot store %(url)s: %(error)s",
                                 {"url": url, "error": str(item_exc).splitlines()[0]})
        for outcome in outcomes:
            self._inc(STORED_PREFIX + outcome)
        logger.debug("Stored %(n)d items", {"n": len(outcomes)})
