"""Meta-refresh redirects read from the head of a page decide as Scrapy's middleware does,
without decoding (and keeping) the whole body."""

from __future__ import annotations

import pytest
from scrapy import Request
from scrapy.downloadermiddlewares.redirect import MetaRefreshMiddleware
from scrapy.http import HtmlResponse, Response
from scrapy.utils.test import get_crawler

from crawler.metarefresh import HeadMetaRefreshMiddleware, head_text

FILLER = "<p>" + "Des nouvelles du jour, écrites à la main — 今日新闻。 " * 400 + "</p>"
REFRESH = '<meta http-equiv="refresh" content="0; url={url}">'
PAGES = {
    "refresh": f"<html><head>{REFRESH.format(url='/moved.html')}</head><body>{FILLER}</body></html>",
    "base href": (
        f"<html><head><base href='http://other.example/dir/'>{REFRESH.format(url='next.html')}"
        f"</head><body>{FILLER}</body></html>"
    ),
    "slow refresh": (
        f"<html><head><meta http-equiv='refresh' content='900; url=/later.html'></head>"
        f"<body>{FILLER}</body></html>"
    ),
    "in noscript": f"<html><body><noscript>{REFRESH.format(url='/js.html')}</noscript>{FILLER}</body></html>",
    "past 4096 characters": f"<html><body>{FILLER}{REFRESH.format(url='/late.html')}</body></html>",
    "none": f"<html><body>{FILLER}</body></html>",
    "javascript": (
        f"<html><head>{REFRESH.format(url='javascript:alert(1)')}</head><body>{FILLER}</body></html>"
    ),
}
ENCODINGS = ["utf-8", "utf-8-sig", "utf-16", "gb18030", "iso-8859-1"]


def _responses() -> list[tuple[str, HtmlResponse]]:
    out = []
    for name, page in PAGES.items():
        for encoding in ENCODINGS:
            body = page.encode(encoding, errors="xmlcharrefreplace")
            for header in (f"text/html; charset={encoding}", "text/html"):
                url = "http://127.0.0.1/news/a.html"
                out.append(
                    (
                        f"{name}, {encoding}, {header}",
                        HtmlResponse(url, body=body, headers={"Content-Type": header}, request=Request(url)),
                    )
                )
    return out


def _decision(middleware: MetaRefreshMiddleware, response: HtmlResponse) -> str:
    assert response.request is not None
    try:
        result: Request | Response = middleware.process_response(response.request, response)
    except ValueError as exc:  # Scrapy's own answer to a refresh to javascript:
        return f"error {exc}"
    return f"redirect to {result.url}" if isinstance(result, Request) else "kept"


@pytest.mark.parametrize(("label", "response"), _responses(), ids=lambda v: v if isinstance(v, str) else "")
def test_the_same_redirect_as_scrapy_from_the_head_alone(label: str, response: HtmlResponse) -> None:
    crawler = get_crawler(settings_dict={"METAREFRESH_MAXDELAY": 100})
    ours = _decision(HeadMetaRefreshMiddleware.from_crawler(crawler), response)
    if "charset" in label:  # else Scrapy infers the encoding by decoding it all, as before
        assert response._cached_ubody is None  # the body was not decoded
    assert head_text(response) == response.text[:4096]
    fresh = response.replace()  # Scrapy's caches its answer per response
    expected = {
        "refresh": "redirect to http://127.0.0.1/moved.html",
        "base href": "redirect to http://other.example/dir/next.html",
    }.get(label.split(",")[0], ours)
    assert ours == expected
    assert ours == _decision(MetaRefreshMiddleware.from_crawler(crawler), fresh), label
