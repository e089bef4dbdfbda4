"""Article or not: listing, tag, index, search, about and error pages are told apart from articles.

Also the site-profile selectors that override the automatic fields.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from pipelines.extraction import extract_article
from tests.demo_pages import ARTICLE_PATHS, DEMO_SITE, NON_ARTICLE_PATHS

PAGES = Path(__file__).parent / "fixtures" / "pages"
LISTINGS = Path(__file__).parent / "fixtures" / "listings"
CST = timezone(timedelta(hours=8))

HEADLINES_ZH = [
    "柳州高新区十年高质量发展综述",
    "今年前8个月广西外贸进出口总值同比增长",
    "多地出台措施支持新能源汽车消费",
    "中秋假期国内旅游出游7340.9万人次",
    "前8月全国铁路完成固定资产投资4319亿元",
    "国家统计局:8月份CPI同比上涨2.5%",
    "工信部:加快推动中小企业数字化转型",
    "央行开展2000亿元中期借贷便利操作",
    "多家银行下调存款利率",
    "深圳发布新一轮稳经济措施",
    "全国秋粮收购工作启动",
    "长三角一体化发展取得新进展",
]
HEADLINES_EN = [
    "Fed holds rates steady as inflation cools",
    "Stocks rally on strong earnings",
    "Oil prices slip after OPEC meeting",
    "Tech layoffs continue into the new year",
    "Housing starts rise for a third month",
    "Retail sales beat expectations",
    "Dollar weakens against the yen",
    "Chipmakers lead market gains",
    "Bond yields fall to six-month low",
    "Airline stocks climb on travel demand",
]


def listing_page(title: str, headlines: list[str], *, lang: str = "zh-CN") -> bytes:
    items = "\n".join(
        f'<li><a href="/news/2022/0914/{i:06d}.shtml">{h}</a><span>2022-09-14 0{i % 10}:15</span></li>'
        for i, h in enumerate(headlines)
    )
    return f"""<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8"><title>{title}</title></head>
<body><div class="nav"><a href="/">首页</a> <a href="/news/">资讯</a> <a href="/tech/">科技</a></div>
<h2>{title}</h2><ul class="list">{items}</ul>
<div class="pages"><a href="?page=1">1</a> <a href="?page=2">2</a> <a href="?page=3">下一页</a></div>
<div class="footer">Copyright © 2022 示例网 京ICP备12345678号</div></body></html>""".encode()


def article_page(paragraphs: int = 6) -> bytes:
    body = "\n".join(
        f"<p>第{i}段：柳州高新区推进以人为本的产城融合发展，前进的脚步踏石留印，"
        f"成为广西第一个规模以上工业总产值突破千亿元的产业新城，担当起高质量发展排头兵的重任。</p>"
        for i in range(paragraphs)
    )
    return f"""<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">
<title>柳州高新区十年高质量发展综述_示例网</title><meta property="og:site_name" content="示例网"></head>
<body><div class="nav"><a href="/">首页</a> <a href="/news/">资讯</a></div>
<div class="article"><h1>柳州高新区十年高质量发展综述</h1>
<div class="info">2022-09-14 09:37:15 来源:广西日报 作者:张三 责任编辑:李四</div>
<div class="content">{body}</div></div>
<div class="footer">Copyright © 2022 示例网 京ICP备12345678号</div></body></html>""".encode()


@pytest.mark.parametrize(
    ("url", "body"),
    [
        ("https://www.example.cn/news/", listing_page("资讯频道_示例网", HEADLINES_ZH)),
        ("https://www.example.cn/news/list_2.shtml", listing_page("资讯 第2页_示例网", HEADLINES_ZH)),
        ("https://www.example.com/tag/markets/", listing_page("Markets | Example", HEADLINES_EN, lang="en")),
        ("https://www.example.com/search?q=rates", listing_page("Search results", HEADLINES_EN, lang="en")),
        ("https://www.example.com/", listing_page("Example News", HEADLINES_EN, lang="en")),
    ],
)
def test_listing_pages_are_not_articles(url: str, body: bytes) -> None:
    result = extract_article(body, url)
    assert result.is_article is False
    assert result.reason in ("listing_page", "index_page", "too_short")


def test_listing_under_an_article_like_url_is_still_a_listing() -> None:
    # the link density, not the URL, gives this one away
    result = extract_article(
        listing_page("本周要闻_示例网", HEADLINES_ZH), "https://www.example.cn/a/20220914.html"
    )
    assert result.is_article is False
    assert result.reason in ("listing_page", "too_short")


def test_error_page_is_not_an_article() -> None:
    body = b"""<html><head><title>404 Not Found</title></head><body><h1>Page not found</h1>
    <p>Sorry, the page you asked for does not exist.</p><a href="/">Home</a></body></html>"""
    result = extract_article(body, "https://www.example.com/2023/01/09/missing-story")
    assert result.is_article is False
    assert result.reason in ("error_page", "too_short")


def test_an_about_url_alone_keeps_a_page_as_uncertain() -> None:
    # one signal (the URL word), a second (little prose): kept, but marked
    text = "<p>Example News was founded in 1999 and covers business and technology for readers worldwide.</p>"
    body = f"<html><head><title>About us</title></head><body><h1>About us</h1>{text * 3}</body></html>"
    result = extract_article(body.encode(), "https://www.example.com/about-us/")
    assert result.is_article is True
    assert result.article is not None and result.article.is_article == "uncertain"
    assert result.reason == "url+little_prose"


@pytest.mark.parametrize("path", NON_ARTICLE_PATHS + ["/sitemap/index.html", "/yanjiu/index.html"])
def test_demo_site_listing_tag_and_about_pages_are_not_articles(path: str) -> None:
    url = "http://127.0.0.1:8000" + path.removesuffix("index.html")
    result = extract_article((DEMO_SITE / path.lstrip("/")).read_bytes(), url)
    assert result.is_article is False
    assert result.reason in ("listing_page", "index_page", "about_page")


@pytest.mark.parametrize("path", ARTICLE_PATHS)
def test_demo_site_articles_are_surely_articles(path: str) -> None:
    result = extract_article((DEMO_SITE / path.lstrip("/")).read_bytes(), "http://127.0.0.1:8000" + path)
    assert result.is_article is True and result.reason is None
    assert result.article is not None and result.article.is_article == "yes"


def test_a_section_page_of_a_real_portal_is_a_listing_without_a_url_word() -> None:
    # the seed portal's frame (nav, crumbs, boxes, footer) around a list of its own teasers;
    # its URL says nothing: the title is a nav link, the items are teasers, it has page numbers
    result = extract_article((LISTINGS / "zh_xunjk_section.html").read_bytes(), "https://www.xunjk.com/yanjiu/")
    assert result.is_article is False and result.reason == "listing_page"
    # the same frame with the real article in it is an article under any URL
    article = extract_article((PAGES / "xunjk_article.html").read_bytes(), "https://www.xunjk.com/yanjiu/")
    assert article.is_article is True and article.article is not None
    assert article.article.is_article == "yes"


@pytest.mark.parametrize(
    ("name", "url"),
    [
        # the URL forms of real articles an earlier URL rule dropped (issue 14); a short
        # brief and a one-paragraph forum post were dropped under them, prose or not
        ("en_scrapinghub_short_brief.html", "http://www.example.com/index.php?action=fullnews&id=1234"),
        ("en_scrapinghub_short_brief.html", "http://www.example.gov/index.ssf?/base/news/1234.html"),
        ("zh_cctv_forum_post.html", "http://bbs.example.cn/index/2005/0812/1680.shtml"),
        ("en_arstechnica.html", "http://www.example.com/index.php?action=fullnews&id=1234"),
        ("zh_taiyuan_evening_utf8.html", "http://www.example.cn/news/list/2011/1209/3.html"),
        ("zh_tibet_xinhua_utf8.html", "http://www.example.cn/tag/xizang/20111209.html"),
    ],
)
def test_a_url_word_alone_never_drops_an_article(name: str, url: str) -> None:
    result = extract_article((PAGES / name).read_bytes(), url)
    assert result.is_article is True
    assert result.article is not None and result.article.is_article in ("yes", "uncertain")


def test_chinese_article_is_an_article() -> None:
    result = extract_article(article_page(), "https://www.example.cn/news/2022/0914/093715.shtml")
    assert result.is_article is True and result.reason is None
    assert result.article is not None
    assert result.article.author == "张三"  # not the editor 李四
    assert result.article.source == "广西日报"
    assert result.article.title == "柳州高新区十年高质量发展综述"
    assert result.article.published_at == datetime(2022, 9, 14, 9, 37, 15, tzinfo=CST)
    assert "李四" not in result.article.text and "ICP" not in result.article.text


def test_short_page_is_too_short_but_keeps_its_text() -> None:
    body = (
        b"<html><head><title>Brief</title></head><body><p>Markets closed higher on Friday.</p></body></html>"
    )
    result = extract_article(body, "https://www.example.com/2023/01/09/brief")
    assert result.is_article is False
    assert result.reason == "too_short"
    assert result.article is not None and "Markets closed higher" in result.article.text


def test_article_markup_outweighs_a_listing_url() -> None:
    body = article_page().replace(b"<head>", b'<head><meta property="og:type" content="article">')
    result = extract_article(body, "https://www.example.cn/news/index.html")
    assert result.is_article is True


@pytest.mark.parametrize(
    "name", ["xunjk_article.html", "zh_qianlong_gb2312_wrapper.html", "en_arstechnica.html"]
)
def test_real_articles_are_articles(name: str) -> None:
    result = extract_article((PAGES / name).read_bytes(), "https://www.example.com/2022/09/14/story.html")
    assert result.is_article is True


# --- selectors ----------------------------------------------------------------------------------


def test_selectors_override_the_fields_they_name() -> None:
    selectors = {"title": "div.info", "author": "div.info", "date": "div.info", "source": "div.info"}
    result = extract_article(
        article_page(), "https://www.example.cn/news/2022/0914/1.shtml", selectors=selectors
    )
    article = result.article
    assert article is not None
    assert article.title == "2022-09-14 09:37:15 来源:广西日报 作者:张三 责任编辑:李四"
    assert article.author == "张三"
    assert article.source == "广西日报"
    assert article.published_at == datetime(2022, 9, 14, 9, 37, 15, tzinfo=CST)


def test_body_selector_and_unmatched_or_invalid_selectors() -> None:
    selectors = {"body": "div.content p:first-child", "author": "span.nothing-here", "date": "[[["}
    result = extract_article(
        article_page(), "https://www.example.cn/news/2022/0914/1.shtml", selectors=selectors
    )
    article = result.article
    assert article is not None
    assert article.text.startswith("第0段：") and "第1段" not in article.text
    assert article.author == "张三"  # unmatched selector: automatic result stays
    assert article.published_at == datetime(2022, 9, 14, 9, 37, 15, tzinfo=CST)


def test_page_text_is_the_last_resort() -> None:
    body = "<html><body><table><tr><td>股票代码</td><td>600132</td></tr></table></body></html>".encode()
    result = extract_article(body, "https://www.example.cn/quote/600132")
    assert result.is_article is False
    assert result.article is not None and "600132" in result.article.text


def test_link_share_tells_a_headline_list_from_a_table() -> None:
    from pipelines.extraction.classify import link_share

    headlines = "\n".join(f"- {h} 2022-09-14" for h in HEADLINES_ZH)
    assert link_share(headlines, HEADLINES_ZH) > 0.8
    table = "学科、专业名称（代码）\n050401 艺术学\n01艺术学原理\n刘梦溪\n1、英语或俄语或日语"
    assert link_share(table, HEADLINES_ZH + ["首页", "资讯"]) == 0.0


def test_paragraphs_are_counted_in_english_and_chinese() -> None:
    from pipelines.extraction.classify import paragraph_count

    # a paragraph is 25 words or CJK characters
    english = (
        "The council approved the budget on Tuesday after a long debate about school funding, road repairs"
        " and the pay of the city's bus drivers, which had held it up for weeks.\n"
        "Members said the plan would raise spending on libraries, parks and bus routes across the city while"
        " keeping the property tax rate where it has been since the last election."
    )
    assert paragraph_count(english) == 2
    chinese = "柳州高新区推进以人为本的产城融合发展，前进的脚步踏石留印，成为广西第一个产业新城。"
    assert paragraph_count(chinese) == 1
    # a line that is the text of a link is a headline in a list, not prose
    assert paragraph_count(chinese, [chinese]) == 0
