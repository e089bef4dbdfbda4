"""Re-extraction from stored raw pages, and site templates, on both databases."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import func, select

from pipelines.extraction import ExtractionResult, extract_article
from pipelines.reextract import reextract
from pipelines.site_templates import refresh_site_templates, store_stripped
from storage import (
    Archive,
    Article,
    ArticleFilter,
    ArticleVersion,
    open_archive,
    search,
    store_article,
)
from storage.fingerprint import content_hash
from tests.test_storage_data import SECTIONS, TITLES, article_for, extracted, fill, page_for

BASE = "https://www.xunjk.com/yanjiu/2022/0928/"


@pytest.fixture
def archive(any_db: str) -> Iterator[Archive]:
    arc = open_archive(any_db)
    fill(arc, [extracted(key, f"{BASE}{n}.html") for n, key in enumerate(SECTIONS)])
    yield arc
    arc.close()


def versions(archive: Archive) -> list[tuple[int, int, str]]:
    with archive.session() as session:
        rows = session.execute(
            select(ArticleVersion.article_id, ArticleVersion.version, ArticleVersion.reason)
        )
        return sorted(tuple(row) for row in rows)  # type: ignore[misc]


def improved_extractor(**changes: str) -> Any:
    """The real extractor, 'improved' to drop one sentence on the pages that have it."""

    def extract(body: bytes, url: str, **options: Any) -> ExtractionResult:
        result = extract_article(body, url, **options)
        assert result.article is not None
        text = result.article.text
        for old, new in changes.items():
            text = text.replace(old, new)
        return replace(result, article=replace(result.article, text=text))

    return extract


def test_same_extractor_changes_nothing(archive: Archive) -> None:
    stats = reextract(archive, extract=extract_article, extractor_version="same")
    assert (stats.checked, stats.changed, stats.unchanged) == (4, 0, 4)
    assert versions(archive) == []
    with archive.session() as session:
        assert set(session.scalars(select(Article.extractor_version))) == {"same"}


def test_changed_extractor_makes_versions_only_where_output_changed(archive: Archive) -> None:
    sentence = "科技是国之利器,国家赖之以强,企业赖之以赢,人民生活赖之以好。\n"
    assert sentence in SECTIONS["innovation"] and sum(sentence in t for t in SECTIONS.values()) == 1
    extract = improved_extractor(**{sentence: ""})
    seen: list[int] = []
    stats = reextract(archive, extract=extract, extractor_version="2.0", batch=3, progress=seen.append)
    assert (stats.checked, stats.changed, stats.unchanged) == (4, 1, 3)
    assert sum(seen) == 4
    assert versions(archive) == [(3, 1, "reextract")]
    with archive.session() as session:
        article = session.get(Article, 3)
        assert article is not None and article.version == 2 and "科技是国之利器" not in article.text
        old = session.scalars(select(ArticleVersion)).one()
        assert "科技是国之利器" in old.text
        assert set(session.scalars(select(Article.extractor_version))) == {"2.0"}
    # running it again changes nothing more
    assert reextract(archive, extract=extract, extractor_version="2.0").changed == 0
    assert len(versions(archive)) == 1


def test_filters_and_failures(archive: Archive) -> None:
    def refuses(body: bytes, url: str, **options: Any) -> ExtractionResult:
        return ExtractionResult(None, False, "not an article page")

    stats = reextract(archive, ArticleFilter(query="蝴蝶"), extract=refuses, extractor_version="x")
    assert stats.checked == 1 and stats.failed == {"not an article page": 1}
    with archive.session() as session:  # a refused page keeps its article as it was
        assert (
            session.scalar(select(func.count()).select_from(Article).where(Article.extractor_version == "x"))
            == 0
        )


def test_site_templates_strip_repeated_lines_without_versions(any_db: str) -> None:
    footer = "本文来源:柳州日报 责任编辑:韦秋燕"
    arc = open_archive(any_db)
    urls = [f"{BASE}{n}.html" for n in range(len(SECTIONS))]
    items = []
    for url, key in zip(urls, SECTIONS, strict=True):
        text = SECTIONS[key] + "\n" + footer
        items.append((page_for(url, text), article_for(url, text, title=key)))
    fill(arc, items)
    with arc.session() as session, session.begin():
        assert refresh_site_templates(session, ["xunjk"]) == {"xunjk": 4}
    with arc.session() as session:
        texts = list(session.scalars(select(Article.text)))
        assert all(footer not in text for text in texts) and len(texts) == 4
        assert session.scalar(select(func.count()).select_from(ArticleVersion)) == 0
        assert search(session, "责任编辑") == []  # the search index follows the cleaning
        assert len(search(session, "柳州")) == 4
    # a recrawl of an unchanged page (footer and all) stays unchanged: the ingest path
    # strips the learned lines before storing
    with arc.session() as session, session.begin():
        assert store_stripped(session, *items[0]).status == "unchanged"
    # and a new page of the site arrives without the footer
    new_url = f"{BASE}new.html"
    text = "柳州螺蛳粉产业集群年产值突破六百亿元,带动三十万人就业。\n" + footer
    with arc.session() as session, session.begin():
        outcome = store_stripped(session, page_for(new_url, text), article_for(new_url, text, title="螺蛳粉"))
        stored = session.get(Article, outcome.article_id)
        assert stored is not None and footer not in stored.text and "螺蛳粉" in stored.text
    arc.close()


def test_extraction_runs_with_no_write_lock_and_a_newer_page_wins(archive: Archive) -> None:
    """While reextract extracts, a crawl can store (no transaction is open); an article whose
    page the crawl replaced meanwhile keeps the crawl's version."""
    newer_text = SECTIONS["people"] + "\n更正：本文第二段的数据已更新。"

    def extract_while_a_crawl_stores(body: bytes, url: str, **options: Any) -> ExtractionResult:
        result = extract_article(body, url, **options)
        if url.endswith("/3.html"):
            # a crawl stores a newer page of this very article, in its own transaction
            with archive.session() as session, session.begin():
                store_article(
                    session, page_for(url, newer_text), article_for(url, newer_text, title=TITLES["people"])
                )
        assert result.article is not None
        return replace(result, article=replace(result.article, text=result.article.text + "\n旧版"))

    stats = reextract(archive, extract=extract_while_a_crawl_stores, extractor_version="2.0")
    assert stats.checked == 4 and stats.changed == 3
    with archive.session() as session:
        crawled = session.scalars(select(Article).where(Article.url.endswith("/3.html"))).one()
        assert crawled.text.endswith("更正：本文第二段的数据已更新。")  # not overwritten by the older page


def _story(n: int, footer: str) -> tuple[Any, Any]:
    import random

    rnd = random.Random(n)
    words = ["柳州", "螺蛳粉", "产业", "高新区", "汽车", "工人", "园区", "订单", "出口", "银行", "学校"]
    text = "".join(rnd.choice(words) for _ in range(60)) + f"第{n}号报道。"
    text += f"\n{footer}" if footer else ""
    url = f"{BASE}story{n}.html"
    return page_for(url, text), article_for(url, text, title=f"报道{n}")


def test_template_refresh_is_incremental(sqlite_db: str) -> None:
    """Each refresh counts only the articles stored since the last one (an old article's
    text changed behind its back is not read again); an unchanged template leaves the
    stored articles alone; a grown one strips them."""
    footer = "本文来源:柳州日报 责任编辑:韦秋燕"
    arc = open_archive(sqlite_db)
    fill(arc, [_story(n, "") for n in range(30)])

    def refresh() -> tuple[int, int]:
        with arc.session() as session, session.begin():
            cleaned = refresh_site_templates(session, ["xunjk"])["xunjk"]
        with arc.session() as session:
            from storage.templates import site_counted

            through, pages = site_counted(session, "xunjk")
            assert through == session.scalar(select(func.max(Article.id)))
            return cleaned, pages

    assert refresh() == (0, 30)  # counted (nothing repeats)
    with arc.session() as session, session.begin():  # not read again: it is counted already
        for row in session.scalars(select(Article).where(Article.id <= 20)):
            row.text += f"\n{footer}"
            row.content_hash = content_hash(row.text)
    fill(arc, [_story(n, footer) for n in range(30, 34)])
    assert refresh() == (0, 34)  # the footer counted in 4 of 34: no furniture
    # most articles carry the footer now: it is learned and stripped from every one
    fill(arc, [_story(n, footer) for n in range(34, 80)])
    assert refresh() == (70, 80)  # 50 counted of 80; stripped from the 20 old ones too
    with arc.session() as session:
        assert all(footer not in text for text in session.scalars(select(Article.text)))
    arc.close()
