"""Each extraction rule, both ways: what it removes or finds, and what it must leave alone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from pipelines.extraction import apply_template, decode_html, extract_article, learn_template
from pipelines.extraction.body import BodyCandidate, choose_body
from pipelines.extraction.boilerplate import remove_furniture, without_headline
from pipelines.extraction.dates import date_from_url, find_date, parse_date
from pipelines.extraction.metadata_zh import (
    byline_authors,
    closing_authors,
    name_line,
    plausible_author,
    source_of,
)
from pipelines.extraction.titles import clean_title, pick_h1

CST = timezone(timedelta(hours=8))
PARAGRAPH = (
    "柳州高新区推进以人为本的产城融合发展，前进的脚步踏石留印，"
    "成为广西第一个规模以上工业总产值突破千亿元的产业新城。"
)


# --- decoding -------------------------------------------------------------------------------


def test_declared_gbk_page_decodes() -> None:
    html = '<html><head><meta charset="gbk"></head><body><p>中华人民共和国</p></body></html>'
    assert "中华人民共和国" in decode_html(html.encode("gbk"))


def test_gb2312_declaration_is_read_as_gb18030() -> None:
    # 镕 is outside GB2312 but inside GBK/GB18030, as on real "gb2312" pages
    html = '<meta http-equiv="Content-Type" content="text/html; charset=gb2312"><p>朱镕基</p>'
    assert "朱镕基" in decode_html(html.encode("gb18030"))


def test_page_declaring_gb2312_but_utf8_is_utf8() -> None:
    html = '<meta charset="gb2312"><p>新华社北京电</p>'
    assert "新华社北京电" in decode_html(html.encode("utf-8"))


def test_big5_page_decodes() -> None:
    html = '<meta charset="big5"><p>臺灣新聞</p>'
    assert "臺灣新聞" in decode_html(html.encode("big5"))


def test_http_charset_is_used_when_markup_says_nothing() -> None:
    assert "新闻" in decode_html("<p>新闻新闻新闻</p>".encode("gbk"), http_charset="GBK")


def test_corpus_wrapper_encoding_is_used() -> None:
    body = '<text id="http://a.cn/1" title="x" encoding="gb2312">\n<html><p>经济日报</p></html>'.encode("gbk")
    assert "经济日报" in decode_html(body)


def test_undecodable_bytes_do_not_raise() -> None:
    assert isinstance(decode_html(b"\xff\xfe\xfa" * 100 + b"<p>x</p>"), str)


# --- bad input --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "content_type", "reason"),
    [
        (b"", None, "empty"),
        (b"   \n  ", None, "empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4, None, "not_html"),
        (b"%PDF-1.4 binary", "application/pdf", "not_html"),
        (b"just some words without markup", None, "not_html"),
    ],
)
def test_bad_input_gives_a_reason(body: bytes, content_type: str | None, reason: str) -> None:
    result = extract_article(body, "http://example.com/a", content_type=content_type)
    assert result.article is None
    assert result.is_article is False
    assert result.reason == reason


def test_truncated_html_does_not_raise() -> None:
    body = ("<html><head><title>半截页面</title></head><body><div><p>" + PARAGRAPH * 3).encode("utf-8")
    result = extract_article(body[: len(body) - 7], "http://news.example.cn/2023/0109/1.html")
    assert result.reason in (None, "too_short", "listing_page") or result.article is not None


@pytest.mark.parametrize(
    "body",
    [
        b"<html><head><title>x</title></head></html>",  # no <body>: readability's assert
        b"<frameset><frame src=a></frameset>",
        b"<div>" * 5000 + b"deep",
        "<html><body><p>控制字符\x00\x0b在这里</p></body></html>".encode(),
    ],
)
def test_odd_documents_do_not_raise(body: bytes) -> None:
    result = extract_article(body, "http://example.com/2023/01/09/x.html")
    assert result.is_article is False
    assert result.reason


def test_markup_without_text_is_not_an_article() -> None:
    result = extract_article(b"<html><body><div><img src=a.png></div></body></html>", "http://a.com/x")
    assert result.is_article is False
    assert result.reason in ("empty", "too_short")


# --- furniture ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "line",
    [
        "皖ICP备2022009963号-3",
        "京公网安备 11000002000001号",
        "Copyright © 2005-2018 创投网 - www.xunjk.com All rights reserved",
        "版权所有 中国某某网",
        "责任编辑：李四",
        "（责任编辑：王五）",
        "关键词: 知识产权 示范基地",
        "上一篇：柳州高新区十年",
        "下一篇：广西外贸增长",
        "分享到：",
        "【打印】【关闭】",
        "网友评论",
        "關於我們 | About us | 聯繫我們 | 廣告服務 | 法律聲明",
        "未经授权禁止转载、摘编、复制及建立镜像",
        "（图片来源:柳州高新区）",
        "你可以使用这个链接引用该篇文章 http://a.cn/1",
        "(本文来源：京华时报)",
        "本篇新闻热门关键词:",
        "字型：",
        "調整字體︰",
        "【字体：大 中 小】",
        "記者陳鈞凱／台北報導",
        "記者：邱雯琪 羅執中 台北報導",
        "國際中心／綜合報導",
        "文/記者 範維",
        "(福州晚報記者 林安鎮 實習生 黃衛平 文/攝)",
        "[点击浏览全文]",
        "點擊進入>>",
        "商业> 正文",
        "南方网编辑：谢晓",
        "本文版權歸醫藥日報所有",
        "本站提醒您：股市有风险，投资需谨慎。",
        '如果您在本页面发现错误，请先用鼠标选择出错的内容片断，然后同时按下"CTRL"与"ENTER"键，以便将错误及时通知我们。',
    ],
)
def test_furniture_line_goes(line: str) -> None:
    text = f"{PARAGRAPH}\n{line}\n{PARAGRAPH}"
    assert remove_furniture(text) == f"{PARAGRAPH}\n{PARAGRAPH}"


@pytest.mark.parametrize(
    "line",
    [
        # the same words inside real sentences stay
        "该公司表示，版权所有者应当依法维权，未经许可使用他人作品将承担法律责任，这一点在新法中写得很清楚。",
        "记者注意到，关键词搜索量在过去一周翻了一番，其中“新能源”居首。",
        "他说：“上一篇论文发表后，我们又做了三年实验。”",
        "编辑部的同事们连夜赶稿，终于在凌晨完成了这期特刊的全部版面。",
        "柳州产新能源汽车畅销全国乃至海外",
        "专家认为，股市有风险并不意味着不该投资，关键在于分散配置。",
        "他是报社的总编辑，也是这部小说的作者，笔名叫做南方。",
        "点击率最高的视频来自一位农民，他用手机记录了家乡的变化。",
        "字体设计师王敏说，汉字的美在于结构。",
        "記者會上，他說台北報導的數字有誤。",
    ],
)
def test_sentences_mentioning_furniture_words_stay(line: str) -> None:
    text = f"{PARAGRAPH}\n{line}"
    assert remove_furniture(text) == text


def test_headed_link_list_goes_with_its_heading() -> None:
    links = "广西外贸前8月增长\n多地出台措施支持新能源汽车消费\n中秋假期国内旅游出游7340万人次"
    text = f"{PARAGRAPH}\n相关阅读\n{links}"
    assert remove_furniture(text) == PARAGRAPH


def test_more_news_heading_goes_with_its_list() -> None:
    text = f"{PARAGRAPH}\n更多兩岸新聞\n大陸客續增 香港迪士尼盈利升逾倍\n美重啟海外賬戶申報"
    assert remove_furniture(text) == PARAGRAPH


def test_traditional_heading_is_recognised() -> None:
    text = f"{PARAGRAPH}\n相關新聞\n無錫醫改啟動\n香港樓市回暖"
    assert remove_furniture(text) == PARAGRAPH


def test_english_related_block_goes() -> None:
    story = "The cartoonists looked back at a year of politics, weather and sport in their final panels."
    links = "- Taylor Swift Is TIME's Person of the Year\n- The Best Books of 2023"
    text = f"{story}\nMore Must-Reads From TIME\n{links}"
    assert remove_furniture(text) == story


STORY = "The council approved the budget on Tuesday after a long debate about school funding."


@pytest.mark.parametrize(
    "line",
    [
        "Saturday 23 December 2023 05:39, UK",
        "Updated Dec. 23, 2023, 7:58 AM UTC",
        "Posted: Dec 22, 2023 8:25 AM EST | Last Updated: January 2, 2024",
        "December 6, 2023",
        "Be the first to get Breaking News",
        "Install the Sky News app for free",
        "Get the latest updates right in your inbox. Subscribe to NJ.com’s newsletters.",
        "Sign up for our daily newsletter",
        "Want to keep up with breaking news? Subscribe to our email newsletter.",
        "You’re reading the Today’s Opinions newsletter. Sign up to get it in your inbox.",
        "Subscribe to Independent Premium to bookmark this article",
        "Follow the New York Times Opinion section on Facebook, Instagram, TikTok, X and Threads.",
        "(Photo: Acorn TV)",
        "Gallery Credit: Carena Liptak",
        "Contact reporter Greyson Steele at gsteele@battlecreekenquirer.com",
    ],
)
def test_english_furniture_line_goes(line: str) -> None:
    assert remove_furniture(f"{STORY}\n{line}\n{STORY}") == f"{STORY}\n{STORY}"


@pytest.mark.parametrize(
    "line",
    [
        "This story was originally published December 22, 2023, 11:09 AM.",
        "On December 6, 2023 the council met again to vote on the final budget.",
        "Get the kids ready: the first day of school is Monday, the district said.",
        "Subscribers were told the newsletter would move to a weekly schedule.",
        "Follow-up tests on the data showed the same pattern, the researchers said.",
        "The photo: a man on a bench, shot in 1962, became the most famous image of the decade.",
        "Contact tracing began at once, officials said, and 40 people were tested.",
    ],
)
def test_english_sentences_with_dates_or_promo_words_stay(line: str) -> None:
    text = f"{STORY}\n{line}"
    assert remove_furniture(text) == text


@pytest.mark.parametrize(
    "heading", ["DON'T MISS", "More Great WIRED Stories", "You may also like...", "Most read in world news"]
)
def test_english_promo_blocks_go(heading: str) -> None:
    links = "China furious at Macron for Hong Kong protest jibe [INSIGHT]\nLakers vs Nets: NBA decides"
    assert remove_furniture(f"{STORY}\n{heading}\n{links}") == STORY


def test_bulleted_related_list_goes_with_its_heading() -> None:
    links = (
        "- Essay: After My Parents Died, I Lost the Christmas Spirit . Now It's Slowly Coming Back\n"
        "- You’ve Heard of Long COVID. Long Flu Is a Health Risk, Too"
    )
    assert remove_furniture(f"{STORY}\nMore From TIME\n{links}") == STORY
    # the same bullets without a heading are the article's own list
    assert remove_furniture(f"{STORY}\n{links}") == f"{STORY}\n{links}"


COOKIE_BANNER = (
    "This website uses cookies to enhance user experience and to analyze performance and traffic.\n"
    "Accept Cookies\n"
    "Cookie Preferences\n"
    "We do not allow you to opt-out of our certain cookies, as they are necessary.\n"
    "Do Not Sell My Personal Information"
)


def test_cookie_consent_banner_goes() -> None:
    assert remove_furniture(f"{STORY}\n{STORY}\nX\n{COOKIE_BANNER}") == f"{STORY}\n{STORY}\nX"
    # a candidate that is nothing but the banner is empty: the other method's text is used
    assert remove_furniture(f"Cookie List\n{COOKIE_BANNER}") == ""


def test_article_about_cookie_consent_stays() -> None:
    article = (
        "Regulators want simpler cookie consent banners across the EU, officials said on Monday.\n"
        "The proposal would let people reject all cookies with one click and opt out once for every site.\n"
        "Cookie banners\n"
        "Sites would have to honour a browser setting instead of asking for consent on each visit.\n"
        "Publishers warned that fewer cookies would mean less revenue from personal data.\n"
        "A vote is expected next year."
    )
    assert remove_furniture(article) == article


def test_article_about_cookies_stays() -> None:
    article = (
        "Google delays the end of third-party cookies again\n"
        "Chrome will keep supporting third-party cookies until next year, the company said.\n"
        "Advertisers had asked for more time to test alternatives to tracking cookies.\n"
        "Regulators in the UK are reviewing the plan, which critics say favours Google's own ads.\n"
        "The company said it would publish a timeline in the spring."
    )
    assert remove_furniture(article) == article


def test_headline_and_kicker_leave_the_body() -> None:
    title = "Like British cheddar? Enjoy it while you can still find it"
    text = f"Politics\n{title}\nCheese deadline arrives without a new deal\n{STORY}"
    assert without_headline(text, title) == f"Cheese deadline arrives without a new deal\n{STORY}"
    assert without_headline(f"{title}\n{STORY}", title) == STORY


def test_headline_words_later_in_the_body_stay() -> None:
    title = "Council approves budget"
    # not at the top, or after a sentence: the body's own line
    text = f"{STORY}\nCouncil approves budget\n{STORY}"
    assert without_headline(text, title) == text
    lead = "Seeking a bigger role for a big rocket by Jeff Foust"
    assert (
        without_headline(f"{lead}\n{STORY}", "Seeking a bigger role for a big rocket") == f"{lead}\n{STORY}"
    )
    assert without_headline(title, title) == title  # a body that is only its headline is kept


def test_heading_word_inside_a_paragraph_does_not_cut() -> None:
    text = f"最近更新的数据显示，{PARAGRAPH}\n{PARAGRAPH}"
    assert remove_furniture(text) == text


def test_dated_link_list_goes() -> None:
    text = f"{PARAGRAPH}\n[2005-08-21] 为什么总要面对呢\n[2005-08-17] 无序列表\n[2005-07-13] 谁来补偿"
    assert remove_furniture(text) == PARAGRAPH


def test_one_dated_entry_stays() -> None:
    text = f"[2005-08-21] 为什么总要面对呢\n{PARAGRAPH}"
    assert remove_furniture(text) == text


@pytest.mark.parametrize(
    "line",
    [
        "2022-09-14 09:37:15 来源:广西日报",
        "2012年01月12日 19:10",
        "来源：证券时报网",
        "发布时间：2012-01-12 17:21:17 【编辑：金硕】",
        "(曹文明 編輯)",
        "免责声明：本文仅代表作者个人观点，与凤凰网无关。其原创性以及文中陈述文字和内容未经本站证实。",
        "腾讯声明：频道所载文章、数据等内容纯属作者个人观点，仅供投资者参考，并不构成投资建议。",
    ],
)
def test_info_line_and_notices_go(line: str) -> None:
    assert remove_furniture(f"{line}\n{PARAGRAPH}") == PARAGRAPH


def test_dates_and_sources_inside_sentences_stay() -> None:
    lead = "2022年9月14日，广西日报记者从柳州高新区获悉，"
    text = f"{lead}{PARAGRAPH}\n消息来源：知情人士称，该项目将于明年投产。"
    assert remove_furniture(text) == text


def test_closing_disclaimer_cuts_the_rest() -> None:
    text = "\n".join([PARAGRAPH] * 4 + ["声明：", "• 凡注明为其他媒体来源的信息，均为转载自其他媒体"])
    assert remove_furniture(text) == "\n".join([PARAGRAPH] * 4)


# --- Chinese bylines, sources, dates ------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "names"),
    [
        ("本报特约通讯员 廖婧", ["廖婧"]),
        ("作者：宋怡 杨志华", ["宋怡", "杨志华"]),
        ("光明日报记者 王建宏 张文攀", ["王建宏", "张文攀"]),
        ("□ 本报记者 葛灵丹", ["葛灵丹"]),
        ("顶端新闻·河南商报记者马俊峰/文受访者供图", ["马俊峰"]),
        ("文：眉间尺", ["眉间尺"]),
        ("2022-09-14 09:37:15 来源:广西日报 作者:张三 责任编辑:李四", ["张三"]),
        # Taiwan and Hong Kong portals: traditional labels, 報導 places, credits in brackets
        ("記者陳鈞凱／台北報導", ["陳鈞凱"]),
        ("記者：邱雯琪 羅執中 台北報導", ["邱雯琪", "羅執中"]),
        ("【台灣新生報／記者蘇湘雲／台北報導】", ["蘇湘雲"]),
        ("文/記者 範維", ["範維"]),
        ("(福州晚報記者 林安鎮 實習生 黃衛平 文/攝)", ["林安鎮", "黃衛平"]),
        ("□快報記者 劉峻", ["劉峻"]),
        ("本报记者 张三 通讯员 李四 王五", ["张三", "李四", "王五"]),
    ],
)
def test_byline_gives_authors(line: str, names: list[str]) -> None:
    assert byline_authors(line) == names


@pytest.mark.parametrize(
    "line",
    [
        "责任编辑：李四",
        "来源：巴彦淖尔日报 编辑：苏亮",
        "首页｜新华社记者看东北｜人物专访",  # a breadcrumb, handled by the caller
        "（文章处理费）",
        "責任編輯：李四",
        # what the reporter did is no byline
        "記者了解到，目前省血液中心曾經在去年12月推出過意外保險。",
        "记者了解到，今年全省共有两百多家医院参与。",
        "記者調查",
        "記者走訪第一站是白下中醫院。",
    ],
)
def test_editors_and_non_bylines_give_no_author(line: str) -> None:
    if "首页" in line:
        return
    assert byline_authors(line) == [] or "李四" not in byline_authors(line)
    assert closing_authors(line) == []


def test_meta_author_that_names_the_site_is_no_author() -> None:
    assert plausible_author("廖婧", "创投网")
    assert not plausible_author("创投网", "创投网")
    assert not plausible_author("gb.cri.cn")  # a web address
    assert not plausible_author("中國時報")  # a paper


def test_closing_credit_with_two_labels() -> None:
    assert closing_authors("推出更多的關愛措施。(通訊員 宋黎勝 記者 黃淼君)") == ["宋黎勝", "黃淼君"]
    assert closing_authors("保险公司推出新险种。(通讯员 宋黎胜 记者 黄淼君)") == ["宋黎胜", "黄淼君"]


def test_closing_reporter_in_parentheses() -> None:
    assert closing_authors("（总台记者 张倩）") == ["张倩"]
    assert closing_authors("组委会还成立了投资俱乐部。(信报记者 蔡雪婧)") == ["蔡雪婧"]
    assert closing_authors("（袁源）") == ["袁源"]
    assert closing_authors("这是一句正常的话。") == []


def test_bare_name_line() -> None:
    assert name_line("胡平") == ["胡平"]
    assert name_line("赵延东、风笑天") == ["赵延东、风笑天"]  # the page's own separator stays
    assert name_line("duscha") == ["duscha"]
    assert name_line("网易娱乐") == []
    assert name_line("Subject") == []


def test_source_line() -> None:
    assert source_of("2022-09-14 09:37:15 来源:广西日报") == "广西日报"
    assert source_of("[ 黄宇 ] 来源：[ 国际金融报 ]") == "国际金融报"
    assert source_of("时间：2022-01-01 来源：新华网 作者：张三") == "新华网"
    assert source_of("数据来源于国家统计局的年度报告") is None
    # in brackets the outlet may hold spaces; traditional labels read the same
    assert source_of("[來源：Cult of Mac]") == "Cult of Mac"
    assert source_of("【來源:中央社】2012-01-11") == "中央社"
    assert source_of("来源：新华网 作者：王五") == "新华网"  # unbracketed: a space ends it


@pytest.mark.parametrize(
    ("text", "expected", "time_known"),
    [
        ("2023年1月9日 10:05", datetime(2023, 1, 9, 10, 5, tzinfo=CST), True),
        ("发布时间：2023-01-09 10:05:22", datetime(2023, 1, 9, 10, 5, 22, tzinfo=CST), True),
        ("2023/1/9", datetime(2023, 1, 9, tzinfo=CST), False),
        ("2022年02月13日07:48 | 来源：新华日报", datetime(2022, 2, 13, 7, 48, tzinfo=CST), True),
        # an en-US ASP server's clock (cdp1998.org): month first, 12-hour
        ("发布日期： 7/5/2005 9:23:57 PM", datetime(2005, 7, 5, 21, 23, 57, tzinfo=CST), True),
        ("发布日期： 12/25/2005 12:05 AM", datetime(2005, 12, 25, 0, 5, tzinfo=CST), True),
    ],
)
def test_chinese_dates(text: str, expected: datetime, time_known: bool) -> None:
    found = find_date(text)
    assert found is not None
    assert found.value == expected
    assert found.time_known is time_known


def test_not_a_date() -> None:
    assert find_date("共有2023人参加，增长了13.5%") is None
    assert find_date("1889年1月9日") is None  # before the web
    # a slash date without a 12-hour clock is ambiguous (7 May or July 5): not read
    assert find_date("比分 7/5/2005 前") is None
    assert find_date("25/12/2005 9:05 PM") is None  # no 25th month


def test_date_in_url_path() -> None:
    for url in (
        "https://www.xunjk.com/yanjiu/2022/0914/093715.shtml",
        "http://business.sohu.com/20220914/n1.shtml",
        "https://example.com/2022/09/14/story/",
        "https://example.com/news/2022-09-14/story.html",
    ):
        found = date_from_url(url)
        assert found is not None and found.value.date().isoformat() == "2022-09-14", url
        assert found.time_known is False
    assert date_from_url("https://example.com/article/123456789/") is None


def test_iso_and_english_dates() -> None:
    iso = parse_date("2023-12-21T08:00:57-05:00")
    assert iso is not None and iso.value == datetime(2023, 12, 21, 13, 0, 57, tzinfo=UTC)
    english = parse_date("December 21, 2023 10:05 AM")
    assert english is not None and english.value == datetime(2023, 12, 21, 10, 5, tzinfo=UTC)
    assert parse_date("no date here") is None
    midnight = parse_date("2023-12-22T00:00:00-06:00")
    assert midnight is not None and midnight.time_known is False


def test_zone_abbreviations_keep_their_offset() -> None:
    pacific = parse_date("December 19, 2023 9:30 PM PST")
    assert pacific is not None and pacific.value.utcoffset() == timedelta(hours=-8)
    assert pacific.value.day == 19  # the day as the page printed it, not UTC's next day
    summer_pacific = parse_date("July 4, 2023 5:06 PM PT")
    assert summer_pacific is not None and summer_pacific.value.utcoffset() == timedelta(hours=-7)
    eastern = parse_date("December 23, 2023 08:26 AM ET")
    assert eastern is not None and eastern.value.utcoffset() == timedelta(hours=-5)
    unknown = parse_date("December 19, 2023 9:30 PM")
    assert unknown is not None and unknown.value.utcoffset() == timedelta(0)


# --- titles --------------------------------------------------------------------------------------


def test_title_suffix_and_prefix_are_stripped() -> None:
    assert clean_title("焦点观察:柳州高新区十年高质量发展综述_创投网", site_names=["创投网"]) == (
        "焦点观察:柳州高新区十年高质量发展综述"
    )
    assert (
        clean_title("Markets rally on rate hopes | CNN", site_names=["CNN"]) == "Markets rally on rate hopes"
    )
    assert clean_title("工商部门初定SKII广告属于虚假宣传-搜狐财经", site_names=["搜狐财经"]) == (
        "工商部门初定SKII广告属于虚假宣传"
    )
    assert clean_title("拿起跨界“指挥棒”她跟学生“较着劲儿”成长--大河网", site_names=[]) == (
        "拿起跨界“指挥棒”她跟学生“较着劲儿”成长"
    )


def test_title_outlet_suffix_and_section_prefix_go() -> None:
    assert clean_title("柳州高新区十年发展综述-中国经济网") == "柳州高新区十年发展综述"
    assert (
        clean_title("Opinion | Why the Fed should wait | CNN", site_names=["CNN"])
        == "Why the Fed should wait"
    )


def test_title_channel_parts_and_page_marks_go() -> None:
    title = "拿出10万元投资房产 小两口尝试以钱生钱(图)_新浪房产_新浪网"
    assert clean_title(title, site_names=["新浪网"]) == "拿出10万元投资房产 小两口尝试以钱生钱"
    discuz = (
        "社会资本、人力资本与下岗职工的再就业(页 1) - 学术前沿 - 三校社会学论坛 - powered by Discuz! Archiver"
    )
    assert clean_title(discuz) == "社会资本、人力资本与下岗职工的再就业"


def test_title_separator_inside_headline_stays() -> None:
    assert clean_title("Covid-19 cases fall - BBC News", site_names=["BBC News"]) == "Covid-19 cases fall"
    assert clean_title("A plain headline", site_names=["CNN"]) == "A plain headline"


def test_h1_that_agrees_with_title_wins() -> None:
    assert pick_h1(
        ["Opinion | Let kids be kids and leave child labor laws alone"],
        ["Let kids be kids | Editorial"],
        require_agreement=False,
    ) == ("Let kids be kids and leave child labor laws alone")
    # a label at both ends, as sun-sentinel.com prints it
    assert pick_h1(
        ["Opinion | Let kids be kids and leave child labor laws alone | Editorial"],
        ["Let kids be kids and leave child labor laws alone | Editorial – Sun Sentinel"],
        require_agreement=False,
    ) == ("Let kids be kids and leave child labor laws alone")
    # a bar inside a headline that is not a section label stays
    assert pick_h1(
        ["Best Spy Apps for iPhone 2023 | Top 10 Reviewed In-Depth"],
        ["Best Spy Apps for iPhone 2023 | Top 10 Reviewed In-Depth"],
        require_agreement=False,
    ) == ("Best Spy Apps for iPhone 2023 | Top 10 Reviewed In-Depth")
    # an <h1> that is the portal logo is not the headline
    assert pick_h1(["松花江网"], ["土豆不“土” 土豆无“土” 松花江网"], require_agreement=True) is None


# --- template learning ----------------------------------------------------------------------------


def test_template_lines_repeating_across_a_site_are_learned_and_removed() -> None:
    footer = "欢迎关注创投网微信公众号 获取更多资讯"
    stories = [
        "柳州高新区十年发展",
        "广西外贸持续增长",
        "新能源汽车畅销海外",
        "中秋假期出游火热",
        "铁路投资稳步推进",
    ]
    body = "记者从有关部门获悉，相关工作取得新进展，各方面反响积极，后续将持续推进并及时公布最新情况。"
    texts = [f"{story}的报道正文。{body}\n{footer}\n本文共 {i}00 字" for i, story in enumerate(stories, 1)]
    template = learn_template(texts)
    assert footer.casefold() in template
    assert "本文共 0 字" in template  # numbers fold together
    cleaned = apply_template(texts[0], template)
    assert cleaned == f"柳州高新区十年发展的报道正文。{body}"


def test_template_needs_enough_pages_and_share() -> None:
    texts = ["共同的一行在这里出现\n正文一", "共同的一行在这里出现\n正文二"]
    assert learn_template(texts) == frozenset()  # fewer than min_pages
    texts = ["共同的一行在这里出现\n正文一", "别的内容一\n正文二", "别的内容二\n正文三", "别的内容三\n正文四"]
    assert learn_template(texts, min_pages=1, min_share=0.5) == frozenset()
    assert apply_template("正文一", frozenset()) == "正文一"


# --- choosing between trafilatura and readability -----------------------------------------------


def _candidate(method: str, text: str) -> BodyCandidate:
    return BodyCandidate(method, text)


ARTICLE_EN = "\n".join(
    f"Charlie Sheen was attacked at his Malibu home by a neighbor, deputies said in paragraph {i}."
    for i in range(3)
)
APPEAL_EN = "\n".join(
    f"At our newsroom we believe everyone needs journalism; support us with as little as $1 ({i})."
    for i in range(12)
)


def test_readability_wins_when_trafilatura_kept_only_a_fragment() -> None:
    longer = (
        ARTICLE_EN + "\n" + "\n".join(f"More reporting on the Malibu attack, part {i}." for i in range(20))
    )
    chosen = choose_body(_candidate("trafilatura", ARTICLE_EN), _candidate("readability", longer))
    assert chosen is not None and chosen.method == "readability"


def test_disjoint_texts_are_settled_by_the_headline() -> None:
    topic = "Charlie Sheen allegedly attacked by neighbor inside his Malibu home"
    chosen = choose_body(
        _candidate("trafilatura", ARTICLE_EN), _candidate("readability", APPEAL_EN), topic=topic
    )
    assert chosen is not None and chosen.method == "trafilatura"


SEED_PARAGRAPHS = [
    "柳州高新区推进以人为本的产城融合发展，前进的脚步踏石留印，成为广西第一个千亿元产业新城。",
    "十年来，上汽通用五菱宝骏基地和东风柳汽乘用车基地形成四大整车基地旗舰能量。",
    "国轩高科在柳州高新区的生产基地一期年产10GWh投产的同时启动二期20GWh项目。",
    "面对复杂的改革环境、艰巨的发展任务，柳州高新区心无旁骛坚持创新驱动。",
    "景行小学柳东校区、柳州铁一中等落户柳州高新区，优质教育资源正不断汇聚。",
    "高效便捷的交通体系已然成形，柳州高新区内外通道加速完善，园区内部路网完善成形。",
]


def test_readability_inside_trafilatura_trims_portal_furniture() -> None:
    article = "\n".join(SEED_PARAGRAPHS)
    furniture = "热门推荐：多地出台措施支持新能源汽车消费\n热门推荐：中秋假期国内旅游出游火热"
    primary = _candidate("trafilatura", article + "\n" + furniture)
    chosen = choose_body(primary, _candidate("readability", article), trim=True)
    assert chosen is not None and chosen.method == "readability"
    # without portal trimming, a mostly-agreeing trafilatura text stays
    assert choose_body(primary, _candidate("readability", article), trim=False) is primary
