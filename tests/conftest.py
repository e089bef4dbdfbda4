"""Shared test fixtures: a real HTTP server on 127.0.0.1, real SQLite files,
and the real PostgreSQL / Redis servers where a test is about them."""

from __future__ import annotations

import os
import socket
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.leftovers import kill, leftover_processes, mark_session

FIXTURES = Path(__file__).parent / "fixtures"

PG_HOST = os.environ.get("NEWSARCHIVE_TEST_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("NEWSARCHIVE_TEST_PG_PORT", "5432"))
REDIS_HOST = os.environ.get("NEWSARCHIVE_TEST_REDIS_HOST", "127.0.0.1")
REDIS_PORT = int(os.environ.get("NEWSARCHIVE_TEST_REDIS_PORT", "6379"))


def _port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


Response = tuple[int, dict[str, str], bytes]
Handler = Callable[[BaseHTTPRequestHandler], Response]


@dataclass
class TestSite:
    """A site served on 127.0.0.1. ``pages`` maps a path to bytes (served as
    text/html; charset=utf-8), a full ``(status, headers, body)`` tuple, or a
    callable taking the request handler and returning such a tuple. Pages may
    be changed while the server runs. ``hits`` counts requests per path."""

    base_url: str
    pages: dict[str, bytes | Response | Handler]
    hits: Counter[str] = field(default_factory=Counter)
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    def url(self, path: str) -> str:
        return self.base_url + path


def _make_handler(site_ref: list[TestSite]) -> type[BaseHTTPRequestHandler]:
    class _Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server API
            site = site_ref[0]
            path = self.path
            site.hits[path] += 1
            site.requests.append((path, dict(self.headers.items())))
            page = site.pages.get(path)
            if page is None and path == "/robots.txt":
                page = (200, {"Content-Type": "text/plain"}, b"User-agent: *\nAllow: /\n")
            if page is None:
                status, headers, body = 404, {"Content-Type": "text/html"}, b"<h1>Not found</h1>"
            elif callable(page):
                status, headers, body = page(self)
            elif isinstance(page, tuple):
                status, headers, body = page
            else:
                status, headers, body = 200, {"Content-Type": "text/html; charset=utf-8"}, page
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:  # quiet
            pass

    return _Handler


@pytest.fixture
def serve_site() -> Iterator[Callable[[dict[str, bytes | Response | Handler]], TestSite]]:
    """Start a real HTTP server on 127.0.0.1 serving the given pages."""
    servers: list[ThreadingHTTPServer] = []

    def start(pages: dict[str, bytes | Response | Handler]) -> TestSite:
        ref: list[TestSite] = []
        server = ThreadingHTTPServer(("127.0.0.1", 0), _make_handler(ref))
        server.daemon_threads = True
        ref.append(TestSite(base_url=f"http://127.0.0.1:{server.server_address[1]}", pages=pages))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return ref[0]

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture
def sqlite_db(tmp_path: Path) -> str:
    """Path of a fresh SQLite archive file."""
    return str(tmp_path / "archive.db")


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database on the local server (trust auth), dropped afterwards."""
    yield from pg_database("newsarchive_test")


def pg_database(prefix: str) -> Iterator[str]:
    """The URL of a new database named ``prefix`` and a random suffix, dropped when the
    generator is resumed (a fixture's body); skips when PostgreSQL is not there."""
    if not _port_open(PG_HOST, PG_PORT):
        pytest.skip(f"PostgreSQL not running on {PG_HOST}:{PG_PORT}")
    psycopg = pytest.importorskip("psycopg", reason="psycopg not installed (pip install '.[test]')")
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = f"host={PG_HOST} port={PG_PORT} user=postgres dbname=postgres"
    try:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.Error as exc:
        pytest.skip(f"PostgreSQL on {PG_HOST}:{PG_PORT} refused a test database: {exc}")
    yield f"postgresql+psycopg://postgres@{PG_HOST}:{PG_PORT}/{name}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.slow)])
def any_db(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Parametrises a storage test over SQLite and the real PostgreSQL. The PostgreSQL
    variants are slow (a database created and migrated for each, about a second): the quick
    subset runs them on SQLite, the full suite on both."""
    if request.param == "sqlite":
        return str(tmp_path / "archive.db")
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
def redis_url() -> str:
    if not _port_open(REDIS_HOST, REDIS_PORT):
        pytest.skip(f"Redis not running on {REDIS_HOST}:{REDIS_PORT}")
    return f"redis://{REDIS_HOST}:{REDIS_PORT}/15"


# -- no test leaves a process behind -------------------------------------------------------------


def pytest_configure(config: pytest.Config) -> None:
    config.stash[_SESSION_TOKEN] = mark_session()


_SESSION_TOKEN = pytest.StashKey[str]()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    try:
        import psutil  # noqa: F401 - the check needs it
    except ImportError:
        return  # psutil is in the test extra; without it the check cannot look
    token = session.config.stash.get(_SESSION_TOKEN, None)
    if token is None:
        return
    leftovers = leftover_processes(token)
    if not leftovers:
        return
    kill(leftovers)
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    lines = [f"{len(leftovers)} process(es) started by the tests were still running at the end:"]
    lines += [f"  {leftover}" for leftover in leftovers]
    if reporter is not None:
        reporter.write_sep("=", "processes left behind", red=True)
        for line in lines:
            reporter.write_line(line)
    session.exitstatus = pytest.ExitCode.TESTS_FAILED
