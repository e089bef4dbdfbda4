"""The scheduler: which sites are due, per-site locks, and ``schedule --once`` end to end."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from crawler.profiles import SiteProfile
from crawler.schedule import due_sites, site_lock
from storage import finish_run, open_archive, start_run
from tests.test_crawl_support import (
    cli,
    news_pages,
    popen,
    runs,
    site_table,
    synthetic_pages,
    write_config,
)


def test_due_compares_the_last_cron_fire_with_the_last_run(sqlite_db: str) -> None:
    hourly = SiteProfile(name="hourly", start_urls=("http://a.example/",), schedule="0 * * * *")
    daily = SiteProfile(name="daily", start_urls=("http://b.example/",), schedule="0 6 * * *")
    never = SiteProfile(name="never", start_urls=("http://c.example/",))
    with open_archive(sqlite_db) as archive:
        now = datetime.now(UTC)
        due = {d.profile.name for d in due_sites(archive, [hourly, daily, never], now)}
        assert due == {"hourly", "daily"}
        with archive.session() as session, session.begin():
            for site in ("hourly", "daily"):
                finish_run(session, start_run(session, site, pid=1), status="ok", stats={}, errors={})
        assert due_sites(archive, [hourly, daily], datetime.now(UTC)) == []
        in_two_hours = now + timedelta(hours=2)
        assert "hourly" in {d.profile.name for d in due_sites(archive, [hourly, daily], in_two_hours)}
        in_two_days = now + timedelta(days=2)
        assert len(due_sites(archive, [hourly, daily], in_two_days)) == 2


@pytest.mark.slow
def test_lock_excludes_a_second_holder_and_dies_with_its_process(sqlite_db: str, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSARCHIVE_LOCK_DIR", str(tmp_path / "locks"))
    lock = site_lock(sqlite_db, "s")
    assert lock.try_acquire()
    assert site_lock(sqlite_db, "s").is_held_elsewhere()
    assert not site_lock(sqlite_db, "other").is_held_elsewhere()
    lock.release()
    # a process that holds the lock and is killed leaves no stale lock behind
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time; from crawler.schedule import site_lock; "
         f"lock = site_lock({sqlite_db!r}, 's'); assert lock.try_acquire(); print('held', flush=True); "
         "time.sleep(60)"],
        stdout=subprocess.PIPE, text=True, env={"NEWSARCHIVE_LOCK_DIR": str(tmp_path / "locks"),
                                                "PATH": "/usr/bin:/bin"},
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    assert site_lock(sqlite_db, "s").is_held_elsewhere()
    holder.kill()
    holder.wait()
    assert not site_lock(sqlite_db, "s").is_held_elsewhere()


@pytest.mark.slow
def test_crawl_skips_a_site_whose_lock_is_held(serve_site: Any, sqlite_db: str, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSARCHIVE_LOCK_DIR", str(tmp_path / "locks"))
    site = serve_site(news_pages())
    config = write_config(tmp_path / "sites.toml", {"local": site_table(site.base_url)})
    lock = site_lock(sqlite_db, "local")
    assert lock.try_acquire()
    try:
        result = cli("--db", sqlite_db, "--config", str(config), "crawl", "--site", "local",
                     env={"NEWSARCHIVE_LOCK_DIR": str(tmp_path / "locks")})
    finally:
        lock.release()
    assert result.returncode == 1 and "another crawl of this site is running" in result.stderr
    assert site.hits["/"] == 0


@pytest.mark.slow
def test_schedule_once_runs_both_due_sites(serve_site: Any, sqlite_db: str, tmp_path: Path) -> None:
    one, two = serve_site(news_pages()), serve_site(synthetic_pages(3))
    # both fired long ago and never yet ran, so both are due; neither fires again for months,
    # so "nothing due right after" holds however the test straddles a minute
    config = write_config(tmp_path / "sites.toml", {
        "one": site_table(one.base_url, schedule="0 0 1 1 *"),
        "two": site_table(two.base_url, schedule="30 12 1 7 *", timezone="Asia/Shanghai"),
    })
    started = time.monotonic()
    result = cli("--db", sqlite_db, "--config", str(config), "schedule", "--once", "--site", "one",
                 "--site", "two")
    assert result.returncode == 0, result.stderr
    assert time.monotonic() - started < 60
    recorded = runs(sqlite_db)
    assert sorted((r["site"], r["status"]) for r in recorded) == [("one", "ok"), ("two", "ok")]
    assert all(r["articles_new"] == 3 for r in recorded)
    # nothing is due right after: the cron has not fired since these runs started
    again = cli("--db", sqlite_db, "--config", str(config), "schedule", "--once", "--site", "one",
                "--site", "two")
    assert again.returncode == 0 and "Nothing due." in again.stderr
    assert len(runs(sqlite_db)) == 2


@pytest.mark.slow
def test_site_down_fails_while_the_other_succeeds(serve_site: Any, sqlite_db: str, tmp_path: Path) -> None:
    up = serve_site(news_pages())
    config = write_config(tmp_path / "sites.toml", {
        "up": site_table(up.base_url, schedule="* * * * *"),
        "down": site_table("http://127.0.0.1:9", schedule="* * * * *"),
        "badcron": {**site_table(up.base_url), "schedule": "61 * * * *"},
    })
    result = cli("--db", sqlite_db, "--config", str(config), "schedule", "--once",
                 "--site", "up", "--site", "down", "--site", "badcron")
    assert result.returncode == 2  # a broken profile is a config error; the others still ran
    assert "Error: badcron: not scheduled" in result.stderr and "bad cron expression" in result.stderr
    assert "down: crawl failed" in result.stderr
    by_site = {r["site"]: r for r in runs(sqlite_db)}
    assert by_site["up"]["status"] == "ok" and by_site["up"]["articles_new"] == 3
    assert by_site["down"]["status"] == "failed" and "unreachable" in by_site["down"]["reason"]
    assert by_site["badcron"]["status"] == "failed" and "bad cron" in by_site["badcron"]["reason"]


@pytest.mark.slow
def test_runs_table_and_json(sqlite_db: str) -> None:
    with open_archive(sqlite_db) as archive, archive.session() as session, session.begin():
        run_id = start_run(session, "s", pid=1)
        finish_run(session, run_id, status="failed", stats={"pages_fetched": 2, "articles_duplicate": 3},
                   errors={"http_500": 2}, reason="bad2.toml: [sites.s]: schedule: bad cron expression")
    table = cli("--db", sqlite_db, "runs", "--site", "s")
    assert table.returncode == 0 and "failed" in table.stdout and "http_500" in table.stdout
    # the reason as written (not read as rich markup), the kind, end time, duration, copies
    assert "[sites.s]" in table.stdout and "crawl" in table.stdout
    for column in ("finished", "took", "copies"):
        assert column in table.stdout
    (run,) = runs(sqlite_db)
    assert run["errors"] == {"http_500": 2} and run["pages_fetched"] == 2
    assert run["kind"] == "crawl" and run["articles_duplicate"] == 3 and run["finished_at"]
    assert run["duration_seconds"] is not None and run["duration_seconds"] >= 0
    assert cli("--db", sqlite_db, "runs", "--site", "other", "--format", "json").stdout.strip() == "[]"
    missing = cli("--db", sqlite_db + ".missing", "runs")
    assert missing.returncode == 1 and missing.stderr.startswith("Error: no archive at")


@pytest.mark.slow
def test_foreground_scheduler_starts_due_crawls_and_stops_on_sigterm(serve_site: Any, sqlite_db: str,
                                                                     tmp_path: Path) -> None:
    site = serve_site(news_pages())
    config = write_config(tmp_path / "sites.toml", {"local": site_table(site.base_url, schedule="0 0 1 1 *")})
    scheduler = popen("--db", sqlite_db, "--config", str(config), "schedule", "--site", "local",
                      "--poll", "1")
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not (
            Path(sqlite_db).exists() and [r for r in runs(sqlite_db) if r["status"] == "ok"]
        ):
            time.sleep(0.5)
        time.sleep(2)  # a couple more polls: the site is not due again
    finally:
        scheduler.send_signal(signal.SIGTERM)
        output, _ = scheduler.communicate(timeout=60)
    assert scheduler.returncode == 0, output
    assert "local: started crawl" in output and "local: crawl finished" in output
    assert [(r["site"], r["status"]) for r in runs(sqlite_db)] == [("local", "ok")]
