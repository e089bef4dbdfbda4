"""The archive: SQLAlchemy models and repository functions (never imports Scrapy).

Repository functions take a Session and never commit; the caller owns the
transaction::

    archive = open_archive("archive.db")
    with archive.session() as session, session.begin():
        store_article(session, page, article)
"""

from __future__ import annotations

from core.urls import canonicalize_url, clean_url
from storage.archive import Archive, head_revision, open_archive, upgrade_schema
from storage.errors import ArchiveTooNew, NotFound, StorageError
from storage.export import EXPORT_FIELDS, FORMATS, count_articles, export_row, iter_articles, iter_export_rows
from storage.inspect import article_versions, get_article, raw_page, raw_page_body, version_diff
from storage.models import Article, ArticleUrl, ArticleVersion, CrawlRun, RawPage, SiteTemplate
from storage.query import ArticleFilter
from storage.repository import (
    KnownPage,
    StoreOutcome,
    find_article_id,
    known_pages,
    known_pages_among,
    mark_not_modified,
    raw_body,
    store_article,
)
from storage.runs import finish_run, list_runs, mark_dead_runs_interrupted, start_run
from storage.search import SearchHit, SearchPage, known_sites, search, search_page
from storage.stats import archive_summary, articles_per_day, site_stats
from storage.templates import site_template

__all__ = [
    "EXPORT_FIELDS",
    "FORMATS",
    "Archive",
    "ArchiveTooNew",
    "Article",
    "ArticleFilter",
    "ArticleUrl",
    "ArticleVersion",
    "CrawlRun",
    "KnownPage",
    "NotFound",
    "RawPage",
    "SearchHit",
    "SearchPage",
    "SiteTemplate",
    "StorageError",
    "StoreOutcome",
    "archive_summary",
    "article_versions",
    "articles_per_day",
    "canonicalize_url",
    "clean_url",
    "count_articles",
    "export_row",
    "find_article_id",
    "finish_run",
    "get_article",
    "head_revision",
    "iter_articles",
    "iter_export_rows",
    "known_pages",
    "known_pages_among",
    "known_sites",
    "list_runs",
    "mark_dead_runs_interrupted",
    "mark_not_modified",
    "open_archive",
    "raw_body",
    "raw_page",
    "raw_page_body",
    "search",
    "search_page",
    "site_stats",
    "site_template",
    "start_run",
    "store_article",
    "upgrade_schema",
    "version_diff",
]
