"""Bounded link extraction: the links of one HTML page in one streaming pass.

Scrapy's ``LinkExtractor`` builds the whole lxml tree and a ``Link`` object per anchor
before anything can be capped: a 15 MB page holding a million links blocked the reactor for
44 s and took 690 MB. :func:`scan_page` feeds the body to lxml's HTML parser with a *parser
target* instead, so no tree is built at all: each start tag is one callback, links are kept
up to ``max_links`` and only counted beyond it, and the element count tells the spider when
a page is too big to be worth extracting. Time and memory are bounded by the body size
(itself bounded by ``DOWNLOAD_MAXSIZE``), whatever the page holds.
"""

from __future__ import annotations

import functools
import posixpath
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

from lxml import etree
from scrapy.linkextractors import IGNORED_EXTENSIONS
from w3lib.html import strip_html5_whitespace
from w3lib.url import safe_url_string

__all__ = ["FEED_TYPES", "PageScan", "scan_page"]

FEED_TYPES = ("application/rss+xml", "application/atom+xml")
_IGNORED = frozenset("." + ext for ext in IGNORED_EXTENSIONS)  # images, media, archives, office
_CHUNK = 64 * 1024


@dataclass
class PageScan:
    """What one pass over a page found."""

    links: list[str] = field(default_factory=list)  # absolute, unique, without fragment, in page order
    feeds: list[str] = field(default_factory=list)  # <link rel=alternate> RSS/Atom feeds
    links_over_cap: int = 0  # links beyond max_links, counted, not kept
    too_long: int = 0  # links longer than max_url_length, counted, not kept
    elements: int = 0  # start tags seen
    too_many_elements: bool = False  # the scan stopped at max_elements; links past it are estimated


class _Enough(Exception):
    """Raised from the parser target to stop parsing a page with too many elements."""


# an anchor with an href, for estimating the links of the part of a page left unparsed
_ANCHOR = re.compile(rb"<(?:a|area)\s[^>]*?href", re.IGNORECASE)


class _Target:
    """lxml parser target: collects hrefs; never builds a tree."""

    def __init__(
        self, scan: PageScan, base: str, max_links: int, max_url_length: int, max_elements: int
    ) -> None:
        self.scan = scan
        self.max_elements = max_elements
        self.base = base
        self.max_links = max_links
        self.max_url_length = max_url_length
        self.seen: set[str] = set()

    def start(self, tag: str, attrib: dict[str, str], *_: Any) -> None:
        self.scan.elements += 1
        if self.scan.elements > self.max_elements:
            raise _Enough
        if tag == "a" or tag == "area":
            href = attrib.get("href")
            if href is not None:
                self._link(href)
        elif tag == "base" and self.scan.elements < 200:  # <base href> belongs in <head>
            href = attrib.get("href")
            if href and not self.seen:
                self.base = _join(self.base, href) or self.base
        elif tag == "link":
            rel = (attrib.get("rel") or "").lower().split()
            kind = (attrib.get("type") or "").lower().strip()
            href = attrib.get("href")
            if "alternate" in rel and kind in FEED_TYPES and href and len(self.scan.feeds) < 20:
                url = _join(self.base, href)
                if url and len(url) <= self.max_url_length:
                    self.scan.feeds.append(url)

    def _link(self, href: str) -> None:
        if len(self.seen) >= self.max_links:
            self.scan.links_over_cap += 1
            return
        if len(href) > self.max_url_length:
            self.scan.too_long += 1
            return
        url, ignored = _follow(self.base, href)
        if url is None or url in self.seen:
            return
        if len(url) > self.max_url_length:
            self.scan.too_long += 1
            return
        if ignored:
            return
        self.seen.add(url)
        self.scan.links.append(url)

    # no ``end``, ``data`` nor ``comment``: lxml calls a target only for the events it has a
    # method for, and a call per end tag and text run cost as much as the start tags

    def close(self) -> None:
        pass


# an absolute href, or one relative to the site's root or scheme: its URL does not depend on
# the path of the page it is on
_ORIGIN_RELATIVE = re.compile(r"^(?:[a-zA-Z][a-zA-Z0-9+.-]*:)?//|^/")
_ORIGIN = re.compile(r"^[^:/?#]+://[^/?#]*")


def _follow(base: str, href: str) -> tuple[str | None, bool]:
    """``href``'s URL (see :func:`_join`) and whether its extension is one never followed.

    The same navigation links recur on every page of a site, and joining and escaping a URL
    costs more than parsing the tag it is in: hrefs that do not depend on the page's path
    are resolved once per site origin."""
    href = strip_html5_whitespace(href)
    if _ORIGIN_RELATIVE.match(href):
        origin = _ORIGIN.match(base)
        if origin is not None:
            return _follow_cached(origin.group(0) + "/", href)
    return _follow_uncached(base, href)


def _follow_uncached(base: str, href: str) -> tuple[str | None, bool]:
    url = _join(base, href)
    if url is None:
        return None, False
    return url, posixpath.splitext(urlsplit(url).path)[1].lower() in _IGNORED


_follow_cached = functools.lru_cache(maxsize=16384)(_follow_uncached)


# an absolute http(s) URL that urljoin and safe_url_string return as it is: a lowercase
# host name (its last label not a number, which the URL standard reads as IPv4), no port
# nor user, only characters neither escapes (no "%", "'", "|", brackets, spaces or
# non-ASCII), no ";" in the path (urljoin drops an empty ";params"), a query only after a
# path (safe_url_string adds "/"); dot segments and IDNA labels are looked for apart
_PLAIN_URL = re.compile(
    r"https?://(?:[a-z0-9-]+\.)*[a-z][a-z0-9-]*"
    r"(?:/[A-Za-z0-9\-._~!$&()*+,=:@/]*(?:\?[A-Za-z0-9\-._~!$&()*+,;=:@/?]+)?)?"
)


def _join(base: str, href: str) -> str | None:
    """``href`` made absolute, percent-encoded and without its fragment; None for a
    link that is no URL at all (``http://[::1``)."""
    href = strip_html5_whitespace(href)
    plain = href.partition("#")[0]
    if _PLAIN_URL.fullmatch(plain) and "/." not in plain and "xn--" not in plain:
        return plain  # what _escaped_join makes of it, at a tenth of the cost
    return _escaped_join(base, href)


def _escaped_join(base: str, href: str) -> str | None:
    """:func:`_join` of any href: urljoin, then w3lib's escaping."""
    try:
        url = urljoin(base, strip_html5_whitespace(href))
        url = safe_url_string(url)
        return url.partition("#")[0]
    except ValueError:
        return None


def scan_page(
    body: bytes, url: str, encoding: str | None, *, max_links: int, max_url_length: int, max_elements: int
) -> PageScan:
    """The links and feeds of an HTML page: at most ``max_links`` links (the rest counted),
    and no more than ``max_elements`` start tags parsed (the links after them estimated)."""
    scan = PageScan()
    target = _Target(scan, url, max_links, max_url_length, max_elements)
    try:
        parser = etree.HTMLParser(
            target=target,
            encoding=encoding or None,
            recover=True,
            no_network=True,
            remove_comments=True,
            remove_pis=True,
        )
    except LookupError:  # an encoding lxml does not know: let libxml2 guess
        parser = etree.HTMLParser(target=target, recover=True, no_network=True)
    start = 0
    try:
        while start < len(body):
            parser.feed(body[start : start + _CHUNK])
            start += _CHUNK
        parser.close()
    except _Enough:
        scan.too_many_elements = True
        scan.links_over_cap += sum(1 for _ in _ANCHOR.finditer(body, start))
    except (etree.Error, ValueError, LookupError):
        pass  # what was read so far stands; a page too broken to parse further has no more links
    return scan
