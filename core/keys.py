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
STAT_PAGES = "newsarchive/pages_fetched"
STAT_PAGES_OK = "newsarchive/pages_ok"
STAT_LISTING_PAGES = "newsarchive/listing_pages"
STAT_TEMPLATE_CLEANED = "newsarchive/template_cleaned"
STAT_STORAGE_FAILURE = "newsarchive/storage_failure"  # the first error that kept an article out
STAT_DICTIONARY_GAVE_UP = "newsarchive/raw_dictionary/gave_up"  # sites whose samples were dropped (memory)
STAT_TEMPLATE_FAILURE = "newsarchive/template_failure"  # why the site's template could not be refreshed
STAT_INCREMENTAL_SKIPPED = "newsarchive/incremental/skipped"
STAT_KNOWN_QUERIES = "newsarchive/incremental/known_url_queries"  # batch lookups of known URLs
STAT_SHARED_DELAY_MS = "newsarchive/politeness/shared_delay_ms"  # a shared crawl's adaptive delay, last seen
STAT_KNOWN_CACHE_PEAK = "newsarchive/incremental/known_url_cache_peak"  # most URLs the cache held
STAT_PAGE_LIMIT_DROPPED = "newsarchive/page_limit/dropped"  # requests not sent: the page limit was reached
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
META_PAGE_COUNTED = "newsarchive_page_counted"  # set by the page limit: its retries and redirects are free


# --- what a crawl refuses or drops: error kinds (newsarchive/errors/<kind>) --------------------
# Besides http_<status> and the network kinds of crawler.runner.error_kind, a crawl counts
# these; SECURITY.md lists each with the limit and setting behind it.
KIND_TOO_LARGE = "too_large"  # a body beyond DOWNLOAD_MAXSIZE
KIND_DECOMPRESSION_BOMB = "decompression_bomb"  # a body growing beyond DOWNLOAD_MAXSIZE when unpacked
KIND_URL_TOO_LONG = "url_too_long"  # a URL beyond NEWSARCHIVE_MAX_URL_LENGTH
KIND_BAD_SCHEME = "bad_scheme"  # a request for anything but http(s)
KIND_OFF_SITE = "off_site"  # a request (a redirect, a sitemap entry) outside the site's origins
KIND_TOO_MANY_LINKS = "too_many_links"  # links of a page beyond NEWSARCHIVE_MAX_LINKS_PER_PAGE
KIND_TOO_MANY_ELEMENTS = "too_many_elements"  # a page beyond NEWSARCHIVE_MAX_PAGE_ELEMENTS: not extracted
KIND_TOO_MANY_ENTRIES = "too_many_entries"  # sitemap/feed entries beyond NEWSARCHIVE_MAX_FEED_ENTRIES
KIND_BAD_SITEMAP = "bad_sitemap"  # not a sitemap, or declaring XML entities
KIND_BAD_FEED = "bad_feed"  # not an RSS/Atom feed, or declaring XML entities
DROP_KINDS = (
    KIND_TOO_LARGE,
    KIND_DECOMPRESSION_BOMB,
    KIND_URL_TOO_LONG,
    KIND_BAD_SCHEME,
    KIND_OFF_SITE,
    KIND_TOO_MANY_LINKS,
    KIND_TOO_MANY_ELEMENTS,
    KIND_TOO_MANY_ENTRIES,
    KIND_BAD_SITEMAP,
    KIND_BAD_FEED,
)
