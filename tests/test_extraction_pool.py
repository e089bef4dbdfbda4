"""The extraction pool: real worker processes, real pages, a worker that really dies."""

from __future__ import annotations

import os

import pytest

from core.items import FetchedPage
from core.rawcodec import RawDictionary, unpack_body
from pipelines.extract_worker import SHARED_KEPT, SharedObjects, extract_page, pack_page
from pipelines.extraction_pool import BrokenProcessPool, ExtractionPool, _pickle_job

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


def _dictionary(n: int) -> RawDictionary:
    return RawDictionary(dict_id=40_000 + n, data=bytes([n % 256]) * 110_000)


def test_a_site_dictionary_crosses_the_pipe_once_per_worker() -> None:
    """The 110 KB raw-page dictionary rides with every extraction job; a worker gets it
    once and reuses the copy it keeps, until it has been given SHARED_KEPT newer ones."""
    held = SharedObjects()
    first, new = _pickle_job((id, (_dictionary(1),), {}), held)
    assert len(first) > 110_000 and new == [("raw-dictionary", 40_001, 110_000)]
    for key in new:
        held.keep(key)
    again, new = _pickle_job((id, (_dictionary(1),), {}), held)
    assert len(again) < 1_000 and new == []

    with ExtractionPool(1) as pool:
        kept = {pool.submit(id, _dictionary(1)).result(timeout=60) for _ in range(3)}
        assert len(kept) == 1  # one object in the worker, sent once
        # the object the worker holds is the dictionary: a page packed with it unpacks
        dictionary = _dictionary(1)
        packed = pool.submit(pack_page, _page(1), "text", dictionary).result(timeout=60)
        assert unpack_body(packed.body, {dictionary.dict_id: dictionary}.get) == _page(1).body
        # more dictionaries than a worker keeps: the oldest is forgotten on both sides and
        # sent again when a job needs it
        for n in range(2, SHARED_KEPT + 3):
            pool.submit(id, _dictionary(n)).result(timeout=60)
        packed = pool.submit(pack_page, _page(2), "text", dictionary).result(timeout=60)
        assert unpack_body(packed.body, {dictionary.dict_id: dictionary}.get) == _page(2).body
