"""A page that names only a month (a magazine issue, ``——《北京之春》1996年3月号``) is dated by
that month, stored with ``published_precision="month"`` and exported as ``1996-03``: no day
the page never gave (htmldate would make it ``1996-01-01`` from the bare year).

Real pages from the evaluation sets (``fixtures/pages/SOURCES.json``).
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from core.items import FetchedPage, published_iso
from pipelines.extraction import extract_article
from pipelines.extraction.dates import CHINA_TZ, month_only
from storage import iter_export_rows, open_archive, store_article

PAGES = Path(__file__).parent / "fixtures" / "pages"
SOURCES = json.loads((PAGES / "SOURCES.json").read_text(encoding="utf-8"))


def _extract(page: str):  # type: ignore[no-untyped-def]
    article = extract_article((PAGES / page).read_bytes(), SOURCES[page]["url"]).article
    assert article is not None
    return article


def test_a_magazine_issue_dates_the_page_by_its_month() -> None:
    article = _extract("zh_beijingspring_month_issue.html")
    assert article.text.rstrip().endswith("1996年3月号")
    assert article.published_precision == "month"
    assert article.published_at == datetime(1996, 3, 1, tzinfo=CHINA_TZ)
    assert article.published_time_known is False
    assert published_iso(article.published_at, article.published_precision) == "1996-03"


def test_a_month_in_the_page_menu_does_not_replace_the_day() -> None:
    # the portal's menu names "2011年12月CPI涨4.1%"; the story is dated to the minute
    html = (PAGES / "zh_163_month_in_menu.html").read_bytes().decode("utf-8")
    assert "2011年12月CPI" in html
    article = _extract("zh_163_month_in_menu.html")
    assert article.published_precision == "day"
    assert article.published_at is not None and article.published_time_known
    shown = published_iso(article.published_at, article.published_precision)
    assert shown == article.published_at.isoformat()


@pytest.mark.parametrize(
    ("line", "month"),
    [
        ("——《北京之春》1998年3月号", "1998-03"),
        ("《读书》2005年 8 月", "2005-08"),
        # a day makes it a day, not a month
        ("——《北京之春》1998年3月5日", None),
        # a sentence about something that happened that month is no date of the page
        ("1998年3月，我们在北京见面。", None),
        ("苹果市值或在2015年4月突破万亿美元，分析师认为这是可能的", None),
    ],
)
def test_month_only_lines(line: str, month: str | None) -> None:
    found = month_only([line])
    assert (found.value.strftime("%Y-%m") if found else None) == month


def test_the_export_prints_only_the_month(tmp_path: Path) -> None:
    page = "zh_beijingspring_month_issue.html"
    body = (PAGES / page).read_bytes()
    url = SOURCES[page]["url"]
    article = _extract(page)
    fetched = FetchedPage(url=url, final_url=url, status=200, headers={}, body=body, site="beijingspring")
    archive = open_archive(f"sqlite:///{tmp_path / 'a.db'}")
    try:
        with archive.session() as session, session.begin():
            store_article(session, fetched, article)
        with archive.session() as session:
            (row,) = list(iter_export_rows(session))
    finally:
        archive.close()
    assert row["published_at"] == "1996-03"
    assert row["published_time_known"] is False
