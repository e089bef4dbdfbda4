"""Extraction on real pages: the body is there, the furniture is gone, the metadata is exact.

Fixtures are real pages copied from the evaluation sets (see ``fixtures/pages/SOURCES.json``)
plus ``xunjk_article.html``, a portal page rebuilt around a real article's visible text.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from pipelines.extraction import EXTRACTOR_VERSION, ExtractionResult, extract_article

PAGES = Path(__file__).parent / "fixtures" / "pages"
SOURCES = json.loads((PAGES / "SOURCES.json").read_text(encoding="utf-8"))
CST = timezone(timedelta(hours=8))
EXPECTED_VERSION = EXTRACTOR_VERSION


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


# --- real pages: expected fields, text that must stay, furniture that must go ---------------


@dataclass(frozen=True)
class Expected:
    page: str
    title: str
    author: str | None
    published: str  # ISO 8601, with the offset the article must carry
    time_known: bool
    present: tuple[str, ...]  # the first entry starts the body
    absent: tuple[str, ...]
    source: str | None = None
    site_name: str | None = None
    note: str = ""


EXPECTED = [
    Expected(
        "zh_ce_lying_charset.html",
        note="declares charset=gb2312 but the bytes are UTF-8",
        title="疫苗泡沫破灭复牌跌停 重庆啤酒估值或推倒重来",
        author=None,
        source="每经网－每日经济新闻",
        published="2011-12-09T08:20:00+08:00",
        time_known=True,
        present=("备受追捧，历时十多年的乙肝疫苗研制，一夜间成为一出闹剧。", "嘉士伯"),
        absent=("中国经济网声明", "延伸阅读", "版权", "ICP", "来源：", "2011年12月09日 08:20"),
    ),
    Expected(
        "zh_qianlong_gb2312_wrapper.html",
        note="<text … encoding=gb2312> wrapper, no <title>, byline after the body",
        title="广汽回应现代合资内幕 全面合作项目即将展开",
        author="宋怡 杨志华",
        published="2005-07-18T13:03:17+08:00",
        time_known=True,
        present=("1个月之后的6月21日，随着广汽和现代合资基础协议的签署",),
        absent=("新闻排行榜", "我要说说", "相关报道", "为同门兄弟途胜让路", "编辑：", "金金", "打印"),
    ),
    Expected(
        "zh_blogchina_gbk.html",
        note="GBK blog; the list of other posts and the trackback line go",
        title="谁来为无序拆房“埋单”？",
        author="刘国栋 周炜",
        published="2003-07-24T00:00:00+08:00",
        time_known=False,
        present=("拆房屡出命案 管理形同虚设", "为拆一幢房，断送了三条人命。", "例三：4月15日上午"),
        absent=("[2005-08-21]", "谁来为喂羊照看孩子的民警解忧", "引用该篇文章"),
    ),
    Expected(
        "zh_tibet_xinhua_utf8.html",
        note="reporter named inside the first sentence",
        title="“厕所革命”改善农牧区人居环境",
        author="格桑边觉",
        published="2022-02-13T00:00:00+08:00",
        time_known=False,
        present=("据新华社拉萨电（记者 格桑边觉）", "2021年西藏改造户用卫生厕所4.66万座"),
        absent=("ICP备", "版权所有", "国内统一刊号", "中国西藏新闻网"),
    ),
    Expected(
        "zh_taiyuan_evening_utf8.html",
        note="来源 line above the body, closing byline",
        title="居家养老有“医”靠 安宁疗护有温度",
        author="刘涛",
        source="太原晚报",
        published="2021-11-25T16:26:07+08:00",
        time_known=True,
        present=("11月23日，市政府新闻办举行新闻发布会", "安宁疗护是指为控制疾病终末期患者"),
        absent=("最新动态", "聚焦10月中国经济“成绩单”", "迎泽区近9万居民有了家庭医生", "来源：太原晚报"),
    ),
    Expected(
        "zh_xinhua_big5_traditional.html",
        note="traditional characters; furniture rules match through folding",
        title='無錫新一輪醫改即將啟動 改革進入"深水區"',
        author=None,
        published="2012-01-17T10:37:09+08:00",
        time_known=True,
        present=("■就醫結算“一卡通”爭取從全省延伸到上海", "新醫改第一階段(2009-2011年)任務已完成"),
        absent=("免責聲明", "版權", "相關新聞", "新華網"),
    ),
    Expected(
        "en_realclearpolitics.html",
        title="The Politics of Incumbent Rejection",
        author="Michael Barone",
        site_name="Real Clear Politics",
        published="2023-12-22T00:00:00-06:00",
        time_known=False,  # T00:00:00 is a CMS's "no time"
        present=("At a time when voters have rejected the party of the incumbent",),
        absent=("Related Topics", "Sign up", "Privacy Policy", "Copyright"),
    ),
    Expected(
        "en_arstechnica.html",
        title="Daily Telescope: A simple shot of the Milky Way high above France and Spain",
        author="Eric Berger",
        site_name="Ars Technica",
        published="2023-12-21T13:00:57+00:00",
        time_known=True,
        present=("Good morning. It's December 21", "Do you want to submit a photo for the Daily Telescope?"),
        absent=("Reader comments", "Advance Magazine Publishers", "Ad Choices"),
    ),
    Expected(
        "en_scrapinghub_c00962aa.html",
        note="a byline that ran into its date is cut",
        title="Seeking a bigger role for a big rocket",
        author="Jeff Foust",
        published="2019-11-18T00:00:00+00:00",
        time_known=False,
        present=("Seeking a bigger role for a big rocket by Jeff Foust", "it would"),
        absent=("Home", "Subscribe"),
    ),
    Expected(
        "en_scrapinghub_ba07d1e6.html",
        note="a German page in the English benchmark",
        title="Take C.A.R.E. - comwrap auf der DMEXCO 2018",
        author="Moritz Bachmann",
        site_name="Comwrap",
        published="2018-07-30T00:00:00+00:00",
        time_known=False,
        present=("Am 12. Bis 13. September startet wieder die DMEXCO 2018",),
        absent=("Impressum", "Datenschutz"),
    ),
]


@pytest.mark.parametrize("expected", EXPECTED, ids=lambda e: e.page)
def test_page_fields(expected: Expected) -> None:
    result = extract(expected.page)
    article = result.article
    assert result.is_article and result.reason is None
    assert article is not None
    assert article.title == expected.title
    assert article.author == expected.author
    assert article.source == expected.source
    assert article.published_at is not None
    assert article.published_at.isoformat() == expected.published
    assert article.published_time_known is expected.time_known
    if expected.site_name:
        assert article.site_name == expected.site_name
    assert article.extractor_version == EXPECTED_VERSION


@pytest.mark.parametrize("expected", EXPECTED, ids=lambda e: e.page)
def test_page_body_kept_and_furniture_gone(expected: Expected) -> None:
    article = extract(expected.page).article
    assert article is not None
    assert article.text.startswith(expected.present[0])
    for text in expected.present:
        assert text in article.text
    for furniture in expected.absent:
        assert furniture not in article.text
    assert "\ufffd" not in article.text  # decoded with the right charset
