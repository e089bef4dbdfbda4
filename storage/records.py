"""One article read back as plain values, without SQLAlchemy: by id or URL, with its
versions, and as an export record. ``show`` reads it so on either path
(``storage.reader``); ``export_row`` takes this record or the ``Article`` model alike."""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from core.items import published_iso
from core.urls import canonicalize_url
from storage.errors import NotFound, wraps_driver_errors
from storage.filters import SQL_INT_MAX
from storage.reader import Reader, as_reader, utc_datetime
from storage.sqlite_sql import ARTICLE_BY_ID, ARTICLE_FIELDS, ARTICLE_ID_BY_URL, ARTICLE_VERSIONS


def _local(value: datetime | None, offset: int | None) -> datetime | None:
    if value is None or offset is None:
        return value
    return value.astimezone(timezone(timedelta(minutes=offset)))


@dataclass(frozen=True)
class ArticleRecord:
    """The columns of one ``article`` row, typed as the ``Article`` model reads them."""

    id: int
    url: str
    canonical_url: str
    site: str | None
    title: str | None
    author: str | None
    source: str | None
    published_at: datetime | None
    published_time_known: bool
    published_precision: str
    published_utc_offset: int | None
    modified_at: datetime | None
    language: str | None
    text: str
    description: str | None
    tags: list[str]
    image: str | None
    site_name: str | None
    content_hash: str
    duplicate_of: int | None
    version: int
    extractor_version: str
    is_article: str
    first_seen_at: datetime | None
    fetched_at: datetime | None
    updated_at: datetime | None
    raw_page_id: int | None

    @classmethod
    def from_row(cls, row: tuple[Any, ...]) -> ArticleRecord:
        values = dict(zip(ARTICLE_FIELDS, row, strict=True))
        for name in ("published_at", "modified_at", "first_seen_at", "fetched_at", "updated_at"):
            values[name] = utc_datetime(values[name])
        tags = values["tags"]
        values["tags"] = json.loads(tags) if isinstance(tags, str | bytes) else tags
        values["published_time_known"] = bool(values["published_time_known"])
        return cls(**values)

    @property
    def published_local(self) -> datetime | None:
        """``published_at`` in the publisher's own offset (UTC when unknown)."""
        return _local(self.published_at, self.published_utc_offset)

    @property
    def modified_local(self) -> datetime | None:
        """``modified_at`` in the publisher's offset (that of ``published_at``; UTC when unknown)."""
        return _local(self.modified_at, self.published_utc_offset)


@dataclass(frozen=True)
class VersionView:
    """One version of an article, oldest first; the last one is current."""

    version: int
    title: str | None
    text: str
    fetched_at: datetime | None
    extractor_version: str
    replaced_at: datetime | None  # None for the current version
    reason: str | None  # what replaced it: crawl | reextract | import


@wraps_driver_errors
def read_article(source: Any, ref: str | int) -> ArticleRecord:
    """The article with id ``ref`` or at URL ``ref`` (any alias) from a reader or a
    session; NotFound otherwise."""
    reader: Reader = as_reader(source)
    article_id: int | None = None
    if isinstance(ref, int) or str(ref).strip().isdigit():
        number = int(ref)
        # beyond a 64-bit integer no row can match, and the driver would raise OverflowError
        article_id = number if 0 < number <= SQL_INT_MAX else None
    else:
        found = reader(ARTICLE_ID_BY_URL, {"url": canonicalize_url(str(ref))})
        article_id = found[0][0] if found else None
    rows = reader(ARTICLE_BY_ID, {"id": article_id}) if article_id is not None else []
    if not rows:
        raise NotFound(f"no article {ref} in the archive")
    return ArticleRecord.from_row(tuple(rows[0]))


@wraps_driver_errors
def read_versions(source: Any, article: Any) -> list[VersionView]:
    """Every version of ``article`` (a record or an ``Article``), oldest first, the current last."""
    rows = as_reader(source)(ARTICLE_VERSIONS, {"id": article.id})
    views = [
        VersionView(version, title, text, utc_datetime(fetched), extractor, utc_datetime(replaced), reason)
        for version, title, text, fetched, extractor, replaced, reason in rows
    ]
    views.append(
        VersionView(
            article.version, article.title, article.text, article.fetched_at, article.extractor_version,
            None, None,
        )
    )  # fmt: skip
    return views


def version_diff(old: VersionView, new: VersionView) -> str:
    """A unified diff of title and text, line by line."""

    def lines(view: VersionView) -> list[str]:
        return [f"# {view.title or ''}", *view.text.splitlines()]

    return "\n".join(
        difflib.unified_diff(
            lines(old), lines(new), f"version {old.version}", f"version {new.version}", lineterm=""
        )
    )


EXPORT_FIELDS = (
    "id", "url", "canonical_url", "site", "title", "author", "source", "published_at",
    "published_time_known", "language", "text", "description", "tags", "image", "site_name",
    "fetched_at", "first_seen_at", "updated_at", "content_hash", "duplicate_of", "version",
    "extractor_version", "modified_at", "is_article",
)  # fmt: skip


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def export_row(article: Any) -> dict[str, Any]:
    """An article (``Article`` or ``ArticleRecord``) as an export record: JSON-ready
    values, ISO 8601 times with their UTC offset, tags as a list."""
    return {
        "id": article.id,
        "url": article.url,
        "canonical_url": article.canonical_url,
        "site": article.site,
        "title": article.title,
        "author": article.author,
        "source": article.source,
        "published_at": published_iso(article.published_local, article.published_precision),
        "published_time_known": article.published_time_known,
        "language": article.language,
        "text": article.text,
        "description": article.description,
        "tags": list(article.tags or []),
        "image": article.image,
        "site_name": article.site_name,
        "fetched_at": _iso(article.fetched_at),
        "first_seen_at": _iso(article.first_seen_at),
        "updated_at": _iso(article.updated_at),
        "content_hash": article.content_hash,
        "duplicate_of": article.duplicate_of,
        "version": article.version,
        "extractor_version": article.extractor_version,
        "modified_at": _iso(article.modified_local),
        "is_article": article.is_article,
    }
