"""Re-extraction and import split across processes (as across machines) on the real
PostgreSQL: `reextract --shard K/N` and `import --shard K/N` / `--claim` cover every article
or file once, no process does another's part, and a SIGKILLed part's re-run resumes where
it stopped instead of starting over."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

from storage import open_archive, store_article
from tests.test_crawl_support import cli, synthetic_article
from tests.test_storage_data import article_for, page_for
from tests.warc_util import write_warc

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
BASE = "https://news.test/2020/0301/"


def stale_text(n: int) -> str:
    """A text of its own for article ``n``, which the extractor will not make of its page:
    re-extracting the article makes a new version (reason ``reextract``)."""
    rnd = random.Random(-n - 1)
    return " ".join(f"{rnd.getrandbits(40):x}" for _ in range(60))


def fill_stale(db: str, count: int) -> None:
    archive = open_archive(db)
    try:
        with archive.session() as session, session.begin():
            for n in range(count):
                url = f"{BASE}{n}.html"
                page = page_for(url, "", site="news", body=synthetic_article(n))
                article = article_for(url, stale_text(n), title=f"Story {n}: council news")
                store_article(session, page, article)
    finally:
        archive.close()


@pytest.fixture
def engine(pg_url: str) -> Iterator[Engine]:
    engine = create_engine(pg_url)
    yield engine
    engine.dispose()


def rows(engine: Engine, sql: str, **params: Any) -> list[Any]:
    with engine.connect() as connection:
        return list(connection.execute(text(sql), params))


def reextract_versions(engine: Engine) -> dict[int, int]:
    """Article id -> how many versions re-extraction made of it."""
    counts = rows(engine, "SELECT a.id, count(v.id) FROM article a LEFT JOIN article_version v "
                          "ON v.article_id = a.id AND v.reason = 'reextract' GROUP BY a.id")
    return {article_id: n for article_id, n in counts}


def start(*args: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("NEWSARCHIVE_DB", "NEWSARCHIVE_REDIS_URL")}
    env |= {"NEWSARCHIVE_PROGRESS": "log", "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, env=env, cwd=ROOT)


def wait_until(check: Any, what: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"{what}: not within {timeout}s"
        time.sleep(0.1)


def test_reextract_shards_in_concurrent_processes_cover_every_article_once(
    pg_url: str, engine: Engine
) -> None:
    fill_stale(pg_url, 60)
    ids = [i for (i,) in rows(engine, "SELECT id FROM article ORDER BY id")]
    shards = [start("-m", "crawler", "--db", pg_url, "reextract", "--workers", "1", "--shard", f"{k}/3")
              for k in (1, 2, 3)]
    outputs = [shard.communicate(timeout=300)[0] for shard in shards]
    assert [shard.returncode for shard in shards] == [0, 0, 0], outputs

    # every article re-extracted, none twice: each run checked exactly its shard
    assert set(reextract_versions(engine).values()) == {1}
    checked = rows(engine, "SELECT stats->>'shard', pages_fetched FROM crawl_run WHERE kind = 'reextract'")
    assert sorted(checked) == [(f"{k}/3", sum(1 for i in ids if i % 3 == k - 1)) for k in (1, 2, 3)]
    assert sum(n for _, n in checked) == len(ids)
    assert rows(engine, "SELECT part, done FROM job_part ORDER BY part") == [
        ("1/3", True), ("2/3", True), ("3/3", True)]

    again = cli("--db", pg_url, "reextract", "--shard", "2/3")
    assert again.returncode == 0 and "finished by an earlier run" in again.stdout
    redo = cli("--db", pg_url, "reextract", "--shard", "2/3", "--redo")
    assert redo.returncode == 0 and "Checked 20:" in redo.stdout, redo.stdout + redo.stderr


# A shard 1/2 re-extracted slowly (a second per article, five per batch), so
# that it can be killed half-way; the same job as the command's (same extractor version).
SLOW_SHARD = """
import sys, time
from core.shard import Shard
from pipelines.extraction import EXTRACTOR_VERSION, extract_article
from pipelines.reextract import reextract
from pipelines.run_record import recorded_run
from storage import open_archive

def slowly(*args, **kwargs):
    time.sleep(1.0)
    return extract_article(*args, **kwargs)

archive = open_archive(sys.argv[1])
with recorded_run(archive, "reextract") as run:
    reextract(archive, extract=slowly, extractor_version=EXTRACTOR_VERSION, batch=5,
              run_id=run.run_id, shard=Shard.parse("1/2"))
"""


def test_a_killed_shard_is_resumed_where_it_stopped_and_a_live_one_is_not_taken(
    pg_url: str, engine: Engine
) -> None:
    fill_stale(pg_url, 60)
    shard = [i for (i,) in rows(engine, "SELECT id FROM article WHERE id % 2 = 0 ORDER BY id")]
    slow = start("-c", SLOW_SHARD, pg_url)
    try:
        wait_until(lambda: rows(engine, "SELECT position FROM job_part WHERE position >= :at",
                                at=shard[5]), "a batch of the shard re-extracted")
        taken = cli("--db", pg_url, "reextract", "--shard", "1/2")
        assert taken.returncode == 1 and "is being re-extracted by run" in taken.stderr, taken.stderr
    finally:
        slow.send_signal(signal.SIGKILL)
        slow.wait(30)
    ((stopped_at, done),) = rows(engine, "SELECT position, done FROM job_part")
    assert not done and stopped_at in shard and stopped_at != shard[-1]
    finished = sorted(i for i, n in reextract_versions(engine).items() if n)
    assert finished == [i for i in shard if i <= stopped_at]  # committed exactly as recorded

    rerun = cli("--db", pg_url, "reextract", "--shard", "1/2", "--workers", "1")
    assert rerun.returncode == 0, rerun.stderr
    assert f"resumed after article {stopped_at}" in rerun.stdout
    left = [i for i in shard if i > stopped_at]
    assert f"Checked {len(left)}:" in rerun.stdout  # not one of the finished articles again
    versions = reextract_versions(engine)
    assert all(versions[i] == 1 for i in shard) and not any(versions[i] for i in versions if i % 2)
    statuses = rows(engine, "SELECT status FROM crawl_run WHERE kind = 'reextract' ORDER BY id")
    assert [s for (s,) in statuses] == ["interrupted", "failed", "ok"]  # killed, refused, resumed


def warcs(folder: Path, files: int, per_file: int) -> list[Path]:
    """``files`` WARC files of ``per_file`` articles each, every article of its own."""
    folder.mkdir(exist_ok=True)
    return [
        write_warc(folder / f"crawl-{f:02d}.warc.gz", [
            (f"{BASE}{f * per_file + n}.html", synthetic_article(f * per_file + n)) for n in range(per_file)])
        for f in range(files)
    ]


def import_runs(engine: Engine) -> list[Any]:
    return rows(engine, "SELECT status, pages_fetched, articles_new, articles_unchanged, articles_updated, "
                        "articles_duplicate FROM crawl_run WHERE kind = 'import' ORDER BY id")


@pytest.mark.parametrize("split", ["shard", "claim"])
def test_importers_given_the_same_files_import_each_once(
    pg_url: str, engine: Engine, tmp_path: Path, split: str
) -> None:
    files = warcs(tmp_path / "warcs", 6, 12)
    assert cli("--db", pg_url, "db", "upgrade").returncode == 0  # not the race under test
    how = [["--shard", f"{k}/3"] if split == "shard" else ["--claim"] for k in (1, 2, 3)]
    importers = [start("-m", "crawler", "--db", pg_url, "import", "--workers", "1", *options,
                       *map(str, files)) for options in how]
    outputs = [importer.communicate(timeout=600)[0] for importer in importers]
    assert [importer.returncode for importer in importers] == [0, 0, 0], outputs

    assert rows(engine, "SELECT count(*) FROM article") == [(72,)]
    runs = import_runs(engine)
    # no file was imported twice: no article was stored a second time ("unchanged")
    assert sum(r.articles_new + r.articles_duplicate for r in runs) == 72
    assert not any(r.articles_unchanged or r.articles_updated for r in runs)
    assert sum(r.pages_fetched for r in runs) == 72 and all(r.status == "ok" for r in runs)
    parts = rows(engine, "SELECT part, done FROM job_part ORDER BY part")
    assert [(part.split(":")[0], done) for part, done in parts] == [(f.name, True) for f in files]

    again = cli("--db", pg_url, "import", "--claim", *map(str, files))
    assert again.returncode == 0 and "Imported 0 pages from 0 file(s)" in again.stdout
    assert again.stderr.count("imported by an earlier run") == 6


def test_a_killed_import_is_resumed_after_its_committed_pages_and_a_live_one_keeps_its_file(
    pg_url: str, engine: Engine, tmp_path: Path
) -> None:
    (big,) = warcs(tmp_path / "warcs", 1, 700)
    first = start("-m", "crawler", "--db", pg_url, "import", "--workers", "1", "--claim", str(big))
    try:
        wait_until(lambda: rows(engine, "SELECT 1 WHERE to_regclass('job_part') IS NOT NULL") and rows(
            engine, "SELECT position FROM job_part WHERE position >= 100"), "a batch of the file imported")
        second = cli("--db", pg_url, "import", "--workers", "1", "--claim", str(big))
        assert second.returncode == 0 and "Imported 0 pages from 0 file(s)" in second.stdout
        assert "being imported by run" in second.stderr
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(30)
    ((done_pages, done),) = rows(engine, "SELECT position, done FROM job_part")
    assert not done and 100 <= done_pages < 700
    assert rows(engine, "SELECT count(*) FROM article") == [(done_pages,)]  # as recorded, no more

    rerun = cli("--db", pg_url, "import", "--workers", "1", "--claim", str(big), timeout=600)
    assert rerun.returncode == 0, rerun.stderr
    assert f"Resumed {big.name}: after {done_pages} pages" in rerun.stdout
    assert rows(engine, "SELECT count(*) FROM article") == [(700,)]
    *_, last = import_runs(engine)
    assert (last.status, last.pages_fetched) == ("ok", 700 - done_pages)
    # not one page of the killed run imported again (it would be "unchanged")
    assert last.articles_new + last.articles_duplicate == 700 - done_pages
    assert last.articles_unchanged == last.articles_updated == 0
    assert rows(engine, "SELECT done FROM job_part") == [(True,)]


def test_claims_and_shards_on_sqlite(sqlite_db: str, tmp_path: Path) -> None:
    """The same records on a SQLite archive (one machine, several processes): a file is
    imported once, a finished shard is not run again."""
    files = warcs(tmp_path / "warcs", 2, 3)
    first = cli("--db", sqlite_db, "import", "--workers", "1", "--claim", *map(str, files))
    assert first.returncode == 0 and "Imported 6 pages from 2 file(s)" in first.stdout, first.stderr
    again = cli("--db", sqlite_db, "import", "--workers", "1", "--claim", *map(str, files))
    assert "Imported 0 pages from 0 file(s)" in again.stdout
    assert again.stderr.count("imported by an earlier run (run 1)") == 2
    shard = cli("--db", sqlite_db, "reextract", "--workers", "1", "--shard", "2/2")
    assert shard.returncode == 0 and "Checked 3:" in shard.stdout, shard.stderr
    done = cli("--db", sqlite_db, "reextract", "--shard", "2/2")
    assert "finished by an earlier run" in done.stdout and "Resuming" not in done.stderr
