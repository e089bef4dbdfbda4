"""ExtractArticlePipeline: the Scrapy adapter of the ingest path's extraction pool.

Extraction is CPU-heavy (lxml, trafilatura); running it in the reactor thread would stall
every download. Pages go to the ingest path's :class:`~pipelines.extraction_pool.ExtractionPool` of
``EXTRACT_WORKERS`` processes (which die with the crawl, even a SIGKILLed one) and
``process_item`` awaits the result. Pages that are not articles are dropped with the
classifier's reason and counted as ``newsarchive/dropped/<reason>``.

The worker that extracted an article also packs it for storage while it holds it
(``extract_and_pack``: the raw body compressed with the site's zstd dictionary, its hash,
the text's fingerprints), so the crawl's own process does not. A site with no dictionary
yet gets one learned by a worker from its first article pages (``pipelines.raw_dictionary``).
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import Future
from typing import Any, TypeVar

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem, NotConfigured
from scrapy.utils.defer import deferred_from_coro, maybe_deferred_to_future
from scrapy.utils.reactor import is_asyncio_reactor_installed
from twisted.internet.defer import Deferred
from twisted.internet.threads import deferToThread

from core.items import ArticleItem, FetchedPage, PackedPage
from core.keys import dropped_key, error_key
from core.rawcodec import RawDictionary
from pipelines.crawl_archive import crawl_archive
from pipelines.extract_worker import extract_and_pack, learn_dictionary
from pipelines.extraction import ExtractionResult
from pipelines.extraction_pool import BrokenProcessPool, ExtractionPool
from pipelines.ingest import drop_slug
from pipelines.raw_dictionary import SiteDictionary
from storage import StorageError

__all__ = ["ExtractArticlePipeline", "count_drop"]

logger = logging.getLogger(__name__)

T = TypeVar("T")


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
        self.dictionary = SiteDictionary(None, None)
        self._learning: Deferred[None] | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ExtractArticlePipeline:
        workers = crawler.settings.getint("EXTRACT_WORKERS")
        if workers < 1:
            raise NotConfigured("EXTRACT_WORKERS must be at least 1 to enable ExtractArticlePipeline")
        return cls(crawler, workers)

    async def open_spider(self) -> None:
        self.pool.start()  # the workers start while the first pages download
        site = getattr(self.crawler.spider, "site", None)
        archive = crawl_archive(self.crawler) if self.crawler.settings.get("NEWSARCHIVE_DB") else None
        samples = self.crawler.settings.getint("NEWSARCHIVE_RAW_DICTIONARY_SAMPLES")
        self.dictionary = SiteDictionary(archive, site, samples=samples)
        try:  # read off the reactor thread: an archive busy elsewhere must not stall it
            self.dictionary.current = await maybe_deferred_to_future(deferToThread(self.dictionary.load))
        except StorageError as exc:
            self.dictionary.closed = True
            logger.warning("Cannot read the raw page dictionary of %(site)s: %(error)s",
                           {"site": site, "error": exc})

    async def close_spider(self) -> None:
        if self._learning is not None:
            await maybe_deferred_to_future(self._learning)
        self.pool.shutdown()

    async def _wait(self, future: Future[T]) -> T:
        if is_asyncio_reactor_installed():
            return await asyncio.wrap_future(future)
        result: T = await maybe_deferred_to_future(deferToThread(future.result))
        return result

    async def _run(
        self, page: FetchedPage, selectors: dict[str, str] | None
    ) -> tuple[ExtractionResult, PackedPage | None]:
        return await self._wait(self.pool.submit(extract_and_pack, page, selectors, self.dictionary.current))

    def _learn(self, samples: list[bytes]) -> None:
        """Have a worker learn the site's dictionary from ``samples``, keep it in the
        archive, then pack the rest of the crawl's pages with it."""

        async def learn() -> None:
            try:
                learning = self.pool.submit(learn_dictionary, samples)
                dictionary: RawDictionary | None = await self._wait(learning)
                if dictionary is None:
                    return
                await maybe_deferred_to_future(deferToThread(self.dictionary.save, dictionary, len(samples)))
            except (BrokenProcessPool, StorageError) as exc:
                logger.warning("Cannot learn the raw page dictionary of %(site)s: %(error)s",
                               {"site": self.dictionary.site, "error": exc})
                return
            self.dictionary.current = dictionary
            logger.info("Raw pages of %(site)s are packed with dictionary %(id)d from here on",
                        {"site": self.dictionary.site, "id": dictionary.dict_id})

        self._learning = deferred_from_coro(learn())

    async def process_item(self, item: Any) -> Any:
        if not isinstance(item, FetchedPage):
            return item
        page = item
        if page.not_modified:
            return page  # a 304 revisit: nothing to extract, the store pipeline records it
        profile = getattr(self.crawler.spider, "profile", None)
        selectors = dict(profile.selectors) if profile is not None and profile.selectors else None
        try:
            result, packed = await self._run(page, selectors)
        except BrokenProcessPool:
            # a worker died (out of memory, a crash in a C extension): count it, start afresh
            logger.error("Extraction worker died on %(url)s", {"url": page.url})
            assert self.crawler.stats is not None
            self.crawler.stats.inc_value(error_key("extract_crashed"))
            self.pool.restart()
            raise count_drop(self.crawler, "extract_crashed", page.url) from None
        if not result.is_article or result.article is None:
            raise count_drop(self.crawler, result.reason or "not_article", page.url)
        # the Article dataclass itself, not through itemadapter: importing itemadapter
        # imports pydantic (0.1-0.2 s of every crawl's start-up) for one field
        if not result.article.site_name and page.site:
            result.article.site_name = page.site
        if packed is not None and (samples := self.dictionary.offer(page.body)):
            self._learn(samples)
        return ArticleItem(page=page, article=result.article, packed=packed)
