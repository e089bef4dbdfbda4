"""The optional Redis frontier (scrapy-redis) against the real Redis on this machine."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from crawler.frontier import frontier_keys
from tests.test_crawl_support import FAST, article_urls, cli, runs, site_table, synthetic_pages, write_config

pytestmark = pytest.mark.slow  # real crawls against the real Redis


@pytest.fixture
def redis_client(redis_url: str, sqlite_db: str) -> Any:
    import redis

    client = redis.Redis.from_url(redis_url)
    client.delete(*frontier_keys(sqlite_db, "redis_site").all())
    yield client
    client.delete(*frontier_keys(sqlite_db, "redis_site").all())


def _crawl(tmp_path: Path, db: str, base_url: str, redis_url: str, *extra: str) -> Any:
    config = write_config(tmp_path / "sites.toml", {"redis_site": site_table(base_url, settings=FAST)})
    return cli(
        "--db", db, "--config", str(config), "crawl", "--site", "redis_site",
        "-s", f"NEWSARCHIVE_REDIS_URL={redis_url}", *extra,
    )  # fmt: skip


def test_a_finished_crawl_clears_its_frontier_so_the_next_run_reads_listings_again(
    serve_site: Any, sqlite_db: str, tmp_path: Path, redis_url: str, redis_client: Any
) -> None:
    site = serve_site(synthetic_pages(4))
    first = _crawl(tmp_path, sqlite_db, site.base_url, redis_url)
    assert first.returncode == 0, first.stderr
    assert len(article_urls(sqlite_db)) == 4
    assert redis_client.exists(*frontier_keys(sqlite_db, "redis_site").all()) == 0
    second = _crawl(tmp_path, sqlite_db, site.base_url, redis_url)
    assert second.returncode == 0, second.stderr
    assert site.hits["/"] == 2  # scrapy-redis's persistent dupefilter would have skipped it


def test_a_crawl_stopped_early_leaves_its_frontier_and_the_next_run_resumes(
    serve_site: Any, sqlite_db: str, tmp_path: Path, redis_url: str, redis_client: Any
) -> None:
    site = serve_site(synthetic_pages(8))
    first = _crawl(
        tmp_path, sqlite_db, site.base_url, redis_url, "--max-pages", "3", "-s", "CONCURRENT_REQUESTS=1"
    )
    assert first.returncode == 0, first.stderr
    stored_first = len(article_urls(sqlite_db))
    assert 0 < stored_first < 8
    assert redis_client.zcard(frontier_keys(sqlite_db, "redis_site").requests) > 0  # pending requests kept
    second = _crawl(tmp_path, sqlite_db, site.base_url, redis_url)
    assert second.returncode == 0, second.stderr
    assert len(article_urls(sqlite_db)) == 8  # every article, each once
    assert all(n == 1 for path, n in site.hits.items() if path.endswith(".html"))
    assert [run["status"] for run in runs(sqlite_db)].count("ok") >= 1
    assert redis_client.exists(*frontier_keys(sqlite_db, "redis_site").all()) == 0


def test_an_unreachable_redis_is_a_one_line_error(serve_site: Any, sqlite_db: str, tmp_path: Path) -> None:
    site = serve_site(synthetic_pages(1))
    result = _crawl(tmp_path, sqlite_db, site.base_url, "redis://127.0.0.1:9/0")
    assert result.returncode != 0
    assert "Redis at redis://127.0.0.1:9/0 is not usable" in result.stderr
    assert "Traceback" not in result.stderr
