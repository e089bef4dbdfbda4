"""Re-extraction: run the (new) extractor again on the stored raw pages.

A job over the archive rather than a repository function: it commits every
``batch`` articles, so a long run does not hold one write lock for its whole
length (a crawl may be writing too) and an interrupted run keeps its work.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from sqlalchemy import select

from crawler.items import Article as ArticleData
from storage.archive import Archive
from storage.errors import StorageError, wraps_driver_errors
from storage.models import Article, RawPage
from storage.query import ArticleFilter, bind_params, filter_conditions
from storage.repository import apply_changes, copy_metadata, header, raw_body
from storage.templates import site_template, strip_template
from storage.types import utcnow

logger = logging.getLogger(__name__)


class ExtractResult(Protocol):
    article: ArticleData | None
    is_article: bool
    reason: str | None


ExtractFunction = Callable[..., ExtractResult]


@dataclass
class ReextractStats:
    checked: int = 0
    changed: int = 0
    unchanged: int = 0
    failed: Counter[str] = field(default_factory=Counter)  # reason -> count; the article is kept as is


def _default_extractor() -> tuple[ExtractFunction, str]:
    from pipelines.extraction import EXTRACTOR_VERSION, extract_article

    return extract_article, EXTRACTOR_VERSION


@wraps_driver_errors
def reextract(
    archive: Archive,
    filters: ArticleFilter | None = None,
    *,
    extract: ExtractFunction | None = None,
    extractor_version: str | None = None,
    batch: int = 100,
    progress: Callable[[int], None] | None = None,
) -> ReextractStats:
    """Re-run ``extract`` (default: ``pipelines.extraction.extract_article``)
    on the raw page of every matching article. A changed title or text makes
    a new version (reason ``reextract``); other fields are refreshed; every
    article records the extractor version that produced it."""
    if extract is None:
        extract, default_version = _default_extractor()
        extractor_version = extractor_version or default_version
    filters = filters or ArticleFilter()
    stats = ReextractStats()
    last_id = 0
    while True:
        with archive.session() as session, session.begin():
            rows = session.execute(
                select(Article, RawPage)
                .join(RawPage, RawPage.id == Article.raw_page_id)
                .where(Article.id > last_id, *filter_conditions(session, filters))
                .order_by(Article.id)
                .limit(batch),
                bind_params(session, filters),
            ).all()
            if not rows:
                return stats
            now = utcnow()
            for row, raw in rows:
                last_id = row.id
                stats.checked += 1
                try:
                    body = raw_body(raw)
                except StorageError as exc:  # kept as it is, counted and logged
                    stats.failed["raw page damaged"] += 1
                    logger.warning(
                        "Re-extraction kept article %(id)d: %(error)s", {"id": row.id, "error": exc}
                    )
                    if progress:
                        progress(1)
                    continue
                result = extract(
                    body,
                    raw.final_url,
                    http_charset=raw.encoding,
                    content_type=header(raw.headers, "content-type"),
                )
                if result.article is None:
                    stats.failed[result.reason or "not extracted"] += 1
                    logger.info(
                        "Re-extraction kept article %(id)d: %(reason)s",
                        {"id": row.id, "reason": result.reason},
                    )
                else:
                    text = result.article.text or ""
                    template = site_template(session, row.site) if row.site else frozenset()
                    changed = apply_changes(
                        session,
                        row,
                        title=result.article.title,
                        text=strip_template(text, template),
                        reason="reextract",
                        now=now,
                    )
                    copy_metadata(row, result.article)
                    row.extractor_version = extractor_version or result.article.extractor_version or ""
                    if changed:
                        stats.changed += 1
                    else:
                        stats.unchanged += 1
                if progress:
                    progress(1)
