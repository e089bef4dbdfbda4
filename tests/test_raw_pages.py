"""Raw pages as stored: zstd frames, with a per-site dictionary, packed by the extraction
worker; zlib rows stored before stay readable, exportable and re-extractable."""

from __future__ import annotations

import io
import zlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from core.fingerprint import content_hash, simhash
from core.items import Article as ArticleData
from core.items import FetchedPage
from core.rawcodec import (
    RawCodecError,
    RawDictionary,
    dictionary_id,
    pack_body,
    train_dictionary,
    unpack_body,
)
from pipelines.extract_worker import extract_and_pack, pack_page
from pipelines.reextract import reextract
from storage import (
    Article,
    RawPage,
    StorageError,
    open_archive,
    raw_body,
    save_site_dictionary,
    site_dictionary,
    store_article,
)
from storage.export import write_warc

PAGES = Path(__file__).parent / "fixtures" / "pages"
BODIES = {p.name: p.read_bytes() for p in sorted(PAGES.glob("*.html"))}
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


def _page(name: str, body: bytes | None = None, site: str = "fixtures") -> FetchedPage:
    return FetchedPage(
        url=f"https://{site}.example/{name}",
        final_url=f"https://{site}.example/{name}",
        status=200,
        headers={"Content-Type": "text/html; charset=utf-8"},
        body=BODIES[name] if body is None else body,
        fetched_at=datetime(2026, 11, 28, tzinfo=UTC),
        site=site,
    )


def _dictionary() -> RawDictionary:
    dictionary = train_dictionary(list(BODIES.values())[:30])
    assert dictionary is not None
    return dictionary


def test_every_fixture_page_round_trips_through_each_form() -> None:
    dictionary = _dictionary()

    def lookup(dict_id: int) -> RawDictionary | None:
        return dictionary if dict_id == dictionary.dict_id else None

    for body in BODIES.values():
        assert unpack_body(zlib.compress(body, 6)) == body  # as stored before zstd
        plain, with_dictionary = pack_body(body), pack_body(body, dictionary)
        assert plain.startswith(ZSTD_MAGIC) and with_dictionary.startswith(ZSTD_MAGIC)
        assert unpack_body(plain) == body
        assert unpack_body(with_dictionary, lookup) == body
    # (what a dictionary saves is measured on one site's pages: bench/raw_page_size.py)


def test_damaged_or_dictionaryless_bodies_are_one_line_errors() -> None:
    body = next(iter(BODIES.values()))
    dictionary = _dictionary()
    packed = pack_body(body, dictionary)
    with pytest.raises(RawCodecError, match=f"dictionary {dictionary.dict_id}"):
        unpack_body(packed)  # the archive lost it
    with pytest.raises(RawCodecError, match="cut short"):
        unpack_body(packed[: len(packed) // 2], lambda _: dictionary)
    with pytest.raises(RawCodecError):
        unpack_body(b"\x78\x9c not zlib")
    with pytest.raises(RawCodecError):
        unpack_body(ZSTD_MAGIC + b"\x00garbage")


def test_the_worker_packs_what_storage_would_compute() -> None:
    """extract_and_pack (as a worker runs it) gives the body compressed with the site's
    dictionary and the fingerprints of the extracted text."""
    dictionary = _dictionary()
    page = _page("en_arstechnica.html")
    result, packed = extract_and_pack(page, None, dictionary)
    assert result.is_article and result.article is not None and packed is not None
    assert packed.text == result.article.text
    assert packed.text_hash == content_hash(result.article.text)
    assert packed.simhash == simhash(result.article.text)
    assert unpack_body(packed.body, lambda _: dictionary) == page.body
    listing = FetchedPage(url="https://x.example/", final_url="https://x.example/", status=200,
                          headers={}, body=b"<html><body><ul><li><a href='/a'>a</a></li></ul></body></html>")
    assert extract_and_pack(listing)[1] is None  # not stored: nothing packed


def test_stored_pages_are_zstd_with_the_sites_dictionary_and_old_zlib_rows_stay_readable(
    any_db: str, tmp_path: Path
) -> None:
    archive = open_archive(any_db)
    dictionary = _dictionary()
    names = sorted(BODIES)[:6]
    texts = {name: f"Story {name}. " + "The council met on Tuesday to discuss the budget. " * (5 + i)
             for i, name in enumerate(names)}
    with archive.transaction() as session:
        save_site_dictionary(session, "fixtures", dictionary, samples=30)
        for i, name in enumerate(names):
            page = _page(name)
            article = ArticleData(url=page.url, title=name, text=texts[name], extractor_version="t")
            if i % 3 == 0:  # packed by a worker, with the dictionary
                store_article(session, page, article, packed=pack_page(page, texts[name], dictionary))
            elif i % 3 == 1:  # packed, but the text was stripped of a template line since
                packed = pack_page(page, texts[name] + "\nSubscribe now", dictionary)
                store_article(session, page, article, packed=packed)
            else:  # not through the pool (import of a page with no worker): storage packs it
                store_article(session, page, article)
    with archive.transaction() as session:
        assert site_dictionary(session, "fixtures") == dictionary
        # a row as the code before zstd stored it
        first = session.scalars(select(Article).order_by(Article.id)).first()
        assert first is not None
        session.execute(update(RawPage).where(RawPage.id == first.raw_page_id)
                        .values(body=zlib.compress(BODIES[names[0]], 6)))
    with archive.session() as session:
        for row in session.scalars(select(Article).order_by(Article.id)):
            raw = session.get(RawPage, row.raw_page_id)
            assert raw is not None
            name = row.title
            assert raw_body(raw) == BODIES[name]
            assert row.content_hash == content_hash(texts[name])  # never the stale prints
            assert row.simhash == simhash(texts[name])
            assert raw.body.startswith(b"\x78" if name == names[0] else ZSTD_MAGIC)
    # export: every raw page as a WARC record, whatever its form
    out = io.BytesIO()
    with archive.session() as session:
        assert write_warc(session, out) == len(names)
    from warcio.archiveiterator import ArchiveIterator

    exported = [r.content_stream().read() for r in ArchiveIterator(io.BytesIO(out.getvalue()))
                if r.rec_type == "response"]
    assert sorted(exported) == sorted(BODIES[n] for n in names)
    # re-extraction reads every form (the real extractor, on the real pages)
    stats = reextract(archive)
    assert stats.checked == len(names) and not stats.failed
    archive.close()


def test_a_missing_dictionary_is_a_storage_error_not_a_traceback(sqlite_db: str) -> None:
    archive = open_archive(sqlite_db)
    dictionary = _dictionary()
    name = sorted(BODIES)[0]
    page = _page(name)
    text = "The council met on Tuesday to discuss the budget. " * 5
    with archive.transaction() as session:
        store_article(session, page, ArticleData(url=page.url, title="t", text=text),
                      packed=pack_page(page, text, dictionary))  # dictionary never saved
    with archive.session() as session:
        raw = session.scalars(select(RawPage)).one()
        with pytest.raises(StorageError, match=f"damaged: compressed with dictionary {dictionary.dict_id}"):
            raw_body(raw)
    archive.close()


@pytest.mark.slow  # two real crawls in subprocesses
def test_a_crawl_learns_the_sites_dictionary_and_the_next_crawl_packs_with_it(
    serve_site: Any, sqlite_db: str, tmp_path: Path
) -> None:
    from tests.test_crawl_support import cli, listing, site_table, synthetic_article, write_config

    first = {f"/2020/0301/{n}.html": synthetic_article(n) for n in range(10)}
    pages: dict[str, Any] = {"/": listing("Home", sorted(first)), **first}
    site = serve_site(pages)
    config = write_config(tmp_path / "sites.toml", {"local": site_table(site.base_url)})

    def crawl() -> None:
        done = cli("--db", sqlite_db, "--config", str(config), "crawl", "--site", "local",
                   "-s", "NEWSARCHIVE_RAW_DICTIONARY_SAMPLES=8")
        assert done.returncode == 0, done.stderr

    crawl()
    archive = open_archive(sqlite_db)
    with archive.session() as session:
        dictionary = site_dictionary(session, "local")
        assert dictionary is not None  # learned from the first 8 article pages
    later = {f"/2020/0302/{n}.html": synthetic_article(n) for n in range(20, 23)}
    pages.update(later)
    pages["/"] = listing("Home", sorted([*first, *later]))
    crawl()
    with archive.session() as session:
        stored = select(Article.url, RawPage).join(RawPage, RawPage.id == Article.raw_page_id)
        rows = session.execute(stored).all()
        assert len(rows) == 13
        for url, raw in rows:
            assert raw_body(raw) == pages[url.removeprefix(site.base_url)]
            if url.removeprefix(site.base_url) in later:  # the second crawl packs with it
                assert dictionary_id(raw.body) == dictionary.dict_id
        assert site_dictionary(session, "local") == dictionary  # one per site: not learned again
    archive.close()


@pytest.mark.slow
def test_an_import_learns_the_sites_dictionary_and_the_next_import_packs_with_it(
    sqlite_db: str, tmp_path: Path
) -> None:
    """``import`` packs raw pages as a crawl does: the first import of a site learns its
    dictionary from its first article pages, the next one packs every page with it."""
    from pipelines.warc_import import import_warcs
    from tests.test_crawl_support import synthetic_article
    from tests.warc_util import write_warc as write_records

    site = "https://imported.example"
    first = {f"{site}/2020/0301/{n}.html": synthetic_article(n) for n in range(12)}
    later = {f"{site}/2020/0302/{n}.html": synthetic_article(n) for n in range(30, 33)}
    archive = open_archive(sqlite_db)
    stats = import_warcs(archive, [write_records(tmp_path / "first.warc.gz", list(first.items()))],
                         workers=1, dictionary_samples=8)
    assert stats.outcomes["new"] == 12
    with archive.session() as session:
        (site_name,) = {row[0] for row in session.execute(select(Article.site))}
        dictionary = site_dictionary(session, site_name)
        assert dictionary is not None  # learned from the first 8 article pages
    stats = import_warcs(archive, [write_records(tmp_path / "later.warc.gz", list(later.items()))],
                         workers=1, dictionary_samples=8)
    assert stats.outcomes["new"] == 3
    with archive.session() as session:
        stored = select(Article.url, RawPage).join(RawPage, RawPage.id == Article.raw_page_id)
        rows = session.execute(stored).all()
        assert len(rows) == 15
        for url, raw in rows:
            assert raw_body(raw) == {**first, **later}[url]
            if url in later:
                assert dictionary_id(raw.body) == dictionary.dict_id
        assert site_dictionary(session, site_name) == dictionary  # one per site: not learned again
    archive.close()


def test_an_import_of_many_sites_holds_a_bounded_amount_of_samples(
    sqlite_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Samples wait in memory until a site has enough pages: across the many sites of one
    file they stay under ``SAMPLES_HELD_BYTES``, the sites that waited longest giving up."""
    import pipelines.ingest as ingest_module
    from pipelines.extraction_pool import ExtractionPool
    from pipelines.ingest import Ingest

    budget = 3 * max(len(BODIES[name]) for name in list(BODIES)[:12])
    monkeypatch.setattr(ingest_module, "SAMPLES_HELD_BYTES", budget)
    archive = open_archive(sqlite_db)
    with ExtractionPool(1) as pool:
        ingest = Ingest(archive, provenance="import", pool=pool, dictionary_samples=64)
        for n, name in enumerate(list(BODIES)[:12]):
            ingest.add(_page(name, site=f"site{n % 6}"))
        ingest.finish(learn_templates=False)
    dictionaries = ingest._dictionaries
    held = sum(d.held for d in dictionaries.values())
    assert 0 < held <= budget
    gave_up = [site for site, d in dictionaries.items() if d.closed]
    assert gave_up  # some gave up, and were counted
    assert ingest.counts["newsarchive/raw_dictionary/gave_up"] == len(gave_up)
    assert not dictionaries["site5"].closed  # the latest ones still collect
    archive.close()


@pytest.mark.slow
@pytest.mark.parametrize(("samples", "learned"), [("8", True), ("0", False)])
def test_the_import_command_learns_a_dictionary_from_as_many_pages_as_it_is_told(
    tmp_path: Path, samples: str, learned: bool
) -> None:
    """``newsarchive import --dictionary-samples N``: a dictionary from the site's first N
    article pages (12 in the file, so 8 is enough and the default 64 is not); 0: none."""
    from click.testing import CliRunner

    from crawler.cli import main as cli
    from tests.test_crawl_support import synthetic_article
    from tests.warc_util import write_warc as write_records

    site = "https://imported.example"
    pages = [(f"{site}/2020/0301/{n}.html", synthetic_article(n)) for n in range(12)]
    warc = write_records(tmp_path / "pages.warc.gz", pages)
    db = tmp_path / "archive.db"
    result = CliRunner().invoke(
        cli, ["--db", str(db), "import", "--workers", "1", "--dictionary-samples", samples, str(warc)]
    )
    assert result.exit_code == 0, result.output
    archive = open_archive(str(db))
    with archive.session() as session:
        (site_name,) = {row[0] for row in session.execute(select(Article.site))}
        assert (site_dictionary(session, site_name) is not None) is learned
    archive.close()
    bad = CliRunner().invoke(cli, ["--db", str(db), "import", "--dictionary-samples", "-1", str(warc)])
    assert bad.exit_code == 2 and "--dictionary-samples" in bad.output
