"""The archive commands through click's CliRunner, on real archives."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from crawler.cli import main
from crawler.commands.archive import COMMANDS
from storage import open_archive, store_article
from tests.test_storage_data import SECTIONS, extracted, fill

BASE = "https://www.xunjk.com/yanjiu/2022/0928/"
DOCS = Path(__file__).resolve().parents[1] / "docs" / "archive.md"


@pytest.fixture
def db(any_db: str) -> str:
    with open_archive(any_db) as archive:
        fill(archive, [extracted(key, f"{BASE}{n}.html") for n, key in enumerate(SECTIONS)])
    return any_db


def run(db: str, *args: str) -> Result:
    return CliRunner().invoke(main, ["--db", db, *args])


def one_line_error(result: Result, text: str) -> None:
    assert result.exit_code != 0
    assert result.output.startswith("Error: ") and text in result.output, result.output
    assert result.output.count("\n") == 1


def test_show_by_id_and_url(db: str) -> None:
    by_id = run(db, "show", "3")
    assert by_id.exit_code == 0, by_id.output
    assert "拿地即开工" in by_id.output and f"canonical_url: {BASE}2.html" in by_id.output
    by_url = run(
        db, "show", "http://www.xunjk.com/yanjiu/2022/0928/2.html?utm_source=weibo", "--format", "json"
    )
    assert json.loads(by_url.output)["id"] == 3


def test_show_versions_and_raw(db: str) -> None:
    page, article = extracted("intro", f"{BASE}0.html")
    with open_archive(db) as archive, archive.session() as session, session.begin():
        changed = article.text.replace("踏石留印", "行稳致远")
        store_article(session, page, replace(article, text=changed))
    result = run(db, "show", "1", "--versions")
    assert result.exit_code == 0, result.output
    assert "2 version(s)" in result.output and "by crawl" in result.output
    assert "--- version 1" in result.output and "+++ version 2" in result.output
    assert any(line.startswith("+") and "行稳致远" in line for line in result.output.splitlines())
    raw = run(db, "show", "1", "--raw")
    assert raw.exit_code == 0
    assert raw.stdout_bytes == page.body


def test_show_unknown(db: str) -> None:
    one_line_error(run(db, "show", "999"), "no article 999")
    one_line_error(run(db, "show", "https://nowhere.example.com/a"), "no article")


def test_search_table_and_json(db: str) -> None:
    table = run(db, "search", "蝴蝶")
    assert table.exit_code == 0, table.output
    assert "1 hit(s)" in table.output and "蝴蝶" in table.output
    hits = json.loads(run(db, "search", "新能源汽车", "--format", "json").output)
    assert [hit["id"] for hit in hits] == [2]
    assert "**新能源汽车**" in hits[0]["snippet"]
    assert json.loads(run(db, "search", "柳州", "--limit", "2", "--format", "json").output).__len__() == 2
    assert json.loads(run(db, "search", "柳州", "--since", "2030-01-01", "--format", "json").output) == []


def test_search_pages_with_a_total(db: str) -> None:
    first = run(db, "search", "柳州", "--limit", "2")
    assert first.exit_code == 0, first.output
    assert "1-2 of 4 hit(s) for 柳州" in first.output
    assert "Next page: --offset 2 (or --page 2)" in first.output
    pages = [run(db, "search", "柳州", "--limit", "2", *how, "--format", "json").output
             for how in ([], ["--offset", "2"], ["--page", "2"])]  # fmt: skip
    ids = [[hit["id"] for hit in json.loads(page)] for page in pages]
    assert ids[1] == ids[2] and len(set(ids[0] + ids[1])) == 4
    both = run(db, "search", "柳州", "--offset", "2", "--page", "2")
    assert both.exit_code == 2 and "not both" in both.output


@pytest.mark.parametrize("how", [["search"], ["search", ""], ["list"]])
def test_list_every_article(db: str, how: list[str]) -> None:
    result = run(db, *how, "--limit", "3")
    assert result.exit_code == 0, result.output
    assert "1-3 of 4 article(s)" in result.output
    listed = json.loads(run(db, *how, "--page", "2", "--limit", "3", "--format", "json").output)
    assert len(listed) == 1


def test_search_words_starting_with_a_dash(db: str) -> None:
    everything = {hit["id"] for hit in json.loads(run(db, "list", "--format", "json").output)}
    with_it = {hit["id"] for hit in json.loads(run(db, "search", "蝴蝶", "--format", "json").output)}
    for args in (
        ["-蝴蝶", "--format", "json"],
        ["--format", "json", "-蝴蝶"],
        ["-蝴蝶", "--limit", "10", "--format=json"],
        ["--format", "json", "--", "-蝴蝶"],
    ):
        result = run(db, "search", *args)
        assert result.exit_code == 0, result.output
        assert {hit["id"] for hit in json.loads(result.output)} == everything - with_it
    result = run(db, "search", "柳州", "-hello", "--format", "json")  # not -h (help) -e -l -l -o
    assert result.exit_code == 0 and len(json.loads(result.output)) == 4
    assert json.loads(run(db, "search", "柳州", "-蝴蝶", "--format", "json").output).__len__() == 3


def test_near_as_fts5_spells_it(db: str) -> None:
    near = json.loads(run(db, "search", "NEAR(柳州 高新区)", "--format", "json").output)
    assert near and all("柳州" in hit["snippet"] or "高新区" in hit["snippet"] for hit in near)
    one_line_error(run(db, "search", "柳州 NEAR 高新区"), "NEAR(police station)")


def test_unknown_site_is_warned_about(db: str) -> None:
    result = CliRunner().invoke(main, ["--db", db, "search", "柳州", "--site", "nosuch"])
    assert result.exit_code == 0
    assert "Warning: no articles from site 'nosuch'; known sites: xunjk" in result.stderr
    known = CliRunner().invoke(main, ["--db", db, "search", "不存在的词", "--site", "xunjk"])
    assert "Warning" not in known.stderr


def test_folded_search_from_the_cli(db: str) -> None:
    traditional = json.loads(run(db, "search", "柳州高新區", "--format", "json").output)
    simplified = json.loads(run(db, "search", "柳州高新区", "--format", "json").output)
    assert traditional == simplified and simplified


def test_search_bad_input(db: str) -> None:
    one_line_error(run(db, "search", "AND 柳州市"), "invalid search query")
    bad_date = run(db, "search", "柳州", "--since", "yesterday")
    assert bad_date.exit_code == 2 and "not a date" in bad_date.output


def test_export_formats(db: str, tmp_path: Path) -> None:
    stdout = run(db, "export")
    assert stdout.exit_code == 0, stdout.output
    assert [json.loads(line)["id"] for line in stdout.stdout.splitlines()] == [1, 2, 3, 4]
    out = tmp_path / "a.csv"
    result = run(db, "export", "--format", "csv", "--out", str(out), "--query", "汽车")
    assert result.exit_code == 0, result.output
    assert "Exported 2 article(s)" in result.output
    assert out.read_text(encoding="utf-8").startswith("id,url,canonical_url")
    assert not (tmp_path / "a.csv.part").exists()
    md = tmp_path / "md"
    assert run(db, "export", "--format", "md", "--out", str(md), "--site", "xunjk").exit_code == 0
    assert len(list(md.glob("*.md"))) == 4
    warc = tmp_path / "pages.warc.gz"
    assert run(db, "export", "--format", "warc", "--out", str(warc)).exit_code == 0
    assert warc.stat().st_size > 1000
    assert run(db, "export", "--format", "txt").stdout.count("\f") == 3


def test_export_bad_input(sqlite_db: str, tmp_path: Path) -> None:
    open_archive(sqlite_db).close()  # reading commands refuse a missing archive before all else
    one_line_error(run(sqlite_db, "export", "--out", str(tmp_path / "missing" / "a.jsonl")), "cannot write")
    one_line_error(run(sqlite_db, "export", "--format", "md"), "give a folder with --out")
    one_line_error(run(sqlite_db, "export", "--out", str(tmp_path)), "is a directory")
    if os.geteuid() != 0:  # root may write anywhere
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        one_line_error(run(sqlite_db, "export", "--out", str(locked / "a.jsonl")), "cannot write")
    assert list(tmp_path.iterdir()) == [] or all(
        p.name in ("archive.db", "locked") for p in tmp_path.iterdir()
    )


@pytest.mark.slow
def test_reextract_command(db: str) -> None:
    # an article stored by an "older extractor" that kept a furniture line
    page, article = extracted("people", f"{BASE}3.html")
    with open_archive(db) as archive, archive.session() as session, session.begin():
        store_article(session, page, replace(article, text=article.text + "\n点击进入专题 >>"))
    result = run(db, "reextract", "--site", "xunjk")
    assert result.exit_code == 0, result.output
    assert "Checked 4: 1 changed" in result.output
    versions = json.loads(run(db, "show", "4", "--versions", "--format", "json").output)["versions"]
    assert [(v["version"], v["reason"]) for v in versions] == [(1, "crawl"), (2, "reextract"), (3, None)]
    assert "点击进入专题" not in versions[-1]["text"]
    again = run(db, "reextract")
    assert "0 changed" in again.output


def test_stats(db: str) -> None:
    table = run(db, "stats")
    assert table.exit_code == 0, table.output
    assert "xunjk" in table.output and "Articles per day" in table.output
    data = json.loads(run(db, "stats", "--format", "json").output)
    assert data["sites"][0]["site"] == "xunjk" and data["sites"][0]["articles"] == 4
    assert 0 <= data["sites"][0]["missing_author_share"] <= 1
    assert sum(day["articles"] for day in data["per_day"]) == 4


def test_stats_of_an_empty_archive(tmp_path: Path) -> None:
    open_archive(str(tmp_path / "new.db")).close()
    result = run(str(tmp_path / "new.db"), "stats")
    assert result.exit_code == 0 and "no articles yet" in result.output


def test_every_command_is_documented() -> None:
    docs = DOCS.read_text(encoding="utf-8")
    for command in COMMANDS:
        assert f"newsarchive {command.name}" in docs, command.name
        assert command.help, command.name


def test_articles_only_leaves_uncertain_pages_out_and_stats_show_their_share(any_db: str) -> None:
    items = [extracted(key, f"{BASE}{n}.html") for n, key in enumerate(SECTIONS)]
    items[0][1].is_article = "uncertain"
    with open_archive(any_db) as archive:
        fill(archive, items)
    everything = run(any_db, "export", "--format", "jsonl")
    kept = run(any_db, "export", "--format", "jsonl", "--articles-only")
    assert everything.exit_code == 0 and kept.exit_code == 0, everything.output + kept.output
    assert len(everything.output.splitlines()) == len(items)
    assert len(kept.output.splitlines()) == len(items) - 1
    assert '"is_article": "uncertain"' not in kept.output
    stats = json.loads(run(any_db, "stats", "--format", "json").output)
    (site,) = stats["sites"]
    assert site["uncertain"] == 1 and site["uncertain_share"] == round(1 / len(items), 4)
