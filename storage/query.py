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

from sqlalchemy import ColumnElement, and_, column, func, literal_column, not_, or_, select, table, text, true
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import TextClause

from storage.errors import StorageError
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
    articles_only: bool = False  # only pages the classifier was sure of (is_article = "yes")


@dataclass(frozen=True)
class Clause:
    """Terms that must all be present (``include``) and absent (``exclude``)."""

    include: tuple[str, ...]
    exclude: tuple[str, ...] = ()


def parse_query(query: str) -> list[Clause]:
    """The query as OR-ed clauses of AND-ed terms, the subset of FTS5 syntax
    that substring matching can honour: ``a b`` (both), ``a OR b``,
    ``NOT b`` / ``-b``, ``"a phrase"``. Other operators are dropped."""
    clauses: list[Clause] = []
    include: list[str] = []
    exclude: list[str] = []
    negate = False
    for quoted, bare in _TERM.findall(query):
        if not quoted and bare in _OPERATORS:
            if bare == "OR" and include:
                clauses.append(Clause(tuple(include), tuple(exclude)))
                include, exclude = [], []
            negate = bare == "NOT"
            continue
        if not quoted and bare.startswith("-") and len(bare) > 1:
            negate, bare = True, bare[1:]
        term = (quoted if quoted else bare.strip('*()^:+"')).strip()
        if term:
            (exclude if negate else include).append(term)
        negate = False
    if include:
        clauses.append(Clause(tuple(include), tuple(exclude)))
    return clauses


def query_terms(query: str) -> list[str]:
    """The terms a match must contain one of (for snippets and scores)."""
    terms: list[str] = []
    for clause in parse_query(query):
        terms.extend(term for term in clause.include if term not in terms)
    return terms


def check_query(query: str) -> None:
    """A query must name something to look for: not empty, not only NOT terms."""
    if not query.strip():
        raise StorageError("empty search query")
    if not query_terms(query):
        raise StorageError(f"search query {query!r} has no term to look for")


def _fts_can_see(query: str) -> bool:
    return all(len(term) >= 3 for clause in parse_query(query) for term in (*clause.include, *clause.exclude))


def uses_fts_syntax(query: str) -> bool:
    return bool(_FTS_SYNTAX.search(query))


def use_fts(session: Session, query: str) -> bool:
    """FTS5 MATCH on SQLite when the trigram index can see every term (three
    or more characters); substring matching otherwise, and on PostgreSQL."""
    return session.get_bind().dialect.name == "sqlite" and _fts_can_see(query)


def fts_expression(query: str) -> str:
    """The MATCH expression: the query as written when it uses FTS5 syntax,
    else its terms quoted (so ``-`` or ``.`` inside a term is no operator)."""
    if uses_fts_syntax(query):
        return query

    def quote(term: str) -> str:
        return '"' + term.replace('"', '""') + '"'

    clause = parse_query(query)[0]  # without OR there is one clause
    return " ".join(map(quote, clause.include)) + "".join(f" NOT {quote(t)}" for t in clause.exclude)


def fts_match() -> TextClause:
    return text("article_fts MATCH :fts_query")


def _contains(column_: Any, term: str, dialect: str) -> ColumnElement[bool]:
    if dialect == "sqlite":  # lower() folds ASCII only, like ILIKE does for Chinese: nothing to fold
        return func.instr(func.lower(column_), term.lower()) > 0
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return column_.ilike(f"%{escaped}%", escape="\\")


def _anywhere(term: str, dialect: str) -> ColumnElement[bool]:
    return or_(_contains(Article.title, term, dialect), _contains(Article.text, term, dialect))


def substring_condition(query: str, dialect: str) -> ColumnElement[bool]:
    """The parsed query (see ``parse_query``) over title and text."""
    clauses = parse_query(query)
    if not clauses:
        return true()
    return or_(
        *(
            and_(
                *(_anywhere(term, dialect) for term in clause.include),
                *(not_(func.coalesce(_anywhere(term, dialect), False)) for term in clause.exclude),
            )
            for clause in clauses
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


# the largest integer SQLite and PostgreSQL's bigint take; a bigger LIMIT or id means "no limit"
SQL_INT_MAX = 2**63 - 1


def _utc(value: datetime) -> datetime:
    aware = value if value.tzinfo else value.replace(tzinfo=UTC)
    try:
        return aware.astimezone(UTC)
    except OverflowError:  # past the year 9999 (or before the year 1) once in UTC: unbounded
        return (datetime.max if aware.year > 1 else datetime.min).replace(tzinfo=UTC)


def _start(value: date | datetime) -> datetime:
    if isinstance(value, datetime):
        return _utc(value)
    return datetime.combine(value, time(), tzinfo=UTC)


def _end(value: date | datetime) -> tuple[datetime, bool]:
    """(bound, inclusive)."""
    if isinstance(value, datetime):
        return _utc(value), True
    if value >= date.max:  # the whole last day there is: no upper bound
        return datetime.max.replace(tzinfo=UTC), True
    return datetime.combine(value + timedelta(days=1), time(), tzinfo=UTC), False


def filter_conditions(session: Session, filters: ArticleFilter) -> list[ColumnElement[bool]]:
    """WHERE conditions on ``Article`` for ``filters``. A text query on SQLite
    FTS5 needs the ``fts_query`` parameter: see ``bind_params``."""
    dialect = session.get_bind().dialect.name
    conditions: list[ColumnElement[bool]] = []
    if filters.articles_only:
        conditions.append(Article.is_article == "yes")
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
    if filters.query is not None:
        check_query(filters.query)
        if use_fts(session, filters.query):
            conditions.append(Article.id.in_(select(FTS_TABLE.c.rowid).where(fts_match())))
        else:
            conditions.append(substring_condition(filters.query, dialect))
    return conditions


def bind_params(session: Session, filters: ArticleFilter) -> dict[str, str]:
    if filters.query and use_fts(session, filters.query):
        return {"fts_query": fts_expression(filters.query)}
    return {}
