"""`newsarchive demo`, run as a user runs it: a fresh process, a real SQLite file."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from crawler.cli import main
from crawler.demo import DEMO_ORIGIN, serve_demo_site
from tests.demo_pages import ARTICLE_PATHS, XUNJK_BOILERPLATE, XUNJK_TITLE
from tests.test_crawl_support import cli


def _demo(db: Path) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-m", "crawler", "--db", str(db), "demo"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=db.parent,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Traceback" not in done.stderr
    return done


@pytest.mark.slow
def test_demo_crawls_the_sample_site_and_finds_a_hit(tmp_path: Path) -> None:
    db = tmp_path / "demo.db"
    done = _demo(db)
    assert XUNJK_TITLE in done.stdout

    exported = CliRunner().invoke(main, ["--db", str(db), "export", "--format", "jsonl"])
    assert exported.exit_code == 0, exported.output
    rows = [json.loads(line) for line in exported.output.splitlines() if line.strip()]
    assert all(row["url"].startswith(DEMO_ORIGIN + "/") for row in rows)  # a stable origin, whatever the port
    paths = sorted(row["url"].removeprefix(DEMO_ORIGIN) for row in rows)
    assert paths == sorted(ARTICLE_PATHS)  # no listing, tag or about page
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


@pytest.mark.slow
def test_demo_twice_into_one_archive_stores_each_article_once(tmp_path: Path) -> None:
    """First-hour surprise 1: a random port made new URLs, so every article was stored twice."""
    db = tmp_path / "demo.db"
    _demo(db)
    again = _demo(db)
    assert "demo: ok" in again.stdout and " 0 new" in again.stdout
    exported = CliRunner().invoke(main, ["--db", str(db), "export", "--format", "jsonl"])
    urls = [json.loads(line)["url"] for line in exported.output.splitlines() if line.strip()]
    assert len(urls) == len(ARTICLE_PATHS) == len(set(urls))
    stats = CliRunner().invoke(main, ["--db", str(db), "runs", "--format", "json"])
    assert [run["articles_new"] for run in json.loads(stats.output)] == [0, len(ARTICLE_PATHS)]
