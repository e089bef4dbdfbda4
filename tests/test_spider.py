"""NewsSpider link logic on real Scrapy responses (no network): what is followed, what is
yielded as a candidate article, how sitemaps and feeds are read."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime
from typing import Any

import pytest
from scrapy.http import HtmlResponse, Request, Response, TextResponse, XmlResponse
from scrapy.utils.test import get_crawler

from core.items import FetchedPage
from core.keys import dropped_key, error_key
from crawler import settings as project_settings
from crawler.profiles import SiteProfile
from spiders.news import META_ALWAYS, META_LASTMOD, NewsSpider, parse_date

BASE = "http://news.example.com"
PROFILE = SiteProfile(
    name="example",
    start_urls=(BASE + "/",),
    allowed_domains=("example.com",),
    article_patterns=(r"/\d{4}/\d{4}/\d+\.html$",),
)


def make_spider(profile: SiteProfile = PROFILE) -> NewsSpider:
    """The spider with the project's own settings and their defaults (crawler/settings.py), as
    every real run has them."""
    spider = NewsSpider(profile=profile)
    ours = {name: value for name, value in vars(project_settings).items() if name.startswith("NEWSARCHIVE_")}
    spider._set_crawler(get_crawler(NewsSpider, settings_dict=ours))
    return spider


def html_response(url: str, body: str, **kwargs: Any) -> HtmlResponse:
    return HtmlResponse(
        url,
        body=body.encode(),
        encoding="utf-8",
        headers={"Content-Type": "text/html; charset=utf-8"},
        request=Request(url),
        **kwargs,
    )


HOME = """<html><head>
<link rel="alternate" type="application/rss+xml" href="/rss.xml">
</head><body>
<a href="/2024/0101/1.html">one</a>
<a href="http://www.example.com/2024/0101/2.html">two on a sibling host</a>
<a href="/news/">news</a> <a href="/about.html">about</a>
<a href="http://elsewhere.org/2024/0101/3.html">off site</a>
<a href="mailto:editor@example.com">mail</a>
<a href="/files/report.pdf">pdf</a>
</body></html>"""


def test_listing_page_is_followed_not_yielded() -> None:
    spider = make_spider()
    out = list(spider.parse(html_response(BASE + "/", HOME)))
    assert not [o for o in out if isinstance(o, FetchedPage)]
    followed = {r.url for r in out if isinstance(r, Request)}
    assert followed == {
        BASE + "/2024/0101/1.html",
        "http://www.example.com/2024/0101/2.html",
        BASE + "/news/",
        BASE + "/about.html",
        BASE + "/rss.xml",
    }
    priorities = {r.url: r.priority for r in out if isinstance(r, Request)}
    assert priorities[BASE + "/2024/0101/1.html"] > priorities[BASE + "/news/"]  # articles first
    feed = next(r for r in out if isinstance(r, Request) and r.url.endswith("rss.xml"))
    assert feed.callback == spider.parse_feed and feed.meta[META_ALWAYS]


def test_article_page_is_yielded_with_its_response() -> None:
    spider = make_spider()
    response = html_response(BASE + "/2024/0101/1.html", "<html><body><p>Story</p></body></html>")
    pages = [o for o in spider.parse(response) if isinstance(o, FetchedPage)]
    assert len(pages) == 1
    page = pages[0]
    assert page.url == page.final_url == BASE + "/2024/0101/1.html"
    assert page.status == 200 and page.encoding == "utf-8" and page.site == "example"
    assert page.body.startswith(b"<html>") and page.fetched_at is not None
    assert page.headers["Content-Type"].startswith("text/html")


def test_without_patterns_every_html_page_is_a_candidate() -> None:
    spider = make_spider(SiteProfile(name="x", start_urls=(BASE + "/",), allowed_domains=("example.com",)))
    assert [o for o in spider.parse(html_response(BASE + "/about.html", HOME)) if isinstance(o, FetchedPage)]


def test_non_html_response_is_dropped_and_counted() -> None:
    spider = make_spider()
    url = BASE + "/2024/0101/9.html"
    response = Response(
        url, body=b"%PDF-1.4", headers={"Content-Type": "application/pdf"}, request=Request(url)
    )
    assert list(spider.parse(response)) == []
    assert spider.crawler.stats.get_value(dropped_key("not_html")) == 1


def test_not_modified_revisit_is_passed_on() -> None:
    spider = make_spider()
    url = BASE + "/2024/0101/1.html"
    (page,) = list(spider.parse(Response(url, status=304, request=Request(url))))
    assert page.not_modified and page.body == b""


SITEMAP_INDEX = f"""<?xml version="1.0" encoding="UTF-8"?>
<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <sitemap><loc>{BASE}/sitemap-2024.xml.gz</loc></sitemap>
</sitemapindex>"""

URLSET = f"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <url><loc>{BASE}/2024/0101/1.html</loc><lastmod>2024-01-02T10:00:00+08:00</lastmod></url>
  <url><loc>{BASE}/2024/0101/2.html</loc></url>
  <url><loc>http://elsewhere.org/2024/0101/3.html</loc></url>
</urlset>"""


def test_sitemap_index_and_gzipped_urlset_with_lastmod() -> None:
    spider = make_spider()
    (child,) = list(spider.parse_sitemap(XmlResponse(BASE + "/sitemap.xml", body=SITEMAP_INDEX.encode())))
    assert child.url == BASE + "/sitemap-2024.xml.gz" and child.meta[META_ALWAYS]
    gz = Response(child.url, body=gzip.compress(URLSET.encode()))
    requests = list(spider.parse_sitemap(gz))
    assert [r.url for r in requests] == [BASE + "/2024/0101/1.html", BASE + "/2024/0101/2.html"]
    assert requests[0].meta[META_LASTMOD] == datetime(2024, 1, 2, 2, 0, tzinfo=UTC)
    assert requests[1].meta[META_LASTMOD] is None


def test_junk_sitemap_is_counted() -> None:
    spider = make_spider()
    for junk in (b"\x00\x01 not xml", b"", b"<html><body>Moved</body></html>"):
        assert list(spider.parse_sitemap(Response(BASE + "/sitemap.xml", body=junk))) == []
    assert spider.crawler.stats.get_value(error_key("bad_sitemap")) == 3


RSS = f"""<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>
<item><title>a</title><link>{BASE}/2024/0101/1.html</link>
<pubDate>Tue, 02 Jan 2024 10:00:00 GMT</pubDate></item>
<item><title>b</title><link>/2024/0101/2.html</link></item>
</channel></rss>"""

ATOM = f"""<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>t</title>
<entry><title>a</title><link rel="alternate" href="{BASE}/2024/0101/5.html"/>
<updated>2024-01-03T00:00:00Z</updated></entry>
</feed>"""


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            RSS,
            [
                (BASE + "/2024/0101/1.html", datetime(2024, 1, 2, 10, tzinfo=UTC)),
                (BASE + "/2024/0101/2.html", None),
            ],
        ),
        (ATOM, [(BASE + "/2024/0101/5.html", datetime(2024, 1, 3, tzinfo=UTC))]),
    ],
)
def test_rss_and_atom_feeds(body: str, expected: list[tuple[str, datetime | None]]) -> None:
    spider = make_spider()
    requests = list(spider.parse_feed(XmlResponse(BASE + "/feed.xml", body=body.encode())))
    assert [(r.url, r.meta[META_LASTMOD]) for r in requests] == expected


def test_robots_txt_names_sitemaps() -> None:
    spider = make_spider()
    robots = TextResponse(
        BASE + "/robots.txt", body=b"User-agent: *\nDisallow: /x/\nSitemap: /sitemap.xml\n", encoding="utf-8"
    )
    (request,) = list(spider.parse_robots(robots))
    assert request.url == BASE + "/sitemap.xml" and request.callback == spider.parse_sitemap


async def _collect(spider: NewsSpider) -> list[Any]:
    return [r async for r in spider.start()]


def test_seeds_are_always_fetched() -> None:
    import asyncio

    profile = SiteProfile(
        name="s",
        start_urls=(BASE + "/",),
        feeds=(BASE + "/rss.xml",),
        sitemaps=(BASE + "/sitemap.xml",),
        allowed_domains=("example.com",),
    )
    requests = asyncio.run(_collect(make_spider(profile)))
    assert [r.url for r in requests] == [BASE + "/", BASE + "/rss.xml", BASE + "/sitemap.xml"]
    assert all(r.meta[META_ALWAYS] for r in requests)


def test_robots_txt_is_read_for_sitemaps_once_after_a_start_page() -> None:
    spider = make_spider()
    start = html_response(BASE + "/", HOME)
    start.meta[META_ALWAYS] = True
    out = [r for r in spider.parse(start) if isinstance(r, Request)]
    robots = [r for r in out if r.url.endswith("/robots.txt")]
    assert len(robots) == 1 and robots[0].priority < -1 and out[-1] is robots[0]
    assert not [r for r in spider.parse(start) if isinstance(r, Request) and r.url.endswith("/robots.txt")]


def test_parse_date_forms() -> None:
    assert parse_date("2024-01-02") == datetime(2024, 1, 2, tzinfo=UTC)
    assert parse_date("Tue, 02 Jan 2024 10:00:00 +0800") == datetime(2024, 1, 2, 2, tzinfo=UTC)
    assert parse_date("yesterday") is None and parse_date(None) is None


def test_spider_needs_a_url_or_site() -> None:
    from core.errors import ConfigError

    with pytest.raises(ConfigError):
        NewsSpider()
    assert NewsSpider(site="xunjk").allowed_domains == ["xunjk.com"]
    assert NewsSpider(url="https://a.example.org/x").allowed_domains == ["a.example.org"]


def test_on_site_is_the_seeds_origins_and_the_named_domains() -> None:
    spider = make_spider(SiteProfile(
        name="x", start_urls=("http://127.0.0.1:8080/",),
        allowed_domains=("127.0.0.1", "example.com", "other.example:8443"),
    ))
    assert spider.on_site("http://127.0.0.1:8080/a.html")  # the start URL's origin
    assert not spider.on_site("http://127.0.0.1:8081/a.html")  # another port: another origin
    assert spider.on_site("http://127.0.0.1/a.html") and spider.on_site("https://127.0.0.1/a.html")
    assert spider.on_site("https://news.example.com/a.html")  # a named domain's subdomain
    assert not spider.on_site("http://example.com:8080/a.html")
    assert spider.on_site("https://other.example:8443/a") and not spider.on_site("https://other.example/a")
    for url in ("file://127.0.0.1/etc/passwd", "ftp://127.0.0.1:8080/x", "data:text/html,x",
                "javascript:alert(1)", "mailto:a@example.com", "http://[::1/x", "http://127.0.0.1:99999/"):
        assert not spider.on_site(url), url
    assert spider.allowed_domains == ["127.0.0.1", "example.com", "other.example"]  # for Scrapy: hosts


def test_links_beyond_the_cap_are_counted() -> None:
    spider = NewsSpider(profile=PROFILE)
    spider._set_crawler(get_crawler(NewsSpider, {"NEWSARCHIVE_MAX_LINKS_PER_PAGE": 10,
                                                 "NEWSARCHIVE_MAX_URL_LENGTH": 100}))
    body = "".join(f'<a href="/p/{i}.html">{i}</a>' for i in range(50)) + f'<a href="/{"x" * 200}">long</a>'
    out = list(spider.parse(html_response(BASE + "/", f"<html><body>{body}</body></html>")))
    assert len([o for o in out if isinstance(o, Request)]) == 10
    stats = spider.crawler.stats
    assert stats.get_value("newsarchive/errors/too_many_links") == 41  # the 40 others and the long one
    assert stats.get_value("newsarchive/errors/url_too_long") is None  # over the cap: not even read
