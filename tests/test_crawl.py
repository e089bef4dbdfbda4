"""End-to-end crawls of a site served on 127.0.0.1 into a SQLite file, each in a fresh
process (``python -m crawler``), as a user runs them."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from core.keys import STAT_RUN_STATUS
from tests.test_crawl_support import (
    ARTICLES,
    article_urls,
    cli,
    html,
    listing,
    news_pages,
    query,
    runs,
    site_table,
    synthetic_pages,
    write_config,
)

pytestmark = pytest.mark.slow  # every test runs a real crawl in a subprocess


def crawl_site(tmp_path: Path, db: str, base_url: str, **profile: Any) -> Any:
    config = write_config(tmp_path / "sites.toml", {"local": site_table(base_url, **profile)})
    return cli("--db", db, "--config", str(config), "crawl", "--site", "local")


def test_crawl_stores_articles_not_listings_and_stays_polite(
    serve_site: Any, sqlite_db: str, tmp_path: Path
) -> None:
    site = serve_site(news_pages())
    result = crawl_site(tmp_path, sqlite_db, site.base_url, settings={"NEWSARCHIVE_PROGRESS_INTERVAL": 0.1})
    assert result.returncode == 0, result.stderr
    # every article once, and nothing else: not the home, section, tag or about pages
    assert article_urls(sqlite_db) == sorted(site.url(p) for p in ARTICLES)
    titles = {row[0] for row in query(sqlite_db, "SELECT title FROM article")}
    assert "Export from Kordestan province rises 26% in 8 months on year" in titles
    # listings were followed (article 3 is linked only from /news/), robots.txt obeyed
    assert site.hits["/news/"] == 1 and site.hits["/tag/economy.html"] == 1
    assert site.hits["/private/secret.html"] == 0
    # dead links and server errors are counted and the crawl carries on
    (run,) = runs(sqlite_db)
    assert run["status"] == "ok" and run["site"] == "local"
    assert run["articles_new"] == 3
    assert run["errors"]["http_404"] >= 1 and run["errors"]["http_500"] == 1
    assert "3 new" in result.stdout
    assert "local: " in result.stderr and "pages (" in result.stderr  # a stats line when not on a terminal
    # the User-Agent names the project
    agents = {headers.get("User-Agent", "") for path, headers in site.requests if path == "/"}
    assert all(agent.startswith("newsarchive/") for agent in agents)



def test_a_failed_template_refresh_fails_the_crawl_without_calling_articles_lost(
    serve_site: Any, sqlite_db: str, tmp_path: Path
) -> None:
    """The articles are stored; only learning the site's template failed: the run says so
    in one line, counts it as ``templates`` (not ``storage``), and the next crawl learns it."""
    from storage import open_archive

    open_archive(sqlite_db).close()
    with sqlite3.connect(sqlite_db) as conn:
        conn.execute("CREATE TRIGGER refuse_lines BEFORE INSERT ON site_template_line "
                     "BEGIN SELECT RAISE(ABORT, 'the archive refuses writes'); END")
    site = serve_site(synthetic_pages(5))
    result = crawl_site(tmp_path, sqlite_db, site.base_url)
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert len(query(sqlite_db, "SELECT id FROM article")) == 5
    (run,) = runs(sqlite_db)
    assert run["status"] == "failed" and run["articles_new"] == 5
    assert run["reason"].startswith("cannot refresh the site template (")
    assert "refuses writes" in run["reason"] and "every article is stored" in run["reason"]
    assert "\n" not in run["reason"]
    assert run["errors"].get("templates") == 1 and "storage" not in run["errors"]
    assert "not stored" not in result.stdout + result.stderr
    with sqlite3.connect(sqlite_db) as conn:
        conn.execute("DROP TRIGGER refuse_lines")
    assert crawl_site(tmp_path, sqlite_db, site.base_url).returncode == 0
    assert query(sqlite_db, "SELECT coalesce(sum(counted_pages), 0) FROM site_template") == [(5,)]

def test_lines_every_article_repeats_are_learned_and_stripped(serve_site: Any, sqlite_db: str,
                                                              tmp_path: Path) -> None:
    furniture = b"<p>Follow the city desk on WeChat for more council news every morning.</p></article>"
    pages = synthetic_pages(5)
    for path, body in list(pages.items()):
        if path != "/":
            pages[path] = body.replace(b"</article>", furniture)
    site = serve_site(pages)
    result = crawl_site(tmp_path, sqlite_db, site.base_url)
    assert result.returncode == 0, result.stderr
    texts = [row[0] for row in query(sqlite_db, "SELECT text FROM article")]
    assert len(texts) == 5 and all("Report number" in text for text in texts)
    assert not any("Follow the city desk" in text for text in texts)


def test_sitemap_and_feed_discovery(serve_site: Any, sqlite_db: str, tmp_path: Path) -> None:
    """Articles linked from nowhere but a sitemap named in robots.txt and a feed named in a
    <link rel=alternate> are found."""
    pages = news_pages({})  # no article links on the listing pages
    base = ""
    site = serve_site(pages)
    base = site.base_url
    pages["/"] = listing(
        "Home", ["/about.html"], head='<link rel="alternate" type="application/rss+xml" href="/rss.xml">'
    )
    pages["/robots.txt"] = (
        200,
        {"Content-Type": "text/plain"},
        f"User-agent: *\nSitemap: {base}/sitemap.xml\n".encode(),
    )
    pages["/sitemap.xml"] = (
        200,
        {"Content-Type": "application/xml"},
        (
            '<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            f"<sitemap><loc>{base}/sitemap-1.xml</loc></sitemap></sitemapindex>"
        ).encode(),
    )
    pages["/sitemap-1.xml"] = (
        200,
        {"Content-Type": "application/xml"},
        (
            '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            f"<url><loc>{base}/2024/0101/1.html</loc><lastmod>2024-01-01</lastmod></url></urlset>"
        ).encode(),
    )
    pages["/rss.xml"] = (
        200,
        {"Content-Type": "application/rss+xml"},
        (
            '<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
            f"<item><link>{base}/2024/0102/3.html</link></item></channel></rss>"
        ).encode(),
    )
    pages["/2024/0101/1.html"] = news_pages()["/2024/0101/1.html"]
    pages["/2024/0102/3.html"] = news_pages()["/2024/0102/3.html"]
    result = crawl_site(tmp_path, sqlite_db, base)
    assert result.returncode == 0, result.stderr
    assert article_urls(sqlite_db) == [site.url("/2024/0101/1.html"), site.url("/2024/0102/3.html")]


def test_two_sites_in_one_crawl_process(serve_site: Any, sqlite_db: str, tmp_path: Path) -> None:
    one, two = serve_site(news_pages()), serve_site(synthetic_pages(2))
    config = write_config(tmp_path / "sites.toml", {"one": site_table(one.base_url),
                                                    "two": site_table(two.base_url)})
    result = cli("--db", sqlite_db, "--config", str(config), "crawl", "--site", "one", "--site", "two",
                 env={"NEWSARCHIVE_PROGRESS": "live"})
    assert result.returncode == 0, result.stderr
    # one live table (rich allows one at a time) with a row per site
    assert "pages/min" in result.stderr
    assert any(line.startswith("│ one ") for line in result.stderr.splitlines())
    assert any(line.startswith("│ two ") for line in result.stderr.splitlines())
    assert sorted((r["site"], r["status"], r["articles_new"]) for r in runs(sqlite_db)) == [
        ("one", "ok", 3), ("two", "ok", 2)]


def test_crawl_of_a_url_without_profile_uses_the_classifier(serve_site: Any, sqlite_db: str) -> None:
    pages = news_pages()
    pages["/feed.json"] = (200, {"Content-Type": "application/json"}, b'{"not": "html"}')
    pages["/news/"] = listing("News", [*sorted(ARTICLES), "/feed.json"])
    site = serve_site(pages)
    result = cli(
        "--db",
        sqlite_db,
        "crawl",
        site.url("/"),
        "-s",
        "AUTOTHROTTLE_ENABLED=False",
        "-s",
        "DOWNLOAD_DELAY=0",
        "-s",
        "RETRY_TIMES=0",
        "--max-pages",
        "40",
    )
    assert result.returncode == 0, result.stderr
    stored = article_urls(sqlite_db)
    # the classifier kept listing, tag and about pages out
    assert site.url("/") not in stored and site.url("/news/") not in stored
    assert site.url("/about.html") not in stored
    assert site.url("/2024/0101/2.html") in stored
    (run,) = runs(sqlite_db)
    assert run["site"] == f"127.0.0.1:{site.base_url.rsplit(':', 1)[1]}"


def test_scrapy_crawl_news_works_too(serve_site: Any, sqlite_db: str) -> None:
    site = serve_site(news_pages())
    result = subprocess.run(
        [sys.executable, "-m", "scrapy", "crawl", "news", "-a", f"url={site.url('/')}",
         "-s", f"NEWSARCHIVE_DB={sqlite_db}", "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "DOWNLOAD_DELAY=0",
         "-s", "RETRY_TIMES=0", "-s", "LOG_LEVEL=INFO"],
        cwd=Path(__file__).parents[1],  # where scrapy.cfg is
        capture_output=True, text=True, timeout=120, check=False,
        env={k: v for k, v in os.environ.items() if not k.startswith("NEWSARCHIVE_")},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert site.url("/2024/0101/2.html") in article_urls(sqlite_db)
    assert f"'{STAT_RUN_STATUS}': 'ok'" in result.stderr


def test_unreachable_site_fails_its_run(sqlite_db: str, tmp_path: Path) -> None:
    result = cli("--db", sqlite_db, "crawl", "http://127.0.0.1:9/", "-s", "RETRY_TIMES=0")
    one_line_error(result, 1, "127.0.0.1:9: run failed: site unreachable: connection_refused x1")
    (run,) = runs(sqlite_db)
    assert run["status"] == "failed" and "connection_refused" in run["reason"]


def test_site_answering_only_errors_fails_its_run(serve_site: Any, sqlite_db: str, tmp_path: Path) -> None:
    site = serve_site({"/": (503, {"Content-Type": "text/html"}, b"down for maintenance")})
    result = crawl_site(tmp_path, sqlite_db, site.base_url)
    one_line_error(result, 1, "local: run failed: site answered only errors: http_503 x1")
    (run,) = runs(sqlite_db)
    assert run["status"] == "failed" and "only errors" in run["reason"] and run["errors"] == {"http_503": 1}


def test_a_run_that_cannot_be_recorded_stops_and_fails(serve_site: Any, sqlite_db: str,
                                                       tmp_path: Path) -> None:
    from storage import open_archive

    open_archive(sqlite_db).close()
    query(sqlite_db, "DROP TABLE crawl_run")  # a damaged archive
    site = serve_site(news_pages())
    result = crawl_site(tmp_path, sqlite_db, site.base_url)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.splitlines()[-1].startswith("Error: local: run failed: cannot write the archive:")
    assert site.hits["/news/"] == 0  # stopped before crawling the site


def test_huge_response_is_a_counted_error(serve_site: Any, sqlite_db: str, tmp_path: Path) -> None:
    pages = news_pages()
    pages["/2024/0101/2.html"] = html("Huge", "<p>" + "x" * 300_000 + "</p>")
    site = serve_site(pages)
    result = crawl_site(tmp_path, sqlite_db, site.base_url, settings={"DOWNLOAD_MAXSIZE": 200_000})
    assert result.returncode == 0, result.stderr
    assert site.url("/2024/0101/2.html") not in article_urls(sqlite_db)
    assert runs(sqlite_db)[0]["errors"]["too_large"] == 1


def one_line_error(result: Any, code: int, text: str) -> None:
    assert result.returncode == code, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and text in lines[0], result.stderr


def test_bad_input_is_a_one_line_error(sqlite_db: str, tmp_path: Path) -> None:
    one_line_error(cli("--db", sqlite_db, "crawl", "--site", "nope"), 2, "unknown site 'nope'")
    one_line_error(cli("--db", sqlite_db, "crawl", "not-a-url"), 2, "not an http(s) URL")
    one_line_error(cli("--db", sqlite_db, "crawl"), 2, "give a URL or --site")
    bad = tmp_path / "bad.toml"
    bad.write_text("[sites.x\n", encoding="utf-8")
    one_line_error(cli("--db", sqlite_db, "--config", str(bad), "crawl", "--site", "x"), 2, "malformed TOML")
    enabled = tmp_path / "enabled.toml"
    enabled.write_text("[sites.xunjk]\nenabled = true\n", encoding="utf-8")
    one_line_error(
        cli("--db", sqlite_db, "--config", str(enabled), "crawl", "--site", "xunjk", "-s", "NOEQUALS"),
        2,
        "NAME=VALUE",
    )
    one_line_error(
        cli("--db", str(tmp_path / "no" / "such" / "dir" / "a.db"), "--config", str(enabled), "crawl",
            "--site", "xunjk"),
        1,
        "",
    )
    one_line_error(cli("--db", sqlite_db, "crawl", "--site", "xunjk"), 2, "built-in example and not enabled")


def test_every_command_has_help_with_examples() -> None:
    for command in ("crawl", "schedule", "runs"):
        result = cli(command, "--help")
        assert result.returncode == 0 and "Examples:" in result.stdout
