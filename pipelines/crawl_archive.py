"""The archive of a crawl, opened once per crawler and shared by the run recorder, the
incremental middleware and the store pipeline."""

from __future__ import annotations

import weakref

from scrapy import signals
from scrapy.crawler import Crawler

from storage import Archive, open_archive

__all__ = ["crawl_archive"]

_archives: weakref.WeakKeyDictionary[Crawler, Archive] = weakref.WeakKeyDictionary()


def crawl_archive(crawler: Crawler) -> Archive:
    """The archive of this crawl (``NEWSARCHIVE_DB``), opened once per crawler and shared
    by the run recorder, the incremental middleware and the store pipeline."""
    archive = _archives.get(crawler)
    if archive is None:
        archive = open_archive(crawler.settings["NEWSARCHIVE_DB"])
        _archives[crawler] = archive

        def close() -> None:
            _archives.pop(crawler, None)
            archive.close()

        crawler.signals.connect(close, signal=signals.engine_stopped, weak=False)
    return archive
