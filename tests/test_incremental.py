"""Incremental, resumable crawling (issue 5), against a site on 127.0.0.1 that counts
the requests it serves."""

from __future__ import annotations

import json
import signal
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest

from tests.test_crawl_support import (
    ARTICLES,
    NEW_ARTICLE,
    REALCLEARPOLITICS,
    SITE,
    article_urls,
    cli,
    listing,
    news_pages,
    popen,
    query,
    runs,
    site_table,
    synthetic_article,
    write_config,
)

pytestmark = pytest.mark.slow  # real crawls, twice or killed and resumed

LISTINGS = ("/", "/news/", "/tag/economy.html")


def crawl(db: str, config: Path) -> Any:
    result = cli("--db", db, "--config", str(config), "crawl", "--site", "local")
    assert result.returncode == 0, result.stderr
    return result


def test_second_run_fetches_listings_and_new_articles_only(serve_site: Any, sqlite_db: str,
                                                           tmp_path: Path) -> None:
    site = serve_site(news_pages())
    config = write_config(tmp_path / "sites.toml", {"local": site_table(site.base_url)})
    crawl(sqlite_db, config)
    assert len(article_urls(sqlite_db)) == 3

    site.hits.clear()
    new_path, new_file = NEW_ARTICLE
    site.pages[new_path] = (SITE / new_file).read_bytes()
    site.pages["/news/"] = listing("News", [*sorted(ARTICLES), new_path])
    crawl(sqlite_db, config)

    assert all(site.hits[path] == 1 for path in LISTINGS), site.hits
    assert site.hits[new_path] == 1
    assert all(site.hits[path] == 0 for path in ARTICLES), site.hits  # known, old: not fetched
    assert article_urls(sqlite_db) == sorted(site.url(p) for p in [*ARTICLES, new_path])
    latest = runs(sqlite_db)[0]
    assert latest["status"] == "ok" and latest["articles_new"] == 1


def test_changed_page_is_stored_as_a_new_version_on_revisit(serve_site: Any, sqlite_db: str,
                                                            tmp_path: Path) -> None:
    site = serve_site(news_pages())
    config = write_config(tmp_path / "sites.toml",
                          {"local": site_table(site.base_url, revisit_after_days=0)})
    crawl(sqlite_db, config)
    path = "/2024/0101/2.html"
    original = site.pages[path]
    assert isinstance(original, bytes)
    sentence = b"As announced by a provincial official"
    assert sentence in original
    site.pages[path] = original.replace(
        sentence, b"Correction: an earlier version of this story misstated the figures. " + sentence)
    site.hits.clear()
    crawl(sqlite_db, config)

    assert site.hits[path] == 1  # revisited (interval 0 days)
    (text, version) = query(sqlite_db, "SELECT text, version FROM article WHERE url = ?", site.url(path))[0]
    assert "Correction: an earlier version" in text and version == 2
    assert len(query(sqlite_db, "SELECT id FROM article")) == 3
    latest = runs(sqlite_db)[0]
    assert latest["articles_updated"] == 1 and latest["articles_unchanged"] == 2


def test_revisit_is_conditional_and_304_counts_as_unchanged(serve_site: Any, sqlite_db: str,
                                                            tmp_path: Path) -> None:
    body = REALCLEARPOLITICS.read_bytes()

    def with_etag(handler: BaseHTTPRequestHandler) -> tuple[int, dict[str, str], bytes]:
        if handler.headers.get("If-None-Match") == '"v1"':
            return 304, {"ETag": '"v1"'}, b""
        return 200, {"Content-Type": "text/html; charset=utf-8", "ETag": '"v1"',
                     "Last-Modified": "Fri, 22 Dec 2023 10:00:00 GMT"}, body

    pages = news_pages()
    pages["/2024/0101/1.html"] = with_etag
    site = serve_site(pages)
    config = write_config(tmp_path / "sites.toml",
                          {"local": site_table(site.base_url, revisit_after_days=0)})
    crawl(sqlite_db, config)
    site.requests.clear()
    crawl(sqlite_db, config)

    (headers,) = [h for p, h in site.requests if p == "/2024/0101/1.html"]
    assert headers["If-None-Match"] == '"v1"'
    assert headers["If-Modified-Since"] == "Fri, 22 Dec 2023 10:00:00 GMT"
    latest = runs(sqlite_db)[0]
    assert latest["articles_unchanged"] == 3 and latest["articles_new"] == 0
    assert len(article_urls(sqlite_db)) == 3


def test_newer_sitemap_lastmod_forces_a_refetch(serve_site: Any, sqlite_db: str, tmp_path: Path) -> None:
    pages = news_pages()
    site = serve_site(pages)
    base = site.base_url

    def sitemap(lastmod_1: str) -> tuple[int, dict[str, str], bytes]:
        urls = "".join(
            f"<url><loc>{base}{path}</loc><lastmod>{lastmod}</lastmod></url>"
            for path, lastmod in (("/2024/0101/1.html", lastmod_1), ("/2024/0101/2.html", "2024-01-01"))
        )
        xml = f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'
        return 200, {"Content-Type": "application/xml"}, xml.encode()

    pages["/sitemap.xml"] = sitemap("2024-01-01")
    config = write_config(tmp_path / "sites.toml",
                          {"local": site_table(base, sitemaps=[base + "/sitemap.xml"])})
    crawl(sqlite_db, config)
    site.hits.clear()
    pages["/sitemap.xml"] = sitemap(datetime.now(UTC).isoformat())
    crawl(sqlite_db, config)
    assert site.hits["/sitemap.xml"] == 1
    assert site.hits["/2024/0101/1.html"] == 1  # lastmod newer than the last fetch
    assert site.hits["/2024/0101/2.html"] == 0


def slow_site(serve_site: Any, count: int, delay: float) -> Any:
    """Articles served slowly while ``site.slow[0]`` is true."""
    slow_now = [True]

    def slow(body: bytes) -> Any:
        def handler(_: BaseHTTPRequestHandler) -> tuple[int, dict[str, str], bytes]:
            if slow_now[0]:
                time.sleep(delay)
            return 200, {"Content-Type": "text/html; charset=utf-8"}, body
        return handler

    paths = [f"/2020/0301/{n}.html" for n in range(count)]
    pages: dict[str, Any] = {"/": listing("Home", paths)}
    pages.update({path: slow(synthetic_article(n)) for n, path in enumerate(paths)})
    site = serve_site(pages)
    site.slow = slow_now
    return site, paths


def wait_for_articles(db: str, at_least: int, timeout: float = 60) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            stored = len(query(db, "SELECT id FROM article"))
        except Exception:  # noqa: BLE001 - the archive may not exist yet
            stored = 0
        if stored >= at_least:
            return stored
        time.sleep(0.1)
    raise AssertionError(f"fewer than {at_least} articles stored in {timeout}s")


def start_slow_crawl(serve_site: Any, db: str, tmp_path: Path, delay: float) -> Any:
    """A crawl in a child process of 40 articles served one at a time, slowly."""
    site, paths = slow_site(serve_site, count=40, delay=delay)
    config = write_config(tmp_path / "sites.toml", {"local": site_table(
        site.base_url, settings={"CONCURRENT_REQUESTS_PER_DOMAIN": 1})})
    child = popen("--db", db, "--config", str(config), "crawl", "--site", "local")
    return site, paths, config, child


def test_sigkilled_crawl_resumes_without_loss_or_duplicates(serve_site: Any, sqlite_db: str,
                                                            tmp_path: Path) -> None:
    site, paths, config, child = start_slow_crawl(serve_site, sqlite_db, tmp_path, delay=0.4)
    try:
        stored_before = wait_for_articles(sqlite_db, 3)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(10)
    assert stored_before < len(paths)  # killed mid-crawl
    kept = article_urls(sqlite_db)

    site.slow[0] = False
    crawl(sqlite_db, config)
    urls = [row[0] for row in query(sqlite_db, "SELECT url FROM article")]
    assert sorted(urls) == sorted(site.url(p) for p in paths)  # every article, once
    assert all(site.hits[url.removeprefix(site.base_url)] == 1 for url in kept)  # not fetched again
    first, second = sorted(runs(sqlite_db), key=lambda r: r["id"])
    assert first["status"] == "interrupted" and "process ended" in first["reason"]
    assert second["status"] == "ok"


def test_sigterm_stops_cleanly_and_records_an_interrupted_run(serve_site: Any, sqlite_db: str,
                                                              tmp_path: Path) -> None:
    site, paths, _, child = start_slow_crawl(serve_site, sqlite_db, tmp_path, delay=0.3)
    try:
        deadline = time.monotonic() + 60
        while sum(site.hits[p] for p in paths) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        child.send_signal(signal.SIGTERM)
        output, _ = child.communicate(timeout=60)
    assert child.returncode == 130, output
    (run,) = runs(sqlite_db)
    assert run["status"] == "interrupted" and run["finished_at"]
    assert run["articles_new"] == len(article_urls(sqlite_db)) < len(paths)
    assert sum(site.hits[p] for p in paths) < len(paths)  # stopped early


def test_downloads_go_on_while_another_process_holds_the_write_lock(
    serve_site: Any, sqlite_db: str, tmp_path: Path
) -> None:
    """The store pipeline commits on its own thread: while another writer holds SQLite's
    lock the reactor keeps downloading, and once the lock is free nothing is missing."""
    import sqlite3

    site, paths, _, child = start_slow_crawl(serve_site, sqlite_db, tmp_path, delay=0.15)
    try:
        wait_for_articles(sqlite_db, 1)
        other = sqlite3.connect(sqlite_db, timeout=30)
        other.execute("BEGIN IMMEDIATE")  # the write lock, as another crawl's commit takes it
        try:
            # by now a timed flush (every 2 s) has had to wait for the lock
            time.sleep(2.5)
            fetched = sum(site.hits[p] for p in paths)
            time.sleep(1.0)
            fetched_later = sum(site.hits[p] for p in paths)
        finally:
            other.rollback()
            other.close()
        output, _ = child.communicate(timeout=120)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == 0, output
    assert fetched_later > fetched or fetched_later == len(paths)  # the reactor was not stuck
    assert sorted(article_urls(sqlite_db)) == sorted(site.url(p) for p in paths)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_known_urls_are_looked_up_in_batches_into_a_bounded_cache(
    serve_site: Any, tmp_path: Path, request: pytest.FixtureRequest, backend: str
) -> None:
    """A site of 30 known articles crawled again with a cache of 8 URLs and batches of 4:
    every known article is still skipped and the new one fetched, as with the default
    cache, while the crawl never held more than 8 URLs' archive status."""
    from sqlalchemy import create_engine, text

    db = str(tmp_path / "archive.db") if backend == "sqlite" else str(request.getfixturevalue("pg_url"))
    articles = {f"/2020/0301/{n}.html": synthetic_article(n) for n in range(30)}
    pages: dict[str, Any] = {"/": listing("Home", ["/news/"]), "/news/": listing("News", sorted(articles)),
                             **articles}
    site = serve_site(pages)
    config = write_config(tmp_path / "sites.toml", {"local": site_table(site.base_url)})
    crawl(db, config)

    def recrawl(*options: str) -> dict[str, Any]:
        site.hits.clear()
        result = cli("--db", db, "--config", str(config), "crawl", "--site", "local", *options)
        assert result.returncode == 0, result.stderr
        engine = create_engine(db if "://" in db else f"sqlite:///{db}")
        with engine.connect() as connection:
            stats = connection.execute(text("SELECT stats FROM crawl_run ORDER BY id DESC LIMIT 1")).scalar()
        engine.dispose()
        return stats if isinstance(stats, dict) else json.loads(stats)

    new = "/2020/0302/99.html"
    pages[new] = synthetic_article(99)
    pages["/news/"] = listing("News", [*sorted(articles), new])
    small = recrawl("-s", "NEWSARCHIVE_KNOWN_URL_CACHE=8", "-s", "NEWSARCHIVE_KNOWN_URL_BATCH=4")
    assert site.hits[new] == 1 and not any(site.hits[path] for path in articles), site.hits
    assert small["incremental_skipped"] == 30 and small["articles_new"] == 1
    assert small["known_url_cache_peak"] <= 8  # never the site's 31 URLs
    assert small["known_url_queries"] >= 31 * 2 // 4  # the links and their canonical forms, 4 at a time

    default = recrawl()
    assert not any(site.hits[path] for path in [*articles, new]), site.hits
    assert default["incremental_skipped"] == 31 and default["articles_new"] == 0
    assert default["known_url_cache_peak"] >= 31  # the listing's links in one batch
    assert default["known_url_queries"] < small["known_url_queries"]


def test_known_url_lookups_wait_off_the_reactor_thread(
    serve_site: Any, pg_url: str, tmp_path: Path
) -> None:
    """While another PostgreSQL session holds a lock that stops every read of
    ``article_url``, the links of the home page wait for their lookup, but the reactor
    does not: a chain of sitemaps (which need no lookup) goes on being fetched and parsed.
    Once the lock is gone, the known articles are skipped as ever."""
    import psycopg

    paths = [f"/2020/0301/{n}.html" for n in range(6)]
    pages: dict[str, Any] = {"/": listing("Home", paths)}
    pages.update({path: synthetic_article(n) for n, path in enumerate(paths)})
    site = serve_site(pages)

    def sitemap_index(following: str) -> Any:
        def handler(_: BaseHTTPRequestHandler) -> tuple[int, dict[str, str], bytes]:
            time.sleep(0.3)  # the home page is parsed (and its links looked up) long before
            body = ('<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
                    f"<sitemap><loc>{site.url(following)}</loc></sitemap></sitemapindex>")
            return 200, {"Content-Type": "application/xml"}, body.encode()
        return handler

    chain = [f"/sitemap-{n}.xml" for n in range(5)]
    for here, following in zip(chain, [*chain[1:], "/sitemap-end.xml"], strict=True):
        pages[here] = sitemap_index(following)
    pages["/sitemap-end.xml"] = (200, {"Content-Type": "application/xml"},
                                 b'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"/>')
    table = site_table(site.base_url, sitemaps=[site.url(chain[0])])
    config = write_config(tmp_path / "sites.toml", {"local": table})
    crawl(pg_url, config)
    assert all(site.hits[path] == 1 for path in paths)

    site.hits.clear()
    dsn = pg_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn) as other:
        other.execute("LOCK TABLE article_url IN ACCESS EXCLUSIVE MODE")  # held until rollback
        child = popen("--db", pg_url, "--config", str(config), "crawl", "--site", "local")
        try:
            deadline = time.monotonic() + 60
            while site.hits["/sitemap-end.xml"] == 0 and time.monotonic() < deadline and child.poll() is None:
                time.sleep(0.1)
            home_seen, chain_done = site.hits["/"], site.hits["/sitemap-end.xml"]
            articles_during_lock = sum(site.hits[path] for path in paths)
        finally:
            other.rollback()
        output, _ = child.communicate(timeout=120)
    assert child.returncode == 0, output
    assert home_seen == 1 and chain_done == 1, site.hits  # the reactor went on during the lock
    assert articles_during_lock == 0  # their lookups waited for it
    assert not any(site.hits[path] for path in paths), site.hits  # known, old: skipped after it
