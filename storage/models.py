"""The archive's tables (SQLAlchemy 2.0 declarative models).

Tables are singular snake_case and plain enough for Datasette or the sqlite3
shell. The schema itself is owned by the Alembic migrations in
``storage/migrations/versions``; these models must match the newest one.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from storage.types import JSONType, UTCDateTime, utcnow

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class RawPage(Base):
    """One HTTP response as fetched; the body is compressed (``core.rawcodec``: a zstd
    frame, with its site's dictionary when there is one; a zlib stream in rows stored
    before) so that extraction can be redone without recrawling."""

    __tablename__ = "raw_page"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    url: Mapped[str] = mapped_column(Text, index=True)
    final_url: Mapped[str] = mapped_column(Text)
    status: Mapped[int] = mapped_column(Integer)
    headers: Mapped[dict[str, str]] = mapped_column(JSONType, default=dict)
    body: Mapped[bytes] = mapped_column(LargeBinary)  # zstd (zlib in rows stored before 0015)
    encoding: Mapped[str | None] = mapped_column(String(64))
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sha256: Mapped[str] = mapped_column(String(64))  # of the uncompressed body


class RawPageDictionary(Base):
    """A zstd dictionary learned from a site's first raw pages; a stored body compressed
    with it names it by ``dict_id`` in its frame header."""

    __tablename__ = "raw_page_dictionary"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dict_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    site: Mapped[str] = mapped_column(String(200), index=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    samples: Mapped[int] = mapped_column(Integer)  # pages it was learned from
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Article(Base):
    """The current version of one article: one row per canonical URL."""

    __tablename__ = "article"
    # listing a site newest first (``search`` without a query, ``list --site``)
    __table_args__ = (
        Index("ix_article_site_published_at", "site", "published_at"),
        # a site's articles stored since a given id (incremental template learning);
        # SQLite's ix_article_site holds the rowid already, PostgreSQL's does not
        Index("ix_article_site_id", "site", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    url: Mapped[str] = mapped_column(Text)
    canonical_url: Mapped[str] = mapped_column(Text, unique=True)
    site: Mapped[str | None] = mapped_column(String(200), index=True)
    title: Mapped[str | None] = mapped_column(Text)
    author: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str | None] = mapped_column(Text)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    published_time_known: Mapped[bool] = mapped_column(Boolean, default=False)
    # "day", or "month" when the page named only a month (published_at is its first day)
    published_precision: Mapped[str] = mapped_column(String(5), default="day", server_default="day")
    # minutes east of UTC, as the page gave the time (published_at itself is UTC)
    published_utc_offset: Mapped[int | None] = mapped_column(Integer)
    # when the page says it was last modified (dateModified); not when the archive changed it
    modified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    language: Mapped[str | None] = mapped_column(String(35))
    text: Mapped[str] = mapped_column(Text, default="")
    description: Mapped[str | None] = mapped_column(Text)
    tags: Mapped[list[str]] = mapped_column(JSONType, default=list)
    image: Mapped[str | None] = mapped_column(Text)
    site_name: Mapped[str | None] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64), index=True)
    simhash: Mapped[int | None] = mapped_column(BigInteger)  # signed 64-bit
    duplicate_of: Mapped[int | None] = mapped_column(
        ForeignKey("article.id", ondelete="SET NULL"), index=True
    )
    version: Mapped[int] = mapped_column(Integer, default=1)
    extractor_version: Mapped[str] = mapped_column(String(64), default="")
    # "yes", or "uncertain": kept although some signals said listing page (see classify.py)
    is_article: Mapped[str] = mapped_column(String(10), default="yes", server_default="yes")
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    etag: Mapped[str | None] = mapped_column(Text)
    last_modified: Mapped[str | None] = mapped_column(Text)
    raw_page_id: Mapped[int | None] = mapped_column(ForeignKey("raw_page.id", ondelete="SET NULL"))

    @property
    def published_local(self) -> datetime | None:
        """``published_at`` in the publisher's own offset (UTC when unknown)."""
        if self.published_at is None or self.published_utc_offset is None:
            return self.published_at
        return self.published_at.astimezone(timezone(timedelta(minutes=self.published_utc_offset)))

    @property
    def modified_local(self) -> datetime | None:
        """``modified_at`` in the publisher's offset (that of ``published_at``; UTC when unknown)."""
        if self.modified_at is None or self.published_utc_offset is None:
            return self.modified_at
        return self.modified_at.astimezone(timezone(timedelta(minutes=self.published_utc_offset)))


class ArticleUrl(Base):
    """Every canonicalised URL (alias) under which an article was seen."""

    __tablename__ = "article_url"

    url: Mapped[str] = mapped_column(Text, primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("article.id", ondelete="CASCADE"), index=True)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ArticleVersion(Base):
    """A superseded version of an article, kept when a recrawl or a
    re-extraction changed its title or text."""

    __tablename__ = "article_version"
    __table_args__ = (Index("uq_article_version_article_version", "article_id", "version", unique=True),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("article.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    title: Mapped[str | None] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text, default="")
    author: Mapped[str | None] = mapped_column(Text)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    content_hash: Mapped[str] = mapped_column(String(64))
    extractor_version: Mapped[str] = mapped_column(String(64), default="")
    raw_page_id: Mapped[int | None] = mapped_column(ForeignKey("raw_page.id", ondelete="SET NULL"))
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime)  # when this version was fetched
    replaced_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    reason: Mapped[str] = mapped_column(String(32))  # what replaced it: crawl | reextract | import


class CrawlRun(Base):
    """One run: a crawl of one site (or of ad-hoc URLs when ``site`` is null), an
    ``import`` or a ``reextract`` (``kind``)."""

    __tablename__ = "crawl_run"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # crawl | import | reextract
    kind: Mapped[str] = mapped_column(String(16), default="crawl", server_default="crawl")
    site: Mapped[str | None] = mapped_column(String(200), index=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16), default="running")  # running|ok|failed|interrupted
    pid: Mapped[int | None] = mapped_column(Integer)
    host: Mapped[str | None] = mapped_column(String(255))
    pages_fetched: Mapped[int] = mapped_column(Integer, default=0)
    articles_new: Mapped[int] = mapped_column(Integer, default=0)
    articles_updated: Mapped[int] = mapped_column(Integer, default=0)
    articles_unchanged: Mapped[int] = mapped_column(Integer, default=0)
    articles_duplicate: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    errors: Mapped[dict[str, int]] = mapped_column(JSONType, default=dict)
    stats: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    reason: Mapped[str | None] = mapped_column(Text)
    # the shared crawl (crawler/frontier.py) this run was one worker of; null for a crawl alone
    crawl_id: Mapped[str | None] = mapped_column(String(64), index=True)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # refreshed while running


class JobPart(Base):
    """One shard or one file of a job split across processes (``reextract --shard``,
    ``import --shard`` / ``--claim``): which run has it, how far it got, whether it is done
    (see ``storage.jobs``)."""

    __tablename__ = "job_part"

    job: Mapped[str] = mapped_column(String(200), primary_key=True)
    part: Mapped[str] = mapped_column(String(500), primary_key=True)
    # reextract: the last article id done; import: the pages of the file done
    position: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    done: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    run_id: Mapped[int | None] = mapped_column(ForeignKey("crawl_run.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SiteTemplate(Base):
    """Lines (normalised, see ``pipelines.extraction.template``) that repeat
    across a site's articles: furniture stripped from every article text."""

    __tablename__ = "site_template"

    site: Mapped[str] = mapped_column(String(200), primary_key=True)
    lines: Mapped[list[str]] = mapped_column(JSONType, default=list)
    pages: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # the learning rules' version (``pipelines.extraction.template.TEMPLATE_RULES``) that
    # learned ``lines``; 1, the first rules, for a row that does not say
    rules: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    # incremental learning (``pipelines.site_templates``): the highest article id whose
    # lines are counted in ``site_template_line`` (None: not counted yet, the next refresh
    # counts every stored text once), and how many distinct texts were counted
    counted_through: Mapped[int | None] = mapped_column(BigInteger)
    counted_pages: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class SiteTemplateLine(Base):
    """How many of a site's distinct articles hold a line (by a 64-bit hash of its
    normalised form), so that a refresh counts only the articles stored since the last one.
    Lossy counting (Manku and Motwani): a line whose count cannot matter any more is
    pruned every :data:`pipelines.extraction.template.LOSSY_BUCKET` texts; ``delta`` bounds
    what it may have counted before it was last seen."""

    __tablename__ = "site_template_line"

    site: Mapped[str] = mapped_column(String(200), primary_key=True)
    line_hash: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    pages: Mapped[int] = mapped_column(Integer)
    delta: Mapped[int] = mapped_column(Integer, default=0)


class SiteDayStats(Base):
    """Articles per site and UTC publication day, kept by triggers (migration 0009) so
    that ``stats`` reads a few rows, not every article. ``site`` is '' for articles
    without one, ``day`` '' for undated ones; rows may count zero after deletions."""

    __tablename__ = "site_day_stats"
    __table_args__ = (Index("ix_site_day_stats_day", "day"),)  # the newest days, for stats

    site: Mapped[str] = mapped_column(String(200), primary_key=True)
    day: Mapped[str] = mapped_column(String(10), primary_key=True)  # YYYY-MM-DD or ''
    articles: Mapped[int] = mapped_column(Integer)
    duplicates: Mapped[int] = mapped_column(Integer)
    missing_author: Mapped[int] = mapped_column(Integer)
    uncertain: Mapped[int] = mapped_column(Integer)  # is_article other than "yes"
    last_fetched: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SiteTotal(Base):
    """Articles per site, kept by triggers (migration 0013): what ``SiteDayStats`` counts,
    summed over the days, plus the undated articles; ``stats`` reads a row per site."""

    __tablename__ = "site_total"

    site: Mapped[str] = mapped_column(String(200), primary_key=True)  # '' for none
    articles: Mapped[int] = mapped_column(Integer)
    duplicates: Mapped[int] = mapped_column(Integer)
    missing_date: Mapped[int] = mapped_column(Integer)
    missing_author: Mapped[int] = mapped_column(Integer)
    uncertain: Mapped[int] = mapped_column(Integer)
    last_fetched: Mapped[datetime | None] = mapped_column(UTCDateTime)
