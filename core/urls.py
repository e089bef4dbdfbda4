"""URL canonicalisation: one key per article however its URL was written (the archive's
keys and the crawler's request fingerprints alike)."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

# Query parameters that track where a reader came from, never which page it is.
TRACKING_PARAMS = frozenset(
    {
        "from", "fromsource", "share", "share_token", "sharer", "spm", "scm", "isappinstalled",
        "wxshare_count", "nsukey", "fbclid", "gclid", "dclid", "msclkid", "yclid", "igshid",
        "mc_cid", "mc_eid", "_hsenc", "_hsmi", "ref", "ref_src", "ref_url", "clickid", "wt.mc_id",
        "cmpid", "s_cid", "ncid", "_ga", "_gl",
    }
)  # fmt: skip
TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "hmsr", "hmpl", "hmcu", "hmkw", "hmci")
_INDEX_PAGE = re.compile(r"/(index|default)\.(html?|php|aspx?|shtml)$", re.IGNORECASE)


def _is_tracking(name: str) -> bool:
    lowered = name.lower()
    return lowered in TRACKING_PARAMS or lowered.startswith(TRACKING_PREFIXES)


def _split(url: str) -> tuple[str, str, str, str] | None:
    """(scheme, netloc, path, query) with the host lower-cased, the default
    port, fragment and tracking parameters dropped; None for non-web URLs."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:  # "Invalid IPv6 URL": not a web address, kept as written
        return None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        return None
    host = (parts.hostname or "").rstrip(".")
    try:
        port = parts.port
    except ValueError:  # a port that is not a number: leave it to the key as written
        port = None
    if ":" in host:  # an IPv6 address keeps its brackets, or the key is no URL
        host = f"[{host}]"
    netloc = host if port in (None, 80, 443) else f"{host}:{port}"
    path = quote(unquote(parts.path), safe="/%:@!$&'()*+,;=~-._") or "/"
    query = urlencode(
        sorted((k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _is_tracking(k))
    )
    return scheme, netloc, path, query


def clean_url(url: str) -> str:
    """``url`` without fragment and tracking parameters, host lower-cased:
    still the address a browser should open (scheme and path as given).

    >>> clean_url("HTTP://www.Example.com/a/b/?utm_source=x&id=2#top")
    'http://www.example.com/a/b/?id=2'
    """
    split = _split(url)
    if split is None:
        return url.strip()
    return urlunsplit((*split, ""))


def canonicalize_url(url: str) -> str:
    """The key under which every way of writing an article's URL meets:
    ``clean_url`` plus https, no trailing slash (except the root), no
    ``index.html`` and no duplicate slashes. A key, not necessarily a working
    address: use ``clean_url`` for that.

    >>> canonicalize_url("HTTP://www.Example.com:80/a/b/?utm_source=x&id=2&from=timeline#top")
    'https://www.example.com/a/b?id=2'
    """
    split = _split(url)
    if split is None:
        return url.strip()
    _, netloc, path, query = split
    path = _INDEX_PAGE.sub("/", path)
    path = re.sub(r"/{2,}", "/", path).rstrip("/") or "/"
    return urlunsplit(("https", netloc, path, query, ""))


DEFAULT_PORTS = {"http": 80, "https": 443}


def site_of_url(url: str) -> str:
    """The site of ``url``: its host lower-cased, without a trailing dot or a leading
    ``www.``, plus ``:port`` when the port is not the scheme's default — another port is
    another origin, so another site (``example.com:8080`` is not ``www.example.com``, and
    ``http://example.com:80/`` is). ``""`` when the URL has no host or cannot be parsed."""
    try:
        parts = urlsplit(url.strip())
        host = (parts.hostname or "").rstrip(".")
        port = parts.port
    except ValueError:  # "Invalid IPv6 URL", a port out of range: no site to name
        return ""
    host = host.removeprefix("www.")
    if not host:
        return ""
    if port is not None and port != DEFAULT_PORTS.get(parts.scheme.lower()):
        return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    return host


def same_site(a: str, b: str) -> bool:
    """Whether two URLs belong to one site (:func:`site_of_url`'s rule)."""
    return site_of_url(a) == site_of_url(b) != ""
