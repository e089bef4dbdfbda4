"""Chinese bylines and info lines: 作者/记者/通讯员, 来源, 发布时间, 责任编辑.

Chinese portals put the metadata in a visible "info line" under the headline
(``2022-09-14 09:37:15 来源:广西日报 作者:张三``) or in a byline
(``本报特约通讯员 廖婧``), and sometimes close the article with ``(记者 张三)``.
An editor (``编辑``/``责任编辑``) is never the author.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from .textlines import BREADCRUMB, CJK, TRADITIONAL_FORMS, WEB_ADDRESS

_CJK = CJK


def _both(pattern: str) -> str:
    """``pattern`` with each simplified label character outside ``[...]`` accepting its
    traditional form too (记 -> [记記])."""
    out: list[str] = []
    in_class = escaped = False
    for char in pattern:
        if escaped:
            out.append(char)
            escaped = False
            continue
        if char == "\\":
            escaped = True
        elif char == "[":
            in_class = True
        elif char == "]":
            in_class = False
        elif not in_class and char in TRADITIONAL_FORMS:
            out.append(f"[{char}{TRADITIONAL_FORMS[char]}]")
            continue
        out.append(char)
    return "".join(out)


_SPACE = r"[\s\u3000\xa0]"
# labels that end a field; a name never runs into one of these
_STOP_LABELS = _both(
    r"来源|来自|出处|发布|发表|发自|时间|日期|编辑|责编|责任编辑|编审|审核|校对|点击|浏览|阅读|字号|摄影?|"
    r"图|原标题|供图|通讯员|记者|作者|分享|评论|打印|关闭|【|\[|\||｜"
)
_NAME = rf"[{_CJK}·•]{{2,4}}"
_NAMES = rf"{_NAME}(?:(?:{_SPACE}|[、，,/&和])+{_NAME})*"
_AUTHOR_LABEL = _both(
    r"(?:(?:本报|本刊|本台|本网|总台|央视|新华社|中新社|中新网|人民网)?"
    r"(?:特约|实习|首席|驻\S{1,6})?(?:记者|通讯员|作者|撰稿|撰文|执笔人?|特约撰稿人|实习生)|作者|楼主(?=[:：])"
    rf"|文(?={_SPACE}*[:：/｜|]))"
)
# 光明日报记者 / 河南商报记者: an outlet name glued to the label
# 新华日报·交汇点记者 / 顶端新闻·河南商报记者: an outlet and one of its brands
_OUTLET = rf"(?:[{_CJK}]{{1,10}}?{_both('(?:报|社|网|台|频道|杂志|新闻)')}(?:[·•][{_CJK}]{{1,8}}?)?)?"
_BYLINE = re.compile(
    rf"(?:^|[\s（(【\[□■●◎|｜·]){_OUTLET}[／/]?{_AUTHOR_LABEL}{_SPACE}*[:：/｜|]?{_SPACE}*(?P<names>{_NAMES})"
    rf"(?={_SPACE}|$|[)）】\]/／,，。、;；]|(?:{_STOP_LABELS}))"
)
# 马俊峰/文, 廖婧 摄文
_TRAILING_LABEL = re.compile(rf"(?P<names>{_NAME})\s*/\s*文")
_SOURCE = re.compile(
    _both(rf"(?:来源|来自|出处|稿源)(?:于)?{_SPACE}*[:：]{_SPACE}*[\[【]?{_SPACE}*")
    + r"(?P<source>[^\s\u3000\xa0\]】|｜:：,，。;；]{2,30}?)"
    + _both(rf"(?=$|{_SPACE}|[\]】|｜,，。;；]|(?:作者|记者|编辑|责任编辑|发布|时间|日期|点击|浏览))")
)
_BRACKETED_SOURCE = re.compile(
    _both(rf"[\[【]{_SPACE}*(?:来源|稿源|出处){_SPACE}*[:：]{_SPACE}*")
    + r"(?P<source>[^\]】:：]{2,30}?)\s*[\]】]"
)
_EDITOR = re.compile(rf"{_both('(?:责任编辑|责编|编辑|编审)')}{_SPACE}*[:：]")
_DATE_LABEL = re.compile(_both(r"(?:发布时间|发表时间|发稿时间|更新时间|时间|日期|发表于|发布于)\s*[:：]?"))
# (记者 张三) or (张三) closing a news item
_CLOSING = re.compile(
    rf"[（(]{_SPACE}*(?:{_OUTLET}{_AUTHOR_LABEL}{_SPACE}*[:：]?{_SPACE}*)?(?P<names>{_NAMES}){_SPACE}*[）)]$"
)
_LABEL_ONLY = re.compile(rf"^(?:{_AUTHOR_LABEL}|作者){_SPACE}*[:：]?$")
_POSTED_BY = re.compile(
    r"^(?:楼主[:：]?\s*)?(?P<name>[^\s:：]{2,20})\s*(?:发表于|发布于|发表时间|发帖时间|写于)"
    r"|(?:^|\s)by\s+(?P<by>[^\s〓|｜]{2,20})"
    # 本贴由 X 于 2005年8月12日 发表 (not "最后由 X 于 … 编辑": that is whoever edited it last)
    + _both(r"|本[贴帖文]由\s*(?P<poster>[^\s:：]{2,20}?)\s*于\s*[^\n]{4,30}?(?:发表|发布)")
    + r"|^楼主[:：]\s*(?P<op>[^\s:：]{2,20})$"
)
# forum and blog user names: lower case or with digits, never a capitalised English word
_USERNAME = re.compile(r"^(?:[a-z][a-z0-9_.-]{2,19}|[A-Za-z][A-Za-z]*[0-9_][A-Za-z0-9_.-]{1,18})$")
_NOT_NAME = re.compile(
    r"[网页频道首新闻栏目区版报社台多录册关注订阅分享评论收藏返回导航正文图片视频专题简介更告览帖赞搜索"
    r"網頁頻聞欄區報臺錄冊關訂閱評論導圖視專簡覽讚]"
)
_ORGANISATION = re.compile(r"[网站页频道报社台]$|在线$|首页|新闻|中心|公司|编辑|媒体|门户|admin|管理员", re.I)
_BRACKETED = re.compile(rf"^[\[【]{_SPACE}*(?P<names>{_NAMES}){_SPACE}*[\]】]")

INFO_LINE_MAX = 160


def split_names(names: str) -> list[str]:
    return [n for n in re.split(rf"(?:{_SPACE}|[、，,/&和])+", names) if n]


_INNER_LABEL = re.compile(_both(r"(?:特约|实习)?(?:记者|通讯员)|实习生"))
_PLACE_REPORT = re.compile(_both(r"\w{1,4}(?:报导|报道)$"))
# "记者了解到，…", "記者調查", "记者走访…": the reporter's doings, not a name
_REPORTING = re.compile(_both(r"了|的|说|到|获悉|表示|发现|调查|采访|走访|随后|注意|看见|得知|从|向"))


def _clean_names(names: str) -> list[str]:
    # "文/記者 範維": a label right before the names is no name either
    names = re.sub(rf"^{_AUTHOR_LABEL}{_SPACE}*[:：]?{_SPACE}*", "", names)
    # "通讯员 宋黎胜 记者 黄淼君": a reporter label inside the list separates names
    names = _INNER_LABEL.sub(" ", names)
    tokens = split_names(re.split(_STOP_LABELS, names)[0])
    if tokens and _REPORTING.search(tokens[0]):
        return []  # "记者了解到，今年…" is a sentence about the reporter, not a byline
    # "記者：邱雯琪 羅執中 台北報導": the place of the report is no name
    # "(华声在线)" closing an item is the outlet
    return [
        n
        for n in tokens
        if len(n) >= 2
        and not _is_label_word(n)
        and not _PLACE_REPORT.match(n)
        and not _ORGANISATION.search(n)
    ]


_LABEL_WORD = re.compile(
    _both(
        r"(?:本报|记者|通讯员|实习生|作者|来源|编辑|责任编辑|时间|日期|发布|原创|转载|转帖|转贴|佚名|未知|admin|楼主|沙发|板凳)"
    )
)


def _is_label_word(word: str) -> bool:
    return bool(_LABEL_WORD.fullmatch(word))


def byline_authors(line: str) -> list[str]:
    """Author names a single line gives through a byline label; editors excluded."""
    if len(line) > INFO_LINE_MAX:
        return []
    # "马俊峰/文" and "廖婧/摄": the slash label ends the name
    text = re.sub(r"\s*[/／]\s*(?:文|[摄攝]|[图圖])", "。", line)
    # drop the editor part so "编辑:李四" never becomes an author
    editor = _EDITOR.search(text)
    if editor:
        text = text[: editor.start()]
    for match in _BYLINE.finditer(text):
        names = _clean_names(match.group("names"))
        if names:
            return names
    trailing = _TRAILING_LABEL.search(line)
    return _clean_names(trailing.group("names")) if trailing else []


# "网易娱乐1月17日报道 (文/小易)近日，…": a byline in brackets opening the first paragraph
_LEAD_IN = re.compile(
    rf"^[^（(]{{0,24}}[（(]{_SPACE}*{_OUTLET}{_AUTHOR_LABEL}{_SPACE}*[:：/／]?{_SPACE}*"
    rf"(?P<names>{_NAMES}){_SPACE}*[）)]"
)


def lead_in_authors(lines: list[str]) -> list[str]:
    """Names in a ``(文/X)`` or ``（记者 X）`` that opens one of the first body lines."""
    for line in lines:
        match = _LEAD_IN.match(line.strip())
        if match:
            names = _clean_names(match.group("names"))
            if names:
                return names
    return []


def closing_authors(line: str) -> list[str]:
    """Names in a ``(记者 张三)`` that closes a news paragraph."""
    match = _CLOSING.search(line.strip())
    if not match or _EDITOR.search(line[max(0, match.start() - 1) :]):
        return []
    return _clean_names(match.group("names"))


def source_of(line: str) -> str | None:
    if len(line) > INFO_LINE_MAX:
        return None
    bracketed = _BRACKETED_SOURCE.search(line)
    if bracketed:  # "[來源：Cult of Mac]": the brackets, not a space, end the outlet
        return bracketed.group("source").strip()
    match = _SOURCE.search(line)
    if not match:
        return None
    source = match.group("source").strip()
    return source if not re.fullmatch(r"[\d\-:/.\s]+", source) else None


def is_date_label_line(line: str) -> bool:
    return len(line) <= INFO_LINE_MAX and bool(_DATE_LABEL.search(line))


def name_line(line: str) -> list[str]:
    """A line that is nothing but a person's name (or a forum user name)."""
    text = line.strip()
    if _USERNAME.match(text) and not text.lower().startswith(("http", "www")):
        return [text]
    if (
        re.fullmatch(_NAMES, text)
        and not _NOT_NAME.search(text)
        and not _ORGANISATION.search(text)  # "华声在线", "主流媒体 龙江门户": an outlet, a slogan
        and _clean_names(text)
    ):
        # keep the page's own separators (赵延东、风笑天)
        return [re.sub(rf"{_SPACE}+", " ", text)]
    return []


def find_authors(
    lines: list[str], anchor: int | None, end: int | None = None, first_paragraph: int | None = None
) -> list[str]:
    """Author names from the lines around the headline at ``anchor`` or just after the body
    (which ends at ``end``); editors never count."""
    if anchor is None:
        return []
    window = lines[max(0, anchor - 3) : anchor + 25]
    if end is not None and end > anchor + 25:
        window += lines[end : end + 8]
    for i, line in enumerate(window):
        if len(line) > INFO_LINE_MAX or BREADCRUMB.search(line):
            continue
        names = byline_authors(line)
        if not names:
            bracketed = _BRACKETED.match(line)
            if bracketed and source_of(line):
                names = _clean_names(bracketed.group("names"))
        if not names and _LABEL_ONLY.match(line) and i + 1 < len(window):
            names = name_line(window[i + 1])
        if not names:
            names = posted_by(line)
        if names:
            return names
    # a bare name right under the headline or right above the first paragraph (blogs, forums)
    near = [anchor + 1, anchor + 2]
    if first_paragraph is not None:
        near += [first_paragraph - 1, first_paragraph - 2]
    for i in near:
        if 0 <= i < len(lines):
            names = name_line(lines[i])
            if names:
                return names
    return []


def find_posted_by(lines: list[str]) -> list[str]:
    """Anywhere on the page, the first ``X 发表于 …`` line of a blog or forum post."""
    for line in lines:
        if len(line) <= INFO_LINE_MAX:
            names = posted_by(line)
            if names:
                return names
    return []


def posted_by(line: str) -> list[str]:
    """``ggjjzhzz 发表于 2005-9-15`` / ``发布时间 2005/03/15 by duscha``."""
    posted = _POSTED_BY.search(line)
    if not posted:
        return []
    name = posted.group("name") or posted.group("by") or posted.group("poster") or posted.group("op")
    return name_line(name)


def find_source(lines: list[str]) -> str | None:
    for line in lines:
        source = source_of(line)
        if source:
            return source
    return None


def plausible_author(name: str, site_name: str | None = None) -> bool:
    """Whether a ``<meta name=author>`` on a Chinese page names a person, not the site."""
    text = name.strip()
    if not text or len(text) > 30 or _ORGANISATION.search(text) or _NOT_NAME.search(text):
        return False
    if WEB_ADDRESS.search(text):
        return False  # a web address ("gb.cri.cn") is the site
    return not (site_name and (text in site_name or site_name in text))


# the owner a blog names itself after: "bjreader的博客", "张三的BLOG", "李四的个人空间"
_OWNER_OF = re.compile(
    _both(
        r"^(?P<name>[^\s|｜_:：·“”\"'《》]{2,20}?)\s*的\s*(?:博客|部落格|个人空间|个人主页|空间|日志|专栏|blog)$"
    ),
    re.I,
)
_TITLE_PARTS = re.compile(r"\s*(?:[|｜_]|--+|—+|::|\s-\s)\s*")
_BLOG = re.compile(r"blog|博客|部落格", re.I)
# where a blog host puts its owner's user name: a subdomain (bjreader.blogchina.com), the first
# path segment (blog.sina.com.cn/u/…, blog.163.com/name/) or a name= parameter
_OWNER_QUERY = re.compile(r"(?:^|&)(?:name|user|username|blogname)=(?P<name>[^&]+)", re.I)
_HOST_WORDS = frozenset({"www", "blog", "blogs", "my", "home", "space", "u", "user", "m", "wap"})
HEADER_LINES = 30


def _owner_name(name: str) -> str | None:
    name = name.strip()
    if (
        not (2 <= len(name) <= 20)
        or _is_label_word(name)
        or _ORGANISATION.search(name)
        or _NOT_NAME.search(name)
    ):
        return None
    return None if WEB_ADDRESS.search(name) else name


def blog_owner(title_tag: str | None, page_lines: list[str], url: str) -> str | None:
    """The owner of a blog page, who wrote it unless a byline says otherwise: from the
    ``<title>`` (``… --bjreader的博客``, ``海姑娘 | blog.wenxuecity.com``), a header line
    (``张三的博客``) or the blog host's URL (``bjreader.blogchina.com``, ``?name=ggjjzhzz``).
    ``None`` on pages that are no blog's."""
    parts = [p for p in _TITLE_PARTS.split((title_tag or "").strip()) if p]
    parsed = urlsplit(url)
    host = (parsed.hostname or "").lower()
    if not (_BLOG.search(host) or _BLOG.search(parsed.path) or _BLOG.search(title_tag or "")):
        return None
    for part in parts:
        owner = _OWNER_OF.match(part)
        if owner and _owner_name(owner.group("name")):
            return owner.group("name")
    # "海姑娘 | blog.wenxuecity.com": the blog host's address beside one name
    if len(parts) == 2 and any(_BLOG.search(p) and WEB_ADDRESS.search(p) for p in parts):
        name = next(p for p in parts if not WEB_ADDRESS.search(p))
        if len(name) <= 12 and _owner_name(name):
            return name
    for line in page_lines[:HEADER_LINES]:
        owner = _OWNER_OF.match(line.strip())
        if owner and _owner_name(owner.group("name")):
            return owner.group("name")
    return _owner_from_url(host, parsed.path, parsed.query)


def _owner_from_url(host: str, path: str, query: str) -> str | None:
    if not _BLOG.search(host):
        return None
    labels = host.split(".")
    if len(labels) >= 3 and _BLOG.search(".".join(labels[1:])) and labels[0] not in _HOST_WORDS:
        candidate = labels[0]
    else:
        query_name = _OWNER_QUERY.search(query)
        segments = [s for s in path.split("/") if s]
        if query_name:
            candidate = query_name.group("name")
        elif len(segments) >= 2 and segments[0] not in _HOST_WORDS:
            candidate = segments[0]
        else:
            return None
    return candidate if _USERNAME.match(candidate) and _owner_name(candidate) else None


# the record table of a government document (政府信息公开): 索引号, 发文机关, 成文日期, 发布日期 …,
# each label with its value after it or on the next line
_RECORD_LABEL = re.compile(_both(r"^\s*(?P<label>发文机关|成文日期)\s*[:：]\s*(?P<value>.*)$"))
RECORD_LINES = 80


def government_record(lines: list[str]) -> dict[str, str]:
    """``{"发文机关": issuer, "成文日期": date text}`` from a government document's record table
    near the top of the page: the issuing authority is the document's author, and the date it
    was signed is its date (``发布日期`` is only when the portal put it online)."""
    found: dict[str, str] = {}
    for i, line in enumerate(lines[:RECORD_LINES]):
        labelled = _RECORD_LABEL.match(line)
        if not labelled:
            continue
        label = labelled.group("label").translate(str.maketrans("發關", "发关"))
        value = labelled.group("value").strip() or (lines[i + 1].strip() if i + 1 < len(lines) else "")
        if value and not _RECORD_LABEL.match(value) and len(value) <= 40:
            found.setdefault(label, value)
    return found
