"""Writing many articles in one statement: bulk loads and synthetic archives (``bench/``).

``insert_articles`` inserts rows of ``article`` columns and their URLs in one executemany
each; the search index and the per-site counts follow as for ``store_article`` (SQLite's
triggers, PostgreSQL's vectors written in the same transaction). There is no simhash,
raw page, version or template: a caller that needs them stores articles one by one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from storage.models import Article, ArticleUrl
from storage.search_index import pretokenized, write_vectors
from storage.search_tokens import index_tokens, tsvector_of_tokens


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
