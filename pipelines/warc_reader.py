"""Read WARC / WARC.gz files as fetched pages, salvaging what a damaged file still holds.

warcio parses the records; this module decides what to do when a file is not what it
says. The rules:

- A file that is not a WARC at all (its first record does not parse) is refused:
  :func:`check_warc` raises :class:`~core.errors.InputError` before anything is imported.
- A file damaged later (a truncated download, a corrupt gzip member, a record cut short)
  yields every record that reads completely; the damage is noted in
  :attr:`WarcReader.damage`, reading resumes at the next gzip member (or ``WARC/``
  header line) after the damage when there is one, and a record cut short is never
  handed on as if it were the page.
- A record whose content is larger than ``max_record_size`` is skipped and counted in
  :attr:`WarcReader.too_large` without being read into memory: warcio streams record
  content, and the reader only ever reads ``max_record_size + 1`` bytes of a body.

Memory therefore stays bounded by ``max_record_size`` whatever the file holds.
"""

from __future__ import annotations

import gzip
import logging
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from w3lib.encoding import http_content_type_encoding
from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed
from warcio.recordloader import ArcWarcRecord

from core.errors import InputError
from core.items import FetchedPage
from core.urls import site_of_url

logger = logging.getLogger(__name__)

__all__ = ["WarcReader", "check_warc", "read_warc_pages"]

_GZIP_MAGIC = b"\x1f\x8b\x08"
_WARC_MAGIC = b"WARC/1."
_SCAN_CHUNK = 1 << 20
# what warcio raises on damaged input (AttributeError: a record header cut short)
_DAMAGE = (ArchiveLoadFailed, OSError, EOFError, ValueError, zlib.error, AttributeError)


class _RecordCutOff(Exception):
    """The file ended before the record's declared length."""


class _Damaged(Exception):
    """Reading stopped at ``offset`` (bytes into the file) for ``reason``."""

    def __init__(self, offset: int, reason: str) -> None:
        super().__init__(reason)
        self.offset = offset
        self.reason = reason


def _load_failure(exc: BaseException) -> str:
    """warcio's message without the raw bytes it quotes ("…, first line: <binary>")."""
    if isinstance(exc, AttributeError):
        return "a record header is incomplete"
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text.split(", first line", 1)[0].split(": first line", 1)[0]


def _is_gzip(path: Path) -> bool:
    with path.open("rb") as head:
        return head.read(2) == b"\x1f\x8b"


def _record_url(record: ArcWarcRecord) -> str:
    return record.rec_headers.get_header("WARC-Target-URI") or record.rec_headers.get_header("uri") or ""


def _warc_date(value: str | None) -> datetime:
    if value:
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            pass
    return datetime.now(UTC)


def _drain(record: ArcWarcRecord) -> None:
    """Read the rest of the record in chunks (never all at once); _RecordCutOff when the
    file ended before the record's declared length."""
    raw = record.raw_stream
    while raw.read(65536):
        pass
    if getattr(raw, "limit", 0):
        raise _RecordCutOff


def _declared_length(record: ArcWarcRecord) -> int | None:
    value = record.rec_headers.get_header("Content-Length") or record.rec_headers.get_header("length")
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


class WarcReader:
    """The ``response`` records of one WARC / WARC.gz file, as :class:`FetchedPage`\\ s.

    Iterate it once; afterwards :attr:`records` (complete records read), :attr:`too_large`
    (records skipped for their size) and :attr:`damage` (one line per damaged stretch, empty
    for a sound file) say what happened."""

    def __init__(self, path: Path, *, max_record_size: int | None = None) -> None:
        self.path = path
        self.max_record_size = max_record_size
        self.records = 0
        self.too_large = 0
        self.damage: list[str] = []
        self._last_member: int | None = None  # where the last complete record began

    def check(self) -> None:
        """InputError unless the file opens as a WARC and its first record parses."""
        try:
            with self.path.open("rb") as stream:
                for number, record in enumerate(ArchiveIterator(stream)):
                    self._check_format(number, record)
                    return
        except OSError as exc:
            if isinstance(exc, FileNotFoundError | PermissionError | IsADirectoryError):
                raise InputError(f"cannot read {self.path}: {exc.strerror}") from exc
            raise InputError(f"{self.path} is not a readable WARC file: {_load_failure(exc)}") from exc
        except _DAMAGE as exc:
            raise InputError(f"{self.path} is not a readable WARC file: {_load_failure(exc)}") from exc
        raise InputError(f"{self.path} is not a readable WARC file: no WARC record found")

    def _check_format(self, number: int, record: ArcWarcRecord) -> None:
        url = _record_url(record)
        real_arc = url.startswith(("http://", "https://", "filedesc:"))
        if number == 0 and record.format == "arc" and not real_arc:
            # warcio reads anything without a WARC header as an ARC file; real ARC records name a URL
            raise InputError(f"{self.path} is not a readable WARC file: no WARC or ARC header found")

    def __iter__(self) -> Iterator[FetchedPage]:
        gzipped = _is_gzip(self.path)
        marker = _GZIP_MAGIC if gzipped else _WARC_MAGIC
        try:
            stream = self.path.open("rb")
        except OSError as exc:
            raise InputError(f"cannot read {self.path}: {exc.strerror}") from exc
        with stream:
            start = 0
            damaged: _Damaged | None = None  # the stretch being skipped, until records read again
            while True:
                before = self.records
                try:
                    yield from self._pages_from(stream, start, first=start == 0)
                except _Damaged as found:
                    if damaged is not None and self.records > before:
                        self._note(damaged, start)
                        damaged = None
                    damaged = damaged or found
                    resume = _find(stream, marker, found.offset + 1)
                    if resume is None:
                        self._note(damaged, None)
                        return
                    start = resume
                    continue
                if damaged is not None:
                    self._note(damaged, start)
                elif gzipped:
                    self._check_last_member(stream)
                if self.records == 0 and not self.damage:
                    self.damage.append(f"{self.path}: no WARC record found")
                return

    def _pages_from(self, stream: BinaryIO, start: int, *, first: bool) -> Iterator[FetchedPage]:
        stream.seek(start)
        iterator = ArchiveIterator(stream)
        offset = start  # where the record being read begins
        number = 0
        while True:
            try:
                record = next(iterator, None)
                if record is None:
                    if _data_after(stream, offset):
                        # warcio reads a record header cut short as the end of the file
                        raise _Damaged(offset, "truncated inside a record header")
                    return
                if first:
                    self._check_format(number, record)
                page = self._page(record)
                offset = start + iterator.get_record_offset() + iterator.get_record_length()
            except InputError:
                raise
            except _RecordCutOff as exc:
                name = _record_url(record) or "an unnamed page"
                raise _Damaged(offset, f"truncated inside the record of {name}") from exc
            except _DAMAGE as exc:
                raise _Damaged(offset, _load_failure(exc)) from exc
            number += 1
            self.records += 1
            self._last_member = start + iterator.get_record_offset()
            if page is not None:
                yield page

    def _page(self, record: ArcWarcRecord) -> FetchedPage | None:
        """The page of a ``response`` record (None for other records and ones too large);
        the whole record is consumed either way, in chunks."""
        if record.format != "arc" and record.rec_headers.get_header("Content-Length") is None:
            # every WARC record declares its length: without one the header was cut short
            raise _RecordCutOff
        if record.rec_type != "response" or record.http_headers is None:
            _drain(record)
            return None
        limit = self.max_record_size
        declared = _declared_length(record)
        if limit is not None and declared is not None and declared > limit:
            self._skip_too_large(record)
            return None
        body = record.content_stream().read() if limit is None else record.content_stream().read(limit + 1)
        if limit is not None and len(body) > limit:
            # the declared length was small but the content decodes larger (gzip, chunked)
            self._skip_too_large(record)
            return None
        _drain(record)
        url = _record_url(record)
        content_type = record.http_headers.get_header("Content-Type") or ""
        return FetchedPage(
            url=url,
            final_url=url,
            status=int(record.http_headers.get_statuscode() or 0),
            headers={k: v for k, v in record.http_headers.headers},
            body=body,
            encoding=http_content_type_encoding(content_type),
            fetched_at=_warc_date(record.rec_headers.get_header("WARC-Date")),
            # our own `export --format warc` names the site; other WARCs: the host
            site=record.rec_headers.get_header("WARC-Newsarchive-Site") or site_of_url(url),
        )

    def _skip_too_large(self, record: ArcWarcRecord) -> None:
        _drain(record)
        self.too_large += 1
        logger.warning(
            "Skipped a WARC record larger than %(limit)d bytes: %(url)s",
            {"limit": self.max_record_size, "url": _record_url(record)},
        )

    def _check_last_member(self, stream: BinaryIO) -> None:
        """A .warc.gz cut inside its last gzip member's trailer reads as a complete
        record; decompressing that member to its end shows it is truncated."""
        start = self._last_member
        if start is None:
            return
        stream.seek(start)
        try:
            with gzip.GzipFile(fileobj=stream, mode="rb") as member:
                while member.read(_SCAN_CHUNK):
                    pass
        except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
            self.damage.append(f"{self.path}: truncated in its last gzip member ({exc})")

    def _note(self, damaged: _Damaged, resume: int | None) -> None:
        after = f"read on from byte {resume}" if resume is not None else "nothing readable after it"
        message = f"{self.path}: {damaged.reason} at byte {damaged.offset}, {after}"
        # the caller reports the damage (import: one Error line); a log line would repeat it
        logger.info("%(message)s", {"message": message})
        self.damage.append(message)


def _data_after(stream: BinaryIO, offset: int) -> bool:
    """Whether anything but blank lines follows ``offset``, read in chunks."""
    stream.seek(offset)
    while chunk := stream.read(_SCAN_CHUNK):
        if chunk.strip():
            return True
    return False


def _find(stream: BinaryIO, marker: bytes, start: int) -> int | None:
    """The offset of the next ``marker`` at or after ``start``, read in chunks."""
    position = start
    stream.seek(position)
    tail = b""
    while chunk := stream.read(_SCAN_CHUNK):
        data = tail + chunk
        found = data.find(marker)
        if found >= 0:
            return position - len(tail) + found
        tail = data[-(len(marker) - 1) :]
        position += len(chunk)
    return None


def check_warc(path: Path) -> None:
    """InputError unless ``path`` opens as a WARC and its first record parses: a wrong
    file among several is refused before anything is imported."""
    WarcReader(path).check()


def read_warc_pages(path: Path, *, max_record_size: int | None = None) -> Iterator[FetchedPage]:
    """Yield every complete ``response`` record of ``path`` as a FetchedPage, then raise
    InputError if the file was damaged (after the records that could be read)."""
    reader = WarcReader(path, max_record_size=max_record_size)
    yield from reader
    if reader.damage:
        raise InputError("; ".join(reader.damage))
