"""Writing many articles in one statement: bulk loads and synthetic archives (``bench/``).

``insert_articles`` inserts rows of ``article`` columns and their URLs in one executemany
each; the search index and the per-site counts follow as for ``store_article`` (on SQLite
the index of all the rows in one statement, the counts by their triggers; PostgreSQL's
vectors written in the same transaction). There is no simhash,
raw page, version or template: a caller that needs them stores articles one by one.
``settle_search_index`` ends a bulk load.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import insert, text
from sqlalchemy.orm import Session

from storage.errors import StorageError
from storage.models import Article, ArticleUrl
from storage.search_index import pretokenized, write_vectors
from storage.search_tokens import index_tokens, tsvector_of_tokens

# FTS5 keeps new postings in memory up to its ``hashsize`` (default 1 MiB: a segment every
# few dozen articles, each merged again several times as the index grows) and writes them
# as a segment at the end of a statement or when the buffer is full. With 256 MiB one
# statement indexing 20,000 articles writes a few large segments: half the index's CPU per
# article (measured 0.70 against 1.40 ms at 40,000 articles); the archive's own setting is
# put back after it.
FTS_BULK_HASHSIZE = 256 * 2**20
FTS_DEFAULT_HASHSIZE = 1024 * 1024  # FTS5's own default
FTS_TABLE_NAME = "article_fts_bigram"
FTS_INSERT_TRIGGER = "article_fts_bigram_insert"
_TRIGGER_INSERT = re.compile(
    rf"INSERT INTO {FTS_TABLE_NAME}\s*\((?P<columns>[^)]*)\)\s*VALUES\s*\((?P<values>.*)\)\s*;\s*END\s*$",
    re.DOTALL | re.IGNORECASE,
)


def insert_articles(
    session: Session, rows: Sequence[dict[str, Any]], *, tokens: Mapping[str, str] | None = None
) -> None:
    """Insert ``rows`` (``article`` columns, ``id`` and ``fetched_at`` included) and an
    ``article_url`` row each. ``tokens`` may give the titles' and texts' ``index_text``
    computed ahead; the rest are tokenized here."""
    if not rows:
        return
    known = tokens or {}
    connection = session.connection()
    with pretokenized(known):
        if connection.dialect.name == "sqlite":
            _insert_indexed_at_once(session, rows)
        else:
            connection.execute(insert(Article), list(rows))
    connection.execute(
        insert(ArticleUrl),
        [{"url": r["url"], "article_id": r["id"], "first_seen_at": r["fetched_at"]} for r in rows],
    )
    if connection.dialect.name == "postgresql":

        def split(text: str | None) -> list[str]:
            found = known.get(text) if text else None
            return found.split() if found is not None else index_tokens(text or "")

        write_vectors(
            connection,
            [
                {"id": r["id"], "vector": tsvector_of_tokens(split(r.get("title")), split(r.get("text")))}
                for r in rows
            ],
        )


def _insert_indexed_at_once(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """SQLite: the rows, then their search index in one statement. The index's insert
    trigger, run row by row, costs more than twice as much: FTS5 writes its buffered postings
    out at every statement's savepoint, so each article became a small segment, merged
    again and again (2.1 against 0.8 ms of CPU per article, measured). The trigger is put
    aside for the insert and restored as the archive had it, in the caller's transaction;
    the index rows are the trigger's own expressions (``new.`` read as the article row)."""
    trigger = session.execute(
        text("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = :name"),
        {"name": FTS_INSERT_TRIGGER},
    ).scalar()
    if trigger is None:  # an archive without the index trigger: rows as its schema takes them
        session.execute(insert(Article), list(rows))
        return
    found = _TRIGGER_INSERT.search(trigger)
    if found is None:
        raise StorageError(f"unexpected definition of {FTS_INSERT_TRIGGER}: {trigger}")
    columns, values = found["columns"], re.sub(r"\bnew\.", "a.", found["values"])
    session.execute(text(f"DROP TRIGGER {FTS_INSERT_TRIGGER}"))
    session.execute(insert(Article), list(rows))
    before = _fts_hashsize(session)
    _set_fts_hashsize(session, FTS_BULK_HASHSIZE)
    session.execute(
        text(
            f"INSERT INTO {FTS_TABLE_NAME}({columns}) SELECT {values} FROM article AS a "
            "WHERE a.id IN (SELECT value FROM json_each(:ids))"
        ),
        {"ids": json.dumps([r["id"] for r in rows])},
    )
    _set_fts_hashsize(session, before)
    session.execute(text(trigger))


def _fts_hashsize(session: Session) -> int:
    found = session.execute(text(f"SELECT v FROM {FTS_TABLE_NAME}_config WHERE k = 'hashsize'")).scalar()
    return int(found) if found is not None else FTS_DEFAULT_HASHSIZE


def _set_fts_hashsize(session: Session, size: int) -> None:
    session.execute(
        text(f"INSERT INTO {FTS_TABLE_NAME}({FTS_TABLE_NAME}, rank) VALUES ('hashsize', :size)"),
        {"size": size},
    )


def settle_search_index(session: Session) -> None:
    """SQLite: merge the search index's segments into one (FTS5's ``optimize``), as a bulk
    load should end. The large segments ``insert_articles`` writes are otherwise merged in
    increments charged to the writes that follow: at 100,000 articles a ``store_article``
    then cost 43 ms against 1 ms after this (2.8 ms in an archive of 547 articles), which
    an archive grown article by article, its merges paid along the way, never pays."""
    if session.get_bind().dialect.name == "sqlite":
        session.execute(text(f"INSERT INTO {FTS_TABLE_NAME}({FTS_TABLE_NAME}) VALUES ('optimize')"))
