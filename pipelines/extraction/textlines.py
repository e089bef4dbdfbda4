"""Visible text of an HTML element as lines, one per block (paragraph, cell, list item)."""

from __future__ import annotations

import functools
import re
import threading
from typing import Any

from lxml import etree

_BLOCK_TAGS = frozenset(
    "address article aside blockquote br dd details div dl dt fieldset figcaption figure footer form "
    "h1 h2 h3 h4 h5 h6 header hr li main nav ol p pre section summary table tbody td th thead tr ul "
    "center".split()
)
_SKIP_TAGS = frozenset({"script", "style", "noscript", "template", "iframe", "object", "select", "option"})
_SPACES = re.compile(r"[ \t\r\f\v\xa0\u3000\u2002\u2003\u200b]+")


def element_lines(element: Any) -> list[str]:
    """Non-empty, whitespace-normalised text lines of ``element`` in document order."""
    # one substitution over the whole text: the pattern holds no newline, so it may run
    # before the split
    text = _visible_text(element)
    return [line for line in map(str.strip, _SPACES.sub(" ", text).split("\n")) if line]


# the walk below as a stylesheet: libxslt walks the tree in C, with no Python object made per
# node (a third of the walk's cost); each block element's text between two newlines
_LINES_STYLESHEET = etree.XML(
    '<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">'
    '<xsl:output method="text" encoding="UTF-8"/>'
    f'<xsl:template match="{"|".join(sorted(_SKIP_TAGS))}"/>'
    '<xsl:template match="comment()|processing-instruction()"/>'
    f'<xsl:template match="{"|".join(sorted(_BLOCK_TAGS))}">'
    "<xsl:text>&#10;</xsl:text><xsl:apply-templates/><xsl:text>&#10;</xsl:text></xsl:template>"
    "</xsl:stylesheet>"
)
_TRANSFORMS = threading.local()  # one compiled stylesheet per thread


def _visible_text(element: Any) -> str:
    """The text of ``element`` and its tail, a newline around each block element's."""
    tag = element.tag
    if tag.__class__ is not str or tag in _SKIP_TAGS:  # comments, scripts: tail only
        return element.tail or ""
    if element.getparent() is None and (element.getnext() is not None or element.getprevious() is not None):
        # a document root beside others (a page of two <html>): the stylesheet would read them all
        return _walked_text(element)
    transform = getattr(_TRANSFORMS, "lines", None)
    if transform is None:
        transform = _TRANSFORMS.lines = etree.XSLT(_LINES_STYLESHEET)
    try:
        return str(transform(element)) + (element.tail or "")
    except etree.XSLTApplyError:  # libxslt's depth limits: the walk in Python instead
        return _walked_text(element)


def _walked_text(element: Any) -> str:
    # one flat walk (start and end events)
    parts: list[str] = []
    append = parts.append
    walker = etree.iterwalk(element, events=("start", "end"))
    for event, node in walker:
        tag = node.tag
        if event == "start":
            if tag.__class__ is not str or tag in _SKIP_TAGS:  # comments, scripts: tail only
                walker.skip_subtree()
                continue
            if tag in _BLOCK_TAGS:
                append("\n")
            if node.text:
                append(node.text)
            continue
        if tag.__class__ is str and tag in _BLOCK_TAGS:
            append("\n")
        if node.tail:
            append(node.tail)
    return "".join(parts)


# The one definition of a Chinese character: CJK Unified Ideographs and Extension A (a
# character class body, for patterns that need it inside brackets).
CJK = "\u3400-\u9fff"
CJK_CHAR = re.compile(f"[{CJK}]")
# a "where you are" trail (首页 > 新闻 > 正文): never a headline, a byline or a date line
BREADCRUMB = re.compile(r"首页|当前位置|您的位置|>>|»|＞|\s>\s")
# a web address where a name should be ("gb.cri.cn", "Terry Pluto, cleveland.com")
WEB_ADDRESS = re.compile(r"\.(?:com|net|org|co|cn|tw|hk|uk|us|ca|au|news|tv)\b", re.I)


_WHITESPACE = re.compile(r"\s+")


_SHORT_TEXT = 200


def squeeze(text: str) -> str:
    """``text`` without any whitespace: how lines are compared across extractions."""
    # a page's link texts are squeezed several times over (link sets, link keys, the title
    # test): short texts are remembered
    return _squeezed_short(text) if len(text) < _SHORT_TEXT else _WHITESPACE.sub("", text)


@functools.lru_cache(maxsize=8192)
def _squeezed_short(text: str) -> str:
    return _WHITESPACE.sub("", text)


# Traditional characters and their simplified forms, for the characters the furniture and
# byline rules name: Taiwan and Hong Kong portals print 責任編輯 and 記者 where mainland ones
# print 责任编辑 and 记者. Rules fold a line to match it (never a name they hand back).
_TRADITIONAL = (
    "關閱讀聞熱薦責編輯鍵詞標籤網評論權聲閉於專頁載轉開門類圖來發佈時間點擊覽與請聯繫係電話傳顯為歡隱數個張廣務條獲導訊"
    "們體製單區將頭據說報記員訂閲瀏視頻碼長識掃備許證營經歸級設調進實習攝綜雜執筆約駐審對號題處臺總華國現採訪隨後見從"
)
_SIMPLIFIED = (
    "关阅读闻热荐责编辑键词标签网评论权声闭于专页载转开门类图来发布时间点击览与请联系系电话传显为欢隐数个张广务条获导讯"
    "们体制单区将头据说报记员订阅浏视频码长识扫备许证营经归级设调进实习摄综杂执笔约驻审对号题处台总华国现采访随后见从"
)
FOLD_TRADITIONAL = str.maketrans(_TRADITIONAL, _SIMPLIFIED)
# any of them: translating a line char by char costs far more than finding it holds none
TRADITIONAL_CHAR = re.compile(f"[{_TRADITIONAL}]")
TRADITIONAL_FORMS: dict[str, str] = {}  # simplified -> its traditional forms
for _traditional, _simplified in zip(_TRADITIONAL, _SIMPLIFIED, strict=True):
    TRADITIONAL_FORMS[_simplified] = TRADITIONAL_FORMS.get(_simplified, "") + _traditional
