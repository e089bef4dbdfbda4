"""Main text: trafilatura first, readability as the second opinion, the saner one wins.

trafilatura keeps portal furniture on Chinese pages (navigation, related links, share
bars) and sometimes returns only a fragment; readability-lxml finds the densest block
but can drop a headline area or grab a comment thread. Both outputs go through the same
furniture filter, then :func:`choose_body` keeps trafilatura unless its text fails the
sanity checks (too short, mostly furniture, link lists) and readability's passes.
"""

from __future__ import annotations

import contextvars
import copy
import functools
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import trafilatura
import trafilatura.external
import trafilatura.utils
from lxml import etree
from lxml import html as lxml_html
from lxml.html import HtmlElement
from lxml_html_clean import Cleaner
from readability import Document as ReadabilityDocument
from readability.readability import REGEXES, Unparseable
from trafilatura.utils import load_html

from .boilerplate import remove_furniture
from .textlines import CJK, CJK_CHAR, element_lines, squeeze

logger = logging.getLogger(__name__)

_TOKEN = re.compile(rf"[{CJK}]|[^\W{CJK}]+")


@dataclass
class BodyCandidate:
    method: str
    text: str
    link_density: float = 0.0

    @property
    def size(self) -> int:
        return _text_size(self.text)


def mostly_cjk(lines: list[str]) -> bool:
    """Whether the visible text of a page is mainly Chinese (or Japanese/Korean) script."""
    sample = "".join(lines)[:5000]
    return len(CJK_CHAR.findall(sample)) > 0.3 * max(1, len(sample.replace(" ", "")))


def text_size(text: str) -> int:
    """Length in "words": CJK characters count one each, other words one each."""
    # one pass: a token is a CJK character or a run of other word characters
    return len(_TOKEN.findall(text))


# a candidate's size is asked for several times while choosing
_text_size = functools.lru_cache(maxsize=16)(text_size)


# cookie and consent dialogs, newsletter boxes: long prose that both extractors can take
# for the article when the real text is short
_OVERLAY_TOKENS = ("cookie", "consent", "gdpr", "onetrust")
_OVERLAY_TAGS = ("div", "section", "aside", "dialog", "form")
# the token must start a class or id word ("cookie-banner", not "filterNonGdprEmbeds")
_OVERLAY_NAME = re.compile(" (?:" + "|".join(_OVERLAY_TOKENS) + ")")
_ASCII_FOLD = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ-_", "abcdefghijklmnopqrstuvwxyz  ")
# the same names in the markup, before any parsing: a superset of what _OVERLAY_NAME finds
_OVERLAY_HINT = re.compile(r"(?:^|[\s\"'=_-])(?:" + "|".join(_OVERLAY_TOKENS) + ")", re.I)
_OVERLAY_TOKEN_BYTES = tuple(token.encode() for token in _OVERLAY_TOKENS)
# the only characters outside ASCII that an ignore-case match takes for a letter of the tokens
# (İ and ı for i, ſ for s, the Kelvin sign for k)
_CASE_TWINS = "\u0130\u0131\u017f\u212a"


def names_overlay(html: str) -> bool:
    """``_OVERLAY_HINT.search(html)``, at a fraction of its cost: the pattern opens on an
    alternation, so the regular expression engine tries it at every character of the page.
    Here the tokens are found in the page's UTF-8 bytes, lowered (ASCII letters only), and
    the character before each is looked at; a page holding one of the few other characters
    an ignore-case match accepts goes to the pattern itself."""
    if any(twin in html for twin in _CASE_TWINS):
        return _OVERLAY_HINT.search(html) is not None
    data = html.encode("utf-8", "surrogatepass").lower()
    for token in _OVERLAY_TOKEN_BYTES:
        at = data.find(token)
        while at >= 0:
            if at == 0 or _opens_name(data, at):
                return True
            at = data.find(token, at + 1)
    return False


def _opens_name(data: bytes, at: int) -> bool:
    """Whether the character before byte ``at`` (a token's first) is whitespace or one of
    ``"'=_-``, as ``[\\s"'=_-]`` says."""
    start = at - 1
    while data[start] & 0xC0 == 0x80:  # a continuation byte: back to the character's first
        start -= 1
    before = data[start:at].decode("utf-8", "surrogatepass")
    return before in "\"'=_-" or before.isspace()


_COOKIE_WORDS = re.compile(r"cookie|consent|隐私|privacy", re.I)


# trafilatura's parser (same options), with lxml's element classes chosen in C: lxml.html's
# lookup is a Python method called each time any code touches an element that has no Python
# object yet (a million times for 200 pages, in trafilatura's passes, readability's and ours);
# every element is an HtmlElement (lxml.html's form-field classes, which nothing here uses,
# are not made), so the tree reads the same
_PARSER = etree.HTMLParser(
    collect_ids=False, default_doctype=False, encoding="utf-8", remove_comments=True, remove_pis=True
)
_PARSER.set_element_class_lookup(
    etree.ElementDefaultClassLookup(
        element=HtmlElement,
        comment=lxml_html.HtmlComment,
        pi=lxml_html.HtmlProcessingInstruction,
        entity=lxml_html.HtmlEntity,
    )
)


def _fromstring_bytes(html: str) -> HtmlElement | None:
    """trafilatura's ``fromstring_bytes`` with :data:`_PARSER`."""
    try:
        return lxml_html.fromstring(html.encode("utf8", "surrogatepass"), parser=_PARSER)
    except Exception as exc:  # noqa: BLE001 - as trafilatura: any failure is "no tree"
        logger.debug("lxml parser bytestring %(error)s", {"error": exc})
    return None


def parse_page(html: str, *, xml_valid: bool = False) -> HtmlElement | None:
    """Parse a decoded page once, the way trafilatura parses it (comments and processing
    instructions dropped), so the one tree serves trafilatura, readability and our rules.
    ``None`` when trafilatura would not take it for HTML.

    ``xml_valid``: the caller has already removed the characters lxml refuses (trafilatura's
    ``INVALID_XML_CHARS``), so trafilatura's own removal, a scan of the whole page that then
    finds nothing, is skipped; the rest is ``load_html``'s code for a text, step by step."""
    if not xml_valid:
        tree = load_html(html)
        return tree if isinstance(tree, HtmlElement) else None
    beginning = html[:50].lower()
    if "doctype" in beginning:  # repair_faulty_html, without its INVALID_XML_CHARS pass
        firstline, _, rest = html.partition("\n")
        html = trafilatura.utils.DOCTYPE_TAG.sub("", firstline, count=1) + "\n" + rest
    for line in html[:4096].splitlines()[:4]:
        if "<html" in line and line.endswith("/>"):
            html = trafilatura.utils.FAULTY_HTML.sub(r"\1>", html, count=1)
            break
    fallback = False
    try:
        tree = lxml_html.fromstring(html, parser=_PARSER)
    except ValueError:  # a text with an encoding declaration: lxml wants bytes
        tree = _fromstring_bytes(html)
        fallback = True
    except Exception as exc:  # noqa: BLE001 - as load_html: any other failure is "no tree"
        logger.debug("lxml parsing failed: %(error)s", {"error": exc})
        tree = None
    if (tree is None or len(tree) < 1) and not fallback:
        tree = _fromstring_bytes(html)
    if tree is not None and trafilatura.utils.is_dubious_html(beginning) and len(tree) < 2:
        tree = None
    return tree if isinstance(tree, HtmlElement) else None


def _overlay_elements(tree: HtmlElement) -> list[HtmlElement]:
    found = []
    for element in tree.iter(_OVERLAY_TAGS):
        names = f" {element.get('class') or ''} {element.get('id') or ''}"
        if _OVERLAY_NAME.search(names.translate(_ASCII_FOLD)):
            found.append(element)
    return found


def _child_path(top: HtmlElement, element: HtmlElement) -> list[int]:
    """The child indexes that lead from ``top`` down to ``element`` (one of its descendants
    or itself): the same element in a deep copy of ``top``."""
    path: list[int] = []
    while element is not top:
        parent = element.getparent()
        path.append(parent.index(element))
        element = parent
    return path[::-1]


def without_overlays(tree: HtmlElement, html: str) -> HtmlElement:
    """``tree`` without cookie/consent/newsletter overlays: a copy when it has some, else ``tree``.

    ``html`` is the page's text, looked at first: most pages name no overlay at all, and a
    regular expression over the markup costs far less than a walk over every element.
    """
    if not names_overlay(html):
        return tree
    overlays = _overlay_elements(tree)
    if not overlays:
        return tree
    # each overlay found again in the copy by its child indexes, not by a second walk
    paths = [_child_path(tree, element) for element in overlays]
    cleaned = copy.deepcopy(tree)
    overlays = [functools.reduce(lambda node, index: node[index], path, cleaned) for path in paths]
    page_size = len(cleaned.text_content()) or 1
    for element in overlays:
        parent = element.getparent()
        text = element.text_content()
        # a wrapper that merely carries a "gdpr-ready" class holds the page: the overlay must
        # be small and talk about cookies itself
        if parent is not None and len(text) < 0.3 * page_size and _COOKIE_WORDS.search(text):
            parent.remove(element)
    return cleaned


# trafilatura's full cascade runs its own readability port (to compare with its own extraction);
# what that port found is recorded here while ``trafilatura_body`` runs, as a cheap estimate of
# what readability-lxml would say (``needs_second_opinion``)
_ESTIMATES: contextvars.ContextVar[list[BodyCandidate] | None] = contextvars.ContextVar(
    "readability_estimates", default=None
)


def _recording(try_readability: Callable[[HtmlElement], HtmlElement]) -> Callable[[HtmlElement], HtmlElement]:
    @functools.wraps(try_readability)
    def recorded(tree: HtmlElement) -> HtmlElement:
        summary = try_readability(tree)
        estimates = _ESTIMATES.get()
        if estimates is not None and not estimates:
            # flattened now: trafilatura may rework the summary into its own output afterwards
            estimates.append(_flattened("readability-estimate", summary))
        return summary

    recorded.__wrapped_by_newsarchive__ = True  # type: ignore[attr-defined]
    return recorded


if not getattr(trafilatura.external.try_readability, "__wrapped_by_newsarchive__", False):
    trafilatura.external.try_readability = _recording(trafilatura.external.try_readability)  # type: ignore[assignment]


def trafilatura_body(
    tree: HtmlElement | None, url: str, *, precise: bool = True, fast: bool = False
) -> tuple[BodyCandidate | None, Any, BodyCandidate | None]:
    """trafilatura's main text, its metadata document (``None`` when it found nothing) and
    what its readability port found on the way (``None`` when it did not run).

    ``precise`` asks trafilatura to favour precision: better on Western pages, while on
    Chinese portals it drops headline-area lines that readability then cannot bring back.
    ``fast`` skips trafilatura's comparison with its readability port and justext (a third
    of its time): readability-lxml, asked when :func:`needs_second_opinion` says so, is
    the comparison that counts here.
    """
    if tree is None:  # trafilatura does not take the page for HTML
        return None, None, None
    if precise:
        tree = _with_inline_spans_kept(tree)
    estimates: list[BodyCandidate] = []
    token = _ESTIMATES.set(estimates)
    try:
        # trafilatura works on its own copy of the tree: ours stays as it was
        document = trafilatura.bare_extraction(
            tree,
            url=url,
            with_metadata=True,
            include_comments=False,
            include_tables=True,
            favor_precision=precise,
            fast=fast,
        )
    finally:
        _ESTIMATES.reset(token)
    estimate = estimates[0] if estimates else None
    text = getattr(document, "text", None)
    if not text:
        return None, document, estimate
    return BodyCandidate("trafilatura", remove_furniture(untable(str(text)))), document, estimate


# readability's first scoring pass: a paragraph of this many characters or more counts
_DENSE_PARAGRAPH = 25


def densest_block(tree: HtmlElement | None) -> BodyCandidate | None:
    """A cheap estimate of readability's text: the element whose paragraphs readability's first
    scoring pass rates highest (per paragraph one point, one per comma, one per hundred characters
    up to three, the parent taking the score and the grandparent half of it), as a candidate.

    Stands in for trafilatura's readability port when trafilatura runs in fast mode: like the
    port's text, it tells :func:`needs_second_opinion` whether readability-lxml could say
    anything else than trafilatura. ``None`` when the page has no paragraph.
    """
    if tree is None:
        return None
    scores: dict[HtmlElement, float] = {}
    for paragraph in tree.iter("p", "pre", "td"):
        parent = paragraph.getparent()
        if parent is None:
            continue
        text = paragraph.text_content()
        length = len(text.strip())
        if length < _DENSE_PARAGRAPH:
            continue
        score = 2 + text.count(",") + min(length / 100, 3)
        scores[parent] = scores.get(parent, 0.0) + score
        grand_parent = parent.getparent()
        if grand_parent is not None:
            scores[grand_parent] = scores.get(grand_parent, 0.0) + score / 2
    if not scores:
        return None
    return _flattened("densest-block", max(scores, key=scores.__getitem__))


# a text of fewer words than this does not stand on its own (``choose_body``'s "substantial")
_SHORT_TEXT = 200


def trafilatura_with_estimate(
    tree: HtmlElement | None, url: str, *, cjk: bool
) -> tuple[BodyCandidate | None, Any, BodyCandidate | None]:
    """trafilatura's text, its metadata document and an estimate of readability's text, for
    :func:`needs_second_opinion`.

    On Western pages trafilatura runs in fast mode (no comparison with its readability port or
    justext) and :func:`densest_block` is the estimate; a missing text or one under 200 words is
    where that comparison finds the article trafilatura's own pass missed, so such a page is
    extracted again with the full cascade (and the port's text is the estimate). Chinese pages
    always get the full cascade: there its fast mode can keep a whole portal page, which
    readability's text inside it cannot replace (``choose_body`` trims only down to a fifth).
    """
    if cjk:
        return trafilatura_body(tree, url, precise=False)
    primary, document, _ = trafilatura_body(tree, url, precise=True, fast=True)
    if primary is None or primary.size < _SHORT_TEXT:
        return trafilatura_body(tree, url, precise=True)
    return primary, document, densest_block(tree)


# trafilatura's precision mode drops any span whose class or id is the word "link" or starts or
# ends with "bottom" (page chrome); inside a paragraph such a span is part of a sentence
# ("… has reported that <span class="link"><a>the NFL will fine Rudolph</a></span> for his role …")
_PRECISION_NAMES = r"(^|\s)link(\s|$)|(^|\s)bottom|bottom(\s|$)"
_INLINE_SPANS = etree.XPath(
    f".//p//span[re:test(@class, '{_PRECISION_NAMES}') or re:test(@id, '{_PRECISION_NAMES}')]",
    namespaces={"re": "http://exslt.org/regular-expressions"},
)


def _with_inline_spans_kept(tree: HtmlElement) -> HtmlElement:
    """``tree``, or a copy whose spans inside paragraphs lost the names that make trafilatura's
    precision mode drop them (most pages have none, and get no copy)."""
    if not _INLINE_SPANS(tree):
        return tree
    kept = copy.deepcopy(tree)
    for span in _INLINE_SPANS(kept):
        span.attrib.pop("class", None)
        span.attrib.pop("id", None)
    return kept


def untable(text: str) -> str:
    """trafilatura renders layout tables as ``| a | b |`` rows; one line per non-empty cell reads
    like the page and lets the line rules see each cell."""
    out: list[str] = []
    for line in text.split("\n"):
        if line.lstrip().startswith("|"):
            # a bar inside a cell is escaped (``\\|``): a menu's separators, cut like the cells'
            cells = (cell.strip().rstrip("\\").strip() for cell in line.split("|"))
            out.extend(cell for cell in cells if cell)
        else:
            out.append(line)
    return "\n".join(out)


# readability-lxml's own cleaner, without its javascript pass: that pass rewrites every link
# target and event attribute, which no extracted text ever shows, and costs a fifth of the run
_READABILITY_CLEANER = Cleaner(
    scripts=True,
    javascript=False,
    comments=True,
    style=True,
    links=True,
    meta=False,
    add_nofollow=False,
    page_structure=False,
    processing_instructions=True,
    embedded=False,
    frames=False,
    forms=False,
    annoying_tags=False,
    remove_unknown_tags=False,
    safe_attrs_only=False,
)


# what that cleaner kills (with their tails kept), and so all it looks for
_CLEANER_KILLS = ("script", "style", "link", etree.Comment, etree.ProcessingInstruction)


def _readability_clean(doc: HtmlElement) -> None:
    """``_READABILITY_CLEANER(doc)``: its steps for that configuration, in its order, with the
    elements to kill found by lxml's tag filter where the cleaner looked at every node of the
    tree in Python (same tree after: compared on the fixture pages)."""
    lxml_html.xhtml_to_html(doc)
    for element in doc.iter("image"):
        element.tag = "img"
    etree.strip_attributes(doc, "style")  # its inline_style, which follows style=True
    kill = [el for el in doc.iter(*_CLEANER_KILLS) if not _READABILITY_CLEANER.allow_element(el)]
    if kill and kill[0] == doc:  # the root itself cannot go: the cleaner empties it
        root = kill.pop(0)
        if root.tag != "html":
            root.tag = "div"
        root.clear()
    for element in kill:
        element.drop_tree()


# readability turns a <div> into a <p> unless its serialised children match this pattern
# (``divToPElementsRe``: a start tag beginning with one of these names)
_DIV_BLOCK_PREFIXES = ("blockquote", "dl", "div", "img", "ol", "p", "table", "ul")
_INLINE_TAGS = frozenset("a b cite code em font i small span strong sub sup u".split())


_SPACE_RUN = re.compile(r"\s{2,}")


def _run_length(run: str) -> int:
    """The length readability's ``clean`` leaves of a run of whitespace inside a text: a run
    holding a newline, or of 255 characters or more, becomes one character; otherwise each tab
    becomes a space and a space followed by spaces or tabs takes them all with it."""
    if len(run) >= 255 or "\n" in run:
        return 1
    if "\t" not in run and "  " not in run:
        return len(run)
    out = i = 0
    while i < len(run):
        if run[i] == " ":
            end = i
            while end < len(run) and run[end] in " \t":
                end += 1
            i = end if end - i >= 2 else i + 1
        else:
            i += 1
        out += 1
    return out


def _clean_length(text: str) -> int:
    """``len(clean(text))``: readability measures texts by their length after its whitespace
    clean-up, three substitutions whose first pattern (``\\s*\\n\\s*``) backtracks over every
    run of spaces; only runs of two or more characters change length, so only those are
    looked at (same figure: checked against ``clean`` on every element of the evaluation pages)."""
    stripped = text.strip()
    length = len(stripped)
    for run in _SPACE_RUN.findall(stripped):
        length -= len(run) - _run_length(run)
    return length


def _literal_words(pattern: re.Pattern[str]) -> tuple[str, ...] | None:
    """The words of a pattern that is only an alternation of lower-case ASCII words (``-``
    allowed); ``None`` for any other pattern."""
    if re.fullmatch(r"[a-z-]+(?:\|[a-z-]+)*", pattern.pattern) is None:
        return None
    return tuple(pattern.pattern.split("|"))


_UNLIKELY_WORDS = _literal_words(REGEXES["unlikelyCandidatesRe"])
_MAYBE_WORDS = _literal_words(REGEXES["okMaybeItsACandidateRe"])


@functools.lru_cache(maxsize=2048)
def _unlikely_names(names: str) -> bool:
    """readability's test of an element's "class id": a page repeats the same few names on
    hundreds of elements, and the two patterns are long alternations of words, searched
    ignoring case. On ASCII names that search is a word's presence in the lowered names, at a
    quarter of the cost; other names (where a Kelvin sign is a "k") go to the patterns."""
    if names.isascii() and _UNLIKELY_WORDS is not None and _MAYBE_WORDS is not None:
        lowered = names.lower()
        return any(word in lowered for word in _UNLIKELY_WORDS) and not any(
            word in lowered for word in _MAYBE_WORDS
        )
    unlikely, maybe = REGEXES["unlikelyCandidatesRe"], REGEXES["okMaybeItsACandidateRe"]
    return bool(unlikely.search(names)) and not maybe.search(names)


class _TreeReadability(ReadabilityDocument):  # type: ignore[misc]
    """readability-lxml reading a tree we parsed instead of parsing the page again.

    Two of its passes are redone here with the same result at a fraction of the cost: they
    looked at every element (or serialised every <div>'s children, for each enclosing
    <div> again) where one walk over the tree says the same."""

    def _parse(self, input: HtmlElement) -> HtmlElement:  # noqa: A002 - readability's name
        # each pass (readability retries once, less ruthless) starts from a fresh copy: the
        # shared tree is never touched
        doc = copy.deepcopy(input)
        self.encoding = "utf-8"
        for elem in doc.xpath("//*[@hidden]"):
            elem.drop_tree()
        for elem in doc.xpath("//*[@style]"):
            if REGEXES["displayNoneRe"].search(elem.get("style")):
                elem.drop_tree()
        _readability_clean(doc)
        doc.resolve_base_href(handle_failures=self.handle_failures)
        return doc

    def remove_unlikely_candidates(self) -> None:
        # readability reads "class id" and skips elements with neither: look at those only
        for elem in self.html.xpath(".//*[@class or @id]"):
            if (
                _unlikely_names(f"{elem.get('class', '')} {elem.get('id', '')}")
                and elem.tag not in ("html", "body")
                and not elem.xpath("ancestor-or-self::pre | ancestor-or-self::code")
                and not elem.xpath(
                    "descendant-or-self::main | descendant-or-self::article | descendant-or-self::math"
                )
            ):
                elem.drop_tree()

    def score_paragraphs(self) -> dict[HtmlElement, dict[str, Any]]:
        # readability-lxml 0.9's scoring, with each link's text measured once: it measured every
        # link again for each candidate holding it (the <body> and its big blocks hold them all),
        # and it built a debug line (the element described) for every candidate
        min_len = self.min_text_length
        candidates: dict[HtmlElement, dict[str, Any]] = {}
        ordered: list[HtmlElement] = []
        for elem in self.tags(self._html(), "p", "pre", "td", "blockquote"):
            parent_node = elem.getparent()
            if parent_node is None:
                continue
            grand_parent_node = parent_node.getparent()
            inner_text = elem.text_content() or ""
            inner_text_len = _clean_length(inner_text)
            if inner_text_len < min_len:
                continue
            if parent_node not in candidates:
                candidates[parent_node] = self.score_node(parent_node)
                ordered.append(parent_node)
            if grand_parent_node is not None and grand_parent_node not in candidates:
                candidates[grand_parent_node] = self.score_node(grand_parent_node)
                ordered.append(grand_parent_node)
            # the clean-up only touches whitespace: the commas are the text's own
            content_score = 1 + (inner_text.count(",") + 1) + min((inner_text_len / 100), 3)
            candidates[parent_node]["content_score"] += content_score
            if grand_parent_node is not None:
                candidates[grand_parent_node]["content_score"] += content_score / 2.0
        # nothing changes the tree while scoring: a link's length holds for every candidate
        link_lengths: dict[HtmlElement, int] = {}
        for elem in ordered:
            link_length = 0
            for link in elem.iterdescendants("a"):
                length = link_lengths.get(link)
                if length is None:
                    length = link_lengths[link] = _clean_length(link.text_content() or "")
                link_length += length
            density = float(link_length) / max(_clean_length(elem.text_content() or ""), 1)
            candidates[elem]["content_score"] *= 1 - density
        return candidates

    def get_link_density(self, elem: HtmlElement) -> float:
        link_length = sum(_clean_length(link.text_content() or "") for link in elem.findall(".//a"))
        return float(link_length) / max(_clean_length(elem.text_content() or ""), 1)

    def transform_misused_divs_into_paragraphs(self) -> None:
        # readability's first loop: a <div> with no block element below it becomes a <p>.
        # Each element marks its ancestors once, instead of serialising each <div>'s subtree.
        holds_block: set[HtmlElement] = set()
        for elem in self.html.iter():
            if isinstance(elem.tag, str) and elem.tag.lower().startswith(_DIV_BLOCK_PREFIXES):
                parent = elem.getparent()
                while parent is not None and parent not in holds_block:
                    holds_block.add(parent)
                    parent = parent.getparent()
        for elem in self.html.findall(".//div"):
            if elem not in holds_block:
                elem.tag = "p"
        # readability's second loop, as it is (readability-lxml 0.9's own code)
        for elem in self.html.findall(".//div"):
            children = list(elem)
            paragraph = None
            if elem.text and elem.text.strip():
                p = lxml_html.fragment_fromstring("<p/>")
                p.text = elem.text
                elem.text = None
                elem.insert(0, p)
                paragraph = p
            for child in children:
                if child.tag == "br":
                    paragraph = None
                    continue
                if child.tag not in _INLINE_TAGS or REGEXES["divToPElementsRe"].search(
                    etree.tounicode(child, method="html")
                ):
                    paragraph = None
                    continue
                if paragraph is None:
                    paragraph = lxml_html.fragment_fromstring("<p/>")
                    child.addprevious(paragraph)
                paragraph.append(child)
            for pos, child in reversed(list(enumerate(elem))):
                if child.tail and child.tail.strip():
                    p = lxml_html.fragment_fromstring("<p/>")
                    p.text = child.tail
                    child.tail = None
                    elem.insert(pos + 1, p)
                if child.tag == "br":
                    child.drop_tree()


def readability_body(tree: HtmlElement) -> BodyCandidate | None:
    """readability's main text, read from the shared tree (left as it was)."""
    try:
        summary = _TreeReadability(tree).summary(html_partial=True)
        if not summary:
            return None
        fragment = lxml_html.fragment_fromstring(summary, create_parent="div")
    except (Unparseable, etree.LxmlError, ValueError, TypeError, AssertionError) as exc:
        # lxml asserts when readability hands back a document without a <body>
        logger.debug("readability failed: %(error)s", {"error": exc})
        return None
    return _flattened("readability", fragment)


def _flattened(method: str, summary: HtmlElement) -> BodyCandidate:
    """A readability summary as a candidate: its lines, furniture removed, and link density."""
    links = sum(len(a.text_content()) for a in summary.iter("a"))
    total = len(summary.text_content()) or 1
    text = remove_furniture("\n".join(element_lines(summary)))
    return BodyCandidate(method, text, links / total)


def _tokens(text: str) -> list[str]:
    return _TOKEN.findall(text)


@functools.lru_cache(maxsize=16)
def shingles(text: str, n: int = 4) -> frozenset[str]:
    """The windows of ``n`` tokens of ``text``, each as its tokens joined by a space: no token
    holds one, so two windows are the same string only when they are the same tokens, and
    a string keeps its hash where a tuple's is computed again at every set operation."""
    # cached: choose_body compares the same two texts (and their paragraphs) several ways
    tokens = _tokens(text)
    if len(tokens) < n:  # one short shingle: the whole text
        return frozenset((" ".join(tokens),))
    return frozenset(map(" ".join, zip(*(tokens[i:] for i in range(n)), strict=False)))


@functools.lru_cache(maxsize=16)
def _paragraphs(text: str) -> str:
    """The lines of ``text`` of 25 words or more (``text`` itself when it has none)."""
    # a line of under 25 characters holds under 25 words: only longer ones are counted
    return "\n".join(line for line in text.split("\n") if len(line) >= 25 and text_size(line) >= 25) or text


@functools.lru_cache(maxsize=16)
def coverage(of: str, by: str) -> float:
    """Share of the paragraph shingles of ``of`` that ``by`` also contains."""
    wanted = shingles(_paragraphs(of))
    if not wanted:
        return 0.0
    return len(wanted & shingles(by)) / len(wanted)


def list_share(text: str) -> float:
    """Share of lines that trafilatura rendered as list items (``- …``)."""
    lines = [line for line in text.split("\n") if line.strip()]
    return sum(1 for line in lines if line.startswith("- ")) / len(lines) if lines else 0.0


def topic_share(text: str, topic: str) -> float:
    """Share of the words (CJK characters) of ``topic`` that ``text`` uses."""
    wanted = set(_tokens(topic.lower()))
    return len(wanted & set(_tokens(text.lower()))) / len(wanted) if wanted else 0.0


def choose_body(
    primary: BodyCandidate | None, second: BodyCandidate | None, *, trim: bool = True, topic: str = ""
) -> BodyCandidate | None:
    """Keep trafilatura unless it is missing, a fragment, or readability says the same with less noise.

    ``trim``: whether readability's shorter text may replace trafilatura's when it lies inside
    it — right where trafilatura keeps portal furniture, wrong where it already favours precision.
    ``topic``: the page's headline and description, the arbiter when the two texts share nothing.
    """
    if primary is None or not primary.text.strip():
        return second
    if second is None or not second.text.strip() or second.link_density > 0.3:
        return primary
    p, s = primary.size, second.size
    if p < 0.4 * s and s >= 50:
        if topic and coverage(primary.text, second.text) < 0.2 and coverage(second.text, primary.text) < 0.2:
            # two different texts (an article and a donation box): the one about the headline wins
            return second if topic_share(second.text, topic) > topic_share(primary.text, topic) else primary
        # trafilatura kept a fragment (an intro, a caption) of a longer article
        return second
    if p < 0.6 * s and second.link_density < 0.2 and coverage(primary.text, second.text) >= 0.95:
        # readability has all of trafilatura's text and more paragraphs around it
        return second
    if list_share(primary.text) > 0.5 and s >= 50 and (trim or coverage(primary.text, second.text) < 0.8):
        # trafilatura took a link list (a "most read" box) for the article
        return second
    # a few hundred words stand on their own; Chinese needs more characters for the same
    substantial = 1500 if len(CJK_CHAR.findall(second.text)) > 0.5 * s else 200
    inside = coverage(second.text, primary.text) >= 0.85
    # without trimming, only a trafilatura text that is largely something else is given up
    worth_it = trim or coverage(primary.text, second.text) < 0.75
    shorter = s < (0.97 if trim else 0.9) * p
    if worth_it and (0.2 * p <= s or s >= substantial) and 100 <= s and shorter and inside:
        # readability's text is inside trafilatura's, which adds furniture around it
        return second
    return primary


# readability-lxml is only asked when an estimate of its text leaves the choice open
_ESTIMATE_RANGE = (0.5, 1.1)  # the estimate's size, relative to trafilatura's, that settles it
_ESTIMATE_INSIDE = 0.9  # share of the estimate's paragraphs that trafilatura's text must hold
# an estimate with more of its text in links than this asks readability-lxml, which drops
# link-heavy blocks that neither estimate drops (``choose_body``'s own bound for such a text)
_ESTIMATE_LINKS = 0.2


def needs_second_opinion(
    primary: BodyCandidate | None, estimate: BodyCandidate | None, *, trim: bool = True, topic: str = ""
) -> bool:
    """Whether readability-lxml must run, or an estimate of its text already settles
    :func:`choose_body` for trafilatura's text.

    The estimate is trafilatura's readability port (run inside trafilatura's full cascade) or
    :func:`densest_block` (beside its fast mode): a part of what readability-lxml finds, or more
    than it keeps, so it only settles the choice when it says the same as trafilatura —
    ``choose_body`` keeps trafilatura against it, its size is about trafilatura's (half to
    1.1×; much less says the estimate failed, more says readability may find more still), and
    trafilatura's text holds nearly all of its paragraphs. Anything else (no trafilatura text,
    no estimate, a link-heavy one) asks readability-lxml.
    """
    if (
        primary is None
        or not primary.text.strip()
        or estimate is None
        or estimate.link_density > _ESTIMATE_LINKS
    ):
        return True
    # the cheap test first: sizes are counted once, shingles are not
    low, high = _ESTIMATE_RANGE
    if not low * primary.size <= estimate.size <= high * primary.size:
        return True
    if choose_body(primary, estimate, trim=trim, topic=topic) is not primary:
        return True
    return coverage(estimate.text, primary.text) < _ESTIMATE_INSIDE


_SPACES = re.compile(r"\s+")


def _squeezed(text: str) -> str:
    return _SPACES.sub(" ", text).strip()


def without_other_articles(text: str, tree: HtmlElement) -> str:
    """``text`` without the lines that belong to other ``<article>`` elements than the headline's.

    A blog or magazine page marks its story up as one ``<article>`` (holding the ``<h1>``) and
    the "you may like" teasers under it as further ``<article>`` elements, each with its own
    paragraph: both methods can take those paragraphs for more of the story. Only when the
    headline's ``<article>`` holds the text's first paragraph (it is the story, not a featured
    teaser of another page) are lines that only other articles hold dropped. Pages without
    ``<article>`` markup (most older ones) are left as they are.
    """
    articles = list(tree.iter("article"))
    if len(articles) < 2:
        return text
    main = next(
        (
            article
            for h1 in tree.iter("h1")
            if _squeezed(h1.text_content())
            for article in h1.iterancestors("article")
        ),
        None,
    )
    if main is None:
        return text
    related = set(main.iterancestors("article")) | set(main.iterdescendants("article")) | {main}
    others = [_squeezed(article.text_content()) for article in articles if article not in related]
    lines = text.split("\n")
    paragraphs = [_squeezed(line) for line in lines if len(_squeezed(line)) >= 20]
    own = _squeezed(main.text_content())
    if not others or not paragraphs or paragraphs[0] not in own:
        return text
    kept = [
        line
        for line in lines
        if len(_squeezed(line)) < 20
        or _squeezed(line) in own
        or not any(_squeezed(line) in other for other in others)
    ]
    return "\n".join(kept)


_PROSE_SIZE = 25  # words (CJK characters) of a paragraph of running text
_PROSE_GAP = 2  # short lines (a caption, a subheading) a block of paragraphs may hold
_MIN_PROSE_BLOCK = 100
_MENU_SHARE = 0.5


def _is_paragraph(line: str) -> bool:
    return text_size(line) >= _PROSE_SIZE and bool(re.search(r"[。！？.!?，,；;]", line))


def prose_block(lines: list[str]) -> str:
    """The page's largest block of running text: paragraphs one after another, with at most
    two short lines between them; empty when no block reaches a hundred words."""
    best: tuple[int, int, int] = (0, 0, 0)  # size, first line, last line
    start = last = -1
    size = 0
    for i, line in enumerate(lines):
        if not _is_paragraph(line):
            if start >= 0 and i - last > _PROSE_GAP:
                start = -1
            continue
        if start < 0:
            start, size = i, 0
        last = i
        size += text_size(line)
        if size > best[0]:
            best = (size, start, last)
    size, first, final = best
    return "\n".join(lines[first : final + 1]) if size >= _MIN_PROSE_BLOCK else ""


def linked_share(text: str, links: set[str]) -> float:
    """Share of ``text``'s characters (whitespace aside) inside the page's link texts, a line
    of several menu items run together (``首页黑龙江民生国内…``) included."""
    keys = sorted((key for key in links if len(key) >= 2), key=len, reverse=True)
    total = covered = 0
    for line in text.split("\n"):
        rest = squeeze(line)
        total += len(rest)
        for key in keys:
            if key in rest:
                covered += len(key) * rest.count(key)
                rest = rest.replace(key, "")
    return covered / total if total else 0.0


def with_prose(text: str, page_lines: list[str], links: set[str]) -> str:
    """``text``, unless it holds no paragraph and is mostly the page's link texts (both
    extractors took a menu for the article, as on broken table layouts) while the page has a
    block of running text: then that block, furniture removed."""
    if any(_is_paragraph(line) for line in text.split("\n")) or linked_share(text, links) < _MENU_SHARE:
        return text
    block = remove_furniture(prose_block(page_lines))
    return block if text_size(block) >= _MIN_PROSE_BLOCK else text
