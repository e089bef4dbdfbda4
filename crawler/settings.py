"""Scrapy settings: the project defaults (lowest precedence after Scrapy's own).

Precedence, low to high: these defaults < the site profile's ``settings`` table
< environment (``NEWSARCHIVE_*``) < command-line flags (``-s NAME=VALUE``, ``--max-pages``).
The profile and environment layers are applied by :func:`crawler.runner.apply_site_settings`
when the spider is created, so ``scrapy crawl news`` gets them too.
"""

from __future__ import annotations

import scrapy.settings.default_settings as _scrapy_defaults

BOT_NAME = "newsarchive"
SPIDER_MODULES = ["spiders"]
NEWSPIDER_MODULE = "spiders"

# --- politeness -------------------------------------------------------------------------
ROBOTSTXT_OBEY = True
# USER_AGENT is built from NEWSARCHIVE_CONTACT unless set explicitly (see crawler.runner).
NEWSARCHIVE_CONTACT = "https://github.com/newsarchive/newsarchive"
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 4
# Scrapy starts this many asyncio tasks for the output of every response (default 100); a
# page yields one item at most (the rest are requests), and 100 tasks per page cost the
# reactor more CPU than parsing the page's links
CONCURRENT_ITEMS = 4
DOWNLOAD_DELAY = 0.5
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 2.0

# Breadth-first: listing pages near the start come before the links deep inside articles,
# so a --max-pages limit spends its pages on what is new.
DEPTH_PRIORITY = 1
# one request per page: links differing by tracking parameters, fragment or http/https
# share a fingerprint (the canonical URL's), so the dupefilter drops all but the first
REQUEST_FINGERPRINTER_CLASS = "crawler.fingerprint.CanonicalRequestFingerprinter"
SCHEDULER_DISK_QUEUE = "scrapy.squeues.PickleFifoDiskQueue"
SCHEDULER_MEMORY_QUEUE = "scrapy.squeues.FifoMemoryQueue"

# --- robustness -------------------------------------------------------------------------
DOWNLOAD_TIMEOUT = 30
DOWNLOAD_MAXSIZE = 16 * 1024 * 1024  # a news page is never this big; bigger is dropped and counted
DOWNLOAD_WARNSIZE = 4 * 1024 * 1024
RETRY_ENABLED = True
RETRY_TIMES = 2
RETRY_GIVE_UP_LOG_LEVEL = "INFO"  # a dead page is routine: counted as newsarchive/errors/<kind>
REDIRECT_MAX_TIMES = 10
COOKIES_ENABLED = False
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False  # no listening ports from a crawler
# Scrapy parses the source of a generator callback with ``ast`` for every response whose
# callback is a bound method (its cache is keyed by the method object, new on every
# request): a CPU cost per page for a developer's warning. Our spiders' callbacks never
# return a value (tests/test_crawl_support.py checks them instead).
WARN_ON_GENERATOR_RETURN_VALUE = False
DNS_TIMEOUT = 20
# Only http and https are ever fetched (SECURITY.md): Scrapy's handlers for file://, ftp://,
# s3:// and data: URLs are switched off; crawler.safety.SafetyMiddleware refuses them first.
DOWNLOAD_HANDLERS = {"file": None, "ftp": None, "s3": None, "data": None}

# --- limits on what one hostile response can cost (SECURITY.md) --------------------------
NEWSARCHIVE_MAX_URL_LENGTH = 2048  # longer URLs are not requested (counted url_too_long)
NEWSARCHIVE_MAX_LINKS_PER_PAGE = 2000  # links taken from one page; the rest counted too_many_links
NEWSARCHIVE_MAX_PAGE_ELEMENTS = 100_000  # a page with more HTML elements is not extracted (too_many_elements)
NEWSARCHIVE_MAX_FEED_ENTRIES = 50_000  # entries taken from one sitemap or feed (the protocol's cap)
LOG_LEVEL = "INFO"
LOG_FORMATTER = "crawler.extensions.ArchiveLogFormatter"
FEED_EXPORT_ENCODING = "utf-8"

# --- newsarchive components ---------------------------------------------------------------
SPIDER_MIDDLEWARES = {
    # last on the way out (after depth, URL length …): the links that leave are looked up
    # in the archive in one query per response (crawler/middlewares.py)
    "crawler.middlewares.KnownUrlPrefetchMiddleware": 50,
}
DOWNLOADER_MIDDLEWARES = {
    # before everything, robots.txt (100) included: a refused URL costs nothing
    "crawler.safety.SafetyMiddleware": 45,
    # after robots.txt (100), before retry (550) and the downloader
    "crawler.middlewares.IncrementalCrawlMiddleware": 120,
    "crawler.pagelimit.PageLimitMiddleware": 130,  # after the incremental skip: skipped pages are free
    # Scrapy's meta-refresh redirects, from the head of the page only (crawler/metarefresh.py)
    "scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware": None,
    "crawler.metarefresh.HeadMetaRefreshMiddleware": 580,
}
ITEM_PIPELINES = {
    "pipelines.extract.ExtractArticlePipeline": 300,
    "pipelines.store.StoreArticlePipeline": 800,
}
EXTENSIONS = {
    "crawler.extensions.CrawlRunRecorder": 500,
    "crawler.extensions.CrawlProgress": 510,
}
# Scrapy's remote control is off (REMOTE_CONTROL_ENABLED above) and never to be on: not
# even listed, since Scrapy imports every listed component's module, disabled or not (it
# compares them by class), and this one's imports aiohttp's web server: 0.1-0.2 s of
# every crawl's start-up.
EXTENSIONS_BASE = {
    name: order
    for name, order in _scrapy_defaults.EXTENSIONS_BASE.items()
    if not name.endswith(".RemoteControl")
}

EXTRACT_WORKERS = 2  # processes running the CPU-heavy extraction
STORE_BATCH_SIZE = 50  # articles per transaction at most
STORE_FLUSH_SECONDS = 2.0  # ... and at least this often, so a killed crawl keeps its work
# a site's raw pages are zstd-compressed with a dictionary learned by an extraction worker
# from its first this many article pages (0: never learn one; core/rawcodec.py)
NEWSARCHIVE_RAW_DICTIONARY_SAMPLES = 64
NEWSARCHIVE_LEARN_TEMPLATES = True  # after a run: learn and strip lines all the site's articles repeat
NEWSARCHIVE_MAX_PAGES = 0  # pages per crawl at most (0: no limit); --max-pages and max_pages set it
NEWSARCHIVE_PROGRESS = "auto"  # "auto" (live display on a terminal), "live", "log" or "off"
NEWSARCHIVE_PROGRESS_INTERVAL = 30.0  # seconds between stats lines when not live
NEWSARCHIVE_LEASE_SECONDS = 60.0  # a shared crawl's request whose worker went silent this long goes back
# NEWSARCHIVE_DB: the archive; when unset the store pipeline, run recorder and incremental
# middleware switch themselves off (a bare ``scrapy crawl`` then just fetches and extracts).
NEWSARCHIVE_DB = None
NEWSARCHIVE_INCREMENTAL = True  # skip known articles unless a revisit is due
NEWSARCHIVE_KNOWN_URL_CACHE = 50_000  # URLs whose archive status a crawl keeps in memory at most
NEWSARCHIVE_KNOWN_URL_BATCH = 500  # URLs looked up in one query
NEWSARCHIVE_SITEMAP_DISCOVERY = True  # read robots.txt's Sitemap: lines when a profile names no sitemap
NEWSARCHIVE_REDIS_URL = None  # a durable frontier in Redis (crawler/frontier.py)
# Settings are checked when a profile or -s flag is read (crawler/setting_check.py): a name
# neither Scrapy nor this file declares is an error unless listed here (an extension's own).
NEWSARCHIVE_CUSTOM_SETTINGS: list[str] = []
# Set by crawler/frontier.py for a shared crawl (not for users; declared so that settings
# checks know them): the workers' Redis key prefix, and DOWNLOAD_DELAY kept across workers.
NEWSARCHIVE_FRONTIER_PREFIX = None
NEWSARCHIVE_SHARED_DELAY = 0.0
NEWSARCHIVE_SHARED_AUTOTHROTTLE = False  # AUTOTHROTTLE_ENABLED, carried out by crawler/politeness.py
