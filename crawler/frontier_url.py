"""Whether a crawl joins a shared frontier (``NEWSARCHIVE_REDIS_URL``), answered without
importing the frontier itself (``crawler/frontier.py`` and scrapy-redis, which every crawl's
start-up would otherwise pay for, shared or not)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

__all__ = ["REDIS_URL_SETTING", "shared_frontier_url"]

REDIS_URL_SETTING = "NEWSARCHIVE_REDIS_URL"


def shared_frontier_url(profile_settings: Mapping[str, Any],
                        overrides: Mapping[str, Any] | None = None) -> str | None:
    """The Redis URL a crawl of this profile will use, if any (command line > environment >
    profile, the settings precedence), read before Scrapy's settings exist: a crawl with
    one joins a shared crawl, and takes the site lock shared."""
    for layer in ((overrides or {}), os.environ, profile_settings):
        if layer.get(REDIS_URL_SETTING):
            return str(layer[REDIS_URL_SETTING])
    return None
