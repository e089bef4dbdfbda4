"""``stats`` reads counts kept by triggers: they must equal counting the articles."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import UTC, date, datetime

from sqlalchemy import select

from storage import (
    Article,
    ArticleFilter,
    archive_summary,
    articles_per_day,
    open_archive,
    site_stats,
    store_article,
)
from tests.test_storage_data import SECTIONS, item_for


def _expected(session: object) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    articles = list(session.scalars(select(Article)))  # type: ignore[attr-defined]
    sites = sorted({a.site for a in articles}, key=lambda s: s or "")
    per_site = [
        (
            site,
            sum(a.site == site for a in articles),
            sum(a.site == site and a.duplicate_of is not None for a in articles),
            sum(a.site == site and a.published_at is None for a in articles),
            sum(a.site == site and not a.author for a in articles),
            sum(a.site == site and a.is_article != "yes" for a in articles),
        )
        for site in sites
    ]
    days = Counter((a.site, a.published_at.date()) for a in articles if a.published_at)
    per_day = sorted(((s, d, n) for (s, d), n in days.items()), key=lambda r: (-r[1].toordinal(), r[0] or ""))
    return per_site, per_day


def test_counts_follow_inserts_updates_and_deletes(any_db: str) -> None:
    with open_archive(any_db) as archive:
        with archive.session() as session, session.begin():
            for n, key in enumerate(SECTIONS):
                page, article = item_for(key, f"https://a.example.com/{n}.html", site="a" if n % 2 else "b")
                store_article(
                    session, page, replace(article, published_at=datetime(2024, 1, 1 + n % 2, tzinfo=UTC))
                )
            page, article = item_for("intro", "https://a.example.com/copy.html", site="a")
            store_article(
                session, page, replace(article, published_at=None, author=None)
            )  # a duplicate, undated
        with archive.session() as session, session.begin():
            row = session.scalars(select(Article).order_by(Article.id)).first()
            assert row is not None
            row.site, row.author, row.published_at = "c", "", datetime(2023, 5, 5, tzinfo=UTC)
            row.is_article = "uncertain"
        with archive.session() as session, session.begin():
            session.delete(session.scalars(select(Article).order_by(Article.id.desc())).first())
        with archive.session() as session:
            per_site, per_day = _expected(session)
            got = [
                (s.site, s.articles, s.duplicates, s.missing_date, s.missing_author, s.uncertain)
                for s in site_stats(session)
            ]
            assert got == per_site
            assert archive_summary(session) == {row[0]: row[1] for row in per_site}
            assert articles_per_day(session) == per_day
            newest = per_day[0][1]
            assert articles_per_day(session, days=1) == [row for row in per_day if row[1] == newest]
            full = ArticleFilter(until=date.max)  # counted from the articles, not the maintained counts
            assert articles_per_day(session, full, days=1) == articles_per_day(session, days=1)
            only_a = site_stats(session, ArticleFilter(site="a"))
            assert [(s.site, s.articles) for s in only_a] == [r[:2] for r in per_site if r[0] == "a"]
            assert all(s.last_fetched is not None for s in site_stats(session))
