"""A real archive for the web tests, and `newsarchive serve` started on it in a subprocess.

The archive holds the demo site's pages as the real extractor reads them, a
second version of one, a copy of it on another site (a duplicate), and a
hostile page: a title that is a <script> tag, a raw page whose scripts would
change the DOM and fetch a beacon URL on 127.0.0.1, and an image from there.
"""

from __future__ import annotations

import dataclasses
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from core.items import Article, FetchedPage
from pipelines.extraction import extract_article
from storage import open_archive, store_article
from tests.demo_pages import ARTICLE_PATHS, XUNJK_PATH, page

ORIGIN = "http://news.example"
HOSTILE_TITLE = '<script>document.title="pwned"</script><b>bold</b>'
CORRECTION = "更正:本文第三段数字有误,已修改。"
FETCHED = datetime(2024, 5, 3, 8, 0, tzinfo=UTC)


@dataclass
class Beacon:
    """A server on 127.0.0.1 that counts what an archived page tried to load."""

    url: str
    hits: Counter[str]


@contextmanager
def beacon_server() -> Iterator[Beacon]:
    hits: Counter[str] = Counter()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server API
            hits[self.path] += 1
            self.send_response(204)
            self.send_header("Access-Control-Allow-Origin", "*")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield Beacon(f"http://127.0.0.1:{server.server_address[1]}", hits)
    finally:
        server.shutdown()
        server.server_close()


def _fetched(url: str, body: bytes, site: str) -> FetchedPage:
    return FetchedPage(
        url=url,
        final_url=url,
        status=200,
        headers={"Content-Type": "text/html; charset=utf-8"},
        body=body,
        encoding="utf-8",
        fetched_at=FETCHED,
        site=site,
    )


def hostile_page(beacon_url: str) -> bytes:
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>hostile</title>
<script>document.title = "script ran"; fetch("{beacon_url}/fetch");</script>
<link rel="stylesheet" href="{beacon_url}/style.css">
</head><body><h1>Archived page</h1><p id="status">inert</p>
<img src="{beacon_url}/image.png" alt="">
<script>document.getElementById("status").textContent = "script ran";
new Image().src = "{beacon_url}/pixel";</script>
<iframe src="{beacon_url}/frame"></iframe>
</body></html>""".encode()


@dataclass(frozen=True)
class WebArchive:
    db: str
    ids: dict[str, int]  # "xunjk", "mirror", "hostile", and each demo path


def build_archive(path: Path | str, beacon_url: str) -> WebArchive:
    """Store the demo pages (extracted for real), a new version, a duplicate and the hostile
    page into ``path``: a SQLite file or a database URL."""
    db = str(path)
    archive = open_archive(db)
    ids: dict[str, int] = {}
    try:
        with archive.session() as session, session.begin():
            for demo_path in ARTICLE_PATHS:
                url = ORIGIN + demo_path
                body = page(demo_path)
                result = extract_article(body, url, http_charset="utf-8")
                assert result.article is not None, result.reason
                ids[demo_path] = store_article(
                    session, _fetched(url, body, "demo"), result.article
                ).article_id
            url = ORIGIN + XUNJK_PATH
            body = page(XUNJK_PATH)
            first = extract_article(body, url, http_charset="utf-8").article
            assert first is not None
            changed = dataclasses.replace(first, text=first.text + "\n" + CORRECTION)
            ids["xunjk"] = store_article(session, _fetched(url, body, "demo"), changed).article_id
            mirror_url = "http://mirror.example/copy/20399.html"
            ids["mirror"] = store_article(
                session, _fetched(mirror_url, body, "mirror"), dataclasses.replace(changed, url=mirror_url)
            ).article_id
            hostile_url = "http://hostile.example/1.html"
            hostile = Article(
                url=hostile_url,
                title=HOSTILE_TITLE,
                language="en",
                published_at=FETCHED,
                text="A page whose title is markup.\n<img src=x onerror=alert(1)> stays text.",
                extractor_version="test",
            )
            ids["hostile"] = store_article(
                session, _fetched(hostile_url, hostile_page(beacon_url), "hostile"), hostile
            ).article_id
    finally:
        archive.close()
    return WebArchive(db, ids)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    base_url: str
    process: subprocess.Popen[str]


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("NEWSARCHIVE_TOKEN", None)
    return env


@contextmanager
def serve(db: str, *args: str, env: dict[str, str] | None = None) -> Iterator[Server]:
    """`newsarchive serve` in a subprocess on a free port, until it answers; stopped afterwards."""
    port = free_port()
    command = [sys.executable, "-m", "crawler", "--db", db, "serve", "--port", str(port), *args]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**_env(), **(env or {})}
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise AssertionError(f"serve exited {process.returncode}: {process.stderr.read()}")  # type: ignore[union-attr]
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise AssertionError("serve did not start listening within 30 s") from None
                time.sleep(0.1)
        yield Server(base, process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def get(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    """(status, headers with lower-case names, body)."""
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, {k.lower(): v for k, v in response.headers.items()}, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, {k.lower(): v for k, v in exc.headers.items()}, exc.read()
