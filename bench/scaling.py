"""A shared crawl on 1, 2 and 3 worker processes, and a single process without Redis.

One ~300-article site (the real English evaluation pages, as bench/crawl_speed.py) is
served on 127.0.0.1 with a fixed latency per page (a remote site answers in tens of
milliseconds, not microseconds). Each run crawls it into a fresh PostgreSQL database: first
one process without a shared frontier (the baseline), then 1, 2 and 3 ``crawl --site``
workers sharing one Redis frontier. Reported: wall time (first start to last exit), pages/s,
page fetches in total, pages fetched more than once, articles stored, and each worker's
share. Needs PostgreSQL (127.0.0.1:5432, user postgres) and Redis (127.0.0.1:6379, db 14).

Usage: python bench/scaling.py [--latency 0.05] [--articles N]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.crawl_speed import build_site  # noqa: E402
from crawler.child_process import crawl_command  # noqa: E402

ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
REDIS_URL = "redis://127.0.0.1:6379/14"


def serve(pages: dict[str, bytes], latency: float, hits: Counter[str]) -> ThreadingHTTPServer:
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            with lock:
                hits[self.path] += 1
            time.sleep(latency)
            body = pages.get(self.path)
            self.send_response(200 if body is not None else 404)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def run(base_url: str, workers: int, shared: bool, hits: Counter[str], tmp: Path) -> list[str]:
    name = f"newsarchive_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    db = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    config = tmp / "sites.toml"
    config.write_text(
        "[sites.bench]\n"
        f'start_urls = ["{base_url}/"]\nallowed_domains = ["127.0.0.1"]\n'
        'article_patterns = ["/a/\\\\d+\\\\.html$"]\n'
        "[sites.bench.settings]\n"
        "AUTOTHROTTLE_ENABLED = false\nDOWNLOAD_DELAY = 0\nCONCURRENT_REQUESTS_PER_DOMAIN = 8\n"
        "EXTRACT_WORKERS = 1\nNEWSARCHIVE_LEARN_TEMPLATES = false\n",
        encoding="utf-8",
    )
    root = str(Path(__file__).resolve().parents[1])
    env = {**os.environ, "NEWSARCHIVE_PROGRESS": "off", "PYTHONPATH": root}
    if shared:
        env["NEWSARCHIVE_REDIS_URL"] = REDIS_URL
    try:
        subprocess.run([sys.executable, "-m", "crawler", "--db", db, "db", "upgrade"], env=env, check=True,
                       capture_output=True)
        hits.clear()
        started = time.monotonic()
        procs = [subprocess.Popen(crawl_command(db, "bench", config=config), env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
                 for _ in range(workers)]
        codes = [proc.wait() for proc in procs]
        wall = time.monotonic() - started
        runs = json.loads(subprocess.run(
            [sys.executable, "-m", "crawler", "--db", db, "runs", "--format", "json"],
            env=env, check=True, capture_output=True, text=True).stdout)
        with psycopg.connect(f"host=127.0.0.1 port=5432 user=postgres dbname={name}") as conn:
            row = conn.execute("SELECT count(*) FROM article").fetchone()
            stored = row[0] if row else 0
    finally:
        with psycopg.connect(ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    pages = sum(n for path, n in hits.items() if path != "/robots.txt")
    twice = sum(1 for path, n in hits.items() if n > 1 and path != "/robots.txt")
    shares = "/".join(str(r["pages_fetched"]) for r in sorted(runs, key=lambda r: r["id"]))
    label = f"{workers} worker{'s' if workers > 1 else ''}, shared frontier" if shared else \
        "1 process, no shared frontier"
    status = "ok" if codes == [0] * workers else f"exit codes {codes}"
    return [label, f"{wall:.1f} s", f"{pages / wall:.1f} pages/s", str(pages), str(twice), str(stored),
            shares, status]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--latency", type=float, default=0.05, help="seconds the site takes per page")
    parser.add_argument("--articles", type=int, default=0, help="only the first N articles (default: all)")
    args = parser.parse_args()
    hits: Counter[str] = Counter()
    pages = build_site()
    if args.articles:
        pages = {path: body for path, body in pages.items()
                 if not path.startswith("/a/") or int(path[3:-5]) < args.articles}
    server = serve(pages, args.latency, hits)
    base_url = f"http://127.0.0.1:{server.server_address[1]}"
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        rows.append(run(base_url, 1, False, hits, Path(tmp)))
        for workers in (1, 2, 3):
            rows.append(run(base_url, workers, True, hits, Path(tmp)))
    server.shutdown()
    print(f"site: {len(pages)} paths, {args.latency * 1000:.0f} ms per page; {os.cpu_count()} CPUs")
    print("| crawl | wall time | throughput | page fetches | fetched twice | articles stored "
          "| pages per worker | exit |")
    print("|---|---|---|---|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
