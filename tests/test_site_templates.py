"""Site-template learning never erases an article.

The failure this guards against: when a few copies of one long article made up half of a
site's pages, every line of that article was learned as site furniture and the article was
stripped to nothing. Real pages from tests/fixtures/pages, a real SQLite (and PostgreSQL when
it runs) archive.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select, update

from core.items import Article as ArticleData
from core.items import FetchedPage
from pipelines.extraction import apply_template, extract_article, learn_template
from pipelines.extraction.template import normalise_line
from pipelines.reextract import reextract
from pipelines.site_templates import refresh_site_templates, store_stripped
from storage import Archive, Article, SiteTemplate, open_archive
from storage.fingerprint import content_hash
from tests.test_storage_data import article_for, page_for

PAGES = Path(__file__).parent / "fixtures" / "pages"
SITE = "news"
LONG = "en_cbc_posted_dateline.html"  # about 10,000 characters of text
OTHERS = [
    "en_arstechnica.html",
    "en_dailyjournal_name_outlet.html",
    "en_egotastic_name_dateline.html",
    "en_nydailynews_dateline.html",
    "en_smh_time_offset.html",
]
FOOTER = "Follow us on social media for the latest news updates every day"
COPIES = len(OTHERS)  # the copies of the long article are half of the site's pages


def _real(name: str, url: str, *, footer: str = "") -> tuple[FetchedPage, ArticleData]:
    body = (PAGES / name).read_bytes()
    result = extract_article(body, url)
    assert result.article is not None, result.reason
    text = result.article.text + (f"\n{footer}" if footer else "")
    page = page_for(url, text, site=SITE, body=body)
    return page, article_for(url, text, title=result.article.title or "")


@pytest.fixture(scope="module")
def pages() -> list[tuple[FetchedPage, ArticleData]]:
    """Half the site: one long article under several URLs (syndicated, tracking variants
    the canonicaliser cannot fold); the other half: distinct articles sharing a footer."""
    copies = [_real(LONG, f"https://{SITE}.example/world/story-{n}.html") for n in range(COPIES)]
    others = [_real(name, f"https://{SITE}.example/{Path(name).stem}.html", footer=FOOTER) for name in OTHERS]
    return copies + others


def _store(archive: Archive, items: list[tuple[FetchedPage, ArticleData]]) -> dict[str, int]:
    with archive.session() as session, session.begin():
        return {page.url: store_stripped(session, page, article).article_id for page, article in items}


def _texts(archive: Archive) -> dict[int, str]:
    with archive.session() as session:
        return {row.id: row.text for row in session.execute(select(Article.id, Article.text))}


def test_copies_of_one_article_do_not_make_it_furniture(
    any_db: str, pages: list[tuple[FetchedPage, ArticleData]]
) -> None:
    long_text = pages[0][1].text
    archive = open_archive(any_db)
    ids = _store(archive, pages)
    with archive.session() as session:
        copies = session.scalars(select(Article).where(Article.duplicate_of.is_not(None))).all()
        assert len(copies) == COPIES - 1  # the store marked them as copies of the first
    with archive.session() as session, session.begin():
        cleaned = refresh_site_templates(session, [SITE])
    texts = _texts(archive)
    long_id = ids[pages[0][0].url]
    assert texts[long_id] == long_text  # the long article keeps every line
    assert len(texts[long_id]) > 9000
    # the footer repeated across the distinct articles is still learned and stripped
    assert cleaned == {SITE: len(OTHERS)}
    for page, article in pages[COPIES:]:
        text = texts[ids[page.url]]
        assert FOOTER not in text and text == article.text.removesuffix(f"\n{FOOTER}")
    with archive.session() as session:
        template = session.scalar(select(SiteTemplate.lines).where(SiteTemplate.site == SITE))
        assert template == [normalise_line(FOOTER)]
    archive.close()


def test_one_simhash_group_counts_once_even_without_duplicate_of(
    any_db: str, pages: list[tuple[FetchedPage, ArticleData]]
) -> None:
    """Copies stored before `duplicate_of` was set (two writers at once, an old archive), and
    near-copies (a correction line added) are still one text for learning."""
    archive = open_archive(any_db)
    items = list(pages)
    notes = [
        "Corrected a name.",
        "Added a photo.",
        "Updated the headline.",
        "Fixed a typo.",
        "Added a video.",
    ]
    for n, (note, (page, article)) in enumerate(zip(notes, pages[:COPIES], strict=True)):
        near = article.text + f"\nEditor's note: {note}"
        items[n] = (page_for(page.url, near, site=SITE, body=page.body), article_for(page.url, near))
    ids = _store(archive, items)
    with archive.session() as session, session.begin():
        session.execute(update(Article).values(duplicate_of=None))
    with archive.session() as session, session.begin():
        refresh_site_templates(session, [SITE])
    texts = _texts(archive)
    assert all(texts[ids[page.url]] == article.text for page, article in items[:COPIES])
    with archive.session() as session:  # nothing of the article was learned
        template = session.scalar(select(SiteTemplate.lines).where(SiteTemplate.site == SITE))
        assert template == [normalise_line(FOOTER)]
    assert all(FOOTER not in texts[ids[p.url]] for p, _ in items[COPIES:])
    archive.close()


def test_reextract_restores_an_article_a_bad_template_erased(
    any_db: str, pages: list[tuple[FetchedPage, ArticleData]]
) -> None:
    """An archive damaged by the old rule: the long article's lines stored as the site's
    template and its rows stripped to nothing. Re-extraction from the raw pages brings the
    text back and keeps stripping the real footer."""
    long_text = pages[0][1].text
    archive = open_archive(any_db)
    ids = _store(archive, pages)
    bad = sorted({normalise_line(line) for line in long_text.split("\n")} | {normalise_line(FOOTER)})
    long_ids = [ids[page.url] for page, _ in pages[:COPIES]]
    with archive.session() as session, session.begin():
        session.add(SiteTemplate(site=SITE, lines=bad, pages=len(pages)))
        session.execute(
            update(Article)
            .where(Article.id.in_(long_ids))
            .values(text="", content_hash=content_hash(""), simhash=None)
        )
    stats = reextract(archive, extract=extract_article, extractor_version="fixed")
    assert stats.checked == len(pages)
    texts = _texts(archive)
    assert all(texts[i] == long_text for i in long_ids)
    assert all(FOOTER not in texts[ids[p.url]] for p, _ in pages[COPIES:])
    archive.close()


# --- the pure functions ---------------------------------------------------------------------------


def test_identical_texts_count_once() -> None:
    story = "\n".join(f"Paragraph {word} of the one story that was syndicated." for word in "abcdef")
    assert learn_template([story] * 10) == frozenset()
    assert learn_template([story] * 10, min_pages=1) == frozenset()  # one distinct text: nothing repeats


def test_a_line_needs_several_distinct_articles() -> None:
    footer = "Subscribe to our newsletter for more"
    texts = [f"Story number {word} told in full.\n{footer}" for word in ("one", "two")]
    assert learn_template(texts, min_pages=1, min_share=0.5) == frozenset()  # two articles are not several
    texts.append(f"Story number three told in full.\n{footer}")
    assert learn_template(texts, min_pages=1, min_share=0.5) == {normalise_line(footer)}


def test_never_strips_an_article_below_half_its_text() -> None:
    template = frozenset({normalise_line("A long paragraph that a wrong template learned as furniture.")})
    text = "A long paragraph that a wrong template learned as furniture.\nShort rest."
    assert apply_template(text, template) == text  # stripping would leave well under half
    footer = "Share this"
    article = "A full paragraph of the article, long enough to outweigh the footer line.\n" + footer
    assert apply_template(article, frozenset({normalise_line(footer)})) == article.split("\n")[0]
