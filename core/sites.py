"""The site a URL belongs to: one rule for the crawl, the import and the archive."""

from __future__ import annotations

from urllib.parse import urlsplit

__all__ = ["site_of_url"]

_DEFAULT_PORTS = {"http": 80, "https": 443}


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
    if port is not None and port != _DEFAULT_PORTS.get(parts.scheme.lower()):
        return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    return host
