"""Property-based fuzzing (Hypothesis) of what reads hostile input: the link scan, sitemap
and feed parsing, the WARC reader, article extraction and URL canonicalisation. No
exception escapes and each output keeps its invariants.

The suite runs a few dozen examples per property (a few seconds each). The longer run
documented in SECURITY.md raises that::

    NEWSARCHIVE_FUZZ_EXAMPLES=2000 pytest tests/test_fuzz.py
"""

from __future__ import annotations

import gzip
import os
import random
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scrapy.http import Request, XmlResponse
from scrapy.utils.test import get_crawler

from core.errors import InputError
from crawler.links import _escaped_join, _join, scan_page
from crawler.profiles import SiteProfile
from crawler.safety import SiteScope
from pipelines.extraction import extract_article
from pipelines.warc_reader import read_warc_pages
from spiders.news import NewsSpider
from storage import canonicalize_url
from storage.urls import clean_url
from tests.warc_util import write_warc

EXAMPLES = int(os.environ.get("NEWSARCHIVE_FUZZ_EXAMPLES", "30"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
    ],
)
SLOW_FUZZ = settings(FUZZ, max_examples=max(EXAMPLES // 4, 10))  # extraction, WARC files: ~50 ms each

BASE = "http://news.example.com"

# --- strategies: HTML and XML that look like the web, and plain garbage ------------------------

_TAGS = [
    "a",
    "area",
    "base",
    "link",
    "div",
    "p",
    "article",
    "h1",
    "title",
    "script",
    "style",
    "table",
    "span",
    "meta",
    "br",
    "img",
    "iframe",
    "svg",
    "html",
    "head",
    "body",
    "!--",
    "![CDATA[",
]
_HREFS = st.one_of(
    st.sampled_from(
        [
            "/",
            "/2024/0101/1.html",
            "http://news.example.com/x",
            "https://www.example.com/y",
            "file:///etc/passwd",
            "ftp://news.example.com:21/x",
            "javascript:alert(1)",
            "data:text/html,x",
            "mailto:a@b",
            "//news.example.com:8080/z",
            "http://[::1",
            "http://news.example.com:99999/",
            "#top",
            "?q=1",
            "../../../etc/passwd",
            " /a b ",
            "http://xn--n3h.example/",
            "http://例子.测试/路径",
        ]
    ),
    st.text(max_size=80),
)
_ATTR = st.builds(
    lambda name, value: f' {name}="{value}"',
    st.sampled_from(["href", "rel", "type", "class", "id", "src", "charset"]),
    st.one_of(_HREFS, st.sampled_from(["alternate", "application/rss+xml", "nofollow"])),
)


@st.composite
def html_documents(draw: Any) -> bytes:
    parts: list[str] = []
    for _ in range(draw(st.integers(0, 40))):
        kind = draw(st.integers(0, 3))
        tag = draw(st.sampled_from(_TAGS))
        if kind == 0:
            parts.append(f"<{tag}{''.join(draw(st.lists(_ATTR, max_size=3)))}>")
        elif kind == 1:
            parts.append(f"</{tag}>")
        elif kind == 2:
            parts.append(draw(st.text(max_size=40)))
        else:
            parts.append(
                draw(
                    st.sampled_from(
                        [
                            "&amp;",
                            "&#0;",
                            "&#xD800;",
                            "&nbsp;",
                            "<",
                            ">",
                            "\x00",
                            "<!DOCTYPE html>",
                            "<?xml version='1.0'?>",
                            "]]>",
                            "-->",
                        ]
                    )
                )
            )
    text = "".join(parts)
    encoding = draw(st.sampled_from(["utf-8", "gb18030", "latin-1", "utf-16"]))
    return text.encode(encoding, errors="replace")


any_bytes = st.one_of(html_documents(), st.binary(max_size=2000))


@st.composite
def xml_documents(draw: Any) -> bytes:
    kind = draw(st.sampled_from(["urlset", "sitemapindex", "rss", "feed", "other"]))
    entries = draw(st.lists(_HREFS, max_size=20))
    dates = st.sampled_from(
        [
            "",
            "2024-01-01",
            "2024-13-45",
            "Mon, 01 Jan 2024 00:00:00 GMT",
            "yesterday",
            "9999-12-31T23:59:59Z",
            "0000-00-00",
        ]
    )
    if kind in ("urlset", "sitemapindex"):
        item = "url" if kind == "urlset" else "sitemap"
        body = "".join(
            f"<{item}><loc>{_xml(e)}</loc><lastmod>{draw(dates)}</lastmod></{item}>" for e in entries
        )
        doc = f'<{kind} xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{body}</{kind}>'
    elif kind == "rss":
        body = "".join(
            f"<item><link>{_xml(e)}</link><pubDate>{draw(dates)}</pubDate></item>" for e in entries
        )
        doc = f"<rss><channel>{body}</channel></rss>"
    elif kind == "feed":
        body = "".join(
            f'<entry><link href="{_xml(e)}"/><updated>{draw(dates)}</updated></entry>' for e in entries
        )
        doc = f'<feed xmlns="http://www.w3.org/2005/Atom">{body}</feed>'
    else:
        doc = draw(st.text(max_size=300))
    prolog = draw(
        st.sampled_from(
            [
                "",
                '<?xml version="1.0"?>',
                '<?xml version="1.0" encoding="gbk"?>',
                '<!DOCTYPE x [<!ENTITY e "&e;">]>',
                '<!DOCTYPE x SYSTEM "file:///etc/passwd">',
            ]
        )
    )
    data = (prolog + doc).encode("utf-8", errors="replace")
    if draw(st.booleans()) and kind != "other":
        cut = draw(st.integers(0, len(data)))
        data = data[:cut]
    return gzip.compress(data) if draw(st.integers(0, 5)) == 0 else data


def _xml(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace('"', "&quot;")


# --- the link scan ------------------------------------------------------------------------------


@FUZZ
@given(
    body=any_bytes,
    cap=st.integers(1, 30),
    max_len=st.integers(10, 200),
    max_elements=st.integers(1, 200),
    encoding=st.sampled_from([None, "utf-8", "gb18030", "no-such-codec"]),
)
def test_scan_page_keeps_its_bounds(
    body: bytes, cap: int, max_len: int, max_elements: int, encoding: str | None
) -> None:
    scan = scan_page(
        body,
        BASE + "/dir/page.html",
        encoding,
        max_links=cap,
        max_url_length=max_len,
        max_elements=max_elements,
    )
    assert len(scan.links) <= cap
    assert len(set(scan.links)) == len(scan.links)
    assert all(isinstance(url, str) and len(url) <= max_len and "#" not in url for url in scan.links)
    assert scan.elements <= max_elements + 1
    assert scan.links_over_cap >= 0 and scan.too_long >= 0


# --- sitemaps and feeds through the spider ----------------------------------------------------------


def _spider() -> NewsSpider:
    spider = NewsSpider(
        profile=SiteProfile(name="x", start_urls=(BASE + "/",), allowed_domains=("example.com",))
    )
    spider._set_crawler(
        get_crawler(
            NewsSpider,
            {
                "NEWSARCHIVE_MAX_FEED_ENTRIES": 10,
                "NEWSARCHIVE_MAX_URL_LENGTH": 100,
                "DOWNLOAD_MAXSIZE": 100_000,
            },
        )
    )
    return spider


@FUZZ
@given(body=xml_documents())
def test_sitemaps_and_feeds_yield_only_bounded_requests(body: bytes) -> None:
    spider = _spider()
    for parse in (spider.parse_sitemap, spider.parse_feed):
        response = XmlResponse(BASE + "/sitemap.xml", body=body, request=Request(BASE + "/sitemap.xml"))
        requests = list(parse(response))
        assert len(requests) <= 10
        for request in requests:
            assert isinstance(request, Request)
            assert len(request.url) <= 100
            if request.callback == spider.parse:  # an article or listing page: the site's only
                assert spider.on_site(request.url), request.url


@FUZZ
@given(url=st.one_of(_HREFS, st.text(max_size=100)))
def test_site_scope_answers_anything(url: str) -> None:
    scope = SiteScope.build([BASE + "/"], ["example.com", "127.0.0.1:8080"])
    if scope.allows(url):
        assert url.split(":", 1)[0].lower() in ("http", "https")


# --- URL canonicalisation ----------------------------------------------------------------------------

_URLS = st.one_of(
    _HREFS,
    st.builds(
        lambda scheme, host, path, query: f"{scheme}://{host}{path}{query}",
        st.sampled_from(["http", "https", "HTTP", "ftp"]),
        st.sampled_from(
            [
                "example.com",
                "WWW.Example.COM",
                "127.0.0.1:8080",
                "[::1]:80",
                "例子.测试",
                "example.com.",
                "a.example:443",
            ]
        ),
        st.text(alphabet="/abc%.2Fé index.html?#&=", max_size=30),
        st.text(alphabet="?&=utm_sourceid%#x", max_size=20),
    ),
)


@FUZZ
@given(url=_URLS)
def test_canonical_urls_are_stable_keys(url: str) -> None:
    key = canonicalize_url(url)
    clean = clean_url(url)
    assert isinstance(key, str) and isinstance(clean, str)
    if key.startswith("https://"):
        assert canonicalize_url(key) == key  # a key is its own key
        assert canonicalize_url(clean) == key  # the browser form leads to the same key
        assert "#" not in key  # no fragment
        params = [name for name, _ in parse_qsl(urlsplit(key).query, keep_blank_values=True)]
        assert not [name for name in params if name.lower().startswith("utm_")]  # no tracking


# --- the WARC reader ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sound_warc(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    path = tmp_path_factory.mktemp("warc") / "pages.warc.gz"
    pages = [
        (f"{BASE}/2024/0101/{i}.html", f"<html><body><p>story {i}</p></body></html>".encode())
        for i in range(4)
    ]
    return write_warc(path, pages).read_bytes()


@SLOW_FUZZ
@given(data=st.data())
def test_the_warc_reader_reads_or_reports_damage(sound_warc: bytes, tmp_path: Path, data: Any) -> None:
    body = bytearray(sound_warc)
    for _ in range(data.draw(st.integers(0, 6))):  # flip, cut and splice bytes
        how = data.draw(st.integers(0, 2))
        at = data.draw(st.integers(0, max(len(body) - 1, 0)))
        if how == 0 and body:
            body[at] = data.draw(st.integers(0, 255))
        elif how == 1:
            del body[at : at + data.draw(st.integers(1, 400))]
        else:
            body[at:at] = data.draw(st.binary(max_size=200))
    gzipped = data.draw(st.booleans())
    path = tmp_path / ("fuzz.warc.gz" if gzipped else "fuzz.warc")
    path.write_bytes(bytes(body) if gzipped else gzip.decompress(sound_warc))
    pages = []
    try:
        for page in read_warc_pages(path, max_record_size=50_000):
            pages.append(page)
    except InputError as exc:
        assert str(exc) and "\n" not in str(exc)
    for page in pages:
        assert isinstance(page.body, bytes) and len(page.body) <= 50_000
        assert isinstance(page.url, str)


# --- article extraction --------------------------------------------------------------------------------


@SLOW_FUZZ
@given(
    body=any_bytes,
    charset=st.sampled_from([None, "utf-8", "gbk", "bogus-charset", "utf-16"]),
    selectors=st.sampled_from([None, {"title": "h1"}, {"body": "article p", "author": ".by"}]),
)
def test_extract_article_never_raises(
    body: bytes, charset: str | None, selectors: dict[str, str] | None
) -> None:
    result = extract_article(
        body, BASE + "/2024/0101/1.html", http_charset=charset, content_type="text/html", selectors=selectors
    )
    assert isinstance(result.is_article, bool)
    if result.article is not None:
        assert isinstance(result.article.text, str) and "\x00" not in result.article.text
        assert result.article.title is None or isinstance(result.article.title, str)
    else:
        assert result.reason


_SCOPE = SiteScope.build([BASE + "/"], ["example.com", "127.0.0.1:8080", "例子.测试"])


@FUZZ
@given(url=st.one_of(_URLS, st.text(max_size=100)), tail=st.sampled_from(["", "\t", "\n/x", "?q", " ", "#f"]))
def test_site_scope_answers_per_origin_as_it_does_per_url(url: str, tail: str) -> None:
    """allows() answers once per scheme://host:port; the answer is the one for the URL."""
    for candidate in (url, url + tail, tail + url):
        assert _SCOPE.allows(candidate) == _SCOPE._allows(candidate), candidate
        assert _SCOPE.allows(candidate) == _SCOPE._allows(candidate), candidate  # now cached


_URL_PIECES = ["http://", "https://", "HTTP://", "http:", "//", "xn--", "www.", ".com", "/..", "/./", "/.",
               "%2e", "%41", "%", ":80", ":443", "@", "?", "#", ";", "127.0.0.1", "0x7f", "1.2", "a.b", "/",
               "a", "Z", "0", "-", "_", "~", "!", "$", "&", "'", "(", "*", "+", ",", "=", "[", "]", "|",
               " ", "\t", "\n", "é", "ü", "\\", "例"]  # fmt: skip


def test_links_joined_as_the_general_path_joins_them() -> None:
    """_join's shortcut for plain absolute URLs answers what urljoin + safe_url_string do,
    on 20,000 hrefs built of URL pieces (seeded: the same hrefs each run)."""
    rnd = random.Random(11)
    bases = [BASE + "/a/b.html", "https://example.com/", "http://127.0.0.1:8080/x?y=1"]
    hosts = ["", "http://a.com", "https://ex-ample.org/", "http://x.y.z", "https://q", "http://b1.c2/"]
    for _ in range(20_000):
        href = rnd.choice(hosts) + "".join(rnd.choice(_URL_PIECES) for _ in range(rnd.randint(0, 12)))
        base = rnd.choice(bases)
        assert _join(base, href) == _escaped_join(base, href), (base, href)
