"""Article or not: listing, tag, index, search, about and error pages are not articles.

Signals, weakest to strongest: the URL shape, the title of error pages, how much of the
extracted text is running prose (paragraphs) rather than link-sized lines, and what the
page says about itself (``og:type``, JSON-LD ``@type``). Declared article markup and a
few real paragraphs outweigh a listing-looking URL.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urlsplit

from .body import text_size
from .metadata import PageMeta
from .textlines import squeeze

_LISTING_PATH = re.compile(
    r"/(?:tags?|topics?|category|categories|section|sections|channel|column|author|authors|archives?|"
    r"search|list|lists|index|page|news-list|sitemap)(?:/|$|[._-])|/(?:list|index)[_-]?\d*\.s?html?$|"
    r"/default\.(?:aspx?|s?html?)$",
    re.I,
)
_SEARCH_QUERY = re.compile(r"(?:^|&)(?:q|s|query|keyword|kw|search|wd)=", re.I)
_ABOUT_PATH = re.compile(
    r"/(?:about|about-us|aboutus|contact|contact-us|privacy|terms|help|faq|login|register)"
    r"(?:/|$|\.)",
    re.I,
)
_ERROR_TITLE = re.compile(
    r"\b(?:404|403|410|500|502|503)\b|page not found|not found|error|"
    r"页面不存在|找不到|无法找到|出错|错误页|已删除|不存在",
    re.I,
)
_ARTICLE_OG = frozenset({"article", "news", "article:news", "blog", "blogposting"})
_LISTING_LD = frozenset(
    {"collectionpage", "itemlist", "searchresultspage", "profilepage", "aboutpage", "contactpage"}
)
MIN_ARTICLE_SIZE = 40
PARAGRAPH_SIZE = 25


def paragraph_count(text: str) -> int:
    return sum(1 for line in text.split("\n") if text_size(line) >= PARAGRAPH_SIZE)


def prose_share(text: str) -> float:
    lines = [line for line in text.split("\n") if line.strip()]
    total = sum(text_size(line) for line in lines) or 1
    return sum(text_size(line) for line in lines if text_size(line) >= PARAGRAPH_SIZE) / total


def link_share(text: str, anchors: Iterable[str]) -> float:
    """Share of ``text`` in lines that are (mostly) the text of a link: a list of headlines."""
    keys = sorted({squeeze(a) for a in anchors if len(squeeze(a)) >= 4}, key=len, reverse=True)
    # the date beside each headline is part of a listing's shape, not of the link
    lines = [squeeze(_DATES.sub("", line.lstrip("-• "))) for line in text.split("\n") if line.strip()]
    lines = [line for line in lines if line]
    total = sum(len(line) for line in lines) or 1
    linked = 0
    for line in lines:
        longest = next((len(key) for key in keys if len(key) <= len(line) and key in line), 0)
        if longest >= 0.6 * len(line):
            linked += len(line)
    return linked / total


_DATES = re.compile(r"\d{4}[-/.年]\d{1,2}[-/.月]\d{1,2}日?|\d{1,2}:\d{2}(?::\d{2})?|\b\d{1,2}[-/]\d{1,2}\b")


def classify_page(
    *, url: str, meta: PageMeta, text: str, anchors: Iterable[str] = ()
) -> tuple[bool, str | None]:
    """``(is_article, reason)``; ``reason`` names why a page is not an article.

    ``anchors`` are the page's link texts: a text made of them is a list of links.
    """
    size = text_size(text)
    title = meta.title_tag or ""
    declared_article = (meta.get("og:type") or "").lower() in _ARTICLE_OG or meta.article_ld is not None
    declared_listing = bool(meta.ld_types & _LISTING_LD) and meta.article_ld is None
    paragraphs = paragraph_count(text)

    if size == 0:
        return False, "empty"
    if _ERROR_TITLE.search(title) and size < 150 and not declared_article:
        return False, "error_page"
    parts = urlsplit(url)
    path = parts.path or "/"
    if _ABOUT_PATH.search(path) and not declared_article:
        return False, "about_page"
    if declared_listing and paragraphs < 3:
        return False, "listing_page"
    if path in ("/", "") and not parts.query and not declared_article:
        return False, "index_page"
    if _SEARCH_QUERY.search(parts.query) and paragraphs < 3 and not declared_article:
        return False, "listing_page"
    if _LISTING_PATH.search(path) and paragraphs < 3 and not declared_article:
        return False, "listing_page"
    if size < MIN_ARTICLE_SIZE:
        return False, "too_short"
    # short lines that are not links are a table or a list of facts, not a listing
    if (
        not declared_article
        and paragraphs < 2
        and prose_share(text) < 0.3
        and link_share(text, anchors) >= 0.5
    ):
        return False, "listing_page"
    return True, None
