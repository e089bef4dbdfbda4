"""Re-extraction: run the (new) extractor again on the stored raw pages.

A job over the archive on the ingest path (``pipelines/ingest.py``): extraction in the
same worker pool, the site's template stripped, and the writer's batches (one
transaction per ``batch`` articles, item by item when a batch fails, the run record
updated with each), so a long run does not hold one write lock for its whole length (a
crawl may be writing too) and an interrupted run keeps its work; the extraction itself
runs with no transaction open.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from dataclasses import asdict, dataclass, field
from functools import partial
from typing import Protocol

from sqlalchemy.orm import Session

from core.errors import Busy
from core.items import Article as ArticleData
from core.shard import Shard
from pipelines.extraction import EXTRACTOR_VERSION, extract_article
from pipelines.ingest import ArchiveWriter, ExtractionPool
from pipelines.site_templates import rebuild_stale_templates, strip_site_template
from storage.archive import Archive
from storage.errors import wraps_driver_errors
from storage.jobs import Claim, advance_part, claim_part, finish_part, job_key
from storage.query import ArticleFilter
from storage.reextraction import ReextractJob, lock_articles, raw_pages_to_reextract, store_reextracted

logger = logging.getLogger(__name__)


class ExtractResult(Protocol):
    article: ArticleData | None
    is_article: bool
    reason: str | None


ExtractFunction = Callable[..., ExtractResult]


@dataclass
class ReextractStats:
    resumed_after: int = 0  # a shard taken over from a run that stopped: its last article id done
    already_done: bool = False  # the shard was finished by an earlier run: nothing was done
    checked: int = 0
    changed: int = 0
    unchanged: int = 0
    failed: Counter[str] = field(default_factory=Counter)  # reason -> count; the article is kept as is
    not_stored: int = 0  # extracted, but the archive could not be written (the run fails)
    failure: str | None = None  # the first such storage error


@wraps_driver_errors
def reextract(
    archive: Archive,
    filters: ArticleFilter | None = None,
    *,
    extract: ExtractFunction | None = None,
    extractor_version: str | None = None,
    batch: int = 100,
    workers: int = 1,
    progress: Callable[[int], None] | None = None,
    run_id: int | None = None,
    shard: Shard | None = None,
    redo: bool = False,
) -> ReextractStats:
    """Re-run ``extract`` (default: ``pipelines.extraction.extract_article``)
    on the raw page of every matching article. A changed title or text makes
    a new version (reason ``reextract``); other fields are refreshed; every
    article records the extractor version that produced it.

    Each batch is read in a read-only transaction, extracted with no transaction open (the
    CPU-heavy part must not hold SQLite's write lock while a crawl wants it), then written
    in one short transaction; an article whose raw page changed in between (a crawl stored
    a newer one) is left to that crawl. ``workers`` > 1 extracts in that many processes
    (``extract`` must then be a module-level function, as the default is). ``run_id``:
    the run whose record each committed batch updates.

    ``shard`` K/N: only the articles whose id is K-1 modulo N, so that N processes (on N
    machines) given 1/N … N/N re-extract every article once. A sharded run is resumable:
    it claims its shard in the archive for ``run_id`` (:mod:`storage.jobs`; raises
    :class:`~core.errors.Busy` when a live run has it), records the last article id done
    with each committed batch, and a re-run of a shard whose run died goes on from there.
    A finished shard is not run again unless ``redo``."""
    if extract is None:
        extract, extractor_version = extract_article, extractor_version or EXTRACTOR_VERSION
    filters = filters or ArticleFilter()
    # a template learned by older rules may hold an article's own lines: rebuilt from
    # scratch first, so that what is extracted again is not stripped of them again
    rebuild_stale_templates(archive, None if filters.site is None else [filters.site])
    stats = ReextractStats()
    writer: ArchiveWriter[_Extracted] = ArchiveWriter(
        archive, partial(_store_one, extractor_version), run_id=run_id,
        describe=lambda item: f"article {item[0].article_id}", prepare=_lock_rows,
    )
    part = _claim_shard(archive, shard, filters, extractor_version, run_id, redo) if shard else None
    if part is not None and part.claim.status == "done":
        stats.already_done = True
        return stats
    last_id = stats.resumed_after = part.claim.position if part else 0
    with ExtractionPool(workers) if workers > 1 else nullcontext() as pool:
        while True:
            jobs = _read_batch(archive, filters, last_id, batch, shard)
            if not jobs:
                break
            last_id = jobs[-1].article_id
            results = _extract_batch(extract, jobs, pool, stats, progress)
            _write_batch(writer, jobs, results, stats, part.marker(last_id) if part else None)
    if part is not None and not stats.not_stored:
        with archive.transaction() as session:
            finish_part(session, part.job, part.name, last_id)
    writer.failures.summary()
    stats.failure = writer.failures.first()
    return stats


@dataclass
class _ShardPart:
    job: str
    name: str
    claim: Claim

    def marker(self, last_id: int) -> Callable[[Session], None]:
        return lambda session: advance_part(session, self.job, self.name, last_id)


def _claim_shard(
    archive: Archive, shard: Shard, filters: ArticleFilter, extractor_version: str | None,
    run_id: int | None, redo: bool,
) -> _ShardPart:
    if run_id is None:
        raise ValueError("a sharded re-extraction needs the run it records its progress for")
    job = job_key("reextract", filters=asdict(filters), extractor=extractor_version,
                  shards=shard.count)
    with archive.transaction() as session:
        claim = claim_part(session, job, str(shard), run_id, redo=redo)
    if claim.status == "taken":
        raise Busy(f"shard {shard} is being re-extracted by run {claim.run_id} "
                   f"(host {claim.host}, pid {claim.pid})")
    if claim.status == "claimed" and claim.position:
        logger.warning(
            "Resuming shard %(shard)s after article %(id)d", {"shard": str(shard), "id": claim.position}
        )
    return _ShardPart(job, str(shard), claim)


def _extract_batch(
    extract: ExtractFunction,
    jobs: list[ReextractJob],
    pool: ExtractionPool | None,
    stats: ReextractStats,
    progress: Callable[[int], None] | None,
) -> list[ExtractResult | None]:
    readable = [job for job in jobs if job.body is not None]
    call = partial(_call, extract)
    done = iter(pool.map(call, readable) if pool else map(call, readable))
    results: list[ExtractResult | None] = []
    for job in jobs:
        stats.checked += 1
        result = None if job.body is None else next(done)
        if result is None:
            stats.failed["raw page damaged"] += 1
            logger.warning(
                "Re-extraction kept article %(id)d: %(error)s", {"id": job.article_id, "error": job.error}
            )
        elif result.article is None:
            stats.failed[result.reason or "not extracted"] += 1
            logger.info(
                "Re-extraction kept article %(id)d: %(reason)s",
                {"id": job.article_id, "reason": result.reason},
            )
        results.append(result)
        if progress:
            progress(1)
    return results


def _call(extract: ExtractFunction, job: ReextractJob) -> ExtractResult:
    return extract(job.body, job.url, http_charset=job.encoding, content_type=job.content_type)


_Extracted = tuple[ReextractJob, ArticleData]


def _write_batch(
    writer: ArchiveWriter[_Extracted], jobs: list[ReextractJob], results: list[ExtractResult | None],
    stats: ReextractStats, mark: Callable[[Session], None] | None,
) -> None:
    extracted = [
        (job, result.article)
        for job, result in zip(jobs, results, strict=True)
        if result is not None and result.article is not None
    ]
    if stats.not_stored:
        mark = None  # a shard's position never passes an article that could not be stored
    report = writer.write(extracted, mark=mark)
    stats.changed += report.outcomes["updated"]
    stats.unchanged += sum(n for outcome, n in report.outcomes.items() if outcome != "updated")
    stats.not_stored += report.failed


def _lock_rows(session: Session, batch: Sequence[_Extracted]) -> None:
    lock_articles(session, [job.article_id for job, _ in batch])


def _store_one(extractor_version: str | None, session: Session, item: _Extracted) -> str:
    job, article = item
    text = strip_site_template(session, job.site, article.text or "")
    return store_reextracted(session, job, article, text=text,
                             extractor_version=extractor_version or article.extractor_version or "")


def _read_batch(
    archive: Archive, filters: ArticleFilter, after: int, batch: int, shard: Shard | None
) -> list[ReextractJob]:
    with archive.session(read_only=True) as session:
        return raw_pages_to_reextract(session, filters, after=after, limit=batch, shard=shard)
