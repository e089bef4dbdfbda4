"""Request fingerprints of the canonical URL, so one page is fetched once per run.

Links on news portals carry tracking parameters (``?from=timeline``, ``utm_source=…``),
fragments, and http or https as the page happened to write them. Scrapy's own
fingerprint only sorts the query and drops the fragment, so every variant was a new
request: a crawl made 382 requests for 206 distinct pages. Here the fingerprint is
Scrapy's, taken of the URL :func:`core.urls.canonicalize_url` makes — the same key
the archive stores articles under.

* :class:`CanonicalRequestFingerprinter` is the ``REQUEST_FINGERPRINTER_CLASS``: Scrapy's
  dupefilter (and its HTTP cache) use it.
* ``crawler.frontier.CanonicalRedisDupeFilter`` is scrapy-redis's dupefilter with the same
  fingerprint (scrapy-redis computes its own and ignores the setting); it lives with the
  shared frontier, so that a crawl without one never imports scrapy-redis.
"""

from __future__ import annotations

from typing import Any
from weakref import WeakKeyDictionary

from scrapy import Request
from scrapy.utils.request import fingerprint

from core.urls import canonicalize_url

__all__ = ["CanonicalRequestFingerprinter", "canonical_fingerprint"]

_cache: WeakKeyDictionary[Request, bytes] = WeakKeyDictionary()


def canonical_fingerprint(request: Request) -> bytes:
    """Scrapy's fingerprint of ``request`` as if it named its canonical URL (method and body
    still count: a POST is not its GET)."""
    cached = _cache.get(request)
    if cached is None:
        canonical = canonicalize_url(request.url)
        same = request if canonical == request.url else request.replace(url=canonical)
        cached = _cache[request] = fingerprint(same)
    return cached


class CanonicalRequestFingerprinter:
    """``REQUEST_FINGERPRINTER_CLASS`` that fingerprints the canonical URL."""

    @classmethod
    def from_crawler(cls, crawler: Any) -> CanonicalRequestFingerprinter:
        return cls()

    def fingerprint(self, request: Request) -> bytes:
        return canonical_fingerprint(request)
