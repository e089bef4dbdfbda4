"""Article filters shared by search, export, re-extraction and stats.

A text query (see ``storage.search_syntax`` for the language) is answered from the
search index: an FTS5 table over bigram tokens on SQLite (``article_fts_bigram``), a
``tsvector`` with a GIN index on PostgreSQL (``article_fts_vector``); both hold the
tokens of ``storage.search_tokens``, traditional characters folded to simplified.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, TextClause, column, or_, select, table, text
from sqlalchemy.orm import Session
from sqlalchemy.sql.selectable import TextualSelect

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
from storage.models import Article
from storage.search_syntax import All, Any_, only_excludes, to_tsquery

FTS_TABLE = table("article_fts_bigram", column("rowid"))
VECTOR_TABLE = table("article_fts_vector", column("article_id"), column("vector"))


def _contains(column_: Any, term: str) -> ColumnElement[bool]:
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return column_.ilike(f"%{escaped}%", escape="\\")


def match_condition(session: Session, query: str) -> ColumnElement[bool]:
    """``Article.id`` among the index's matches for ``query`` (or, for a query of
    NOT terms only, not among the matches of those terms). Needs the parameters
    of ``bind_params``."""
    node = check_query(query)
    matches: Select[Any] | TextualSelect
    if session.get_bind().dialect.name == "sqlite":
        matches = text(sql.FTS_MATCHES).columns(FTS_TABLE.c.rowid)
    else:
        matches = select(VECTOR_TABLE.c.article_id).where(text("vector @@ CAST(:ts_query AS tsquery)"))
    return Article.id.not_in(matches) if only_excludes(node) else Article.id.in_(matches)


def match_params(session: Session, query: str) -> dict[str, str]:
    if session.get_bind().dialect.name == "sqlite":
        return {"fts_query": sql.fts_query(query)}
    node = check_query(query)
    if isinstance(node, All) and not node.include:  # matched: any excluded term
        node = node.exclude[0] if len(node.exclude) == 1 else Any_(node.exclude)
    return {"ts_query": to_tsquery(node)}


def filter_conditions(session: Session, filters: ArticleFilter) -> list[ColumnElement[bool] | TextClause]:
    """WHERE conditions on ``Article`` for ``filters`` (on SQLite, those of
    ``sqlite_sql.conditions``). A text query needs the parameter of ``bind_params``."""
    if session.get_bind().dialect.name == "sqlite":
        where, params = sql.conditions(filters)
        return [
            text(clause).bindparams(
                **{k: v for k, v in params.items() if f":{k}" in clause and k != "fts_query"}
            )
            for clause in where
        ]
    conditions: list[ColumnElement[bool] | TextClause] = []
    if filters.articles_only:
        conditions.append(Article.is_article == "yes")
    if filters.site:
        conditions.append(Article.site == filters.site)
    if filters.since is not None:
        conditions.append(Article.published_at >= period_start(filters.since))
    if filters.until is not None:
        bound, inclusive = period_end(filters.until)
        conditions.append(Article.published_at <= bound if inclusive else Article.published_at < bound)
    if filters.author:
        conditions.append(_contains(Article.author, filters.author))
    if filters.language:
        conditions.append(
            or_(Article.language == filters.language, Article.language.like(filters.language + "-%"))
        )
    if filters.query is not None:
        conditions.append(match_condition(session, filters.query))
    return conditions


def bind_params(session: Session, filters: ArticleFilter) -> dict[str, str]:
    """The parameters ``filter_conditions`` needs (the query for the index)."""
    if filters.query is not None:
        return match_params(session, filters.query)
    return {}
