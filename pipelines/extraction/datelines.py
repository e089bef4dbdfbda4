"""The dateline an English page shows under its headline, and what it says about the markup's dates.

Markup dates (JSON-LD, ``<meta>``, htmldate's guess) are often in UTC, which puts a US
evening story on the next calendar day, or belong to an image or to the first version of a
page that was rewritten since. The dateline readers see ("Published 8:00 PM EST, Tue December
19, 2023", "Updated December 26, 2023 10:48 AM") names the day the publisher means and often
the page's zone. It is trusted only where a markup date confirms it (the same day, or the same
instant), so a date in a photo caption or a related-stories list is never taken on its own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo

from .dates import FoundDate, zone_named

_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_DAY = r"[0-3]?\d(?:st|nd|rd|th)?"
_YEAR = r"(?:19|20)\d\d"
# "December 19, 2023", "Dec. 23 2023", "23 December 2023", "2023-12-23"
_DATE = re.compile(
    rf"\b(?:(?P<m1>{_MONTH})\s+(?P<d1>{_DAY}),?\s+(?P<y1>{_YEAR})"
    rf"|(?P<d2>{_DAY})\s+(?P<m2>{_MONTH}),?\s+(?P<y2>{_YEAR})"
    r"|(?P<y3>(?:19|20)\d\d)-(?P<m3>[01]\d)-(?P<d3>[0-3]\d))\b",
    re.I,
)
# "8:00 PM EST", "10:48 AM", "5.30am", "1:59 p.m.", "05:39, UK"
_TIME = re.compile(
    # "AM"/"PM" only as a word of its own: "11:28 AMT" is Armenian time, not 11:28 a.m. plus a "T"
    r"(?<![\d.:])(?P<h>[012]?\d)[:.](?P<m>[0-5]\d)(?::[0-5]\d)?\s*(?:(?P<ampm>[ap]\.?m\.?)(?![a-z]))?"
    r"(?:,?\s*(?P<zone>[A-Z]{2,4})\b)?",
    re.I,
)
_UPDATED = re.compile(r"\b(?:updated|modified|edited)\b", re.I)
_PUBLISHED = re.compile(r"\b(?:published|posted|first published)\b", re.I)

_MAX_LINE = 100  # a dateline, not a caption or a paragraph that mentions a date
_CLOCK_SLACK = timedelta(minutes=2)


@dataclass(frozen=True)
class Dateline:
    """One date shown on the page, with the clock time and zone printed beside it."""

    day: date
    clock: time | None = None
    zone: tzinfo | None = None
    label: str | None = None  # "published" or "updated" when the page says which


def find_datelines(lines: list[str]) -> list[Dateline]:
    """Every date written out in ``lines`` (short lines only: datelines are not paragraphs)."""
    found: list[Dateline] = []
    for line in lines:
        if len(line) <= _MAX_LINE:
            found.extend(_line_dates(line))
    return found


def shown_dateline(lines: list[str]) -> Dateline | None:
    """The page's dateline: the one labelled as the publication, else the first one shown."""
    datelines = find_datelines(lines)
    labelled = [d for d in datelines if d.label == "published"]
    return (labelled or datelines)[0] if datelines else None


# what may stand beside the date in a dateline that is nothing else
_DATELINE_WORDS = re.compile(
    r"\b(?:(?:first |last )?(?:published|posted|updated|modified)(?: on| at)?|on|at|"
    r"(?:mon|tues|wednes|thurs|fri|satur|sun)day|(?:mon|tue|wed|thu|fri|sat|sun)\.?)\b",
    re.I,
)
_DATELINE_ZONES = re.compile(r"\b(?:[A-Z]{2,4}T|UTC|GMT|UK|ET|PT|CT|MT)\b")


def is_dateline_only(line: str) -> bool:
    """A line that holds a dateline and nothing else: its date is in the article's fields."""
    if len(line) > _MAX_LINE or not _DATE.search(line):
        return False
    rest = _TIME.sub(" ", _DATE.sub(" ", line))
    rest = _DATELINE_ZONES.sub(" ", _DATELINE_WORDS.sub(" ", rest))
    return not re.search(r"\w", rest)


def _line_dates(line: str) -> list[Dateline]:
    matches = list(_DATE.finditer(line))
    out: list[Dateline] = []
    for i, match in enumerate(matches):
        day = _day(match)
        if day is None:
            continue
        before = line[matches[i - 1].end() if i else 0 : match.start()]
        after = line[match.end() : matches[i + 1].start() if i + 1 < len(matches) else len(line)]
        clock, zone = _clock(after[:30]) or _clock(before[-40:]) or (None, None)
        label = "updated" if _UPDATED.search(before) else "published" if _PUBLISHED.search(before) else None
        out.append(Dateline(day, clock, zone, label))
    return out


def _day(match: re.Match[str]) -> date | None:
    if match.group("y3"):
        y, m, d = int(match.group("y3")), int(match.group("m3")), int(match.group("d3"))
    else:
        month = (match.group("m1") or match.group("m2"))[:3].lower()
        y = int(match.group("y1") or match.group("y2"))
        m = _MONTHS.index(month) + 1
        d = int(re.sub(r"\D", "", match.group("d1") or match.group("d2")))
    try:
        return date(y, m, d)
    except ValueError:
        return None


def _clock(text: str) -> tuple[time, tzinfo | None] | None:
    match = _TIME.search(text)
    if match is None:
        return None
    hour, minute = int(match.group("h")), int(match.group("m"))
    ampm = (match.group("ampm") or "").lower().replace(".", "")
    if ampm == "pm" and hour < 12:
        hour += 12
    elif ampm == "am" and hour == 12:
        hour = 0
    if hour > 23:
        return None
    zone = zone_named(match.group("zone")) if match.group("zone") else None
    return time(hour, minute), zone


def confirmed(shown: Dateline, markup: list[FoundDate | None]) -> FoundDate | None:
    """``shown`` as a full datetime, when one of the ``markup`` dates (most trusted first) agrees.

    The same instant gives the page's own zone: a markup ``01:00Z`` shown as ``8:00 PM EST`` is
    ``20:00-05:00`` the day before, and a zoneless ``8:48 p.m.`` beside ``01:48Z`` says -05:00.
    """
    dates = [m for m in markup if m is not None]
    for found in dates:
        local = _same_instant(shown, found)
        if local is not None:
            return FoundDate(local, True)
    for found in dates:
        if found.value.date() == shown.day:
            return found
        if shown.zone is not None and found.value.astimezone(shown.zone).date() == shown.day:
            return FoundDate(found.value.astimezone(shown.zone), found.time_known)
    return None


def _same_instant(shown: Dateline, found: FoundDate) -> datetime | None:
    if shown.clock is None or not found.time_known:
        return None
    if shown.zone is not None:
        local = found.value.astimezone(shown.zone)
        wall = datetime.combine(shown.day, shown.clock, local.tzinfo)
        return local if abs(local - wall) <= _CLOCK_SLACK else None
    # no zone printed: the difference between the wall clock and UTC is the page's offset
    wall = datetime.combine(shown.day, shown.clock)
    instant = found.value.astimezone(UTC).replace(tzinfo=None)
    offset = wall - instant.replace(second=0, microsecond=0)
    quarters = round(offset / timedelta(minutes=15))
    if abs(offset - quarters * timedelta(minutes=15)) > _CLOCK_SLACK or abs(quarters) > 14 * 4:
        return None
    return found.value.astimezone(timezone(quarters * timedelta(minutes=15)))


def in_page_zone(found: FoundDate, stamps: list[FoundDate]) -> FoundDate:
    """``found`` in the offset a page's ``<time datetime>`` gives the same instant, if any."""
    if not found.time_known or found.value.utcoffset() != timedelta(0):
        return found
    for stamp in stamps:
        offset = stamp.value.utcoffset()
        if stamp.time_known and offset and abs(stamp.value - found.value) <= _CLOCK_SLACK:
            return FoundDate(found.value.astimezone(stamp.value.tzinfo), True)
    return found
