"""`newsarchive import`: WARC records go through extraction into a real SQLite archive."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from core.errors import InputError
from crawler.cli import main
from pipelines.warc_import import read_warc_pages
from tests.demo_pages import ARTICLE_PATHS, XUNJK_BOILERPLATE, XUNJK_PATH, XUNJK_TITLE, page
from tests.warc_util import write_warc

BASE = "http://www.demo.test"


def _warc(tmp_path: Path, paths: list[str]) -> Path:
    return write_warc(tmp_path / "pages.warc.gz", [(BASE + p, page(p)) for p in paths])


def _export(db: str) -> list[dict]:
    result = CliRunner().invoke(main, ["--db", db, "export", "--format", "jsonl"])
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.output.splitlines() if line.strip()]


@pytest.mark.slow
def test_import_stores_articles_and_drops_the_rest(tmp_path: Path, sqlite_db: str) -> None:
    warc = _warc(tmp_path, ARTICLE_PATHS + ["/zixun/index.html", "/about/index.html"])
    result = CliRunner().invoke(main, ["--db", sqlite_db, "import", str(warc)])
    assert result.exit_code == 0, result.output
    assert "7 pages" in result.output
    rows = {row["url"]: row for row in _export(sqlite_db)}
    assert set(rows) == {BASE + p for p in ARTICLE_PATHS}
    xunjk = rows[BASE + XUNJK_PATH]
    assert xunjk["title"] == XUNJK_TITLE
    assert "柳州高新区(柳东新区),一如既往演绎奋勇向上的前行英姿。" in xunjk["text"]
    assert "携手奋进,一起向未来。" in xunjk["text"]
    for furniture in XUNJK_BOILERPLATE:
        assert furniture not in xunjk["text"], furniture
    assert xunjk["published_at"].startswith("2022-09-14T09:37:15+08:00") or xunjk["published_at"].startswith(
        "2022-09-14T01:37:15+00:00"
    )


@pytest.mark.slow
def test_importing_twice_adds_nothing(tmp_path: Path, sqlite_db: str) -> None:
    warc = _warc(tmp_path, ARTICLE_PATHS[:3])
    runner = CliRunner()
    assert runner.invoke(main, ["--db", sqlite_db, "import", str(warc)]).exit_code == 0
    first = _export(sqlite_db)
    again = runner.invoke(main, ["--db", sqlite_db, "import", str(warc)])
    assert again.exit_code == 0, again.output
    assert "3 unchanged" in again.output
    second = _export(sqlite_db)
    assert [(r["id"], r["version"]) for r in second] == [(r["id"], r["version"]) for r in first]


def test_import_rejects_a_file_that_is_not_a_warc(tmp_path: Path, sqlite_db: str) -> None:
    bogus = tmp_path / "notes.warc.gz"
    bogus.write_bytes(b"\x00\x01 this is not a WARC file \xff" * 20)
    result = CliRunner().invoke(main, ["--db", sqlite_db, "import", str(bogus)])
    assert result.exit_code != 0
    assert result.output.startswith("Error: ") and "not a readable WARC file" in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_import_of_a_missing_file_is_a_one_line_error(tmp_path: Path, sqlite_db: str) -> None:
    result = CliRunner().invoke(main, ["--db", sqlite_db, "import", str(tmp_path / "nope.warc")])
    assert result.exit_code != 0
    assert result.output.strip() == f"Error: {tmp_path / 'nope.warc'} is not a file"


def test_import_skips_non_html_records(tmp_path: Path, sqlite_db: str) -> None:
    warc = write_warc(
        tmp_path / "img.warc", [(BASE + "/logo.png", b"\x89PNG\r\n\x1a\n" + bytes(200))], "image/png"
    )
    result = CliRunner().invoke(main, ["--db", sqlite_db, "import", str(warc)])
    assert result.exit_code == 0, result.output
    assert "1 not_html" in result.output
    assert _export(sqlite_db) == []


@pytest.mark.slow
def test_a_warc_cut_anywhere_is_reported_after_its_intact_records(tmp_path: Path, sqlite_db: str) -> None:
    """Truncated downloads: a cut inside a record, inside a gzip member or in a member's
    trailer is always reported (the strict reader raises after the records it could read);
    `import` stores the intact records, then exits 1 with one Error line (issue 9: salvage,
    where the file used to be refused whole)."""
    data = _warc(tmp_path, ARTICLE_PATHS[:3]).read_bytes()
    cut = tmp_path / "cut.warc.gz"
    for length in range(1, len(data), max(1, len(data) // 150)):
        cut.write_bytes(data[:length])
        with pytest.raises(InputError):
            list(read_warc_pages(cut))
    result = CliRunner().invoke(main, ["--db", sqlite_db, "import", str(cut)])
    assert result.exit_code == 1
    assert [line for line in result.output.splitlines() if line.startswith("Error: ")] == [
        result.output.splitlines()[-1]
    ]
    # the last cut is in the last member's final bytes: the first two records are intact
    assert {BASE + p for p in ARTICLE_PATHS[:2]} <= {row["url"] for row in _export(sqlite_db)}
