"""URL canonicalisation lives in :mod:`core.urls` (the crawler's request fingerprints need it
too, and crawler/ may not reach into storage's internals for it); the names stay importable here."""

from __future__ import annotations

from core.urls import TRACKING_PARAMS, TRACKING_PREFIXES, canonicalize_url, clean_url, same_site, site_of_url

__all__ = [
    "TRACKING_PARAMS",
    "TRACKING_PREFIXES",
    "canonicalize_url",
    "clean_url",
    "same_site",
    "site_of_url",
]
