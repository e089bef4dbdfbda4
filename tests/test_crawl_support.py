"""Helpers for the crawl tests (no tests here): a small news site built from real pages,
a site profile file, and running the CLI in a fresh process (the reactor can't restart)."""

from __future__ import annotations

import json
import os
import random
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

SITE = Path(__file__).parent / "fixtures" / "site"
# a real page shared with the extraction tests
REALCLEARPOLITICS = Path(__file__).parent / "fixtures" / "pages" / "en_realclearpolitics.html"

# article path -> fixture file (real pages from news sites)
ARTICLES = {
    "/2024/0101/1.html": str(REALCLEARPOLITICS),  # an absolute path wins in SITE / name
    "/2024/0101/2.html": "article_en2.html",
    "/2024/0102/3.html": "article_zh1.html",
}
NEW_ARTICLE = ("/2024/0103/4.html", "article_zh2.html")

# settings that keep tests fast; politeness defaults are tested separately
FAST = {
    "AUTOTHROTTLE_ENABLED": False,
    "DOWNLOAD_DELAY": 0,
    "RETRY_TIMES": 0,
    "STORE_FLUSH_SECONDS": 0.2,
    "EXTRACT_WORKERS": 1,
    "DOWNLOAD_TIMEOUT": 10,
}


def html(title: str, body: str, head: str = "") -> bytes:
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title>{head}</head>"
        f"<body><h1>{title}</h1>{body}</body></html>"
    ).encode()


def listing(title: str, links: list[str], head: str = "") -> bytes:
    items = "".join(f'<li><a href="{href}">Story at {href}</a></li>' for href in links)
    return html(
        title, f"<nav><a href='/'>Home</a> <a href='/about.html'>About</a></nav><ul>{items}</ul>", head
    )


def news_pages(articles: dict[str, str] | None = None) -> dict[str, Any]:
    """Home and section listings, an about page and a tag page, the articles, a dead link,
    a link to a server error, an off-site link and a robots.txt-disallowed page."""
    articles = dict(ARTICLES if articles is None else articles)
    paths = sorted(articles)
    pages: dict[str, Any] = {
        "/": listing(
            "Home",
            [
                "/news/",
                "/tag/economy.html",
                *paths[:2],
                "/missing.html",
                "/broken.html",
                "/private/secret.html",
                "http://example.invalid/offsite.html",
            ],
        ),
        "/news/": listing("News", paths),
        "/tag/economy.html": listing("Economy", paths[:1]),
        "/about.html": html("About us", "<p>Contact: editor@example.com</p>"),
        "/broken.html": (500, {"Content-Type": "text/html"}, b"<h1>Internal error</h1>"),
        "/private/secret.html": html("Secret", "<p>robots.txt says no</p>"),
        "/robots.txt": (200, {"Content-Type": "text/plain"}, b"User-agent: *\nDisallow: /private/\n"),
    }
    for path in paths:
        pages[path] = (SITE / articles[path]).read_bytes()
    return pages


def write_config(path: Path, sites: dict[str, dict[str, Any]]) -> Path:
    """A newsarchive.toml with the given [sites.NAME] tables (FAST settings added)."""
    lines: list[str] = []
    for name, table in sites.items():
        lines.append(f"[sites.{name}]")
        settings = {**FAST, **table.pop("settings", {})}
        for key, value in table.items():
            lines.append(
                f"{key} = {json.dumps(value)}" if not isinstance(value, str) or key != "raw" else value
            )
        lines.append(f"[sites.{name}.settings]")
        lines += [f"{key} = {json.dumps(value)}" for key, value in settings.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def site_table(base_url: str, **extra: Any) -> dict[str, Any]:
    return {
        "start_urls": [base_url + "/"],
        "allowed_domains": ["127.0.0.1"],
        "article_patterns": [r"/\d{4}/\d{4}/\d+\.html$"],
        **extra,
    }


def cli(
    *args: str, timeout: float = 120, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``newsarchive ARGS`` in a fresh process, without the caller's archive, config or
    Redis from the environment (``cwd``: where no stray newsarchive.toml is)."""
    full_env = {**os.environ, "NEWSARCHIVE_PROGRESS": "log"}
    for name in ("NEWSARCHIVE_DB", "NEWSARCHIVE_CONFIG", "NEWSARCHIVE_REDIS_URL"):
        full_env.pop(name, None)
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "crawler", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=full_env,
        cwd=cwd,
        check=False,
    )


def popen(*args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "NEWSARCHIVE_PROGRESS": "log"}
    return subprocess.Popen(
        [sys.executable, "-m", "crawler", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )


def query(db: str, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql, params).fetchall()


def article_urls(db: str) -> list[str]:
    return sorted(row[0] for row in query(db, "SELECT url FROM article"))


def runs(db: str) -> list[dict[str, Any]]:
    result = cli("--db", db, "runs", "--format", "json", "--limit", "100")
    assert result.returncode == 0, result.stderr
    data: list[dict[str, Any]] = json.loads(result.stdout)
    return data


Check = Callable[[], bool]


_SYLLABLES = ("ka", "lo", "mi", "ren", "tus", "bel", "dor", "fin", "gar", "hul", "jas", "kev", "mon", "pra")


def synthetic_article(n: int, published: str = "2020-03-01T08:00:00+00:00") -> bytes:
    """A plain news article page with text of its own (for tests that need many articles)."""
    rnd = random.Random(n)

    def word() -> str:
        return "".join(rnd.choice(_SYLLABLES) for _ in range(rnd.randint(1, 3)))

    paragraphs = "".join(
        "<p>" + " ".join(word() for _ in range(40)).capitalize() + f". Report number {n}, part {i}.</p>"
        for i in range(6)
    )
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>Story {n}: council news</title>"
        f"<meta property='article:published_time' content='{published}'></head><body>"
        f"<header><a href='/'>Home</a></header><article><h1>Story {n}: council news</h1>{paragraphs}"
        "</article><footer>Copyright</footer></body></html>"
    ).encode()


def synthetic_pages(count: int) -> dict[str, Any]:
    """A home page linking ``count`` synthetic articles (a second site with its own texts)."""
    paths = [f"/2020/0301/{n}.html" for n in range(count)]
    pages: dict[str, Any] = {"/": listing("Home", paths)}
    pages.update({path: synthetic_article(100 + n) for n, path in enumerate(paths)})
    return pages


def test_only_scrapys_own_robots_request_is_robots() -> None:
    """robots.txt is not a page (not counted, never looked up in the archive) only when
    it is the request Scrapy's RobotsTxtMiddleware makes; a page linking to /robots.txt
    gets a page's treatment."""
    from scrapy import Request

    from crawler.robots import is_robots_request

    assert is_robots_request(Request("http://127.0.0.1:8000/robots.txt", meta={"dont_obey_robotstxt": True}))
    assert not is_robots_request(Request("http://127.0.0.1:8000/robots.txt"))
    nested = Request("http://127.0.0.1:8000/a/robots.txt", meta={"dont_obey_robotstxt": True})
    assert not is_robots_request(nested)


def test_spider_callbacks_return_no_value() -> None:
    """WARN_ON_GENERATOR_RETURN_VALUE is off (crawler/settings.py: Scrapy would parse a
    callback's source for every page); what it would warn about is checked here instead."""
    import inspect

    from scrapy.utils.misc import is_generator_with_return_value

    from spiders.news import NewsSpider

    generators = [f for _, f in inspect.getmembers(NewsSpider, inspect.isgeneratorfunction)]
    assert len(generators) >= 3  # parse, parse_feed, parse_sitemap, parse_robots …
    assert not any(is_generator_with_return_value(f) for f in generators)


def test_crawl_start_up_skips_unused_heavy_imports() -> None:
    """Scrapy imports every listed component's module, disabled or not: the remote control
    (aiohttp's server) is not listed, and nothing of ours imports itemadapter (pydantic)."""
    code = (
        "import sys\n"
        "from scrapy.settings import Settings\n"
        "from scrapy.utils.misc import load_object\n"
        "s = Settings(); s.setmodule('crawler.settings', priority='project')\n"
        "names = list(s.getwithbase('EXTENSIONS')) + list(s.getwithbase('ITEM_PIPELINES'))\n"
        "[load_object(n) for n in names]\n"
        "print(sorted(m for m in ('aiohttp', 'itemadapter') if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])})
    assert done.stdout.strip() == "[]"
