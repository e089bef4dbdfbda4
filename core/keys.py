"""Names shared across layers: crawler stats keys and request meta keys.

Every stats key the project writes is built here, so the run recorder, the progress
display, the CLI summary and the pipelines agree on one vocabulary.
"""

from __future__ import annotations

# --- stats keys --------------------------------------------------------------------------
STAT_RUN_ID = "newsarchive/run_id"  # left by the run recorder for the caller
STAT_RUN_STATUS = "newsarchive/run_status"
STAT_RUN_REASON = "newsarchive/run_reason"
STAT_CRAWL_ID = "newsarchive/crawl_id"  # the shared crawl this run served (crawler/frontier.py)
STAT_SHARED_PAGES = "newsarchive/shared/pages_fetched"  # pages of the whole shared crawl
STAT_PAGES = "newsarchive/pages_fetched"
STAT_PAGES_OK = "newsarchive/pages_ok"
STAT_LISTING_PAGES = "newsarchive/listing_pages"
STAT_TEMPLATE_CLEANED = "newsarchive/template_cleaned"
STAT_INCREMENTAL_SKIPPED = "newsarchive/incremental/skipped"
INCREMENTAL_REVISIT_PREFIX = "newsarchive/incremental/revisit/"

ERROR_PREFIX = "newsarchive/errors/"  # + an error kind: http_404, dns, storage, ...
STORED_PREFIX = "newsarchive/stored/"  # + new | updated | unchanged | duplicate
DROPPED_PREFIX = "newsarchive/dropped/"  # + a drop reason: not_html, listing_page, ...


def error_key(kind: str) -> str:
    return ERROR_PREFIX + kind


def stored_key(outcome: str) -> str:
    return STORED_PREFIX + outcome


def dropped_key(reason: str) -> str:
    return DROPPED_PREFIX + reason


def revisit_key(why: str) -> str:
    return INCREMENTAL_REVISIT_PREFIX + why


# --- request meta keys -------------------------------------------------------------------
META_ALWAYS = "newsarchive_always"  # seed, feed or sitemap: fetched on every run
META_LASTMOD = "newsarchive_lastmod"  # a sitemap lastmod or feed date (aware datetime)
META_QUIET = "newsarchive_quiet"  # a failure of this request is not an error of the run
META_REVISIT = "newsarchive_revisit"  # set by the incremental middleware: why a known page is refetched
META_CHECKED = "newsarchive_checked"  # set by the incremental middleware: let through once
