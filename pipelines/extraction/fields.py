"""Article fields from every source a page offers, in order of trust.

* title: the ``<h1>`` that agrees with ``<title>``/``og:title``/JSON-LD, else ``<title>``
  minus site names and channel parts;
* author: JSON-LD and ``<meta>`` on English pages (unless they name the publisher), then a
  visible ``By …``; on Chinese pages the visible byline first (their ``<meta name=author>``
  is usually the site), never an editor; then trafilatura's guess;
* date: Chinese pages: ``<meta>``/JSON-LD, the dated line under the headline, the URL path,
  htmldate; other pages: the dateline under the headline where a markup date confirms it
  (its zone from the same instant), else htmldate's day with the markup's time;
* source: the outlet in a ``来源:`` line; tags: ``关键词:`` line, ``<meta keywords>``.

The page lines (visible text, one per block) locate the headline, the first paragraph
and the end of the body, so bylines and info lines are looked for where they sit.
"""

from __future__ import annotations

import html as html_lib
import re
from datetime import UTC
from typing import Any

from core.items import Article

from .bylines_en import DATE_WORD, closing_credit, english_byline, names_site
from .datelines import confirmed, in_page_zone, shown_dateline
from .dates import FoundDate, date_from_url, find_date, local_zone, month_only, parse_date
from .metadata import PageMeta
from .metadata_zh import (
    blog_owner,
    byline_authors,
    closing_authors,
    find_authors,
    find_posted_by,
    find_source,
    government_record,
    is_date_label_line,
    lead_in_authors,
    plausible_author,
    source_of,
)
from .textlines import BREADCRUMB, CJK_CHAR, squeeze
from .titles import clean_title, headline_before, names_site_or_section, pick_h1, site_name_from_title

_TAG_LINE = re.compile(r"^\s*(?:关键词|关键字|标签|Tags?)\s*[:：]\s*(?P<tags>.+)$", re.I)
_HEADER_WINDOW = 15


def detect_language(meta: PageMeta, text: str, document: Any) -> str | None:
    sample = text[:2000]
    if sample and len(CJK_CHAR.findall(sample)) > 0.2 * len(sample.replace(" ", "")):
        return "zh"
    if meta.language:
        return meta.language.split("-")[0]
    lang = getattr(document, "language", None)
    return str(lang) if lang else ("en" if sample else None)


def _title_index(lines: list[str], title: str | None) -> int | None:
    if not title or len(title) <= 6:
        return None
    key = squeeze(title)
    for i, line in enumerate(lines):
        if squeeze(line) == key:
            return i
    for i, line in enumerate(lines):
        if key in squeeze(line) and len(line) < 2 * len(title) + 10 and not BREADCRUMB.search(line):
            return i
    return None


def first_paragraph_index(lines: list[str], text: str) -> int | None:
    """The page line holding the first real paragraph of the extracted text."""
    first = next((squeeze(line)[:15] for line in text.split("\n") if len(squeeze(line)) >= 25), "")
    if not first:
        return None
    return next((i for i, line in enumerate(lines) if first in squeeze(line)), None)


def headline_index(lines: list[str], title: str | None, text: str) -> int | None:
    """Where the article starts among the page lines: the headline, else the first body line."""
    index = _title_index(lines, title)
    if index is not None:
        return index
    first = next((squeeze(line)[:15] for line in text.split("\n") if len(squeeze(line)) >= 10), "")
    if not first:
        return None
    for i, line in enumerate(lines):
        if first in squeeze(line):
            # the headline and byline sit just above the first paragraph
            return max(0, i - 2)
    return None


def body_end_index(lines: list[str], text: str) -> int | None:
    """The page line just after the last paragraph of the extracted text."""
    last = next((squeeze(line)[-15:] for line in reversed(text.split("\n")) if len(squeeze(line)) >= 10), "")
    if not last:
        return None
    for i in range(len(lines) - 1, -1, -1):
        if last in squeeze(lines[i]):
            return i + 1
    return None


def header_lines(lines: list[str], anchor: int | None) -> list[str]:
    """The page lines around the headline, where the info line lives."""
    if anchor is None:
        return []
    return lines[max(0, anchor - 3) : anchor + _HEADER_WINDOW]


def _info_date(lines: list[str], anchor: int | None, tz: Any) -> FoundDate | None:
    """The dated line nearest below the headline (or, less likely, just above it)."""
    best: tuple[float, FoundDate] | None = None
    for i, line in enumerate(lines):
        if len(line) > 160:
            continue
        found = find_date(line, tz)
        if found is None:
            continue
        if anchor is None:
            return None
        distance = float(i - anchor) if i >= anchor else 2.5 * (anchor - i)
        if is_date_label_line(line) or source_of(line):
            distance -= 3
        if distance <= 40 and (best is None or distance < best[0]):
            best = (distance, found)
    return best[1] if best else None


def _with_time(day: FoundDate | None, timed: FoundDate | None) -> FoundDate | None:
    """``day``, or ``timed`` (its time and zone) when both name the same calendar day."""
    if day is None:
        return None
    # same day: take the one that knows the time; with neither, ``timed`` (the page's own zone)
    if timed is not None and timed.value.date() == day.value.date():
        return timed if timed.time_known or not day.time_known else day
    return day


def _month_over_guess(month: FoundDate | None, guessed: FoundDate | None) -> FoundDate | None:
    """htmldate's day, unless the text names only a month (``——《北京之春》1996年3月号``) and
    htmldate's day is the first of a month of that year: its stand-in for a date it found
    no day of (``1996-01-01`` from a bare 1996). A month is all the page knows then."""
    if month is None:
        return guessed
    if guessed is None or (
        guessed.value.day == 1 and not guessed.time_known and guessed.value.year == month.value.year
    ):
        return month
    return guessed


def _first(*values: FoundDate | None) -> FoundDate | None:
    return next((v for v in values if v is not None), None)


def _english_date(
    meta: PageMeta,
    declared: FoundDate | None,
    modified: FoundDate | None,
    guessed: FoundDate | None,
    header: list[str],
    url: str,
) -> FoundDate | None:
    """The dateline under the headline where the markup confirms it, else htmldate's day.

    htmldate weighs the visible dates too; where it disagrees with the markup it is more often
    right (markup dates are often UTC or a re-publication). Either way a UTC time is shown in
    the zone the page's own ``<time datetime>`` gives the same instant.
    """
    shown = shown_dateline(header)
    published = confirmed(shown, [declared, modified, guessed]) if shown else None
    if published is None and _stated_later(declared, guessed):
        # htmldate took an earlier date from the URL slug, an image or the event itself
        published = declared
    published = published or _first(_with_time(guessed, declared), declared, date_from_url(url, UTC))
    if published is None:
        return None
    stamps = [found for found in (parse_date(v, UTC) for v in meta.time_stamps) if found]
    return in_page_zone(published, [s for s in (declared, modified, *stamps) if s])


def _stated_later(declared: FoundDate | None, guessed: FoundDate | None) -> bool:
    """The markup's timestamp names a later day than htmldate, in the page's own zone
    (a UTC timestamp only counts when two days later: one day may be the zone)."""
    if declared is None or guessed is None or not declared.time_known:
        return False
    days = (declared.value.date() - guessed.value.date()).days
    return days >= 2 or (days == 1 and bool(declared.value.utcoffset()))


def resolve_fields(article: Article, *, meta: PageMeta, document: Any, page_lines: list[str]) -> None:
    text = article.text
    article.language = detect_language(meta, text, document)
    chinese = article.language == "zh"
    tz = local_zone(article.language)

    ld = meta.article_ld or {}
    title_tag = meta.title_tag or getattr(document, "title", None)
    suffix_site = site_name_from_title(title_tag)
    site_name = meta.site_name or getattr(document, "sitename", None) or (suffix_site if chinese else None)
    article.site_name = site_name
    headline = ld.get("headline") if isinstance(ld.get("headline"), str) else None
    og_title = meta.get("og:title", "twitter:title")
    article.title = pick_h1(
        meta.h1, [title_tag, og_title, headline], require_agreement=chinese
    ) or clean_title(
        title_tag,
        headlines=[headline, og_title, *meta.h1],
        site_names=[site_name, suffix_site if chinese else None, *_short_h1s(meta.h1)],
    )

    if names_site_or_section(article.title, [site_name, suffix_site, meta.site_name], article.url):
        # the <title> names the site or a section: the headline is the line above the story
        near = headline_before(page_lines, first_paragraph_index(page_lines, text), meta.headings)
        article.title = near or article.title
    anchor = headline_index(page_lines, article.title, text)
    body_lines = text.split("\n")
    authors: list[str] = []
    outlets = [site_name, meta.publisher]
    if chinese:
        end = body_end_index(page_lines, text)
        authors = find_authors(page_lines, anchor, end, first_paragraph_index(page_lines, text))
        authors = authors or lead_in_authors(body_lines[:2]) or _closing(body_lines)
        authors = authors or find_posted_by(page_lines)
        record = government_record(page_lines)
        issuer = record.get("发文机关")
        authors = authors or ([issuer] if issuer else [])
        authors = authors or [a for a in meta.authors if plausible_author(a, site_name)]
        owner = None if authors else blog_owner(meta.title_tag, page_lines, article.url)
        authors = [owner] if owner else authors
    else:
        # a publisher in the author field ("BET", "Science X") is no author
        authors = [a for a in meta.authors if not names_site(a, outlets)]
        authors = authors or english_byline(page_lines, anchor, outlets) or closing_credit(body_lines)
    fallback = getattr(document, "author", None)
    if (
        not authors
        and fallback
        and (
            plausible_author(str(fallback), site_name) if chinese else not names_site(str(fallback), outlets)
        )
    ):
        authors = [str(fallback)]
    article.author = _join_authors(authors)
    article.source = find_source(header_lines(page_lines, anchor) + body_lines[:8])

    declared = parse_date(meta.published, tz)
    modified = parse_date(meta.modified, tz)
    guessed = parse_date(getattr(document, "date", None), tz)
    if chinese:
        info = _info_date(page_lines, anchor, tz)
        signed = find_date(record["成文日期"], tz) if "成文日期" in record else None
        published = _first(signed, _with_time(declared, info), info, date_from_url(article.url, tz))
        published = published or _month_over_guess(month_only(body_lines, tz), guessed)
    else:
        header = header_lines(page_lines, anchor)
        published = _english_date(meta, declared, modified, guessed, header, article.url)
    if published:
        article.published_at = published.value
        article.published_time_known = published.time_known
        article.published_precision = published.precision
    if modified and (published is None or modified.value >= published.value):
        article.modified_at = modified.value

    article.description = meta.get("description", "og:description")
    article.image = meta.get("og:image", "twitter:image")
    article.canonical_url = meta.canonical
    article.tags = _tags(meta, page_lines, document)


def _short_h1s(h1s: list[str]) -> list[str]:
    """``<h1>`` texts too short to be a headline: on old portals the logo is the ``<h1>``."""
    return [h for h in h1s if len(h) <= 8 or len(h.split()) <= 2]


def _closing(lines: list[str]) -> list[str]:
    for line in reversed([line for line in lines if line.strip()][-3:]):
        names = closing_authors(line) or byline_authors(line)
        if names:
            return names
    return []


def _join_authors(authors: list[str]) -> str | None:
    seen: list[str] = []
    # trafilatura joins several names with "; "
    for raw in (part for author in authors for part in html_lib.unescape(author).split(";")):
        name = re.sub(r"\s+", " ", raw).strip(" ,;|")
        name = re.sub(r"^(?:by|von|par)\s+", "", name, flags=re.I)
        if not CJK_CHAR.search(name):
            # "Jeff Foust Monday, November 18" — a byline that ran into its date
            name = DATE_WORD.sub("", name).strip(" ,;|-")
        if name and name not in seen and len(name) < 100:
            seen.append(name)
    if not seen:
        return None
    separator = " " if all(CJK_CHAR.search(n) for n in seen) else ", "
    return separator.join(seen)


def _tags(meta: PageMeta, page_lines: list[str], document: Any) -> list[str]:
    for line in page_lines:
        match = _TAG_LINE.match(line)
        if match and len(line) < 200:
            return [t for t in re.split(r"[\s,，、;；|]+", match.group("tags")) if t]
    raw = meta.get("keywords", "news_keywords", "article:tag")
    if raw:
        return [t.strip() for t in re.split(r"[,，、;；]", raw) if t.strip()][:20]
    tags = getattr(document, "tags", None) or []
    return [str(t) for t in tags][:20]
