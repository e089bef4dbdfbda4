"""Full-text search on SQLite (FTS5 over bigrams) and PostgreSQL (tsvector over bigrams)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from storage import Archive, StorageError, open_archive, search, search_page, store_article
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
        for nothing in ("OR", '""', "!!", "NOT"):
            with pytest.raises(StorageError, match="no term to look for"):
                search(session, nothing)


def test_an_empty_query_lists_newest_first(archive: Archive) -> None:
    with archive.session() as session:
        for empty in ("", "  ", None):
            page = search_page(session, empty)
            assert keys(page.hits) == ["people", "innovation", "industry", "intro"]
            assert (page.total, page.total_exact) == (4, True)
        assert keys(search(session, "", site="xunjk")) == ["industry", "intro"]
        assert search_page(session, "", site="xunjk").total == 2
        assert search_page(session, "", since=date(2022, 9, 27)).total == 3


def test_only_not_terms_list_the_articles_without_them(archive: Archive) -> None:
    with archive.session() as session:
        assert set(keys(search(session, "-蝴蝶"))) == {"intro", "industry", "people"}
        assert set(keys(search(session, "NOT 蝴蝶 NOT 学校"))) == {"intro", "industry"}
        assert search_page(session, "-蝴蝶", site="gxnews").total == 1
        assert search(session, "NOT 柳州") == []  # every section names 柳州


def test_pages_and_totals(archive: Archive, monkeypatch: pytest.MonkeyPatch) -> None:
    with archive.session() as session:
        everything = search_page(session, "柳州", limit=10)
        assert (everything.total, everything.total_exact, len(everything.hits)) == (4, True, 4)
        for window in (1000, 2, 1):  # ranked window smaller than the results: pages stay one order
            monkeypatch.setattr(sys.modules["storage.search"], "RANK_WINDOW", window)
            pages = [search_page(session, "柳州", limit=2, offset=offset) for offset in (0, 1, 2, 3, 4)]
            assert [hit.id for hit in pages[0].hits + pages[2].hits] == [
                hit.id for hit in search(session, "柳州", limit=4)
            ]
            assert [hit.id for hit in pages[1].hits][:1] == [pages[0].hits[1].id]
            assert pages[4].hits == [] and pages[4].total == 4
            assert pages[2].describe() == "3-4 of 4"
        monkeypatch.setattr(sys.modules["storage.search"], "COUNT_CAP", 3)
        capped = search_page(session, "柳州", limit=1)
        assert (capped.total, capped.total_exact, capped.describe()) == (3, False, "1-1 of more than 3")
        with pytest.raises(StorageError, match="offset"):
            search_page(session, "柳州", offset=-1)


def test_traditional_and_simplified_find_each_other(any_db: str) -> None:
    with open_archive(any_db) as arc:
        with arc.session() as session, session.begin():
            for n, (title, text) in enumerate(
                [("中國經濟", "臺灣的經濟發展很快。"), ("中国经济", "台湾的经济发展很快。")]
            ):
                url = f"{BASE}fold{n}.html"
                page, article = item_for("intro", url)
                store_article(session, page, replace(article, title=title, text=text))
        with arc.session() as session:
            for query in ("中国", "中國", "经济发展", "經濟發展", "台湾", '"臺灣的經濟"', "湾"):
                assert {hit.title for hit in search(session, query)} == {"中國經濟", "中国经济"}, query
            [hit] = [h for h in search(session, "经济发展") if h.title == "中國經濟"]
            assert "**經濟發展**" in hit.snippet


def test_english_words_phrases_prefixes_and_near(any_db: str) -> None:
    texts = {
        "station": "The police station was closed on Sunday. Officers moved to the new building.",
        "far": "Police said the fire started downtown, far away from any railway station at all, "
        "according to witnesses and the usual long list of other people.",
        "economy": "The economic outlook: economists expect the ECONOMY to grow.",
    }
    with open_archive(any_db) as arc:
        with arc.session() as session, session.begin():
            for name, text in texts.items():
                page, article = item_for("intro", f"https://en.example.com/{name}.html", site="en")
                store_article(session, page, replace(article, title=name, text=text, language="en"))
        with arc.session() as session:

            def titles(query: str) -> set[str]:
                return {hit.title or "" for hit in search(session, query, site="en")}

            assert titles("police") == {"station", "far"}
            assert titles("Police station") == {"station", "far"}
            assert titles('"police station"') == {"station"}
            assert titles("econom*") == {"economy"}
            assert titles("economy") == {"economy"}  # a word, not a substring of "economists"
            assert titles("police -railway") == {"station"}
            assert titles("NEAR(police station)") == {"station", "far"}
            assert titles("NEAR(police station, 2)") == {"station"}
            assert titles("NEAR(police building, 2) OR economy") == {"economy"}
            with pytest.raises(StorageError, match=r"NEAR\(police station\)"):
                search(session, "police NEAR station")


@pytest.mark.parametrize(
    "term", ["蝶", "柳", "兵", "蝴蝶", "柳州", "排头兵", "高新区", "柳东新区", "新能源汽"]
)
def test_one_to_four_chinese_characters(archive: Archive, term: str) -> None:
    """Exactly the articles whose title or text contains the characters."""
    expected = {key for key in SECTIONS if term in SECTIONS[key] or term in TITLES[key]}
    with archive.session() as session:
        assert expected and set(keys(search(session, term))) == expected


def test_postgresql_search_index(pg_url: str) -> None:
    with open_archive(pg_url) as arc, arc.engine.connect() as connection:
        names = {row[0] for row in connection.exec_driver_sql("SELECT indexname FROM pg_indexes")}
    assert "ix_article_fts_vector_vector" in names  # GIN over the bigram tsvector
    assert not {"ix_article_text_trgm", "ix_article_title_trgm"} & names  # served by it now
