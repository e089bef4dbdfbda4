"""Site-template learning never erases an article.

The failure this guards against: when a few copies of one long article made up half of a
site's pages, every line of that article was learned as site furniture and the article was
stripped to nothing. Real pages from tests/fixtures/pages, a real SQLite (and PostgreSQL when
it runs) archive.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from core.items import Article as ArticleData
from core.items import FetchedPage
from pipelines.extraction import extract_article, learn_template
from pipelines.extraction.template import (
    LOSSY_BUCKET,
    TEMPLATE_RULES,
    apply_template,
    line_hash,
    normalise_line,
)
from pipelines.reextract import reextract
from pipelines.site_templates import refresh_site_templates, store_stripped
from storage import Archive, Article, SiteTemplate, SiteTemplateLine, open_archive
from storage.fingerprint import content_hash
from storage.templates import site_counted, site_learning_texts
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


# --- a template learned by the old rules -----------------------------------------------------------

SOCIAL = "Follow Example News on social media for the latest updates every day"
_SYLLABLES = ("ka", "lo", "mi", "ren", "tus", "bel", "dor", "fin", "gar")


def _paragraphs(n: int) -> list[str]:
    rnd = random.Random(n)

    def word() -> str:
        return "".join(rnd.choice(_SYLLABLES) for _ in range(rnd.randint(1, 3)))

    return [" ".join(word() for _ in range(30)).capitalize() + f". Part {i} of report {n}." for i in range(5)]


def _page(url: str, n: int, extra: tuple[str, ...] = ()) -> tuple[FetchedPage, ArticleData]:
    """A real page (the site's social line inside the article, where extraction keeps it),
    extracted as the crawl would."""
    paragraphs = "".join(f"<p>{p}</p>" for p in [*_paragraphs(n), *extra, SOCIAL])
    body = (
        f"<!doctype html><html><head><meta charset='utf-8'><title>Story {n}</title></head><body>"
        f"<header><a href='/'>Home</a></header><article><h1>Story {n}</h1>{paragraphs}</article>"
        "<footer>Copyright</footer></body></html>"
    ).encode()
    result = extract_article(body, url)
    assert result.article is not None and SOCIAL in result.article.text, result.reason
    return page_for(url, result.article.text, site=SITE, body=body), result.article


def _damaged_by_the_old_rules(archive: Archive) -> tuple[dict[str, int], dict[str, str]]:
    """A site as the first template rules left it: one long story under five URLs (half of
    the site's ten rows), four distinct stories and one that quotes a line of the long one,
    all with the site's social line. The old rules counted every row, so the long story's
    every line was learned with the social line; the template row is written as the old
    code wrote it (no ``rules``), and the stored texts are stripped as it stripped them
    (no floor): the long story to nothing, the quoting story of its quote.
    Returns the article ids by URL and the text each should have (the social line gone)."""
    base = f"https://{SITE}.example"
    long_story = [_page(f"{base}/world/story-{n}.html", 1) for n in range(5)]
    quote = _paragraphs(1)[0]
    others = [_page(f"{base}/local/{n}.html", n) for n in range(10, 14)]
    others.append(_page(f"{base}/local/quoting.html", 20, extra=(quote,)))
    items = long_story + others
    ids = _store(archive, items)
    bad = {normalise_line(line) for line in long_story[0][1].text.split("\n")}
    assert normalise_line(SOCIAL) in bad
    with archive.session() as session, session.begin():
        session.add(SiteTemplate(site=SITE, lines=sorted(bad), pages=len(items)))
        for page, article in items:
            old = "\n".join(line for line in article.text.split("\n") if normalise_line(line) not in bad)
            session.execute(update(Article).where(Article.id == ids[page.url])
                            .values(text=old, content_hash=content_hash(old), simhash=None))
    expected = {page.url: article.text.replace(f"\n{SOCIAL}", "") for page, article in items}
    assert quote in expected[f"{base}/local/quoting.html"]
    return ids, expected


def _stored_template(archive: Archive) -> tuple[list[str], int]:
    with archive.session() as session:
        query = select(SiteTemplate.lines, SiteTemplate.rules).where(SiteTemplate.site == SITE)
        row = session.execute(query).one()
        return list(row.lines), int(row.rules)


def test_a_template_learned_by_the_old_rules_is_rebuilt_on_the_next_refresh(any_db: str) -> None:
    archive = open_archive(any_db)
    ids, expected = _damaged_by_the_old_rules(archive)
    assert _stored_template(archive)[1] == 1  # the old code's row: learned by the first rules
    with archive.session() as session, session.begin():  # no growth: only the rules say relearn
        refresh_site_templates(session, [SITE])
    # learned from scratch from the raw pages: the social line, none of the story's lines
    assert _stored_template(archive) == ([normalise_line(SOCIAL)], TEMPLATE_RULES)
    texts = _texts(archive)
    assert all(SOCIAL not in texts[i] for i in ids.values())
    archive.close()


def test_reextract_rebuilds_a_template_of_the_old_rules_before_it_extracts(any_db: str) -> None:
    """The bad lines are pruned first, so the articles they damaged get them back: the long
    story (which the 50 % floor alone would restore) and the story that lost only its quote
    (which the floor does not protect: a stale template would strip it again)."""
    archive = open_archive(any_db)
    ids, expected = _damaged_by_the_old_rules(archive)
    reextract(archive)
    assert _stored_template(archive) == ([normalise_line(SOCIAL)], TEMPLATE_RULES)
    texts = _texts(archive)
    assert {url: texts[i] for url, i in ids.items()} == expected
    archive.close()


# --- incremental learning ------------------------------------------------------------------------

# lines a site adds to some of its articles (furniture the extractor kept), by round
_ADDED = {
    "Subscribe to the Example News newsletter for the morning briefing": lambda r, n: r >= 1,
    "Corrections and clarifications: write to the standards editor": lambda r, n: n % 2 == 0,
    "This story was produced with support from a reader-funded grant": lambda r, n: r == 0 or n % 2 == 1,
    "All times are local unless stated otherwise in the story": lambda r, n: n % 3 == 0 or r >= 2,
}


def _real_rounds(rounds: int, size: int) -> list[list[tuple[FetchedPage, ArticleData]]]:
    """Real fixture pages of one site in ``rounds`` rounds, each with the added lines its
    round and place give it."""
    names = sorted(p.name for p in PAGES.glob("*.html"))
    items: list[tuple[FetchedPage, ArticleData]] = []
    for name in names:
        if len(items) == rounds * size:
            break
        result = extract_article((PAGES / name).read_bytes(), f"https://{SITE}.example/{name}")
        if result.article is None or len(result.article.text) < 400:
            continue
        r, n = divmod(len(items), size)
        footer = "\n".join(line for line, has in _ADDED.items() if has(r, n))
        items.append(_real(name, f"https://{SITE}.example/{Path(name).stem}.html", footer=footer))
    assert len(items) == rounds * size
    return [items[r * size:(r + 1) * size] for r in range(rounds)]


def _full_read(archive: Archive) -> frozenset[str]:
    """What a refresh learned before it was incremental: every stored text of the site read."""
    with archive.session() as session:
        return learn_template(site_learning_texts(session, SITE))


def _template(archive: Archive) -> frozenset[str]:
    with archive.session() as session:
        return frozenset(session.scalar(select(SiteTemplate.lines).where(SiteTemplate.site == SITE)) or ())


@pytest.mark.slow
def test_incremental_refresh_learns_what_a_full_read_learns(any_db: str, tmp_path: Path) -> None:
    """Real pages stored in four rounds, with a refresh after each that counts only that
    round's articles: after every round the template is the one a full read of the site's
    stored texts gives (with what was learned before), and the same as one refresh over all
    the rounds stored at once."""
    rounds = _real_rounds(4, 6)
    archive = open_archive(any_db)
    template: frozenset[str] = frozenset()
    for number, items in enumerate(rounds):
        _store(archive, items)
        expected = template | _full_read(archive)
        with archive.session() as session, session.begin():
            refresh_site_templates(session, [SITE])
        template = _template(archive)
        assert template == expected, number
    assert {normalise_line(line) for line in _ADDED} <= template  # each crossed the threshold
    texts = _texts(archive)
    assert not any(line in text for text in texts.values() for line in _ADDED)
    archive.close()

    at_once = open_archive(f"sqlite:///{tmp_path / 'at-once.db'}")
    _store(at_once, [item for items in rounds for item in items])
    with at_once.session() as session, session.begin():
        refresh_site_templates(session, [SITE])
    assert _template(at_once) == template
    at_once.close()


@pytest.mark.slow
def test_line_counts_stay_bounded_and_exact_for_furniture(sqlite_db: str) -> None:
    """Hundreds of articles made of real paragraphs in random mixes, refreshed in rounds:
    the line in 60 % of them is learned, the line in 40 % is not, and the lines of one
    article only are pruned from the counts (lossy counting) once a bucket has passed."""
    paragraphs = sorted({
        line for name in sorted(PAGES.glob("*.html"))
        if (result := extract_article(name.read_bytes(), f"https://{SITE}.example/{name.name}")).article
        for line in result.article.text.split("\n") if len(line) > 40
    })
    assert len(paragraphs) > 300
    rnd = random.Random(7)
    common, half = "Read more stories like this in the weekend edition", "Reporting by the city desk team"
    archive = open_archive(sqlite_db)
    seen: set[str] = set()
    for round_number in range(5):
        items = []
        for n in range(60):
            serial = "".join(chr(ord("a") + int(d)) for d in f"{round_number * 60 + n:03d}")
            lines = [*rnd.sample(paragraphs, 6), f"Filed by correspondent {serial} from the field office"]
            lines += [common] if rnd.random() < 0.6 else []
            lines += [half] if rnd.random() < 0.4 else []
            seen.update(normalise_line(line) for line in lines)
            url = f"https://{SITE}.example/mix/{round_number}-{n}.html"
            text = "\n".join(lines)
            items.append((page_for(url, text, site=SITE), article_for(url, text)))
        _store(archive, items)
        with archive.session() as session, session.begin():
            refresh_site_templates(session, [SITE])
    assert _template(archive) == {normalise_line(common)}
    with archive.session() as session:
        kept = set(session.scalars(select(SiteTemplateLine.line_hash)))
        originals = int(session.scalar(select(func.count()).where(Article.duplicate_of.is_(None))) or 0)
        assert site_counted(session, SITE)[1] == originals > 250  # the store's copies not counted
    singles = {line_hash(key) for key in seen if key.startswith("filed by correspondent")}
    assert len(singles) == 300 and len(singles - kept) >= 2 * LOSSY_BUCKET  # two buckets passed
    assert line_hash(normalise_line(half)) in kept  # a line in many articles keeps its count
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
