"""Article or not, on evidence: a page is kept unless several independent signals agree.

A listing, tag, section, search or about page gives itself away in more than one way: its
URL may say so, its markup may declare it (``og:type`` ``website``, a JSON-LD
``CollectionPage``), its title may be the text of one of its own navigation links, its
text may be a run of similar teaser items (a headline link, a date, a snippet), it may
have page numbers, and little of its text is running prose that is not a link. Each of
these alone is also seen on real articles (``…/index.php?action=fullnews&id=…`` is a
news story; many Chinese articles have 上一页/下一页; some declare ``og:type`` website),
so no single one drops a page:

- declared article markup (``og:type`` article, a JSON-LD article type) keeps a page;
- :data:`DROP_VOTES` or more signals drop it as a listing/about page;
- one signal short of that keeps it, marked ``uncertain``.

Only the plain cases need no vote: no text, an error title over a few words, a text too
short to be an article.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urlsplit

from lxml import html as lxml_html

from .body import text_size
from .metadata import PageMeta
from .textlines import squeeze
from .titles import split_title

Verdict = Literal["yes", "uncertain", "no"]

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
_NOT_ARTICLE_OG = frozenset({"website", "profile", "blog:index", "section"})
_LISTING_LD = frozenset(
    {"collectionpage", "itemlist", "searchresultspage", "profilepage", "aboutpage", "contactpage"}
)
# a page-number link: "2", "[3]", "下一页", "Next »", "Older posts"
_PAGER_TEXT = re.compile(
    r"^\s*(?:\[?\d{1,3}\]?|下一?页|上一?页|尾页|末页|首页|next|previous|prev|older(?: posts| entries)?|"
    r"newer(?: posts| entries)?|last|first|»|«|›|‹|>|<|>>|<<)\s*»?\s*$",
    re.I,
)
_DATES = re.compile(r"\d{4}[-/.年]\d{1,2}[-/.月]\d{1,2}日?|\d{1,2}:\d{2}(?::\d{2})?|\b\d{1,2}[-/]\d{1,2}\b")
MIN_ARTICLE_SIZE = 40
PARAGRAPH_SIZE = 25
HEADLINE_SIZE = 6  # a teaser's link text: a headline, not "more" or a page number
MIN_TEASERS = 3
DROP_VOTES = 3


def paragraph_count(text: str, anchors: Iterable[str] = ()) -> int:
    """Lines of running prose (a teaser line that is mostly a headline link is not prose)."""
    keys = _link_keys(anchors)
    # sized on the line as printed: squeezed English is one long "word"
    prose = [squeeze(line) for line in text.split("\n") if text_size(line) >= PARAGRAPH_SIZE]
    return sum(1 for line in prose if _linked_length(line, keys) < 0.6 * len(line))


def prose_share(text: str) -> float:
    lines = [line for line in text.split("\n") if line.strip()]
    total = sum(text_size(line) for line in lines) or 1
    return sum(text_size(line) for line in lines if text_size(line) >= PARAGRAPH_SIZE) / total


def _link_keys(anchors: Iterable[str]) -> list[str]:
    return sorted({squeeze(a) for a in anchors if len(squeeze(a)) >= 4}, key=len, reverse=True)


def _linked_length(line: str, keys: list[str]) -> int:
    return next((len(key) for key in keys if len(key) <= len(line) and key in line), 0)


def link_share(text: str, anchors: Iterable[str]) -> float:
    """Share of ``text`` in lines that are (mostly) the text of a link: a list of headlines."""
    keys = _link_keys(anchors)
    # the date beside each headline is part of a listing's shape, not of the link
    lines = [squeeze(_DATES.sub("", line.lstrip("-• "))) for line in text.split("\n") if line.strip()]
    lines = [line for line in lines if line]
    total = sum(len(line) for line in lines) or 1
    linked = sum(len(line) for line in lines if _linked_length(line, keys) >= 0.6 * len(line))
    return linked / total


def teaser_share(tree: lxml_html.HtmlElement | None, text: str) -> float:
    """Share of the extracted ``text`` made of a group of similar sibling items (same tag
    and class, at least :data:`MIN_TEASERS`) that each hold a headline-sized link, and whose
    headline or snippet is in the text: a list of teasers. A related-links box under an
    article is a small share of its text."""
    if tree is None:
        return 0.0
    # each link's text once: an item's links are looked at again from every enclosing list
    headlines: dict[lxml_html.HtmlElement, str] = {}
    for a in tree.iter("a"):
        link_text = a.text_content()
        if text_size(link_text) >= HEADLINE_SIZE:
            headlines[a] = link_text
    if not headlines:
        return 0.0
    flat = squeeze(text)
    size = text_size(text) or 1
    best = 0
    for parent in tree.iter("ul", "ol", "div", "section", "tbody", "dl"):
        groups: dict[tuple[str, str], list[int]] = {}
        for child in parent:
            if not isinstance(child.tag, str):
                continue
            links = [a for a in child.iter("a") if a in headlines]
            if not links or len(links) > 2:
                continue
            # the extraction may keep the headline, the snippet beside it, or both
            headline = squeeze(headlines[links[0]])
            child_text = child.text_content()
            rest = squeeze(child_text).replace(headline, "", 1)
            if headline in flat or (text_size(rest) >= HEADLINE_SIZE and rest[:20] in flat):
                groups.setdefault((child.tag, child.get("class") or ""), []).append(text_size(child_text))
        for sizes in groups.values():
            if len(sizes) >= MIN_TEASERS:
                best = max(best, sum(sizes))
    return min(1.0, best / size)


def has_pager(tree: lxml_html.HtmlElement | None) -> bool:
    """Page-number links: two or more numbered links side by side (1 2 3, [2] [3])."""
    if tree is None:
        return False
    # each link's verdict once; a page whose links hold fewer than two distinct numbers
    # (most articles) has no pager anywhere
    pager: dict[lxml_html.HtmlElement, str] = {}
    for a in tree.iter("a"):
        link_text = a.text_content()
        if _PAGER_TEXT.match(link_text or ""):
            pager[a] = link_text.strip("[] \n\t")
    if len({n for n in pager.values() if n.isdigit()}) < 2:
        return False
    for parent in tree.iter("div", "p", "ul", "nav", "span", "td"):
        anchors = list(parent.iter("a"))
        numbers = [pager[a] for a in anchors if a in pager]
        digits = sorted({int(n) for n in numbers if n.isdigit()})
        if len(digits) >= 2 and digits[1] - digits[0] == 1 and len(numbers) == len(anchors):
            return True
    return False


def _title_is_a_link(title: str, anchors: Iterable[str]) -> bool:
    """The page's title is the text of one of its own (navigation) links: a section page.
    A short title only: an article's headline may be linked from its own page."""
    key = squeeze(title)
    if not key or text_size(title) > 4:
        return False
    return any(squeeze(a) == key for a in anchors)


@dataclass
class Evidence:
    """What a page says about being an article; ``signals`` name the votes against."""

    declared_article: bool
    signals: list[str] = field(default_factory=list)

    @property
    def votes(self) -> int:
        return len(self.signals)


_SIGNAL_ORDER = ("url", "declared", "title_is_a_link", "teasers", "pager", "little_prose", "links")


def gather_evidence(
    *,
    url: str,
    meta: PageMeta,
    text: str,
    anchors: list[str],
    title: str | None = None,
    tree: lxml_html.HtmlElement | None = None,
    decisive_only: bool = False,
) -> Evidence:
    """The evidence about a page. ``decisive_only``: skip what cannot change the verdict of
    :func:`classify_page` — every signal of a page that declares itself an article, and the
    two costly tree walks (teasers, pager) where the other signals already settle the vote;
    the signals found are the same whenever they count."""
    og_type = (meta.get("og:type") or "").lower()
    evidence = Evidence(declared_article=og_type in _ARTICLE_OG or meta.article_ld is not None)
    if decisive_only and evidence.declared_article:
        return evidence
    signals = evidence.signals
    parts = urlsplit(url)
    path = parts.path or "/"
    if (
        path == "/"
        and not parts.query
        or _LISTING_PATH.search(path)
        or _ABOUT_PATH.search(path)
        or _SEARCH_QUERY.search(parts.query)
    ):
        signals.append("url")
    if og_type in _NOT_ARTICLE_OG or (meta.ld_types & _LISTING_LD and meta.article_ld is None):
        signals.append("declared")
    # the page's own <title> (研究_创投网), before a section title is replaced by a headline
    own = (split_title(meta.title_tag or "") or [""])[0]
    if _title_is_a_link(title or "", anchors) or _title_is_a_link(own, anchors):
        signals.append("title_is_a_link")
    if paragraph_count(text, anchors) < 2:
        signals.append("little_prose")
    if link_share(text, anchors) >= 0.5:
        signals.append("links")
    # the verdict needs to know whether there are DROP_VOTES - 1 signals, DROP_VOTES or more
    if not decisive_only or len(signals) < DROP_VOTES:
        if has_pager(tree):
            signals.append("pager")
        if not decisive_only or DROP_VOTES - 2 <= len(signals) < DROP_VOTES:
            if teaser_share(tree, text) >= 0.5:
                signals.append("teasers")
    signals.sort(key=_SIGNAL_ORDER.index)
    return evidence


def classify_page(
    *,
    url: str,
    meta: PageMeta,
    text: str,
    anchors: Iterable[str] = (),
    title: str | None = None,
    tree: lxml_html.HtmlElement | None = None,
) -> tuple[Verdict, str | None]:
    """``(verdict, reason)``: ``yes``, ``uncertain`` (kept) or ``no`` with why not.

    ``anchors`` are the page's link texts: a text made of them is a list of links.
    """
    anchor_list = list(anchors)
    size = text_size(text)
    if size == 0:
        return "no", "empty"
    evidence = gather_evidence(
        url=url, meta=meta, text=text, anchors=anchor_list, title=title, tree=tree, decisive_only=True
    )
    if _ERROR_TITLE.search(meta.title_tag or "") and size < 150 and not evidence.declared_article:
        return "no", "error_page"
    if size < MIN_ARTICLE_SIZE:
        return "no", "too_short"
    if evidence.declared_article:
        return "yes", None
    if evidence.votes >= DROP_VOTES:
        path = urlsplit(url).path or "/"
        if _ABOUT_PATH.search(path):
            return "no", "about_page"
        return "no", "index_page" if path == "/" else "listing_page"
    if evidence.votes == DROP_VOTES - 1:
        return "uncertain", "+".join(evidence.signals)
    return "yes", None
