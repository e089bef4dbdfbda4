"""English publication dates: the dateline readers see, confirmed by the markup, in the page's zone.

Real pages from naeb_en (``fixtures/pages/SOURCES.json``); each case names the date a naive
reading of the markup or htmldate would store instead, and asserts it is not what is stored.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone
from pathlib import Path

import pytest

from pipelines.extraction import extract_article
from pipelines.extraction.datelines import confirmed, find_datelines, in_page_zone, shown_dateline
from pipelines.extraction.dates import FoundDate, parse_date

PAGES = Path(__file__).parent / "fixtures" / "pages"
SOURCES = json.loads((PAGES / "SOURCES.json").read_text(encoding="utf-8"))
EST = timezone(timedelta(hours=-5))


@dataclass(frozen=True)
class DateCase:
    page: str
    published: str  # ISO 8601 with the offset the article must carry
    naive_day: str  # what the markup's UTC timestamp or htmldate alone would give
    note: str


CASES = [
    DateCase(
        "en_smh_time_offset.html",
        published="2023-12-23T05:30:00+11:00",
        naive_day="2023-12-22",
        note="JSON-LD says 18:30Z; <time datetime> gives the same instant at +11:00",
    ),
    DateCase(
        "en_nydailynews_dateline.html",
        published="2023-12-22T20:48:19-05:00",
        naive_day="2023-12-23",
        note="'Published: December 22, 2023 at 8:48 p.m.' beside 01:48Z: the offset is -05:00",
    ),
    DateCase(
        "en_cbc_posted_dateline.html",
        published="2023-12-22T08:25:00-05:00",
        naive_day="2023-12-21",
        note="'Posted: Dec 22, 2023 8:25 AM EST | Last Updated: January 2'; htmldate took an image's date",
    ),
    DateCase(
        "en_sky_updated_dateline.html",
        published="2023-12-23T05:39:00+00:00",
        naive_day="2023-12-22",
        note="the page shows only 'Saturday 23 December 2023 05:39, UK', which is its dateModified",
    ),
    DateCase(
        "en_weather_slug_date.html",
        published="2023-12-20T07:30:00-05:00",
        naive_day="2023-12-19",
        note="htmldate read the URL slug /2023-12-19-china-earthquake; the markup says 20 Dec, -05:00",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.page)
def test_page_date(case: DateCase) -> None:
    article = extract_article((PAGES / case.page).read_bytes(), SOURCES[case.page]["url"]).article
    assert article is not None and article.published_at is not None
    assert article.published_at.isoformat() == case.published
    assert article.published_time_known is True
    assert article.published_at.date().isoformat() != case.naive_day


def test_headline_kicker_and_dateline_leave_the_body() -> None:
    sky = extract_article(
        (PAGES / "en_sky_updated_dateline.html").read_bytes(), SOURCES["en_sky_updated_dateline.html"]["url"]
    )
    article = sky.article
    assert article is not None and article.title is not None
    assert article.text.startswith("The prime minister says the higher earning figure of £38,700")
    assert "Saturday 23 December 2023 05:39, UK" not in article.text
    assert "Install the Sky News app for free" not in article.text
    assert "Rishi Sunak is under fire from his own MPs" in article.text
    cbc = extract_article(
        (PAGES / "en_cbc_posted_dateline.html").read_bytes(), SOURCES["en_cbc_posted_dateline.html"]["url"]
    )
    assert cbc.article is not None
    assert cbc.article.text.startswith(
        "Cheese deadline arrives without new deal between Canada and the United Kingdom\n"
    )


def test_modified_time_is_kept_beside_the_publication() -> None:
    def modified(page: str) -> str | None:
        article = extract_article((PAGES / page).read_bytes(), SOURCES[page]["url"]).article
        assert article is not None
        return article.modified_at.isoformat() if article.modified_at else None

    # JSON-LD dateModified, whether or not the page shows it
    assert modified("en_cbc_posted_dateline.html") == "2024-01-02T15:04:00+00:00"
    assert modified("en_sky_updated_dateline.html") == "2023-12-23T05:39:00+00:00"
    # a page that states no modification has none
    assert modified("en_extremetech_by_line_apart.html") is None
    assert modified("zh_taiyuan_evening_utf8.html") is None


# --- the parts, on the datelines those pages print -----------------------------------------


def test_dateline_with_zone_before_the_date() -> None:
    (found,) = find_datelines(["Published 8:00 PM EST, Tue December 19, 2023"])
    assert found.day == date(2023, 12, 19)
    assert found.clock == time(20, 0)
    assert found.zone == EST
    assert found.label == "published"


def test_dateline_forms() -> None:
    lines = [
        "December 23, 2023 — 5.30am",
        "Saturday 23 December 2023 05:39, UK",
        "Updated Dec. 23, 2023, 7:58 AM UTC",
        "Dec 23, 2023 5:06pm PT",
    ]
    found = find_datelines(lines)
    assert [d.day for d in found] == [date(2023, 12, 23)] * 4
    assert [d.clock for d in found] == [time(5, 30), time(5, 39), time(7, 58), time(17, 6)]
    winter = datetime(2023, 12, 23)
    assert found[1].zone is not None and found[1].zone.utcoffset(winter) == timedelta(0)
    assert found[2].label == "updated" and found[2].zone == UTC
    assert found[3].zone is not None and found[3].zone.utcoffset(winter) == timedelta(hours=-8)


def test_published_label_wins_over_an_earlier_updated_one() -> None:
    shown = shown_dateline(["Updated Dec. 23, 2023 4:04AM EST /", "Published Dec. 22, 2023 12:16PM EST"])
    assert shown is not None and shown.day == date(2023, 12, 22)
    shown = shown_dateline(["Posted: Dec 22, 2023 8:25 AM EST | Last Updated: January 2, 2024"])
    assert shown is not None and shown.day == date(2023, 12, 22)


def test_captions_and_paragraphs_are_not_datelines() -> None:
    caption = (
        "Man-made snow is blown from snowmaking equipment near the summit of Pleasant Mountain ski "
        "resort, Thursday, Dec. 21, 2023, in Bridgton, Maine."
    )
    assert find_datelines([caption]) == []
    assert shown_dateline(["No date here", "By Jane Doe"]) is None


def _found(text: str) -> FoundDate:
    found = parse_date(text, UTC)
    assert found is not None
    return found


def test_same_instant_gives_the_pages_zone() -> None:
    shown = shown_dateline(["Published 8:00 PM EST, Tue December 19, 2023"])
    assert shown is not None
    result = confirmed(shown, [_found("2023-12-20T01:00:21.174Z")])
    assert result is not None
    assert result.value.isoformat() == "2023-12-19T20:00:21.174000-05:00"


def test_zoneless_clock_derives_the_offset() -> None:
    shown = shown_dateline(["December 22, 2023 at 8:48 p.m."])
    assert shown is not None
    result = confirmed(shown, [_found("2023-12-23T01:48:19Z")])
    assert result is not None and result.value.utcoffset() == timedelta(hours=-5)


def test_unconfirmed_dateline_is_not_taken() -> None:
    shown = shown_dateline(["Oct 30, 2023; Orlando, Florida"])
    assert shown is not None
    assert confirmed(shown, [_found("2024-02-15T13:23:38-05:00")]) is None
    # a dateline without a clock may confirm a day, never invent a zone
    day_only = shown_dateline(["December 22, 2023"])
    assert day_only is not None
    assert confirmed(day_only, [_found("2023-12-23T03:22:07Z")]) is None


def test_in_page_zone_only_moves_utc_times() -> None:
    utc = _found("2023-12-22T18:30:00Z")
    local = _found("2023-12-23T05:30:00+11:00")
    assert in_page_zone(utc, [local]).value.isoformat() == "2023-12-23T05:30:00+11:00"
    other_instant = _found("2023-12-23T06:30:00+11:00")
    assert in_page_zone(utc, [other_instant]) is utc
    assert in_page_zone(local, [utc]) is local
