"""Chinese bylines and info lines: 作者/记者/通讯员, 来源, 发布时间, 责任编辑.

Chinese portals put the metadata in a visible "info line" under the headline
(``2022-09-14 09:37:15 来源:广西日报 作者:张三``) or in a byline
(``本报特约通讯员 廖婧``), and sometimes close the article with ``(记者 张三)``.
An editor (``编辑``/``责任编辑``) is never the author.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_CJK = "\u3400-\u4dbf\u4e00-\u9fff"
_SPACE = r"[\s\u3000\xa0]"
# labels that end a field; a name never runs into one of these
_STOP_LABELS = (
    r"来源|来自|出处|发布|发表|时间|日期|编辑|责编|责任编辑|编审|审核|校对|点击|浏览|阅读|字号|摄影?|"
    r"图|原标题|供图|通讯员|记者|作者|分享|评论|打印|关闭|【|\[|\||｜"
)
_NAME = rf"[{_CJK}·•]{{2,4}}"
_NAMES = rf"{_NAME}(?:(?:{_SPACE}|[、，,/&和])+{_NAME})*"
_AUTHOR_LABEL = (
    r"(?:(?:本报|本刊|本台|本网|总台|央视|新华社|中新社|中新网|人民网)?"
    r"(?:特约|实习|首席|驻\S{1,6})?(?:记者|通讯员|作者|撰稿|撰文|执笔|特约撰稿人)|文|作者)"
)
_BYLINE = re.compile(
    rf"(?:^|[\s（(【\[□■●◎|｜]){_AUTHOR_LABEL}{_SPACE}*[:：/｜|]?{_SPACE}*(?P<names>{_NAMES})"
    rf"(?={_SPACE}|$|[)）】\]/,，。、;；]|(?:{_STOP_LABELS}))"
)
# 马俊峰/文, 廖婧 摄文
_TRAILING_LABEL = re.compile(rf"(?P<names>{_NAME})\s*/\s*文")
_SOURCE = re.compile(
    rf"(?:来源|来自|出处|稿源)(?:于)?{_SPACE}*[:：]{_SPACE}*[\[【]?{_SPACE}*"
    rf"(?P<source>[^\s\u3000\xa0\]】|｜:：,，。;；]{{2,30}}?)"
    rf"(?=$|{_SPACE}|[\]】|｜,，。;；]|(?:作者|记者|编辑|责任编辑|发布|时间|日期|点击|浏览))"
)
_EDITOR = re.compile(rf"(?:责任编辑|责编|编辑|编审){_SPACE}*[:：]")
_DATE_LABEL = re.compile(r"(?:发布时间|发表时间|发稿时间|更新时间|时间|日期|发表于|发布于)\s*[:：]?")
# (记者 张三) or (张三) closing a news item
_CLOSING = re.compile(
    rf"[（(]{_SPACE}*(?:{_AUTHOR_LABEL}{_SPACE}*[:：]?{_SPACE}*)?(?P<names>{_NAMES}){_SPACE}*[）)]$"
)
_BRACKETED = re.compile(rf"^[\[【]{_SPACE}*(?P<names>{_NAMES}){_SPACE}*[\]】]")

INFO_LINE_MAX = 160


@dataclass
class InfoLine:
    """What the Chinese info lines of a page say."""

    authors: list[str] = field(default_factory=list)
    source: str | None = None
    date_line: str | None = None  # the line that carries the publication date


def split_names(names: str) -> list[str]:
    return [n for n in re.split(rf"(?:{_SPACE}|[、，,/&和])+", names) if n]


def _clean_names(names: str) -> list[str]:
    cut = re.split(_STOP_LABELS, names)[0]
    return [n for n in split_names(cut) if len(n) >= 2 and not _is_label_word(n)]


def _is_label_word(word: str) -> bool:
    return bool(
        re.fullmatch(
            r"(?:本报|记者|通讯员|作者|来源|编辑|责任编辑|时间|日期|发布|原创|佚名|未知|admin)", word
        )
    )


def byline_authors(line: str) -> list[str]:
    """Author names a single line gives through a byline label; editors excluded."""
    if len(line) > INFO_LINE_MAX:
        return []
    text = line
    # drop the editor part so "编辑:李四" never becomes an author
    editor = _EDITOR.search(text)
    if editor:
        text = text[: editor.start()]
    for match in _BYLINE.finditer(text):
        names = _clean_names(match.group("names"))
        if names:
            return names
    trailing = _TRAILING_LABEL.search(text)
    return _clean_names(trailing.group("names")) if trailing else []


def closing_authors(line: str) -> list[str]:
    """Names in a ``(记者 张三)`` that closes a news paragraph."""
    match = _CLOSING.search(line.strip())
    if not match or _EDITOR.search(line[max(0, match.start() - 1) :]):
        return []
    return _clean_names(match.group("names"))


def source_of(line: str) -> str | None:
    if len(line) > INFO_LINE_MAX:
        return None
    match = _SOURCE.search(line)
    if not match:
        return None
    source = match.group("source").strip()
    return source if not re.fullmatch(r"[\d\-:/.\s]+", source) else None


def is_date_label_line(line: str) -> bool:
    return len(line) <= INFO_LINE_MAX and bool(_DATE_LABEL.search(line))


def read_info_lines(lines: list[str]) -> InfoLine:
    """Scan candidate lines (headline area first) for byline, source and dated info line."""
    info = InfoLine()
    for line in lines:
        stripped = line.strip()
        if not stripped or len(stripped) > INFO_LINE_MAX:
            continue
        if not info.authors:
            info.authors = byline_authors(stripped)
            if not info.authors:
                bracketed = _BRACKETED.match(stripped)
                if bracketed and source_of(stripped):
                    info.authors = _clean_names(bracketed.group("names"))
        if info.source is None:
            info.source = source_of(stripped)
    return info
