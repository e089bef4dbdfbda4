"""Headlines without the site name around them (``| CNN``, ``_创投网``, ``Opinion |``).

The ``<title>`` is split on the separators sites use; a part is kept when the page's
other headline sources (``<h1>``, ``og:title``, JSON-LD ``headline``) agree with it,
and parts naming the site are dropped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urlsplit

from .textlines import CJK, CJK_CHAR

_SEPARATORS = re.compile(
    r"\s+[|｜\-–—:·»/]\s+|\s*[|｜_]\s*|\s*[—–]{1,2}\s*|\s*-{2,}\s*|::"
    rf"|(?<=[^\x00-\x7f])-(?=[{CJK}])|(?<=[{CJK}])-(?=[^\x00-\x7f])"
)
_SECTION_WORDS = re.compile(r"^(?:opinion|analysis|review|live|video|watch|exclusive|breaking)$", re.I)
_SPACES = re.compile(r"\s+")


_PAGE_MARK = re.compile(
    r"\s*[(（]\s*(?:第\s*)?(?:页\s*)?\d+\s*页?\s*[)）]\s*$|\s*[(（]\s*(?:组?图|多图|视频)\s*[)）]\s*$"
)


def _norm(text: str) -> str:
    return _PAGE_MARK.sub("", _SPACES.sub(" ", text.replace("\u3000", " ")).strip())


def _key(text: str) -> str:
    return re.sub(r"[\W_]+", "", text).lower()


def _width(text: str) -> int:
    """Display width: a Chinese character is as wide as two Latin letters."""
    return len(text) + len(CJK_CHAR.findall(text))


def _is_cjk(text: str) -> bool:
    return len(CJK_CHAR.findall(text)) >= 0.3 * max(1, len(text.replace(" ", "")))


def split_title(title: str) -> list[str]:
    return [part for part in (_norm(p) for p in _SEPARATORS.split(title)) if part]


def site_name_from_title(title: str | None) -> str | None:
    """The last short part of ``Headline_创投网`` style titles, when there is one."""
    if not title:
        return None
    parts = split_title(title)
    if len(parts) < 2:
        return None
    last = parts[-1]
    return last if len(last) <= 30 and len(last) < len(parts[0]) else None


def _is_site(part: str, site_names: Iterable[str]) -> bool:
    key = _key(part)
    if not key:
        return True
    for name in site_names:
        name_key = _key(name)
        if name_key and (key == name_key or (len(key) <= 40 and (name_key in key or key in name_key))):
            return True
        if re.fullmatch(r"(?:www\.)?[\w-]+\.(?:com|cn|net|org|co\.uk|com\.cn|com\.tw|hk)", part.lower()):
            return True
    return False


def _tokens(text: str) -> set[str]:
    return set(re.findall(rf"[{CJK}]|[^\W_]+", text.lower()))


def similarity(a: str, b: str) -> float:
    """Token overlap of two headlines (CJK characters count as tokens)."""
    ta, tb = _tokens(a), _tokens(b)
    return len(ta & tb) / len(ta | tb) if ta and tb else 0.0


def _headline_like(text: str) -> bool:
    cjk = len(CJK_CHAR.findall(text))
    return (cjk >= 5 or len(text.split()) >= 3) and len(text) <= 300


_SECTION_LABEL = re.compile(
    r"^(?:opinion|analysis|review|editorial|commentary|exclusive|breaking|live|watch|video|podcast|explainer)$",
    re.I,
)


def _strip_section_prefix(title: str) -> str:
    """``Opinion | Headline`` / ``Headline | Editorial`` / ``Opinion Headline`` → ``Headline``;
    both ends, as in ``Opinion | Headline | Editorial``."""
    stripped = _strip_section_label(title)
    return _strip_section_label(stripped) if stripped != title else title


def _strip_section_label(title: str) -> str:
    match = re.match(r"^([^|｜]{1,25})\s*[|｜]\s*(.+)$", title)
    if match and len(match.group(1).split()) <= 2 and len(match.group(2).split()) >= 4:
        return match.group(2).strip()
    match = re.match(r"^(.+?)\s*[|｜]\s*([^|｜]{1,25})$", title)
    if match and _SECTION_LABEL.match(match.group(2).strip()) and len(match.group(1).split()) >= 4:
        return match.group(1).strip()
    first, _, rest = title.partition(" ")
    if _SECTION_LABEL.match(first) and len(rest.split()) >= 4:
        # the label is a styled <span> inside the <h1>
        return rest.strip()
    return title


def pick_h1(h1s: Iterable[str], references: Iterable[str | None], *, require_agreement: bool) -> str | None:
    """The ``<h1>`` that is the headline: the one agreeing best with ``<title>``/``og:title``.

    The visible headline is what readers (and editors) call the title; ``<title>`` and
    ``og:title`` are often SEO variants. Without agreement an ``<h1>`` may be a logo or a
    channel name, so Chinese portals (``require_agreement``) need some overlap.
    """
    refs = [r for r in references if r]
    best: tuple[float, str] | None = None
    candidates = [_norm(h) for h in h1s if _headline_like(_norm(h))]
    for h1 in candidates:
        score = max((similarity(h1, ref) for ref in refs), default=0.0)
        if best is None or score > best[0]:
            best = (score, h1)
    if best is None:
        return None
    score, h1 = best
    if score >= 0.5 or (not require_agreement and (len(candidates) == 1 or score >= 0.2)):
        return _strip_section_prefix(h1)
    return None


def clean_title(
    title_tag: str | None,
    *,
    headlines: Iterable[str | None] = (),
    site_names: Iterable[str | None] = (),
) -> str | None:
    """The headline: ``title_tag`` minus site-name parts, confirmed by the other ``headlines``."""
    candidates = [_norm(h) for h in headlines if h and _norm(h)]
    names = [n for n in site_names if n]
    raw = _norm(title_tag or "")
    if not raw:
        return next((c for c in candidates if not _is_site(c, names)), None)
    raw_key = _key(raw)
    # a headline source that appears inside <title> is the title minus its decorations
    for candidate in candidates:
        key = _key(candidate)
        if key and key in raw_key and len(key) >= 0.3 * len(raw_key) and not _is_site(candidate, names):
            return _strip_site(candidate, names)
    return _strip_site(raw, names)


def _strip_site(title: str, site_names: list[str]) -> str:
    parts = split_title(title)
    if len(parts) < 2:
        return _strip_spaced_site(title, site_names)
    keep = list(parts)
    # drop site names and section labels from both ends
    while len(keep) > 1 and (_is_site(keep[-1], site_names) or _SECTION_WORDS.match(keep[-1])):
        keep.pop()
    while len(keep) > 1 and (_is_site(keep[0], site_names) or _SECTION_WORDS.match(keep[0])):
        keep.pop(0)
    if len(keep) > 1 and _is_cjk(title):
        # 标题_频道_网站 or 网站--频道--标题, channel names left over: the headline is the longest part
        longest = max(keep, key=_width)
        if len(longest) >= 8 and all(_width(part) < _width(longest) for part in keep if part is not longest):
            keep = [longest]
    if len(keep) == len(parts):
        return title
    # put back the original text between the kept parts (separators inside a headline)
    start = title.find(keep[0])
    end = title.rfind(keep[-1]) + len(keep[-1])
    return title[start:end].strip() if 0 <= start < end else " ".join(keep)


def _strip_spaced_site(title: str, site_names: list[str]) -> str:
    """``Headline 松花江网``: a known site name after a plain space."""
    for name in site_names:
        name = _norm(name)
        if name and title.endswith(" " + name) and len(title) > len(name) + 4:
            return title[: -len(name)].strip()
    return title


# the name a site or one of its sections gives itself: 北医新闻网, 科技频道, 淄博时空新闻网(…主办)
_SITE_WORD_END = re.compile(r"(?:网|網|频道|頻道|新闻|新聞|首页|首頁|论坛|論壇)\s*(?:[(（][^)）]*[)）])?$")
_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*"
_DATE_LIKE = re.compile(
    rf"\d{{4}}\s*[-/.年]\s*\d{{1,2}}|\d{{1,2}}:\d{{2}}|\b{_MONTH}\.?\s+\d{{1,2}}\b|\b\d{{1,2}}\s+{_MONTH}\b",
    re.I,
)
# a label line under a headline (来源:…, 栏目:…, By …, 字号), a breadcrumb, share and print links
_NOT_HEADLINE = re.compile(
    r"^\S{1,4}\s*[:：]|^by\s|^(?:posted|written|updated|published)\b|>|»|›|字号|分享|打印|评论|評論|【",
    re.I,
)


def names_site_or_section(title: str | None, site_names: Iterable[str | None], url: str) -> bool:
    """Whether a page's title is the site's or a section's name rather than a headline: a
    known site name, the site's domain, a short section word (财经, 生活新聞), a name ending
    in 网/频道, or a list of sections (``News | Sports | Weather``)."""
    if not title:
        return True
    key = _key(title)
    cjk = _is_cjk(title)
    # a short title that is a site name, or a site name and a word or two (a whole headline
    # may be taken for the site name by a page's own markup: length tells them apart)
    short = _width(title) <= 24 if cjk else len(title.split()) <= 5
    name_keys = [_key(n) for n in site_names if n and _key(n)]
    if short and any(key == k or (k in key and len(key) <= len(k) + 6) for k in name_keys):
        return True
    host = urlsplit(url).hostname or ""
    core = next((p for p in host.split(".") if p not in ("www", "m", "news", "blog", "blogs")), "")
    if len(core) >= 4 and core in key and len(title.split()) <= 4:
        return True
    if cjk:
        whole = len(split_title(title)) == 1  # "标题 - 自由電子報 即時新聞" ends in 新聞 too
        return _width(title) <= 12 or (whole and bool(_SITE_WORD_END.search(title)))
    parts = split_title(title)
    return len(parts) >= 3 and all(len(part.split()) <= 3 for part in parts)


def headline_before(
    lines: list[str], first_paragraph: int | None, headings: Iterable[str] = ()
) -> str | None:
    """The headline just above the first paragraph: a heading element, or a line of headline
    length followed within three lines by a dateline. Skips the date, source, byline, font
    size and share lines between them."""
    if first_paragraph is None:
        return None
    heads = {_key(h) for h in headings}
    for i in range(first_paragraph - 1, max(-1, first_paragraph - 9), -1):
        line = _norm(lines[i])
        if _DATE_LIKE.search(line) or _NOT_HEADLINE.search(line):
            continue
        width = _width(line)
        long_enough = width >= 12 if _is_cjk(line) else len(line.split()) >= 3
        if not long_enough or width > 160:
            continue
        dated = any(_DATE_LIKE.search(lines[j]) for j in range(i + 1, min(len(lines), i + 4)))
        if _key(line) in heads or dated:
            return line
    return None
