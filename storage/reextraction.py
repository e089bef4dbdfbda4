"""What re-extraction reads and writes (``pipelines.reextract`` drives it): the raw pages of
the articles to extract again, and the rows a new extraction updates. Persistence only:
the extraction itself and the site-template stripping happen on the ingest side."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.items import Article as ArticleData
from core.shard import Shard
from storage.errors import StorageError, wraps_driver_errors
from storage.models import Article, RawPage
from storage.query import ArticleFilter, bind_params, filter_conditions
from storage.repository import apply_changes, copy_metadata, header, raw_body
from storage.types import utcnow

__all__ = ["ReextractJob", "lock_articles", "raw_pages_to_reextract", "store_reextracted"]


@dataclass
class ReextractJob:
    """What extracting one article again needs."""

    article_id: int
    raw_page_id: int
    site: str | None
    body: bytes | None  # None: the stored raw page is damaged (``error`` says how)
    url: str
    encoding: str | None
    content_type: str | None
    error: str | None = None


@wraps_driver_errors
def raw_pages_to_reextract(
    session: Session, filters: ArticleFilter, *, after: int, limit: int, shard: Shard | None = None
) -> list[ReextractJob]:
    """The next ``limit`` articles matching ``filters`` with an id above ``after`` (id
    order), each with its raw page; a damaged raw page comes without a body. ``shard``
    K/N: only the articles whose id is K-1 modulo N."""
    in_shard = [Article.id % shard.count == shard.remainder] if shard else []
    rows = session.execute(
        select(Article.id, Article.site, RawPage)
        .join(RawPage, RawPage.id == Article.raw_page_id)
        .where(Article.id > after, *in_shard, *filter_conditions(session, filters))
        .order_by(Article.id)
        .limit(limit),
        bind_params(session, filters),
    ).all()
    jobs: list[ReextractJob] = []
    for article_id, site, raw in rows:
        try:
            body: bytes | None = raw_body(raw)
            error = None
        except StorageError as exc:  # kept as it is, counted and logged by the caller
            body, error = None, str(exc)
        jobs.append(ReextractJob(article_id, raw.id, site, body, raw.final_url, raw.encoding,
                                 header(raw.headers, "content-type"), error))
    return jobs


@wraps_driver_errors
def lock_articles(session: Session, ids: Sequence[int]) -> None:
    """Load the articles ``ids`` in one query, their rows locked (PostgreSQL) until the
    transaction ends; :func:`store_reextracted` then finds them in the session."""
    session.scalars(select(Article).where(Article.id.in_(ids)).with_for_update()).all()


@wraps_driver_errors
def store_reextracted(
    session: Session, job: ReextractJob, article: ArticleData, *, text: str, extractor_version: str
) -> Literal["updated", "unchanged"]:
    """Store a new extraction of ``job``'s article, with ``text`` (its site's template
    already stripped): a changed title or text makes a version (reason ``reextract``),
    other fields are refreshed. An article deleted meanwhile, or whose raw page a crawl
    replaced meanwhile (and extracted), is left as it is."""
    row = session.get(Article, job.article_id)
    if row is None or row.raw_page_id != job.raw_page_id:
        return "unchanged"
    changed = apply_changes(session, row, title=article.title, text=text, reason="reextract", now=utcnow())
    copy_metadata(row, article)
    row.extractor_version = extractor_version
    return "updated" if changed else "unchanged"
