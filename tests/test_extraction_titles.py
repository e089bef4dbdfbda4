"""Titles when ``<title>`` names the site or a section: the headline above the story.

Real pages from daniel_zh (``fixtures/pages/SOURCES.json``) both ways, and the two checks
on the lines English pages of small sites print.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipelines.extraction import extract_article
from pipelines.extraction.titles import headline_before, names_site_or_section

PAGES = Path(__file__).parent / "fixtures" / "pages"
SOURCES = json.loads((PAGES / "SOURCES.json").read_text(encoding="utf-8"))


def title_of(page: str) -> str | None:
    article = extract_article((PAGES / page).read_bytes(), SOURCES[page]["url"]).article
    assert article is not None
    return article.title


@pytest.mark.parametrize(
    ("page", "title"),
    [
        ("zh_hexun_section_title.html", "苹果或与ITC合作以应对柯达专利诉讼战"),  # <title> 科技频道
        ("zh_qq_section_title.html", "英国12月CPI下滑至4.2%"),  # <title> 财经
        ("zh_sinatw_section_title.html", "春節期間 210家醫院有免費克流感"),  # <title> 生活新聞
        # a title that ends in a site word but has the headline before it is left alone
        ("zh_libertytimes_title_ends_in_news.html", "貧血 小心大腸癌上身 - 自由電子報 即時新聞"),
        # og:site_name repeats the headline: a long "site name" is a headline
        ("zh_awakening_site_name_is_headline.html", "當心選前症候群 醫師提醒健康為重"),
    ],
)
def test_real_page_title(page: str, title: str) -> None:
    assert title_of(page) == title


@pytest.mark.parametrize(
    ("title", "site_names", "url", "expected"),
    [
        ("The Valley Courier", ["The Valley Courier"], "http://www.valleycourier.com/news/1234", True),
        ("Valley Courier Online", [], "http://www.valleycourier.com/news/1234", True),
        ("News | Sports | Weather | Obituaries", [], "http://www.example.com/a/1", True),
        ("淄博时空新闻网(淄博市人民政府新闻办公室主办)", [], "http://news.cbbn.net/a/1.html", True),
        ("Council approves the budget after a long night", ["The Valley Courier"],
         "http://www.valleycourier.com/news/1234", False),
        ("Council approves budget | The Valley Courier", ["The Valley Courier"],
         "http://www.valleycourier.com/news/1234", False),
    ],
)  # fmt: skip
def test_names_site_or_section(title: str, site_names: list[str], url: str, expected: bool) -> None:
    assert names_site_or_section(title, site_names, url) is expected


def test_headline_above_the_story_on_a_small_english_site() -> None:
    lines = [
        "Home | News | Sports | Weather",
        "Local News",
        "Council approves the budget after a long night",
        "Posted: Tuesday, March 4, 2008 10:15 AM",
        "By Jane Doe",
        "The council approved the budget on Tuesday after a long debate about school funding.",
    ]
    assert headline_before(lines, 5) == "Council approves the budget after a long night"
    # a heading element counts without a dateline under it; a nav line never does
    assert headline_before(["Home | News", "Council approves the budget", lines[5]], 2,
                           ["Council approves the budget"]) == "Council approves the budget"  # fmt: skip
    assert headline_before(["Home | News | Sports", lines[5]], 1) is None
