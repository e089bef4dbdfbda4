"""Site profiles: which site to crawl, how, when, and how often to revisit.

Profiles are TOML tables ``[sites.NAME]``, read from ``newsarchive.toml`` in the working
directory (or ``--config PATH``) on top of the built-in ``crawler/sites.toml``; a site in
the user's file replaces the built-in one of the same name. Every key is checked, so a
typo is a one-line :class:`~core.errors.ConfigError` naming the file, site and key.

The built-in profiles are examples (``enabled = false``): ``crawl`` and ``schedule`` never
run them until the user's file enables one, with a table of its own or just
``[sites.NAME]`` / ``enabled = true``. A user's site is enabled unless it says otherwise.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter
from cssselect import SelectorError
from lxml.cssselect import CSSSelector

from core.errors import ConfigError
from core.items import SELECTOR_FIELDS
from core.urls import site_of_url
from crawler.safety import host_port
from crawler.setting_check import check_settings

__all__ = [
    "BUILTIN_PROFILES",
    "DEFAULT_CONFIG",
    "SELECTOR_FIELDS",
    "ProfileSet",
    "SiteProfile",
    "get_profile",
    "load_profiles",
    "profile_for_urls",
]

BUILTIN_PROFILES = Path(__file__).with_name("sites.toml")
DEFAULT_CONFIG = "newsarchive.toml"


@dataclass(frozen=True)
class SiteProfile:
    """One site: where a crawl starts, what it may visit, what counts as an article."""

    name: str
    start_urls: tuple[str, ...] = ()
    allowed_domains: tuple[str, ...] = ()
    article_patterns: tuple[str, ...] = ()  # regexes searched in the URL path
    feeds: tuple[str, ...] = ()
    sitemaps: tuple[str, ...] = ()
    max_pages: int | None = None
    selectors: Mapping[str, str] = field(default_factory=dict)
    schedule: str | None = None  # cron expression
    timezone: str = "UTC"  # the zone the cron expression is read in (an IANA name)
    revisit_fresh_days: float = 2.0
    revisit_after_days: float | None = None  # None: known articles are never revisited
    settings: Mapping[str, Any] = field(default_factory=dict)  # Scrapy settings for this site
    enabled: bool = True  # crawl/schedule run only enabled sites; the built-in examples are not
    source: str = "<built-in>"  # the file the profile came from, for messages

    def is_article_url(self, url: str) -> bool | None:
        """True/False by the article patterns; None when the profile has none (let the
        extraction classifier decide)."""
        if not self.article_patterns:
            return None
        path = urlsplit(url).path or "/"
        return any(re.search(pattern, path) for pattern in self.article_patterns)

    def previous_fire(self, now: datetime) -> datetime | None:
        """The last time at or before ``now`` (aware) the schedule fired, in the profile's
        zone (None: unscheduled). ``0 8 * * *`` with ``Asia/Shanghai`` is 00:00 UTC."""
        if not self.schedule:
            return None
        fire: datetime = croniter(self.schedule, now.astimezone(ZoneInfo(self.timezone))).get_prev(datetime)
        return fire


@dataclass
class ProfileSet:
    """All profiles of a config, plus sites whose table was invalid (name -> message).

    ``crawl`` refuses a broken site; ``schedule`` records a failed run for it and goes on
    with the others.
    """

    profiles: dict[str, SiteProfile]
    broken: dict[str, str] = field(default_factory=dict)

    def get(self, name: str) -> SiteProfile:
        if name in self.broken:
            raise ConfigError(self.broken[name])
        try:
            return self.profiles[name]
        except KeyError:
            known = ", ".join(sorted(self.profiles)) or "none"
            raise ConfigError(f"unknown site {name!r} (known sites: {known})") from None

    def runnable(self, name: str) -> SiteProfile:
        """The named profile if it may be crawled; a ConfigError saying how to enable it if not."""
        profile = self.get(name)
        if not profile.enabled:
            raise ConfigError(
                f"site {name!r} is a built-in example and not enabled: add `[sites.{name}]` with "
                f"`enabled = true` to {DEFAULT_CONFIG} (or your --config)"
            )
        return profile

    def enabled(self) -> list[str]:
        """Names of the sites ``schedule`` runs by default: enabled or broken (a broken
        table is reported, not silently skipped)."""
        return sorted({*(n for n, p in self.profiles.items() if p.enabled), *self.broken})


def _str_list(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise TypeError("must be a list of strings")
    return tuple(value)


def _positive_int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise TypeError("must be a positive integer")
    return value


def _days(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise TypeError("must be a number of days >= 0")
    return float(value)


def _revisit_after(value: Any) -> float | None:
    if value == "never":
        return None
    return _days(value)


def _domains(value: Any) -> tuple[str, ...]:
    entries = _str_list(value)
    for entry in entries:
        if "/" in entry:
            raise TypeError(f"{entry!r} is not a domain: name a host or host:port, not a URL")
        try:
            host_port(entry)
        except ValueError as exc:
            raise TypeError(str(exc)) from None
    return entries


def _selectors(value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        raise TypeError("must be a table")
    for key, css in value.items():
        if key not in SELECTOR_FIELDS:
            raise TypeError(f"unknown selector {key!r} (known: {', '.join(SELECTOR_FIELDS)})")
        if not isinstance(css, str) or not css.strip():
            raise TypeError(f"selector {key!r} must be a non-empty CSS string")
        try:  # compiled as the extraction will (lxml.cssselect, HTML rules)
            CSSSelector(css, translator="html")
        except SelectorError as exc:
            raise _KeyProblem(key, f"invalid CSS selector {css!r}: {exc}") from None
    return dict(value)


def _patterns(value: Any) -> tuple[str, ...]:
    patterns = _str_list(value)
    for pattern in patterns:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise TypeError(f"bad regex {pattern!r}: {exc}") from None
    return patterns


def _urls(value: Any) -> tuple[str, ...]:
    urls = _str_list(value)
    for url in urls:
        check_url(url)
    return urls


def _cron(value: Any) -> str:
    if not isinstance(value, str) or not croniter.is_valid(value):
        raise TypeError(f"bad cron expression {value!r}")
    return value


def _zone(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError("must be a time zone name such as 'Asia/Shanghai' or 'UTC'")
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise TypeError(f"unknown time zone {value!r} (an IANA name such as 'Asia/Shanghai')") from None
    return value


class _KeyProblem(TypeError):
    """A problem with one entry of a table: reported as ``key.entry: problem``."""

    def __init__(self, entry: str, problem: str) -> None:
        super().__init__(problem)
        self.entry = entry


def _scrapy_settings(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise TypeError("must be a table")
    for name in value:
        if not re.fullmatch(r"[A-Z][A-Z0-9_]*", name):
            raise TypeError(f"key {name!r} is not a setting name (Scrapy settings are UPPER_CASE)")
    problem = check_settings(value)
    if problem is not None:
        raise _KeyProblem(*problem)
    return dict(value)


def _enabled(value: Any) -> bool:
    if not isinstance(value, bool):
        raise TypeError("must be true or false")
    return value


# key -> (converter, dataclass field); a converter raises TypeError with the reason
_KEYS: dict[str, Any] = {
    "start_urls": _urls,
    "allowed_domains": _domains,
    "article_patterns": _patterns,
    "feeds": _urls,
    "sitemaps": _urls,
    "max_pages": _positive_int,
    "selectors": _selectors,
    "schedule": _cron,
    "timezone": _zone,
    "revisit_fresh_days": _days,
    "revisit_after_days": _revisit_after,
    "settings": _scrapy_settings,
    "enabled": _enabled,
}


def check_url(url: str) -> str:
    """An absolute http(s) URL, or a TypeError saying why not."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError as exc:
        raise TypeError(f"not a valid URL: {url!r} ({exc})") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise TypeError(f"not an http(s) URL: {url!r}")
    if any(char.isspace() for char in url):
        raise TypeError(f"not a valid URL: {url!r} (contains white space)")
    return url


def _domain(url: str) -> str:
    host = urlsplit(url).hostname or ""
    return host.removeprefix("www.")


def _build(name: str, table: Any, source: str) -> SiteProfile:
    where = f"{source}: [sites.{name}]"
    if not isinstance(table, dict):
        raise ConfigError(f"{where} must be a table")
    values: dict[str, Any] = {}
    for key, raw in table.items():
        convert = _KEYS.get(key)
        if convert is None:
            raise ConfigError(f"{where}: unknown key {key!r} (known: {', '.join(_KEYS)})")
        try:
            values[key] = convert(raw)
        except _KeyProblem as exc:
            raise ConfigError(f"{where}: {key}.{exc.entry}: {exc}") from None
        except TypeError as exc:
            raise ConfigError(f"{where}: {key} {exc}") from None
    if not values.get("start_urls") and not values.get("feeds") and not values.get("sitemaps"):
        raise ConfigError(f"{where}: needs start_urls, feeds or sitemaps")
    if not values.get("allowed_domains"):
        seeds = [*values.get("start_urls", ()), *values.get("feeds", ()), *values.get("sitemaps", ())]
        values["allowed_domains"] = tuple(dict.fromkeys(_domain(u) for u in seeds))
    return SiteProfile(name=name, source=source, **values)


def _read(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: malformed TOML: {exc}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not a UTF-8 text file (TOML must be UTF-8)") from None
    unknown = set(data) - {"sites"}
    if unknown:
        raise ConfigError(f"{path}: unknown top-level key {sorted(unknown)[0]!r} (expected [sites.NAME])")
    sites = data.get("sites", {})
    if not isinstance(sites, dict):
        raise ConfigError(f"{path}: 'sites' must be a table of [sites.NAME] tables")
    return sites


def load_profiles(config: str | Path | None = None) -> ProfileSet:
    """Built-in profiles, overridden by ``config`` (or ./newsarchive.toml when present).

    A malformed file is a ConfigError; an invalid site table is recorded in
    ``ProfileSet.broken`` and raised when that site is asked for.
    """
    sources: list[Path] = [BUILTIN_PROFILES]
    if config is not None:
        path = Path(config)
        if not path.is_file():
            raise ConfigError(f"{path}: config file not found")
        sources.append(path)
    elif Path(DEFAULT_CONFIG).is_file():
        sources.append(Path(DEFAULT_CONFIG))
    result = ProfileSet(profiles={})
    for path in sources:
        for name, table in _read(path).items():
            earlier = result.profiles.get(name)
            if earlier is not None and isinstance(table, dict) and set(table) == {"enabled"}:
                # `[sites.xunjk]` + `enabled = true`: switch a built-in on (or off) as it is
                try:
                    enabled = _enabled(table["enabled"])
                    result.profiles[name] = replace(earlier, enabled=enabled, source=str(path))
                except TypeError as exc:
                    result.broken[name] = f"{path}: [sites.{name}]: enabled {exc}"
                    result.profiles.pop(name, None)
                continue
            result.broken.pop(name, None)
            result.profiles.pop(name, None)
            try:
                result.profiles[name] = _build(name, table, str(path))
            except ConfigError as exc:
                result.broken[name] = str(exc)
    return result


def get_profile(name: str, config: str | Path | None = None) -> SiteProfile:
    """The named profile; ConfigError for an unknown or invalid site."""
    return load_profiles(config).get(name)


def profile_for_urls(urls: list[str], name: str | None = None) -> SiteProfile:
    """An ad-hoc profile for ``crawl URL ...``: stays on the URLs' domains and leaves
    telling articles apart to the extraction classifier."""
    for url in urls:
        try:
            check_url(url)
        except TypeError as exc:
            raise ConfigError(str(exc)) from None
    domains = tuple(dict.fromkeys(_domain(u) for u in urls))
    return SiteProfile(
        name=name or site_of_url(urls[0]),
        start_urls=tuple(urls),
        allowed_domains=domains,
        source="<command line>",
    )
