"""The archive: SQLAlchemy models and repository functions (never imports Scrapy).

Repository functions take a Session and never commit; the caller owns the
transaction::

    archive = open_archive("archive.db")
    with archive.session() as session, session.begin():
        store_article(session, page, article)
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from core.urls import canonicalize_url, clean_url
    from storage.archive import Archive, open_archive, upgrade_schema
    from storage.errors import ArchiveTooNew, NotFound, StorageError
    from storage.export import FORMATS, count_articles, iter_articles, iter_export_rows
    from storage.filters import ArticleFilter
    from storage.inspect import article_versions, get_article, raw_page, raw_page_body
    from storage.models import (
        Article,
        ArticleUrl,
        ArticleVersion,
        CrawlRun,
        RawPage,
        SiteTemplate,
        SiteTemplateLine,
    )
    from storage.rawpages import save_site_dictionary, site_dictionary
    from storage.reader import head_revision
    from storage.records import EXPORT_FIELDS, export_row, read_article, read_versions, version_diff
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
    from storage.stats import archive_summary, articles_per_day, site_stats
    from storage.templates import site_template

# ``search`` is both a module and a function of it: importing the module (as anything may)
# sets the package's attribute to the module, so it is imported here, before the function.
from storage.search import SearchHit, SearchPage, known_sites, search, search_page  # noqa: E402

# Every other name is imported from its module when first used: a read command imports
# the modules it uses, not the writers' (repository, templates, runs), and on SQLite not
# SQLAlchemy (storage.search does not import it). The names are listed three times: for type
# checkers above, for this lookup, and in __all__ (for ruff and star imports, which read a
# literal list); tests/test_cli_startup.py checks that the three agree.
_WHERE = {
    "canonicalize_url": "core.urls",
    "clean_url": "core.urls",
    "Archive": "storage.archive",
    "open_archive": "storage.archive",
    "upgrade_schema": "storage.archive",
    "ArchiveTooNew": "storage.errors",
    "NotFound": "storage.errors",
    "StorageError": "storage.errors",
    "EXPORT_FIELDS": "storage.records",
    "FORMATS": "storage.export",
    "count_articles": "storage.export",
    "export_row": "storage.records",
    "read_article": "storage.records",
    "read_versions": "storage.records",
    "head_revision": "storage.reader",
    "iter_articles": "storage.export",
    "iter_export_rows": "storage.export",
    "article_versions": "storage.inspect",
    "get_article": "storage.inspect",
    "raw_page": "storage.inspect",
    "raw_page_body": "storage.inspect",
    "version_diff": "storage.records",
    "Article": "storage.models",
    "ArticleUrl": "storage.models",
    "ArticleVersion": "storage.models",
    "CrawlRun": "storage.models",
    "RawPage": "storage.models",
    "SiteTemplate": "storage.models",
    "SiteTemplateLine": "storage.models",
    "ArticleFilter": "storage.filters",
    "save_site_dictionary": "storage.rawpages",
    "site_dictionary": "storage.rawpages",
    "KnownPage": "storage.repository",
    "StoreOutcome": "storage.repository",
    "find_article_id": "storage.repository",
    "known_pages": "storage.repository",
    "known_pages_among": "storage.repository",
    "mark_not_modified": "storage.repository",
    "raw_body": "storage.repository",
    "store_article": "storage.repository",
    "finish_run": "storage.runs",
    "list_runs": "storage.runs",
    "mark_dead_runs_interrupted": "storage.runs",
    "start_run": "storage.runs",
    "archive_summary": "storage.stats",
    "articles_per_day": "storage.stats",
    "site_stats": "storage.stats",
    "site_template": "storage.templates",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'storage' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "Archive",
    "ArchiveTooNew",
    "Article",
    "ArticleFilter",
    "ArticleUrl",
    "ArticleVersion",
    "CrawlRun",
    "EXPORT_FIELDS",
    "FORMATS",
    "KnownPage",
    "NotFound",
    "RawPage",
    "SearchHit",
    "SearchPage",
    "SiteTemplate",
    "SiteTemplateLine",
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
    "read_article",
    "read_versions",
    "save_site_dictionary",
    "search",
    "search_page",
    "site_dictionary",
    "site_stats",
    "site_template",
    "start_run",
    "store_article",
    "upgrade_schema",
    "version_diff",
]
