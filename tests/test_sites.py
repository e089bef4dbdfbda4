"""One rule for "the site of a URL", used by the crawl, the import and the archive.

The three rules it replaced disagreed: the crawl's kept the port (``example.com:8080``),
the archive's and the import's dropped it (so another port's pages joined the site), and
only the archive's dropped a trailing dot."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.urls import same_site, site_of_url
from crawler.profiles import profile_for_urls
from pipelines.warc_reader import WarcReader
from tests.warc_util import write_warc


@pytest.mark.parametrize(
    ("url", "site"),
    [
        ("https://www.example.com/news/1.html", "example.com"),
        ("http://Example.COM./a", "example.com"),  # case and the root's trailing dot
        ("https://example.com:8080/a", "example.com:8080"),  # another port: another origin
        ("http://www.example.com:8080/a", "example.com:8080"),
        ("http://example.com:80/a", "example.com"),  # the scheme's own port is no port
        ("https://example.com:443/a", "example.com"),
        ("https://example.com:80/a", "example.com:80"),  # not https's own port
        ("http://127.0.0.1:5000/x", "127.0.0.1:5000"),
        ("http://[::1]:8080/x", "[::1]:8080"),
        ("not a url", ""),
        ("http://example.com:99999/", ""),  # a port out of range: no site
        ("http://[::1/", ""),  # not a URL at all
    ],
)
def test_site_of_url(url: str, site: str) -> None:
    assert site_of_url(url) == site


def test_another_port_is_another_site_everywhere(tmp_path: Path) -> None:
    """Where the old rules disagreed: ``example.com:8080`` against ``www.example.com``."""
    other_port, main = "http://example.com:8080/a.html", "http://www.example.com/b.html"
    assert not same_site(other_port, main)
    assert same_site("http://example.com:80/a", "https://www.example.com/b")
    # a crawl of the URL, and an import of a WARC holding its page, name the same site
    assert profile_for_urls([other_port]).name == "example.com:8080"
    warc = write_warc(tmp_path / "p.warc.gz", [(other_port, b"<html>x</html>"), (main, b"<html>y</html>")])
    assert [page.site for page in WarcReader(warc)] == ["example.com:8080", "example.com"]
