"""Real article text and item builders shared by the storage tests.

The text is a real article from xunjk.com (柳州高新区十年高质量发展综述),
split into its three sections so that tests have several distinct articles.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from core.items import Article, FetchedPage

SEED = Path(__file__).parent / "fixtures" / "old_schema" / "xunjk_liuzhou.txt"


def _sections() -> dict[str, str]:
    lines = [line.strip() for line in SEED.read_text(encoding="utf-8").splitlines() if line.strip()]
    start = lines.index("勇毅前行")
    innovate = lines.index("坚持创新")
    people = lines.index("以人为本")
    end = next(i for i, line in enumerate(lines) if line.startswith("(图片来源"))
    return {
        "intro": "\n".join(lines[4:start]),
        "industry": "\n".join(lines[start:innovate]),
        "innovation": "\n".join(lines[innovate:people]),
        "people": "\n".join(lines[people:end]),
    }


SECTIONS = _sections()
TITLES = {
    "intro": "焦点观察:柳州高新区十年高质量发展综述",
    "industry": "勇毅前行 “排头兵”这样养成",
    "innovation": "坚持创新 竞争力这样凝练",
    "people": "以人为本 宜居度这样提升",
}
FETCHED = datetime(2024, 5, 3, 8, 0, tzinfo=UTC)


def page_for(
    url: str,
    text: str,
    *,
    site: str = "xunjk",
    title: str = "",
    body: bytes | None = None,
    final_url: str | None = None,
) -> FetchedPage:
    html = (
        body
        if body is not None
        else (
            f"<html><head><meta charset='utf-8'><title>{title}</title></head><body><h1>{title}</h1>"
            + "".join(f"<p>{line}</p>" for line in text.splitlines())
            + "</body></html>"
        ).encode("utf-8")
    )
    return FetchedPage(
        url=url,
        final_url=final_url or url,
        status=200,
        headers={"Content-Type": "text/html; charset=utf-8", "ETag": '"v1"'},
        body=html,
        encoding="utf-8",
        fetched_at=FETCHED,
        site=site,
    )


def article_for(
    url: str,
    text: str,
    *,
    title: str = "",
    canonical_url: str | None = None,
    author: str | None = "廖婧",
    published_at: datetime | None = FETCHED,
) -> Article:
    return Article(
        url=url,
        title=title,
        text=text,
        author=author,
        published_at=published_at,
        published_time_known=True,
        language="zh",
        tags=["知识产权", "示范基地"],
        canonical_url=canonical_url,
        extractor_version="test-1",
    )


def item_for(key: str, url: str, *, site: str = "xunjk") -> tuple[FetchedPage, Article]:
    text, title = SECTIONS[key], TITLES[key]
    return page_for(url, text, site=site, title=title), article_for(url, text, title=title)


def extracted(key: str, url: str, *, site: str = "xunjk") -> tuple[FetchedPage, Article]:
    """The page of a section and what the real extractor makes of it."""
    from pipelines.extraction import extract_article

    page, _ = item_for(key, url, site=site)
    result = extract_article(page.body, url, http_charset=page.encoding)
    assert result.article is not None, result.reason
    return page, result.article


def fill(archive: object, items: list[tuple[FetchedPage, Article]]) -> list[int]:
    """Store items in one transaction; returns their article ids."""
    from storage import store_article

    with archive.session() as session, session.begin():  # type: ignore[attr-defined]
        return [store_article(session, page, article).article_id for page, article in items]
