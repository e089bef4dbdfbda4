"""Items that flow from spiders through pipelines to storage.

Plain dataclasses (read through ``ItemAdapter`` by Scrapy), so that the
extraction library and ``storage/`` can use them without importing Scrapy.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass
class FetchedPage:
    """One HTTP response as the spider got it (or as a WARC record holds it)."""

    url: str
    final_url: str
    status: int
    headers: dict[str, str]
    body: bytes
    encoding: str | None = None  # charset named by the HTTP header, if any
    fetched_at: datetime | None = None
    site: str | None = None
    run_id: int | None = None
    # set by the spider on revisits so storage can tell "unchanged" from "new"
    not_modified: bool = False


# The article fields a site profile may take from the page with a CSS selector of its own
# (``[sites.X.selectors]``), checked when the profile is loaded and applied after extraction.
SELECTOR_FIELDS = ("title", "body", "date", "author", "source")


@dataclass
class Article:
    """One extracted news article."""

    url: str
    title: str | None = None
    text: str = ""
    author: str | None = None
    source: str | None = None  # the outlet named in a Chinese 来源: line
    published_at: datetime | None = None  # timezone-aware
    published_time_known: bool = False  # False when only the day was given
    # "day", or "month" when the page names only a month (published_at is then its first day)
    published_precision: str = "day"
    modified_at: datetime | None = None  # the page's own last-modified time (dateModified), aware
    language: str | None = None
    description: str | None = None
    tags: list[str] = field(default_factory=list)
    image: str | None = None
    site_name: str | None = None
    canonical_url: str | None = None  # from <link rel=canonical> / og:url
    extractor_version: str = ""
    # "yes"; "uncertain" when some signals say listing page but too few to drop it; "no"
    # (not stored by a crawl, but re-extraction records it for a page stored before)
    is_article: str = "yes"


@dataclass
class PackedPage:
    """What an extraction worker computed for storage while it held the page, so that the
    process that writes need not: the raw body as stored (``core.rawcodec``) and its
    SHA-256, and the fingerprints of ``text`` (``core.fingerprint``). Storage uses the
    fingerprints only for a text equal to ``text`` (a template line stripped since makes
    them stale) and computes whatever it is not given."""

    body: bytes  # the stored form of the page's body: a zstd frame
    sha256: str  # of the body as fetched
    text: str
    text_hash: str
    simhash: int | None


@dataclass
class ArticleItem:
    """What the extract pipeline hands to the store pipeline."""

    page: FetchedPage
    article: Article
    packed: PackedPage | None = None


def published_iso(value: datetime | None, precision: str = "day") -> str | None:
    """``published_at`` as ISO 8601, to the precision the page stated: ``1996-03`` for a
    month (ISO 8601's reduced precision), never a first day the page did not name."""
    if value is None:
        return None
    return value.strftime("%Y-%m") if precision == "month" else value.isoformat()
