"""The bundled demo site's pages, used as real-looking fixtures by several tests."""

from __future__ import annotations

from pathlib import Path

import crawler

DEMO_SITE = Path(crawler.__file__).parent / "demo_site"
XUNJK_PATH = "/2022/0914/20399.html"
XUNJK_TITLE = "焦点观察:柳州高新区十年高质量发展综述"
XUNJK_BOILERPLATE = [
    "首页 资讯",
    "关键词",
    "最近更新",
    "关于本站",
    "Copyright",
    "创投网 - www.xunjk.com",
    "联系我们",
    "皖ICP备2022009963号-3",
    "分享到",
]
ARTICLE_PATHS = [
    XUNJK_PATH,
    "/2011/1209/18832.html",
    "/2011/1215/18911.html",
    "/en/2019/11/hitler-house-police-station.html",
    "/en/2019/11/doobie-brothers-reunite.html",
]
NON_ARTICLE_PATHS = ["/index.html", "/zixun/index.html", "/about/index.html", "/tag/gaoxinqu/index.html"]


def page(path: str) -> bytes:
    return (DEMO_SITE / path.lstrip("/")).read_bytes()
