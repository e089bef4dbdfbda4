"""Fill an archive with N synthetic articles made from the evaluation texts, in bulk.

    python bench/run.py fill --db big.db --articles 1000000
    python bench/run.py fill --db postgresql+psycopg://postgres@127.0.0.1/big --articles 200000

Every article goes through the real schema, its triggers and indexes (the search index,
the per-site counts), but not through ``store_article``: rows are inserted a batch at a
time, without simhash, raw page or template. Article i is evaluation text i mod M (M =
the texts in ../shared/evaldata, Chinese and English) with its paragraphs rotated and a
serial line added, so texts and hashes differ; it belongs to one of ``--sites`` sites
named after its dataset and is published on a day spread over ten years. Ids grow with
the publication order, as in a real archive. An archive that has articles is filled
further (new ids and URLs).
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select

from storage import Article, ArticleUrl, open_archive
from storage.search_index import vector_row, write_vectors

EVALDATA = Path(__file__).resolve().parents[2] / "shared" / "evaldata"
BATCH = 5000
START = datetime(2015, 1, 1, tzinfo=UTC)
SPAN_DAYS = 3650


def evaluation_texts() -> list[dict[str, Any]]:
    """One dict per evaluation article with a text: dataset, title, body, author, lang."""
    texts = []
    for truth in sorted(EVALDATA.glob("*/ground_truth.jsonl")):
        for line in truth.open(encoding="utf-8"):
            row = json.loads(line)
            if row.get("body"):
                texts.append({**row, "dataset": truth.parent.name})
    if not texts:
        raise SystemExit(f"no evaluation texts found under {EVALDATA}")
    return texts


def _rows(
    texts: list[dict[str, Any]], first_id: int, count: int, sites: int, total: int
) -> Iterator[dict[str, Any]]:
    now = datetime.now(UTC)
    for n in range(count):
        i = first_id + n
        source = texts[i % len(texts)]
        paragraphs = [p for p in source["body"].split("\n") if p.strip()] or [source["body"]]
        turn = (i // len(texts)) % len(paragraphs)
        text = "\n".join(paragraphs[turn:] + paragraphs[:turn]) + f"\n({i})"
        published = START + timedelta(seconds=SPAN_DAYS * 86400 * i // max(total, 1))
        site = f"{source['dataset']}-{i % max(sites // 4, 1)}"  # four datasets
        url = f"https://{site}.example.com/{published:%Y/%m%d}/{i}.html"
        yield {
            "id": i,
            "url": url,
            "canonical_url": url,
            "site": site,
            "title": f"{source.get('title') or source.get('page_title') or ''} {i}".strip(),
            "author": source.get("author"),
            "published_at": published,
            "published_time_known": True,
            "language": source.get("lang"),
            "text": text,
            "tags": [],
            "content_hash": hashlib.sha256(text.encode()).hexdigest(),
            "version": 1,
            "extractor_version": "bench-fill",
            "first_seen_at": now,
            "fetched_at": now,
            "updated_at": now,
        }


def fill(db: str, articles: int, *, sites: int = 20, quiet: bool = False) -> dict[str, Any]:
    """Add ``articles`` synthetic articles to the archive at ``db``; returns timings."""
    texts = evaluation_texts()
    archive = open_archive(db)
    started = time.perf_counter()
    with archive.session() as session:
        first = int(session.scalar(select(func.coalesce(func.max(Article.id), 0))) or 0) + 1
    total = first - 1 + articles
    done = 0
    while done < articles:
        count = min(BATCH, articles - done)
        rows = list(_rows(texts, first + done, count, sites, total))
        with archive.session() as session, session.begin():
            session.execute(insert(Article), rows)
            session.execute(
                insert(ArticleUrl),
                [{"url": r["url"], "article_id": r["id"], "first_seen_at": r["fetched_at"]} for r in rows],
            )
            if archive.dialect == "postgresql":  # SQLite's triggers index; here storage's mapper events would
                write_vectors(
                    session.connection(), [vector_row(r["id"], r["title"], r["text"]) for r in rows]
                )
        done += count
        if not quiet:
            rate = done / (time.perf_counter() - started)
            print(f"\r{done}/{articles} articles, {rate:.0f}/s", end="", file=sys.stderr, flush=True)
    seconds = time.perf_counter() - started
    if not quiet:
        print(file=sys.stderr)
    archive.close()
    return {"articles": articles, "seconds": seconds, "rate": articles / seconds if seconds else 0.0}


if __name__ == "__main__":
    print(json.dumps(fill(sys.argv[1], int(sys.argv[2]))))
