"""Site templates: lines repeated across a site's articles (slogans, standing
disclaimers) learned from the archive and stripped from its article texts.

Learning and applying are ``pipelines.extraction``'s pure functions; this
module keeps the learned lines per site and applies them to stored rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from storage.errors import wraps_driver_errors
from storage.fingerprint import content_hash, simhash
from storage.models import Article, SiteTemplate
from storage.types import utcnow

_CACHE_KEY = "newsarchive.site_templates"


def _extraction():  # type: ignore[no-untyped-def]
    # Imported on first use: it pulls in trafilatura and lxml, which most
    # storage users (search, export) never need.
    from pipelines.extraction import template

    return template


def site_template(session: Session, site: str) -> frozenset[str]:
    """The stored template of ``site`` (cached on the session)."""
    cache: dict[str, frozenset[str]] = session.info.setdefault(_CACHE_KEY, {})
    if site not in cache:
        lines = session.scalar(select(SiteTemplate.lines).where(SiteTemplate.site == site))
        cache[site] = frozenset(lines or ())
    return cache[site]


def strip_template(text: str, template: frozenset[str]) -> str:
    if not template:
        return text
    stripped: str = _extraction().apply_template(text, template)
    return stripped


def _texts(session: Session, site: str) -> Iterator[str]:
    query = select(Article.text).where(Article.site == site).execution_options(yield_per=500)
    yield from session.scalars(query)


@wraps_driver_errors
def refresh_site_templates(
    session: Session, sites: Iterable[str], *, min_pages: int = 3, min_share: float = 0.5
) -> dict[str, int]:
    """Learn each site's template from its stored article texts, add it to
    the stored template, and strip the template lines from the site's stored
    articles in place. That is cleaning, not a new version: no
    ``article_version`` rows, and the raw pages keep the original text.
    Returns the number of articles cleaned per site."""
    learn = _extraction().learn_template
    cleaned: dict[str, int] = {}
    session.info.pop(_CACHE_KEY, None)
    for site in sites:
        learned = learn(_texts(session, site), min_pages=min_pages, min_share=min_share)
        row = session.get(SiteTemplate, site)
        stored = frozenset(row.lines) if row is not None else frozenset()
        template = stored | learned
        if not template:
            cleaned[site] = 0
            continue
        if row is None:
            row = SiteTemplate(site=site, lines=[], pages=0)
            session.add(row)
        row.lines = sorted(template)
        row.pages = session.scalar(select(func.count()).where(Article.site == site)) or 0
        row.updated_at = utcnow()
        changes = []
        query = select(Article.id, Article.text).where(Article.site == site).execution_options(yield_per=500)
        for article_id, text in session.execute(query):
            new_text = strip_template(text, template)
            if new_text != text:
                changes.append(
                    {"id": article_id, "text": new_text, "content_hash": content_hash(new_text),
                     "simhash": simhash(new_text)}
                )  # fmt: skip
        if changes:
            session.execute(update(Article), changes)
        cleaned[site] = len(changes)
    session.info.pop(_CACHE_KEY, None)
    session.flush()
    return cleaned
