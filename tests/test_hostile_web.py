"""A hostile web, crawled by the real CLI: every attack of SECURITY.md against a loopback
server (tests/hostile_server.py), asserting bounded time and memory, the right counters in
the run record, the good pages stored and no traceback.

Cases kept in tests/test_bad_input.py (binary bodies, DOWNLOAD_MAXSIZE, error-only sites,
broken HTML, wrong charsets) are not repeated here.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil
import pytest

from tests import hostile_server as hs
from tests.test_crawl_support import ARTICLES, SITE, query, write_config

GOOD = sorted(ARTICLES)  # three real news pages
SECRET = "SECRET-LOCAL-FILE-7f3a"  # in a local file a page tries to make the crawler read


@dataclass
class Crawl:
    result: subprocess.CompletedProcess[str]
    seconds: float
    peak_rss_mb: float
    db: Path

    def run(self) -> dict[str, Any]:
        sql = "SELECT status, errors, stats FROM crawl_run ORDER BY id DESC"
        status, errors, stats = query(str(self.db), sql)[0]
        return {
            "status": status,
            "errors": json.loads(errors) if isinstance(errors, str) else errors,
            "stats": json.loads(stats) if isinstance(stats, str) else stats,
        }

    def stored_urls(self) -> set[str]:
        return {row[0] for row in query(str(self.db), "SELECT url FROM article")}

    def all_text(self) -> str:
        rows = query(str(self.db), "SELECT coalesce(title, '') || ' ' || coalesce(text, '') FROM article")
        return " ".join(row[0] for row in rows)


def crawl(tmp_path: Path, table: dict[str, Any], *options: str, timeout: float = 180) -> Crawl:
    """``newsarchive crawl --site t`` in a fresh process; its whole process tree's peak RSS
    is sampled every 50 ms."""
    config = write_config(tmp_path / "sites.toml", {"t": table})
    db = tmp_path / "archive.db"
    args = [
        sys.executable,
        "-m",
        "crawler",
        "--db",
        str(db),
        "--config",
        str(config),
        "-v",
        "crawl",
        "--site",
        "t",
        *options,
    ]
    env = {**os.environ, "NEWSARCHIVE_PROGRESS": "log"}
    for name in ("NEWSARCHIVE_DB", "NEWSARCHIVE_CONFIG", "NEWSARCHIVE_REDIS_URL"):
        env.pop(name, None)
    started = time.monotonic()
    proc = subprocess.Popen(
        args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path
    )
    peak = 0.0
    root = psutil.Process(proc.pid)
    out: list[str] = []

    def drain() -> None:
        stdout, stderr = proc.communicate()
        out.extend([stdout, stderr])

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    while reader.is_alive():
        if time.monotonic() - started > timeout:
            for child in root.children(recursive=True):
                child.kill()
            proc.kill()
            reader.join()
            pytest.fail(f"crawl still running after {timeout} s")
        try:
            tree = [root, *root.children(recursive=True)]
            peak = max(peak, sum(p.memory_info().rss for p in tree if p.is_running()) / 2**20)
        except psutil.Error:
            pass
        reader.join(0.05)
    result = subprocess.CompletedProcess(args, proc.returncode, out[0], out[1])
    return Crawl(result, time.monotonic() - started, peak, db)


def assert_clean(c: Crawl) -> None:
    assert c.result.returncode == 0, c.result.stderr[-3000:]
    assert "Traceback" not in c.result.stderr, c.result.stderr[-5000:]


FAST_LIMITS = [
    "-s",
    "DOWNLOAD_TIMEOUT=3",
    "-s",
    "NEWSARCHIVE_MAX_LINKS_PER_PAGE=40",
    "-s",
    "CONCURRENT_REQUESTS=32",
    "-s",
    "CONCURRENT_REQUESTS_PER_DOMAIN=16",
]


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """One site holding most attacks, crawled once; the tests below read the outcome."""
    tmp = tmp_path_factory.mktemp("hostile")
    secret = tmp / "secret.html"
    words = f"{SECRET} " * 50
    secret.write_text(f"<html><head><title>{SECRET}</title></head><body><p>{words}</p></body></html>")
    with (
        hs.listener() as (ftp_port, ftp_accepted),
        hs.serve({"/2024/0101/9.html": (SITE / ARTICLES[GOOD[1]]).read_bytes()}) as other_port_site,
    ):
        other = other_port_site.base_url
        long_url = "/long?q=" + "a" * 100_000
        routes: dict[str, hs.Route] = {
            "/": hs.html(
                "Home",
                "".join(
                    f'<a href="{p}">story</a>'
                    for p in [
                        *GOOD,
                        f"file://127.0.0.1{secret}",  # Scrapy's file handler ignores the host
                        f"ftp://127.0.0.1:{ftp_port}/x.html",
                        f"{other}/2024/0101/9.html",  # another port: another origin
                        "/2024/0101/4.html",
                        "/2024/0101/5.html",
                        "/2024/0101/6.html",
                        "/loop",
                        "/bomb.html",
                        long_url,
                        "/slow.html",
                        "/reset.html",
                        "/broken-headers.html",
                        "/deep.html",
                        "/many.html",
                        "/private/2024/0101/7.html",
                        "/storm.html",
                        "javascript:alert(document.cookie)",
                        "data:text/html,<h1>injected</h1>",
                        "mailto:editor@example.com",
                    ]
                ),
            ),
            "/robots.txt": (200, {"Content-Type": "text/plain"}, b"User-agent: *\nDisallow: /private/\n"),
            "/2024/0101/4.html": hs.redirect(f"file://{secret}"),
            "/2024/0101/5.html": hs.redirect(f"{other}/2024/0101/9.html"),
            "/2024/0101/6.html": hs.redirect("http://example.invalid/2024/0101/6.html"),
            "/loop": hs.redirect("/loop2"),
            "/loop2": hs.redirect("/loop"),
            "/bomb.html": hs.gzip_bomb(),
            long_url: hs.html("long", "<p>should never be asked for</p>"),
            "/slow.html": hs.slowloris,
            "/reset.html": hs.reset,
            "/broken-headers.html": hs.broken_headers,
            "/deep.html": hs.deep_nesting(),
            "/many.html": hs.html("Many", "".join(f'<a href="/m/{i}">{i}</a>' for i in range(300))),
            "/private/2024/0101/7.html": hs.html("private", "<p>robots.txt says no</p>"),
            "/storm.html": hs.html("Storm", "".join(f'<a href="/5xx/{i}">{i}</a>' for i in range(30))),
            **{f"/5xx/{i}": (503, {"Content-Type": "text/html"}, b"busy") for i in range(30)},
            "/sitemap-index.xml": hs.sitemap_index(
                [
                    f"file://{secret}",
                    f"ftp://127.0.0.1:{ftp_port}/s.xml",
                    f"{other}/s.xml",
                    "/sitemap-good.xml",
                ]
            ),
            "/sitemap-good.xml": hs.urlset([GOOD[2], "/" + "b" * 5000]),
            "/laughs.xml": hs.billion_laughs_sitemap(),
            "/xxe.xml": hs.xxe_sitemap(str(secret)),
            "/laughs.rss": hs.billion_laughs_feed(),
        }
        for path in GOOD:
            routes[path] = (
                (SITE / ARTICLES[path]).read_bytes()
                if not ARTICLES[path].startswith("/")
                else Path(ARTICLES[path]).read_bytes()
            )
        with hs.serve(routes) as site:
            table = {
                "start_urls": [site.url("/")],
                "allowed_domains": ["127.0.0.1"],
                "article_patterns": [r"/\d{4}/\d{4}/\d+\.html$"],
                "sitemaps": [site.url("/sitemap-index.xml"), site.url("/laughs.xml"), site.url("/xxe.xml")],
                "feeds": [site.url("/laughs.rss")],
            }
            result = crawl(tmp, table, *FAST_LIMITS)
            yield {
                "crawl": result,
                "site": site,
                "other": other_port_site,
                "ftp_accepted": ftp_accepted,
                "long_url": long_url,
            }


def test_the_crawl_finishes_in_bounded_time_and_memory(hostile: dict[str, Any]) -> None:
    c: Crawl = hostile["crawl"]
    assert_clean(c)
    assert c.seconds < 90, c.seconds
    assert c.peak_rss_mb < 700, c.peak_rss_mb
    assert c.run()["status"] == "ok"


def test_the_good_pages_are_stored(hostile: dict[str, Any]) -> None:
    c: Crawl = hostile["crawl"]
    site = hostile["site"]
    assert {site.url(p) for p in GOOD} <= c.stored_urls()


def test_no_local_file_is_read_and_no_ftp_is_attempted(hostile: dict[str, Any]) -> None:
    c: Crawl = hostile["crawl"]
    assert SECRET not in c.all_text()
    assert not any(url.startswith("file:") for url in c.stored_urls())
    assert hostile["ftp_accepted"][0] == 0, "a connection was made to the ftp:// port"
    errors = c.run()["errors"]
    assert errors.get("bad_scheme", 0) >= 2  # file:// and ftp:// entries of the sitemap index


def test_another_port_of_the_site_host_is_another_site(hostile: dict[str, Any]) -> None:
    c: Crawl = hostile["crawl"]
    assert hostile["other"].hits["/2024/0101/9.html"] == 0
    assert hostile["other"].hits["/s.xml"] == 0
    assert not any(hostile["other"].base_url in url for url in c.stored_urls())
    # redirects to the other port and off site, the other port's sitemap
    assert c.run()["errors"].get("off_site", 0) >= 3


def test_decompression_bomb_is_counted(hostile: dict[str, Any]) -> None:
    assert hostile["crawl"].run()["errors"].get("decompression_bomb") == 1


def test_long_urls_are_not_requested_and_counted(hostile: dict[str, Any]) -> None:
    assert hostile["site"].hits[hostile["long_url"]] == 0
    assert hostile["crawl"].run()["errors"].get("url_too_long") == 2  # a link and a sitemap entry


def test_entity_bombs_and_xxe_are_counted_bad_sitemaps_and_feeds(hostile: dict[str, Any]) -> None:
    errors = hostile["crawl"].run()["errors"]
    assert errors.get("bad_sitemap") == 2
    assert errors.get("bad_feed") == 1
    assert SECRET not in hostile["crawl"].all_text()


def test_links_beyond_the_cap_are_counted_not_followed(hostile: dict[str, Any]) -> None:
    site = hostile["site"]
    followed = sum(n for path, n in site.hits.items() if path.startswith("/m/"))
    assert followed == 40
    # 260 of /many.html, and those of the real articles' pages beyond 40 each
    assert hostile["crawl"].run()["errors"].get("too_many_links", 0) >= 260


def test_deep_nesting_is_counted_not_extracted(hostile: dict[str, Any]) -> None:
    assert hostile["crawl"].run()["errors"].get("too_many_elements") == 1


def test_slow_reset_broken_and_failing_servers_are_counted(hostile: dict[str, Any]) -> None:
    errors = hostile["crawl"].run()["errors"]
    assert errors.get("http_503") == 30
    assert errors.get("timeout", 0) >= 1  # the slowloris page
    other = sum(
        v
        for k, v in errors.items()
        if k in ("connection", "data_loss", "connection_lost", "response_failed", "response_never_received")
    )
    assert other >= 2, errors  # the reset and the broken status line


def test_redirect_loops_robots_and_pseudo_urls_are_bounded(hostile: dict[str, Any]) -> None:
    site = hostile["site"]
    assert site.hits["/loop"] + site.hits["/loop2"] <= 12
    assert site.hits["/private/2024/0101/7.html"] == 0
    assert not [p for p in site.hits if "javascript" in p or "data:" in p or "mailto" in p]
    assert "injected" not in hostile["crawl"].all_text()


def test_runs_shows_the_drop_counters(hostile: dict[str, Any]) -> None:
    c: Crawl = hostile["crawl"]
    cwd = c.db.parent
    text = subprocess.run(
        [sys.executable, "-m", "crawler", "--db", str(c.db), "runs"],
        capture_output=True,
        text=True,
        check=False,
        cwd=cwd,
    )
    assert text.returncode == 0, text.stderr
    for kind in ("decompression_bomb", "url_too_long", "bad_sitemap", "too_many_links", "off_site"):
        assert kind in text.stdout
    as_json = subprocess.run(
        [sys.executable, "-m", "crawler", "--db", str(c.db), "runs", "--format", "json"],
        capture_output=True,
        text=True,
        check=False,
        cwd=cwd,
    )
    assert as_json.returncode == 0, as_json.stderr
    assert "decompression_bomb" in as_json.stdout and "too_many_links" in as_json.stdout


# --- the million-link page ------------------------------------------------------------------


@pytest.mark.slow
def test_a_million_link_page_costs_bounded_time_and_memory(tmp_path: Path) -> None:
    routes: dict[str, hs.Route] = {
        "/": hs.html("Home", "".join(f'<a href="{p}">story</a>' for p in [*GOOD, "/huge.html"])),
        "/huge.html": hs.million_links(),
    }
    for path in GOOD:
        routes[path] = (SITE / ARTICLES[path]).read_bytes()
    assert 14_000_000 < len(routes["/huge.html"]) < 16 * 2**20  # type: ignore[arg-type]
    with hs.serve(routes) as site:
        table = {
            "start_urls": [site.url("/")],
            "allowed_domains": ["127.0.0.1"],
            "article_patterns": [r"/\d{4}/\d{4}/\d+\.html$"],
        }
        c = crawl(
            tmp_path,
            table,
            "-s",
            "DOWNLOAD_TIMEOUT=10",
            "-s",
            "CONCURRENT_REQUESTS_PER_DOMAIN=16",
            timeout=150,
        )
    assert_clean(c)
    print(f"million-link crawl: {c.seconds:.1f} s, peak RSS of the process tree {c.peak_rss_mb:.0f} MB")
    assert c.seconds < 120
    assert c.peak_rss_mb < 700
    assert {site.url(p) for p in GOOD} <= c.stored_urls()
    errors = c.run()["errors"]
    assert errors.get("too_many_links", 0) > 900_000
    # the links kept (NEWSARCHIVE_MAX_LINKS_PER_PAGE) are fetched: 404s, but bounded
    assert sum(n for path, n in site.hits.items() if re.fullmatch(r"/[0-9a-f]+", path)) == 2000


@pytest.mark.slow
def test_max_pages_holds_with_a_pathological_page(tmp_path: Path) -> None:
    routes: dict[str, hs.Route] = {
        "/": hs.html("Home", '<a href="/huge.html">all</a>'),
        "/huge.html": hs.million_links(200_000),
    }
    with hs.serve(routes) as site:
        table = {"start_urls": [site.url("/")], "allowed_domains": ["127.0.0.1"]}
        c = crawl(tmp_path, table, "--max-pages", "20", timeout=120)
    assert_clean(c)
    assert c.run()["status"] == "ok"
    fetched = sum(site.hits.values())
    assert fetched <= 20 + 32 + 1, fetched  # the limit, plus what was in flight, plus robots.txt


# --- what a hostile archive's content or a hostile query can do ---------------------------------


INJECTIONS = [
    "'; DROP TABLE article; --",
    '" OR 1=1 --',
    "a' UNION SELECT sql FROM sqlite_master --",
    "title:* OR text:*",
    'NEAR("council" "report", 0)',
    "*",
    '") OR ("',
    "{title text}: council",
    "^council",
]


@pytest.mark.slow
def test_sql_and_fts_injection_in_search_is_a_query_or_one_error_line(hostile: dict[str, Any]) -> None:
    c: Crawl = hostile["crawl"]
    count = query(str(c.db), "SELECT count(*) FROM article")[0][0]
    for text in INJECTIONS:
        result = subprocess.run(
            [sys.executable, "-m", "crawler", "--db", str(c.db), "search", text],
            capture_output=True,
            text=True,
            check=False,
            cwd=c.db.parent,
        )
        assert "Traceback" not in result.stderr, (text, result.stderr)
        assert result.returncode in (0, 1), (text, result.stderr)
        if result.returncode:
            assert len(result.stderr.splitlines()) == 1 and result.stderr.startswith("Error: "), text
    assert query(str(c.db), "SELECT count(*) FROM article")[0][0] == count
    assert query(str(c.db), "SELECT count(*) FROM sqlite_master WHERE name = 'article'")[0][0] == 1


def test_export_file_names_stay_in_the_export_folder(hostile: dict[str, Any], tmp_path: Path) -> None:
    """Titles come from the pages: a title that is a path must not place a file elsewhere."""
    db = tmp_path / "archive.db"
    db.write_bytes(hostile["crawl"].db.read_bytes())
    titles = [
        "../../../../tmp/escaped",
        "/etc/cron.d/evil",
        "..",
        "a/../../b",
        "C:\\Windows\\evil",
        "\x00nul",
    ]
    ids = [row[0] for row in query(str(db), "SELECT id FROM article ORDER BY id")]
    import sqlite3

    from storage.search_index import register_sqlite_functions

    with sqlite3.connect(db) as conn:
        # the search-index triggers call newsarchive's SQL function (docs/archive.md)
        register_sqlite_functions(conn)
        for article_id, title in zip(ids, titles, strict=False):
            conn.execute("UPDATE article SET title = ? WHERE id = ?", (title, article_id))
    out = tmp_path / "out" / "md"
    result = subprocess.run(
        [sys.executable, "-m", "crawler", "--db", str(db), "export", "--format", "md", "--out", str(out)],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    written = [p for p in tmp_path.rglob("*") if p.is_file() and p.suffix == ".md"]
    assert written and all(p.parent == out for p in written), written
    assert not Path("/tmp/escaped.md").exists() and not Path("/etc/cron.d/evil.md").exists()


def test_the_demo_site_listens_on_loopback_only() -> None:
    import socket

    from crawler.demo import serve_demo_site

    with serve_demo_site() as url:
        port = int(url.rsplit(":", 1)[1].split("/")[0])
        assert url.startswith("http://127.0.0.1:")
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            pass
        addresses = {
            str(info[4][0]) for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)
        }
        for address in addresses - {"127.0.0.1"}:
            if address.startswith("127."):
                continue
            with pytest.raises(OSError):
                socket.create_connection((address, port), timeout=2).close()
