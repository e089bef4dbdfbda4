"""The archive: SQLAlchemy models and repository functions (never imports Scrapy).

Repository functions take a Session and never commit; the caller owns the
transaction::

    archive = open_archive("archive.db")
    with archive.session() as session, session.begin():
        store_article(session, page, article)
"""

from __future__ import annotations

from storage.archive import Archive, head_revision, open_archive, upgrade_schema
from storage.errors import ArchiveTooNew, NotFound, StorageError
from storage.models import Article, ArticleUrl, ArticleVersion, CrawlRun, RawPage
from storage.repository import (
    KnownPage,
    StoreOutcome,
    find_article_id,
    known_pages,
    mark_not_modified,
    raw_body,
    store_article,
)
from storage.runs import finish_run, list_runs, mark_dead_runs_interrupted, start_run
from storage.urls import canonicalize_url

__all__ = [
    "Archive",
    "ArchiveTooNew",
    "Article",
    "ArticleUrl",
    "ArticleVersion",
    "CrawlRun",
    "KnownPage",
    "NotFound",
    "RawPage",
    "StorageError",
    "StoreOutcome",
    "canonicalize_url",
    "find_article_id",
    "finish_run",
    "head_revision",
    "known_pages",
    "list_runs",
    "mark_dead_runs_interrupted",
    "mark_not_modified",
    "open_archive",
    "raw_body",
    "start_run",
    "store_article",
    "upgrade_schema",
]
