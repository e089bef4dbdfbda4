"""Portal furniture that survives main-text extraction, removed line by line.

Two kinds of rule:

* *line rules* drop one line that is furniture wherever it appears (ICP licence,
  copyright, 责任编辑, 关键词, share bars, 上一篇/下一篇, print/close, a line that is only a
  dateline such as ``Updated Dec. 23, 2023, 7:58 AM UTC``, newsletter and app promotions);
* *block headings* (相关阅读, 最近更新, 热门推荐 …) drop the heading and the list of
  short link lines under it.

* *the headline* repeated as the body's first line goes: it is the article's title.

* *closing headings* (声明, 版权与免责声明) in the last part of the text cut everything
  after them: what follows is the site's standing disclaimer; so does a cookie-consent
  banner ("This website uses cookies …" and more about cookies and consent after it) in a
  text that says nothing of cookies before it.

Rules only fire on short lines, so a paragraph that merely mentions 版权 stays. Lines are
matched after folding the traditional characters of these phrases to simplified ones, so
the same rules serve Taiwan and Hong Kong portals.
"""

from __future__ import annotations

import functools
import re

from .datelines import is_dateline_only
from .textlines import FOLD_TRADITIONAL, TRADITIONAL_CHAR, squeeze

_SHORT = 120
_STRONG_RULES = [
    re.compile(p, re.I)
    for p in (
        r"ICP\s*[备证]|ICP\s*license|公网安备|网络文化经营许可证|互联网新闻信息服务许可证|增值电信业务经营许可证",
        r"未经(?:书面)?授权.{0,20}(?:转载|复制|使用)|不代表本(?:网|站)|本(?:网|站)(?:所)?刊(?:载|登)|转载请注明",
        r"电话\s*[:：].{0,60}传真\s*[:：]",
        # a site's standing notice: 免责声明：… / 腾讯声明：… (prose, but never the article)
        r"^\s*[【\[]?\s*[\w·]{0,6}(?:免责声明|声明|特别提示)\s*[】\]]?\s*[:：]",
        r"[【\[(（]\s*(?:责任编辑|责编|编辑)\s*[:：]?\s*[\w·]{1,10}\s*[】\])）]",
        r"^\s*[(（]\s*[\w·]{2,6}\s*编辑\s*[)）]\s*$",
        # standing notices: 版权归…所有, 股市有风险，投资需谨慎, "select the error and press Ctrl+Enter"
        r"版权归.{1,20}所有|股市有风险[，,\s]*投资需谨慎|ctrl.{0,12}enter",
        # "Follow the … section on Facebook, Instagram, TikTok, X and Threads."
        r"^follow\b.{0,60}\bon (?:facebook|twitter|x|instagram|tiktok|threads|linkedin|youtube)\b.{0,60}$",
        # a link to another story, however it reads: "RELATED: Strong days for A, B end in …",
        # "[Related: How to tune up a table saw]", "(MORE: Iceland Volcano Eruption: What We Know)"
        r"^[\[(]?\s*related(?: posts?| stories| articles?| content| reading| links?| coverage| videos?)?"
        r"\s*:\s*\S|"
        r"^[\[(]\s*more\s*:\s*\S|^(?-i:MORE)\s*:\s*\S",
        # podcast promotions: "Listen to Short Wave on Spotify, Apple Podcasts and Google Podcasts."
        r"^(?:listen to|(?:also )?available on)\b.{0,60}"
        r"\b(?:spotify|apple podcasts|google podcasts)\b.{0,60}$",
        # inbox promotions that read like a sentence ("Get all the latest news, reviews and
        # exclusives, direct to your inbox.", "Sign up for X newsletter for our top … inbox.")
        r"^(?:get|sign up|subscribe)\b.{0,80}\b(?:(?:in|to|into) your inbox|newsletters?)\b.{0,80}$",
        # picture and video credits: "Image: Kevin Winter / Getty Images", "Video by MEGA Media.",
        # "Source images by A, B and C/Getty Images.", "Lead image: …"
        r"^\(?\s*(?:(?:lead|top|main|header|source|cover|featured)\s+)?"
        r"(?:photo|photograph|image|picture|video|illustration)s?(?:\s+credits?)?\s*(?::|by\b)",
        # the agency's or a colleague's closing credit: "Fox News’ Jessica Napoli contributed to this report."
        r"\bcontributed (?:to )?(?:this|the) (?:report|story|article)\.?$",
        # the agency's pointer to more: "Follow AP's full coverage of Brexit at https://…"
        r"^(?:follow|more)\b.{0,80}\s:?\s*https?://\S+(?:\s+and\s+https?://\S+)?\.?$",
        # an editor's note on the text itself: "This interview has been edited for length and clarity."
        r"^(?:this|the|these|reviews?|answers?|responses?|quotes?|comments?|interviews?|conversations?)\b"
        r".{0,40}\b(?:been|was|were|are|is)\s+(?:lightly\s+)?(?:edited|condensed)\b.{0,30}\b(?:length|clarity)\b",
    )
]
# the other rules only fire on lines that are not prose
_LINE_RULES = [
    re.compile(p, re.I)
    for p in (
        r"copyright|\(c\)\s*\d{4}|©|版权所有|all rights reserved",
        r"^\s*[（(\[【]?\s*(?:责任编辑|责编|编辑|值班编辑|审核|校对|监制|审校)\s*[:：].{0,40}$",
        r"^\s*(?:关键词|关键字|标签|tags?)\s*[:：]|^.{0,8}热门关键[词字]\s*[:：]",
        r"^\s*(?:上一篇|下一篇|上一页|下一页|前一篇|后一篇)\s*[:：]?",
        r"^\s*分享到\s*[:：]?|^\s*(?:分享|转发)\s*[:：]\s*",
        r"^[\s【\[]*(?:打印|关闭|打印本页|关闭窗口|收藏|纠错|返回顶部|字号|大\s*中\s*小)[\s】\]|｜]*"
        r"(?:[\s【\[]*(?:打印|关闭|打印本页|关闭窗口|收藏|纠错|返回顶部|字号|大|中|小|默认)[\s】\]|｜]*)*$",
        r"^\s*(?:网友评论|我要评论|发表评论|查看评论|评论\s*\d+\s*条?)\s*$",
        r"^\s*联系我们\s*[:：]|^\s*(?:电话|邮箱|e-?mail|传真)\s*[:：].{0,40}$",
        r"^\s*(?:关于本站|关于我们|网站地图|联系我们|版权申明|版权声明|广告服务|招聘信息|联系合作)"
        r"(?:\s*[|｜]?\s*(?:关于本站|关于我们|网站地图|联系我们|管理团队|版权申明|版权声明|广告服务|招聘信息|"
        r"联系合作|友情链接|隐私政策|意见反馈))+\s*$",
        r"^\s*(?:首页|网站首页)\s*[>›»/]",
        r"^\s*[（(]?\s*(?:图片来源|图片来自|图源|资料图|资料图片)\s*[:：)）]?.{0,30}$",
        r"^\s*(?:扫一扫|扫描二维码|微信扫一扫|长按识别二维码).{0,40}$",
        r"^\s*[(（]?\s*本文来源\s*[:：].{0,30}$|^\s*原标题\s*[:：]",
        # font-size controls and "read on" links
        r"^[\s【\[]*(?:字型|字体|字级设定|调整字体|字体大小)\s*[:：︰].{0,12}$",
        r"^[\s【\[]*点击(?:浏览|进入|查看)(?:全文|浏览)?[\s】\]>》]*$",
        # a breadcrumb that ends at the article: "商业> 正文"
        r"^.{0,30}[>›»＞]\s*正文\s*$",
        # reporter credits on their own line (the names are in the author field):
        # 記者陳鈞凱／台北報導, 記者：邱雯琪 羅執中 台北報導, 【台灣新生報／記者蘇湘雲／台北報導】,
        # 國際中心／綜合報導, 北中心／北報導, 文/記者 範維,
        # (福州晚報記者 林安鎮 實習生 黃衛平 文/攝)
        r"^[【\[(（]?\s*(?:[\w·]{2,12}[／/])?\s*记者\s*[:：]?\s*[\w·]{2,4}(?:[、，,\s]+[\w·]{2,4})*\s*[／/\s]\s*"
        r"\w{1,6}报[导道]\s*[】\])）]?$",
        r"^\w{1,6}中心\s*[／/]\s*\w{1,6}报[导道]$",
        r"^文\s*[/／]\s*(?:记者\s*)?[\w·]{2,4}$",
        r"^[(（]\s*\w{0,8}记者\s*[\w·]{2,4}(?:\s+实习生\s*[\w·]{2,4})*\s*文\s*[/／]\s*摄\s*[)）]$",
        # an editor named after the site ("南方网编辑：谢晓"): an editor is no author
        r"^\s*[\w]{1,6}编辑\s*[:：]\s*[\w·]{2,10}\s*$",
        # the info line: its date and outlet are in the article's fields
        r"^[\s\[【(（]*(?:发布时间|发表时间|时间|日期)?\s*[:：]?\s*\d{4}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}\s*日?"
        r"(?:\s*\d{1,2}[:：]\d{2}(?:[:：]\d{2})?)?[\s\]】)）]*(?:(?:来源|稿源|编辑|责任编辑|点击|浏览)\s*[:：].{0,30})?$",
        r"^\s*(?:来源|稿源|文章来源|新闻来源)\s*[:：]\s*\S{1,30}"
        r"(?:\s+\d{4}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}\s*日?(?:\s*\d{1,2}[:：]\d{2}(?:[:：]\d{2})?)?)?\s*$",
        r"(?:facebook|google\s*plus|微博|微信公众号|微信)\s*(?:专页|page|账号)|(?:关注|follow).{0,10}(?:facebook|微博|微信)",
        r"^\s*[(（]?\s*(?:即时新闻|实时新闻)\s*[)）]?\s*$",
        r"^\s*(?:我来说两句|我要评论|发表评论|参与评论)\s*[(（]?\s*\d*\s*[)）]?\s*$",
        r"^(?:related|read more|read also|also read|see also|more from [\w ]{1,30}|recommended|watch|listen)"
        r"\s*:",
        r"^(?:advertisement|story continues(?: below)?|continue reading|recommended(?: stories| for you)?|"
        r"sign up for [\w ]{0,30}newsletters?|subscribe(?: now)?|share this (?:article|story)|"
        r"(?:share|follow us) on [\w ,]{1,40}|skip advertisement|click here to [\w ]{1,40}|"
        r"(?:article|story) continues below(?: this)?(?: ad| advertisement)?|"
        r"courtesy(?: of)? [\w .&'’-]{1,40}|"
        r"(?:read )?more (?:on|about) [\w '’-]{1,40}|"
        r"(?:\d+\s*)?comments?|tell us what you think(?:\.\.\.|…)?)\.?$",
        r"oops!?\s*something went wrong",
        # newsletter, subscription and app promotions
        r"^(?:subscribe to|sign up for|sign up to|get)\b.{0,60}\b(?:newsletters?|in your inbox)\b.{0,60}$",
        r"\b(?:subscribe to our|sign up (?:for|to) our|sign up to get it)\b.{0,40}\b(?:newsletters?|inbox)\b",
        r"^subscribe (?:to|now|today)\b.{0,80}$",
        r"^(?:install|download|get) the [\w ]{1,30} app\b.{0,40}$|^be the first to (?:get|know)\b.{0,30}$",
        # picture credits and the reporter's contact line
        r"^\(?\s*(?:photo|photograph|image|picture|gallery)(?:\s+credit)?s?\s*:\s*[^.]{1,60}\)?$",
        r"^(?:contact|email|reach)\b.{0,60}\b[\w.+-]+@[\w-]+\.[\w.]+\.?$",
        # a call for news tips: "上海滩微博#爆料#或短信爆料159… 一经采用最高奖励500元", "报料热线"
        r"(?:爆料|报料).{0,30}(?:\d{7,}|奖励|热线|平台)|(?:爆料|报料)(?:热线|平台|电话)",
        r"引用该篇文章|引用通告|trackback|可以实现快速翻页|^\s*[(（]\s*\d+\s*/\s*\d+\s*[)）]\s*$",
    )
]
_CLOSING_HEADINGS = re.compile(
    r"^\s*[【\[]?\s*(?:声明|免责声明|版权声明|版权与免责声明|.{2,12}版权与免责声明|版权说明|特别声明|郑重声明)"
    r"\s*[】\]]?\s*[:：]?\s*$"
)
# the index of a forum thread's replies under its first post ("回复线索：", "全部回复"): the
# article is the post, so the text ends there wherever it stands
_REPLY_HEADINGS = re.compile(
    r"^\s*[【\[]?\s*(?:回复线索|相关回复|所有回复|全部回复|回复列表|跟帖列表|网友回复|最新回复)"
    r"\s*[】\]]?\s*[:：]?\s*$"
)
# the link that closes each post of a forum thread ("← 返回", "[返回顶部]"): met three times or
# more, it separates the posts, and the article is the first
_POST_SEPARATOR = re.compile(r"^[\s←↑<«\[【]*(?:返回|返回顶部|回到顶部)[\s\]】]*$")
_MIN_SEPARATORS = 3
# a run of at least three short items separated by bars: a navigation or footer line
_BAR_NAV = re.compile(r"^(?:[^|｜]{1,10}[|｜]){3,}[^|｜]{0,10}$")
_BLOCK_HEADINGS = re.compile(
    r"^\s*[【\[]?\s*(?:相关阅读|相关新闻|相关文章|相关链接|相关报道|延伸阅读|推荐阅读|热门推荐|热点推荐|热门文章|"
    r"热门新闻|最近更新|最新更新|最新文章|最新资讯|猜你喜欢|精彩推荐|今日推荐|编辑推荐|大家都在看|热门排行|点击排行|"
    r"排行榜|更多精彩|更多阅读|往期回顾|专题推荐|图片推荐|视频推荐|更多相关新闻|更多相关的新闻|相关专题|相关评论|"
    r"更多\w{0,4}新闻|其他\w{0,4}新闻|"
    r"related(?: content| stories| articles| coverage| reading| links| posts?| videos?)?|"
    r"more (?:must-reads|stories|coverage|articles)? ?from [\w ]{1,30}|more (?:stories|coverage|to read)|"
    r"you (?:may|might) (?:also )?like(?:\.\.\.|…)?|people are also reading(?:\.\.\.|…)?|explore more|"
    r"read next|most popular|most read(?: in [\w ]{1,30})?|"
    r"trending(?: now)?|don['’]t miss|more great [\w ]{1,20} stories|editors['’]? picks)"
    r"\s*[】\]]?\s*[:：>»]?\s*$",
    re.I,
)
# a line in a link list: short and not a sentence
_LIST_LINE = re.compile(r"^.{1,60}$|^[-•·]\s.{1,140}$")
_SENTENCE_END = re.compile(r"[。！？!?”\"]$")


def fold(line: str) -> str:
    stripped = line.strip()
    return stripped.translate(FOLD_TRADITIONAL) if TRADITIONAL_CHAR.search(stripped) else stripped


def _is_prose(line: str) -> bool:
    """A sentence: it ends like one, or runs on past a comma."""
    return bool(re.search(r"[。！？!?]$", line)) or (len(line) > 40 and bool(re.search(r"[，,；;]", line)))


# the reporter's contact line and the agency's pointer to more ("Email Tariq Malik at
# tmalik@space.com or follow him @tariqjmalik.", "Reach the reporters on Twitter at
# http://twitter.com/…"); with a follow-me sentence it may run past a short line
_CONTACT = re.compile(
    r"^(?:contact|e-?mail|reach|have a tip\??|write to|you can reach)\b.{0,120}"
    r"(?:\b[\w.+-]+@[\w-]+\.[a-z]{2,}|twitter\.com/\w|(?<!\w)@\w{2,})",
    re.I,
)
_CONTACT_LINE = 200


# cached: trafilatura's and readability's texts share most of their lines, and each is
# filtered line by line against some thirty rules
@functools.lru_cache(maxsize=4096)
def is_furniture_line(line: str) -> bool:
    stripped = fold(line)
    if stripped and len(stripped) <= _CONTACT_LINE and _CONTACT.search(stripped):
        return True
    if not stripped or len(stripped) > _SHORT:
        return False
    if any(rule.search(stripped) for rule in _STRONG_RULES) or is_dateline_only(stripped):
        return True
    if _is_prose(stripped):
        return False
    if _BAR_NAV.match(stripped):
        return True
    return any(rule.search(stripped) for rule in _LINE_RULES)


# "[2005-08-21] 标题" / "标题 2005-07-13 09:00": one entry of a dated link list
_DATED_ENTRY = re.compile(
    r"^\s*(?:[\[【(（]?\s*(?:\d{4}[-/.年])?\d{1,2}[-/.月]\d{1,2}日?(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?\s*[\]】)）]?\s*\S.{0,50}"
    r"|.{2,50}?\s*[\[【(（]?(?:\d{4}[-/.年])?\d{1,2}[-/.月]\d{1,2}日?(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?[\]】)）]?)\s*$"
)
_MIN_LIST_RUN = 3


def _dated_list_lines(lines: list[str]) -> set[int]:
    """Indexes of runs of at least three dated link-list entries (related news, other posts)."""
    found: set[int] = set()
    run: list[int] = []
    for i, line in enumerate(lines):
        stripped = line.strip()
        if not stripped:
            continue
        if len(stripped) <= 70 and _DATED_ENTRY.match(stripped):
            run.append(i)
            continue
        if len(run) >= _MIN_LIST_RUN:
            found.update(run)
        run = []
    if len(run) >= _MIN_LIST_RUN:
        found.update(run)
    return found


_HEADLINE_WINDOW = 3
# a section label above an English headline (``Politics``, ``Tech & Science``); a Chinese
# 引题 above the headline is part of the article and stays
_KICKER = re.compile(r"^[A-Za-z][A-Za-z&'’-]*(?: [A-Za-z&'’-]+){0,2}$")


def _headline_key(text: str) -> str:
    return re.sub(r"\W+", "", text).casefold()


def without_headline(text: str, title: str | None) -> str:
    """``text`` without the headline repeated at its top (the title is its own field), nor the
    section kicker above it (``Politics``)."""
    lines = text.split("\n")
    if not title:
        return text
    key = _headline_key(title)
    for i, line in enumerate(lines[:_HEADLINE_WINDOW]):
        if _headline_key(line) == key:
            return "\n".join(lines[i + 1 :]).strip() if i + 1 < len(lines) else text
        if not _KICKER.match(line.strip()):
            break
    return text


_COOKIE_NOTICE = re.compile(
    r"^(?:this (?:web)?site uses cookies|we use cookies|we and our (?:partners|vendors) use cookies)"
    r"|^.{0,30}\bcookies?\b.{0,30}$",
    re.I,
)
_COOKIE = re.compile("cookie", re.I)
_COOKIE_WORD = re.compile(r"\bcookies?\b|\bconsent\b|\bopt[- ]out\b|personal (?:information|data)", re.I)
_CONSENT_WORD = re.compile(
    r"\bconsent\b|\bopt[- ]out\b|do not sell|personal (?:information|data)|privacy (?:policy|settings)", re.I
)


def _cookie_banner_start(lines: list[str]) -> int | None:
    """Where a consent banner's text left in the page begins: a line opening on cookies, from
    which on cookies are in a third of the lines and consent or opting out in two, while
    nothing before it mentions cookies (an article about cookies is not a banner)."""
    if not _COOKIE.search("\n".join(lines)):  # then _COOKIE_NOTICE matches no line
        return None
    rest = cookies = consent = 0
    start: int | None = None
    for i in range(len(lines) - 1, -1, -1):  # suffix counts, so this stays linear
        line = lines[i].strip()
        if not line:
            continue
        rest += 1
        cookies += bool(_COOKIE_WORD.search(line))
        consent += bool(_CONSENT_WORD.search(line))
        if rest >= 3 and cookies >= rest / 3 and consent >= 2 and _COOKIE_NOTICE.match(line):
            start = i
    if start is None or any(_COOKIE_WORD.search(line) for line in lines[:start]):
        return None
    return start


# A closing call to subscribe (a newsletter, the paper, a podcast): "Sign up for X's free
# newsletter to get …", "Get The Watchlist delivered every Thursday.", "Please subscribe today
# to …", "Start your … subscription today". It reads like a sentence, so only the last lines
# of a text are judged: higher up, "sign up"/"subscription" are as often the story's words.
_PROMOTION_START = r"(?:^|(?<=[.?!:\]\[*])\s*|\b(?:please|or|and|then)\s+)"
_CLOSING_PROMOTION = re.compile(
    _PROMOTION_START + r"(?:sign up|subscribe|start your\b.{0,60}\bsubscription|"
    r"(?:get|want)\b.{0,80}\b(?:delivered|subscriptions?|newsletters?|inbox))\b"
    r"|\bthank you for subscribing\b|\bthis newsletter may contain\b",
    re.I,
)
# the closing note on how to reach or follow the writer ("Follow her on Twitter @x, LinkedIn, and
# email her at …", "X can be reached at x@example.com.", "You can follow him on X, formerly
# known as Twitter."): in the last lines only, like the promotions
_CLOSING_CONTACT = re.compile(
    r"\bfollow(?:ed)?(?: (?:him|her|them|us|me))? on "
    r"(?:twitter|x|instagram|facebook|linkedin|threads|bluesky|mastodon)\b"
    r"|\b(?:can|may) be reached at\b|\be-?mail (?:him|her|them|us|me) at\b",
    re.I,
)
# a newsletter's name as the heading of its sign-up box, every word capitalised ("Pick Six
# Newsletter"); the blurb under it goes with it ("Sign up for our newsletter" is a call, not a heading)
_NEWSLETTER_HEADING = re.compile(r"^(?:[A-Z0-9][\w'’&-]*\s+){0,5}Newsletters?$")
_CLOSING_LINES = 3
_PROMOTION_LINE = 400


def _closing_promotions(lines: list[str]) -> set[int]:
    """Indexes of subscription promotions and the writer's contact notes among the last three
    lines of a text."""
    tail = [i for i, line in enumerate(lines) if line.strip()][-_CLOSING_LINES:]
    found: set[int] = set()
    for n, i in enumerate(tail):
        line = fold(lines[i])
        if _NEWSLETTER_HEADING.match(line):
            found.add(i)
            if n + 1 < len(tail) and len(fold(lines[tail[n + 1]])) <= _CONTACT_LINE:
                found.add(tail[n + 1])
        elif len(line) <= _PROMOTION_LINE and (
            _CLOSING_PROMOTION.search(line) or _CLOSING_CONTACT.search(line)
        ):
            found.add(i)
    return found


def remove_furniture(text: str) -> str:
    """Drop furniture lines, headed link lists, dated link lists and closing subscription
    promotions from extracted text."""
    out: list[str] = []
    lines = text.split("\n")
    folded = [fold(line) for line in lines]  # each line folded once, for every rule
    dropped = _dated_list_lines(lines) | _closing_promotions(lines)
    tail_start = int(len(lines) * 0.6)
    banner = _cookie_banner_start(lines)
    separators = sum(1 for line in folded if _POST_SEPARATOR.match(line))
    kept: list[int] = []  # indexes of the lines in ``out``
    i = 0
    while i < len(lines):
        line = lines[i]
        if (i >= tail_start and _CLOSING_HEADINGS.match(folded[i])) or i == banner:
            break
        if separators >= _MIN_SEPARATORS and _POST_SEPARATOR.match(folded[i]) and any(
            _is_prose(folded[k]) for k in kept
        ):
            break
        if _REPLY_HEADINGS.match(folded[i]) and any(_is_prose(folded[k]) for k in kept):
            break
        if _BLOCK_HEADINGS.match(folded[i]):
            i += 1
            while i < len(lines) and (
                not lines[i].strip()
                or (_LIST_LINE.match(lines[i].strip()) and not _SENTENCE_END.search(lines[i].strip()))
            ):
                i += 1
            continue
        if i not in dropped and not is_furniture_line(line):
            out.append(line)
            kept.append(i)
        i += 1
    return "\n".join(out).strip()


# a line that only separates menu items: "│", "|", "\", "·"
_SEPARATOR_ONLY = re.compile(r"^[\s|｜│\\/·•>»\-–]*$")
_MIN_EDGE_LINKS = 3
_MENU_LABEL = 10  # characters of a label among menu links


# the items of a tag or category row: "stock car brasil, stock car cascavel, stock car taruma"
_ROW_ITEMS = re.compile(r"\s*[,，、|｜│]\s*")


def _links_in_row(key: str, links: set[str]) -> int:
    """How many of the page's link texts ``key`` is made of when it is a row of three or more
    of them and nothing else (a tag list, ``a, b, c``); 0 otherwise."""
    items = [item for item in _ROW_ITEMS.split(key) if item]
    return len(items) if len(items) >= _MIN_EDGE_LINKS and all(i in links for i in items) else 0


def _link_run(lines: list[str], links: set[str]) -> int:
    """Length of the menu at the head of ``lines``: up to its last link line, in a run of link
    lines (or rows of links, ``a, b, c``), separators and short labels (``Language``, ``串流版``)
    where links are the majority — one label may stand at the run's outer edge (a sidebar
    that closes on ``期待您的参与``); 0 when it holds fewer than three of the page's link texts."""
    linked = other = end = 0
    for i, line in enumerate(lines):
        if _SEPARATOR_ONLY.match(line):
            continue
        key = squeeze(line.strip().rstrip("\\|｜│ "))
        row = 0 if key in links else _links_in_row(key, links)
        if key in links or row:
            linked += row or 1
            end = i + 1
        elif len(key) <= _MENU_LABEL and not _SENTENCE_END.search(key) and other <= linked:
            other += 1
        else:
            break
    return end if linked >= _MIN_EDGE_LINKS else 0


def _is_label(line: str) -> bool:
    key = line.strip()
    return 0 < len(key) <= _MENU_LABEL and not _SENTENCE_END.search(key) and not _is_prose(key)


_BULLET = re.compile(r"^\s*[-•·*]\s+(?P<item>\S.*)$")
_TAIL_SHARE = 0.6  # link lists are looked for in the last 40 % of the text


def _without_bulleted_links(lines: list[str], links: set[str]) -> list[str]:
    """``lines`` without the bulleted lists of links to other stories in their last 40 %:
    three or more bulleted lines in a row, each the whole text of one of the page's links.
    A list of the article's own (recipe steps, results) is no link list and stays."""
    start = int(len(lines) * _TAIL_SHARE)
    drop: set[int] = set()
    run: list[int] = []
    for i in range(start, len(lines) + 1):
        match = _BULLET.match(lines[i]) if i < len(lines) else None
        if match and squeeze(match.group("item")) in links:
            run.append(i)
            continue
        if len(run) >= _MIN_EDGE_LINKS:
            drop.update(run)
        run = []
    return [line for i, line in enumerate(lines) if i not in drop] if drop else lines


def without_link_edges(text: str, link_texts: set[str]) -> str:
    """``text`` without the menus an extractor kept at its start or end: a run of at least
    three lines that are each the whole text of one of the page's links (``link_texts``,
    squeezed), such as a site menu or a list of other stories, or a row of them (a tag list,
    ``a, b, c``, with its label); and without bulleted lists of links in its last 40 %. A
    headline that is a link on its own stays; so does a text that would be left with nothing."""
    original = text.split("\n")
    lines = _without_bulleted_links(original, link_texts)
    head = _link_run(lines, link_texts)
    tail = _link_run(lines[head:][::-1], link_texts)
    if tail and len(lines) - tail - 1 > head and _is_label(lines[len(lines) - tail - 1]):
        tail += 1  # the label over a closing run of links: "Tags", "Topics:"
    kept = lines[head : len(lines) - tail]
    if len(kept) < len(original) and any(line.strip() and squeeze(line) not in link_texts for line in kept):
        return "\n".join(kept).strip()
    return text


# a blog or forum post signed with its poster and time: "由海姑娘张贴 @ 2005-06-14 03:25:55",
# "ggjjzhzz 发表于 2005-9-15 11:46:00", "Posted by Jane at 10:12 PM"
_POST_SIGNATURE = re.compile(
    r"^(?:由\s*\S{1,20}?\s*(?:张贴|发表|发布)\s*(?:@|于)?|\S{1,20}\s*发表于)\s*\d{4}\s*[-/.年]\s*\d{1,2}"
    r"|^posted by\s+\S.{0,40}\b(?:at|on|@)\s+\S",
    re.I,
)
# what a post's footer holds besides the signature: comment counts and links
_POST_FOOTER_REST = re.compile(r"^(?:共\s*\d+\s*[篇条]评论|发表评论|阅读全文|\d+\s*comments?\b)", re.I)


def first_post_only(text: str, page_lines: list[str]) -> str:
    """On a page of several signed posts (a blog's month archive, where each entry closes on
    ``由X张贴 @ date``), the article is the first post: ``text`` is cut where the second one
    begins. Pages with one signed post (or none) are left alone."""
    signatures = [i for i, line in enumerate(page_lines) if _POST_SIGNATURE.match(line.strip())]
    if len(signatures) < 2:
        return text
    lines = text.split("\n")
    cut = next((i for i, line in enumerate(lines) if _POST_SIGNATURE.match(line.strip())), None)
    if cut is None:
        # the extractor dropped the footers: cut where the next entry's first line stands
        after = signatures[0] + 1
        while after < len(page_lines) and (
            _POST_FOOTER_REST.match(page_lines[after].strip()) or not page_lines[after].strip()
        ):
            after += 1
        if after < signatures[1]:
            key = squeeze(page_lines[after])
            cut = next((i for i, line in enumerate(lines) if key and squeeze(line) == key), None)
    if not cut:
        return text
    return "\n".join(lines[:cut]).strip()
