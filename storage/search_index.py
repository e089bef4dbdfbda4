"""Keeping the search index in step with ``article`` (see migration 0009).

SQLite: triggers do it, calling the SQL function ``newsarchive_tokens`` that every
connection of ours registers (``register_sqlite_functions``). A program that writes
``article.title`` or ``article.text`` through another connection (the sqlite3 shell)
gets "no such function: newsarchive_tokens": such writes must go through newsarchive.
PostgreSQL: mapper events write ``article_fts_vector`` in the same flush as the article.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event, inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapper

from storage.models import Article
from storage.search_tokens import index_text, tsvector_literal

SQL_TOKENS = "newsarchive_tokens"

_UPSERT_VECTOR = text(
    "INSERT INTO article_fts_vector(article_id, vector) VALUES (:id, CAST(:vector AS tsvector)) "
    "ON CONFLICT (article_id) DO UPDATE SET vector = excluded.vector"
)


# texts about to be written, with their ``index_text`` computed ahead (see ``pretokenized``)
_known_tokens: dict[str, str] = {}


def _sql_tokens(text: str | None) -> str:
    if _known_tokens and text:
        known = _known_tokens.get(text)
        if known is not None:
            return known
    return index_text(text)


@contextmanager
def pretokenized(tokens: Mapping[str, str]) -> Iterator[None]:
    """While in this block, the SQLite index triggers take the tokens of these texts
    (text -> ``index_text(text)``, computed ahead: in other processes, or from parts
    already tokenized) instead of tokenizing them again. A token string depends on its
    text alone, so a writer in another thread that meets one of these texts gets what it
    would have computed."""
    _known_tokens.update(tokens)
    try:
        yield
    finally:
        for text_ in tokens:
            _known_tokens.pop(text_, None)


def register_sqlite_functions(dbapi_connection: Any) -> None:
    """Give a sqlite3 connection the tokenizer the index triggers call."""
    dbapi_connection.create_function(SQL_TOKENS, 1, _sql_tokens, deterministic=True)


def vector_row(article_id: int, title: str | None, body: str | None) -> dict[str, Any]:
    return {"id": article_id, "vector": tsvector_literal(title, body)}


def write_vectors(connection: Connection, rows: list[dict[str, Any]]) -> None:
    """Index (or index again) articles on PostgreSQL: rows of ``vector_row``."""
    if rows:
        connection.execute(_UPSERT_VECTOR, rows)


@event.listens_for(Article, "after_insert")
def _index_new(_mapper: Mapper[Any], connection: Connection, target: Article) -> None:
    if connection.dialect.name == "postgresql":
        write_vectors(connection, [vector_row(target.id, target.title, target.text)])


@event.listens_for(Article, "after_update")
def _index_changed(_mapper: Mapper[Any], connection: Connection, target: Article) -> None:
    if connection.dialect.name != "postgresql":
        return
    state = inspect(target)
    if state.attrs.title.history.has_changes() or state.attrs.text.history.has_changes():
        write_vectors(connection, [vector_row(target.id, target.title, target.text)])
