"""Locks in the archive when it is PostgreSQL: the migration lock and the per-site crawl
lock are advisory locks, seen by every process (and machine) using the archive."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from crawler.schedule import site_lock
from tests.test_crawl_support import FAST, cli, site_table, synthetic_pages, write_config


def test_the_site_lock_on_postgresql_excludes_other_processes_and_dies_with_its_holder(pg_url: str) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import time; from crawler.schedule import site_lock; "
         f"lock = site_lock({pg_url!r}, 's'); assert lock.try_acquire(); print('held', flush=True); "
         "time.sleep(60)"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        assert site_lock(pg_url, "s").is_held_elsewhere()
        assert not site_lock(pg_url, "s").try_acquire()
        assert not site_lock(pg_url, "s", shared=True).try_acquire()  # a crawl on its own excludes workers
        assert not site_lock(pg_url, "other").is_held_elsewhere()
    finally:
        holder.kill()
        holder.wait()
    # the kernel closed its connection, and PostgreSQL released the lock
    deadline = time.monotonic() + 10
    while site_lock(pg_url, "s").is_held_elsewhere():
        assert time.monotonic() < deadline, "the killed holder's lock was never released"
        time.sleep(0.1)


def test_shared_holders_coexist_and_exclude_an_exclusive_one(pg_url: str, sqlite_db: str, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSARCHIVE_LOCK_DIR", str(tmp_path / "locks"))
    for db in (pg_url, sqlite_db):
        one, two = site_lock(db, "s", shared=True), site_lock(db, "s", shared=True)
        assert one.try_acquire() and two.try_acquire()
        assert not site_lock(db, "s").try_acquire()
        one.release()
        two.release()
        alone = site_lock(db, "s")
        assert alone.try_acquire()
        assert not site_lock(db, "s", shared=True).try_acquire()
        alone.release()


@pytest.mark.slow
def test_three_concurrent_db_upgrades_of_an_empty_postgresql_database_all_succeed(pg_url: str) -> None:
    procs = [
        subprocess.Popen([sys.executable, "-m", "crawler", "--db", pg_url, "db", "upgrade"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(3)
    ]
    outputs = [proc.communicate(timeout=120) for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0, 0], outputs
    assert not any("Error" in err or "Traceback" in err for _, err in outputs), outputs
    assert sum("upgraded" in out for out, _ in outputs) == 1  # one did it; the others found it done
    engine = create_engine(pg_url)
    with engine.connect() as connection:
        versions = connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    engine.dispose()
    assert len(versions) == 1


@pytest.mark.slow
def test_two_schedule_once_never_crawl_one_site_at_once(serve_site: Any, pg_url: str, tmp_path: Path) -> None:
    pages = synthetic_pages(6)
    home = pages["/"]

    def slow_home(handler: BaseHTTPRequestHandler) -> tuple[int, dict[str, str], bytes]:
        # a slow listing keeps the first crawl running while the second scheduler looks
        time.sleep(1.5)
        return 200, {"Content-Type": "text/html; charset=utf-8"}, home

    pages["/"] = slow_home
    site = serve_site(pages)
    config = write_config(tmp_path / "sites.toml",
                          {"shared": site_table(site.base_url, schedule="0 0 1 1 *", settings=FAST)})
    assert cli("--db", pg_url, "db", "upgrade").returncode == 0
    # two "machines": each its own lock directory, so only a lock in the archive can help
    procs = [
        subprocess.Popen([sys.executable, "-m", "crawler", "--db", pg_url, "--config", str(config),
                          "schedule", "--once", "--site", "shared"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         env={**os.environ, "NEWSARCHIVE_LOCK_DIR": str(tmp_path / f"host{n}")})
        for n in range(2)
    ]
    outputs = [proc.communicate(timeout=120) for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0], outputs
    started = sum("started crawl" in err for _, err in outputs)
    assert started == 1, outputs
    assert site.hits["/"] == 1  # the site was crawled once, by one of them
    assert all(site.hits[path] == 1 for path in pages if path.endswith(".html"))
    runs = cli("--db", pg_url, "runs", "--format", "json")
    assert runs.returncode == 0
    assert runs.stdout.count('"status": "ok"') == 1


def test_a_run_of_another_host_is_dead_when_its_heartbeat_stops(any_db: str) -> None:
    from datetime import timedelta

    from storage import CrawlRun, mark_dead_runs_interrupted, open_archive, start_run
    from storage.runs import heartbeat_run
    from storage.types import utcnow

    with open_archive(any_db) as archive:
        with archive.session() as session, session.begin():
            silent, alive, old = (start_run(session, "s", pid=1) for _ in range(3))
            for run_id in (silent, alive, old):
                run = session.get(CrawlRun, run_id)
                assert run is not None
                run.host = "another-host"  # its pid means nothing here
            session.get(CrawlRun, silent).heartbeat_at = utcnow() - timedelta(minutes=20)  # type: ignore[union-attr]
            session.get(CrawlRun, old).heartbeat_at = None  # type: ignore[union-attr]  # before heartbeats
            heartbeat_run(session, alive)
        with archive.session() as session, session.begin():
            assert mark_dead_runs_interrupted(session) == 1
        with archive.session() as session:
            status = {run_id: session.get(CrawlRun, run_id).status for run_id in (silent, alive, old)}  # type: ignore[union-attr]
            reason = session.get(CrawlRun, silent).reason  # type: ignore[union-attr]
    assert status == {silent: "interrupted", alive: "running", old: "running"}
    assert reason is not None and "no heartbeat from another-host" in reason
