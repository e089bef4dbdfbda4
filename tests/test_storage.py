"""Storage core on a real SQLite file and the real PostgreSQL server."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from core.errors import NewsArchiveError
from storage import (
    Article,
    ArticleUrl,
    ArticleVersion,
    RawPage,
    StorageError,
    finish_run,
    known_pages,
    list_runs,
    mark_dead_runs_interrupted,
    mark_not_modified,
    open_archive,
    raw_body,
    start_run,
    store_article,
)
from storage.archive import Archive
from tests.test_storage_data import SECTIONS, TITLES, article_for, item_for, page_for

URL = "https://www.xunjk.com/yanjiu/2022/0928/1.html"


@pytest.fixture
def archive(any_db: str) -> Iterator[Archive]:
    arc = open_archive(any_db)
    yield arc
    arc.close()


def count(archive: Archive, model: type) -> int:
    with archive.session() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def store(archive: Archive, key: str, url: str, site: str = "xunjk") -> tuple[int, str]:
    page, article = item_for(key, url, site=site)
    with archive.session() as session, session.begin():
        outcome = store_article(session, page, article)
    return outcome.article_id, outcome.status


def test_storage_error_is_a_project_error() -> None:
    assert issubclass(StorageError, NewsArchiveError)


def test_store_new_article_keeps_everything(archive: Archive) -> None:
    article_id, status = store(archive, "industry", URL)
    assert status == "new"
    with archive.session() as session:
        row = session.get(Article, article_id)
        assert row is not None
        assert row.title == TITLES["industry"]
        assert row.text == SECTIONS["industry"]
        assert row.site == "xunjk"
        assert row.canonical_url == URL
        assert row.version == 1
        assert row.tags == ["知识产权", "示范基地"]
        assert row.published_at == datetime(2024, 5, 3, 8, 0, tzinfo=UTC)
        assert row.published_at.tzinfo is not None
        assert row.etag == '"v1"'
        assert row.extractor_version == "test-1"
        assert len(row.content_hash) == 64
        raw = session.get(RawPage, row.raw_page_id)
        assert raw is not None
        assert raw.body.startswith(b"\x28\xb5\x2f\xfd")  # a zstd frame
        assert "排头兵" in raw_body(raw).decode("utf-8")


def test_same_page_twice_adds_no_version(archive: Archive) -> None:
    first = store(archive, "industry", URL)
    second = store(archive, "industry", URL)
    assert second == (first[0], "unchanged")
    assert count(archive, Article) == 1
    assert count(archive, ArticleVersion) == 0
    assert count(archive, RawPage) == 1


def test_changed_page_adds_exactly_one_version(archive: Archive) -> None:
    article_id, _ = store(archive, "industry", URL)
    changed = SECTIONS["industry"].replace("大江奔流开新路。", "大江奔流开新路,勇立潮头。")
    page = page_for(URL, changed, title=TITLES["industry"])
    with archive.session() as session, session.begin():
        outcome = store_article(session, page, article_for(URL, changed, title=TITLES["industry"]))
    assert (outcome.article_id, outcome.status) == (article_id, "updated")
    with archive.session() as session, session.begin():  # the same change again: nothing new
        assert store_article(session, page, article_for(URL, changed, title=TITLES["industry"])).status == (
            "unchanged"
        )
    with archive.session() as session:
        row = session.get(Article, article_id)
        assert row is not None and row.version == 2 and "勇立潮头" in row.text
        versions = session.scalars(select(ArticleVersion)).all()
        assert len(versions) == 1
        assert versions[0].version == 1
        assert versions[0].reason == "crawl"
        assert "勇立潮头" not in versions[0].text
        assert versions[0].raw_page_id != row.raw_page_id  # the old raw page is kept


@pytest.mark.parametrize(
    "variant",
    [
        URL + "?utm_source=wechat&utm_medium=social",
        URL + "?from=timeline#comments",
        "http://www.xunjk.com/yanjiu/2022/0928/1.html",
        "https://WWW.xunjk.com/yanjiu/2022/0928/1.html/",
    ],
)
def test_same_article_under_another_url_is_stored_once(archive: Archive, variant: str) -> None:
    first = store(archive, "industry", URL)
    assert store(archive, "industry", variant) == (first[0], "unchanged")
    assert count(archive, Article) == 1


def test_canonical_link_of_the_same_site_joins_urls(archive: Archive) -> None:
    article_id, _ = store(archive, "people", URL)
    mobile = "https://www.xunjk.com/m/yanjiu/1.html"
    page = page_for(mobile, SECTIONS["people"], title=TITLES["people"])
    article = article_for(mobile, SECTIONS["people"], title=TITLES["people"], canonical_url=URL)
    with archive.session() as session, session.begin():
        assert store_article(session, page, article).article_id == article_id
        assert session.scalar(select(ArticleUrl.article_id).where(ArticleUrl.url == mobile)) == article_id


def test_a_template_canonical_shared_by_different_stories_does_not_merge_them(archive: Archive) -> None:
    """Some CMS templates point every article's rel=canonical at a section page; two
    different stories naming it stay two articles, each under its own URL."""
    section = "https://www.xunjk.com/yanjiu/"
    first_url, second_url = "https://www.xunjk.com/yanjiu/7.html", "https://www.xunjk.com/yanjiu/8.html"
    ids = []
    for url, key in ((first_url, "industry"), (second_url, "people")):
        page = page_for(url, SECTIONS[key], title=TITLES[key])
        article = article_for(url, SECTIONS[key], title=TITLES[key], canonical_url=section)
        with archive.session() as session, session.begin():
            ids.append(store_article(session, page, article))
    assert [outcome.status for outcome in ids] == ["new", "new"]
    assert count(archive, Article) == 2
    with archive.session() as session:
        second = session.get(Article, ids[1].article_id)
        assert second is not None and second.canonical_url == second_url and second.title == TITLES["people"]
        assert session.get(Article, ids[0].article_id).title == TITLES["industry"]  # type: ignore[union-attr]


def test_republished_copy_at_another_site_is_a_duplicate(archive: Archive) -> None:
    original, _ = store(archive, "innovation", URL)
    copy_text = "来源:创投网\n" + SECTIONS["innovation"].replace("。", "!", 2) + "\n责任编辑:王明"
    other = "https://news.example.cn/a/20220930/99.html"
    page = page_for(other, copy_text, site="example", title=TITLES["innovation"])
    # the copy names the original as canonical: another site, so it is not trusted
    article = article_for(other, copy_text, title=TITLES["innovation"], canonical_url=URL)
    with archive.session() as session, session.begin():
        outcome = store_article(session, page, article)
    assert outcome.status == "duplicate"
    exact_url = "https://mirror.example.org/p/1"
    with archive.session() as session, session.begin():
        exact = store_article(session, *item_for("innovation", exact_url, site="mirror"))
    assert exact.status == "duplicate"
    unrelated, status = store(archive, "people", "https://www.xunjk.com/yanjiu/2.html")
    assert status == "new"
    with archive.session() as session:
        assert session.get(Article, outcome.article_id).duplicate_of == original  # type: ignore[union-attr]
        assert session.get(Article, exact.article_id).duplicate_of == original  # type: ignore[union-attr]
        assert session.get(Article, unrelated).duplicate_of is None  # type: ignore[union-attr]


def test_duplicate_flag_follows_a_changed_text(archive: Archive) -> None:
    first, _ = store(archive, "innovation", URL)
    mirror = "https://mirror.example.org/p/1"
    page, article = item_for("innovation", mirror, site="mirror")
    with archive.session() as session, session.begin():
        copy = store_article(session, page, article)
    assert copy.status == "duplicate"
    # the mirror replaces the copied story with a text of its own: no longer a copy
    own = SECTIONS["people"] + "\n镜像站编辑部补充说明。"
    with archive.session() as session, session.begin():
        store_article(session, page_for(mirror, own, site="mirror"), article_for(mirror, own, title="镜像"))
    with archive.session() as session:
        assert session.get(Article, copy.article_id).duplicate_of is None  # type: ignore[union-attr]
    # the original's page now carries text the mirror stored first: it points at the mirror
    with archive.session() as session, session.begin():
        store_article(session, page_for(URL, own, site="xunjk"), article_for(URL, own, title="镜像"))
    with archive.session() as session:
        assert session.get(Article, first).duplicate_of == copy.article_id  # type: ignore[union-attr]
        assert session.get(Article, copy.article_id).duplicate_of is None  # type: ignore[union-attr]


def test_known_pages_and_not_modified(archive: Archive) -> None:
    article_id, _ = store(archive, "industry", URL + "?utm_source=x")
    store(archive, "people", "https://other.example.com/1", site="other")
    later = datetime.now(UTC) + timedelta(days=1)
    with archive.session() as session, session.begin():
        assert mark_not_modified(session, URL, fetched_at=later) == article_id
        assert mark_not_modified(session, "https://www.xunjk.com/nope", fetched_at=later) is None
    with archive.session() as session:
        known = known_pages(session, "xunjk")
    assert set(known) == {URL, URL + "?utm_source=x"}
    assert known[URL].article_id == article_id
    assert known[URL].etag == '"v1"'
    assert abs(known[URL].last_fetched_at - later) < timedelta(seconds=1)  # type: ignore[operator]
    assert count(archive, ArticleVersion) == 0


def test_runs(archive: Archive) -> None:
    with archive.session() as session, session.begin():
        done = start_run(session, "xunjk", pid=os.getpid())
        finish_run(
            session, done, status="ok", stats={"pages_fetched": 12, "articles_new": 3}, errors={"http_404": 2}
        )
        dead = start_run(session, "xunjk", pid=2**22 + 12345)  # no such process
        alive = start_run(session, "other", pid=os.getpid())
    with archive.session() as session, session.begin():
        assert mark_dead_runs_interrupted(session) == 1
    with archive.session() as session:
        runs = list_runs(session)
        assert [run.id for run in runs] == [alive, dead, done]
        by_id = {run.id: run for run in runs}
        assert by_id[done].status == "ok" and by_id[done].pages_fetched == 12
        assert by_id[done].errors == {"http_404": 2}
        assert by_id[dead].status == "interrupted"
        assert by_id[alive].status == "running"
        assert [run.id for run in list_runs(session, site="other")] == [alive]
        assert len(list_runs(session, limit=1)) == 1


def test_unwritable_path_is_one_line_error(tmp_path: Path) -> None:
    with pytest.raises(StorageError) as info:
        open_archive(str(tmp_path / "missing" / "archive.db"))
    assert "\n" not in str(info.value)
    with pytest.raises(StorageError, match="no archive"):
        open_archive(str(tmp_path / "absent.db"), create=False)


def test_sqlite_pragmas(sqlite_db: str) -> None:
    with open_archive(sqlite_db) as archive, archive.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert int(connection.exec_driver_sql("PRAGMA busy_timeout").scalar() or 0) > 0


def test_driver_errors_become_one_line_storage_errors(sqlite_db: str) -> None:
    with open_archive(sqlite_db) as archive:
        with archive.engine.begin() as connection:  # a damaged archive: a table gone
            connection.exec_driver_sql("DROP VIEW article_summary")
            connection.exec_driver_sql("ALTER TABLE article_url RENAME TO lost")
        with archive.session() as session, pytest.raises(StorageError) as info:
            known_pages(session, None)
    assert str(info.value).startswith("known_pages: ") and "\n" not in str(info.value)


WRITER = """
import sys
from storage import open_archive, store_article
from tests.test_storage_data import SECTIONS, article_for, page_for

archive = open_archive(sys.argv[1])
name, deferred = sys.argv[2], sys.argv[3] == "deferred"
for batch in range(8):
    with archive.session(read_only=deferred) as session, session.begin():
        for i in range(10):
            url = f"https://{name}.example.com/{batch}/{i}.html"
            text = f"{name}-{batch}-{i}\\n" + SECTIONS["people"]
            store_article(session, page_for(url, text, site=name), article_for(url, text, title=url))
"""


def run_writers(db: str, mode: str) -> list[int]:
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": str(root)}
    writers = [
        subprocess.Popen([sys.executable, "-c", WRITER, db, f"site{n}", mode], cwd=root, env=env,
                         stderr=subprocess.PIPE)
        for n in range(4)
    ]  # fmt: skip
    return [writer.wait(timeout=120) for writer in writers]


@pytest.mark.slow
def test_concurrent_writer_processes_queue_on_sqlite(sqlite_db: str) -> None:
    open_archive(sqlite_db).close()
    assert run_writers(sqlite_db, "immediate") == [0, 0, 0, 0]
    with open_archive(sqlite_db) as archive:
        assert count(archive, Article) == 4 * 8 * 10


def test_plain_views_for_datasette(archive: Archive) -> None:
    store(archive, "industry", URL)
    store(archive, "industry", "https://news.example.cn/copy.html", site="example")
    with archive.engine.connect() as connection:
        summary = connection.exec_driver_sql(
            "SELECT id, site, version, duplicate_of, url_count, text_chars FROM article_summary ORDER BY id"
        ).all()
        stats = connection.exec_driver_sql(
            "SELECT site, articles, duplicates, missing_date, missing_author FROM site_stats ORDER BY site"
        ).all()
    assert [tuple(row) for row in summary] == [
        (1, "xunjk", 1, None, 1, len(SECTIONS["industry"])),
        (2, "example", 1, 1, 1, len(SECTIONS["industry"])),
    ]
    assert [tuple(row) for row in stats] == [("example", 1, 1, 0, 0), ("xunjk", 1, 0, 0, 0)]


def test_canonical_url_stays_a_working_address(archive: Archive) -> None:
    """http-only sites and trailing slashes: the key joins variants, the
    stored canonical URL is still the address as the site wrote it."""
    plain = "http://news.example.cn/2022/0928/story/"
    article_id, _ = store(archive, "people", plain + "?utm_source=rss", site="example")
    assert (
        store(archive, "people", "https://news.example.cn/2022/0928/story", site="example")[1] == "unchanged"
    )
    with archive.session() as session:
        row = session.get(Article, article_id)
        assert row is not None and row.canonical_url == plain
        assert set(session.scalars(select(ArticleUrl.url))) == {"https://news.example.cn/2022/0928/story"}


def test_title_change_keeps_the_old_raw_page(archive: Archive) -> None:
    article_id, _ = store(archive, "industry", URL)
    text = SECTIONS["industry"]
    with archive.session() as session, session.begin():
        page = page_for(URL, text, title="新标题")
        assert store_article(session, page, article_for(URL, text, title="新标题")).status == "updated"
    with archive.session() as session:
        old = session.scalars(select(ArticleVersion)).one()
        row = session.get(Article, article_id)
        assert row is not None and old.title == TITLES["industry"] and row.title == "新标题"
        old_raw = session.get(RawPage, old.raw_page_id)
        assert old_raw is not None and TITLES["industry"].encode() in raw_body(old_raw)


def test_a_page_linking_two_stored_articles(archive: Archive) -> None:
    first, _ = store(archive, "industry", URL)
    other = "https://www.xunjk.com/m/1.html"
    second, _ = store(archive, "people", other)
    # the mobile page now declares the desktop URL canonical: both aliases exist already
    page = page_for(other, SECTIONS["industry"], title=TITLES["industry"])
    article = article_for(other, SECTIONS["industry"], title=TITLES["industry"], canonical_url=URL)
    with archive.session() as session, session.begin():
        assert store_article(session, page, article).article_id == first
    with archive.session() as session:
        owners = dict(session.execute(select(ArticleUrl.url, ArticleUrl.article_id)).all())
    assert owners == {URL: first, other: second}


UPDATER = """
import sys
from storage import open_archive, store_article
from tests.test_storage_data import SECTIONS, article_for, page_for

archive = open_archive(sys.argv[1])
url = "https://www.xunjk.com/yanjiu/2022/0914/same.html"
for n in range(15):
    text = f"{sys.argv[2]} {n}\\n" + SECTIONS["people"]
    with archive.session() as session, session.begin():
        store_article(session, page_for(url, text), article_for(url, text, title="同一篇"))
"""


@pytest.mark.slow
def test_concurrent_updates_of_one_article_lose_no_version(any_db: str) -> None:
    """Two processes rewriting the same article: every change is one version, none lost or
    numbered twice (on PostgreSQL the article row is locked while it is updated)."""
    open_archive(any_db).close()
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": str(root)}
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", UPDATER, any_db, name], cwd=root, env=env, stderr=subprocess.PIPE
        )
        for name in ("left", "right")
    ]
    errors = [writer.communicate(timeout=120)[1].decode() for writer in writers]
    assert [writer.returncode for writer in writers] == [0, 0], errors
    with open_archive(any_db) as archive, archive.session() as session:
        (article,) = session.scalars(select(Article)).all()
        wanted = select(ArticleVersion.version).where(ArticleVersion.article_id == article.id)
        numbers = sorted(session.scalars(wanted))
    # 30 stores, the first one new: 29 changes, each kept once with its own number
    assert article.version == 30
    assert numbers == list(range(1, 30))


INSERTER = """
import sys, time
from storage import open_archive, store_article
from tests.test_storage_data import SECTIONS, article_for, page_for

archive = open_archive(sys.argv[1])
while time.time() < float(sys.argv[2]):  # all writers start together
    time.sleep(0.001)
for n in range(20):
    url = f"https://www.xunjk.com/yanjiu/2022/0914/{n}.html"
    text = f"第{n}篇\\n" + SECTIONS["people"]
    with archive.session() as session, session.begin():
        store_article(session, page_for(url, text), article_for(url, text, title=f"第{n}篇"))
"""


@pytest.mark.slow
def test_concurrent_inserts_of_the_same_new_article_make_one_row(any_db: str) -> None:
    """Three processes storing the same new pages at once: no writer fails, each page is one
    article (on PostgreSQL a lost race for the unique URL becomes an update)."""
    open_archive(any_db).close()
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": str(root)}
    start = str(time.time() + 3)
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", INSERTER, any_db, start], cwd=root, env=env, stderr=subprocess.PIPE
        )
        for _ in range(3)
    ]
    errors = [writer.communicate(timeout=120)[1].decode() for writer in writers]
    assert [writer.returncode for writer in writers] == [0, 0, 0], errors
    with open_archive(any_db) as archive:
        assert count(archive, Article) == 20
        assert count(archive, ArticleUrl) == 20


def test_uncertain_pages_are_counted_and_can_be_left_out(archive: Archive) -> None:
    from storage import ArticleFilter, count_articles, iter_export_rows, search, site_stats

    keys = list(SECTIONS)[:2]
    items = [item_for(key, f"https://www.xunjk.com/yanjiu/2022/0928/{n}.html") for n, key in enumerate(keys)]
    items[1][1].is_article = "uncertain"
    with archive.session() as session, session.begin():
        for page, article in items:
            store_article(session, page, article)
    with archive.session() as session:
        (stats,) = site_stats(session)
        assert (stats.articles, stats.uncertain, stats.uncertain_share) == (2, 1, 0.5)
        assert count_articles(session, ArticleFilter()) == 2
        assert count_articles(session, ArticleFilter(articles_only=True)) == 1
        rows = list(iter_export_rows(session))
        assert sorted(row["is_article"] for row in rows) == ["uncertain", "yes"]
        word = TITLES[keys[1]][:3]
        assert search(session, word) and not search(session, word, articles_only=True)
