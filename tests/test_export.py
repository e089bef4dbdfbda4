"""Streaming exports, and the WARC round trip through warcio + store_article."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import select
from warcio.archiveiterator import ArchiveIterator

from core.items import FetchedPage
from pipelines.extraction import extract_article
from storage import Archive, Article, ArticleFilter, iter_export_rows, open_archive, store_article
from storage.export import EXPORT_FIELDS, write_csv, write_jsonl, write_markdown, write_txt, write_warc
from tests.test_storage_data import SECTIONS, extracted, fill

BASE = "https://www.xunjk.com/yanjiu/2022/0928/"


@pytest.fixture
def archive(any_db: str) -> Iterator[Archive]:
    """The four sections as extracted by the real extractor, plus a copy on another site."""
    arc = open_archive(any_db)
    items = [extracted(key, f"{BASE}{n}.html") for n, key in enumerate(SECTIONS)]
    items.append(extracted("people", "https://news.example.cn/a/99.html", site="example"))
    fill(arc, items)
    yield arc
    arc.close()


def rows(archive: Archive, filters: ArticleFilter | None = None) -> list[dict]:  # type: ignore[type-arg]
    with archive.session() as session:
        return list(iter_export_rows(session, filters))


def test_jsonl_fields(archive: Archive) -> None:
    out = io.StringIO()
    with archive.session() as session:
        assert write_jsonl(iter_export_rows(session), out) == 5
    records = [json.loads(line) for line in out.getvalue().splitlines()]
    assert len(records) == 5
    first = records[0]
    assert tuple(first) == EXPORT_FIELDS
    assert first["canonical_url"] == f"{BASE}0.html"
    # ISO 8601 in the publisher's own offset: the date from the URL path is a Chinese day
    # (+08:00), and in UTC it would fall on the day before
    assert first["published_at"] == "2022-09-28T00:00:00+08:00"
    assert isinstance(first["tags"], list)
    assert first["version"] == 1
    assert first["duplicate_of"] is None
    assert records[4]["duplicate_of"] == records[3]["id"]
    assert "柳州高新区" in first["text"]


def test_filters_and_query(archive: Archive) -> None:
    assert [r["site"] for r in rows(archive, ArticleFilter(site="example"))] == ["example"]
    assert len(rows(archive, ArticleFilter(query="蝴蝶"))) == 1
    assert len(rows(archive, ArticleFilter(query="小红书"))) == 2  # the original and its copy


def test_csv_round_trips(archive: Archive) -> None:
    out = io.StringIO()
    with archive.session() as session:
        write_csv(iter_export_rows(session), out)
    records = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert len(records) == 5
    assert records[1]["text"] == rows(archive)[1]["text"]  # newlines and quotes survive
    assert json.loads(records[0]["tags"]) == rows(archive)[0]["tags"]


def test_markdown_and_txt(archive: Archive, tmp_path: Path) -> None:
    folder = tmp_path / "md"
    with archive.session() as session:
        assert write_markdown(iter_export_rows(session), folder) == 5
    files = sorted(folder.glob("*.md"))
    assert len(files) == 5
    content = files[2].read_text(encoding="utf-8")
    assert content.startswith("---\nid: 3\n")
    assert "\nduplicate_of: null\n" in content and "\nversion: 1\n" in content
    assert "拿地即开工" in content
    out = io.StringIO()
    with archive.session() as session:
        write_txt(iter_export_rows(session), out)
    assert out.getvalue().count("\f\n") == 4


def read_back(warc: bytes, target: Archive) -> None:
    """What `newsarchive import` does: warcio response records -> extract -> store."""
    with target.session() as session, session.begin():
        for record in ArchiveIterator(io.BytesIO(warc)):
            if record.rec_type != "response":
                continue
            url = record.rec_headers.get_header("WARC-Target-URI")
            content_type = record.http_headers.get_header("Content-Type")
            page = FetchedPage(
                url=url,
                final_url=url,
                status=int(record.http_headers.get_statuscode()),
                headers=dict(record.http_headers.headers),
                body=record.content_stream().read(),
                encoding="utf-8",
                site=record.rec_headers.get_header("WARC-Newsarchive-Site"),
            )
            result = extract_article(page.body, url, http_charset="utf-8", content_type=content_type)
            assert result.article is not None
            store_article(session, page, result.article, reason="import")


def test_warc_export_reads_back_into_the_same_articles(archive: Archive, tmp_path: Path) -> None:
    out = io.BytesIO()
    with archive.session() as session:
        assert write_warc(session, out) == 5
    target = open_archive(str(tmp_path / "copy.db"))
    read_back(out.getvalue(), target)
    fields = ("canonical_url", "site", "title", "text", "author", "published_at", "content_hash")
    everything = select(Article).order_by(Article.id)
    with archive.session() as a, target.session() as b:
        original = [tuple(getattr(x, f) for f in fields) for x in a.scalars(everything)]
        copied = [tuple(getattr(x, f) for f in fields) for x in b.scalars(everything)]
        assert copied == original
        assert [x.duplicate_of for x in b.scalars(everything)] == [None] * 4 + [4]
    target.close()


def test_warc_records_are_valid_responses(archive: Archive) -> None:
    out = io.BytesIO()
    with archive.session() as session:
        write_warc(session, out, ArticleFilter(site="example"))
    seen = [
        (r.rec_type, r.rec_headers.get_header("WARC-Target-URI"), r.http_headers.get_statuscode(),
         r.content_stream().read())
        for r in ArchiveIterator(io.BytesIO(out.getvalue()))
    ]  # fmt: skip
    assert len(seen) == 1
    rec_type, uri, status, body = seen[0]
    assert (rec_type, uri, status) == ("response", "https://news.example.cn/a/99.html", "200")
    assert b"<html" in body


def test_export_streams(archive: Archive) -> None:
    """Rows come from a generator, in batches, and nothing stays in the session."""
    with archive.session() as session:
        stream = iter_export_rows(session)
        assert next(stream)["id"] == 1
        assert sum(1 for _ in stream) == 4
        assert len(session.identity_map) == 0


@pytest.mark.slow
def test_export_warc_then_newsarchive_import(archive: Archive, tmp_path: Path) -> None:
    """The done-when of issue 4, through both commands."""
    from click.testing import CliRunner

    from crawler.cli import main

    db = archive.url if archive.dialect == "postgresql" else archive.engine.url.database
    assert db is not None
    warc = tmp_path / "pages.warc.gz"
    exported = CliRunner().invoke(main, ["--db", db, "export", "--format", "warc", "--out", str(warc)])
    assert exported.exit_code == 0, exported.output
    copy = str(tmp_path / "imported.db")
    imported = CliRunner().invoke(main, ["--db", copy, "import", str(warc)])
    assert imported.exit_code == 0, imported.output
    fields = ("canonical_url", "title", "text", "published_at", "content_hash")
    everything = select(Article).order_by(Article.canonical_url)
    target = open_archive(copy)
    with archive.session() as a, target.session() as b:
        original = [tuple(getattr(x, f) for f in fields) for x in a.scalars(everything)]
        assert [tuple(getattr(x, f) for f in fields) for x in b.scalars(everything)] == original
        assert sum(x.duplicate_of is not None for x in b.scalars(everything)) == 1
    target.close()


def test_modified_at_is_kept_and_exported_in_the_publishers_offset(any_db: str) -> None:
    cst = timezone(timedelta(hours=8))
    page, article = extracted("people", f"{BASE}7.html")
    article.published_at = datetime(2022, 9, 28, 9, 0, tzinfo=cst)
    article.modified_at = datetime(2022, 9, 29, 2, 30, tzinfo=UTC)  # 10:30 in Beijing
    with open_archive(any_db) as arc:
        fill(arc, [(page, article)])
        # a recrawl whose page no longer states a modification keeps the one known
        article.modified_at = None
        fill(arc, [(page, article)])
        (record,) = rows(arc)
    assert record["published_at"] == "2022-09-28T09:00:00+08:00"
    assert record["modified_at"] == "2022-09-29T10:30:00+08:00"
