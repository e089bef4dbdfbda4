"""Repository functions for articles: they take a Session and never commit.

The caller (the store pipeline, ``import``, ``reextract``) owns the
transaction and batches many calls into one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any, Literal

from sqlalchemy import ColumnElement, bindparam, insert, literal_column, or_, select
from sqlalchemy.engine import Connection, CursorResult
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.items import Article as ArticleData
from core.items import FetchedPage, PackedPage
from core.rawcodec import body_sha256, pack_body
from core.urls import canonicalize_url, clean_url, same_site, site_of_url
from storage.errors import wraps_driver_errors
from storage.fingerprint import BAND_SHIFTS, NEAR_DUPLICATE_DISTANCE, bands, content_hash, hamming, simhash
from storage.locks import advisory_key, advisory_xact_lock
from storage.models import Article, ArticleUrl, ArticleVersion, RawPage
from storage.rawpages import raw_body as raw_body  # its readers import it from here too
from storage.search_index import vector_row, write_vectors
from storage.types import utcnow

StoreStatus = Literal["new", "updated", "unchanged", "duplicate"]
NEAR_DUPLICATE_CANDIDATES = 200
# How far (in SimHash bits) an edited article may drift and still be the one its
# rel=canonical names; unrelated texts differ in about half of the 64 bits.
CANONICAL_SAME_STORY_DISTANCE = 12


@dataclass(frozen=True)
class StoreOutcome:
    article_id: int
    status: StoreStatus


@dataclass(frozen=True)
class KnownPage:
    article_id: int
    published_at: datetime | None
    last_fetched_at: datetime | None
    etag: str | None
    last_modified: str | None


def header(headers: dict[str, str], name: str) -> str | None:
    """An HTTP header by case-insensitive name."""
    lowered = name.lower()
    for key, value in headers.items():
        if key.lower() == lowered:
            return value
    return None


def article_urls(page: FetchedPage, article: ArticleData) -> tuple[str, list[str]]:
    """(canonical URL, the keys of all its aliases; the first is the
    canonical one's) for a fetched article.

    The page's ``rel=canonical`` is trusted only when it points at the same
    site: a republished copy often names the original, and that copy must
    still get its own row.
    """
    fetched = page.final_url or page.url
    canonical = clean_url(fetched)
    if article.canonical_url and same_site(article.canonical_url, fetched):
        canonical = clean_url(article.canonical_url)
    aliases = [canonicalize_url(canonical)]
    for url in (page.url, page.final_url, article.url):
        if url:
            alias = canonicalize_url(url)
            if alias not in aliases:
                aliases.append(alias)
    return canonical, aliases


def _raw_page_values(
    page: FetchedPage, sha256: str, fetched_at: datetime, packed: PackedPage | None
) -> dict[str, Any]:
    return {
        "url": page.url,
        "final_url": page.final_url or page.url,
        "status": page.status,
        "headers": dict(page.headers),
        # packed by the extraction worker when it came through the pool
        "body": packed.body if packed is not None else pack_body(page.body),
        "encoding": page.encoding,
        "fetched_at": fetched_at,
        "sha256": sha256,
    }


def _raw_page(page: FetchedPage, sha256: str, fetched_at: datetime, packed: PackedPage | None) -> RawPage:
    return RawPage(**_raw_page_values(page, sha256, fetched_at, packed))


class TextPrints:
    """A text's content hash and SimHash, each computed at most once per store (the
    SimHash only when asked for: an unchanged page never needs it)."""

    def __init__(self, text: str, text_hash: str | None = None, known_simhash: int | None = None,
                 *, simhash_known: bool = False) -> None:
        self.text = text
        self.text_hash = text_hash if text_hash is not None else content_hash(text)
        if simhash_known:
            self.__dict__["simhash"] = known_simhash

    @cached_property
    def simhash(self) -> int | None:
        return simhash(self.text)


def text_prints(text: str, packed: PackedPage | None = None) -> TextPrints:
    """The fingerprints of ``text``: those the worker computed when they are of this text."""
    if packed is not None and packed.text == text:
        return TextPrints(text, packed.text_hash, packed.simhash, simhash_known=True)
    return TextPrints(text)


def band_expression(shift: int) -> ColumnElement[int]:
    """``(simhash >> shift) & 65535`` with literal numbers, so that the
    expression indexes of migration 0002 match it."""
    return Article.simhash.op(">>")(literal_column(str(shift))).op("&")(literal_column("65535"))


def _serialise_copies(session: Session, text_hash: str, fingerprint: int | None) -> None:
    """On PostgreSQL, wait for any other writer storing this text or a near copy of it.

    Two writers storing one text under two URLs at once would each look for an earlier copy,
    find none (the other's row is not committed) and both store "new". A transaction lock on
    the text's hash and on each 16-bit band of its simhash queues them: two near copies
    share a band (pigeonhole, as the lookup), so their lock sets meet, and the second
    writer's lookup runs after the first committed. Keys in sorted order, so two writers
    never wait for each other crosswise. SQLite needs none: BEGIN IMMEDIATE admits one writer.
    """
    if session.get_bind().dialect.name != "postgresql":
        return
    names = [f"text:{text_hash}"]
    if fingerprint is not None:
        names += [f"band:{shift}:{value}"
                  for shift, value in zip(BAND_SHIFTS, bands(fingerprint), strict=True)]
    for name in sorted(names, key=advisory_key):
        advisory_xact_lock(session.connection(), name)


# Built once: building the band expressions for every stored article cost more CPU than
# running the queries (the values are bound parameters, so the SQL, and the indexes of
# migration 0002 it matches, are the same).
_EXACT_COPY = (
    select(Article.id, Article.duplicate_of)
    .where(Article.content_hash == bindparam("text_hash"), Article.id != bindparam("exclude"))
    .order_by(Article.id)
    .limit(1)
)
# No "duplicate_of IS NULL" in SQL: SQLite would then scan ix_article_duplicate_of
# instead of using the band indexes.
_NEAR_COPIES = (
    select(Article.id, Article.simhash, Article.duplicate_of)
    .where(or_(*(band_expression(shift) == bindparam(f"band{shift}") for shift in BAND_SHIFTS)))
    .order_by(Article.id)
    .limit(NEAR_DUPLICATE_CANDIDATES)
)


def _find_original(
    session: Session, text_hash: str, fingerprint: int | None, text: str, *, exclude: int | None = None,
    reader: Session | Connection | None = None,
) -> int | None:
    """The id of the first stored copy of this text (exact, then near), if any; ``exclude``
    is the article itself, when its own text changed. ``reader``: what runs the queries
    (the session's connection, when the session has nothing to flush first)."""
    if not text.strip():
        return None
    _serialise_copies(session, text_hash, fingerprint)
    reader = reader if reader is not None else session
    # A match that is itself a copy points at the first copy: use that.
    exact = reader.execute(_EXACT_COPY, {"text_hash": text_hash, "exclude": exclude or 0}).first()
    if exact is not None:
        return _other(int(exact.duplicate_of or exact.id), exclude)
    if fingerprint is None:
        return None
    # Pigeonhole: two 64-bit hashes within 3 bits share at least one 16-bit band.
    # The expressions match the indexes created by migration 0002.
    wanted = {f"band{shift}": value for shift, value in zip(BAND_SHIFTS, bands(fingerprint), strict=True)}
    rows = reader.execute(_NEAR_COPIES, wanted)
    for article_id, other, duplicate_of in rows:
        if article_id == exclude:
            continue
        if other is not None and hamming(fingerprint, other) <= NEAR_DUPLICATE_DISTANCE:
            return _other(int(duplicate_of or article_id), exclude)
    return None


def _other(original: int, exclude: int | None) -> int | None:
    """``original``, unless it is the article itself (a copy of it points back at it)."""
    return None if original == exclude else original


_KNOWN_ALIAS = (
    select(ArticleUrl.article_id).where(ArticleUrl.url.in_(bindparam("aliases", expanding=True))).limit(1)
)


def _known_alias(connection: Connection, aliases: list[str]) -> bool:
    """Whether any of ``aliases`` is stored (the question ``_lookup`` answers, without
    loading rows into the session)."""
    return connection.execute(_KNOWN_ALIAS, {"aliases": aliases}).first() is not None


def _lookup(session: Session, aliases: list[str]) -> Any:
    """(article, its raw page) stored under any of ``aliases``, oldest first.

    The article row is locked until the transaction ends (``FOR UPDATE``; SQLite's
    BEGIN IMMEDIATE already admits one writer), so two writers updating the same article
    take turns instead of numbering the same version twice and losing one."""
    return session.execute(
        select(Article, RawPage)
        .join(ArticleUrl, ArticleUrl.article_id == Article.id)
        .outerjoin(RawPage, RawPage.id == Article.raw_page_id)
        .where(ArticleUrl.url.in_(aliases))
        .order_by(Article.id)
        .limit(1)
        .with_for_update(of=Article)
        .execution_options(populate_existing=True)
    ).first()


def _wrongly_claimed(
    session: Session, row: Article, aliases: list[str], title: str | None, prints: TextPrints
) -> bool:
    """True when ``row`` was found only through the page's rel=canonical and holds a
    different story: neither the same title nor (nearly) the same text."""
    own = aliases[1:]
    if not own or session.scalar(
        select(ArticleUrl.url).where(ArticleUrl.article_id == row.id, ArticleUrl.url.in_(own)).limit(1)
    ):
        return False  # found through one of the page's own URLs
    if (title or None) == (row.title or None) or prints.text_hash == row.content_hash:
        return False
    fingerprint = prints.simhash
    if fingerprint is not None and row.simhash is not None:
        return hamming(fingerprint, row.simhash) > CANONICAL_SAME_STORY_DISTANCE
    return True


def _snapshot(article: Article, reason: str, now: datetime) -> ArticleVersion:
    return ArticleVersion(
        article_id=article.id,
        version=article.version,
        title=article.title,
        text=article.text,
        author=article.author,
        published_at=article.published_at,
        content_hash=article.content_hash,
        extractor_version=article.extractor_version,
        raw_page_id=article.raw_page_id,
        fetched_at=article.fetched_at,
        replaced_at=now,
        reason=reason,
    )


def utc_offset_minutes(value: datetime) -> int | None:
    """The offset a timezone-aware time was given in, in minutes (None when naive)."""
    offset = value.utcoffset()
    return None if offset is None else int(offset.total_seconds() // 60)


def metadata_values(row: Any, article: ArticleData) -> dict[str, Any]:
    """Fields that are refreshed on every store without making a version: their new values,
    given the row's (an ``Article``, or the blank of a new row: ``_NEW_ROW``)."""
    values: dict[str, Any] = {
        "author": article.author or row.author,
        "source": article.source or row.source,
    }
    if article.published_at is not None:
        values["published_at"] = article.published_at
        values["published_time_known"] = article.published_time_known
        values["published_precision"] = article.published_precision
        values["published_utc_offset"] = utc_offset_minutes(article.published_at)
    values["modified_at"] = article.modified_at or row.modified_at
    values["language"] = article.language or row.language
    values["description"] = article.description or row.description
    values["tags"] = list(article.tags) or row.tags
    values["image"] = article.image or row.image
    values["site_name"] = article.site_name or row.site_name
    values["extractor_version"] = article.extractor_version or row.extractor_version
    values["is_article"] = article.is_article or "yes"
    return values


def copy_metadata(row: Article, article: ArticleData) -> None:
    """Fields that are refreshed on every store without making a version."""
    for name, value in metadata_values(row, article).items():
        setattr(row, name, value)


@dataclass(frozen=True)
class _NewRow:
    """What a new article row holds before its metadata is copied (``metadata_values``)."""

    author: None = None
    source: None = None
    modified_at: None = None
    language: None = None
    description: None = None
    tags: tuple[()] = ()
    image: None = None
    site_name: None = None
    extractor_version: str = ""


_NEW_ROW = _NewRow()


def apply_changes(
    session: Session,
    row: Article,
    *,
    title: str | None,
    text: str,
    reason: str,
    now: datetime,
    raw_page_id: int | None = None,
    prints: TextPrints | None = None,
) -> bool:
    """Set a new title/text on ``row``, keeping the old one as a version when
    either changed. Returns whether a version was made. ``prints``: the text's
    fingerprints, when already known."""
    prints = prints or text_prints(text)
    text_hash = prints.text_hash
    if text_hash == row.content_hash and (title or None) == (row.title or None):
        return False
    session.add(_snapshot(row, reason, now))
    text_changed = text_hash != row.content_hash
    row.title = title
    row.text = text
    row.content_hash = text_hash
    row.simhash = prints.simhash
    row.version += 1
    row.updated_at = now
    if text_changed:
        # the new text may be another article's, or no longer the copy it was
        row.duplicate_of = _find_original(session, text_hash, row.simhash, text, exclude=row.id)
    if raw_page_id is not None:
        row.raw_page_id = raw_page_id
    return True


@wraps_driver_errors
def store_article(
    session: Session,
    page: FetchedPage,
    article: ArticleData,
    *,
    reason: str = "crawl",
    packed: PackedPage | None = None,
) -> StoreOutcome:
    """Insert or update the article fetched in ``page``.

    The same canonical URL always maps to one row: an unchanged page only
    refreshes fetch times, a changed title or text keeps the old version. A
    new URL whose text was already stored (exactly or nearly) gets its own row
    with ``duplicate_of`` pointing at the first copy.

    ``packed``: the stored form of the page's body, its hash and the text's fingerprints,
    computed by an extraction worker (``core.items.PackedPage``); what it does not give
    (fingerprints of another text) is computed here.
    """
    return _store(session, page, article, reason=reason, retried=False, packed=packed)


def _store(
    session: Session, page: FetchedPage, article: ArticleData, *, reason: str, retried: bool,
    packed: PackedPage | None,
) -> StoreOutcome:
    now = utcnow()
    fetched_at = page.fetched_at or now
    site = page.site or site_of_url(page.final_url or page.url) or None
    canonical, aliases = article_urls(page, article)
    text = article.text or ""  # the ingest path has stripped the site's template lines
    body_sha = packed.sha256 if packed is not None else body_sha256(page.body)
    prints = text_prints(text, packed)
    etag = header(page.headers, "ETag")
    last_modified = header(page.headers, "Last-Modified")

    # Nothing is left to flush between stores (each ends flushed), so the common case, a
    # URL the archive does not know, is answered by one Core query on the session's
    # connection; the ORM loads the rows only when there is an article to update.
    session.flush()
    found = _lookup(session, aliases) if _known_alias(session.connection(), aliases) else None
    if found is not None and _wrongly_claimed(session, found[0], aliases, article.title, prints):
        # A template's rel=canonical (the home or a section page) named by unrelated
        # articles: this page is keyed by its own URL instead of joining them.
        canonical = clean_url(page.final_url or page.url)
        aliases = aliases[1:] or [canonicalize_url(canonical)]
        found = _lookup(session, aliases)

    if found is not None:
        row, raw = found
        # An alias may already belong to another article (two rows that this
        # page now links): it stays where it is.
        known = (
            set(aliases)  # the only alias is the one that matched: no query needed
            if len(aliases) == 1
            else set(session.scalars(select(ArticleUrl.url).where(ArticleUrl.url.in_(aliases))))
        )
        session.add_all(
            ArticleUrl(url=alias, article_id=row.id, first_seen_at=now)
            for alias in aliases
            if alias not in known
        )
        if raw is not None and raw.sha256 == body_sha:
            raw.fetched_at = fetched_at
        elif (
            raw is not None
            and prints.text_hash == row.content_hash
            and (article.title or None) == (row.title or None)
        ):
            # Same article, different bytes (ads, counters): keep only the latest
            # raw page of this version instead of piling up near-identical bodies.
            new_raw = _raw_page(page, body_sha, fetched_at, packed)
            raw.url, raw.final_url, raw.status = new_raw.url, new_raw.final_url, new_raw.status
            raw.headers, raw.body, raw.encoding = new_raw.headers, new_raw.body, new_raw.encoding
            raw.fetched_at, raw.sha256 = fetched_at, body_sha
        else:
            raw = _raw_page(page, body_sha, fetched_at, packed)
            session.add(raw)
            session.flush()
        changed = apply_changes(
            session, row, title=article.title, text=text, reason=reason, now=now, raw_page_id=raw.id,
            prints=prints,
        )
        copy_metadata(row, article)
        row.fetched_at = fetched_at
        row.etag = etag or row.etag
        row.last_modified = last_modified or row.last_modified
        if row.raw_page_id is None:
            row.raw_page_id = raw.id
        session.flush()
        return StoreOutcome(row.id, "updated" if changed else "unchanged")

    if found is None and not retried and session.get_bind().dialect.name != "sqlite":
        # Another writer may be inserting the same article right now (PostgreSQL: the
        # unique index makes this insert wait for it, then fail): then it is an update.
        # SQLite admits one writer (BEGIN IMMEDIATE): every row that could conflict is
        # visible to the lookup above, a retry would fail alike, and the savepoint (its
        # statements compiled anew each time) would only cost CPU.
        try:
            with session.begin_nested():
                return _insert(session, page, article, canonical, aliases, text, site, body_sha, now,
                               prints, packed)
        except IntegrityError:
            return _store(session, page, article, reason=reason, retried=True, packed=packed)
    return _insert(session, page, article, canonical, aliases, text, site, body_sha, now, prints, packed)


def _insert(
    session: Session,
    page: FetchedPage,
    article: ArticleData,
    canonical: str,
    aliases: list[str],
    text: str,
    site: str | None,
    body_sha: str,
    now: datetime,
    prints: TextPrints,
    packed: PackedPage | None,
) -> StoreOutcome:
    # Core statements on the session's connection, not the ORM's unit of work: the same
    # rows in the same order (raw page, the duplicate lookup, article, aliases), at a
    # fraction of the CPU (the crawl's writer shares the reactor's process). The session
    # holds nothing to flush here (``_store`` flushed it), and the mapper events of
    # ``Article`` do not fire for Core inserts: the PostgreSQL index row is written here.
    connection = session.connection()
    fetched_at = page.fetched_at or now
    raw_values = _raw_page_values(page, body_sha, fetched_at, packed)
    raw_id = _inserted_id(connection.execute(insert(RawPage), raw_values))
    text_hash, fingerprint = prints.text_hash, prints.simhash
    original = _find_original(session, text_hash, fingerprint, text, reader=connection)
    values = {
        "url": page.final_url or page.url,
        "canonical_url": canonical,
        "site": site,
        "title": article.title,
        "text": text,
        "content_hash": text_hash,
        "simhash": fingerprint,
        "duplicate_of": original,
        "version": 1,
        "first_seen_at": now,
        "fetched_at": fetched_at,
        "updated_at": now,
        "etag": header(page.headers, "ETag"),
        "last_modified": header(page.headers, "Last-Modified"),
        "published_time_known": False,
        **metadata_values(_NEW_ROW, article),
        "raw_page_id": raw_id,
    }
    values["tags"] = list(values["tags"])
    article_id = _inserted_id(connection.execute(insert(Article), values))
    if connection.dialect.name == "postgresql":
        write_vectors(connection, [vector_row(article_id, article.title, text)])
    # an alias another writer has just stored fails here, inside the savepoint
    aliases_rows = [{"url": alias, "article_id": article_id, "first_seen_at": now} for alias in aliases]
    connection.execute(insert(ArticleUrl), aliases_rows)
    return StoreOutcome(article_id, "duplicate" if original is not None else "new")


def _inserted_id(result: CursorResult[Any]) -> int:
    key = result.inserted_primary_key
    assert key is not None  # a single-row insert
    return int(key[0])


@wraps_driver_errors
def find_article_id(session: Session, url: str) -> int | None:
    return session.scalar(select(ArticleUrl.article_id).where(ArticleUrl.url == canonicalize_url(url)))


@wraps_driver_errors
def mark_not_modified(session: Session, url: str, *, fetched_at: datetime) -> int | None:
    """Record a 304 revisit of ``url``; returns the article id, or None when
    the URL is not in the archive."""
    article_id = find_article_id(session, url)
    if article_id is None:
        return None
    row = session.get(Article, article_id)
    assert row is not None
    row.fetched_at = fetched_at
    return article_id


@wraps_driver_errors
def known_pages_among(session: Session, site: str | None, urls: Iterable[str]) -> dict[str, KnownPage]:
    """Those of ``urls`` the archive knows for ``site`` (or for any site), keyed by the URL
    asked about: one query on ``article_url``'s primary key per 500 URLs, so an incremental
    crawl asks about the links it finds instead of holding every URL of the site in memory.

    Only aliases are matched. Ask with the canonical form too (``canonicalize_url``): the
    canonical form of the URL an article was fetched at is always one of its aliases
    (``article_urls``), so that finds every article :func:`known_pages` finds by it."""
    wanted = list(dict.fromkeys(urls))
    result: dict[str, KnownPage] = {}
    for start in range(0, len(wanted), _LOOKUP_CHUNK):
        query = (
            select(ArticleUrl.url, Article.id, Article.published_at, Article.fetched_at, Article.etag,
                   Article.last_modified)
            .join(Article, Article.id == ArticleUrl.article_id)
            .where(ArticleUrl.url.in_(wanted[start : start + _LOOKUP_CHUNK]))
        )
        if site is not None:
            query = query.where(Article.site == site)
        for url, article_id, published_at, fetched_at, etag, last_modified in session.execute(query):
            result[url] = KnownPage(article_id, published_at, fetched_at, etag, last_modified)
    return result


_LOOKUP_CHUNK = 500


@wraps_driver_errors
def known_pages(session: Session, site: str | None) -> dict[str, KnownPage]:
    """Every URL of ``site`` (or of all sites) the archive knows, keyed by its
    canonical form (see ``core.urls.canonicalize_url``) and by the URL the
    article was fetched at."""
    query = select(
        ArticleUrl.url,
        Article.url,
        Article.id,
        Article.published_at,
        Article.fetched_at,
        Article.etag,
        Article.last_modified,
    ).join(Article, Article.id == ArticleUrl.article_id)
    if site is not None:
        query = query.where(Article.site == site)
    result: dict[str, KnownPage] = {}
    for alias, fetched_url, article_id, published_at, fetched_at, etag, last_modified in session.execute(
        query.execution_options(yield_per=5000)
    ):
        known = KnownPage(article_id, published_at, fetched_at, etag, last_modified)
        result[alias] = known
        result.setdefault(fetched_url, known)
    return result
