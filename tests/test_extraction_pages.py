"""Extraction on real pages: the body is there, the furniture is gone, the metadata is exact.

Fixtures are real pages copied from the evaluation sets (see ``fixtures/pages/SOURCES.json``)
plus ``xunjk_article.html``, a portal page rebuilt around a real article's visible text.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from pipelines.extraction import EXTRACTOR_VERSION, ExtractionResult, extract_article

PAGES = Path(__file__).parent / "fixtures" / "pages"
SOURCES = json.loads((PAGES / "SOURCES.json").read_text(encoding="utf-8"))
CST = timezone(timedelta(hours=8))


def extract(name: str, url: str | None = None) -> ExtractionResult:
    body = (PAGES / name).read_bytes()
    return extract_article(body, url or SOURCES[name]["url"])


# --- xunjk.com: the seed page -------------------------------------------------------------

XUNJK_URL = "https://www.xunjk.com/yanjiu/2022/0914/093715.shtml"


@pytest.fixture(scope="module")
def xunjk() -> ExtractionResult:
    return extract("xunjk_article.html", XUNJK_URL)


def test_xunjk_metadata(xunjk: ExtractionResult) -> None:
    article = xunjk.article
    assert xunjk.is_article and xunjk.reason is None
    assert article is not None
    assert article.title == "焦点观察:柳州高新区十年高质量发展综述"
    assert article.author == "廖婧"
    assert article.source == "广西日报"
    assert article.published_at == datetime(2022, 9, 14, 9, 37, 15, tzinfo=CST)
    assert article.published_at.utcoffset() == timedelta(hours=8)
    assert article.published_time_known is True
    assert article.tags == ["知识产权", "示范基地", "小微企业", "以人为本", "投入使用"]
    assert article.site_name == "创投网"
    assert article.language == "zh"
    assert article.canonical_url == XUNJK_URL
    assert article.extractor_version == EXTRACTOR_VERSION


def test_xunjk_full_body(xunjk: ExtractionResult) -> None:
    assert xunjk.article is not None
    text = xunjk.article.text
    assert text.startswith("本报特约通讯员 廖婧")
    for paragraph in (
        "柳州高新区(柳东新区),一如既往演绎奋勇向上的前行英姿。",
        "“排头兵”这样养成",
        "科技是国之利器,国家赖之以强,企业赖之以赢,人民生活赖之以好。",
        "柳东新区文化中心因形似蝴蝶被称为“大蝴蝶”。",
        "从容应对未来充满不确定性的挑战。携手奋进,一起向未来。",
    ):
        assert paragraph in text


@pytest.mark.parametrize(
    "furniture",
    [
        "首页",  # breadcrumb and navigation
        "正文",
        "关键词",
        "最近更新",
        "每日快讯",  # an item of the 最近更新 list
        "关于本站",
        "管理团队",
        "Copyright",
        "All rights reserved",
        "联系我们",
        "@qq.com",
        "皖ICP备2022009963号-3",
        "资料图",
        "图片来源",
    ],
)
def test_xunjk_furniture_gone(xunjk: ExtractionResult, furniture: str) -> None:
    assert xunjk.article is not None
    assert furniture not in xunjk.article.text


# --- real Chinese pages ---------------------------------------------------------------------


def test_lying_charset_page_is_decoded_as_utf8() -> None:
    # declares charset=gb2312 but the bytes are UTF-8
    result = extract("zh_ce_lying_charset.html")
    article = result.article
    assert result.is_article and article is not None
    assert article.title == "疫苗泡沫破灭复牌跌停 重庆啤酒估值或推倒重来"
    assert article.source == "每经网－每日经济新闻"
    assert article.published_at == datetime(2011, 12, 9, 8, 20, tzinfo=CST)
    assert article.text.startswith("备受追捧，历时十多年的乙肝疫苗研制，一夜间成为一出闹剧。")
    assert "嘉士伯" in article.text
    assert "\ufffd" not in article.text
    for furniture in ("中国经济网声明", "延伸阅读", "版权", "ICP"):
        assert furniture not in article.text


def test_gb2312_page_in_corpus_wrapper() -> None:
    # <text id=… title=… encoding=gb2312> before <html>, no <title>, byline after the body
    result = extract("zh_qianlong_gb2312_wrapper.html")
    article = result.article
    assert result.is_article and article is not None
    assert article.title == "广汽回应现代合资内幕 全面合作项目即将展开"
    assert article.author == "宋怡 杨志华"
    assert article.published_at == datetime(2005, 7, 18, 13, 3, 17, tzinfo=CST)
    assert article.published_time_known is True
    assert "6月21日，随着广汽和现代合资基础协议的签署" in article.text
    for furniture in ("新闻排行榜", "我要说说", "相关报道", "为同门兄弟途胜让路", "编辑：", "金金", "打印"):
        assert furniture not in article.text


def test_gbk_blog_page() -> None:
    result = extract("zh_blogchina_gbk.html")
    article = result.article
    assert result.is_article and article is not None
    assert article.title == "谁来为无序拆房“埋单”？"
    assert article.author == "刘国栋 周炜"
    assert article.published_at == datetime(2003, 7, 24, tzinfo=CST)
    assert article.published_time_known is False
    assert "为拆一幢房，断送了三条人命。" in article.text
    assert "例三：4月15日上午" in article.text
    # the blog's list of other posts and the trackback line
    for furniture in ("[2005-08-21]", "谁来为喂羊照看孩子的民警解忧", "引用该篇文章"):
        assert furniture not in article.text


def test_xinhua_report_byline_in_first_sentence() -> None:
    result = extract("zh_tibet_xinhua_utf8.html")
    article = result.article
    assert result.is_article and article is not None
    assert article.title == "“厕所革命”改善农牧区人居环境"
    assert article.author == "格桑边觉"
    assert article.published_at == datetime(2022, 2, 13, tzinfo=CST)
    assert article.published_time_known is False
    assert "2021年西藏改造户用卫生厕所4.66万座" in article.text
    for furniture in ("ICP备", "版权所有", "国内统一刊号", "中国西藏新闻网"):
        assert furniture not in article.text


def test_evening_paper_source_and_closing_byline() -> None:
    result = extract("zh_taiyuan_evening_utf8.html")
    article = result.article
    assert result.is_article and article is not None
    assert article.title == "居家养老有“医”靠 安宁疗护有温度"
    assert article.author == "刘涛"
    assert article.source == "太原晚报"
    assert article.published_at == datetime(2021, 11, 25, 16, 26, 7, tzinfo=CST)
    assert "安宁疗护是指为控制疾病终末期患者" in article.text
    for furniture in ("最新动态", "聚焦10月中国经济“成绩单”", "迎泽区近9万居民有了家庭医生"):
        assert furniture not in article.text


def test_traditional_chinese_page() -> None:
    result = extract("zh_xinhua_big5_traditional.html")
    article = result.article
    assert result.is_article and article is not None
    assert article.title == '無錫新一輪醫改即將啟動 改革進入"深水區"'
    assert article.published_at == datetime(2012, 1, 17, 10, 37, 9, tzinfo=CST)
    assert "新醫改第一階段(2009-2011年)任務已完成" in article.text
    assert article.text.rstrip().endswith("市領導徐劼、華博雅參加會議。")
    for furniture in ("免責聲明", "版權", "相關新聞", "新華網"):
        assert furniture not in article.text


# --- real English pages ---------------------------------------------------------------------


def test_realclearpolitics_article() -> None:
    result = extract("en_realclearpolitics.html")
    article = result.article
    assert result.is_article and article is not None
    assert article.title == "The Politics of Incumbent Rejection"
    assert article.author == "Michael Barone"
    assert article.published_at is not None and article.published_at.date().isoformat() == "2023-12-22"
    assert article.language == "en"
    assert article.text.startswith("At a time when voters have rejected the party of the incumbent")
    for furniture in ("Related Topics", "Sign up", "Privacy Policy", "Copyright"):
        assert furniture not in article.text


def test_arstechnica_article() -> None:
    result = extract("en_arstechnica.html")
    article = result.article
    assert result.is_article and article is not None
    assert article.title == "Daily Telescope: A simple shot of the Milky Way high above France and Spain"
    assert article.author == "Eric Berger"
    assert article.published_at == datetime(2023, 12, 21, 13, 0, 57, tzinfo=UTC)
    assert article.site_name == "Ars Technica"
    assert "Do you want to submit a photo for the Daily Telescope?" in article.text
    for furniture in ("Reader comments", "Advance Magazine Publishers", "Ad Choices"):
        assert furniture not in article.text


def test_byline_running_into_its_date_is_cut() -> None:
    result = extract("en_scrapinghub_c00962aa.html")
    article = result.article
    assert result.is_article and article is not None
    assert article.title == "Seeking a bigger role for a big rocket"
    assert article.author == "Jeff Foust"
    assert "it would" in article.text


def test_german_article_from_english_benchmark() -> None:
    result = extract("en_scrapinghub_ba07d1e6.html")
    article = result.article
    assert result.is_article and article is not None
    assert article.title == "Take C.A.R.E. - comwrap auf der DMEXCO 2018"
    assert article.author == "Moritz Bachmann"
    assert article.text.startswith("Am 12. Bis 13. September startet wieder die DMEXCO 2018")
