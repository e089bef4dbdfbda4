"""Site and date filters answered by the search index (SQLite: the ``meta`` column of
migration 0011), and storage's bulk path that the benchmark fill writes through."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import insert, select, text, update
from sqlalchemy.orm import Session

from storage import Archive, Article, open_archive, search_page, site_stats
from storage.bulk import insert_articles, settle_search_index
from storage.search_index import pretokenized
from storage.search_tokens import day_range_tokens, index_text, meta_tokens

SITES = ["news.example.com", "报社", "blog-a.example.org", ""]
WORDS = ["economy", "经济", "中国", "police"]


def _row(n: int, site: str, published: datetime | None, words: str) -> dict[str, Any]:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    url = f"https://{site or 'nosite'}.test/{n}"
    return {
        "id": n, "url": url, "canonical_url": url, "site": site or None, "title": f"title {n}",
        "published_at": published, "text": f"{words} 第{n}篇", "content_hash": f"{n:064x}",
        "tags": [], "first_seen_at": now, "fetched_at": now, "updated_at": now,
    }  # fmt: skip


def _plan() -> list[dict[str, Any]]:
    """Articles on four sites over days around month, year and decade boundaries, at
    several hours of the day, some undated."""
    rng = random.Random(11)
    days = [date(2019, 12, 31), date(2020, 1, 1), date(2020, 2, 29), date(2020, 3, 1), date(2020, 12, 31)]
    days += [date(2021, 1, 1), date(2009, 12, 31), date(2010, 1, 1), date(2024, 6, 1), date(2024, 5, 31)]
    rows = []
    for n in range(1, 121):
        day = rng.choice(days)
        published = (
            None
            if n % 17 == 0
            else datetime(day.year, day.month, day.day, rng.choice([0, 9, 23]), tzinfo=UTC)
        )
        words = " ".join(rng.sample(WORDS, 2))
        rows.append(_row(n, SITES[n % len(SITES)], published, words))
    return rows


@pytest.fixture
def archive(any_db: str) -> Iterator[tuple[Archive, list[dict[str, Any]]]]:
    rows = _plan()
    arc = open_archive(any_db)
    with arc.session() as session, session.begin():
        insert_articles(session, rows)
    yield arc, rows
    arc.close()


def _expected(rows: list[dict[str, Any]], word: str, site: str | None, since: Any, until: Any) -> set[int]:
    def within(published: datetime | None) -> bool:
        if since is None and until is None:
            return True
        if published is None:
            return False
        start = (
            since
            if isinstance(since, datetime)
            else datetime.combine(since or date.min, datetime.min.time(), UTC)
        )
        if isinstance(until, datetime):
            return start <= published <= until
        stop = datetime.combine(until, datetime.min.time(), UTC) + timedelta(days=1) if until else None
        return start <= published and (stop is None or published < stop)

    return {
        r["id"]
        for r in rows
        if word in r["text"] and (site is None or r["site"] == site) and within(r["published_at"])
    }


FILTERS = [
    {"site": "news.example.com"},
    {"site": "报社"},
    {"site": "nowhere.example"},
    {"since": date(2020, 1, 1), "until": date(2020, 12, 31)},
    {"since": date(2020, 2, 29)},
    {"until": date(2019, 12, 31)},
    {"since": date(2020, 3, 1), "until": date(2020, 2, 29)},  # an empty period
    {"since": datetime(2020, 1, 1, 9, tzinfo=UTC), "until": datetime(2020, 3, 1, 8, tzinfo=UTC)},
    {"since": datetime(2024, 5, 31, 23, tzinfo=UTC)},
    {"site": "blog-a.example.org", "since": date(2010, 1, 1), "until": date(2020, 12, 31)},
]


@pytest.mark.parametrize("filters", FILTERS)
@pytest.mark.parametrize("word", ["economy", "经济", "中"])
def test_filtered_search_finds_exactly_the_filtered_matches(
    archive: tuple[Archive, list[dict[str, Any]]], filters: dict[str, Any], word: str
) -> None:
    arc, rows = archive
    filters = {"site": None, "since": None, "until": None, **filters}
    expected = _expected(rows, word, **filters)
    with arc.session() as session:
        page = search_page(session, word, limit=200, **filters)
    assert {hit.id for hit in page.hits} == expected
    assert (page.total, page.total_exact) == (len(expected), True)


def test_index_follows_a_change_of_site_or_date(any_db: str) -> None:
    with open_archive(any_db) as arc:
        with arc.session() as session, session.begin():
            insert_articles(session, [_row(1, "a.test", datetime(2020, 5, 5, tzinfo=UTC), "economy")])
        with arc.session() as session, session.begin():
            session.execute(
                update(Article)
                .where(Article.id == 1)
                .values(site="b.test", published_at=datetime(2021, 7, 7, tzinfo=UTC))
            )
        with arc.session() as session:
            assert search_page(session, "economy", site="a.test").total == 0
            assert search_page(session, "economy", site="b.test").total == 1
            assert search_page(session, "economy", since=date(2020, 5, 5), until=date(2020, 5, 5)).total == 0
            assert search_page(session, "economy", since=date(2021, 7, 7), until=date(2021, 7, 7)).total == 1
        with arc.session() as session, session.begin():
            session.execute(update(Article).where(Article.id == 1).values(published_at=None))
        with arc.session() as session:
            assert search_page(session, "economy", since=date(2000, 1, 1)).total == 0
            assert search_page(session, "economy").total == 1


def test_the_triggers_meta_tokens_are_the_python_ones(sqlite_db: str) -> None:
    rows = [_row(n, site, published, "economy") for n, (site, published) in enumerate([
        ("news.example.com", datetime(2020, 2, 29, 23, 59, tzinfo=UTC)),
        ("报社", datetime(999, 1, 1, tzinfo=UTC)),
        ("", None),
    ], start=1)]  # fmt: skip
    with open_archive(sqlite_db) as arc:
        with arc.session() as session, session.begin():
            insert_articles(session, rows)
        with arc.engine.connect() as connection:
            for row in rows:
                day = row["published_at"].date() if row["published_at"] else None
                tokens = meta_tokens(row["site"], day)
                for token in tokens:
                    found = (
                        connection.execute(
                            text("SELECT rowid FROM article_fts_bigram WHERE article_fts_bigram MATCH :q"),
                            {"q": f'meta : "{token}"'},
                        )
                        .scalars()
                        .all()
                    )
                    assert row["id"] in found, token
                assert len(tokens) == (7 if day else 1)


def _covered(tokens: list[str], day: date) -> bool:
    return bool(set(meta_tokens(None, day)) & set(tokens))


@pytest.mark.parametrize("seed", range(20))
def test_day_range_tokens_cover_exactly_the_range(seed: int) -> None:
    rng = random.Random(seed)
    start = date(rng.choice([1, 999, 1000, 1999, 2000, 2019, 2020]), rng.randint(1, 12), 1) + timedelta(
        days=rng.randint(0, 40)
    )
    stop = start + timedelta(days=rng.choice([0, 1, 27, 31, 366, 800, 4000, 40000]))
    tokens = day_range_tokens(start, stop)
    probes = {start, stop, start - timedelta(days=1), stop - timedelta(days=1), date.min, date(9999, 12, 31)}
    probes |= {start + timedelta(days=rng.randint(0, (stop - start).days + 1)) for _ in range(200)}
    for day in probes:
        assert _covered(tokens, day) == (start <= day < stop), (start, stop, day)
    assert len(tokens) <= 2 * (31 + 11 + 9 + 9 + 9) + 9


def test_open_ended_ranges() -> None:
    assert day_range_tokens(date(2020, 1, 1), date(2021, 1, 1)) == ["ⓨ2020"]
    since = day_range_tokens(date(2024, 6, 1), None)
    assert _covered(since, date(9999, 12, 31)) and _covered(since, date(2024, 6, 1))
    assert not _covered(since, date(2024, 5, 31))
    until = day_range_tokens(None, date(2020, 3, 1))
    assert (
        _covered(until, date.min)
        and _covered(until, date(2020, 2, 29))
        and not _covered(until, date(2020, 3, 1))
    )


def test_bulk_insert_takes_tokens_computed_ahead_and_keeps_the_counts(any_db: str) -> None:
    rows = [_row(n, "a.test", datetime(2020, 1, n, tzinfo=UTC), "中国经济 economy") for n in range(1, 6)]
    tokens = {r["text"]: index_text(r["text"]) for r in rows} | {
        r["title"]: index_text(r["title"]) for r in rows
    }
    with open_archive(any_db) as arc:
        with arc.session() as session, session.begin():
            insert_articles(session, rows, tokens=tokens)
        with arc.session() as session:
            assert search_page(session, "国经").total == 5
            assert search_page(session, "title", site="a.test").total == 5
            assert [s.articles for s in site_stats(session)] == [5]
            assert session.scalar(select(Article.site).where(Article.id == 3)) == "a.test"


def test_pretokenized_texts_are_forgotten_after_the_block() -> None:
    from storage import search_index

    with pretokenized({"some text": "some text"}):
        assert search_index._known_tokens
    assert not search_index._known_tokens


def _index_instances(arc: Archive) -> list[tuple[Any, ...]]:
    """Every (term, article, column, position) the SQLite index holds."""
    with arc.engine.connect() as connection:
        connection.exec_driver_sql(
            "CREATE VIRTUAL TABLE IF NOT EXISTS temp.fts_instances "
            "USING fts5vocab(main, article_fts_bigram, 'instance')"
        )
        return [
            tuple(r)
            for r in connection.exec_driver_sql("SELECT * FROM temp.fts_instances ORDER BY 1, 2, 3, 4")
        ]


def _schema(arc: Archive) -> list[tuple[Any, ...]]:
    with arc.engine.connect() as connection:
        return [
            tuple(r)
            for r in connection.exec_driver_sql("SELECT type, name, sql FROM sqlite_master ORDER BY name")
        ]


def test_bulk_insert_indexes_as_the_trigger_does_and_restores_it(tmp_path: Any) -> None:
    """SQLite: ``insert_articles`` puts the index trigger aside and indexes the rows in one
    statement; the index holds exactly what the trigger writes row by row, and the schema
    and the index's settings are the archive's own afterwards."""
    rows = _plan()
    with open_archive(str(tmp_path / "trigger.db")) as by_trigger:
        schema = _schema(by_trigger)
        with by_trigger.session() as session, session.begin():
            for row in rows:  # one statement per row: the trigger indexes each
                session.execute(insert(Article), [row])
        expected = _index_instances(by_trigger)
    with open_archive(str(tmp_path / "bulk.db")) as bulk:
        with bulk.session() as session, session.begin():
            insert_articles(session, rows[:50])
        with bulk.session() as session, session.begin():
            insert_articles(session, rows[50:])
        assert _index_instances(bulk) == expected
        assert len(expected) > 1000
        # a bulk load ends by merging the index's segments: the same index, in fewer blocks
        segments = "SELECT count(*) FROM article_fts_bigram_data"
        with bulk.engine.connect() as connection:
            blocks_before = connection.exec_driver_sql(segments).scalar_one()
        with bulk.session() as session, session.begin():
            settle_search_index(session)
        with bulk.engine.connect() as connection:
            assert connection.exec_driver_sql(segments).scalar_one() < blocks_before
        assert _index_instances(bulk) == expected
        assert _schema(bulk) == schema  # the trigger is back, as it was
        with bulk.engine.connect() as connection:
            config: dict[str, Any] = dict(
                connection.exec_driver_sql("SELECT k, v FROM article_fts_bigram_config").all()
            )
        assert int(config.get("hashsize", 1024 * 1024)) == 1024 * 1024
        with bulk.session() as session, session.begin():  # and it indexes what is written after
            session.execute(insert(Article), [_row(500, "a.test", None, "zeppelin")])
        with bulk.session() as session:
            assert [h.id for h in search_page(session, "zeppelin").hits] == [500]


def test_a_failed_bulk_insert_leaves_the_trigger_in_place(tmp_path: Any) -> None:
    rows = _plan()[:3]
    with open_archive(str(tmp_path / "a.db")) as arc:
        schema = _schema(arc)
        with arc.session() as session, session.begin():
            insert_articles(session, rows)
        with pytest.raises(Exception, match="UNIQUE"):
            with arc.session() as session, session.begin():
                insert_articles(session, [_row(900, "b.test", None, "x"), rows[0]])
        assert _schema(arc) == schema
        with arc.session() as session:
            assert search_page(session, "经济").total == sum("经济" in r["text"] for r in rows)


def test_postgresql_index_rows_carry_the_site_and_time_whatever_writes(pg_url: str) -> None:
    """Migration 0018: ``article_fts_vector``'s copies of ``site`` and ``published_at`` (what a
    site or period filter tests there) follow the article through inserts, updates of the
    article and re-indexing of its vector."""
    from storage.search_index import vector_row, write_vectors

    def copies(arc: Archive) -> dict[int, tuple[Any, ...]]:
        with arc.engine.connect() as connection:
            rows = connection.execute(
                text(
                    "SELECT v.article_id, v.site, v.published_at, a.site, a.published_at "
                    "FROM article_fts_vector v JOIN article a ON a.id = v.article_id"
                )
            ).all()
        return {row[0]: tuple(row[1:]) for row in rows}

    first, second = datetime(2020, 5, 5, tzinfo=UTC), datetime(2021, 7, 7, tzinfo=UTC)
    with open_archive(pg_url) as arc:
        with arc.session() as session, session.begin():
            insert_articles(session, [_row(1, "a.test", first, "economy"), _row(2, "", None, "economy")])
        assert copies(arc) == {1: ("a.test", first, "a.test", first), 2: (None, None, None, None)}
        with arc.session() as session, session.begin():
            session.execute(update(Article).where(Article.id == 2).values(site="b.test", published_at=second))
            session.execute(update(Article).where(Article.id == 1).values(published_at=None))
        assert copies(arc) == {1: ("a.test", None, "a.test", None), 2: ("b.test", second, "b.test", second)}
        with arc.engine.begin() as connection:  # re-indexed (new text): the copies stay
            write_vectors(connection, [vector_row(2, "title 2", "police 经济")])
        assert copies(arc)[2] == ("b.test", second, "b.test", second)
        with arc.session() as session:
            assert search_page(session, "police", site="b.test", since=date(2021, 7, 7)).total == 1
            assert search_page(session, "economy", site="a.test").total == 1
            assert search_page(session, "economy", since=date(2000, 1, 1)).total == 0


def test_only_site_and_period_are_answered_on_the_index_rows() -> None:
    from storage import postgres_sql
    from storage.filters import ArticleFilter

    where, params = postgres_sql.index_conditions(
        ArticleFilter("economy", site="a.test", since=date(2020, 1, 1), until=date(2020, 12, 31))
    ) or ([], {})
    assert where == [
        "article_fts_vector.site = :site",
        "article_fts_vector.published_at >= :since",
        "article_fts_vector.published_at < :until",
    ]
    assert set(params) == {"site", "since", "until"}
    for other in ({"author": "王"}, {"language": "zh"}, {"articles_only": True}):
        assert postgres_sql.index_conditions(ArticleFilter("economy", site="a.test", **other)) is None


def test_postgresql_index_of_an_older_archive_gets_the_copies_on_upgrade(pg_url: str) -> None:
    """Migration 0018 on a filled archive: the index table written again with each row's site
    and time, its vectors unchanged, then vacuumed (the server's autovacuum may be off)."""
    from storage.archive import create_archive_engine, upgrade_schema

    engine = create_archive_engine(pg_url)
    upgrade_schema(engine, "0017_listing_index")
    rows = [_row(1, "a.test", datetime(2020, 5, 5, tzinfo=UTC), "economy"), _row(2, "", None, "police")]
    with engine.begin() as connection, Session(connection) as session:
        insert_articles(session, rows)
        session.flush()
    with engine.connect() as connection:
        found = connection.execute(text("SELECT article_id, vector::text FROM article_fts_vector"))
        vectors = {row[0]: row[1] for row in found}
    engine.dispose()
    with open_archive(pg_url) as arc, arc.engine.connect() as connection:
        after = connection.execute(
            text("SELECT article_id, vector::text, site, published_at FROM article_fts_vector ORDER BY 1")
        ).all()
        vacuumed = connection.execute(
            text("SELECT last_vacuum FROM pg_stat_all_tables WHERE relname = 'article_fts_vector'")
        ).scalar()
    assert [tuple(row) for row in after] == [
        (1, vectors[1], "a.test", datetime(2020, 5, 5, tzinfo=UTC)),
        (2, vectors[2], None, None),
    ]
    assert vacuumed is not None
