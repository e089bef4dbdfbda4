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

from sqlalchemy.orm import Session

from core.keys import DROPPED_PREFIX, STORED_PREFIX, dropped_key
from core.rawcodec import DICTIONARY_SAMPLES
from pipelines.ingest import ExtractionPool, Ingest
from pipelines.warc_reader import WarcReader, check_warc, read_warc_pages
from storage import Archive
from storage.jobs import advance_part, claim_part, finish_part

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
    template_failure: str | None = None  # why the sites' templates could not be refreshed
    counts: Counter[str] = field(default_factory=Counter)  # everything, under core.keys names
    sites: set[str] = field(default_factory=set)
    damage: list[str] = field(default_factory=list)  # one line per damaged stretch of a file
    skipped: list[str] = field(default_factory=list)  # one line per file left alone (tracked import)
    resumed: list[str] = field(default_factory=list)  # one line per file resumed where it stopped


def import_warcs(
    archive: Archive,
    paths: list[Path],
    *,
    workers: int = 2,
    max_record_size: int | None = None,
    run_id: int | None = None,
    on_page: Callable[[ImportStats], None] | None = None,
    track: bool = False,
    redo: bool = False,
    batch_size: int = BATCH_SIZE,
    dictionary_samples: int = DICTIONARY_SAMPLES,
) -> ImportStats:
    """Import every HTML response of ``paths`` that can be read through the ingest path
    (extraction in ``workers`` processes, batched writes, the run record of ``run_id`` kept
    up to date); return what was stored and dropped, and where a file was damaged
    (``stats.damage``). A record larger than ``max_record_size`` is skipped and counted as
    dropped ``too_large``.

    ``track`` (several importers, on several machines, given the same files): each file is
    claimed in the archive for ``run_id`` before it is read (``storage.jobs``), so a file
    another live importer has is left to it and a file an earlier run finished is skipped
    (unless ``redo``); the pages done are recorded with each committed batch, so the file of
    an importer that died is resumed after them, by whichever importer claims it next.

    Raises ``ArchiveUnwritable`` when nothing could be stored in several batches in a row
    (``pipelines.ingest.FAILED_BATCHES_TO_STOP``): what was committed stays, and a tracked
    file's progress never passes a page that was not stored.

    Raw pages are packed with each site's zstd dictionary, learned from its first
    ``dictionary_samples`` article pages when the archive has none (``pipelines.ingest.Ingest``)."""
    stats = ImportStats()
    for path in paths:
        check_warc(path)
    if track and run_id is None:
        raise ValueError("a tracked import needs the run it records its progress for")

    def progress(ingest: Ingest) -> None:
        _tally(stats, ingest)
        if on_page:
            on_page(stats)

    with ExtractionPool(workers) as pool:
        ingest = Ingest(archive, provenance="import", pool=pool, batch_size=batch_size, run_id=run_id,
                        on_batch=progress, mark_progress=_mark_file if track else None,
                        dictionary_samples=dictionary_samples)
        try:
            for path in paths:
                if track:
                    _import_claimed(archive, path, ingest, stats, max_record_size, run_id or 0, redo)
                else:
                    _read_into(WarcReader(path, max_record_size=max_record_size), ingest, stats)
        finally:
            # what was read before an error is stored, not lost with it
            ingest.finish()
            _tally(stats, ingest)
    return stats


def _read_into(reader: WarcReader, ingest: Ingest, stats: ImportStats, *, part: str | None = None,
               skip: int = 0) -> None:
    """Hand the file's pages to ``ingest``; the first ``skip`` (done by an earlier run) are
    read past, not extracted."""
    for number, page in enumerate(reader, 1):
        if number <= skip:
            continue
        stats.records += 1
        ingest.add(page, (part, number) if part is not None else None)
    if reader.too_large:
        ingest.counts[dropped_key("too_large")] += reader.too_large
    stats.damage.extend(reader.damage)


IMPORT_JOB = "import"


def file_part(path: Path) -> str:
    """A file's name in the job's records: its name and size, not its folder (which may
    differ between the machines that import it)."""
    return f"{path.name}:{path.stat().st_size}"


def _import_claimed(
    archive: Archive, path: Path, ingest: Ingest, stats: ImportStats, max_record_size: int | None,
    run_id: int, redo: bool,
) -> None:
    part = file_part(path)
    with archive.transaction() as session:
        claim = claim_part(session, IMPORT_JOB, part, run_id, redo=redo)
    if claim.status == "done":
        stats.skipped.append(f"{path.name}: imported by an earlier run (run {claim.run_id})")
        return
    if claim.status == "taken":
        stats.skipped.append(f"{path.name}: being imported by run {claim.run_id} "
                             f"(host {claim.host}, pid {claim.pid})")
        return
    if claim.position:
        stats.resumed.append(f"{path.name}: after {claim.position} pages")
        logger.warning("Resuming %(file)s after %(n)d pages", {"file": path.name, "n": claim.position})
    failures = ingest.storage_failures
    reader = WarcReader(path, max_record_size=max_record_size)
    _read_into(reader, ingest, stats, part=part, skip=claim.position)
    ingest.drain()
    if ingest.storage_failures == failures:
        with archive.transaction() as session:
            finish_part(session, IMPORT_JOB, part)


def _mark_file(session: Session, tag: tuple[str, int]) -> None:
    part, pages = tag
    advance_part(session, IMPORT_JOB, part, pages)


def _tally(stats: ImportStats, ingest: Ingest) -> None:
    stats.pages = ingest.pages
    stats.counts = Counter(ingest.counts)
    stats.outcomes = Counter({k.removeprefix(STORED_PREFIX): n for k, n in ingest.counts.items()
                              if k.startswith(STORED_PREFIX)})
    stats.dropped = Counter({k.removeprefix(DROPPED_PREFIX): n for k, n in ingest.counts.items()
                             if k.startswith(DROPPED_PREFIX)})
    stats.failed = ingest.storage_failures
    stats.failure = ingest.writer.failures.first()
    stats.template_failure = ingest.template_failure
    stats.sites = set(ingest.sites)
