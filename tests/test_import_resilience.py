"""`import` on an archive that stops taking writes, a template refresh that fails, and a
run that is busy for longer than its heartbeat's staleness: real WARCs, real SQLite files
(the archive made to refuse writes by a trigger of its own), no mocks."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from core.errors import ArchiveUnwritable
from crawler.cli import main
from pipelines.ingest import FAILED_BATCHES_TO_STOP
from pipelines.run_record import recorded_run
from pipelines.warc_import import import_warcs
from storage import CrawlRun, open_archive
from tests.test_crawl_support import synthetic_pages
from tests.warc_util import write_warc

SITE = "http://news.example.org"


def _warc(tmp_path: Path, count: int) -> Path:
    pages = synthetic_pages(count)
    records = [(SITE + path, body) for path, body in pages.items() if path != "/"]
    return write_warc(tmp_path / "pages.warc.gz", records)


def _refuse(db: str, table: str) -> None:
    with sqlite3.connect(db) as conn:
        conn.execute(f"CREATE TRIGGER refuse_{table} BEFORE INSERT ON {table} "
                     "BEGIN SELECT RAISE(ABORT, 'the archive refuses writes'); END")


def _allow(db: str, table: str) -> None:
    with sqlite3.connect(db) as conn:
        conn.execute(f"DROP TRIGGER refuse_{table}")


def _count(db: str, sql: str) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute(sql).fetchone()[0])


@pytest.mark.slow
def test_import_stops_after_a_few_batches_that_store_nothing_and_loses_nothing(
    tmp_path: Path, sqlite_db: str
) -> None:
    """Every article refused: the import stops after FAILED_BATCHES_TO_STOP batches (not
    after trying all 60 pages one by one) with one line; the file's recorded progress has
    not moved, so the next import, once the archive takes writes again, stores every page."""
    db = sqlite_db
    warc = _warc(tmp_path, 60)
    open_archive(db).close()
    _refuse(db, "article")
    archive = open_archive(db)
    with pytest.raises(ArchiveUnwritable) as stopped:
        with recorded_run(archive, "import") as run:
            import_warcs(archive, [warc], workers=1, run_id=run.run_id, track=True, batch_size=5)
    message = str(stopped.value)
    assert "\n" not in message
    assert message.startswith(
        f"cannot write the archive: nothing could be stored in {FAILED_BATCHES_TO_STOP} batches in a row ("
    )
    assert "refuses writes" in message
    with archive.session() as session:
        status, reason = session.execute(select(CrawlRun.status, CrawlRun.reason)).one()
    assert (status, reason) == ("failed", message)
    archive.close()
    assert _count(db, "SELECT count(*) FROM article") == 0
    assert _count(db, "SELECT coalesce(max(position), 0) FROM job_part") == 0

    _allow(db, "article")
    archive = open_archive(db)
    with recorded_run(archive, "import") as run:
        stats = import_warcs(archive, [warc], workers=1, run_id=run.run_id, track=True, batch_size=5)
    archive.close()
    assert stats.failed == 0 and stats.outcomes["new"] == 60 and not stats.skipped
    assert _count(db, "SELECT count(*) FROM article") == 60


def test_a_failed_template_refresh_is_not_reported_as_articles_not_stored(
    tmp_path: Path, sqlite_db: str
) -> None:
    db = sqlite_db
    warc = _warc(tmp_path, 6)
    open_archive(db).close()
    _refuse(db, "site_template_line")
    result = CliRunner().invoke(main, ["--db", db, "import", "--workers", "1", str(warc)])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert "6 new" in result.output  # stored, and said so
    assert "not stored" not in result.output
    error = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(error) == 1 and error[0].startswith("Error: cannot refresh the site templates ("), error
    assert "refuses writes" in error[0] and "every article is stored" in error[0]
    with sqlite3.connect(db) as conn:
        status, reason, errors = conn.execute("SELECT status, reason, errors FROM crawl_run").fetchone()
    assert status == "failed" and reason.startswith("cannot refresh the site templates")
    assert '"templates": 1' in errors and '"storage"' not in errors
    assert _count(db, "SELECT count(*) FROM article") == 6
    # the next refresh learns what this one missed: the articles are not counted yet
    _allow(db, "site_template_line")
    assert CliRunner().invoke(main, ["--db", db, "import", "--workers", "1", str(warc)]).exit_code == 0
    assert _count(db, "SELECT coalesce(sum(counted_pages), 0) FROM site_template") == 6


def test_a_run_busy_between_commits_keeps_its_heartbeat(sqlite_db: str) -> None:
    """No batch commits for a while (a long batch, a long template refresh): the run's
    heartbeat is refreshed anyway, so its parts are not taken over as a dead run's."""
    archive = open_archive(sqlite_db)

    def heartbeat() -> float:
        with archive.session() as session:
            beat = session.scalar(select(CrawlRun.heartbeat_at))
            assert beat is not None
            return beat.timestamp()

    with recorded_run(archive, "import", heartbeat_seconds=0.2):
        started = heartbeat()
        deadline = time.monotonic() + 30
        while heartbeat() == started:  # nothing committed by the "job" meanwhile
            assert time.monotonic() < deadline, "the heartbeat was not refreshed"
            time.sleep(0.1)
    archive.close()
