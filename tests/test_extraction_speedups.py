"""The extraction's faster paths give what the plain ones give, on the real pages in
tests/fixtures/pages: readability's text lengths and scores, and the text lines of a tree."""

from __future__ import annotations

import copy
import random
from pathlib import Path
from typing import Any

import pytest
import trafilatura
from lxml import etree
from lxml.html import HtmlElement, fragment_fromstring, xhtml_parser
from readability import Document as ReadabilityDocument
from readability.readability import REGEXES, clean

from pipelines.extraction.body import (
    _COOKIE_WORDS,
    _ESTIMATES,
    _OVERLAY_HINT,
    _READABILITY_CLEANER,
    _clean_length,
    _overlay_elements,
    _paragraphs,
    _readability_clean,
    _tokens,
    _TreeReadability,
    _unlikely_names,
    choose_body,
    coverage,
    mostly_cjk,
    names_overlay,
    needs_second_opinion,
    parse_page,
    readability_body,
    shingles,
    trafilatura_body,
    trafilatura_with_estimate,
    without_overlays,
)
from pipelines.extraction.boilerplate import fold
from pipelines.extraction.core import _XML_INVALID, _xml_valid
from pipelines.extraction.decode import decode_html
from pipelines.extraction.metadata import _text as _meta_text
from pipelines.extraction.metadata import read_page_meta
from pipelines.extraction.textlines import (
    _BLOCK_TAGS,
    _SKIP_TAGS,
    _SPACES,
    _TRADITIONAL,
    FOLD_TRADITIONAL,
    _walked_text,
    element_lines,
)

PAGES = sorted((Path(__file__).parent / "fixtures" / "pages").glob("*.html"))


def _tree(path: Path) -> HtmlElement:
    tree = parse_page(decode_html(path.read_bytes(), None))
    assert tree is not None
    return tree


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "plain words",
        "  lead and trail\t",
        "a \t\t b",  # a tab alone is one space each; a space before tabs takes them all
        "a\t \tb",
        "a \t b\t \t c\t",
        "x\n\n   y",
        " a  \n  b \t c\t\t ",
        "a\r\n\r\nb",
        "a \x0b\x0c  b",
        "a \u3000 \u3000 b",
        "x" + " \xa0" * 200 + "y",  # a run of 255 or more: one character, whatever it holds
        "x" + "\xa0" * 300 + "y",
        "x" + "\t" * 254 + "y",
    ],
)
def test_clean_length_is_readabilitys(text: str) -> None:
    assert _clean_length(text) == len(clean(text))


@pytest.mark.slow  # readability's own clean-up is the slow part (~20 s)
def test_clean_length_is_readabilitys_on_every_element_of_the_fixture_pages() -> None:
    checked = 0
    for path in PAGES:
        for element in _tree(path).iter():
            if isinstance(element.tag, str):
                text = element.text_content()
                assert _clean_length(text) == len(clean(text)), (path.name, element.tag)
                checked += 1
    assert checked > 10_000


def _prepared(tree: HtmlElement) -> _TreeReadability:
    """A readability document at the point where it scores paragraphs."""
    document = _TreeReadability(tree)
    document._html(True)
    document.remove_unlikely_candidates()
    document.transform_misused_divs_into_paragraphs()
    return document


def _scores(candidates: dict[Any, dict[str, Any]]) -> list[tuple[Any, float]]:
    return [(elem, candidate["content_score"]) for elem, candidate in candidates.items()]


@pytest.mark.parametrize("path", PAGES, ids=[p.stem for p in PAGES])
def test_readability_scores_are_readability_lxmls(path: Path) -> None:
    document = _prepared(_tree(path))
    ours = document.score_paragraphs()
    theirs = ReadabilityDocument.score_paragraphs(document)
    assert _scores(ours) == _scores(theirs)
    for elem in list(ours)[:50]:
        assert document.get_link_density(elem) == ReadabilityDocument.get_link_density(document, elem)


def _reference_lines(element: Any) -> list[str]:
    """element_lines as first written: a recursive walk, each line cleaned on its own."""
    out: list[str] = []

    def walk(node: Any) -> None:
        tag = node.tag if isinstance(node.tag, str) else ""
        if tag in _SKIP_TAGS or not isinstance(node.tag, str):
            if node.tail:
                out.append(node.tail)
            return
        if tag in _BLOCK_TAGS:
            out.append("\n")
        if node.text:
            out.append(node.text)
        for child in node:
            walk(child)
        if tag in _BLOCK_TAGS:
            out.append("\n")
        if node.tail:
            out.append(node.tail)

    walk(element)
    lines = (_SPACES.sub(" ", line).strip() for line in "".join(out).split("\n"))
    return [line for line in lines if line]


@pytest.mark.parametrize("path", PAGES, ids=[p.stem for p in PAGES])
def test_element_lines_are_the_recursive_walks(path: Path) -> None:
    tree = _tree(path).getroottree().getroot()
    assert element_lines(tree) == _reference_lines(tree)
    # any element, comments and scripts (their tails kept) included
    for element in list(tree.iter())[::7]:
        assert element_lines(element) == _reference_lines(element)


@pytest.mark.parametrize(
    "text",
    ["", "a", "a b c", "a b c d", "a b c d e f", "中国经济", "中国经济好转", "x y 中 z w v u", "a a a a a"],
)
def test_shingles_are_the_sliding_windows(text: str) -> None:
    tokens = _tokens(text)
    plain = frozenset(tuple(tokens[i : i + 4]) for i in range(max(1, len(tokens) - 4 + 1)))
    assert shingles(text) == frozenset(" ".join(window) for window in plain)
    assert len(shingles(text)) == len(plain)
    assert not any(" " in token or not token for token in tokens)  # joined windows stay distinct


def _tuple_coverage(of: str, by: str) -> float:
    """``coverage`` over windows kept as tuples of tokens."""

    def windows(text: str) -> frozenset[tuple[str, ...]]:
        tokens = _tokens(text)
        return frozenset(tuple(tokens[i : i + 4]) for i in range(max(1, len(tokens) - 4 + 1)))

    wanted = windows(_paragraphs(of))
    return len(wanted & windows(by)) / len(wanted) if wanted else 0.0


@pytest.mark.parametrize("path", PAGES[::4], ids=[p.stem for p in PAGES[::4]])
def test_coverage_is_over_the_token_windows(path: Path) -> None:
    """The joined windows count what tuples of tokens count, between the texts the page's two
    methods find, their paragraphs, and pieces of them (a text with fewer than four tokens too)."""
    tree = _tree(path)
    primary, _document, _estimate = trafilatura_body(tree, "https://example.com/a")
    second = readability_body(tree)
    texts = [c.text for c in (primary, second) if c is not None]
    texts += [text[: len(text) // 3] for text in texts] + ["中国经济", "a b"]
    for of in texts:
        for by in texts:
            assert coverage(of, by) == _tuple_coverage(of, by)


@pytest.mark.parametrize("path", PAGES, ids=[path.stem for path in PAGES])
def test_second_opinion_skipped_only_when_it_would_not_win(path: Path) -> None:
    """Where the estimate (trafilatura's readability port, or the densest block beside its fast
    mode) settles the choice, readability-lxml would have left trafilatura's text in place too."""
    tree = _tree(path)
    cjk = mostly_cjk(element_lines(tree))
    primary, _document, estimate = trafilatura_with_estimate(tree, "https://example.com/a", cjk=cjk)
    if not needs_second_opinion(primary, estimate, trim=cjk):
        assert choose_body(primary, readability_body(tree), trim=cjk) is primary


def test_the_estimate_follows_the_page() -> None:
    """Chinese pages and short texts get trafilatura's full cascade and its port's estimate;
    a Western page whose fast-mode text stands on its own gets the densest block."""
    methods = {}
    for path in PAGES:
        tree = _tree(path)
        cjk = mostly_cjk(element_lines(tree))
        _primary, _document, estimate = trafilatura_with_estimate(tree, "https://example.com/a", cjk=cjk)
        if estimate is None:
            continue
        methods[path.stem] = estimate.method
        fast, _document, _none = trafilatura_body(tree, "https://example.com/a", fast=True)
        if cjk or fast is None or fast.size < 200:
            assert estimate.method == "readability-estimate", path.stem
        else:
            assert estimate.method == "densest-block", path.stem
    assert {"readability-estimate", "densest-block"} <= set(methods.values())


def test_fast_mode_skips_the_port() -> None:
    """trafilatura's fast mode runs no readability port: nothing is recorded."""
    tree = _tree(next(path for path in PAGES if path.stem.startswith("en_")))
    _primary, _document, estimate = trafilatura_body(tree, "https://example.com/a", fast=True)
    assert estimate is None


def test_port_is_recorded_only_inside_trafilatura_body() -> None:
    tree = _tree(PAGES[0])
    # a plain trafilatura call elsewhere (the bench's baseline) records nothing and is unchanged
    assert trafilatura.bare_extraction(tree, url="https://example.com/a") is not None
    assert _ESTIMATES.get() is None


def test_names_overlay_is_the_hint_pattern() -> None:
    """The byte search says what the pattern says: on the fixture pages, and on random
    strings of the tokens in any case beside every kind of character before them (ASCII and
    Unicode whitespace, the quote and separator characters, other letters, CJK, an emoji, a
    lone surrogate, and the non-ASCII characters an ignore-case match takes for a letter)."""
    for path in PAGES:
        html = decode_html(path.read_bytes(), None)
        assert names_overlay(html) == (_OVERLAY_HINT.search(html) is not None), path.stem
    rng = random.Random(11)
    alphabet = list("cookiensgdprtuCOOKIEGDPR \t\n\x1c\"'=_-.x\xa0\u2003\u3000中é\U0001f600\ud800")
    twins = list("\u0130\u0131\u017f\u212a")
    for _ in range(20000):
        chars = [rng.choice(alphabet + twins * (rng.random() < 0.1)) for _ in range(rng.randint(0, 12))]
        text = "".join(chars)
        for token in ("cookie", "consent", "gdpr", "onetrust"):
            if rng.random() < 0.3:
                at = rng.randint(0, len(text))
                cased = "".join(c.upper() if rng.random() < 0.5 else c for c in token)
                text = text[:at] + cased + text[at:]
        assert names_overlay(text) == (_OVERLAY_HINT.search(text) is not None), repr(text)


@pytest.mark.parametrize(
    "text",
    ["", "plain <p>text</p>\n\t\r", "中文\u3000页面", "\ud800 lone", "a\ufffeb\uffffc"]
    + [f"x{chr(c)}y中" for c in range(0x20)],
)
def test_xml_valid_is_the_pattern(text: str) -> None:
    assert _xml_valid(text) == _XML_INVALID.sub("", text)


def test_element_lines_beyond_the_stylesheets_reach() -> None:
    """Where libxslt cannot walk a tree as the Python walk does, the walk answers: a tree
    nested deeper than libxslt's template depth, and a document root with a sibling root."""
    root = fragment_fromstring("<div>top</div>")
    node = root
    for i in range(5000):
        node = etree.SubElement(node, "div" if i % 2 else "span")
        node.text, node.tail = f"t{i}", "x"
    assert element_lines(root) == _walked_lines(root)
    assert element_lines(root)[:2] == ["topt0", "t1t2"]
    # trafilatura's parse of a page that closes its <html> and opens another
    doc = parse_page("<html><body><p>a</p></body></html><html><body><p>b</p></body></html>")
    assert doc is not None
    root = doc.getroottree().getroot()
    assert root.getnext() is not None
    assert element_lines(root) == _walked_lines(root) == ["a"]


def _walked_lines(element: Any) -> list[str]:
    return [line for line in map(str.strip, _SPACES.sub(" ", _walked_text(element)).split("\n")) if line]


@pytest.mark.parametrize(
    "line", ["", "  ", " plain words ", "中文新闻", " 責任編輯：王小明 ", "x關", _TRADITIONAL]
)
def test_fold_is_the_translation(line: str) -> None:
    assert fold(line) == line.strip().translate(FOLD_TRADITIONAL)


def _serialised(tree: HtmlElement | None) -> bytes | None:
    return None if tree is None else etree.tostring(tree.getroottree(), encoding="utf-8")


@pytest.mark.parametrize(
    "html",
    [
        "",
        "   ",
        "plain text, no markup",
        "<p>one block</p>",
        "<div><p>a</p></div><div><p>b</p></div>",
        '<?xml version="1.0" encoding="utf-8"?><html><body><p>declared</p></body></html>',
        "<!DOCTYPE html PUBLIC '-//W3C//DTD XHTML 1.0//EN' 'http://x/x.dtd' />\n<html><body>x</body></html>",
        '<html lang="en"/>\n<head><title>t</title></head><body><p>self-closed html</p></body>',
        "<html><body><p>a</p></body></html><html><body><p>b</p></body></html>",
    ],
)
def test_parse_page_of_a_valid_text_is_load_html(html: str) -> None:
    assert _serialised(parse_page(html, xml_valid=True)) == _serialised(parse_page(html))


@pytest.mark.parametrize("path", PAGES, ids=[p.stem for p in PAGES])
def test_parse_page_of_a_fixture_page_is_load_html(path: Path) -> None:
    html = _xml_valid(decode_html(path.read_bytes(), None))
    assert _serialised(parse_page(html, xml_valid=True)) == _serialised(parse_page(html))


def _cleaned_both_ways(tree: Any) -> tuple[bytes, bytes]:
    ours, cleaners = copy.deepcopy(tree), copy.deepcopy(tree)
    _readability_clean(ours)
    _READABILITY_CLEANER(cleaners)
    return etree.tostring(ours, encoding="utf-8"), etree.tostring(cleaners, encoding="utf-8")


@pytest.mark.parametrize("path", PAGES, ids=[p.stem for p in PAGES])
def test_readability_clean_is_the_cleaner_on_a_fixture_page(path: Path) -> None:
    ours, cleaners = _cleaned_both_ways(_tree(path))
    assert ours == cleaners


@pytest.mark.parametrize(
    "markup",
    [
        "<div><script>a</script>tail<p style='color:red'>p<style>s</style>t</p><link rel=x href=y>z</div>",
        "<div><!-- c --><?pi x?><image src=i>x<script src='http://a/b.js'></script>y</div>",
        "<div><script><script>nested</script></script>after<iframe src='http://x/'>f</iframe></div>",
        "<script>the root</script>",
        "<style>the root</style>",
    ],
)
def test_readability_clean_is_the_cleaner(markup: str) -> None:
    ours, cleaners = _cleaned_both_ways(fragment_fromstring(markup))
    assert ours == cleaners


def test_readability_clean_is_the_cleaner_on_xhtml() -> None:
    markup = '<html xmlns="http://www.w3.org/1999/xhtml"><body><script>x</script><image/><p>y</p></body></html>'
    ours, cleaners = _cleaned_both_ways(etree.fromstring(markup, xhtml_parser))
    assert ours == cleaners
    assert b"<img" in ours and b"script" not in ours


@pytest.mark.parametrize("path", PAGES, ids=[p.stem for p in PAGES])
def test_page_headings_are_the_predicate_queries(path: Path) -> None:
    tree = _tree(path).getroottree().getroot()
    meta = read_page_meta(tree)
    texts = [_meta_text(h) for h in tree.xpath("//body//*[self::h1 or self::h2 or self::h3]")]
    assert meta.headings == [text for text in texts if text][:30]
    assert meta.h1 == [text for text in (_meta_text(h) for h in tree.xpath("//body//h1")) if text][:5]


def _document_fields(document: Any) -> dict[str, Any] | None:
    """trafilatura's metadata document, its element fields serialised."""
    if document is None:
        return None
    fields = document.as_dict()
    return {k: etree.tostring(v) if isinstance(v, etree._Element) else v for k, v in fields.items()}


@pytest.mark.parametrize("path", PAGES, ids=[p.stem for p in PAGES])
def test_a_tree_of_plain_html_elements_reads_as_lxml_htmls(path: Path) -> None:
    """The fast parse makes every element an ``HtmlElement`` (no form-field classes, chosen in
    C): trafilatura, readability and our rules read the same from it as from trafilatura's
    own parse."""
    html = _xml_valid(decode_html(path.read_bytes(), None))
    fast, slow = parse_page(html, xml_valid=True), parse_page(html)
    assert fast is not None and slow is not None
    assert all(isinstance(element, HtmlElement) for element in fast.iter())
    fast_root, slow_root = fast.getroottree().getroot(), slow.getroottree().getroot()
    assert element_lines(fast_root) == element_lines(slow_root)
    assert read_page_meta(fast_root) == read_page_meta(slow_root)
    cjk = mostly_cjk(element_lines(fast_root))
    fast_body, fast_doc, _ = trafilatura_body(fast, "https://example.com/a", precise=not cjk)
    slow_body, slow_doc, _ = trafilatura_body(slow, "https://example.com/a", precise=not cjk)
    assert fast_body == slow_body
    assert _document_fields(fast_doc) == _document_fields(slow_doc)
    assert readability_body(fast) == readability_body(slow)


def _overlays_by_walking_the_copy(tree: HtmlElement) -> HtmlElement:
    """``without_overlays`` as it was: the overlays found again by a walk over the copy."""
    if not _overlay_elements(tree):
        return tree
    cleaned = copy.deepcopy(tree)
    page_size = len(cleaned.text_content()) or 1
    for element in _overlay_elements(cleaned):
        parent = element.getparent()
        text = element.text_content()
        if parent is not None and len(text) < 0.3 * page_size and _COOKIE_WORDS.search(text):
            parent.remove(element)
    return cleaned


_OVERLAY_PAGE = (
    "<html><body><div class='gdpr-ready'><p>{story}</p>"
    "<div id='Cookie-Banner'>We use cookies<section class='consent x'>consent to cookies</section></div>"
    "<aside class='x onetrust'>cookie settings</aside><form id='gdpr_form'>privacy</form></div>"
    "<dialog class='cookie'>cookies</dialog></body></html>"
)


@pytest.mark.parametrize(
    "html",
    [_OVERLAY_PAGE.format(story="A story. " * n) for n in (1, 40)]
    + [decode_html(path.read_bytes(), None) for path in PAGES],
)
def test_overlays_found_in_the_copy_by_their_paths(html: str) -> None:
    tree = parse_page(html, xml_valid=True)
    assert tree is not None
    for top in (tree, tree.getroottree().getroot(), tree.find(".//body")):
        if top is None:
            continue
        cleaned, reference = without_overlays(top, html), _overlays_by_walking_the_copy(top)
        assert (cleaned is top) == (reference is top)
        assert etree.tostring(cleaned) == etree.tostring(reference)


def test_unlikely_names_are_readabilitys_patterns() -> None:
    """The word search says what readability's two patterns say: on every "class id" of the
    fixture pages, and on random names of the words in any case, among other characters and
    the non-ASCII ones an ignore-case match takes for a letter (which go to the patterns)."""
    unlikely, maybe = REGEXES["unlikelyCandidatesRe"], REGEXES["okMaybeItsACandidateRe"]

    def reference(names: str) -> bool:
        return bool(unlikely.search(names)) and not maybe.search(names)

    for path in PAGES:
        for element in _tree(path).iter():
            if isinstance(element.tag, str) and (element.get("class") or element.get("id")):
                names = f"{element.get('class', '')} {element.get('id', '')}"
                assert _unlikely_names.__wrapped__(names) == reference(names), names
    rng = random.Random(7)
    words = ["comment", "foot", "ad-break", "rss", "pager", "main", "article", "and", "body", "x", "-", " "]
    extras = ["\u212a", "\u017f", "\u0131", "\u0130", "é", "中"]
    for _ in range(20000):
        parts = [rng.choice(words + extras * (rng.random() < 0.2)) for _ in range(rng.randint(0, 5))]
        names = "".join(c.upper() if rng.random() < 0.3 else c for c in "".join(parts))
        assert _unlikely_names.__wrapped__(names) == reference(names), repr(names)
