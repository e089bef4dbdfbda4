"""Streaming exports: jsonl, csv, md, txt and warc, in constant memory.

Rows are read with ``yield_per`` (a server-side cursor on PostgreSQL), so an
archive of any size exports without being loaded. The field names of
``EXPORT_FIELDS`` are a stable interface, documented in docs/archive.md.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Iterator
from http import HTTPStatus
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from storage.errors import StorageError, wraps_driver_errors, wraps_driver_errors_in_iterator
from storage.models import Article, RawPage
from storage.query import ArticleFilter, bind_params, filter_conditions
from storage.records import EXPORT_FIELDS, export_row
from storage.repository import raw_body

FORMATS = ("jsonl", "csv", "md", "txt", "warc")
BATCH = 500
# Headers that describe the transfer, not the body we kept (which is decoded).
_TRANSFER_HEADERS = {"content-encoding", "transfer-encoding", "content-length", "connection"}

Progress = Callable[[int], None]


def _selected(session: Session, filters: ArticleFilter | None) -> tuple[Select[Article], dict[str, str]]:
    filters = filters or ArticleFilter()
    statement = select(Article).where(*filter_conditions(session, filters)).order_by(Article.id)
    return statement, bind_params(session, filters)


@wraps_driver_errors
def count_articles(session: Session, filters: ArticleFilter | None = None) -> int:
    filters = filters or ArticleFilter()
    statement = select(func.count()).select_from(Article).where(*filter_conditions(session, filters))
    return int(session.scalar(statement, bind_params(session, filters)) or 0)


@wraps_driver_errors_in_iterator
def iter_articles(session: Session, filters: ArticleFilter | None = None) -> Iterator[Article]:
    """Matching articles in id order, streamed."""
    statement, params = _selected(session, filters)
    result = session.scalars(statement.execution_options(yield_per=BATCH), params)
    for article in result:
        yield article
        session.expunge(article)  # keep the identity map (and memory) small


def iter_export_rows(session: Session, filters: ArticleFilter | None = None) -> Iterator[dict[str, Any]]:
    for article in iter_articles(session, filters):
        yield export_row(article)


def write_jsonl(rows: Iterator[dict[str, Any]], out: IO[str], progress: Progress | None = None) -> int:
    count = 0
    for row in rows:
        count += 1
        out.write(json.dumps(row, ensure_ascii=False) + "\n")
        if progress:
            progress(1)
    return count


def write_csv(rows: Iterator[dict[str, Any]], out: IO[str], progress: Progress | None = None) -> int:
    writer = csv.DictWriter(out, fieldnames=EXPORT_FIELDS)
    writer.writeheader()
    count = 0
    for row in rows:
        count += 1
        writer.writerow({**row, "tags": json.dumps(row["tags"], ensure_ascii=False)})
        if progress:
            progress(1)
    return count


def _txt(row: dict[str, Any]) -> str:
    head = [row["title"] or "", row["canonical_url"]]
    if row["published_at"]:
        head.append(row["published_at"])
    return "\n".join(head) + "\n\n" + row["text"].strip() + "\n"


def write_txt(rows: Iterator[dict[str, Any]], out: IO[str], progress: Progress | None = None) -> int:
    """Plain text, articles separated by a form feed line."""
    count = 0
    for row in rows:
        count += 1
        if count > 1:
            out.write("\f\n")
        out.write(_txt(row))
        if progress:
            progress(1)
    return count


def _yaml_value(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool | int):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(json.dumps(str(v), ensure_ascii=False) for v in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)  # a JSON string is a valid YAML scalar


def markdown(row: dict[str, Any]) -> str:
    front = "\n".join(f"{key}: {_yaml_value(row[key])}" for key in EXPORT_FIELDS if key != "text")
    title = f"# {row['title']}\n\n" if row["title"] else ""
    return f"---\n{front}\n---\n\n{title}{row['text'].strip()}\n"


def _slug(text: str | None) -> str:
    slug = re.sub(r"[^\w]+", "-", text or "", flags=re.UNICODE).strip("-")
    return slug[:40] or "article"


def write_markdown(rows: Iterator[dict[str, Any]], folder: Path, progress: Progress | None = None) -> int:
    """One ``<id>-<title>.md`` file per article, metadata in YAML front matter."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StorageError(f"cannot create folder {folder}: {exc.strerror}") from exc
    count = 0
    for row in rows:
        count += 1
        path = folder / f"{row['id']:06d}-{_slug(row['title'])}.md"
        try:
            path.write_text(markdown(row), encoding="utf-8")
        except OSError as exc:
            raise StorageError(f"cannot write {path}: {exc.strerror}") from exc
        if progress:
            progress(1)
    return count


@wraps_driver_errors
def write_warc(
    session: Session,
    out: IO[bytes],
    filters: ArticleFilter | None = None,
    progress: Progress | None = None,
) -> int:
    """The stored raw response of each matching article as a WARC/1.1
    ``response`` record (gzip per record), readable by ``newsarchive import``
    and by web-archive replay tools."""
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    writer = WARCWriter(out, gzip=True, warc_version="1.1")
    selected, params = _selected(session, filters)
    statement = (
        select(Article.canonical_url, Article.site, Article.id, RawPage)
        .join(RawPage, RawPage.id == Article.raw_page_id)
        .where(Article.id.in_(selected.with_only_columns(Article.id).order_by(None)))
        .order_by(Article.id)
        .execution_options(yield_per=BATCH)
    )
    count = 0
    for canonical_url, site, article_id, raw in session.execute(statement, params):
        body = raw_body(raw)  # a damaged one ends the export with an error: never a silent gap
        headers = [(k, v) for k, v in raw.headers.items() if k.lower() not in _TRANSFER_HEADERS]
        headers.append(("Content-Length", str(len(body))))
        try:
            reason = HTTPStatus(raw.status).phrase
        except ValueError:
            reason = "Unknown"
        record = writer.create_warc_record(
            raw.final_url,
            "response",
            payload=io.BytesIO(body),
            length=None,
            http_headers=StatusAndHeaders(f"{raw.status} {reason}", headers, protocol="HTTP/1.1"),
            warc_headers_dict={
                "WARC-Date": raw.fetched_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "WARC-Newsarchive-Article-Id": str(article_id),
                "WARC-Newsarchive-Site": site or "",
                "WARC-Newsarchive-Canonical-URL": canonical_url,
            },
        )
        writer.write_record(record)
        session.expunge(raw)
        count += 1
        if progress:
            progress(1)
    return count
