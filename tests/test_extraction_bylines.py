"""English bylines under the headline, on real naeb_en pages and on the lines they print."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipelines.extraction import extract_article
from pipelines.extraction.bylines_en import closing_credit, english_byline

PAGES = Path(__file__).parent / "fixtures" / "pages"
SOURCES = json.loads((PAGES / "SOURCES.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    ("page", "author", "instead"),
    [
        # JSON-LD names ", The Daily Journal" (the publisher); the page prints the reporter
        ("en_dailyjournal_name_outlet.html", "Jim Walsh", "The Daily Journal"),
        # no author in the markup; "Tex Hollywood", "-", "December 21, 2023" under the headline
        ("en_egotastic_name_dateline.html", "Tex Hollywood", None),
        # "By" and "Josh Norem" on lines of their own
        ("en_extremetech_by_line_apart.html", "Josh Norem", None),
        # several reporters, an agency as the author, an agency only in the photo credits
        ("en_bostonglobe_two_authors.html", "Travis Andersen, Adam Sennott", None),
        ("en_npr_three_authors.html", "Aaron Scott, Berly McCoy, Rebecca Ramirez", None),
        ("en_foxsports_the_associated_press.html", "The Associated Press", None),
        ("en_weather_associated_press.html", "Associated Press", None),
        ("en_ap_photo_captions.html", "Thomas Reese", "Domenico Stinellis"),
    ],
)
def test_page_byline(page: str, author: str, instead: str | None) -> None:
    article = extract_article((PAGES / page).read_bytes(), SOURCES[page]["url"]).article
    assert article is not None
    assert article.author == author
    assert article.author != instead


HEADLINE = "Council approves the budget after a long night"
BODY = "The council approved the budget on Tuesday after a long debate about school funding."


@pytest.mark.parametrize(
    ("lines", "names"),
    [
        ([HEADLINE, "By Jane Doe and John Roe", BODY], ["Jane Doe", "John Roe"]),
        ([HEADLINE, "By Jane Doe, John Roe, and Mary Major", BODY], ["Jane Doe", "John Roe", "Mary Major"]),
        ([HEADLINE, "By JANE DOE Associated Press", BODY], ["JANE DOE"]),
        ([HEADLINE, "By The Associated Press", BODY], ["The Associated Press"]),
        ([HEADLINE, "By", "Matthew N. Wells • December 15, 2023 12:25 pm", BODY], ["Matthew N. Wells"]),
        ([HEADLINE, "By Terry Pluto, cleveland.com", BODY], ["Terry Pluto"]),
        ([HEADLINE, "By Chicago Tribune staff", BODY], ["Chicago Tribune"]),
        ([HEADLINE, "BY JANE DOE", BODY], ["JANE DOE"]),
        ([HEADLINE, "Sajid Bin Mohammad", "Dec 19, 2023", BODY], ["Sajid Bin Mohammad"]),
        ([HEADLINE, "Craig Meyer", "USA TODAY NETWORK", BODY], ["Craig Meyer"]),
        ([HEADLINE, "Jim Walsh", "Cherry Hill Courier-Post", BODY], ["Jim Walsh"]),
    ],
)
def test_byline_forms(lines: list[str], names: list[str]) -> None:
    assert english_byline(lines, 0, ["Cherry Hill Courier-Post", "The Daily Journal"]) == names


@pytest.mark.parametrize(
    "lines",
    [
        # a name-like line followed by the story is a subheading or a caption, not a byline
        [HEADLINE, "Winter Storm Warning", BODY],
        # the site's name above its dateline is not a person
        [HEADLINE, "Cherry Hill Courier-Post", "December 21, 2023", BODY],
        # a name far below the headline is in the story
        [HEADLINE, BODY, BODY, BODY, BODY, BODY, BODY, BODY, "Jane Doe", "December 21, 2023"],
        # lower-case words, or a whole sentence, are no name
        [HEADLINE, "the weekend desk", "December 21, 2023", BODY],
    ],
)
def test_not_bylines(lines: list[str]) -> None:
    assert english_byline(lines, 0, ["Cherry Hill Courier-Post"]) == []


@pytest.mark.parametrize(
    ("last_lines", "names"),
    [
        # foxsports.com, reuters.com: the credit closes the story
        ([BODY, "Reporting by The Associated Press."], ["The Associated Press"]),
        ([BODY, "Reporting by Pavel Polityuk; Editing by Alex Richardson"], ["Pavel Polityuk"]),
        (
            [BODY, "(Reporting by Kate Holton and Paul Sandle; editing by Guy Faulconbridge)"],
            ["Kate Holton", "Paul Sandle"],
        ),
    ],
)
def test_closing_credit_names_the_reporters(last_lines: list[str], names: list[str]) -> None:
    assert closing_credit(last_lines) == names


def test_closing_credit_is_only_a_credit_line_at_the_end() -> None:
    # a sentence that mentions reporting, and a credit far from the end, are no credit
    assert closing_credit([BODY, "He was reporting by phone from Kyiv when the line dropped, he said."]) == []
    assert closing_credit(["Reporting by Jane Doe", BODY, BODY, BODY, BODY]) == []
    assert closing_credit([BODY, "Editing by Mark Smith"]) == []
