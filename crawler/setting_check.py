"""Scrapy settings checked when a config or command line is read, before any fetch.

A setting name must be one Scrapy, scrapy-redis or this project knows (a misspelt
``DOWNLOD_DELAY`` used to be accepted and ignored); a value must suit the type of the
setting's default (``DOWNLOAD_DELAY = "abc"`` used to fail the run with a Python message),
and a count, limit or duration must lie in its range (``CONCURRENT_REQUESTS = 0`` or
``NEWSARCHIVE_KNOWN_URL_BATCH = -5`` used to be clamped or to stall the crawl silently).
A setting of your own (for an extension you add) is accepted unchecked once its name is
listed in ``NEWSARCHIVE_CUSTOM_SETTINGS``, in the same profile or on the same command line.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Mapping
from functools import cache
from typing import Any

from scrapy.settings import default_settings

from crawler import settings as ours

__all__ = ["CUSTOM_SETTINGS", "RANGES", "check_setting", "custom_names", "known_settings"]

CUSTOM_SETTINGS = "NEWSARCHIVE_CUSTOM_SETTINGS"
_REDIS_SETTINGS = (
    "REDIS_URL",
    "REDIS_HOST",
    "REDIS_PORT",
    "REDIS_PARAMS",
    "REDIS_ENCODING",
    "REDIS_CLS",
    "REDIS_START_URLS_KEY",
    "REDIS_START_URLS_AS_SET",
    "REDIS_ITEMS_KEY",
    "REDIS_ITEMS_SERIALIZER",
    "SCHEDULER_PERSIST",
    "SCHEDULER_QUEUE_CLASS",
    "SCHEDULER_QUEUE_KEY",
    "SCHEDULER_DUPEFILTER_CLASS",
    "SCHEDULER_DUPEFILTER_KEY",
    "SCHEDULER_FLUSH_ON_START",
    "SCHEDULER_IDLE_BEFORE_CLOSE",
    "SCHEDULER_SERIALIZER",
)
_BOOL_STRINGS = ("true", "false", "True", "False", "0", "1")

# The smallest value each numeric setting takes, and whether it counts things (a whole number).
# 0 where Scrapy or crawler/settings.py documents 0 as "no limit" or "none".
RANGES: dict[str, tuple[float, bool]] = {
    # Scrapy's own
    "CONCURRENT_REQUESTS": (1, True),
    "CONCURRENT_REQUESTS_PER_DOMAIN": (1, True),
    "CONCURRENT_ITEMS": (1, True),
    "DEPTH_LIMIT": (0, True),
    "DOWNLOAD_DELAY": (0, False),
    "DOWNLOAD_TIMEOUT": (0.001, False),
    "DOWNLOAD_MAXSIZE": (0, True),
    "DOWNLOAD_WARNSIZE": (0, True),
    "DNS_TIMEOUT": (0.001, False),
    "RETRY_TIMES": (0, True),
    "REDIRECT_MAX_TIMES": (0, True),
    "AUTOTHROTTLE_START_DELAY": (0, False),
    "AUTOTHROTTLE_MAX_DELAY": (0, False),
    "AUTOTHROTTLE_TARGET_CONCURRENCY": (0.001, False),
    "CLOSESPIDER_PAGECOUNT": (0, True),
    "CLOSESPIDER_ITEMCOUNT": (0, True),
    "CLOSESPIDER_TIMEOUT": (0, False),
    # this project's (crawler/settings.py)
    "EXTRACT_WORKERS": (1, True),
    "STORE_BATCH_SIZE": (1, True),
    "STORE_FLUSH_SECONDS": (0.001, False),
    "NEWSARCHIVE_MAX_URL_LENGTH": (1, True),
    "NEWSARCHIVE_MAX_LINKS_PER_PAGE": (1, True),
    "NEWSARCHIVE_MAX_PAGE_ELEMENTS": (1, True),
    "NEWSARCHIVE_MAX_FEED_ENTRIES": (1, True),
    "NEWSARCHIVE_MAX_PAGES": (0, True),
    "NEWSARCHIVE_PROGRESS_INTERVAL": (0.001, False),
    "NEWSARCHIVE_LEASE_SECONDS": (0.001, False),
    "NEWSARCHIVE_KNOWN_URL_CACHE": (1, True),
    "NEWSARCHIVE_KNOWN_URL_BATCH": (1, True),
    "NEWSARCHIVE_RAW_DICTIONARY_SAMPLES": (0, True),  # 0: never learn a dictionary
    "NEWSARCHIVE_SHARED_DELAY": (0, False),
}


@cache
def _defaults() -> dict[str, Any]:
    # the modules' own values: Settings.get() would turn a dict default into a BaseSettings
    values = {name: getattr(default_settings, name) for name in dir(default_settings) if name.isupper()}
    values.update({name: getattr(ours, name) for name in dir(ours) if name.isupper()})
    # the optional Redis frontier (crawler/frontier.py) reads scrapy-redis's settings
    values.update(dict.fromkeys(_REDIS_SETTINGS))
    return values


def known_settings() -> frozenset[str]:
    """Every setting name Scrapy, scrapy-redis and crawler/settings.py declare."""
    return frozenset(_defaults())


def custom_names(value: Any) -> set[str]:
    """The names listed in a NEWSARCHIVE_CUSTOM_SETTINGS value (a list or "A,B")."""
    if isinstance(value, str):
        return {name.strip() for name in value.split(",") if name.strip()}
    if isinstance(value, list | tuple):
        return {str(name).strip() for name in value}
    return set()


def _number(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return True
    if isinstance(value, str):
        try:
            float(value)
        except ValueError:
            return False
        return True
    return False


def _problem(value: Any, default: Any) -> str | None:
    """Why ``value`` cannot stand for a setting whose default is ``default``, or None."""
    if default is None or value is None:
        return None
    if isinstance(default, bool):  # before int: a bool is an int
        if isinstance(value, bool) or value in (0, 1):
            return None
        if isinstance(value, str) and (value in _BOOL_STRINGS or value.lstrip("-").isdigit()):
            return None  # the spellings Settings.getbool accepts
        return f"expected true or false, got {value!r}"
    if isinstance(default, int | float):
        return None if _number(value) else f"expected a number, got {value!r}"
    if isinstance(default, str):
        ok = isinstance(value, str | int | float) and not isinstance(value, bool)
        return None if ok else f"expected a string, got {value!r}"
    if isinstance(default, dict):
        if isinstance(value, dict):
            return None
        if isinstance(value, str):
            try:
                if isinstance(json.loads(value), dict):
                    return None
            except ValueError:
                pass
        return f"expected a table (a JSON object on the command line), got {value!r}"
    if isinstance(default, list | tuple):
        return None if isinstance(value, list | str) else f"expected a list, got {value!r}"
    return None


def check_setting(name: str, value: Any, custom: Iterable[str] = ()) -> str | None:
    """Why ``name = value`` is not a usable setting (a one-line reason), or None."""
    if name == CUSTOM_SETTINGS:
        return None if isinstance(value, list | str) else f"expected a list of setting names, got {value!r}"
    if name in custom:
        return None
    defaults = _defaults()
    if name not in defaults:
        close = difflib.get_close_matches(name, defaults, n=1, cutoff=0.75)
        hint = f"; did you mean {close[0]}?" if close else ""
        return f"unknown setting{hint} (a setting of your own must be listed in {CUSTOM_SETTINGS})"
    return _problem(value, defaults[name]) or _out_of_range(name, value)


def _out_of_range(name: str, value: Any) -> str | None:
    """Why a number of the right type is still no value for ``name``, or None."""
    if name not in RANGES or not _number(value):
        return None
    least, whole = RANGES[name]
    number = float(value)
    if whole and not number.is_integer():
        return f"expected a whole number, got {value!r}"
    if number < least:
        bound = f"at least {least:g}" if least >= 1 or least == 0 else "more than 0"
        return f"expected {bound}, got {value!r}"
    return None


def check_settings(values: Mapping[str, Any], custom: Iterable[str] = ()) -> tuple[str, str] | None:
    """The first (name, reason) of ``values`` that is not a usable setting, or None."""
    allowed = set(custom) | custom_names(values.get(CUSTOM_SETTINGS))
    for name, value in values.items():
        problem = check_setting(name, value, allowed)
        if problem:
            return name, problem
    return None
