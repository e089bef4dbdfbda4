"""What a crawl may request: http(s) only, on the site only, URLs of bounded length.

A hostile page decides which URLs the crawler sees (links, redirects, sitemaps, feeds), so
every request passes :class:`SafetyMiddleware` before anything is downloaded:

* **scheme**: only ``http`` and ``https``. ``file://`` read local files and ``ftp://`` hung
  the crawl on a listening port; Scrapy's file, ftp, s3 and data handlers are also switched
  off in ``crawler.settings.DOWNLOAD_HANDLERS``, so this is the second of two locks.
* **site**: :class:`SiteScope` — the origins (scheme-less host and port) of the profile's
  start URLs, feeds and sitemaps, plus the domains the profile names (and their
  subdomains) on the default ports 80/443, or on the port a ``host:port`` entry names.
  Another port of the site's host is another origin, another server: not followed.
* **length**: URLs longer than ``NEWSARCHIVE_MAX_URL_LENGTH`` characters.

Each refusal is counted as an error of the run (``bad_scheme``, ``off_site``,
``url_too_long``) and logged at INFO.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request

from core.keys import KIND_BAD_SCHEME, KIND_OFF_SITE, KIND_URL_TOO_LONG, error_key
from core.urls import DEFAULT_PORTS

__all__ = ["ALLOWED_SCHEMES", "DEFAULT_PORTS", "SafetyMiddleware", "SiteScope", "host_port"]

logger = logging.getLogger(__name__)

ALLOWED_SCHEMES = ("http", "https")


def host_port(entry: str) -> tuple[str, int | None]:
    """A profile's ``allowed_domains`` entry as (host, port or None): ``example.com``,
    ``127.0.0.1:8080``, ``[::1]:8080``. ValueError for a port that is no port."""
    entry = entry.strip().lower()
    port = ""
    if entry.startswith("["):  # [::1] or [::1]:8080
        host, _, rest = entry[1:].partition("]")
        if rest:
            if not rest.startswith(":"):
                raise ValueError(f"not a host or host:port: {entry!r}")
            port = rest[1:]
    elif entry.count(":") == 1:
        host, _, port = entry.partition(":")
    else:
        host = entry  # a name, an IPv4 address or a bare IPv6 address
    if not host:
        raise ValueError(f"no host in {entry!r}")
    if port == "":
        return host, None
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"bad port in {entry!r}")
    return host, int(port)


# a URL's scheme://netloc, when nothing in it is one of the characters urlsplit removes
# (tab, newline) or strips (leading spaces), and it ends where urlsplit ends a netloc
_ORIGIN = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^/?#\s]*(?=[/?#]|\Z)")


@dataclass(frozen=True)
class SiteScope:
    """The URLs a site's crawl may fetch."""

    origins: frozenset[tuple[str, int]]  # (host, port) of the seeds: exactly these
    domains: frozenset[tuple[str, int | None]]  # (domain, port): the domain and its subdomains
    # the answer per scheme://host:port: every link of every page is asked about
    _by_origin: dict[str, bool] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def build(cls, seeds: Iterable[str], allowed_domains: Iterable[str]) -> SiteScope:
        origins = set()
        for url in seeds:
            parts = urlsplit(url)
            if parts.scheme in DEFAULT_PORTS and parts.hostname:
                origins.add((parts.hostname, parts.port or DEFAULT_PORTS[parts.scheme]))
        domains = set()
        for entry in allowed_domains:
            host, port = host_port(entry)
            if host:
                domains.add((host.removeprefix("."), port))
        return cls(frozenset(origins), frozenset(domains))

    def allows(self, url: str) -> bool:
        """Whether ``url`` is an http(s) URL of the site."""
        origin = _ORIGIN.match(url)
        if origin is None:
            return self._allows(url)
        key = origin.group(0)  # urlsplit finds the same scheme and host:port in it alone
        answer = self._by_origin.get(key)
        if answer is None:
            if len(self._by_origin) >= 4096:
                self._by_origin.clear()
            answer = self._by_origin[key] = self._allows(key)
        return answer

    def _allows(self, url: str) -> bool:
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:
            return False
        if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
            return False
        host = parts.hostname
        port = port or DEFAULT_PORTS[parts.scheme]
        if (host, port) in self.origins:
            return True
        for domain, domain_port in self.domains:
            if host == domain or host.endswith("." + domain):
                # a bare domain: the web's default ports (http and https alike: sites redirect
                # one to the other); host:port: that port only
                if (port == domain_port) if domain_port else port in DEFAULT_PORTS.values():
                    return True
        return False


class SafetyMiddleware:
    """Downloader middleware refusing non-http(s), off-site and over-long URLs (counted)."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.max_url_length = crawler.settings.getint("NEWSARCHIVE_MAX_URL_LENGTH")

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SafetyMiddleware:
        mw = cls(crawler)
        # Checked when a request is scheduled too (as Scrapy's OffsiteMiddleware does, which
        # connects after this one): a refused request never waits in the queue, and is
        # counted here rather than dropped uncounted by Scrapy's host-only check.
        crawler.signals.connect(mw.request_scheduled, signal=signals.request_scheduled)
        return mw

    def request_scheduled(self, request: Request, spider: Any = None) -> None:
        self.process_request(request)

    def process_request(self, request: Request, spider: Any = None) -> None:
        url = request.url
        scheme = url.partition(":")[0].lower()
        if scheme not in ALLOWED_SCHEMES:
            self._refuse(KIND_BAD_SCHEME, url)
        if self.max_url_length and len(url) > self.max_url_length:
            self._refuse(KIND_URL_TOO_LONG, url)
        scope: SiteScope | None = getattr(self.crawler.spider, "scope", None)
        if scope is not None and not scope.allows(url):
            self._refuse(KIND_OFF_SITE, url)
        return None

    def _refuse(self, kind: str, url: str) -> None:
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value(error_key(kind))
        shown = url if len(url) <= 200 else url[:200] + "…"
        logger.info("Refused %(kind)s: %(url)s", {"kind": kind, "url": shown})
        raise IgnoreRequest(f"{kind}: {shown}")
