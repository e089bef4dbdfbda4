"""Article fields from every source a page offers, in order of trust.

* title: ``<title>`` minus site names, confirmed by ``<h1>``/``og:title``/JSON-LD;
* author: JSON-LD and ``<meta>`` on English pages; the visible byline first on Chinese
  pages (their ``<meta name=author>`` is usually the site); then trafilatura;
* date: JSON-LD/``<meta>``, the Chinese info line under the headline, trafilatura's
  htmldate guess, then the URL path;
* source: the outlet in a ``来源:`` line; tags: ``<meta keywords>``/``article:tag``/``关键词:``.
"""

from __future__ import annotations

import re
from typing import Any

from crawler.items import Article

from .dates import FoundDate, date_from_url, find_date, local_zone, parse_date
from .metadata import PageMeta
from .metadata_zh import byline_authors, closing_authors, read_info_lines
from .titles import clean_title, site_name_from_title

_CJK = re.compile(r"[\u3400-\u9fff]")
_TAG_LINE = re.compile(r"^\s*(?:关键词|关键字|标签|Tags?)\s*[:：]\s*(?P<tags>.+)$", re.I)
_HEADER_WINDOW = 15


def detect_language(meta: PageMeta, text: str, document: Any) -> str | None:
    sample = text[:2000]
    if sample and len(_CJK.findall(sample)) > 0.2 * len(sample.replace(" ", "")):
        return "zh"
    if meta.language:
        return meta.language.split("-")[0]
    lang = getattr(document, "language", None)
    return str(lang) if lang else ("en" if sample else None)


def _title_index(lines: list[str], title: str | None) -> int | None:
    if not title:
        return None
    for i, line in enumerate(lines):
        if line == title or (len(title) >= 6 and title in line and len(line) < 2 * len(title) + 10):
            return i
    return None


def header_lines(lines: list[str], title: str | None, text: str) -> list[str]:
    """The page lines around the headline, where the info line lives."""
    index = _title_index(lines, title)
    if index is None:
        first = text.split("\n", 1)[0][:30]
        index = next((i for i, line in enumerate(lines) if first and first in line), None)
        if index is None:
            return []
        return lines[max(0, index - _HEADER_WINDOW) : index + 2]
    return lines[index : index + _HEADER_WINDOW]


def _info_date(lines: list[str], tz: Any) -> FoundDate | None:
    for line in lines:
        if len(line) <= 160:
            found = find_date(line, tz)
            if found:
                return found
    return None


def _first(*values: FoundDate | None) -> FoundDate | None:
    return next((v for v in values if v is not None), None)


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
    article.title = clean_title(
        title_tag,
        headlines=[headline, meta.get("og:title", "twitter:title"), *meta.h1],
        site_names=[site_name, suffix_site if chinese else None],
    )

    around_title = header_lines(page_lines, article.title, text)
    body_lines = text.split("\n")
    info = read_info_lines(around_title + body_lines[:8])

    authors: list[str] = []
    if chinese:
        authors = info.authors or _closing(body_lines) or meta.authors
    else:
        authors = meta.authors
    if not authors and getattr(document, "author", None):
        authors = [str(document.author)]
    article.author = _join_authors(authors)
    article.source = info.source

    published = _first(
        parse_date(meta.published, tz),
        _info_date(around_title, tz) if chinese else None,
        parse_date(getattr(document, "date", None), tz),
        date_from_url(article.url, tz),
    )
    if published:
        article.published_at = published.value
        article.published_time_known = published.time_known

    article.description = meta.get("description", "og:description")
    article.image = meta.get("og:image", "twitter:image")
    article.canonical_url = meta.canonical
    article.tags = _tags(meta, page_lines, document)


def _closing(lines: list[str]) -> list[str]:
    for line in reversed([line for line in lines if line.strip()][-3:]):
        names = closing_authors(line) or byline_authors(line)
        if names:
            return names
    return []


def _join_authors(authors: list[str]) -> str | None:
    seen: list[str] = []
    for name in authors:
        name = re.sub(r"\s+", " ", name).strip(" ,;|")
        name = re.sub(r"^(?:by|von|par)\s+", "", name, flags=re.I)
        if name and name not in seen and len(name) < 100:
            seen.append(name)
    if not seen:
        return None
    separator = " " if all(_CJK.search(n) for n in seen) else ", "
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
