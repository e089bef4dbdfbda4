"""Chinese full-text search on SQLite (FTS5 trigram) and PostgreSQL (ILIKE/pg_trgm)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from storage import Archive, StorageError, open_archive, search, store_article
from tests.test_storage_data import SECTIONS, TITLES, article_for, item_for, page_for

BASE = "https://www.xunjk.com/yanjiu/2022/"


@pytest.fixture
def archive(any_db: str) -> Iterator[Archive]:
    """The four sections as four articles: two sites, three days, two authors."""
    arc = open_archive(any_db)
    plan = [
        ("intro", "xunjk", datetime(2022, 9, 26, 9, tzinfo=UTC), "廖婧"),
        ("industry", "xunjk", datetime(2022, 9, 27, 9, tzinfo=UTC), "廖婧"),
        ("innovation", "gxnews", datetime(2022, 9, 28, 9, tzinfo=UTC), "王明"),
        ("people", "gxnews", datetime(2022, 9, 28, 10, tzinfo=UTC), None),
    ]
    with arc.session() as session, session.begin():
        for n, (key, site, published, author) in enumerate(plan):
            page, article = item_for(key, f"{BASE}{n}.html", site=site)
            store_article(session, page, replace(article, published_at=published, author=author))
    yield arc
    arc.close()


def keys(hits: list) -> list[str]:  # type: ignore[type-arg]
    by_title = {title: key for key, title in TITLES.items()}
    return [by_title[hit.title] for hit in hits]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("蝴蝶", {"innovation"}),  # two characters: below the trigram size
        ("学校", {"people"}),
        ("汽车", {"industry", "innovation"}),
        ("新能源汽车", {"industry"}),  # five characters: FTS5 on SQLite
        ("拿地即开工", {"innovation"}),
        ("知识产权示范", {"intro", "innovation"}),
        ("柳东新区 蝴蝶", {"innovation"}),  # every term must match; mixed lengths
        ("不存在的词语", set()),
        ('"排头兵" OR 蝴蝶', {"intro", "industry", "innovation"}),  # OR, one short term
        ("汽车 -蝴蝶", {"industry"}),
        ("柳州 NOT 汽车", {"intro", "people"}),
        ("新能源汽车 OR 小红书", {"industry", "people"}),
    ],
)
def test_chinese_queries_of_any_length(archive: Archive, query: str, expected: set[str]) -> None:
    with archive.session() as session:
        hits = search(session, query)
    assert set(keys(hits)) == expected
    assert len(hits) == len(expected)


def test_hits_are_ranked_and_highlighted(archive: Archive) -> None:
    with archive.session() as session:
        hits = search(session, "排头兵")
    # the industry article has the word in its title: it ranks first
    assert keys(hits) == ["industry", "intro"]
    assert "**排头兵**" in hits[0].snippet
    assert hits[0].url == f"{BASE}1.html"
    assert hits[0].score >= hits[1].score
    with archive.session() as session:
        short = search(session, "蝴蝶")
    assert "**蝴蝶**" in short[0].snippet
    assert len(short[0].snippet) < 140


def test_filters(archive: Archive) -> None:
    with archive.session() as session:
        assert set(keys(search(session, "柳州", site="gxnews"))) == {"innovation", "people"}
        assert set(keys(search(session, "柳州", since=date(2022, 9, 28)))) == {"innovation", "people"}
        assert set(keys(search(session, "柳州", until=date(2022, 9, 27)))) == {"intro", "industry"}
        assert set(keys(search(session, "柳州", author="王"))) == {"innovation"}
        assert set(keys(search(session, "柳州", language="zh"))) == set(SECTIONS)
        assert search(session, "柳州", language="en") == []
        assert len(search(session, "柳州", limit=2)) == 2


def test_index_follows_updates(archive: Archive) -> None:
    url = f"{BASE}0.html"
    changed = SECTIONS["intro"].replace("踏石留印", "行稳致远")
    with archive.session() as session, session.begin():
        store_article(session, page_for(url, changed), article_for(url, changed, title=TITLES["intro"]))
    with archive.session() as session:
        assert keys(search(session, "行稳致远")) == ["intro"]
        assert search(session, "踏石留印") == []


def test_fts_syntax_on_sqlite(sqlite_db: str) -> None:
    with open_archive(sqlite_db) as arc:
        with arc.session() as session, session.begin():
            for n, key in enumerate(SECTIONS):
                store_article(session, *item_for(key, f"{BASE}{n}.html"))
        with arc.session() as session:
            assert set(keys(search(session, '"知识产权示范" OR 小红书'))) == {"intro", "innovation", "people"}
            assert set(keys(search(session, "柳州高新区 NOT 排头兵"))) == {"innovation", "people"}
            for bad in ("AND 柳州市", '"柳州高新区', "柳州市 OR", "(高新区"):
                with pytest.raises(StorageError, match="invalid search query") as info:
                    search(session, bad)
                assert "\n" not in str(info.value)


def test_a_query_without_terms_is_an_error(archive: Archive) -> None:
    with archive.session() as session:
        with pytest.raises(StorageError, match="empty"):
            search(session, "  ")
        for nothing in ("NOT 柳州", "-柳州", "OR", '""'):
            with pytest.raises(StorageError, match="no term to look for"):
                search(session, nothing)


def test_postgresql_search_has_trigram_indexes(pg_url: str) -> None:
    with open_archive(pg_url) as arc, arc.engine.connect() as connection:
        names = {row[0] for row in connection.exec_driver_sql("SELECT indexname FROM pg_indexes")}
    assert {"ix_article_text_trgm", "ix_article_title_trgm"} <= names
