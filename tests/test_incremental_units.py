"""Unit-level parts of incremental crawling: the revisit policy, component switches,
and the store pipeline's batching against a real SQLite archive."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from scrapy.exceptions import NotConfigured
from scrapy.utils.test import get_crawler

from core.items import Article, ArticleItem, FetchedPage
from crawler.extensions import CrawlRunRecorder
from crawler.middlewares import IncrementalCrawlMiddleware, revisit_due
from crawler.profiles import SiteProfile
from pipelines.extract import ExtractArticlePipeline
from pipelines.ingest import ArchiveWriter, WriteReport, pending_url, store_pending
from pipelines.store import StoreArticlePipeline
from storage import KnownPage, open_archive
from tests.test_crawl_support import synthetic_article

NOW = datetime(2026, 1, 10, 12, tzinfo=UTC)


def known(published_days_ago: float | None, fetched_days_ago: float) -> KnownPage:
    published = NOW - timedelta(days=published_days_ago) if published_days_ago is not None else None
    return KnownPage(1, published, NOW - timedelta(days=fetched_days_ago), None, None)


@pytest.mark.parametrize(
    ("page", "after", "lastmod", "expected"),
    [
        (known(1, 0.5), None, None, "fresh"),  # young articles: every run
        (known(10, 0.5), None, None, None),  # old, never revisited
        (known(10, 31), 30, None, "interval"),  # old, revisit interval passed
        (known(10, 5), 30, None, None),
        (known(None, 5), None, None, None),  # no date: only by interval or lastmod
        (known(10, 5), None, NOW - timedelta(days=1), "lastmod"),  # sitemap says it changed
        (known(10, 5), None, NOW - timedelta(days=6), None),  # changed before our last fetch
    ],
)
def test_revisit_policy(page: KnownPage, after: float | None, lastmod: datetime | None,
                        expected: str | None) -> None:
    profile = SiteProfile(name="s", start_urls=("http://s.example/",), revisit_fresh_days=2,
                          revisit_after_days=after)
    assert revisit_due(page, profile, NOW, lastmod) == expected


@pytest.mark.parametrize("component", [StoreArticlePipeline, CrawlRunRecorder, IncrementalCrawlMiddleware])
def test_archive_components_switch_off_without_a_database(component: Any) -> None:
    with pytest.raises(NotConfigured, match="NEWSARCHIVE_DB must be set"):
        component.from_crawler(get_crawler())


def test_extract_pipeline_needs_a_worker() -> None:
    with pytest.raises(NotConfigured, match="EXTRACT_WORKERS"):
        ExtractArticlePipeline.from_crawler(get_crawler(settings_dict={"EXTRACT_WORKERS": 0}))


def item(n: int) -> ArticleItem:
    url = f"http://s.example/2020/0301/{n}.html"
    page = FetchedPage(url=url, final_url=url, status=200, headers={"Content-Type": "text/html"},
                       body=synthetic_article(n), fetched_at=NOW, site="s")
    return ArticleItem(page, Article(url=url, title=f"Story {n}", text=f"Story {n} text " * 50))


def test_batch_writer_stores_counts_and_survives_a_bad_item(sqlite_db: str) -> None:
    archive = open_archive(sqlite_db)
    writer = ArchiveWriter(archive, store_pending("crawl"), describe=pending_url)
    try:
        first = writer.write([item(n) for n in range(3)])
        assert first == WriteReport(Counter(new=3), failed=0)
        revisit = FetchedPage(
            url=item(1).page.url, final_url=item(1).page.url, status=304, headers={}, body=b"",
            fetched_at=NOW, not_modified=True,
        )
        # a date that cannot be expressed in UTC cannot be stored: the batch falls back to one
        # by one and only that article is lost (and counted), the others are stored
        broken = item(4)
        broken.article.published_at = datetime.min.replace(tzinfo=timezone(timedelta(hours=8)))
        second = writer.write([item(0), revisit, broken, item(3)])
        assert second.outcomes == Counter(unchanged=2, new=1)
        assert second.failed == 1
        with archive.session() as session:
            from sqlalchemy import func, select

            from storage import Article as ArticleRow

            assert session.scalar(select(func.count()).select_from(ArticleRow)) == 4
    finally:
        archive.close()
