"""Crawl a site served on 127.0.0.1 and report pages/s beside its baselines, in one run.

Sites (``--site``):

* ``news``: ~300 real English evaluation pages (scrapinghub_en, naeb_en) under /a/N.html,
  listing pages linking 25 of them each — heavy pages, where extraction is the cost;
* ``light``: 600 small synthetic articles — light pages, where the crawl machinery is.

Figures, each measured in this one run on the same site:

* ``ours``: ``newsarchive crawl`` with ``EXTRACT_WORKERS`` = cores: pages/s (over the whole
  process, and over the crawl alone — the run's record, spider opened to closed — timed as
  plain Scrapy's figure is, without start-up), CPU seconds of
  the main (reactor) process per page, CPU use of the whole process tree, peak RSS of the
  tree (sum over the processes, sampled every 0.1 s), bytes per article of the archive and
  stored bytes per raw page;
* ``bare``: cores × bare trafilatura (``bare_extraction(bytes, url, with_metadata=True)``)
  over the site's pages in a pool of that many processes — what the machine allows;
* ``scrapy``: plain Scrapy (a spider that follows every link, nothing else) on the site;
* ``scrapy_trafilatura``: plain Scrapy calling bare trafilatura in its callback.

Usage: crawl_speed.py [--site news|light] [--workers N] — prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import psutil

from crawler.child_process import crawl_command

ROOT = Path(__file__).resolve().parents[1]
EVALDATA = ROOT.parent / "shared" / "evaldata"
PER_LISTING = 25
LIGHT_PAGES = 600


def _listings(pages: dict[str, bytes], count: int) -> None:
    listings = [list(range(i, min(i + PER_LISTING, count))) for i in range(0, count, PER_LISTING)]
    for n, ids in enumerate(listings):
        links = "".join(f'<li><a href="/a/{i}.html">Story {i}</a></li>' for i in ids)
        nxt = f'<a href="/list/{n + 1}.html">next</a>' if n + 1 < len(listings) else ""
        pages[f"/list/{n}.html"] = f"<html><body><h1>Latest</h1><ul>{links}</ul>{nxt}</body></html>".encode()
    pages["/"] = b'<html><body><a href="/list/0.html">News</a></body></html>'
    pages["/robots.txt"] = b"User-agent: *\nAllow: /\n"


def news_site() -> dict[str, bytes]:
    bodies = [
        p.read_bytes()
        for name in ("scrapinghub_en", "naeb_en")
        for p in sorted((EVALDATA / name / "html").glob("*.html"))
    ]
    # the pages' own site-relative links would only be 404s here: point them off-site
    bodies = [body.replace(b'href="/', b'href="http://offsite.invalid/') for body in bodies]
    pages = {f"/a/{i}.html": body for i, body in enumerate(bodies)}
    _listings(pages, len(bodies))
    return pages


_SYLLABLES = ("ka", "lo", "mi", "ren", "tus", "bel", "dor", "fin", "gar", "hul", "jas", "kev", "mon", "pra")


def _word(rnd: random.Random) -> str:
    return "".join(rnd.choice(_SYLLABLES) for _ in range(rnd.randint(1, 3)))


def light_site() -> dict[str, bytes]:
    pages = {}
    for i in range(LIGHT_PAGES):
        rnd = random.Random(i)  # every article its own text: near-duplicates would not be stored
        paragraphs = "".join(
            "<p>" + " ".join(_word(rnd) for _ in range(50)).capitalize() + f", item {i}, part {k}.</p>"
            for k in range(4)
        )
        pages[f"/a/{i}.html"] = (
            f"<!doctype html><html><head><meta charset='utf-8'><title>Story {i}</title>"
            "<meta property='article:published_time' content='2024-03-01T08:00:00+00:00'></head>"
            f"<body><article><h1>Story {i}</h1>{paragraphs}</article></body></html>"
        ).encode()
    _listings(pages, LIGHT_PAGES)
    return pages


SITES = {"news": news_site, "light": light_site}


def serve(pages: dict[str, bytes]) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            body = pages.get(self.path)
            self.send_response(200 if body is not None else 404)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body or b"")))
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _watch(args: list[str]) -> dict[str, float]:
    """Run ``args``; sample the process tree: peak summed RSS, CPU of the main process and
    of the whole tree (last sample of each process), wall time."""
    start = time.perf_counter()
    proc = psutil.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = 0
    cpu: dict[int, float] = {}
    main_cpu = 0.0
    while proc.poll() is None:
        total = 0
        try:
            tree = [proc, *proc.children(recursive=True)]
        except psutil.NoSuchProcess:
            break
        for p in tree:
            try:
                with p.oneshot():
                    total += p.memory_info().rss
                    times = p.cpu_times()
                    cpu[p.pid] = times.user + times.system
            except psutil.NoSuchProcess:
                continue
        main_cpu = cpu.get(proc.pid, main_cpu)
        peak = max(peak, total)
        time.sleep(0.1)
    wall = time.perf_counter() - start
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if proc.returncode != 0:
        raise SystemExit(f"crawl failed ({proc.returncode}): {err[-2000:]}")
    return {
        "seconds": wall,
        "peak_rss_mib": peak / 2**20,
        "main_cpu": main_cpu,
        "tree_cpu": sum(cpu.values()),
    }


def site_profile(base: str, tmp: Path) -> Path:
    """The site profile ``bench`` of the site served at ``base``, written into ``tmp``."""
    profile = tmp / "bench.toml"
    profile.write_text(
        f'[sites.bench]\nstart_urls = ["{base}/"]\nallowed_domains = ["127.0.0.1"]\n'
        "article_patterns = ['/a/\\d+\\.html$']\nmax_pages = 5000\n"
        "[sites.bench.settings]\nAUTOTHROTTLE_ENABLED = false\nDOWNLOAD_DELAY = 0\n"
        "CONCURRENT_REQUESTS_PER_DOMAIN = 16\n",
        encoding="utf-8",
    )
    return profile


def ours(base: str, workers: int, tmp: Path) -> dict[str, float]:
    profile = site_profile(base, tmp)
    db = str(tmp / "bench.db")
    watched = _watch(
        crawl_command(
            db,
            "bench",
            config=profile,
            settings={"EXTRACT_WORKERS": workers, "NEWSARCHIVE_PROGRESS": "off"},
        )
    )
    from sqlalchemy import func, select

    from storage import RawPage, list_runs, open_archive

    archive = open_archive(db)
    with archive.session() as session:
        run = list_runs(session, "bench", limit=1)[0]
        raw_pages, raw_bytes = session.execute(
            select(func.count(), func.sum(func.length(RawPage.body)))
        ).one()
    archive.close()
    archive_bytes = sum(p.stat().st_size for p in tmp.glob("bench.db*"))
    pages = run.pages_fetched
    # the crawl itself, from the spider's start to its close (the run's record), as plain
    # Scrapy's figure is timed: without the process's start-up (imports, the archive's
    # schema check), which the whole-process figure includes
    finished = run.finished_at
    crawl_seconds = (finished - run.started_at).total_seconds() if finished else watched["seconds"]
    return {
        "pages": pages,
        "articles": run.articles_new,
        "seconds": watched["seconds"],
        "pages_per_s": pages / watched["seconds"],
        "crawl_seconds": crawl_seconds,
        "crawl_pages_per_s": pages / crawl_seconds,
        "main_cpu_ms_per_page": 1000 * watched["main_cpu"] / max(1, pages),
        "cores_busy": watched["tree_cpu"] / watched["seconds"],
        "peak_rss_tree_mib": watched["peak_rss_mib"],
        # the archive's size (SQLite file and its WAL) and the raw pages' stored bytes
        "archive_bytes_per_article": archive_bytes / max(1, run.articles_new),
        "raw_bytes_per_page": (raw_bytes or 0) / max(1, raw_pages),
    }


def _bare_one(item: tuple[str, bytes]) -> None:
    import trafilatura

    url, body = item
    trafilatura.bare_extraction(body, url=url, with_metadata=True)


def bare(base: str, pages: dict[str, bytes], workers: int) -> dict[str, float]:
    items = [(base + path, body) for path, body in pages.items() if path.startswith("/a/")]
    with ProcessPoolExecutor(workers) as pool:
        list(pool.map(_bare_one, items[:workers]))  # start-up (imports, dateparser) not counted
        start = time.perf_counter()
        list(pool.map(_bare_one, items, chunksize=4))
        seconds = time.perf_counter() - start
    return {"pages": len(items), "seconds": seconds, "pages_per_s": len(items) / seconds}


_PLAIN_SPIDER = """
import sys, time, json
import scrapy
from scrapy.crawler import CrawlerProcess
from scrapy.linkextractors import LinkExtractor
EXTRACT = sys.argv[2] == "1"
if EXTRACT:
    import trafilatura
class Plain(scrapy.Spider):
    name = "plain"
    allowed_domains = ["127.0.0.1"]
    start_urls = [sys.argv[1] + "/"]
    links = LinkExtractor()
    def parse(self, response):
        if EXTRACT and "/a/" in response.url:
            trafilatura.bare_extraction(response.body, url=response.url, with_metadata=True)
        for link in self.links.extract_links(response):
            yield scrapy.Request(link.url)
process = CrawlerProcess({"LOG_LEVEL": "ERROR", "ROBOTSTXT_OBEY": True, "CONCURRENT_REQUESTS": 16,
    "CONCURRENT_REQUESTS_PER_DOMAIN": 16, "DOWNLOAD_DELAY": 0, "TELNETCONSOLE_ENABLED": False})
crawler = process.create_crawler(Plain)
t = time.perf_counter()
process.crawl(crawler)
process.start()
d = time.perf_counter() - t
print(json.dumps({"pages": crawler.stats.get_value("response_received_count"), "seconds": d}))
"""


def plain_scrapy(base: str, extract: bool) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-c", _PLAIN_SPIDER, base, "1" if extract else "0"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    info: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    info["pages_per_s"] = info["pages"] / info["seconds"]
    return info


def scrapy_bench() -> dict[str, float]:
    """``scrapy bench``: Scrapy's own loopback crawl for 10 s (pages/s it reaches here)."""
    done = subprocess.run(
        [sys.executable, "-m", "scrapy", "bench", "-s", "CLOSESPIDER_TIMEOUT=10", "-s", "LOG_LEVEL=INFO"],
        capture_output=True, text=True, check=False, cwd=tempfile.gettempdir(),
    )  # fmt: skip
    count = elapsed = 0.0
    for line in done.stderr.splitlines():
        if "'response_received_count':" in line:
            count = float(line.split(":")[-1].strip(" ,}"))
        if "'elapsed_time_seconds':" in line:
            elapsed = float(line.split(":")[-1].strip(" ,}"))
    return {"pages": count, "seconds": elapsed, "pages_per_s": count / elapsed if elapsed else 0.0}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--site", choices=sorted(SITES), default="news")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--scrapy-bench", action="store_true", help="also run `scrapy bench`")
    args = parser.parse_args()
    pages = SITES[args.site]()
    server = serve(pages)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    result: dict[str, Any] = {"site": args.site, "workers": args.workers}
    with tempfile.TemporaryDirectory() as tmp:
        result["ours"] = ours(base, args.workers, Path(tmp))
    result["bare"] = bare(base, pages, args.workers)
    result["scrapy"] = plain_scrapy(base, extract=False)
    result["scrapy_trafilatura"] = plain_scrapy(base, extract=True)
    if args.scrapy_bench:
        result["scrapy_bench"] = scrapy_bench()
    server.shutdown()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
