"""Publication dates in the forms news pages use, as timezone-aware datetimes.

A date without a zone is read in the page's local zone: +08:00 for Chinese pages,
UTC otherwise. Each parser returns a :class:`FoundDate` that also says whether the
time of day was given, because "2023-01-09" must not pretend to be midnight.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo

from dateutil import parser as dateutil_parser

CHINA_TZ = timezone(timedelta(hours=8))
MIN_YEAR = 1990


@dataclass(frozen=True)
class FoundDate:
    value: datetime
    time_known: bool
    # "day" (or finer: see time_known); "month" when the page names only a month
    # (``1996年3月号``): value is then the month's first day and means no more than the month
    precision: str = "day"


_SEP = r"\s*[-/.年]\s*"
# 2023年1月9日 10:05, 2023-01-09 10:05:22, 2023/1/9, 2023.01.09 10:05
_NUMERIC = re.compile(
    r"(?<!\d)(?P<y>(?:19|20)\d\d)" + _SEP + r"(?P<m>[01]?\d)\s*[-/.月]\s*(?P<d>[0-3]?\d)(?!\d)\s*日?"
    r"(?:\s*(?:[T\s]|&nbsp;)*\s*(?P<H>[0-2]?\d)\s*[:：时]\s*(?P<M>[0-5]\d)\s*(?:[:：分]\s*(?P<S>[0-5]\d))?)?"
)
# "7/5/2005 9:23:57 PM": how an en-US server (old ASP portals) prints a time, month first
_US_CLOCK = re.compile(
    r"(?<![\d/])(?P<m>[01]?\d)/(?P<d>[0-3]?\d)/(?P<y>(?:19|20)\d\d)\s+(?P<H>[01]?\d):(?P<M>[0-5]\d)"
    r"(?::(?P<S>[0-5]\d))?\s*(?P<ampm>[AaPp][Mm])\b"
)
_COMPACT = re.compile(r"(?<!\d)(?P<y>(?:19|20)\d\d)(?P<m>[01]\d)(?P<d>[0-3]\d)(?!\d)")
# /2023/0109/, /2023/01/09/, /2023-01-09/, /20230109/, /2023-01/09/
_URL_DATE = re.compile(
    r"/(?P<y>(?:19|20)\d\d)[/_-]?(?P<m>[01]\d)[/_-]?(?P<d>[0-3]\d)(?=[/_.-]|\d{3,}|$)"
    r"|/(?P<y2>(?:19|20)\d\d)/(?P<m2>[01]?\d)/(?P<d2>[0-3]?\d)/"
)


def local_zone(language: str | None) -> tzinfo:
    """The zone assumed when a page gives none: China for Chinese pages, else UTC."""
    return CHINA_TZ if (language or "").lower().startswith("zh") else UTC


def _build(
    y: str, m: str, d: str, hh: str | None, mm: str | None, ss: str | None, tz: tzinfo
) -> FoundDate | None:
    try:
        value = datetime(int(y), int(m), int(d), int(hh or 0), int(mm or 0), int(ss or 0), tzinfo=tz)
    except ValueError:
        return None
    if not plausible(value):
        return None
    return FoundDate(value, hh is not None)


def plausible(value: datetime) -> bool:
    """Reject years before the web and dates more than two days in the future."""
    now = datetime.now(UTC)
    return value.year >= MIN_YEAR and value <= now + timedelta(days=2)


# 1996年3月号, 2005年 8 月: a year and month with no day after it
_MONTH_ONLY = re.compile(r"(?<!\d)(?P<y>(?:19|20)\d\d)\s*年\s*(?P<m>[01]?\d)\s*月(?!\s*[0-3]?\d)")
# a line that states a month beside a name at most (an issue credit, ——《北京之春》1996年3月号),
# not a sentence about something that happened in it
_MONTH_LINE_LIMIT = 40


def month_only(lines: list[str], tz: tzinfo = CHINA_TZ) -> FoundDate | None:
    """The first month a short line of ``lines`` names without a day (``1996年3月号``),
    as its first day with ``precision="month"``; ``None`` when a line names a day."""
    for line in lines:
        stripped = line.strip()
        sentence = re.search(r"[。！？，,]", stripped)
        if len(stripped) > _MONTH_LINE_LIMIT or sentence or find_date(stripped, tz):
            continue
        match = _MONTH_ONLY.search(stripped)
        if match:
            found = _build(match.group("y"), match.group("m"), "1", None, None, None, tz)
            if found:
                return FoundDate(found.value, False, "month")
    return None


def find_date(text: str, tz: tzinfo = CHINA_TZ) -> FoundDate | None:
    """The first numeric or Chinese-style date (with its time, if given) inside ``text``."""
    for match in _NUMERIC.finditer(text):
        y, m, d, hh, mm, ss = match.group("y", "m", "d", "H", "M", "S")
        found = _build(y, m, d, hh, mm, ss, tz)
        if found:
            return found
    for match in _US_CLOCK.finditer(text):
        hour = int(match.group("H")) % 12 + (12 if match.group("ampm").upper() == "PM" else 0)
        y, m, d, mm, ss = match.group("y", "m", "d", "M", "S")
        found = _build(y, m, d, str(hour), mm, ss, tz)
        if found:
            return found
    return None


def date_from_url(url: str, tz: tzinfo = CHINA_TZ) -> FoundDate | None:
    """A date in the URL path (``/2023/0109/``, ``/2023-01-09/``, ``/20230109/``); day only."""
    path = re.sub(r"^[a-z]+://[^/]+", "", url or "", flags=re.I)
    for match in _URL_DATE.finditer(path):
        y, m, d = match.group("y", "m", "d")
        if y is None:
            y, m, d = match.group("y2", "m2", "d2")
        found = _build(y, m, d, None, None, None, tz)
        if found:
            return found
    return None


def parse_date(value: str | None, tz: tzinfo = UTC) -> FoundDate | None:
    """Parse a machine-ish date string (ISO 8601, RFC 2822, "January 9, 2023 10:05 AM", Chinese)."""
    if not value:
        return None
    text = value.strip()
    if not text or len(text) > 80:
        return None
    if re.search(r"[年月日]", text) or re.fullmatch(r"\d{4}[-/.]\d{1,2}[-/.]\d{1,2}(?:[T\s].*)?", text):
        iso = _parse_iso(text, tz)
        if iso:
            return iso
        found = find_date(text, tz)
        if found:
            return found
    compact = _COMPACT.fullmatch(text)
    if compact:
        y, m, d = compact.group("y", "m", "d")
        return _build(y, m, d, None, None, None, tz)
    return _parse_free(text, tz)


def _midnight(value: datetime) -> bool:
    """``T00:00:00`` is how many CMSs write "no time": not a known time of day."""
    return value.hour == value.minute == value.second == value.microsecond == 0


def _parse_iso(text: str, tz: tzinfo) -> FoundDate | None:
    try:
        value = datetime.fromisoformat(text.replace(" ", "T", 1) if " " in text[:11] else text)
    except ValueError:
        return None
    time_known = ("T" in text or " " in text.strip()) and not _midnight(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=tz)
    return FoundDate(value, time_known) if plausible(value) else None


# Zone names English news pages print after times ("3:05 PM PST", "5:06pm PT", "05:39, UK");
# dateutil knows none of them on its own and would warn and drop the zone.
_FIXED_ZONES: dict[str, float] = {"UTC": 0, "GMT": 0, "Z": 0, "BST": 1, "CET": 1, "CEST": 2}
_FIXED_ZONES |= {"EST": -5, "EDT": -4, "CST": -6, "CDT": -5, "MST": -7, "MDT": -6, "PST": -8}
_FIXED_ZONES |= {"PDT": -7, "AEST": 10, "AEDT": 11, "IST": 5.5}
# names without a season follow the local rules of the day they are read for
_REGIONAL_ZONES = {
    "ET": "America/New_York",
    "CT": "America/Chicago",
    "MT": "America/Denver",
    "PT": "America/Los_Angeles",
    "UK": "Europe/London",
}


def zone_named(name: str | None, offset: int | None = None) -> tzinfo | None:
    """The zone a page names after a time (``EST``, ``PT``, ``UK``); ``None`` when unknown.

    Also dateutil's ``tzinfos`` callback, which passes the name and an offset it may know.
    """
    key = (name or "").upper()
    if key in _FIXED_ZONES:
        hours = _FIXED_ZONES[key]
        return timezone(timedelta(hours=hours)) if hours else UTC
    if key in _REGIONAL_ZONES:
        return ZoneInfo(_REGIONAL_ZONES[key])
    return timezone(timedelta(seconds=offset)) if offset is not None else None


def _parse_free(text: str, tz: tzinfo) -> FoundDate | None:
    if not re.search(r"\d", text):
        return None
    try:
        value = dateutil_parser.parse(text, fuzzy=True, default=datetime(2000, 1, 1), tzinfos=zone_named)
    except (ValueError, OverflowError):
        return None
    has_year = re.search(r"(?:19|20)\d\d", text) is not None
    if not has_year:
        return None
    time_known = (bool(re.search(r"\d:\d\d", text)) or "T" in text) and not _midnight(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=tz)
    return FoundDate(value, time_known) if plausible(value) else None
