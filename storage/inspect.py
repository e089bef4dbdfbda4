"""Reading one article back: by id or URL, with its versions and raw page."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.errors import NotFound, wraps_driver_errors
from storage.models import Article, ArticleVersion, RawPage
from storage.query import SQL_INT_MAX
from storage.records import VersionView as VersionView
from storage.records import version_diff as version_diff
from storage.repository import find_article_id, raw_body


@wraps_driver_errors
def get_article(session: Session, ref: str | int) -> Article:
    """The article with id ``ref`` or at URL ``ref`` (any alias); NotFound otherwise."""
    article: Article | None = None
    if isinstance(ref, int) or str(ref).strip().isdigit():
        number = int(ref)
        # beyond a 64-bit integer no row can match, and the driver would raise OverflowError
        article = session.get(Article, number) if 0 < number <= SQL_INT_MAX else None
    else:
        article_id = find_article_id(session, str(ref))
        article = session.get(Article, article_id) if article_id is not None else None
    if article is None:
        raise NotFound(f"no article {ref} in the archive")
    return article


@wraps_driver_errors
def article_versions(session: Session, article: Article) -> list[VersionView]:
    old = session.scalars(
        select(ArticleVersion).where(ArticleVersion.article_id == article.id).order_by(ArticleVersion.version)
    )
    views = [
        VersionView(v.version, v.title, v.text, v.fetched_at, v.extractor_version, v.replaced_at, v.reason)
        for v in old
    ]
    views.append(
        VersionView(
            article.version,
            article.title,
            article.text,
            article.fetched_at,
            article.extractor_version,
            None,
            None,
        )
    )
    return views


def raw_page(session: Session, article: Article) -> RawPage:
    if article.raw_page_id is None:
        raise NotFound(f"article {article.id} has no stored raw page")
    raw = session.get(RawPage, article.raw_page_id)
    if raw is None:
        raise NotFound(f"article {article.id} has no stored raw page")
    return raw


def raw_page_body(raw: RawPage) -> bytes:
    return raw_body(raw)
