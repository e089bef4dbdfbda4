"""The one ingest path: pages in, articles stored, every outcome counted.

A page (:class:`core.items.FetchedPage`: bytes, URL, headers, site) comes in with its
provenance (``crawl``, ``import`` or ``reextract``). It is

1. extracted in a pool of worker processes (:class:`ExtractionPool`,
   ``pipelines/extraction_pool.py``), which die with the process that started them, so a
   killed run leaves no orphans;
2. stripped of its site's learned template lines (``pipelines.site_templates``);
3. written in batches, one transaction per batch, by one writer (:class:`ArchiveWriter`),
   falling back to one transaction per item when a batch fails, so one bad article costs
   only itself; the run's record is updated in the same transaction, so a run killed at
   any moment shows what it had committed;
4. counted under one vocabulary (``core.keys``): ``newsarchive/stored/<outcome>``,
   ``newsarchive/dropped/<reason>``, ``newsarchive/errors/<kind>``. A storage error
   repeated for many articles is logged once, with a count (:class:`FailureLog`).

The crawl's two Scrapy pipelines (``pipelines/extract.py``, ``pipelines/store.py``) are
thin adapters over the pool and the writer; ``import`` drives :class:`Ingest`, and
``reextract`` uses the pool and the writer with its own per-item write.
"""

from __future__ import annotations

import logging
import re
from collections import Counter, OrderedDict, deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import Any, Generic, Literal, TypeVar

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from core.errors import ArchiveUnwritable
from core.items import ArticleItem, FetchedPage, PackedPage
from core.keys import STAT_DICTIONARY_GAVE_UP, dropped_key, error_key, stored_key
from core.rawcodec import DICTIONARY_SAMPLES, RawDictionary
from pipelines.extract_worker import extract_and_pack, extract_page, learn_dictionary
from pipelines.extraction import ExtractionResult
from pipelines.extraction_pool import BrokenProcessPool, ExtractionPool
from pipelines.raw_dictionary import SAMPLES_HELD_BYTES, SiteDictionary
from pipelines.site_templates import rebuild_stale_templates, refresh_site_templates, store_stripped
from storage import Archive, StorageError, mark_not_modified
from storage.runs import add_run_progress

__all__ = [
    "ArchiveWriter",
    "ExtractionPool",
    "FailureLog",
    "Ingest",
    "Provenance",
    "WriteReport",
    "drop_slug",
    "extract_page",
]

logger = logging.getLogger(__name__)

Provenance = Literal["crawl", "import", "reextract"]
T = TypeVar("T")
Pending = ArticleItem | FetchedPage  # FetchedPage only for a 304 revisit

HTML_TYPES = ("text/html", "application/xhtml+xml")
Extracted = tuple[ExtractionResult, PackedPage | None]  # what extract_and_pack answers


def drop_slug(reason: str | None) -> str:
    """A drop reason as a stats-key word: ``"Listing page"`` -> ``listing_page``."""
    return re.sub(r"[^a-z0-9_]+", "_", (reason or "not_article").lower()).strip("_") or "unknown"


# --- extraction in worker processes: pipelines/extraction_pool.py, pipelines/extract_worker.py


# --- writing -----------------------------------------------------------------------------


class FailureLog:
    """Storage failures, logged once per distinct error with the count of the rest: a full
    disk fails every article alike, and 1,933 identical ERROR lines hide the one that says
    why."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()

    def note(self, what: str, error: BaseException | str) -> None:
        message = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        self.counts[message] += 1
        if self.counts[message] == 1:
            logger.error("Cannot store %(what)s: %(error)s", {"what": what, "error": message})

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def first(self) -> str | None:
        return next(iter(self.counts), None)

    def summary(self) -> None:
        """Log the repeats once, at the end."""
        for message, count in self.counts.items():
            if count > 1:
                logger.error(
                    "%(n)d articles in all could not be stored: %(error)s", {"n": count, "error": message}
                )


@dataclass
class WriteReport:
    """What one batch write did: how many items had each outcome, and how many failed."""

    outcomes: Counter[str] = field(default_factory=Counter)
    failed: int = 0
    sites: set[str] = field(default_factory=set)


StoreOne = Callable[[Session, T], str]


class ArchiveWriter(Generic[T]):
    """Writes batches to the archive: one transaction, or item by item when that fails.

    ``store_one(session, item)`` stores one item and returns its outcome (``new``,
    ``updated`` …); ``prepare(session, batch)``, when given, runs first in each transaction
    (to lock or load the batch's rows in one query). When ``run_id`` is given, the run's
    record gets the batch's outcomes in the same transaction. Blocking: the crawl calls it
    on its writer thread."""

    def __init__(
        self,
        archive: Archive,
        store_one: StoreOne[T],
        *,
        run_id: int | None = None,
        describe: Callable[[T], str] = str,
        prepare: Callable[[Session, Sequence[T]], None] | None = None,
    ) -> None:
        self.archive = archive
        self.store_one = store_one
        self.prepare = prepare
        self.run_id = run_id
        self.describe = describe
        self.failures = FailureLog()

    def write(
        self, batch: Sequence[T], progress: Mapping[str, int] | None = None,
        mark: Callable[[Session], None] | None = None,
    ) -> WriteReport:
        """Store ``batch``; ``progress`` (e.g. ``pages_fetched``) is set on the run's record.
        ``mark(session)`` runs in the transaction that commits the whole batch (to record a
        job's progress with the work it covers); when the batch is stored item by item, it
        runs in a transaction of its own after them, and only if none failed."""
        if not batch and mark is None:
            return WriteReport()
        try:
            return WriteReport(self._write(batch, progress, mark))
        except (StorageError, SQLAlchemyError) as exc:
            if not batch:
                self.failures.note("the job's progress", exc)
                return WriteReport(failed=1)
            if len(batch) > 1:
                logger.warning(
                    "Batch of %(n)d failed (%(error)s); storing one by one",
                    {"n": len(batch), "error": str(exc).splitlines()[0] if str(exc) else type(exc).__name__},
                )
            else:
                self.failures.note(self.describe(batch[0]), exc)
                return WriteReport(failed=1)
        report = WriteReport()
        for item in batch:
            try:
                report.outcomes += self._write([item], progress)
            except (StorageError, SQLAlchemyError) as item_exc:
                report.failed += 1
                self.failures.note(self.describe(item), item_exc)
        if mark is not None and not report.failed:
            try:
                self._write([], None, mark)
            except (StorageError, SQLAlchemyError) as exc:
                report.failed += 1  # the work is stored, but a re-run will not know it
                self.failures.note("the job's progress", exc)
        return report

    def _write(
        self, batch: Sequence[T], progress: Mapping[str, int] | None,
        mark: Callable[[Session], None] | None = None,
    ) -> Counter[str]:
        # PostgreSQL may abort one of two concurrent writers whose row and duplicate-check
        # locks cross (a deadlock, 40P01); that transaction is simply run again
        for attempt in range(_TRANSIENT_RETRIES):
            try:
                return self._write_once(batch, progress, mark)
            except (StorageError, SQLAlchemyError) as exc:
                if attempt + 1 == _TRANSIENT_RETRIES or not _transient(exc):
                    raise
        raise AssertionError("unreachable")

    def _write_once(
        self, batch: Sequence[T], progress: Mapping[str, int] | None,
        mark: Callable[[Session], None] | None,
    ) -> Counter[str]:
        with self.archive.transaction() as session:
            if self.prepare is not None and batch:
                self.prepare(session, batch)
            outcomes = Counter(self.store_one(session, item) for item in batch)
            if self.run_id is not None:
                add_run_progress(session, self.run_id, outcomes, progress or {})
            if mark is not None:
                mark(session)
        return outcomes


_TRANSIENT_RETRIES = 3


def _transient(exc: BaseException) -> bool:
    """A write PostgreSQL aborted only because of another writer: worth running again."""
    message = str(exc)
    return "deadlock detected" in message or "could not serialize access" in message


def store_pending(provenance: Provenance) -> StoreOne[Pending]:
    """The ``store_one`` of crawled and imported pages: an article (stripped of its site's
    template) or a 304 revisit."""

    def store(session: Session, item: Pending) -> str:
        if isinstance(item, FetchedPage):
            fetched_at = item.fetched_at or datetime.now(UTC)
            found = mark_not_modified(session, item.url, fetched_at=fetched_at)
            return "unchanged" if found is not None else "not_modified_unknown"
        return store_stripped(session, item.page, item.article, reason=provenance, packed=item.packed).status

    return store


def pending_url(item: Pending) -> str:
    return item.url if isinstance(item, FetchedPage) else item.page.url


def refresh_templates(archive: Archive, sites: Iterable[str]) -> int:
    """Learn the lines the articles of ``sites`` repeat and strip them; how many changed."""
    sites = sorted(s for s in set(sites) if s)
    if not sites:
        return 0
    rebuild_stale_templates(archive, sites)  # learned by older rules: from scratch, first
    with archive.transaction() as session:
        return sum(refresh_site_templates(session, sites).values())


# Batches in a row of which nothing could be stored before a run stops (as the crawl does,
# ``pipelines/store.py``): the archive is unwritable, and every further page would fail
# alike, one transaction per article, after its extraction.
FAILED_BATCHES_TO_STOP = 3


def _mark(mark_progress: Callable[[Session, Any], None], tag: Any, session: Session) -> None:
    mark_progress(session, tag)


# --- the synchronous driver (import) -------------------------------------------------------


def is_html(page: FetchedPage) -> bool:
    content_type = (page.headers.get("Content-Type") or "text/html").lower()
    return page.status < 400 and any(t in content_type for t in HTML_TYPES)


class Ingest:
    """Pages in, articles stored: extraction runs ahead in the pool while batches are
    written, so every worker stays busy while the writer commits.

    ``counts`` holds every outcome under the ``core.keys`` names."""

    def __init__(
        self,
        archive: Archive,
        *,
        provenance: Provenance,
        pool: ExtractionPool,
        batch_size: int = 100,
        run_id: int | None = None,
        on_batch: Callable[[Ingest], None] | None = None,
        mark_progress: Callable[[Session, Any], None] | None = None,
        dictionary_samples: int = DICTIONARY_SAMPLES,
    ) -> None:
        """``mark_progress(session, tag)``: record, in the transaction of each batch, that
        the page added with ``tag`` and every page added before it are done (stored,
        or dropped); a killed job can then resume after it.

        Raw pages are packed with their site's zstd dictionary (``pipelines.raw_dictionary``),
        as in a crawl: the one in the archive, else one a worker learns from the site's first
        ``dictionary_samples`` article pages (0: none learned)."""
        self.archive = archive
        self.mark_progress = mark_progress
        self._done_tag: Any = None
        self.provenance = provenance
        self.pool = pool
        self.batch_size = max(1, batch_size)
        self.on_batch = on_batch
        self.writer: ArchiveWriter[Pending] = ArchiveWriter(
            archive, store_pending(provenance), run_id=run_id, describe=pending_url
        )
        self.counts: Counter[str] = Counter()
        self.failed_batches = 0  # in a row, of which nothing was stored
        self.stopped: str | None = None  # why the run stopped early (the archive is unwritable)
        self.template_failure: str | None = None  # why the sites' templates could not be refreshed
        self.pages = 0  # pages handed to extraction
        self.sites: set[str] = set()
        self._in_flight: deque[tuple[FetchedPage, Future[Extracted], Any]] = deque()
        self._batch: list[Pending] = []
        self.dictionary_samples = dictionary_samples
        self._dictionaries: dict[str, SiteDictionary] = {}
        self._learning: dict[str, tuple[Future[RawDictionary | None], int]] = {}
        self._collecting: OrderedDict[str, None] = OrderedDict()  # sites holding samples, oldest first

    def add(self, page: FetchedPage, tag: Any = None) -> None:
        """Take one page: not HTML is dropped, the rest goes to the pool. ``tag``: what
        ``mark_progress`` is given once this page is done."""
        if not is_html(page):
            self.counts[dropped_key("not_html")] += 1
            if not self._in_flight:
                self._done_tag = tag
            return
        self.pages += 1
        self._in_flight.append((page, self._submit(page), tag))
        # enough look-ahead to keep every worker busy while a batch is written
        while len(self._in_flight) > max(self.batch_size, 8 * self.pool.workers):
            self._collect_one()

    def _site_dictionary(self, page: FetchedPage) -> SiteDictionary:
        site = page.site or ""
        found = self._dictionaries.get(site)
        if found is None:
            found = SiteDictionary(self.archive, site, samples=self.dictionary_samples)
            self._dictionaries[site] = found
            try:
                found.current = found.load()
            except StorageError as exc:
                logger.warning("Cannot read the raw page dictionary of %(site)s: %(error)s",
                               {"site": site, "error": exc})
        return found

    def _submit(self, page: FetchedPage) -> Future[Extracted]:
        # the worker also packs an article for storage (compressed body, fingerprints)
        dictionary = self._site_dictionary(page).current
        try:
            return self.pool.submit(extract_and_pack, page, None, dictionary)
        except BrokenProcessPool:
            self.pool.restart()
            return self.pool.submit(extract_and_pack, page, None, dictionary)

    def _offer_sample(self, page: FetchedPage) -> None:
        """An article page's body towards its site's dictionary; enough of them: a worker
        learns it while the import goes on."""
        site = page.site or ""
        site_dictionary = self._site_dictionary(page)
        samples = site_dictionary.offer(page.body)
        if samples:
            self._collecting.pop(site, None)
            self._learning[site] = (self.pool.submit(learn_dictionary, samples), len(samples))
        elif site_dictionary.held:
            self._collecting[site] = None
            self._collecting.move_to_end(site)
            # a file of many sites: the sites that have waited longest for enough pages give up
            while sum(self._dictionaries[s].held for s in self._collecting) > SAMPLES_HELD_BYTES:
                oldest, _ = self._collecting.popitem(last=False)
                self._dictionaries[oldest].give_up()
                self.counts[STAT_DICTIONARY_GAVE_UP] += 1
                logger.info("Raw pages of %(site)s are packed without a dictionary: too few of its pages "
                            "came before %(mib)d MiB of samples were held", {"site": oldest,
                                                                           "mib": SAMPLES_HELD_BYTES >> 20})

    def _learned(self, *, wait: bool = False) -> None:
        """Keep the dictionaries the workers have learned (all of them, with ``wait``), then
        pack the sites' next pages with them. A dictionary is stored before any page uses it."""
        for site, (future, samples) in list(self._learning.items()):
            if not wait and not future.done():
                continue
            del self._learning[site]
            try:
                dictionary = future.result()
                if dictionary is not None:
                    self._dictionaries[site].save(dictionary, samples)
            except (BrokenProcessPool, StorageError) as exc:
                logger.warning("Cannot learn the raw page dictionary of %(site)s: %(error)s",
                               {"site": site, "error": exc})
                continue
            if dictionary is not None:
                self._dictionaries[site].current = dictionary
                logger.info("Raw pages of %(site)s are packed with dictionary %(id)d from here on",
                            {"site": site, "id": dictionary.dict_id})

    def _collect_one(self) -> None:
        page, future, self._done_tag = self._in_flight.popleft()
        try:
            result, packed = future.result()
        except BrokenProcessPool:
            # a worker died (out of memory, a crash in a C extension): count it, start afresh
            logger.error("Extraction worker died on %(url)s", {"url": page.url})
            self.counts[error_key("extract_crashed")] += 1
            self.counts[dropped_key("extract_crashed")] += 1
            self._resubmit_after_crash()
            return
        if result.article is None or not result.is_article:
            self.counts[dropped_key(drop_slug(result.reason))] += 1
            logger.info("Not stored: %(url)s (%(reason)s)", {"url": page.url, "reason": result.reason})
            return
        self._batch.append(ArticleItem(page=page, article=result.article, packed=packed))
        if packed is not None:
            self._offer_sample(page)
        if self._learning:
            self._learned()
        if len(self._batch) >= self.batch_size:
            self.flush()

    def _resubmit_after_crash(self) -> None:
        """Every page in flight was lost with the pool: submit them to a new one."""
        self.pool.restart()
        pages = [(page, tag) for page, _, tag in self._in_flight]
        self._in_flight.clear()
        for page, tag in pages:
            self._in_flight.append((page, self._submit(page), tag))

    def flush(self) -> None:
        batch, self._batch = self._batch, []
        tag, mark_progress = self._done_tag, self.mark_progress
        mark = None if mark_progress is None or tag is None else partial(_mark, mark_progress, tag)
        if self.storage_failures:
            mark = None  # the progress recorded never passes a page that could not be stored
        if not batch and mark is None:
            return
        report = self.writer.write(batch, mark=mark)
        for outcome, n in report.outcomes.items():
            self.counts[stored_key(outcome)] += n
        if report.failed:
            self.counts[error_key("storage")] += report.failed
        self.sites.update(item.page.site or "" for item in batch if isinstance(item, ArticleItem))
        if self.on_batch:
            self.on_batch(self)
        self.failed_batches = self.failed_batches + 1 if report.failed and not report.outcomes else 0
        if self.failed_batches >= FAILED_BATCHES_TO_STOP:
            self.stop(f"cannot write the archive: nothing could be stored in {self.failed_batches} "
                      f"batches in a row ({self.writer.failures.first()}); stopped")

    def stop(self, reason: str) -> None:
        """Give up: drop the pages in flight (none is recorded as done) and raise."""
        self.stopped = reason
        for _, future, _ in self._in_flight:
            future.cancel()
        self._in_flight.clear()
        self._batch.clear()
        raise ArchiveUnwritable(reason)

    def drain(self) -> None:
        """Extract and write every page added so far."""
        if self.stopped:
            return
        while self._in_flight:
            self._collect_one()
        self.flush()
        self._done_tag = None

    def finish(self, *, learn_templates: bool = True) -> None:
        """Extract and write what is left, then learn the sites' templates."""
        self.drain()
        if self._learning and not self.stopped:
            self._learned(wait=True)  # for the next run of these sites
        self.writer.failures.summary()
        if learn_templates and self.stored and not self.stopped:
            try:
                refresh_templates(self.archive, self.sites)
            except StorageError as exc:
                # the articles are stored; only their templates are not learned (the next
                # refresh of these sites counts what this one missed)
                self.counts[error_key("templates")] += 1
                message = str(exc).strip()
                self.template_failure = message.splitlines()[0] if message else type(exc).__name__
                logger.error("Cannot refresh the site templates: %(error)s", {"error": self.template_failure})

    @property
    def stored(self) -> int:
        return sum(n for k, n in self.counts.items() if k.startswith(stored_key("")))

    @property
    def storage_failures(self) -> int:
        return self.counts[error_key("storage")]
