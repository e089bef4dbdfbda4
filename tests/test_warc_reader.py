"""WARC import salvages: damaged files give up every record they still hold, huge records
are skipped without being read into memory. Real WARC files written with warcio (and one
written by hand, streamed, for the 200 MB record), the real CLI, a real SQLite archive."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

import pytest
from click.testing import CliRunner
from warcio.archiveiterator import ArchiveIterator

from core.errors import InputError
from crawler.cli import main
from pipelines.warc_reader import WarcReader, read_warc_pages
from tests.demo_pages import ARTICLE_PATHS, page
from tests.warc_util import write_warc

BASE = "http://www.demo.test"


def _warc(path: Path, paths: list[str]) -> Path:
    return write_warc(path, [(BASE + p, page(p)) for p in paths])


def _record_ends(path: Path) -> list[tuple[int, int, str]]:
    """(start, end, url) of every record of a sound file."""
    ends = []
    with path.open("rb") as stream:
        iterator = ArchiveIterator(stream)
        for record in iterator:
            url = record.rec_headers.get_header("WARC-Target-URI")
            record.content_stream().read()
            start = iterator.get_record_offset()
            ends.append((start, start + iterator.get_record_length(), url))
    return ends


def _export(db: str) -> list[dict]:
    result = CliRunner().invoke(main, ["--db", db, "export", "--format", "jsonl"])
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.output.splitlines() if line.strip()]


@pytest.mark.parametrize("name", ["pages.warc.gz", "pages.warc"])
def test_a_cut_anywhere_gives_every_record_before_it(tmp_path: Path, name: str) -> None:
    sound = _warc(tmp_path / name, ARTICLE_PATHS[:4])
    data = sound.read_bytes()
    records = _record_ends(sound)
    bodies = {page.url: page.body for page in WarcReader(sound)}
    assert len(records) == len(bodies) == 4
    # uncompressed, the two blank lines after a record are not part of it
    slack = 0 if name.endswith(".gz") else 4
    cut = tmp_path / f"cut-{name}"
    for length in range(1, len(data), max(1, len(data) // 97)):
        cut.write_bytes(data[:length])
        reader = WarcReader(cut)
        got = {page.url: page.body for page in reader}
        before = [url for _, end, url in records if end <= length]
        assert list(got)[: len(before)] == before, length  # every record before the cut
        # and at most the one the cut is in, only when its content is whole (a .gz cut in
        # the member's last bytes, after the content): never a record cut short
        assert len(got) <= len(before) + 1, length
        assert all(got[url] == bodies[url] for url in got), length
        if not any(end <= length <= end + slack for _, end, _ in records):
            assert len(reader.damage) == 1 and str(cut) in reader.damage[0], length
            with pytest.raises(InputError):  # the strict reading raises after the records
                list(read_warc_pages(cut))


def test_a_corrupt_member_in_the_middle_keeps_the_records_after_it(tmp_path: Path) -> None:
    sound = _warc(tmp_path / "pages.warc.gz", ARTICLE_PATHS[:5])
    records = _record_ends(sound)
    data = bytearray(sound.read_bytes())
    start, end, broken_url = records[2]
    middle = (start + end) // 2
    data[middle : middle + 64] = bytes(64)  # zeroes over the compressed data of record 3
    damaged = tmp_path / "damaged.warc.gz"
    damaged.write_bytes(bytes(data))
    reader = WarcReader(damaged)
    got = [p.url for p in reader]
    assert got == [url for _, _, url in records if url != broken_url]
    assert len(reader.damage) == 1 and "read on from byte" in reader.damage[0]


@pytest.mark.slow
def test_import_of_a_truncated_file_stores_what_it_can_and_exits_1(tmp_path: Path, sqlite_db: str) -> None:
    sound = _warc(tmp_path / "pages.warc.gz", ARTICLE_PATHS[:4])
    records = _record_ends(sound)
    data = sound.read_bytes()
    middle = [(start + end) // 2 for start, end, _ in records]
    for n, length in enumerate([middle[1], records[2][0] + 3, middle[3]]):
        db = str(tmp_path / f"archive-{n}.db")
        cut = tmp_path / f"cut-{n}.warc.gz"
        cut.write_bytes(data[:length])
        result = CliRunner().invoke(main, ["--db", db, "import", str(cut)])
        assert result.exit_code == 1, result.output
        errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
        assert len(errors) == 1 and "damaged" in errors[0] and str(cut) in errors[0]
        assert "Traceback" not in result.output
        intact = {url for _, end, url in records if end <= length}
        assert {row["url"] for row in _export(db)} == intact
        assert len(intact) == max(1, n + 1)


def test_import_of_a_corrupt_member_stores_the_records_around_it(tmp_path: Path, sqlite_db: str) -> None:
    sound = _warc(tmp_path / "pages.warc.gz", ARTICLE_PATHS[:5])
    records = _record_ends(sound)
    data = bytearray(sound.read_bytes())
    start, end, broken_url = records[1]
    middle = (start + end) // 2
    data[middle : middle + 64] = bytes(b ^ 0x55 for b in data[middle : middle + 64])
    damaged = tmp_path / "corrupt.warc.gz"
    damaged.write_bytes(bytes(data))
    result = CliRunner().invoke(main, ["--db", sqlite_db, "import", str(damaged)])
    assert result.exit_code == 1, result.output
    errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and "damaged WARC" in errors[0] and "read on from byte" in errors[0]
    assert {row["url"] for row in _export(sqlite_db)} == {url for _, _, url in records if url != broken_url}


def test_records_over_the_limit_are_skipped_and_counted(tmp_path: Path, sqlite_db: str) -> None:
    warc = _warc(tmp_path / "pages.warc.gz", ARTICLE_PATHS[:3])
    size = len(page(ARTICLE_PATHS[0]))
    assert all(len(page(p)) < size for p in ARTICLE_PATHS[1:3]), "the first page is the biggest"
    reader = WarcReader(warc, max_record_size=size - 1)
    assert [p.url for p in reader] == [BASE + ARTICLE_PATHS[1], BASE + ARTICLE_PATHS[2]]
    assert reader.too_large == 1 and reader.damage == []
    result = CliRunner().invoke(
        main, ["--db", sqlite_db, "import", "--max-record-size", str(size - 1), str(warc)]
    )
    assert result.exit_code == 0, result.output
    assert "1 too_large" in result.output
    assert {row["url"] for row in _export(sqlite_db)} == {BASE + ARTICLE_PATHS[1], BASE + ARTICLE_PATHS[2]}


def test_max_record_size_takes_units_and_refuses_nonsense(tmp_path: Path, sqlite_db: str) -> None:
    warc = _warc(tmp_path / "pages.warc.gz", ARTICLE_PATHS[:1])
    ok = CliRunner().invoke(main, ["--db", sqlite_db, "import", "--max-record-size", "1KiB", str(warc)])
    assert ok.exit_code == 0 and "1 too_large" in ok.output, ok.output
    bad = CliRunner().invoke(main, ["--db", sqlite_db, "import", "--max-record-size", "lots", str(warc)])
    assert bad.exit_code == 2 and bad.output.startswith("Error: ") and len(bad.output.splitlines()) == 1
    helped = CliRunner().invoke(main, ["import", "--help"])
    assert "--max-record-size" in helped.output and "DOWNLOAD_MAXSIZE" in helped.output


def _gzip_member(out: BinaryIO, chunks: Iterable[bytes]) -> None:
    with gzip.GzipFile(fileobj=out, mode="wb", compresslevel=1) as member:
        for chunk in chunks:
            member.write(chunk)


def _write_record(out: BinaryIO, url: str, body_chunks: Iterable[bytes], body_length: int) -> None:
    """One WARC response record as its own gzip member, the body streamed in chunks."""
    http = (
        f"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {body_length}\r\n\r\n"
    )
    http_bytes = http.encode()
    head = (
        "WARC/1.0\r\nWARC-Type: response\r\n"
        f"WARC-Target-URI: {url}\r\nWARC-Date: 2024-05-03T08:00:00Z\r\n"
        f"WARC-Record-ID: <urn:uuid:{abs(hash(url)):032x}>\r\n"
        "Content-Type: application/http; msgtype=response\r\n"
        f"Content-Length: {len(http_bytes) + body_length}\r\n\r\n"
    ).encode()

    def chunks() -> Iterator[bytes]:
        yield head + http_bytes
        yield from body_chunks
        yield b"\r\n\r\n"

    _gzip_member(out, chunks())


@pytest.mark.slow
def test_a_200_mb_record_is_skipped_in_bounded_memory(tmp_path: Path, sqlite_db: str) -> None:
    """Good records before and after a 200 MB one: the good ones are stored, the big one
    counted, and the import's peak RSS (its own process) stays under 400 MB."""
    warc = tmp_path / "big.warc.gz"
    filler = b"<p>" + b"x" * 1020 + b"</p>\n"  # 1 KiB of markup
    count = 200 * 1024
    first, last = ARTICLE_PATHS[0], ARTICLE_PATHS[2]
    with warc.open("wb") as out:
        body = page(first)
        _write_record(out, BASE + first, [body], len(body))
        _write_record(out, BASE + "/huge.html", (filler for _ in range(count)), len(filler) * count)
        body = page(last)
        _write_record(out, BASE + last, [body], len(body))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    # a fresh parent whose only descendants are the import and its workers: its
    # RUSAGE_CHILDREN peak is theirs alone (KiB on Linux)
    measure = (
        "import resource, subprocess, sys\n"
        "done = subprocess.run(sys.argv[1:])\n"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr)\n"
        "sys.exit(done.returncode)\n"
    )
    command = [sys.executable, "-m", "crawler", "--db", sqlite_db, "import", "--workers", "1", str(warc)]
    done = subprocess.run(
        [sys.executable, "-c", measure, *command], capture_output=True, text=True, timeout=300, env=env
    )
    assert done.returncode == 0, done.stderr
    peak_kib = int(done.stderr.strip().splitlines()[-1])
    assert "1 too_large" in done.stdout
    assert {row["url"] for row in _export(sqlite_db)} == {BASE + first, BASE + last}
    print(f"peak RSS of import with a 200 MiB record: {peak_kib / 1024:.0f} MiB")
    assert peak_kib < 400 * 1024, f"peak RSS {peak_kib / 1024:.0f} MiB"
