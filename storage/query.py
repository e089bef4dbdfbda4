"""Article filters shared by search, export, re-extraction and stats.

A text query (see ``storage.search_syntax`` for the language) is answered from the
search index: an FTS5 table over bigram tokens on SQLite (``article_fts_bigram``), a
``tsvector`` with a GIN index on PostgreSQL (``article_fts_vector``); both hold the
tokens of ``storage.search_tokens``, traditional characters folded to simplified.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, TextClause, text
from sqlalchemy.orm import Session

from storage import postgres_sql
from storage import sqlite_sql as sql
from storage.filters import (  # noqa: F401  (ArticleFilter and the rest are imported from here too)
    SQL_INT_MAX,
    ArticleFilter,
    check_query,
    index_filter,
    is_listing,
    period_end,
    period_start,
    query_terms,
)


def match_params(session: Session, query: str) -> dict[str, str]:
    """The index's parameter for ``query``: what the dialect's ``conditions`` leave to it."""
    if session.get_bind().dialect.name == "sqlite":
        return {"fts_query": sql.fts_query(query)}
    return {"ts_query": postgres_sql.ts_query(query)}


# the parameters of the index's match, given apart (``bind_params``)
_MATCH_PARAMS = ("fts_query", "ts_query")


def filter_conditions(session: Session, filters: ArticleFilter) -> list[ColumnElement[bool] | TextClause]:
    """WHERE conditions on ``Article`` for ``filters``: those of the dialect's SQL
    (``sqlite_sql.conditions``, ``postgres_sql.conditions``), which the read commands run
    too. A text query needs the parameter of ``bind_params``."""
    dialect = sql if session.get_bind().dialect.name == "sqlite" else postgres_sql
    where, params = dialect.conditions(filters)
    conditions: list[ColumnElement[bool] | TextClause] = [
        text(clause).bindparams(
            **{k: v for k, v in params.items() if f":{k}" in clause and k not in _MATCH_PARAMS}
        )
        for clause in where
    ]
    return conditions


def bind_params(session: Session, filters: ArticleFilter) -> dict[str, str]:
    """The parameters ``filter_conditions`` needs (the query for the index)."""
    if filters.query is not None:
        return match_params(session, filters.query)
    return {}
