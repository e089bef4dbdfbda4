"""Fill an archive with N synthetic articles made from the evaluation texts, in bulk.

    python bench/run.py fill --db big.db --articles 1000000
    python bench/run.py fill --db postgresql+psycopg://postgres@127.0.0.1/big --articles 200000

Every article goes through the real schema, its triggers and indexes (the search index,
the per-site counts) by storage's bulk path (``storage.bulk.insert_articles``), not
``store_article``: rows are inserted a batch at a time, without simhash, raw page or
template. Article i is evaluation text i mod M (M = the texts in ../shared/evaldata,
Chinese and English) with its paragraphs rotated and a serial line added, so texts and
hashes differ; it belongs to one of ``--sites`` sites named after its dataset and is
published on a day spread over ten years. Ids grow with the publication order, as in a
real archive. An archive that has articles is filled further (new ids and URLs).

Speed: the index tokens of each text are put together from its paragraphs' tokens,
computed once per evaluation text (a paragraph never shares a token with its
neighbours: a line break ends every run), and handed to storage with the rows, so
the fill costs what SQLite's index costs, not what tokenizing costs; every 500th article
is tokenized again from its text and compared. Batches of 20,000 articles, one transaction
each; ``insert_articles`` indexes a batch in one statement (see storage/bulk.py: a third of
the CPU of the trigger's row-by-row inserts), while a thread makes the next batch's rows.
SQLite runs with ``synchronous = OFF`` while filling (a crash loses the fill, nothing else).
At the end the search index's segments are merged into one (``storage.bulk.settle_search_index``,
FTS5's ``optimize``): left as the bulk load wrote them, their merging is charged to the writes
that follow (43 ms per stored article at 100,000 articles, against 1 ms after it), which an
archive grown by crawls and imports has paid along the way.
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage import Article, open_archive
from storage.bulk import insert_articles, settle_search_index
from storage.search_tokens import index_text

EVALDATA = Path(__file__).resolve().parents[2] / "shared" / "evaldata"
BATCH = 20_000  # articles per transaction: FTS5 writes a segment per commit at least
START = datetime(2015, 1, 1, tzinfo=UTC)
SPAN_DAYS = 3650
CHECK_EVERY = 500


def evaluation_texts() -> list[dict[str, Any]]:
    """One dict per evaluation article with a text: dataset, title, body, author, lang,
    and ``paragraphs`` with ``paragraph_tokens`` (their ``index_text``)."""
    texts = []
    for truth in sorted(EVALDATA.glob("*/ground_truth.jsonl")):
        for line in truth.open(encoding="utf-8"):
            row = json.loads(line)
            if row.get("body"):
                paragraphs = [p for p in row["body"].split("\n") if p.strip()] or [row["body"]]
                title = row.get("title") or row.get("page_title") or ""
                texts.append(
                    {
                        **row,
                        "dataset": truth.parent.name,
                        "title": title,
                        "title_tokens": index_text(title),
                        "paragraphs": paragraphs,
                        "paragraph_tokens": [index_text(p) for p in paragraphs],
                    }
                )
    if not texts:
        raise SystemExit(f"no evaluation texts found under {EVALDATA}")
    return texts


def _join(*parts: str) -> str:
    return " ".join(p for p in parts if p)


def _rows(
    texts: list[dict[str, Any]], first_id: int, count: int, sites: int, total: int, tokens: dict[str, str]
) -> Iterator[dict[str, Any]]:
    """Rows of ``article``; ``tokens`` receives each title's and text's ``index_text``."""
    now = datetime.now(UTC)
    for n in range(count):
        i = first_id + n
        source = texts[i % len(texts)]
        paragraphs, paragraph_tokens = source["paragraphs"], source["paragraph_tokens"]
        turn = (i // len(texts)) % len(paragraphs)
        text = "\n".join(paragraphs[turn:] + paragraphs[:turn]) + f"\n({i})"
        title = f"{source['title']} {i}".strip()
        tokens[text] = _join(*paragraph_tokens[turn:], *paragraph_tokens[:turn], str(i))
        tokens[title] = _join(source["title_tokens"], str(i))
        if i % CHECK_EVERY == 0 and (tokens[text], tokens[title]) != (index_text(text), index_text(title)):
            raise SystemExit(f"fill: the tokens put together for article {i} differ from its text's")
        published = START + timedelta(seconds=SPAN_DAYS * 86400 * i // max(total, 1))
        site = f"{source['dataset']}-{i % max(sites // 4, 1)}"  # four datasets
        url = f"https://{site}.example.com/{published:%Y/%m%d}/{i}.html"
        yield {
            "id": i,
            "url": url,
            "canonical_url": url,
            "site": site,
            "title": title,
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


def fill(
    db: str, articles: int, *, sites: int = 100, quiet: bool = False, up_to: bool = False
) -> dict[str, Any]:
    """Add ``articles`` synthetic articles to the archive at ``db`` (``up_to``: as many
    as it lacks to hold ``articles``, dated as one fill of that many would have; so an
    interrupted fill goes on where it stopped); returns timings."""
    texts = evaluation_texts()
    archive = open_archive(db)
    started = time.perf_counter()
    with archive.engine.connect() as connection:
        if archive.dialect == "sqlite":  # before the first transaction: a pragma SQLite refuses inside one
            raw = connection.connection.driver_connection
            raw.execute("PRAGMA synchronous = OFF")  # type: ignore[union-attr]
            raw.execute("PRAGMA cache_size = -524288")  # type: ignore[union-attr]  # 512 MiB
        with Session(connection) as session:
            first = int(session.scalar(select(func.coalesce(func.max(Article.id), 0))) or 0) + 1
            session.commit()
            total = articles if up_to else first - 1 + articles
            articles = max(0, total - first + 1)

            def batch(done: int) -> tuple[list[dict[str, Any]], dict[str, str]]:
                tokens: dict[str, str] = {}
                count = min(BATCH, articles - done)
                return list(_rows(texts, first + done, count, sites, total, tokens)), tokens

            done = 0
            # the next batch's rows are made on a thread while SQLite indexes this one
            # (SQLite releases the GIL while it works: the two overlap on two cores); one
            # transaction per batch: an interrupted fill keeps what it wrote
            with ThreadPoolExecutor(1) as maker:
                upcoming = maker.submit(batch, done) if articles else None
                while upcoming is not None:
                    rows, tokens = upcoming.result()
                    upcoming = maker.submit(batch, done + len(rows)) if done + len(rows) < articles else None
                    with session.begin():
                        insert_articles(session, rows, tokens=tokens)
                    done += len(rows)
                    if not quiet:
                        rate = done / (time.perf_counter() - started)
                        print(
                            f"\r{done}/{articles} articles, {rate:.0f}/s", end="", file=sys.stderr, flush=True
                        )
    if archive.dialect == "sqlite" and articles:
        with archive.session() as session, session.begin():
            settle_search_index(session)  # the next writes would pay for merging the bulk segments
    if archive.dialect == "postgresql":  # the planner's statistics now, not when (or if) autovacuum runs
        with archive.engine.connect() as connection:
            connection.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("VACUUM ANALYZE")
    seconds = time.perf_counter() - started
    if not quiet:
        print(file=sys.stderr)
    archive.close()
    return {"articles": articles, "seconds": seconds, "rate": articles / seconds if seconds else 0.0}


if __name__ == "__main__":
    print(json.dumps(fill(sys.argv[1], int(sys.argv[2]))))
