"""`newsarchive demo`, run as a user runs it: a fresh process, a real SQLite file."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from crawler.cli import main
from crawler.demo import serve_demo_site
from tests.demo_pages import ARTICLE_PATHS, XUNJK_BOILERPLATE, XUNJK_TITLE
from tests.test_crawl_support import cli


def test_demo_crawls_the_sample_site_and_finds_a_hit(tmp_path: Path) -> None:
    db = tmp_path / "demo.db"
    done = subprocess.run(
        [sys.executable, "-m", "crawler", "--db", str(db), "demo"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert XUNJK_TITLE in done.stdout
    assert "Traceback" not in done.stderr

    exported = CliRunner().invoke(main, ["--db", str(db), "export", "--format", "jsonl"])
    assert exported.exit_code == 0, exported.output
    rows = [json.loads(line) for line in exported.output.splitlines() if line.strip()]
    paths = sorted(row["url"].split("127.0.0.1", 1)[1].split("/", 1)[1] for row in rows)
    assert paths == sorted(p.lstrip("/") for p in ARTICLE_PATHS)  # no listing, tag or about page
    xunjk = next(row for row in rows if row["title"] == XUNJK_TITLE)
    assert xunjk["author"] == "廖婧"
    for furniture in XUNJK_BOILERPLATE:
        assert furniture not in xunjk["text"]


@pytest.mark.slow
def test_a_plain_crawl_of_the_demo_site_stores_no_listing_page(tmp_path: Path) -> None:
    # issue 13, point 3: no profile, no article patterns, only the classifier decides
    db = tmp_path / "plain.db"
    with serve_demo_site() as base_url:
        done = cli("--db", str(db), "crawl", f"{base_url}/", "-s", "AUTOTHROTTLE_ENABLED=false",
                   "-s", "DOWNLOAD_DELAY=0", cwd=tmp_path, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    exported = CliRunner().invoke(main, ["--db", str(db), "export", "--format", "jsonl"])
    assert exported.exit_code == 0, exported.output
    rows = [json.loads(line) for line in exported.output.splitlines() if line.strip()]
    paths = {row["url"].split(base_url, 1)[1] for row in rows}
    assert paths == set(ARTICLE_PATHS)  # not /zixun/, /yanjiu/, /tag/…, /about/, /sitemap/ or /
    assert {row["is_article"] for row in rows} == {"yes"}
