"""A shared crawl: several `crawl --site S` processes with one Redis and one PostgreSQL archive
join one crawl of S (crawler/frontier.py). Real processes, the real Redis and PostgreSQL."""

from __future__ import annotations

import json
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from crawler.frontier import frontier_keys
from tests.conftest import Response
from tests.test_crawl_support import cli, site_table, synthetic_pages, write_config

SITE = "shared_site"
ARTICLES = 30


@pytest.fixture
def redis_client(redis_url: str) -> Iterator[Any]:
    import redis

    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()


def _slow_site(serve_site: Any, delay: float) -> Any:
    pages = synthetic_pages(ARTICLES)
    for path, body in list(pages.items()):
        if path.endswith(".html"):
            def slow(handler: BaseHTTPRequestHandler, body: bytes = body) -> Response:
                time.sleep(delay)  # a slow page keeps every worker busy for a while
                return 200, {"Content-Type": "text/html; charset=utf-8"}, body

            pages[path] = slow
    return serve_site(pages)


def _workers(tmp_path: Path, db: str, base_url: str, redis_url: str,
             count: int) -> list[subprocess.Popen[str]]:
    config = write_config(tmp_path / "sites.toml", {SITE: site_table(base_url, settings={
        "CONCURRENT_REQUESTS": 2, "NEWSARCHIVE_LEASE_SECONDS": 4})})
    env = {**os.environ, "NEWSARCHIVE_PROGRESS": "log", "NEWSARCHIVE_REDIS_URL": redis_url}
    env.pop("NEWSARCHIVE_DB", None)
    procs = []
    for _ in range(count):
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "crawler", "-v", "--db", db, "--config", str(config),
             "crawl", "--site", SITE],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        ))  # fmt: skip
        time.sleep(0.3)  # as workers started by hand or by hosts' timers would be: not at once
    return procs


def _rows(db: str, sql: str) -> list[Any]:
    engine = create_engine(db)
    try:
        with engine.connect() as connection:
            return list(connection.execute(text(sql)))
    finally:
        engine.dispose()


def _runs(db: str) -> list[dict[str, Any]]:
    result = cli("--db", db, "runs", "--format", "json", "--limit", "100")
    assert result.returncode == 0, result.stderr
    data: list[dict[str, Any]] = json.loads(result.stdout)
    return data


@pytest.mark.slow
def test_three_workers_share_one_crawl_no_page_fetched_or_stored_twice(
    serve_site: Any, pg_url: str, redis_url: str, redis_client: Any, tmp_path: Path
) -> None:
    site = _slow_site(serve_site, 0.3)
    assert cli("--db", pg_url, "db", "upgrade").returncode == 0
    procs = _workers(tmp_path, pg_url, site.base_url, redis_url, 3)
    outputs = [proc.communicate(timeout=180) for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0, 0], [err[-3000:] for _, err in outputs]
    articles = [path for path in site.hits if path.startswith("/2020/")]
    assert len(articles) == ARTICLES
    assert all(site.hits[path] == 1 for path in articles), site.hits  # fetched once in total
    assert site.hits["/"] == 1
    # once for the robots rules, shared through Redis (not once per worker), and once by the
    # spider looking for sitemaps in it after the home page
    assert site.hits["/robots.txt"] == 2
    urls = [row[0] for row in _rows(pg_url, "SELECT url FROM article")]
    assert len(urls) == ARTICLES == len(set(urls))  # stored once each
    assert _rows(pg_url, "SELECT count(*) FROM article_version")[0][0] == 0
    runs = _runs(pg_url)
    assert len(runs) == 3 and {run["status"] for run in runs} == {"ok"}
    assert len({run["crawl_id"] for run in runs}) == 1 and runs[0]["crawl_id"]  # one crawl, three workers
    fetched = [run["pages_fetched"] for run in runs]
    assert sum(1 for n in fetched if n > 0) >= 2, fetched  # the work was split
    assert redis_client.exists(*frontier_keys(pg_url, SITE).all()) == 0  # the last one cleared it


@pytest.mark.slow
def test_a_worker_killed_mid_crawl_loses_nothing(
    serve_site: Any, pg_url: str, redis_url: str, redis_client: Any, tmp_path: Path
) -> None:
    site = _slow_site(serve_site, 0.5)
    assert cli("--db", pg_url, "db", "upgrade").returncode == 0
    # the victim starts first and is fetching (so it holds leases) before the others start:
    # under load a worker can take seconds to start, and one killed before it leased
    # anything would return nothing to the queue
    (victim,) = _workers(tmp_path, pg_url, site.base_url, redis_url, 1)
    deadline = time.monotonic() + 90
    while sum(site.hits[p] for p in site.hits if p.startswith("/2020/")) < 2:
        assert time.monotonic() < deadline, "the first worker never got going"
        time.sleep(0.05)
    procs = [victim, *_workers(tmp_path, pg_url, site.base_url, redis_url, 2)]
    while sum(site.hits[p] for p in site.hits if p.startswith("/2020/")) < 8:  # mid-crawl
        assert time.monotonic() < deadline, "the crawl never got going"
        time.sleep(0.1)
    victim.send_signal(signal.SIGSTOP)  # frozen: it leases nothing more
    held = redis_client.zcard(frontier_keys(pg_url, SITE).leases)  # the victim's leases among them
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    survivors = [proc.communicate(timeout=180) for proc in procs[1:]]
    assert [proc.returncode for proc in procs[1:]] == [0, 0], [err[-3000:] for _, err in survivors]
    # the killed worker held leases; they expired and went back to the queue
    assert any("returned to the queue" in err for _, err in survivors)
    articles = [path for path in site.hits if path.startswith("/2020/")]
    assert len(articles) == ARTICLES  # every page was fetched ...
    urls = [row[0] for row in _rows(pg_url, "SELECT url FROM article")]
    assert len(urls) == ARTICLES == len(set(urls))  # ... and stored, once
    # only what the killed worker held (in flight, or fetched and not yet written) can have
    # been fetched twice
    assert sum(site.hits[path] - 1 for path in articles) <= held
    statuses = sorted(run["status"] for run in _runs(pg_url))
    assert statuses.count("ok") == 2
    assert redis_client.exists(*frontier_keys(pg_url, SITE).all()) == 0


@pytest.mark.slow
def test_politeness_and_the_page_limit_hold_for_all_workers_together(
    serve_site: Any, pg_url: str, redis_url: str, tmp_path: Path
) -> None:
    pages = synthetic_pages(ARTICLES)
    lock = threading.Lock()
    state = {"in_flight": 0, "most": 0}
    starts: list[float] = []
    for path, body in list(pages.items()):
        if path.startswith("/2020/"):
            def tracked(handler: BaseHTTPRequestHandler, body: bytes = body) -> Response:
                with lock:
                    starts.append(time.monotonic())
                    state["in_flight"] += 1
                    state["most"] = max(state["most"], state["in_flight"])
                time.sleep(0.1)
                with lock:
                    state["in_flight"] -= 1
                return 200, {"Content-Type": "text/html; charset=utf-8"}, body

            pages[path] = tracked
    site = serve_site(pages)
    assert cli("--db", pg_url, "db", "upgrade").returncode == 0
    config = write_config(tmp_path / "sites.toml", {SITE: site_table(site.base_url, max_pages=8, settings={
        "CONCURRENT_REQUESTS_PER_DOMAIN": 1, "DOWNLOAD_DELAY": 0.4, "NEWSARCHIVE_LEASE_SECONDS": 4})})
    env = {**os.environ, "NEWSARCHIVE_PROGRESS": "log", "NEWSARCHIVE_REDIS_URL": redis_url}
    procs = [subprocess.Popen([sys.executable, "-m", "crawler", "-v", "--db", pg_url, "--config", str(config),
                               "crawl", "--site", SITE], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, env=env) for _ in range(2)]
    outputs = [proc.communicate(timeout=180) for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0], [err[-3000:] for _, err in outputs]
    assert state["most"] == 1  # one request in flight to the site, over both workers
    gaps = [b - a for a, b in zip(starts, starts[1:], strict=False)]
    # the delay held between the two workers' requests: each reserved its instant on the shared
    # clock; what reaches the site can still be late by the workers' own scheduling jitter
    assert gaps and statistics.median(gaps) >= 0.35, gaps
    # max_pages counts the whole crawl: exactly 8 pages reached the site from both workers
    fetched = sum(n for path, n in site.hits.items() if path != "/robots.txt")
    assert fetched == 8, (site.hits, [err[-2500:] for _, err in outputs])


@pytest.mark.slow
def test_autothrottle_adapts_one_shared_delay_for_all_workers(
    serve_site: Any, pg_url: str, redis_url: str, redis_client: Any, tmp_path: Path
) -> None:
    """Two workers with AutoThrottle (target concurrency 1, starting at 50 ms) against a site
    that takes at least 0.4 s per page: the one delay they share adapts up to the latency,
    and the two together send a page about once per latency, not once per worker."""
    latency = 0.4
    pages = synthetic_pages(ARTICLES)
    lock = threading.Lock()
    starts: list[float] = []
    for path, body in list(pages.items()):
        if path.startswith("/2020/"):
            def slow(handler: BaseHTTPRequestHandler, body: bytes = body) -> Response:
                with lock:
                    starts.append(time.monotonic())
                time.sleep(latency)
                return 200, {"Content-Type": "text/html; charset=utf-8"}, body

            pages[path] = slow
    site = serve_site(pages)
    assert cli("--db", pg_url, "db", "upgrade").returncode == 0
    config = write_config(tmp_path / "sites.toml", {SITE: site_table(site.base_url, settings={
        "AUTOTHROTTLE_ENABLED": True, "AUTOTHROTTLE_START_DELAY": 0.05, "AUTOTHROTTLE_MAX_DELAY": 5,
        "AUTOTHROTTLE_TARGET_CONCURRENCY": 1.0, "DOWNLOAD_DELAY": 0, "CONCURRENT_REQUESTS_PER_DOMAIN": 4,
        "NEWSARCHIVE_LEASE_SECONDS": 10})})
    env = {**os.environ, "NEWSARCHIVE_PROGRESS": "log", "NEWSARCHIVE_REDIS_URL": redis_url}
    procs = [subprocess.Popen([sys.executable, "-m", "crawler", "-v", "--db", pg_url, "--config", str(config),
                               "crawl", "--site", SITE], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, env=env) for _ in range(2)]
    outputs = [proc.communicate(timeout=300) for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0], [err[-3000:] for _, err in outputs]
    assert sum(1 for path in site.hits if path.startswith("/2020/")) == ARTICLES

    # the shared delay: raised from 50 ms to at least the latency (every response's latency
    # is >= 0.4 s, and AutoThrottle never sets the delay below latency / target)
    politeness = frontier_keys(pg_url, SITE).prefix.rsplit(":", 2)[0] + ":politeness:"
    shared = float(redis_client.get(politeness + "delay:127.0.0.1"))
    assert latency <= shared <= 5
    delays = [(stats if isinstance(stats, dict) else json.loads(stats))["shared_delay_ms"]
              for pages_fetched, stats in _rows(pg_url, "SELECT pages_fetched, stats FROM crawl_run")
              if pages_fetched]
    assert len(delays) == 2 and all(ms >= latency * 1000 for ms in delays)  # both workers used it
    # the combined rate: once the first page came back, the two workers' requests reach the site
    # a delay apart (not two at a time, as with a delay per worker); four were let through
    # before any latency was known
    gaps = [b - a for a, b in zip(starts[4:], starts[5:], strict=False)]
    assert gaps and statistics.median(gaps) >= 0.8 * latency, gaps
