"""Runs on the one ingest path, as a user runs them: a SIGKILLed crawl, import or
reextract leaves no process of its own behind and a run record that says what it
committed; `import` and `reextract` are recorded runs with their kind."""

from __future__ import annotations

import signal
import time
from pathlib import Path
from typing import Any

import psutil
import pytest

from tests.demo_pages import ARTICLE_PATHS, page
from tests.test_crawl_support import cli, popen, query, runs, site_table, synthetic_article, write_config
from tests.test_incremental import slow_site, wait_for_articles
from tests.warc_util import write_warc

pytestmark = pytest.mark.slow

BASE = "http://www.demo.test"


def _family(pid: int) -> list[psutil.Process]:
    """The process and every descendant it has started (workers, resource tracker …)."""
    root = psutil.Process(pid)
    return [root, *root.children(recursive=True)]


def _wait_for_children(pid: int, at_least: int, timeout: float = 60) -> list[psutil.Process]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        family = _family(pid)
        if len(family) - 1 >= at_least:
            return family
        time.sleep(0.1)
    raise AssertionError(f"process {pid} did not start {at_least} children in {timeout}s")


def _assert_all_gone(family: list[psutil.Process], within: float = 10) -> None:
    _, alive = psutil.wait_procs(family, timeout=within)
    left = [f"{p.pid} {' '.join(p.cmdline()[:4])}" for p in alive if p.is_running()]
    for process in alive:  # do not leave them to the next test
        process.kill()
    assert not left, f"still running {within}s after SIGKILL: {left}"


def test_sigkilled_crawl_leaves_no_process_and_a_run_record_of_what_it_committed(
    serve_site: Any, sqlite_db: str, tmp_path: Path
) -> None:
    site, paths = slow_site(serve_site, count=40, delay=0.3)
    config = write_config(tmp_path / "sites.toml", {"local": site_table(
        site.base_url, settings={"CONCURRENT_REQUESTS_PER_DOMAIN": 1, "EXTRACT_WORKERS": 2})})
    child = popen("--db", sqlite_db, "--config", str(config), "crawl", "--site", "local")
    try:
        wait_for_articles(sqlite_db, 4)
        family = _wait_for_children(child.pid, 2)  # the extraction workers
        time.sleep(0.5)  # let a flush land after the workers started
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(10)
    _assert_all_gone(family)
    stored = query(sqlite_db, "SELECT count(*) FROM article")[0][0]
    ((kind, status, new, pages),) = query(
        sqlite_db, "SELECT kind, status, articles_new, pages_fetched FROM crawl_run"
    )
    assert (kind, status) == ("crawl", "running")  # until the next run marks it interrupted
    assert 4 <= new == stored < len(paths)  # each committed batch is in the record
    assert pages >= new


def _big_warc(tmp_path: Path, count: int) -> Path:
    records = [(f"{BASE}/2020/0301/{n}.html", synthetic_article(n)) for n in range(count)]
    return write_warc(tmp_path / "big.warc.gz", records)


def test_sigkilled_import_leaves_no_process_and_a_record_of_what_it_committed(
    sqlite_db: str, tmp_path: Path
) -> None:
    warc = _big_warc(tmp_path, 1500)
    child = popen("--db", sqlite_db, "import", "--workers", "2", str(warc))
    try:
        wait_for_articles(sqlite_db, 100, timeout=120)
        family = _wait_for_children(child.pid, 2)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(10)
    _assert_all_gone(family)
    stored = query(sqlite_db, "SELECT count(*) FROM article")[0][0]
    ((kind, status, new),) = query(sqlite_db, "SELECT kind, status, articles_new FROM crawl_run")
    assert (kind, status) == ("import", "running")
    assert 100 <= new == stored < 1500


def test_import_and_reextract_are_recorded_runs_and_a_killed_reextract_leaves_no_process(
    sqlite_db: str, tmp_path: Path
) -> None:
    warc = write_warc(tmp_path / "pages.warc.gz", [(BASE + p, page(p)) for p in ARTICLE_PATHS])
    assert cli("--db", sqlite_db, "import", str(warc)).returncode == 0
    done = cli("--db", sqlite_db, "reextract", "--workers", "2")
    assert done.returncode == 0, done.stderr
    reextracted, imported = runs(sqlite_db)
    assert imported["kind"] == "import" and imported["status"] == "ok"
    assert imported["articles_new"] == len(ARTICLE_PATHS) and imported["pages_fetched"] == len(ARTICLE_PATHS)
    assert reextracted["kind"] == "reextract" and reextracted["status"] == "ok"
    assert reextracted["articles_unchanged"] + reextracted["articles_updated"] == len(ARTICLE_PATHS)
    table = cli("--db", sqlite_db, "runs")
    assert "import" in table.stdout and "reextract" in table.stdout

    # a long reextract, killed while its workers extract
    big = _big_warc(tmp_path, 400)
    assert cli("--db", sqlite_db, "import", str(big), timeout=600).returncode == 0
    child = popen("--db", sqlite_db, "reextract", "--workers", "2")
    try:
        family = _wait_for_children(child.pid, 2)
        time.sleep(1)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(10)
    _assert_all_gone(family)
    ((kind, status),) = query(sqlite_db, "SELECT kind, status FROM crawl_run ORDER BY id DESC LIMIT 1")
    assert (kind, status) == ("reextract", "running")  # until the next run marks it interrupted
