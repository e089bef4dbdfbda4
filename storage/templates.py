"""Site templates: persistence only. The lines learned as a site's furniture (slogans,
standing disclaimers) are stored per site here; learning and applying them is the ingest
path's job (``pipelines.site_templates`` over ``pipelines.extraction.template``), so
storage never imports the extraction library.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, func, select, update
from sqlalchemy.orm import Session

from storage.errors import StorageError, wraps_driver_errors, wraps_driver_errors_in_iterator
from storage.fingerprint import NEAR_DUPLICATE_DISTANCE, bands, content_hash, hamming, simhash
from storage.locks import advisory_xact_lock
from storage.models import Article, RawPage, SiteTemplate, SiteTemplateLine
from storage.repository import header, raw_body
from storage.search_index import vector_row, write_vectors
from storage.types import utcnow

__all__ = [
    "LearningPage",
    "LineCount",
    "article_texts",
    "forget_line_counts",
    "line_counts",
    "prune_line_counts",
    "save_line_counts",
    "site_counted",
    "lock_site_template",
    "save_site_template",
    "set_article_texts",
    "site_article_texts",
    "site_learning_pages",
    "site_learning_texts",
    "site_new_learning_texts",
    "site_template",
    "site_template_rules",
    "stale_template_sites",
]

_CACHE_KEY = "newsarchive.site_templates"


@wraps_driver_errors
def lock_site_template(session: Session, site: str) -> None:
    """Wait until no other transaction is learning the template of ``site``; hold that
    until this transaction ends. Workers of a shared crawl end at about the same time and
    each refreshes the site's template: unserialised, two found no template row and both
    inserted one (a duplicate key, the second worker's run failed), or both rewrote the same
    articles. On SQLite the write lock (BEGIN IMMEDIATE) serialises them already."""
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        advisory_xact_lock(connection, f"site-template:{site}")
    session.info.pop(_CACHE_KEY, None)  # read what the previous holder committed


@wraps_driver_errors
def site_template(session: Session, site: str) -> frozenset[str]:
    """The stored template of ``site``: its normalised lines (cached on the session)."""
    cache: dict[str, frozenset[str]] = session.info.setdefault(_CACHE_KEY, {})
    if site not in cache:
        lines = session.scalar(select(SiteTemplate.lines).where(SiteTemplate.site == site))
        cache[site] = frozenset(lines or ())
    return cache[site]


def site_article_texts(session: Session, site: str) -> Iterator[tuple[int, str]]:
    """(id, text) of every stored article of ``site``, streamed."""
    query = select(Article.id, Article.text).where(Article.site == site).execution_options(yield_per=500)
    for article_id, text in session.execute(query):
        yield int(article_id), text


def site_learning_texts(session: Session, site: str) -> Iterator[str]:
    """The learning input: each distinct text of ``site`` once. Never a row marked as a
    copy (``duplicate_of``), nor a second row of one exact or near-duplicate group (rows
    stored before their copy was recognised, or by two writers at once): copies of one
    article must not outvote the site's other articles and turn that article into furniture."""
    query = (
        select(Article.text, Article.content_hash, Article.simhash)
        .where(Article.site == site, Article.duplicate_of.is_(None))
        .order_by(Article.id)
        .execution_options(yield_per=500)
    )
    for row in _distinct(session.execute(query)):
        yield row.text


def site_new_learning_texts(session: Session, site: str, *, after: int) -> Iterator[tuple[int, str]]:
    """(id, text) of the distinct texts of ``site`` stored with an id above ``after``, as
    :func:`site_learning_texts` (copies left out among them; a copy of an older article
    is marked ``duplicate_of`` by the store). Reads only the new rows: the index on
    ``site`` holds the id too (SQLite's rowid; PostgreSQL: ``ix_article_site_id``)."""
    query = (
        select(Article.id, Article.text, Article.content_hash, Article.simhash)
        .where(Article.site == site, Article.id > after, Article.duplicate_of.is_(None))
        .order_by(Article.id)
        .execution_options(yield_per=500)
    )
    for row in _distinct(session.execute(query)):
        yield int(row.id), row.text


@dataclass(frozen=True)
class LineCount:
    """How many counted texts of a site hold a line; ``delta``: how many it may have had
    before its count was last pruned (lossy counting)."""

    pages: int
    delta: int


@wraps_driver_errors
def site_counted(session: Session, site: str) -> tuple[int | None, int]:
    """(the highest article id counted, how many distinct texts) of ``site``'s line
    counts; (None, 0) when they were never counted."""
    row = session.execute(
        select(SiteTemplate.counted_through, SiteTemplate.counted_pages).where(SiteTemplate.site == site)
    ).first()
    if row is None or row.counted_through is None:
        return None, 0
    return int(row.counted_through), int(row.counted_pages or 0)


_IN_CHUNK = 500  # bound parameters per IN list (SQLite allows 32,766; PostgreSQL 65,535)


@wraps_driver_errors
def line_counts(session: Session, site: str, hashes: Iterable[int]) -> dict[int, LineCount]:
    """The stored counts of the given line hashes of ``site`` (absent: not counted)."""
    wanted, found = list(hashes), {}
    for start in range(0, len(wanted), _IN_CHUNK):
        rows = session.execute(
            select(SiteTemplateLine.line_hash, SiteTemplateLine.pages, SiteTemplateLine.delta).where(
                SiteTemplateLine.site == site, SiteTemplateLine.line_hash.in_(wanted[start:start + _IN_CHUNK])
            )
        )
        found.update({int(h): LineCount(int(pages), int(delta)) for h, pages, delta in rows})
    return found


@wraps_driver_errors
def save_line_counts(
    session: Session, site: str, counts: Mapping[int, LineCount], *, through: int, pages: int,
    known: Iterable[int], rules: int,
) -> None:
    """Store ``counts`` (``known``: the hashes that have a row already) and that the
    site's texts are counted up to article ``through``, ``pages`` distinct ones (a site
    without a template row gets an empty one, of the learning rules ``rules``)."""
    table = cast(Table, SiteTemplateLine.__table__)
    known = set(known)
    updates = [{"b_hash": h, "b_pages": c.pages, "b_delta": c.delta} for h, c in counts.items() if h in known]
    inserts = [{"site": site, "line_hash": h, "pages": c.pages, "delta": c.delta}
               for h, c in counts.items() if h not in known]
    if updates:
        session.execute(
            update(table)
            .where(table.c.site == site, table.c.line_hash == bindparam("b_hash"))
            .values(pages=bindparam("b_pages"), delta=bindparam("b_delta")),
            updates,
        )
    if inserts:
        session.execute(table.insert(), inserts)
    row = session.get(SiteTemplate, site)
    if row is None:
        row = SiteTemplate(site=site, lines=[], rules=rules, updated_at=utcnow())
        session.add(row)
    row.counted_through, row.counted_pages, row.pages = through, pages, pages
    session.flush()


@wraps_driver_errors
def prune_line_counts(session: Session, site: str, bucket: int) -> int:
    """Forget the lines of ``site`` whose count plus ``delta`` is at most ``bucket``
    (lossy counting's pruning at the end of a bucket); how many."""
    table = cast(Table, SiteTemplateLine.__table__)
    result = session.execute(
        delete(table).where(table.c.site == site, table.c.pages + table.c.delta <= bucket)
    )
    return int(getattr(result, "rowcount", 0) or 0)


@wraps_driver_errors
def forget_line_counts(session: Session, site: str) -> None:
    """Drop the line counts of ``site``: its next refresh counts every stored text again
    (after its template was rebuilt from scratch)."""
    session.execute(delete(SiteTemplateLine).where(SiteTemplateLine.site == site))
    row = session.get(SiteTemplate, site)
    if row is not None:
        row.counted_through, row.counted_pages = None, 0
    session.flush()


@dataclass(frozen=True)
class LearningPage:
    """The raw page of one distinct article, to extract again."""

    body: bytes
    url: str
    encoding: str | None
    content_type: str | None


@wraps_driver_errors_in_iterator
def site_learning_pages(session: Session, site: str, *, limit: int) -> Iterator[LearningPage]:
    """The raw pages of ``site``'s distinct articles (one per copy group, as
    :func:`site_learning_texts`), the latest ``limit`` of them: the input for learning a
    template from scratch when the stored texts were stripped by a template that may have
    been wrong. A damaged raw page is left out."""
    query = (
        select(Article.content_hash, Article.simhash, RawPage)
        .join(RawPage, RawPage.id == Article.raw_page_id)
        .where(Article.site == site, Article.duplicate_of.is_(None))
        .order_by(Article.id.desc())
        .execution_options(yield_per=100)
    )
    taken = 0
    for row in _distinct(session.execute(query)):
        if taken >= limit:
            break
        raw = row.RawPage
        try:
            body = raw_body(raw)
        except StorageError:
            continue
        taken += 1
        yield LearningPage(body, raw.final_url, raw.encoding, header(raw.headers, "content-type"))


def _distinct(rows: Iterable[Any]) -> Iterator[Any]:
    """``rows`` (with ``content_hash`` and ``simhash``) without a second row of one exact
    or near-duplicate group."""
    hashes: set[str] = set()
    by_band: dict[tuple[int, int], list[int]] = {}
    for row in rows:
        text_hash, fingerprint = row.content_hash, row.simhash
        if text_hash in hashes:
            continue
        hashes.add(text_hash)
        if fingerprint is not None:
            keys = list(enumerate(bands(fingerprint)))
            # pigeonhole, as the store's near-duplicate lookup: a near copy shares a band
            if any(
                hamming(fingerprint, other) <= NEAR_DUPLICATE_DISTANCE
                for key in keys
                for other in by_band.get(key, ())
            ):
                continue
            for key in keys:
                by_band.setdefault(key, []).append(fingerprint)
        yield row


@wraps_driver_errors
def site_article_count(session: Session, site: str) -> int:
    return int(session.scalar(select(func.count()).where(Article.site == site)) or 0)


@wraps_driver_errors
def site_template_pages(session: Session, site: str) -> int:
    """How many articles the site had when its template was last learned (0: never)."""
    return int(session.scalar(select(SiteTemplate.pages).where(SiteTemplate.site == site)) or 0)


@wraps_driver_errors
def site_template_rules(session: Session, site: str) -> int | None:
    """The version of the learning rules that learned the stored template of ``site``
    (None: it has none)."""
    rules = session.scalar(select(SiteTemplate.rules).where(SiteTemplate.site == site))
    return None if rules is None else int(rules)


@wraps_driver_errors
def stale_template_sites(session: Session, rules: int) -> list[str]:
    """The sites whose stored template was learned by other rules than ``rules``."""
    query = select(SiteTemplate.site).where(SiteTemplate.rules != rules).order_by(SiteTemplate.site)
    return list(session.scalars(query))


@wraps_driver_errors
def save_site_template(
    session: Session, site: str, lines: Iterable[str], *, rules: int, pages: int | None = None
) -> None:
    """Store ``lines`` as the template of ``site`` (replacing what was stored), learned by
    the learning rules' version ``rules`` from ``pages`` articles (default: all the site
    has now)."""
    row = session.get(SiteTemplate, site)
    if row is None:
        row = SiteTemplate(site=site, lines=[], pages=0)
        session.add(row)
    row.lines = sorted(lines)
    row.pages = site_article_count(session, site) if pages is None else pages
    row.rules = rules
    row.updated_at = utcnow()
    session.info.pop(_CACHE_KEY, None)
    session.flush()


@wraps_driver_errors
def set_article_texts(session: Session, texts: Mapping[int, str], *, was: Mapping[int, str]) -> list[int]:
    """Replace the texts of stored articles in place, fingerprints with them. That is
    cleaning, not a new version: no ``article_version`` rows, the raw pages keep the
    original text.

    Compare-and-set: a row is changed only if it still holds the text whose
    ``content_hash`` is in ``was`` (what the caller read). Another writer may have
    committed a new version in between (a correction); its text is kept, not overwritten
    with the cleaned old one (PostgreSQL re-checks the condition on the row that writer
    committed). Returns the ids of the rows *not* changed (the caller may read them again)."""
    if not texts:
        return []
    table = cast(Table, Article.__table__)
    statement = (
        update(table)
        .where(table.c.id == bindparam("b_id"), table.c.content_hash == bindparam("b_was"))
        .values(text=bindparam("b_text"), content_hash=bindparam("b_hash"), simhash=bindparam("b_simhash"))
    )
    # PostgreSQL's search index is kept by mapper events, which a Core UPDATE bypasses: the
    # UPDATE returns the title, and the article's vector is written here (SQLite: triggers)
    postgres = session.get_bind().dialect.name == "postgresql"
    if postgres:
        statement = statement.returning(table.c.title)
    missed, vectors = [], []
    for article_id, new_text in texts.items():  # one by one: rowcount says which held
        result = session.execute(statement, {
            "b_id": article_id, "b_was": was[article_id], "b_text": new_text,
            "b_hash": content_hash(new_text), "b_simhash": simhash(new_text),
        })  # fmt: skip
        if postgres:
            row = result.first()
            if row is None:
                missed.append(article_id)
            else:
                vectors.append(vector_row(article_id, row.title, new_text))
        elif not getattr(result, "rowcount", 0):
            missed.append(article_id)
    write_vectors(session.connection(), vectors)
    return missed


@wraps_driver_errors
def article_texts(session: Session, ids: Iterable[int]) -> dict[int, str]:
    """The current texts of the given articles (as committed now)."""
    wanted = list(ids)
    if not wanted:
        return {}
    rows = session.execute(select(Article.id, Article.text).where(Article.id.in_(wanted)))
    return {int(article_id): text for article_id, text in rows}
