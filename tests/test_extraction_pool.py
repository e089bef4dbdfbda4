"""The extraction pool: real worker processes, real pages, a worker that really dies."""

from __future__ import annotations

import os

import pytest

from core.items import FetchedPage
from pipelines.extract_worker import extract_page
from pipelines.extraction_pool import BrokenProcessPool, ExtractionPool

PAGE = (
    "<html><head><title>Rain falls on the river town</title></head><body><article>"
    "<h1>Rain falls on the river town</h1>"
    + "".join(
        f"<p>Paragraph {i}: the river rose through the night and the town's volunteers filled "
        "sandbags along the embankment until the water began to fall again at dawn.</p>"
        for i in range(6)
    )
    + "</article></body></html>"
)


def _page(n: int) -> FetchedPage:
    url = f"http://127.0.0.1/news/{n}.html"
    return FetchedPage(url=url, final_url=url, status=200, headers={"Content-Type": "text/html"},
                       body=PAGE.encode())


def test_pages_are_extracted_in_order_by_workers_that_import_no_storage() -> None:
    with ExtractionPool(2) as pool:
        results = [f.result(timeout=120) for f in [pool.submit(extract_page, _page(n)) for n in range(6)]]
        assert all(r.article is not None and "volunteers" in r.article.text for r in results)
        assert [r.article.url for r in results if r.article] == [_page(n).url for n in range(6)]
        # a worker is the extraction library alone: no SQLAlchemy, no Scrapy
        loaded = "[m for m in ('sqlalchemy', 'scrapy', 'storage') if m in __import__('sys').modules]"
        assert pool.submit(eval, loaded).result(timeout=60) == []
        assert list(pool.map(abs, [-3, 2, -1])) == [3, 2, 1]


def test_an_exception_in_a_job_fails_that_job_only() -> None:
    with ExtractionPool(1) as pool:
        with pytest.raises(ValueError, match="invalid literal"):
            pool.submit(int, "not a number").result(timeout=60)
        assert pool.submit(abs, -7).result(timeout=60) == 7


def test_a_worker_that_dies_breaks_the_pool_until_it_is_restarted() -> None:
    with ExtractionPool(2) as pool:
        with pytest.raises(BrokenProcessPool):
            pool.submit(os._exit, 3).result(timeout=60)
        with pytest.raises(BrokenProcessPool):
            pool.submit(abs, -1).result(timeout=60)
        pool.restart()
        assert pool.submit(abs, -2).result(timeout=60) == 2
