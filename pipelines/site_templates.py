"""Learn and apply site templates on the ingest side: storage only keeps the lines.

A line repeated across many articles of one site is furniture (see
``pipelines.extraction.template``); it is stripped from an article before it is stored,
and from the site's stored articles whenever the template grows.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import replace

from sqlalchemy.orm import Session

from core.items import Article, FetchedPage, PackedPage
from core.urls import site_of_url
from pipelines.extraction import extract_article
from pipelines.extraction.template import (
    LOSSY_BUCKET,
    TEMPLATE_RULES,
    apply_template,
    learn_template,
    line_hash,
    line_keys,
    template_threshold,
)
from storage import Archive, StoreOutcome, store_article
from storage.fingerprint import content_hash
from storage.templates import (
    LineCount,
    article_texts,
    forget_line_counts,
    line_counts,
    lock_site_template,
    prune_line_counts,
    save_line_counts,
    save_site_template,
    set_article_texts,
    site_article_texts,
    site_counted,
    site_learning_pages,
    site_new_learning_texts,
    site_template,
    site_template_rules,
    stale_template_sites,
)

__all__ = [
    "count_new_lines",
    "rebuild_site_template",
    "rebuild_stale_templates",
    "relearn_site_template",
    "replace_site_template",
    "refresh_site_templates",
    "store_stripped",
    "strip_site_template",
]


def strip_site_template(session: Session, site: str | None, text: str) -> str:
    """``text`` without the stored template lines of ``site``."""
    if not site or not text:
        return text
    return apply_template(text, site_template(session, site))


def store_stripped(
    session: Session, page: FetchedPage, article: Article, *, reason: str = "crawl",
    packed: PackedPage | None = None,
) -> StoreOutcome:
    """Store ``article`` with its site's template lines stripped (``store_article`` stores
    the text it is given; ``packed``: what the extraction worker computed for it)."""
    site = page.site or site_of_url(page.final_url or page.url) or None
    text = strip_site_template(session, site, article.text or "")
    if text != (article.text or ""):
        article = replace(article, text=text)
    return store_article(session, page, article, reason=reason, packed=packed)


def _strip_stored(session: Session, texts: Iterable[tuple[int, str]], template: frozenset[str]) -> int:
    """Strip ``template`` from stored articles; returns how many changed. A row another
    writer changed since we read it (a correction committed meanwhile) is not overwritten
    (compare-and-set): it is read again, as committed, and stripped from its new text."""
    done = 0
    for _ in range(3):  # a row corrected again while we strip it waits for the next refresh
        changes, was = {}, {}
        for article_id, text in texts:
            new_text = apply_template(text, template)
            if new_text != text:
                changes[article_id], was[article_id] = new_text, content_hash(text)
        missed = set_article_texts(session, changes, was=was)
        done += len(changes) - len(missed)
        if not missed:
            break
        texts = list(article_texts(session, missed).items())
    return done


def refresh_site_templates(
    session: Session, sites: Iterable[str], *, min_pages: int = 3, min_share: float = 0.5
) -> dict[str, int]:
    """Learn each site's template from its stored distinct article texts (each copy group
    once: ``site_learning_texts``), add it to the stored template, and strip the template
    lines from the site's stored articles in place. Returns the number of articles cleaned
    per site.

    Incremental: only the articles stored since the site's last refresh are read; their
    lines are added to the site's stored line counts (:func:`count_new_lines`), and a line
    whose count reaches the threshold joins the template. The site's stored articles are
    rescanned only when the template has grown (every article is stored stripped of the
    template it had then). A template learned by other rules (``TEMPLATE_RULES``) is
    rebuilt from scratch instead (:func:`rebuild_site_template`): its lines are not kept."""
    cleaned: dict[str, int] = {}
    for site in sites:
        cleaned[site] = 0
        lock_site_template(session, site)  # concurrent refreshes of one site take turns
        rules = site_template_rules(session, site)
        if rules is not None and rules != TEMPLATE_RULES:
            cleaned[site] = rebuild_site_template(session, site, min_pages=min_pages, min_share=min_share)
            continue
        pages, learned = count_new_lines(session, site, min_pages=min_pages, min_share=min_share)
        stored = site_template(session, site)
        template = stored | learned
        if template != stored:
            save_site_template(session, site, template, pages=pages, rules=TEMPLATE_RULES)
        if template == stored:
            continue
        cleaned[site] = _strip_stored(session, site_article_texts(session, site), template)
    session.flush()
    return cleaned


def count_new_lines(
    session: Session, site: str, *, min_pages: int = 3, min_share: float = 0.5
) -> tuple[int, frozenset[str]]:
    """Add the lines of the distinct texts ``site`` stored since its last count to its line
    counts; return how many distinct texts are counted now and the lines among the new
    ones that have reached the template's threshold. A site never counted (an archive from
    before incremental learning, a template just rebuilt) has every stored text counted,
    once: the same as :func:`learn_template` over ``site_learning_texts``.

    What is not recounted: a stored article whose text changed later (a new version keeps
    its first text's lines), and a text whose lines equal those of an article counted in
    an earlier refresh (a copy the store did not recognise); both are rare, and change a
    count by one."""
    through, pages = site_counted(session, site)
    new_texts = list(site_new_learning_texts(session, site, after=through or 0))
    if not new_texts:
        return pages, frozenset()
    seen: set[frozenset[str]] = set()
    added: Counter[int] = Counter()
    keys: dict[int, str] = {}
    for _, text in new_texts:
        lines = line_keys(text)
        if lines in seen:
            continue
        seen.add(lines)
        for key in lines:
            number = line_hash(key)
            added[number] += 1
            keys[number] = key
    before, pages = pages, pages + len(seen)
    known = line_counts(session, site, added)
    bucket_before = before // LOSSY_BUCKET  # a line first seen now may have missed this many
    counts = {
        number: LineCount(known[number].pages + n, known[number].delta) if number in known
        else LineCount(n, bucket_before)
        for number, n in added.items()
    }
    save_line_counts(session, site, counts, through=new_texts[-1][0], pages=pages, known=known,
                     rules=TEMPLATE_RULES)
    if pages // LOSSY_BUCKET > bucket_before:
        prune_line_counts(session, site, pages // LOSSY_BUCKET)
    needed = template_threshold(pages, min_pages=min_pages, min_share=min_share)
    return pages, frozenset(keys[number] for number, count in counts.items() if count.pages >= needed)


# How many of a site's latest distinct articles a rebuild extracts again from their raw
# pages: a line is learned at a share of the site's articles (half), which a sample this
# size measures to a few percent, and the rebuild runs at the end of a crawl or an import.
REBUILD_SAMPLE = 1000


def rebuild_site_template(
    session: Session, site: str, *, min_pages: int = 3, min_share: float = 0.5, sample: int = REBUILD_SAMPLE
) -> int:
    """Learn the template of ``site`` from scratch under the current rules, replacing the
    stored one, and strip it from the site's stored articles; returns how many changed.

    Learned from the raw pages extracted again (the latest ``sample`` distinct articles),
    not from the stored texts: those were stripped by the old template, so the lines it
    learned would be missing from them, the right ones and the wrong ones alike. An article
    the old template damaged keeps the damage until ``reextract`` (which rebuilds first)
    extracts it again."""
    return replace_site_template(session, site, relearn_site_template(
        session, site, min_pages=min_pages, min_share=min_share, sample=sample))


def relearn_site_template(
    session: Session, site: str, *, min_pages: int = 3, min_share: float = 0.5, sample: int = REBUILD_SAMPLE
) -> frozenset[str]:
    """The template of ``site`` learned from scratch (see :func:`rebuild_site_template`);
    reads only, so it can run before the write transaction that stores it."""
    texts = (
        result.article.text or ""
        for page in site_learning_pages(session, site, limit=sample)
        if (result := extract_article(page.body, page.url, http_charset=page.encoding,
                                      content_type=page.content_type)).article is not None
    )
    return learn_template(texts, min_pages=min_pages, min_share=min_share)


def replace_site_template(session: Session, site: str, template: frozenset[str]) -> int:
    """Store ``template`` as the template of ``site`` learned by the current rules, in place
    of the stored one, and strip it from the site's stored articles; how many changed."""
    lock_site_template(session, site)
    save_site_template(session, site, template, rules=TEMPLATE_RULES)
    forget_line_counts(session, site)  # counted again from the texts as stripped now
    return _strip_stored(session, site_article_texts(session, site), template) if template else 0


def rebuild_stale_templates(archive: Archive, sites: Iterable[str] | None = None) -> list[str]:
    """Rebuild (:func:`rebuild_site_template`) every stored template learned by other rules
    than the current ones, of ``sites`` when given; returns the sites rebuilt. The raw
    pages are read and extracted with no write transaction open (the extraction takes
    seconds); each site's template is then stored in one short transaction."""
    with archive.session(read_only=True) as session:
        stale = stale_template_sites(session, TEMPLATE_RULES)
        if sites is not None:
            wanted = set(sites)
            stale = [site for site in stale if site in wanted]
        learned = {site: relearn_site_template(session, site) for site in stale}
    for site, template in learned.items():
        with archive.transaction() as session:
            if site_template_rules(session, site) != TEMPLATE_RULES:  # not rebuilt meanwhile
                replace_site_template(session, site, template)
    return stale
