"""English furniture found on the visible evaluation sets, each rule shown both ways.

The lines that must go are quoted from real pages of ``../shared/evaldata`` (naeb_en,
scrapinghub_en); the lines that must stay are sentences of the same shape that an article
can hold. The two pages are real pages copied from scrapinghub_en (``fixtures/pages/SOURCES.json``).
"""

from __future__ import annotations

import json
from datetime import time
from pathlib import Path

import pytest
from lxml import html as lxml_html

from pipelines.extraction import extract_article
from pipelines.extraction.body import without_other_articles
from pipelines.extraction.boilerplate import remove_furniture
from pipelines.extraction.datelines import find_datelines, is_dateline_only

PAGES = Path(__file__).parent / "fixtures" / "pages"
SOURCES = json.loads((PAGES / "SOURCES.json").read_text(encoding="utf-8"))
STORY = "The council approved the budget on Tuesday after a long debate about school funding."


@pytest.mark.parametrize(
    "line",
    [
        # links to other stories, however they read (nascar, popsci, weather, sportingnews)
        "RELATED: Strong days for Bubba Wallace, Kyle Larson end in Texas-size heartbreak",
        "[Related: How to tune up a table saw]",
        "(MORE: Iceland Volcano Eruption: What We Know)",
        "Related post: Pickled Brussels Sprouts Recipe",
        "MORE: College football realignment for 2024, explained",
        "READ MORE ON KATIE PRICE",
        "Read more on The Sun",
        # inbox and podcast promotions (techradar, topgear, pcmag, npr, eweek)
        "Get daily insight, inspiration and deals in your inbox",
        "Get all the latest news, reviews and exclusives, direct to your inbox.",
        "Sign up for SecurityWatch newsletter for our top privacy and security stories delivered right to "
        "your inbox.",
        "Listen to Short Wave on Spotify, Apple Podcasts and Google Podcasts.",
        "Also available on Apple Podcasts",
        # picture and video credits (forbesindia, nytimes, ebony, cosmopolitan, washingtontechnology)
        "Image: Kevin Winter / Getty Images North America / Getty Images Via Afp",
        "Source images by Stephen Simpson, mauro mattarelli, 9Air and Maskot/Getty Images.",
        "Video by MEGA Media.",
        "Lead image: Lee Top. Levi’s Jeans. Omega Watch.",
        "Courtesy of ASRC Federal.",
        # ad markers and editors' notes (sfgate, nymag, buzzfeed)
        "Article continues below this ad",
        "This interview has been edited for length and clarity.",
        "Reviews have been edited for length and/or clarity.",
        # closing credits and comment prompts (foxnews, an AP story on naeb_en, morebikes)
        "Fox News’ Jessica Napoli contributed to this report.",
        "Associated Press writer Jim Salter in O’Fallon, Missouri, contributed to this report.",
        "Tell us what YOU think...",
        "12 comments",
        # the reporter's contact line and the agency's pointers (space.com, ctpost, AP, mysanantonio)
        "Email Tariq Malik at tmalik@space.com or follow him @tariqjmalik. Follow us on Twitter.",
        "Reach the reporters on Twitter at http://twitter.com/MegKinnardAP and http://twitter.com/emarvelous",
        "Follow AP's full coverage of Brexit and British politics at https://www.apnews.com/Brexit",
        "More AP NBA: https://apnews.com/NBA and https://twitter.com/AP_Sports",
        # a dateline whose zone starts like "AM" (panarmenian)
        "November 20, 2019 - 11:28 AMT",
    ],
)
def test_furniture_line_goes(line: str) -> None:
    assert remove_furniture(f"{STORY}\n{line}\n{STORY}") == f"{STORY}\n{STORY}"


@pytest.mark.parametrize(
    "line",
    [
        "More: the mayor said the plan would cost more than expected.",
        "More on that later, he said.",
        "Courtesy of the new law, residents can now vote by mail in every county election held in the state.",
        "Video shows the moment the car hit the wall, and the driver walking away from it unhurt.",
        "Get the kids ready: the first day of school is Monday, the district said.",
        "The interview, which was edited by a producer, ran for an hour and covered his whole career.",
        "Listen to the recording and you can hear the crowd turn on the speaker.",
        "Related cases in three other states were settled out of court last year.",
        "Several colleagues contributed to the report, which runs to 400 pages and took two years.",
        "Comments from the public are welcome until Friday.",
        "Reach out to your local office if the form does not load, officials said.",
        "More than 40 people were hurt, the agency said on https://example.com and on the radio.",
        "On November 20, 2019 at 11:28 the council met again, in Yerevan, to vote on the budget.",
        # closing lines about newsletters and subscriptions that invite no one to subscribe
        "She also writes the Substack newsletter Gatekeeping, where she covers fashion and shopping.",
        "The paper said subscriptions rose after the council published the budget online.",
        "Fans who signed up early got their tickets delivered by Friday.",
    ],
)
def test_sentences_of_the_same_shape_stay(line: str) -> None:
    text = f"{STORY}\n{line}"
    assert remove_furniture(text) == text


@pytest.mark.parametrize(
    "heading",
    ["You might like", "You may like", "People are also reading…", "Explore more", "Related Video:"],
)
def test_teaser_headings_go_with_their_links(heading: str) -> None:
    links = "The best earbuds of the year\nBrussels plans a greener city centre"
    assert remove_furniture(f"{STORY}\n{heading}\n{links}") == STORY


def test_teaser_heading_inside_a_sentence_stays() -> None:
    text = f"{STORY}\nYou may like the new plan or not, but the council has the votes to pass it."
    assert remove_furniture(text) == text


def _extract(name: str) -> str:
    result = extract_article((PAGES / name).read_bytes(), SOURCES[name]["url"])
    assert result.article is not None and result.is_article
    return result.article.text


def test_teaser_articles_under_the_story_go() -> None:
    # a blog post in one <article> (with the <h1>), "Você pode gostar..." teasers in further
    # <article> elements below it, each with a full paragraph
    text = _extract("en_mensagens_teaser_articles.html")
    assert text.startswith("Viver uma verdadeira experiência amorosa")
    assert "Um Amor de Verdade" in text
    teasers = ("A vida requer da gente otimismo", "Gratidão pela vida está nos detalhes", "Bem-aventurados")
    for teaser in teasers:
        assert teaser not in text


def test_story_outside_the_headline_article_stays() -> None:
    # the page's only <h1> belongs to a featured teaser of another story; the story itself is
    # in a different <article>: nothing is dropped
    text = _extract("en_digg_featured_teaser_h1.html")
    assert text.startswith("Stadia, Google's streaming gaming platform, launches today.")
    assert "What Does Stadia Offer?" in text
    assert text.endswith("When February rolls around and those free trials are offered, you should give it a "
                         "shot. You might be surprised.\n[Wired]")


def test_pages_without_article_markup_are_left_alone() -> None:
    tree = lxml_html.document_fromstring(
        "<html><body><h1>Title</h1><div><p>One paragraph of the story, long enough.</p></div>"
        "<div><p>Another paragraph elsewhere on the page.</p></div></body></html>"
    )
    text = "One paragraph of the story, long enough.\nAnother paragraph elsewhere on the page."
    assert without_other_articles(text, tree) == text


def test_link_spans_inside_paragraphs_stay_and_chrome_named_alike_goes() -> None:
    # trafilatura's precision mode drops spans named "link": here they hold the middle of two
    # sentences; the page's "bottom" navigation rows (named like the chrome they are) stay out
    text = _extract("en_cbssports_link_spans.html")
    assert (
        "Jason La Canfora has reported that the NFL will fine Rudolph for his role in the fight." in text
    )
    assert "the NFL decided to move the teams' Week 13 rematch in Pittsburgh" in text
    for chrome in ("See All Sports Games", "Organize / See All Teams", "Account Settings"):
        assert chrome not in text


def test_am_starting_zone_is_a_zone() -> None:
    assert is_dateline_only("November 20, 2019 - 11:28 AMT")
    (evening,) = find_datelines(["December 19, 2023 10:48 PM EST"])
    assert evening.clock == time(22, 48)
    assert not is_dateline_only("November 20, 2019 - 11:28 AMT, the council met again")


def _article_text(page: str) -> str:
    article = extract_article((PAGES / page).read_bytes(), SOURCES[page]["url"]).article
    assert article is not None
    return article.text


def test_a_row_of_tag_links_and_its_label_leave_the_end() -> None:
    # "Tags" over "calendario stock car 2018, stock car brasil, …": each item is a link of the page
    text = _article_text("en_autoracing_tag_row.html")
    assert "stock car brasil, stock car cascavel" not in text
    assert not text.rstrip().endswith("Tags")
    assert text.rstrip().endswith("Calendário acima divulgado pela categoria em janeiro de 2018")
    assert "12a etapa: 9 de dezembro – Interlagos" in text


def test_a_bulleted_list_of_links_near_the_end_goes() -> None:
    text = _article_text("en_livescience_bulleted_links.html")
    for teaser in ("15 Amazing Images of Stars", "11 Fascinating Facts About Our Milky Way Galaxy"):
        assert teaser not in text
    assert "Numerical experiments of this kind are particularly successful" in text
    assert text.rstrip().endswith("Originally published on Live Science.")


def test_the_articles_own_bulleted_list_stays() -> None:
    # the teams that qualified: a list at the end of the story, but not the page's link texts
    text = _article_text("en_qualifiers_own_list.html")
    for line in ("- Germany (Group C): 13th appearance", "- Wales (Group E): Second appearance"):
        assert line in text.split("\n")


def test_a_closing_row_that_is_not_all_links_stays() -> None:
    from pipelines.extraction.boilerplate import without_link_edges
    from pipelines.extraction.textlines import squeeze

    links = {squeeze(t) for t in ("stock car brasil", "stock car cascavel")}
    text = f"{STORY}\nTags\nstock car brasil, stock car cascavel, a word of the story"
    assert without_link_edges(text, links) == text


def test_a_closing_subscription_promotion_goes() -> None:
    # "Get Motor Cycle Monthly delivered through your letterbox every month. 12 issues for £11.99."
    text = _article_text("en_morebikes_closing_promotion.html")
    assert "delivered through your letterbox" not in text
    assert text.rstrip().endswith("(and they more than pay for themselves even with a simple oil-change).")
    # a newsletter's sign-up box: its name as a heading and the blurb under it
    text = _article_text("en_cbssports_link_spans.html")
    assert "Pick Six Newsletter" not in text
    assert "mock drafts, picks and power rankings" not in text
    assert "we get our shot [again]" in text


def test_a_call_to_sign_up_above_the_closing_lines_stays() -> None:
    # the project note that opens the story ends "Sign up here.": only the last lines are judged
    text = _article_text("en_politico_opening_sign_up.html")
    assert text.startswith("This article is part of POLITICO’s Global Policy Lab: Living Cities")
    assert "Sign up here." in text.split("\n")[0]


def test_the_writers_closing_contact_note_goes() -> None:
    # "Travis Andersen can be reached at travis.andersen@globe.com. Adam Sennott can be …"
    text = _article_text("en_bostonglobe_two_authors.html")
    assert "can be reached at" not in text
    assert text.rstrip().endswith("The woman’s name wasn’t disclosed.")


def test_a_closing_tweet_with_a_handle_stays() -> None:
    # an embedded tweet's attribution names a handle, but follows or contacts no one
    text = _article_text("en_thehill_closing_tweet.html")
    assert "— Rep. Ilhan Omar (@Ilhan) November 19, 2019" in text.split("\n")[-3:]


@pytest.mark.parametrize(
    "line",
    [
        "Want more movie news? Sign up for Entertainment Weekly's free newsletter to get the latest "
        "trailers.",
        "Our journalism needs your support. Please subscribe today to NJ.com.",
        "Find out the next TV, streaming series and movies to add to your must-sees. Get The Watchlist "
        "delivered every Thursday.",
        "Alexandra Canal is a Senior Reporter at Yahoo Finance. Follow her on Twitter @allie_canal, "
        "LinkedIn, and email her at alexandra.canal@yahoofinance.com.",
    ],
)
def test_closing_promotions_and_contact_notes_go(line: str) -> None:
    assert remove_furniture(f"{STORY}\n{STORY}\n{line}") == f"{STORY}\n{STORY}"
    # higher up in the text, the same sentence is left to the other rules
    assert line in remove_furniture(f"{line}\n{STORY}\n{STORY}\n{STORY}")
