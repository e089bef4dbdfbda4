"""One page, one request: links that differ only by tracking parameters, fragment or
http/https are fetched once, with Scrapy's dupefilter and with scrapy-redis's."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import pytest
from scrapy import Request

from crawler.fingerprint import CanonicalRequestFingerprinter
from crawler.frontier import frontier_keys
from tests.test_crawl_support import (
    FAST,
    article_urls,
    cli,
    listing,
    site_table,
    synthetic_article,
    write_config,
)

ARTICLE_PATHS = [f"/2020/0301/{n}.html" for n in range(6)]


def _variants(base_url: str, path: str) -> list[str]:
    """How portals write links to one article: as is, with tracking, with a fragment, over https."""
    return [
        path,
        f"{path}?from=timeline",
        f"{path}?utm_source=wechat&utm_medium=social",
        f"{path}#comments",
        f"{base_url}{path}?spm=a1.b2&from=groupmessage",
        f"{base_url.replace('http://', 'https://')}{path}",
    ]


def _portal(base_url: str) -> dict[str, Any]:
    """A home page and two sections, each linking every article in several ways."""
    links = [variant for path in ARTICLE_PATHS for variant in _variants(base_url, path)]
    pages: dict[str, Any] = {
        "/": listing("Home", [*links, "/section/a.html?utm_campaign=nav", "/section/b.html#top"]),
        "/section/a.html": listing("Section A", [*links, "/?from=section", "/section/b.html?ref=a"]),
        "/section/b.html": listing("Section B", list(reversed(links))),
    }
    pages.update({path: synthetic_article(200 + n) for n, path in enumerate(ARTICLE_PATHS)})
    return pages


def _serve_portal(serve_site: Any) -> Any:
    pages: dict[str, Any] = {}
    site = serve_site(pages)
    pages.update(_portal(site.base_url))
    return site


def _requests_per_page(site: Any) -> dict[str, int]:
    counts: dict[str, int] = {}
    for path, _ in site.requests:
        page = path.split("?", 1)[0].split("#", 1)[0]
        counts[page] = counts.get(page, 0) + 1
    return counts


def _crawl(tmp_path: Path, db: str, base_url: str, *extra: str) -> Any:
    config = write_config(tmp_path / "sites.toml", {"redis_site": site_table(base_url, settings=FAST)})
    return cli("--db", db, "--config", str(config), "crawl", "--site", "redis_site", *extra)


def test_variants_of_one_url_share_a_fingerprint_and_other_pages_do_not() -> None:
    fingerprinter = CanonicalRequestFingerprinter()
    base = "http://news.example.com"
    variants = _variants(base, "/2020/0301/1.html")
    prints = {fingerprinter.fingerprint(Request(urljoin(base, v))) for v in variants}
    assert len(prints) == 1
    assert fingerprinter.fingerprint(Request(base + "/2020/0301/2.html")) not in prints
    # a query parameter that names the page still counts; a POST is not its GET
    assert fingerprinter.fingerprint(Request(base + "/a.php?id=1")) != fingerprinter.fingerprint(
        Request(base + "/a.php?id=2")
    )
    post = Request(base + "/2020/0301/1.html", method="POST", body=b"q=1")
    assert fingerprinter.fingerprint(post) not in prints


@pytest.mark.slow
def test_a_crawl_requests_each_page_of_a_tracking_portal_once(
    serve_site: Any, sqlite_db: str, tmp_path: Path
) -> None:
    site = _serve_portal(serve_site)
    result = _crawl(tmp_path, sqlite_db, site.base_url)
    assert result.returncode == 0, result.stderr
    per_page = _requests_per_page(site)
    # robots.txt is read twice by design: once by Scrapy's robots middleware, once by the
    # spider for the sitemaps it names
    assert per_page.pop("/robots.txt") <= 2
    pages = {"/", "/about.html", "/section/a.html", "/section/b.html", *ARTICLE_PATHS}
    assert per_page == dict.fromkeys(pages, 1)  # requests == distinct pages
    assert article_urls(sqlite_db) == sorted(site.url(path) for path in ARTICLE_PATHS)


@pytest.mark.slow
def test_a_shared_redis_crawl_requests_each_page_once(
    serve_site: Any, sqlite_db: str, tmp_path: Path, redis_url: str
) -> None:
    import redis

    client = redis.Redis.from_url(redis_url)
    client.delete(*frontier_keys(sqlite_db, "redis_site").all())
    site = _serve_portal(serve_site)
    try:
        result = _crawl(tmp_path, sqlite_db, site.base_url, "-s", f"NEWSARCHIVE_REDIS_URL={redis_url}")
    finally:
        client.delete(*frontier_keys(sqlite_db, "redis_site").all())
    assert result.returncode == 0, result.stderr
    per_page = _requests_per_page(site)
    assert per_page.pop("/robots.txt") <= 2
    assert set(per_page.values()) == {1}, per_page
    assert set(ARTICLE_PATHS) <= set(per_page)
