"""The bundled offline sample site, served on 127.0.0.1 for ``newsarchive demo``."""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from importlib.resources import as_file, files
from pathlib import Path

DEMO_ARTICLE_PATTERNS = [r"/\d{4}/\d{4}/\d+\.html$", r"/en/\d{4}/\d{2}/[\w-]+\.html$"]


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def serve_demo_site(port: int = 0) -> Iterator[str]:
    """Serve the sample site on 127.0.0.1 in a background thread; yield its base URL."""
    with as_file(files("crawler") / "demo_site") as root:
        handler = functools.partial(_QuietHandler, directory=str(root))
        server = ThreadingHTTPServer(("127.0.0.1", port), handler)
        server.daemon_threads = True
        thread = threading.Thread(target=server.serve_forever, name="demo-site", daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_address[1]}"
        finally:
            server.shutdown()
            server.server_close()


def write_demo_profile(path: Path, base_url: str) -> None:
    """A site profile for the served sample site (the port changes every run)."""
    patterns = ", ".join(f"'{p}'" for p in DEMO_ARTICLE_PATTERNS)
    path.write_text(
        "[sites.demo]\n"
        f'start_urls = ["{base_url}/", "{base_url}/en/"]\n'
        'allowed_domains = ["127.0.0.1"]\n'
        f"article_patterns = [{patterns}]\n"
        "max_pages = 100\n"
        "[sites.demo.settings]\n"
        "# a local server: no need to be polite, and nothing to wait for\n"
        "AUTOTHROTTLE_ENABLED = false\n"
        "DOWNLOAD_DELAY = 0\n",
        encoding="utf-8",
    )
