"""A loopback web server that misbehaves on purpose, for tests/test_hostile_web.py.

Each route is bytes (an HTML page), a ``(status, headers, body)`` tuple, or a callable
taking the request handler that writes whatever it likes to the socket itself (a reset,
a trickle, a broken status line) and returns None. Every payload is built here, in the
test process: nothing comes from the internet.
"""

from __future__ import annotations

import gzip
import socket
import struct
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

Reply = tuple[int, dict[str, str], bytes]
Route = bytes | Reply | Callable[[BaseHTTPRequestHandler], Reply | None]


@dataclass
class HostileSite:
    base_url: str
    port: int
    routes: dict[str, Route]
    hits: Counter[str] = field(default_factory=Counter)

    def url(self, path: str) -> str:
        return self.base_url + path


def _handler(site: HostileSite) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"

        def do_GET(self) -> None:  # noqa: N802 - http.server API
            site.hits[self.path] += 1
            route = site.routes.get(self.path)
            if route is None and self.path == "/robots.txt":
                route = (200, {"Content-Type": "text/plain"}, b"User-agent: *\nAllow: /\n")
            if route is None:
                route = (404, {"Content-Type": "text/html"}, b"<h1>Not found</h1>")
            if callable(route):
                reply = route(self)
                if reply is None:
                    return
                route = reply
            if isinstance(route, bytes):
                route = (200, {"Content-Type": "text/html; charset=utf-8"}, route)
            status, headers, body = route
            try:
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except OSError:
                pass  # the crawler hung up (a size limit): fine

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


@contextmanager
def serve(routes: dict[str, Route]) -> Iterator[HostileSite]:
    """Serve ``routes`` on 127.0.0.1 (a free port) in a background thread."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(HostileSite("", 0, routes)))
    port = server.server_address[1]
    site = HostileSite(f"http://127.0.0.1:{port}", port, routes)
    server.RequestHandlerClass = _handler(site)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield site
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def listener() -> Iterator[tuple[int, list[int]]]:
    """A TCP port that accepts connections and never says a word (an FTP server that
    never greets, a stuck service); yields (port, [connections accepted])."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    sock.settimeout(0.2)
    accepted: list[int] = [0]
    held: list[socket.socket] = []
    stop = threading.Event()

    def run() -> None:
        while not stop.is_set():
            try:
                conn, _ = sock.accept()
            except OSError:
                continue
            accepted[0] += 1
            held.append(conn)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield sock.getsockname()[1], accepted
    finally:
        stop.set()
        thread.join(timeout=2)
        for conn in held:
            conn.close()
        sock.close()


# --- payloads -------------------------------------------------------------------------------


def html(title: str, body: str) -> bytes:
    return f"<!doctype html><html><head><title>{title}</title></head><body>{body}</body></html>".encode()


def gzip_bomb(size: int = 64 * 1024 * 1024) -> Reply:
    """A small body that unpacks to ``size`` bytes of zeros."""
    body = gzip.compress(b"\0" * size, compresslevel=9)
    return 200, {"Content-Type": "text/html", "Content-Encoding": "gzip"}, body


BILLION_LAUGHS_ENTITIES = (
    '<!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">' for i in range(1, 10)
    )
    + "]>"
)


def billion_laughs_sitemap() -> Reply:
    body = (
        '<?xml version="1.0"?>'
        + BILLION_LAUGHS_ENTITIES
        + '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        "<url><loc>&lol9;</loc></url></urlset>"
    )
    return 200, {"Content-Type": "application/xml"}, body.encode()


def xxe_sitemap(path: str) -> Reply:
    body = (
        f'<?xml version="1.0"?><!DOCTYPE u [<!ENTITY xxe SYSTEM "file://{path}">]>'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        "<url><loc>&xxe;</loc></url></urlset>"
    )
    return 200, {"Content-Type": "application/xml"}, body.encode()


def billion_laughs_feed() -> Reply:
    body = (
        '<?xml version="1.0"?>'
        + BILLION_LAUGHS_ENTITIES
        + "<rss><channel><item><title>&lol9;</title><link>/x</link></item></channel></rss>"
    )
    return 200, {"Content-Type": "application/rss+xml"}, body.encode()


def sitemap_index(locs: list[str]) -> Reply:
    body = (
        '<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        + "".join(f"<sitemap><loc>{loc}</loc></sitemap>" for loc in locs)
        + "</sitemapindex>"
    )
    return 200, {"Content-Type": "application/xml"}, body.encode()


def urlset(locs: list[str]) -> Reply:
    body = (
        '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        + "".join(f"<url><loc>{loc}</loc></url>" for loc in locs)
        + "</urlset>"
    )
    return 200, {"Content-Type": "application/xml"}, body.encode()


def redirect(location: str) -> Reply:
    return 302, {"Location": location, "Content-Type": "text/html"}, b""


def reset(handler: BaseHTTPRequestHandler) -> None:
    """Close the connection with a TCP RST before answering."""
    handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    handler.connection.close()


def slowloris(handler: BaseHTTPRequestHandler) -> None:
    """Headers, then a byte every half second, for longer than any test waits."""
    try:
        handler.wfile.write(b"HTTP/1.0 200 OK\r\nContent-Type: text/html\r\nContent-Length: 100000\r\n\r\n")
        handler.wfile.flush()
        for _ in range(240):
            handler.wfile.write(b"<")
            handler.wfile.flush()
            time.sleep(0.5)
    except OSError:
        pass


def broken_headers(handler: BaseHTTPRequestHandler) -> None:
    """A status line and headers no HTTP parser should accept."""
    try:
        handler.wfile.write(
            b"HTTP/1.1 2OO Fine\r\nContent-Type text/html\r\nContent-Length: -5\r\n\r\n<html>"
        )
        handler.wfile.flush()
    except OSError:
        pass


def deep_nesting(depth: int = 100_000) -> bytes:
    return b"<html><body>" + b"<div>" * depth + b"<p>deep</p>" + b"</div>" * depth + b"</body></html>"


def million_links(count: int = 1_000_000) -> bytes:
    """About 15 MB: ``count`` unclosed anchors, each a distinct on-site URL."""
    return (
        b"<html><head><title>Links</title></head><body><p>"
        + b"".join(b"<a href=/%x>" % i for i in range(count))
        + b"</p></body></html>"
    )
