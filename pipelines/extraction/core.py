"""``extract_article``: bytes in, an :class:`Article` (or a reason it is none) out.

Stages: decode → parse → page metadata → main text (two methods, the saner wins) →
furniture removal → fields (title, author, source, date, tags) → article-or-not.
Selectors from a site profile override the automatic result for the fields they name.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass

from lxml import etree
from lxml import html as lxml_html

from core.items import Article

from .body import (
    choose_body,
    mostly_cjk,
    needs_second_opinion,
    parse_page,
    readability_body,
    trafilatura_with_estimate,
    with_prose,
    without_other_articles,
    without_overlays,
)
from .boilerplate import first_post_only, remove_furniture, without_headline, without_link_edges
from .classify import classify_page
from .decode import decode_html
from .fields import resolve_fields
from .metadata import read_page_meta
from .overrides import apply_selectors
from .textlines import element_lines, squeeze

logger = logging.getLogger(__name__)

EXTRACTOR_VERSION = "2026.12.03"

_HTML_TYPES = ("text/html", "application/xhtml+xml", "text/plain", "application/xml", "text/xml")
_WRAPPER = re.compile(r"^\s*<text\b[^>]*>\s*", re.I)
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f]")
_XML_INVALID = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
# the same control characters as bytes: in UTF-8 they stand for themselves only
_XML_INVALID_BYTES = bytes([*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20)])


@dataclass
class ExtractionResult:
    """The outcome of one extraction; ``reason`` says why it is not (fully) an article."""

    article: Article | None
    is_article: bool
    reason: str | None = None


def extract_article(
    body: bytes,
    url: str,
    *,
    http_charset: str | None = None,
    content_type: str | None = None,
    selectors: Mapping[str, str] | None = None,
) -> ExtractionResult:
    """Extract one article from a response body. Never raises on bad input."""
    if content_type and not content_type.split(";")[0].strip().lower().startswith(_HTML_TYPES):
        return ExtractionResult(None, False, "not_html")
    if not body or not body.strip():
        return ExtractionResult(None, False, "empty")
    if b"\x00" in body[:2048] or len(_CONTROL.findall(body[:4096].decode("latin-1"))) > 20:
        return ExtractionResult(None, False, "not_html")
    try:
        return _extract(body, url, http_charset, selectors or {})
    except (etree.LxmlError, ValueError, TypeError, RecursionError) as exc:
        # broken markup must not stop a crawl; the pipeline counts the reason
        logger.warning("Extraction failed for %(url)s: %(error)s", {"url": url, "error": exc})
        return ExtractionResult(None, False, "unparseable")


def _xml_valid(text: str) -> str:
    """``text`` without the characters lxml refuses (``_XML_INVALID``). Most pages hold none,
    which a byte-level test of their UTF-8 says in a third of the pattern's scan."""
    data = text.encode("utf-8", "surrogatepass")
    if "\ufffe" in text or "\uffff" in text or len(data.translate(None, _XML_INVALID_BYTES)) != len(data):
        return _XML_INVALID.sub("", text)
    return text


def _extract(
    body: bytes, url: str, http_charset: str | None, selectors: Mapping[str, str]
) -> ExtractionResult:
    # lxml refuses control characters; a stray one must not lose the page
    decoded = _xml_valid(decode_html(body, http_charset))
    wrapper = _WRAPPER.match(decoded)
    html = decoded[wrapper.end() :] if wrapper else decoded
    if "<" not in html:
        return ExtractionResult(None, False, "not_html")
    parsed = parse_page(html, xml_valid=True)
    # trafilatura reads ``parsed`` as it is (maybe just the body's one child of a fragment);
    # our rules read the whole document it belongs to
    tree = parsed.getroottree().getroot() if parsed is not None else lxml_html.document_fromstring(html)
    page_lines = element_lines(tree.body if tree.find("body") is not None else tree)
    meta = read_page_meta(tree)
    if wrapper and not meta.title_tag:
        # corpus dumps keep the page title on the <text title=…> wrapper
        meta.title_tag = lxml_html.fromstring(wrapper.group(0) + "</text>").get("title")

    cleaned = without_overlays(parsed, html) if parsed is not None else None
    cjk = mostly_cjk(page_lines)
    primary, document, estimate = trafilatura_with_estimate(cleaned, url, cjk=cjk)
    topic = " ".join(filter(None, [meta.title_tag, meta.get("description", "og:description")]))
    if needs_second_opinion(primary, estimate, trim=cjk, topic=topic):
        second = readability_body(cleaned if cleaned is not None else tree)
        chosen = choose_body(primary, second, trim=cjk, topic=topic)
    else:
        # readability's estimate agrees with trafilatura's text: readability-lxml would too
        chosen = primary
    # both methods found nothing: the page's own visible text is better than an empty article
    text = chosen.text if chosen else remove_furniture("\n".join(page_lines))
    text = without_other_articles(text, tree)
    anchors = [a.text_content() for a in tree.iter("a")]
    # menus kept at the edges, further posts of a blog page, a menu taken for the article: not
    # the article, yet the classifier judges the page on what the extractors saw (a menu is a
    # listing's mark, and a listing's one paragraph of prose is no article)
    full_text = text
    links = {squeeze(a) for a in anchors if a.strip()}
    text = first_post_only(without_link_edges(text, links), page_lines)
    text = with_prose(text, page_lines, links)

    article = Article(url=url, text=text, extractor_version=EXTRACTOR_VERSION)
    resolve_fields(article, meta=meta, document=document, page_lines=page_lines)
    article.text = without_headline(article.text, article.title)
    apply_selectors(article, tree, selectors)

    trimmed = full_text != text and "body" not in selectors
    verdict, reason = classify_page(
        url=url,
        meta=meta,
        text=without_headline(full_text, article.title) if trimmed else article.text,
        anchors=anchors,
        title=article.title,
        tree=tree,
    )
    is_article = verdict != "no"
    article.is_article = verdict
    if not article.text.strip():
        return ExtractionResult(article if article.title else None, False, reason or "empty")
    # not an article, but the text is handed back: the caller decides what to keep
    return ExtractionResult(article, is_article, reason)
