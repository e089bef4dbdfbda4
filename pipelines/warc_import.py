"""Import WARC files into the archive as if their pages had been crawled.

Reads each HTML ``response`` record with warcio, extracts it in a worker pool
and stores the results in batches (one writer, one transaction per batch).
No Scrapy here: this is the same extract → store path without the crawler.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from core.items import FetchedPage
from pipelines.extraction import ExtractionResult, extract_article
from pipelines.site_templates import refresh_site_templates, store_stripped
from pipelines.warc_reader import WarcReader, check_warc, read_warc_pages

__all__ = ["ImportStats", "check_warc", "import_warcs", "read_warc_pages"]
from storage import Archive

logger = logging.getLogger(__name__)

BATCH_SIZE = 100
HTML_TYPES = ("text/html", "application/xhtml+xml")


@dataclass
class ImportStats:
    records: int = 0
    pages: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    dropped: Counter[str] = field(default_factory=Counter)
    sites: set[str] = field(default_factory=set)
    damage: list[str] = field(default_factory=list)  # one line per damaged stretch of a file


def _extract(page: FetchedPage) -> ExtractionResult:
    return extract_article(
        page.body,
        page.url,
        http_charset=page.encoding,
        content_type=page.headers.get("Content-Type"),
    )


def import_warcs(
    archive: Archive,
    paths: list[Path],
    *,
    workers: int = 2,
    max_record_size: int | None = None,
    on_page: Callable[[ImportStats], None] | None = None,
) -> ImportStats:
    """Import every HTML response of ``paths`` that can be read; return what was stored
    and dropped, and where a file was damaged (``stats.damage``). A record larger than
    ``max_record_size`` is skipped and counted as dropped ``too_large``."""
    stats = ImportStats()
    executor: Executor = ProcessPoolExecutor(max_workers=max(1, workers))
    for path in paths:
        check_warc(path)
    with executor:
        for path in paths:
            batch: list[FetchedPage] = []
            reader = WarcReader(path, max_record_size=max_record_size)
            for page in reader:
                stats.records += 1
                if not _is_html(page):
                    stats.dropped["not_html"] += 1
                    continue
                batch.append(page)
                if len(batch) >= BATCH_SIZE:
                    _store_batch(archive, executor, batch, stats, on_page)
                    batch = []
            if batch:
                _store_batch(archive, executor, batch, stats, on_page)
            if reader.too_large:
                stats.dropped["too_large"] += reader.too_large
            stats.damage.extend(reader.damage)
    _refresh_templates(archive, stats)
    return stats


def _is_html(page: FetchedPage) -> bool:
    content_type = (page.headers.get("Content-Type") or "text/html").lower()
    return page.status < 400 and any(t in content_type for t in HTML_TYPES)


def _store_batch(
    archive: Archive,
    executor: Executor,
    batch: list[FetchedPage],
    stats: ImportStats,
    on_page: Callable[[ImportStats], None] | None,
) -> None:
    results = list(executor.map(_extract, batch, chunksize=8))
    with archive.session() as session, session.begin():
        for page, result in zip(batch, results, strict=True):
            stats.pages += 1
            if result.article is None or not result.is_article:
                stats.dropped[result.reason or "not_article"] += 1
                logger.info("Not stored: %(url)s (%(reason)s)", {"url": page.url, "reason": result.reason})
            else:
                outcome = store_stripped(session, page, result.article, reason="import")
                stats.outcomes[outcome.status] += 1
                stats.sites.add(page.site or "")
            if on_page:
                on_page(stats)


def _refresh_templates(archive: Archive, stats: ImportStats) -> None:
    if not stats.sites:
        return
    with archive.session() as session, session.begin():
        refresh_site_templates(session, sorted(stats.sites))
