"""Menus at the edges of an extracted text, a menu taken for the article, blog pages of several
posts, forum reply indexes and blog owners: each rule on a real page where it applies and on
one where it must not (pages from the evaluation sets, see fixtures/pages/SOURCES.json)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipelines.extraction import extract_article
from pipelines.extraction.body import with_prose
from pipelines.extraction.boilerplate import remove_furniture, without_link_edges
from pipelines.extraction.metadata_zh import blog_owner, government_record

PAGES = Path(__file__).parent / "fixtures" / "pages"
SOURCES = json.loads((PAGES / "SOURCES.json").read_text(encoding="utf-8"))


def text_of(page: str) -> str:
    article = extract_article((PAGES / page).read_bytes(), SOURCES[page]["url"]).article
    assert article is not None
    return article.text


def test_site_menus_above_the_story_go() -> None:
    # the language menu and the section menus trafilatura kept above the story
    lines = text_of("zh_ntdtv_menus.html").split("\n")
    assert "English" not in lines and "Español" not in lines and "節目首頁" not in lines
    assert any(line.startswith("【新唐人2012年1月11日訊】") for line in lines[:3])


def test_link_edges_need_three_links_and_leave_a_linked_headline() -> None:
    links = {"首页", "新闻", "财经", "兩岸新聞"}
    assert without_link_edges("首页\n│\n新闻\n财经\n正文第一段。", links) == "正文第一段。"
    # a headline that is a link, and a two-item crumb, are no menu
    assert without_link_edges("兩岸新聞\n正文第一段。", links) == "兩岸新聞\n正文第一段。"
    assert without_link_edges("首页\n新闻\n正文第一段。", links) == "首页\n新闻\n正文第一段。"
    # a text made only of links is left as it is (the classifier judges it)
    assert without_link_edges("首页\n新闻\n财经", links) == "首页\n新闻\n财经"


def test_blog_month_page_keeps_its_first_post() -> None:
    # each entry closes on "由海姑娘张贴 @ 2005-03-21 01:20:44": the first entry is the article
    text = text_of("zh_wenxuecity_blog_month.html")
    assert text.rstrip().endswith("尤其是开高速,110公里好爽呀.")
    assert "长发剪了" not in text


def test_blog_page_of_one_signed_post_is_not_cut() -> None:
    # "ggjjzhzz 发表于 2005-9-15 11:46:00": one post, read to its end
    assert "汉种万岁！中国万岁！" in text_of("zh_chinapub_blog_post.html")


def test_forum_reply_index_ends_the_post() -> None:
    text = text_of("zh_cctv_forum_post.html")
    assert text.rstrip().endswith("不要听导游瞎掰。")
    assert "回复线索" not in text and "新闻频道版主" not in text


def test_reply_heading_before_any_prose_does_not_cut() -> None:
    # a "全部回复" menu entry above the story is no reply index
    text = "全部回复\n今年春节期间，全市接待游客三百万人次，旅游收入同比增长百分之十二。"
    assert remove_furniture(text) == text


def test_menu_taken_for_the_article_gives_way_to_the_pages_prose() -> None:
    # both extractors miss the story in a broken table layout: trafilatura keeps the site's
    # menus, readability a copyright line; the page's block of paragraphs is the article
    text = text_of("zh_dbw_fazi_in_a_headline.html")
    assert text.startswith("国际在线娱乐报道 娱乐圈向来不缺新闻和话题")
    assert "主流媒体 龙江门户" not in text and "滚动新闻" not in text


def test_table_without_prose_is_not_replaced_by_the_pages_prose() -> None:
    # an admissions table (cells, no sentence) whose page also has paragraphs of rules: the
    # table is no menu of links, so it stays the article
    table = extract_article(
        (PAGES / "zh_cl2000_table.html").read_bytes(), SOURCES["zh_cl2000_table.html"]["url"]
    ).article
    assert table is not None
    assert table.text.startswith("学科、专业名称（代码）")


def test_text_with_paragraphs_is_not_replaced_by_the_pages_prose() -> None:
    paragraph = "正文第一段，" + "内容" * 40 + "。"
    other = "另一段文字，" + "别的" * 60 + "。"
    links = {"网站首页", "推荐阅读"}
    assert with_prose("网站首页\n" + paragraph, ["网站首页", paragraph, "推荐阅读", other], links).endswith(
        paragraph
    )
    # a short notice with no paragraph and no links keeps its text
    assert with_prose("停电通知\n明日停电", ["停电通知", "明日停电", other], links) == "停电通知\n明日停电"
    # a menu stays when the page has no block of prose to put in its place
    assert with_prose("网站首页\n推荐阅读", ["网站首页", "推荐阅读"], links) == "网站首页\n推荐阅读"


@pytest.mark.parametrize(
    ("page", "author"),
    [
        # <title> "海姑娘 | blog.wenxuecity.com": the blog host beside its owner's name
        ("zh_wenxuecity_blog_month.html", "海姑娘"),
        # "ggjjzhzz 发表于 2005-9-15" and the owner in the URL (more.asp?name=ggjjzhzz)
        ("zh_chinapub_blog_post.html", "ggjjzhzz"),
        # "…--bjreader的博客" in the title, but the post is signed by its authors
        ("zh_blogchina_gbk.html", "刘国栋 周炜"),
    ],
)
def test_blog_page_author(page: str, author: str) -> None:
    article = extract_article((PAGES / page).read_bytes(), SOURCES[page]["url"]).article
    assert article is not None
    assert article.author == author


def test_blog_owner_forms() -> None:
    assert blog_owner(
        "谁来为无序拆房“埋单”？--bjreader的博客", [], "http://bjreader.blogchina.com/2756656.html"
    ) == ("bjreader")
    assert (
        blog_owner("海姑娘 | blog.wenxuecity.com", [], "http://blog.wenxuecity.com/archives.php?blogID=1")
        == "海姑娘"
    )
    assert blog_owner("首页", ["张三的博客", "日志"], "http://blog.example.cn/list/1.html") == "张三"
    assert blog_owner("x", [], "http://blog.china-pub.com/more.asp?name=ggjjzhzz&id=22546") == "ggjjzhzz"
    assert blog_owner("x", [], "http://blog.163.com/zhangsan_2005/blog/static/123/") == "zhangsan_2005"


def test_blog_owner_is_never_read_off_other_pages() -> None:
    # a news page: no blog in its host, path or title
    assert (
        blog_owner(
            "英国去年12月通胀率降至4.2%_财经_凤凰网", ["张三的博客"], "http://finance.ifeng.com/a/1.html"
        )
        is None
    )
    # a blog platform's own pages and post slugs name no owner
    assert blog_owner("新浪博客", [], "http://blog.sina.com.cn/s/blog_4b8d5b3d0100abcd.html") is None
    assert blog_owner("x", [], "http://www.blog.example.cn/") is None
    # a blog site's name or an editor is no owner
    assert blog_owner("新闻中心的博客", [], "http://blog.example.cn/1.html") is None
    assert blog_owner("责任编辑的博客", [], "http://blog.example.cn/1.html") is None
    # a line far down the page ("推荐：张三的博客" in a sidebar) is no header
    assert blog_owner("日志", ["正文"] * 40 + ["张三的博客"], "http://blog.example.cn/1.html") is None


def test_government_document_is_dated_when_signed_and_authored_by_its_issuer() -> None:
    # the record table: 发文机关 吉林省人民政府, 成文日期 2022年01月27日, 发布日期 2022年01月28日
    page = "zh_gov_record_table.html"
    article = extract_article((PAGES / page).read_bytes(), SOURCES[page]["url"]).article
    assert article is not None
    assert article.author == "吉林省人民政府"
    assert article.published_at is not None and article.published_at.date().isoformat() == "2022-01-27"


def test_record_labels_in_prose_or_elsewhere_are_no_record() -> None:
    assert government_record(["发文机关：", "吉林省人民政府", "成文日期：", "2022年01月27日"]) == {
        "发文机关": "吉林省人民政府",
        "成文日期": "2022年01月27日",
    }
    # a sentence that mentions the signing date, and a label with nothing after it
    assert government_record(["该通告的成文日期：2022年1月27日，由省政府发布。"]) == {}
    assert government_record(["发文机关：", "成文日期：", "2022年01月27日"]) == {"成文日期": "2022年01月27日"}
    # a news page (no record table) keeps its byline and its own date
    page = "zh_sina_closing_fazi.html"
    article = extract_article((PAGES / page).read_bytes(), SOURCES[page]["url"]).article
    assert article is not None and article.author == "王霄"


def test_forum_thread_ends_at_the_first_posts_back_link() -> None:
    # each post of the thread closes on "← 返回": the first post is the article
    text = text_of("zh_netease_bbs_louzhu_reply.html")
    assert "不得不承认，如果没有张曼玉在戛纳封后" in text
    assert "← 返回" not in text and "王家衛不適合吧" not in text


def test_back_links_cut_only_a_thread_after_its_first_post() -> None:
    post = "第一帖的正文，讲了一件事情的来龙去脉，也说了自己的看法。"
    reply = "回帖的内容，同意楼主的看法。"
    # fewer than three: a page's own "返回" links, no thread
    two = "\n".join([post, "← 返回", reply, "← 返回", reply])
    assert remove_furniture(two) == two
    # three or more, but before any prose: a menu, the text stays whole
    menu = "\n".join(["返回", "返回", "返回", post])
    assert remove_furniture(menu) == menu
    thread = "\n".join([post, "← 返回", reply, "← 返回", reply, "← 返回"])
    assert remove_furniture(thread) == post


def test_calls_for_news_tips_and_long_phone_fax_lines_go() -> None:
    # "上海滩微博#爆料#或短信爆料15900430043 一经采用最高奖励500元" and the desk's phone and fax
    text = text_of("zh_xinmin_tipoff.html")
    assert "爆料" not in text and "传真" not in text
    assert "巧克力" in text


def test_a_story_about_a_tip_off_stays() -> None:
    text = "8日10時許，網友“Boy阿繼”在微博上爆料：“看病送火車票，沒病都要去裝病啊！”\n报料人也不知其去向"
    assert remove_furniture(text) == text


def test_a_sidebar_under_a_closing_label_goes() -> None:
    # 60 lines of the portal's column links end the text, closed by the label 期待您的参与
    text = text_of("zh_etnet_sidebar_after_label.html")
    assert text.rstrip().endswith("发改委要求，在通知下发后１５日内完成煤炭购销合同的签订。（ｅｗ）")
    for line in ("期待您的参与", "返回国企红筹", "数码潮人 • 杜飞", "十大人气排行"):
        assert line not in text


def test_a_label_over_too_few_links_stays() -> None:
    story = "发改委要求，在通知下发后１５日内完成煤炭购销合同的签订。"
    text = f"{story}\n数码潮人\n形象UP！\n期待您的参与"
    assert without_link_edges(text, {"数码潮人", "形象UP！"}) == text
