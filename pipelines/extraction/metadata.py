"""Metadata a page states about itself: ``<meta>``, Open Graph, JSON-LD, ``<title>``, ``<h1>``."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from lxml import etree
from lxml import html as lxml_html

ARTICLE_TYPES = frozenset(
    {
        "article",
        "newsarticle",
        "reportagenewsarticle",
        "blogposting",
        "analysisnewsarticle",
        "opinionnewsarticle",
        "reviewnewsarticle",
        "backgroundnewsarticle",
        "socialmediaposting",
        "liveblogposting",
        "report",
        "scholarlyarticle",
        "techarticle",
    }
)
_DATE_KEYS = (
    "article:published_time",
    "og:article:published_time",
    "datepublished",
    "publishdate",
    "pubdate",
    "publish-date",
    "publish_date",
    "dc.date.issued",
    "dc.date",
    "dcterms.created",
    "sailthru.date",
    "parsely-pub-date",
    "date",
    "article.published",
    "published_time",
    "og:published_time",
    "og:release_date",
    "publishtime",
    "firstpublishedtime",
    "weibo: article:create_at",
)
_MODIFIED_KEYS = (
    "article:modified_time",
    "og:updated_time",
    "datemodified",
    "dc.date.modified",
    "dcterms.modified",
    "last-modified",
    "lastmod",
)
_AUTHOR_KEYS = (
    "citation_author",
    "citation_authors",
    "author",
    "article:author",
    "dc.creator",
    "parsely-author",
    "sailthru.author",
    "byl",
    "byline",
)


@dataclass
class PageMeta:
    """What the markup says, before any cleaning."""

    meta: dict[str, str] = field(default_factory=dict)
    jsonld: list[dict[str, Any]] = field(default_factory=list)
    title_tag: str | None = None
    h1: list[str] = field(default_factory=list)
    headings: list[str] = field(default_factory=list)  # h1-h3 texts, in page order
    canonical: str | None = None
    language: str | None = None
    time_stamps: list[str] = field(default_factory=list)  # ``<time datetime>`` values, in order

    def get(self, *keys: str) -> str | None:
        for key in keys:
            value = self.meta.get(key)
            if value:
                return value
        return None

    @property
    def article_ld(self) -> dict[str, Any] | None:
        for node in self.jsonld:
            if _types(node) & ARTICLE_TYPES:
                return node
        return None

    @property
    def ld_types(self) -> set[str]:
        found: set[str] = set()
        for node in self.jsonld:
            found |= _types(node)
        return found

    @property
    def site_name(self) -> str | None:
        name = self.get("og:site_name", "application-name", "twitter:app:name:iphone")
        if name:
            return name
        for node in self.jsonld:
            publisher = node.get("publisher")
            if isinstance(publisher, dict) and isinstance(publisher.get("name"), str):
                return str(publisher["name"])
        return None

    @property
    def publisher(self) -> str | None:
        for node in self.jsonld:
            publisher = node.get("publisher")
            if isinstance(publisher, dict) and isinstance(publisher.get("name"), str):
                return str(publisher["name"])
        return self.get("article:publisher", "publisher")

    @property
    def published(self) -> str | None:
        ld = self.article_ld
        if ld and isinstance(ld.get("datePublished"), str):
            return str(ld["datePublished"])
        return self.get(*_DATE_KEYS)

    @property
    def modified(self) -> str | None:
        ld = self.article_ld
        if ld and isinstance(ld.get("dateModified"), str):
            return str(ld["dateModified"])
        return self.get(*_MODIFIED_KEYS)

    @property
    def authors(self) -> list[str]:
        ld = self.article_ld
        names = _ld_names(ld.get("author")) if ld else []
        if names:
            return names
        value = self.get(*_AUTHOR_KEYS)
        if value and not value.startswith("http"):
            return [value]
        return []


def _types(node: dict[str, Any]) -> set[str]:
    raw = node.get("@type")
    values = raw if isinstance(raw, list) else [raw]
    return {str(v).lower() for v in values if v}


def _ld_names(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value] if not value.startswith("http") else []
    if isinstance(value, dict):
        name = value.get("name")
        return _ld_names(name) if name else []
    if isinstance(value, list):
        return [name for item in value for name in _ld_names(item)]
    return []


def _flatten_ld(data: Any) -> list[dict[str, Any]]:
    if isinstance(data, list):
        return [node for item in data for node in _flatten_ld(item)]
    if isinstance(data, dict):
        nodes = [data]
        if "@graph" in data:
            nodes.extend(_flatten_ld(data["@graph"]))
        return nodes
    return []


def _text(element: Any) -> str:
    return re.sub(r"\s+", " ", element.text_content() or "").strip()


_HEADINGS = etree.XPath("//body//h1 | //body//h2 | //body//h3")


def read_page_meta(tree: lxml_html.HtmlElement) -> PageMeta:
    """Collect the page's own metadata from a parsed document."""
    page = PageMeta()
    for node in tree.iter("meta"):
        key = (node.get("property") or node.get("name") or node.get("itemprop") or "").strip().lower()
        content = (node.get("content") or "").strip()
        if key and content and key not in page.meta:
            page.meta[key] = content
    for script in tree.xpath('//script[contains(translate(@type, "LDJSON", "ldjson"), "ld+json")]'):
        raw = (script.text or "").strip()
        try:
            page.jsonld.extend(_flatten_ld(json.loads(raw)))
        except (json.JSONDecodeError, ValueError):
            continue
    titles = tree.xpath("//title")
    if titles:
        page.title_tag = _text(titles[0]) or None
    # one union of name tests (the same node-set as a predicate on every element, at half the
    # cost); the <h1> elements are among them, in the same document order
    headings = [(h.tag, _text(h)) for h in _HEADINGS(tree)]
    page.h1 = [text for tag, text in headings if tag == "h1" and text][:5]
    page.headings = [text for _tag, text in headings if text][:30]
    page.time_stamps = [str(v).strip() for v in tree.xpath("//body//time/@datetime")[:20]]
    for link in tree.xpath('//link[@rel="canonical"][@href]'):
        page.canonical = link.get("href")
        break
    if page.canonical is None:
        page.canonical = page.get("og:url")
    lang = tree.get("lang") or tree.get("xml:lang") or page.get("og:locale", "content-language", "language")
    page.language = lang.strip().lower().replace("_", "-") if lang else None
    return page
