"""Chinese bylines and posters, each form on a real page where it occurs and on one where
a look-alike must not give an author (pages from the evaluation sets, see SOURCES.json).

Forms no visible page prints (执笔人, 本贴由…发表, 本报记者X发自北京, 新华日报·交汇点记者)
are tested on the lines themselves, beside the same look-alikes.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipelines.extraction import extract_article
from pipelines.extraction.metadata_zh import byline_authors, lead_in_authors, posted_by

PAGES = Path(__file__).parent / "fixtures" / "pages"
SOURCES = json.loads((PAGES / "SOURCES.json").read_text(encoding="utf-8"))


def author_of(page: str) -> str | None:
    article = extract_article((PAGES / page).read_bytes(), SOURCES[page]["url"]).article
    assert article is not None
    return article.author


@pytest.mark.parametrize(
    ("page", "author"),
    [
        # "(王霄 发自上海)" closing the story: the place it was filed from is no name
        ("zh_sina_closing_fazi.html", "王霄"),
        # "网易娱乐1月17日报道 (文/小易)近日，…": a byline opening the first paragraph
        ("zh_cbbn_lead_in_wen.html", "小易"),
        # "顶端新闻·河南商报记者马俊峰/文受访者供图": an outlet, its brand, the label, the name
        ("zh_dingduan_outlet_brand.html", "马俊峰"),
        # the reporter of a page whose teaser list is full of "圖／…" photo captions
        ("zh_nownews_tu_captions.html", "陳鈞凱"),
        # a forum reply mentioning 楼主 does not replace the poster
        ("zh_netease_bbs_louzhu_reply.html", "眉间尺"),
    ],
)
def test_real_page_gives_its_author(page: str, author: str) -> None:
    assert author_of(page) == author


@pytest.mark.parametrize(
    "page",
    [
        # "张馨予称发自拍照…" in a headline list, and the site slogan "主流媒体 龙江门户" on top
        "zh_dbw_fazi_in_a_headline.html",
        # "制图/帅灵茜" (a graphic's credit) and "来源：(华声在线)" (the outlet) close the story
        "zh_jxnews_zhitu_source.html",
        # a forum post whose poster line is the bare label "楼主"
        "zh_yahoo_bbs_louzhu.html",
    ],
)
def test_real_page_without_an_author_gets_none(page: str) -> None:
    assert author_of(page) is None


@pytest.mark.parametrize(
    ("line", "names"),
    [
        ("本报记者王晓峰发自北京", ["王晓峰"]),
        ("本报记者 王晓峰 发自北京", ["王晓峰"]),
        ("执笔人：王晓峰", ["王晓峰"]),
        ("执笔人：王晓峰 李四", ["王晓峰", "李四"]),
        ("新华日报·交汇点记者 王晓峰", ["王晓峰"]),
        ("新华日报·交汇点记者 王晓峰 通讯员 李四", ["王晓峰", "李四"]),
        ("图/李四 文/王晓峰", ["王晓峰"]),
        # look-alikes: a photo or graphic credit, an editor, a sentence about the reporter
        ("图/李四", []),
        ("制图/帅灵茜", []),
        ("责任编辑：王晓峰", []),
        ("交汇点记者发现了很有趣的一点", []),
        ("张馨予称发自拍照因登错微博 将向粉丝道歉（图）", []),
    ],
)
def test_byline_lines(line: str, names: list[str]) -> None:
    assert byline_authors(line) == names


@pytest.mark.parametrize(
    ("line", "names"),
    [
        ("本贴由 ggjjzhzz 于 2005年8月12日 发表", ["ggjjzhzz"]),
        ("本贴由王晓峰于2005年8月12日发表", ["王晓峰"]),
        ("楼主：ggjjzhzz", ["ggjjzhzz"]),
        ("楼主 王晓峰 发表于 2005-8-12", ["王晓峰"]),
        # whoever edited a post last is not its poster; a reply about 楼主 names nobody
        ("本帖最后由 ggjjzhzz 于 2005-8-12 10:00 编辑", []),
        ("我觉得楼主的文很中肯的", []),
        ("楼主", []),
    ],
)
def test_poster_lines(line: str, names: list[str]) -> None:
    assert posted_by(line) == names


def test_lead_in_byline_is_a_byline_not_a_picture_note() -> None:
    assert lead_in_authors(["网易娱乐1月17日报道 (文/小易)近日，作家韩寒身处风口浪尖"]) == ["小易"]
    assert lead_in_authors(["（记者 张三）本报讯 昨日"]) == ["张三"]
    assert lead_in_authors(["（图/李四）近日", "(资料图)近日，范冰冰发布微博"]) == []
