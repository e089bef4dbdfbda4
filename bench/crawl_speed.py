"""Crawl a ~300-article site served on 127.0.0.1 and report pages/s.

The articles are the real English evaluation pages (scrapinghub_en, naeb_en), served
under /a/N.html with listing pages linking 25 of them each. Usage: crawl_speed.py WORKERS
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from crawler.child_process import crawl_command

EVALDATA = Path(__file__).resolve().parents[2] / "shared" / "evaldata"
PER_LISTING = 25


def build_site() -> dict[str, bytes]:
    bodies = [
        p.read_bytes()
        for name in ("scrapinghub_en", "naeb_en")
        for p in sorted((EVALDATA / name / "html").glob("*.html"))
    ]
    # the pages' own site-relative links would only be 404s here: point them off-site
    bodies = [body.replace(b'href="/', b'href="http://offsite.invalid/') for body in bodies]
    pages = {f"/a/{i}.html": body for i, body in enumerate(bodies)}
    listings = [list(range(i, min(i + PER_LISTING, len(bodies)))) for i in range(0, len(bodies), PER_LISTING)]
    for n, ids in enumerate(listings):
        links = "".join(f'<li><a href="/a/{i}.html">Story {i}</a></li>' for i in ids)
        nxt = f'<a href="/list/{n + 1}.html">next</a>' if n + 1 < len(listings) else ""
        pages[f"/list/{n}.html"] = f"<html><body><h1>Latest</h1><ul>{links}</ul>{nxt}</body></html>".encode()
    pages["/"] = b'<html><body><a href="/list/0.html">News</a></body></html>'
    pages["/robots.txt"] = b"User-agent: *\nAllow: /\n"
    return pages


def serve(pages: dict[str, bytes]) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            body = pages.get(self.path)
            self.send_response(200 if body is not None else 404)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def main(workers: int) -> None:
    pages = build_site()
    server = serve(pages)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    with tempfile.TemporaryDirectory() as tmp:
        profile = Path(tmp) / "bench.toml"
        profile.write_text(
            f'[sites.bench]\nstart_urls = ["{base}/"]\nallowed_domains = ["127.0.0.1"]\n'
            "article_patterns = ['/a/\\d+\\.html$']\nmax_pages = 1000\n"
            "[sites.bench.settings]\nAUTOTHROTTLE_ENABLED = false\nDOWNLOAD_DELAY = 0\n"
            "CONCURRENT_REQUESTS_PER_DOMAIN = 16\n",
            encoding="utf-8",
        )
        db = str(Path(tmp) / "bench.db")
        start = time.perf_counter()
        subprocess.run(
            crawl_command(
                db,
                "bench",
                config=profile,
                settings={"EXTRACT_WORKERS": workers, "NEWSARCHIVE_PROGRESS": "off"},
            ),
            check=True,
            capture_output=True,
        )
        seconds = time.perf_counter() - start
        from storage import list_runs, open_archive

        archive = open_archive(db)
        with archive.session() as session:
            run = list_runs(session, "bench", limit=1)[0]
        archive.close()
    server.shutdown()
    print(json.dumps({"pages": run.pages_fetched, "articles": run.articles_new, "seconds": seconds}))


if __name__ == "__main__":
    main(int(sys.argv[1]))
