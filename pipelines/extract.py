"""ExtractArticlePipeline: the Scrapy adapter of the ingest path's extraction pool.

Extraction is CPU-heavy (lxml, trafilatura); running it in the reactor thread would stall
every download. Pages go to the ingest path's :class:`~pipelines.extraction_pool.ExtractionPool` of
``EXTRACT_WORKERS`` processes (which die with the crawl, even a SIGKILLed one) and
``process_item`` awaits the result. Pages that are not articles are dropped with the
classifier's reason and counted as ``newsarchive/dropped/<reason>``.
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import Future
from typing import Any

from itemadapter import ItemAdapter
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem, NotConfigured
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.reactor import is_asyncio_reactor_installed
from twisted.internet.threads import deferToThread

from core.items import ArticleItem, FetchedPage
from core.keys import dropped_key, error_key
from pipelines.extract_worker import extract_page
from pipelines.extraction import ExtractionResult
from pipelines.extraction_pool import BrokenProcessPool, ExtractionPool
from pipelines.ingest import drop_slug

__all__ = ["ExtractArticlePipeline", "count_drop"]

logger = logging.getLogger(__name__)


def count_drop(crawler: Crawler, reason: str, url: str) -> DropItem:
    """Count a dropped page under ``newsarchive/dropped/<reason>`` and return the DropItem
    to raise (logged at INFO: a listing page is no news)."""
    slug = drop_slug(reason)
    assert crawler.stats is not None
    crawler.stats.inc_value(dropped_key(slug))
    return DropItem(f"{slug}: {url}", log_level="INFO")


class ExtractArticlePipeline:
    """FetchedPage -> ArticleItem (or DropItem with the reason it is not an article)."""

    def __init__(self, crawler: Crawler, workers: int) -> None:
        self.crawler = crawler
        self.workers = workers
        self.pool = ExtractionPool(workers)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ExtractArticlePipeline:
        workers = crawler.settings.getint("EXTRACT_WORKERS")
        if workers < 1:
            raise NotConfigured("EXTRACT_WORKERS must be at least 1 to enable ExtractArticlePipeline")
        return cls(crawler, workers)

    def open_spider(self) -> None:
        self.pool.start()  # the workers start while the first pages download

    def close_spider(self) -> None:
        self.pool.shutdown()

    async def _run(self, page: FetchedPage, selectors: dict[str, str] | None) -> ExtractionResult:
        future: Future[ExtractionResult] = self.pool.submit(extract_page, page, selectors)
        if is_asyncio_reactor_installed():
            return await asyncio.wrap_future(future)
        result: ExtractionResult = await maybe_deferred_to_future(deferToThread(future.result))
        return result

    async def process_item(self, item: Any) -> Any:
        if not isinstance(item, FetchedPage):
            return item
        page = item
        if page.not_modified:
            return page  # a 304 revisit: nothing to extract, the store pipeline records it
        profile = getattr(self.crawler.spider, "profile", None)
        selectors = dict(profile.selectors) if profile is not None and profile.selectors else None
        try:
            result = await self._run(page, selectors)
        except BrokenProcessPool:
            # a worker died (out of memory, a crash in a C extension): count it, start afresh
            logger.error("Extraction worker died on %(url)s", {"url": page.url})
            assert self.crawler.stats is not None
            self.crawler.stats.inc_value(error_key("extract_crashed"))
            self.pool.restart()
            raise count_drop(self.crawler, "extract_crashed", page.url) from None
        if not result.is_article or result.article is None:
            raise count_drop(self.crawler, result.reason or "not_article", page.url)
        adapter = ItemAdapter(result.article)
        if not adapter.get("site_name") and page.site:
            adapter["site_name"] = page.site
        return ArticleItem(page=page, article=result.article)
