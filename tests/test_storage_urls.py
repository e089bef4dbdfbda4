"""URL canonicalisation (pure functions)."""

from __future__ import annotations

import pytest

from core.urls import canonicalize_url, clean_url, same_site

KEY = "https://www.xunjk.com/yanjiu/2022/0928/1.html"


@pytest.mark.parametrize(
    "variant",
    [
        KEY,
        "http://www.xunjk.com/yanjiu/2022/0928/1.html",
        "https://WWW.XUNJK.COM:443/yanjiu/2022/0928/1.html",
        KEY + "/",
        KEY + "#comments",
        KEY + "?utm_source=wechat&utm_medium=social&utm_campaign=x",
        KEY + "?from=timeline&isappinstalled=0",
        KEY + "?spm=a2c4e.11153940&fbclid=IwAR0",
        "https://www.xunjk.com//yanjiu/2022/0928/1.html",
    ],
)
def test_variants_share_one_key(variant: str) -> None:
    assert canonicalize_url(variant) == KEY


def test_meaningful_parameters_stay_and_are_sorted() -> None:
    assert canonicalize_url("https://news.example.cn/show.php?page=2&id=17&utm_term=x") == (
        "https://news.example.cn/show.php?id=17&page=2"
    )
    assert canonicalize_url("https://news.example.cn/show?id=1") != canonicalize_url(
        "https://news.example.cn/show?id=2"
    )


def test_index_pages_and_roots() -> None:
    assert canonicalize_url("http://example.com/news/index.html") == "https://example.com/news"
    assert canonicalize_url("http://example.com") == "https://example.com/"
    assert canonicalize_url("http://example.com/?utm_source=x") == "https://example.com/"


def test_chinese_paths_are_encoded_once() -> None:
    encoded = "https://example.com/%E6%96%B0%E9%97%BB/1.html"
    assert canonicalize_url("https://example.com/新闻/1.html") == encoded
    assert canonicalize_url(encoded) == encoded


def test_clean_url_keeps_a_working_address() -> None:
    assert clean_url("HTTP://Example.com/a/b/?utm_source=x&id=2#top") == "http://example.com/a/b/?id=2"
    assert clean_url("mailto:someone@example.com") == "mailto:someone@example.com"


def test_same_site() -> None:
    assert same_site("https://www.xunjk.com/a", "http://xunjk.com/b")
    assert not same_site("https://www.xunjk.com/a", "https://news.example.cn/a")
    assert not same_site("not a url", "also not")
