"""Import WARC files into the archive as if their pages had been crawled.

Reads each HTML ``response`` record (``pipelines.warc_reader``: salvaging what it can of a
damaged file) and hands it to the ingest path (``pipelines/ingest.py``): extraction in a
worker pool, batched writes, the run record kept up to date, the same counting as a
crawl. No Scrapy here.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from core.keys import DROPPED_PREFIX, STORED_PREFIX, dropped_key
from pipelines.ingest import ExtractionPool, Ingest
from pipelines.warc_reader import WarcReader, check_warc, read_warc_pages
from storage import Archive

__all__ = ["ImportStats", "check_warc", "import_warcs", "read_warc_pages"]

logger = logging.getLogger(__name__)

BATCH_SIZE = 100


@dataclass
class ImportStats:
    records: int = 0
    pages: int = 0  # HTML pages extracted
    outcomes: Counter[str] = field(default_factory=Counter)  # new, updated, unchanged, duplicate
    dropped: Counter[str] = field(default_factory=Counter)  # reason -> pages not stored
    failed: int = 0  # articles that could not be stored
    failure: str | None = None  # the first storage error
    counts: Counter[str] = field(default_factory=Counter)  # everything, under core.keys names
    sites: set[str] = field(default_factory=set)
    damage: list[str] = field(default_factory=list)  # one line per damaged stretch of a file


def import_warcs(
    archive: Archive,
    paths: list[Path],
    *,
    workers: int = 2,
    max_record_size: int | None = None,
    run_id: int | None = None,
    on_page: Callable[[ImportStats], None] | None = None,
) -> ImportStats:
    """Import every HTML response of ``paths`` that can be read through the ingest path
    (extraction in ``workers`` processes, batched writes, the run record of ``run_id`` kept
    up to date); return what was stored and dropped, and where a file was damaged
    (``stats.damage``). A record larger than ``max_record_size`` is skipped and counted as
    dropped ``too_large``."""
    stats = ImportStats()
    for path in paths:
        check_warc(path)

    def progress(ingest: Ingest) -> None:
        _tally(stats, ingest)
        if on_page:
            on_page(stats)

    with ExtractionPool(workers) as pool:
        ingest = Ingest(archive, provenance="import", pool=pool, batch_size=BATCH_SIZE, run_id=run_id,
                        on_batch=progress)
        try:
            for path in paths:
                reader = WarcReader(path, max_record_size=max_record_size)
                for page in reader:
                    stats.records += 1
                    ingest.add(page)
                if reader.too_large:
                    ingest.counts[dropped_key("too_large")] += reader.too_large
                stats.damage.extend(reader.damage)
        finally:
            # what was read before an error is stored, not lost with it
            ingest.finish()
            _tally(stats, ingest)
    return stats


def _tally(stats: ImportStats, ingest: Ingest) -> None:
    stats.pages = ingest.pages
    stats.counts = Counter(ingest.counts)
    stats.outcomes = Counter({k.removeprefix(STORED_PREFIX): n for k, n in ingest.counts.items()
                              if k.startswith(STORED_PREFIX)})
    stats.dropped = Counter({k.removeprefix(DROPPED_PREFIX): n for k, n in ingest.counts.items()
                             if k.startswith(DROPPED_PREFIX)})
    stats.failed = ingest.storage_failures
    stats.failure = ingest.writer.failures.first()
    stats.sites = set(ingest.sites)
