"""Article filters shared by search, export, re-extraction and stats.

A text query is matched with SQLite FTS5 (trigram tokenizer) when every term
has three or more characters, and with substring matching otherwise (the
trigram index cannot see shorter terms) and on PostgreSQL (ILIKE, sped up by
pg_trgm indexes).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, column, func, literal_column, or_, select, table, text, true
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import TextClause

from storage.models import Article

FTS_TABLE = table("article_fts", column("rowid"))
_FTS_SYNTAX = re.compile(r'["*()^:+]|\b(AND|OR|NOT|NEAR)\b')
_TERM = re.compile(r'"([^"]*)"|(\S+)')
_OPERATORS = {"AND", "OR", "NOT", "NEAR"}


@dataclass(frozen=True)
class ArticleFilter:
    """Which articles a command works on; every field is optional."""

    query: str | None = None
    site: str | None = None
    since: date | datetime | None = None
    until: date | datetime | None = None  # inclusive: the whole day when a date
    author: str | None = None
    language: str | None = None


def query_terms(query: str) -> list[str]:
    """The literal terms of a query, without FTS5 operators and quotes."""
    terms = []
    for quoted, bare in _TERM.findall(query):
        term = quoted if quoted else bare.strip('*()^:+"')
        if term and term not in _OPERATORS:
            terms.append(term.strip())
    return [t for t in terms if t]


def uses_fts_syntax(query: str) -> bool:
    return bool(_FTS_SYNTAX.search(query))


def use_fts(session: Session, query: str) -> bool:
    """FTS5 MATCH for SQLite queries whose terms the trigram index can see
    (or that use FTS5 syntax on purpose); substring matching otherwise."""
    if session.get_bind().dialect.name != "sqlite":
        return False
    return uses_fts_syntax(query) or all(len(term) >= 3 for term in query_terms(query))


def fts_expression(query: str) -> str:
    """The MATCH expression: the query as written when it uses FTS5 syntax,
    else each term quoted (so ``-`` or ``.`` inside a term is not an operator)."""
    if uses_fts_syntax(query):
        return query
    return " ".join('"' + term.replace('"', '""') + '"' for term in query_terms(query))


def fts_match() -> TextClause:
    return text("article_fts MATCH :fts_query")


def _contains(column_: Any, term: str, dialect: str) -> ColumnElement[bool]:
    if dialect == "sqlite":
        return func.instr(column_, term) > 0
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return column_.ilike(f"%{escaped}%", escape="\\")


def substring_condition(query: str, dialect: str) -> ColumnElement[bool]:
    """Every term in the title or the text."""
    terms = query_terms(query)
    if not terms:
        return true()
    return and_(
        *(
            or_(_contains(Article.title, term, dialect), _contains(Article.text, term, dialect))
            for term in terms
        )
    )


def occurrence_score(query: str) -> ColumnElement[float]:
    """A portable relevance score: occurrences in the text, title hits weigh 10."""
    score: ColumnElement[float] = literal_column("0")
    for term in query_terms(query):
        size = len(term)
        in_text = (func.length(Article.text) - func.length(func.replace(Article.text, term, ""))) / size
        in_title = (
            func.length(func.coalesce(Article.title, ""))
            - func.length(func.replace(func.coalesce(Article.title, ""), term, ""))
        ) / size
        score = score + in_text + in_title * 10
    return score


def _start(value: date | datetime) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.combine(value, time(), tzinfo=UTC)


def _end(value: date | datetime) -> tuple[datetime, bool]:
    """(bound, inclusive)."""
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)), True
    return datetime.combine(value + timedelta(days=1), time(), tzinfo=UTC), False


def filter_conditions(session: Session, filters: ArticleFilter) -> list[ColumnElement[bool]]:
    """WHERE conditions on ``Article`` for ``filters``. A text query on SQLite
    FTS5 needs the ``fts_query`` parameter: see ``bind_params``."""
    dialect = session.get_bind().dialect.name
    conditions: list[ColumnElement[bool]] = []
    if filters.site:
        conditions.append(Article.site == filters.site)
    if filters.since is not None:
        conditions.append(Article.published_at >= _start(filters.since))
    if filters.until is not None:
        bound, inclusive = _end(filters.until)
        conditions.append(Article.published_at <= bound if inclusive else Article.published_at < bound)
    if filters.author:
        conditions.append(_contains(Article.author, filters.author, dialect))
    if filters.language:
        conditions.append(
            or_(Article.language == filters.language, Article.language.like(filters.language + "-%"))
        )
    if filters.query:
        if use_fts(session, filters.query):
            conditions.append(Article.id.in_(select(FTS_TABLE.c.rowid).where(fts_match())))
        else:
            conditions.append(substring_condition(filters.query, dialect))
    return conditions


def bind_params(session: Session, filters: ArticleFilter) -> dict[str, str]:
    if filters.query and use_fts(session, filters.query):
        return {"fts_query": fts_expression(filters.query)}
    return {}
