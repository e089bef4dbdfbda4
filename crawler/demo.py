"""The bundled offline sample site, served on 127.0.0.1 for ``newsarchive demo``.

The crawl reaches it as ``http://demo.newsarchive.test/`` through the local server acting as
an HTTP proxy, so the archived URLs are the same on every run whatever port the server got:
running the demo twice into one archive stores each article once."""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from importlib.resources import as_file, files
from pathlib import Path
from urllib.parse import urlsplit

DEMO_HOST = "demo.newsarchive.test"  # .test is reserved (RFC 2606): never a real site
DEMO_ORIGIN = f"http://{DEMO_HOST}"
DEMO_ARTICLE_PATTERNS = [r"/\d{4}/\d{4}/\d+\.html$", r"/en/\d{4}/\d{2}/[\w-]+\.html$"]


class _DemoHandler(SimpleHTTPRequestHandler):
    """Serves the sample site to plain requests and to proxy requests for DEMO_HOST only."""

    def do_GET(self) -> None:  # noqa: N802 - http.server API
        if self.path.startswith(("http://", "https://")):
            target = urlsplit(self.path)
            if target.scheme != "http" or target.hostname != DEMO_HOST:
                self.send_error(403, "this proxy serves only " + DEMO_ORIGIN)
                return
            self.path = (target.path or "/") + (f"?{target.query}" if target.query else "")
        super().do_GET()

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def serve_demo_site(port: int = 0) -> Iterator[str]:
    """Serve the sample site on 127.0.0.1 in a background thread; yield its base URL
    (which is also the proxy that serves ``DEMO_ORIGIN``)."""
    with as_file(files("crawler") / "demo_site") as root:
        handler = functools.partial(_DemoHandler, directory=str(root))
        server = ThreadingHTTPServer(("127.0.0.1", port), handler)
        server.daemon_threads = True
        thread = threading.Thread(target=server.serve_forever, name="demo-site", daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_address[1]}"
        finally:
            server.shutdown()
            server.server_close()


def proxy_environment(environ: dict[str, str], proxy_url: str) -> dict[str, str]:
    """The crawl's environment: plain-HTTP requests go through the demo server (Scrapy's
    HttpProxyMiddleware reads ``http_proxy``); no ``no_proxy`` may exempt the demo host."""
    env = {k: v for k, v in environ.items() if k.lower() not in {"http_proxy", "https_proxy", "no_proxy"}}
    env["http_proxy"] = env["HTTP_PROXY"] = proxy_url
    return env


def write_demo_profile(path: Path, origin: str = DEMO_ORIGIN) -> None:
    """A site profile for the sample site at ``origin``."""
    patterns = ", ".join(f"'{p}'" for p in DEMO_ARTICLE_PATTERNS)
    host = urlsplit(origin).hostname
    path.write_text(
        "[sites.demo]\n"
        f'start_urls = ["{origin}/", "{origin}/en/"]\n'
        f'allowed_domains = ["{host}"]\n'
        f"article_patterns = [{patterns}]\n"
        "max_pages = 100\n"
        "[sites.demo.settings]\n"
        "# a local server: no need to be polite, and nothing to wait for\n"
        "AUTOTHROTTLE_ENABLED = false\n"
        "DOWNLOAD_DELAY = 0\n",
        encoding="utf-8",
    )
