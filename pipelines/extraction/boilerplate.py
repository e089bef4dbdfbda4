"""Portal furniture that survives main-text extraction, removed line by line.

Two kinds of rule:

* *line rules* drop one line that is furniture wherever it appears (ICP licence,
  copyright, 责任编辑, 关键词, share bars, 上一篇/下一篇, print/close);
* *block headings* (相关阅读, 最近更新, 热门推荐 …) drop the heading and the list of
  short link lines under it.

Rules only fire on short lines, so a paragraph that merely mentions 版权 stays.
"""

from __future__ import annotations

import re

_SHORT = 120
_LINE_RULES = [
    re.compile(p, re.I)
    for p in (
        r"ICP\s*[备证]|ICP\s*license|公网安备|网络文化经营许可证|互联网新闻信息服务许可证|增值电信业务经营许可证",
        r"copyright|\(c\)\s*\d{4}|©|版权所有|all rights reserved",
        r"^\s*[（(\[【]?\s*(?:责任编辑|责编|编辑|值班编辑|审核|校对|监制|审校)\s*[:：].{0,40}$",
        r"^\s*(?:关键词|关键字|标签|tags?)\s*[:：]",
        r"^\s*(?:上一篇|下一篇|上一页|下一页|前一篇|后一篇)\s*[:：]?",
        r"^\s*分享到\s*[:：]?|^\s*(?:分享|转发)\s*[:：]\s*",
        r"^[\s【\[]*(?:打印|关闭|打印本页|关闭窗口|收藏|纠错|返回顶部|字号|大\s*中\s*小)[\s】\]|｜]*"
        r"(?:[\s【\[]*(?:打印|关闭|打印本页|关闭窗口|收藏|纠错|返回顶部|字号|大|中|小|默认)[\s】\]|｜]*)*$",
        r"^\s*免责声明\s*[:：]",
        r"^\s*(?:网友评论|我要评论|发表评论|查看评论|评论\s*\d+\s*条?)\s*$",
        r"^\s*联系我们\s*[:：]|^\s*(?:电话|邮箱|e-?mail|传真)\s*[:：].{0,40}$",
        r"^\s*(?:关于本站|关于我们|网站地图|联系我们|版权申明|版权声明|广告服务|招聘信息|联系合作)"
        r"(?:\s*[|｜]?\s*(?:关于本站|关于我们|网站地图|联系我们|管理团队|版权申明|版权声明|广告服务|招聘信息|"
        r"联系合作|友情链接|隐私政策|意见反馈))+\s*$",
        r"^\s*(?:首页|网站首页)\s*[>›»/]",
        r"^\s*[（(]?\s*(?:图片来源|图片来自|图源|资料图|资料图片)\s*[:：)）]?.{0,30}$",
        r"^\s*(?:扫一扫|扫描二维码|微信扫一扫|长按识别二维码).{0,40}$",
        r"^\s*本文来源\s*[:：].{0,30}$|^\s*原标题\s*[:：]",
    )
]
_BLOCK_HEADINGS = re.compile(
    r"^\s*[【\[]?\s*(?:相关阅读|相关新闻|相关文章|相关链接|相关报道|延伸阅读|推荐阅读|热门推荐|热点推荐|热门文章|"
    r"热门新闻|最近更新|最新更新|最新文章|最新资讯|猜你喜欢|精彩推荐|今日推荐|编辑推荐|大家都在看|热门排行|点击排行|"
    r"排行榜|更多精彩|更多阅读|往期回顾|专题推荐|图片推荐|视频推荐)\s*[】\]]?\s*[:：>»]?\s*$"
)
# a line in a link list: short and not a sentence
_LIST_LINE = re.compile(r"^.{1,60}$")
_SENTENCE_END = re.compile(r"[。！？!?”\"]$")


def is_furniture_line(line: str) -> bool:
    stripped = line.strip()
    if not stripped or len(stripped) > _SHORT:
        return False
    return any(rule.search(stripped) for rule in _LINE_RULES)


def is_block_heading(line: str) -> bool:
    return bool(_BLOCK_HEADINGS.match(line))


def remove_furniture(text: str) -> str:
    """Drop furniture lines and headed link lists from extracted text."""
    out: list[str] = []
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        if is_block_heading(line):
            i += 1
            while i < len(lines) and (
                not lines[i].strip()
                or (_LIST_LINE.match(lines[i].strip()) and not _SENTENCE_END.search(lines[i].strip()))
            ):
                i += 1
            continue
        if not is_furniture_line(line):
            out.append(line)
        i += 1
    return "\n".join(out).strip()
