"""Import WARC files into the archive as if their pages had been crawled.

Reads each HTML ``response`` record with warcio, extracts it in a worker pool
and stores the results in batches (one writer, one transaction per batch).
No Scrapy here: this is the same extract → store path without the crawler.
"""

from __future__ import annotations

import gzip
import logging
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from w3lib.encoding import http_content_type_encoding
from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed
from warcio.recordloader import ArcWarcRecord

from core.errors import InputError
from core.items import FetchedPage
from pipelines.extraction import ExtractionResult, extract_article
from pipelines.site_templates import refresh_site_templates, store_stripped
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


def site_of(url: str) -> str:
    """The site an imported page belongs to: its host without ``www.``."""
    host = (urlsplit(url).hostname or "").lower()
    return host.removeprefix("www.")


def _load_failure(exc: BaseException) -> str:
    """warcio's message without the raw bytes it quotes ("…, first line: <binary>")."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text.split(", first line", 1)[0].split(": first line", 1)[0]


def check_warc(path: Path) -> None:
    """InputError unless ``path`` opens as a WARC and its first record parses: a wrong
    file among several is refused before anything is imported."""
    for _ in _read_pages(path, probe=True):
        pass


def read_warc_pages(path: Path) -> Iterator[FetchedPage]:
    """Yield every HTML response record of a WARC / WARC.gz file as a FetchedPage.

    A file that is not a WARC, has no record at all, or ends inside a record
    (a truncated download, a broken gzip member) is an InputError: a cut-off
    body is never handed on to be stored as if it were the page."""
    return _read_pages(path, probe=False)


def _check_gzip_complete(path: Path) -> None:
    """A .warc.gz cut between or at the start of its gzip members reads as a shorter
    but valid WARC; only decompressing it to the end shows it is truncated."""
    with path.open("rb") as head:
        if head.read(2) != b"\x1f\x8b":
            return
    try:
        with gzip.open(path, "rb") as members:
            while members.read(1 << 20):
                pass
    except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
        reason = f"truncated or damaged gzip data ({exc})"
        raise InputError(f"{path} is not a readable WARC file: {reason}") from exc


def _read_pages(path: Path, *, probe: bool) -> Iterator[FetchedPage]:
    try:
        if not probe:
            _check_gzip_complete(path)
        stream = path.open("rb")
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}") from exc
    records = 0
    with stream:
        try:
            for number, record in enumerate(ArchiveIterator(stream)):
                records += 1
                url = (
                    record.rec_headers.get_header("WARC-Target-URI")
                    or record.rec_headers.get_header("uri")
                    or ""
                )
                if (
                    number == 0
                    and record.format == "arc"
                    and not url.startswith(("http://", "https://", "filedesc:"))
                ):
                    # warcio reads anything without a WARC header as an ARC file; real ARC records name a URL
                    raise InputError(f"{path} is not a readable WARC file: no WARC or ARC header found")
                if probe:
                    return
                if record.rec_type != "response" or record.http_headers is None:
                    continue
                status = int(record.http_headers.get_statuscode() or 0)
                headers = {k: v for k, v in record.http_headers.headers}
                content_type = record.http_headers.get_header("Content-Type") or ""
                body = record.content_stream().read()
                if _cut_off(record):
                    raise InputError(
                        f"{path} is truncated: the record of {url or 'record ' + str(number + 1)} "
                        "ends before its declared length"
                    )
                yield FetchedPage(
                    url=url,
                    final_url=url,
                    status=status,
                    headers=headers,
                    body=body,
                    encoding=http_content_type_encoding(content_type),
                    fetched_at=_warc_date(record.rec_headers.get_header("WARC-Date")),
                    # our own `export --format warc` names the site; other WARCs: the host
                    site=record.rec_headers.get_header("WARC-Newsarchive-Site") or site_of(url),
                )
        except ArchiveLoadFailed as exc:
            raise InputError(f"{path} is not a readable WARC file: {_load_failure(exc)}") from exc
        except (OSError, EOFError, ValueError, zlib.error) as exc:
            raise InputError(f"{path} is not a readable WARC file: {_load_failure(exc)}") from exc
        except AttributeError as exc:  # warcio on a record header cut short (no WARC-Target-URI)
            raise InputError(f"{path} is not a readable WARC file: a record header is incomplete") from exc
    if records == 0:
        raise InputError(f"{path} is not a readable WARC file: no WARC record found")


def _cut_off(record: ArcWarcRecord) -> bool:
    """Whether the file ended before the record's declared Content-Length."""
    raw = record.raw_stream
    while raw.read(65536):
        pass
    return bool(getattr(raw, "limit", 0))


def _warc_date(value: str | None) -> datetime:
    if value:
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            pass
    return datetime.now(UTC)


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
    on_page: Callable[[ImportStats], None] | None = None,
) -> ImportStats:
    """Import every HTML response of ``paths``; return what was stored and dropped."""
    stats = ImportStats()
    executor: Executor = ProcessPoolExecutor(max_workers=max(1, workers))
    for path in paths:
        check_warc(path)
    with executor:
        for path in paths:
            batch: list[FetchedPage] = []
            for page in read_warc_pages(path):
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
