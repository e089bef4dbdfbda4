"""`newsarchive serve` over real HTTP: a subprocess on a free port, a real SQLite archive."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from markupsafe import escape

from tests.web_archive import (
    CORRECTION,
    HOSTILE_TITLE,
    Server,
    WebArchive,
    beacon_server,
    build_archive,
    get,
    serve,
)


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebArchive]:
    with beacon_server() as beacon:
        yield build_archive(tmp_path_factory.mktemp("web") / "archive.db", beacon.url)


@pytest.fixture(scope="module")
def server(archive: WebArchive) -> Iterator[Server]:
    with serve(archive.db) as running:
        yield running


def api(server: Server, path: str, **params: Any) -> Any:
    status, _, body = get(server.base_url + path + ("?" + urlencode(params) if params else ""))
    assert status == 200, body
    return json.loads(body)


def page(server: Server, path: str) -> str:
    status, headers, body = get(server.base_url + path)
    assert status == 200, body[:300]
    assert headers["content-type"].startswith("text/html")
    return body.decode("utf-8")


def test_search_api_ranks_pages_and_counts(server: Server, archive: WebArchive) -> None:
    found = api(server, "/api/search", q="高新区")
    assert found["total"] == 2 and found["total_exact"]  # the article and its copy on the mirror site
    assert {hit["id"] for hit in found["hits"]} == {archive.ids["xunjk"], archive.ids["mirror"]}
    assert "**高新区**" in found["hits"][0]["snippet"]
    unique = api(server, "/api/search", q="高新区", hide_duplicates="true")
    assert [hit["id"] for hit in unique["hits"]] == [archive.ids["xunjk"]] and unique["total"] == 1
    english = api(server, "/api/search", q="police", lang="en")
    assert english["hits"][0]["title"].startswith("House where Hitler was born")


def test_listing_pages_through_every_article(server: Server) -> None:
    first = api(server, "/api/search", per_page=3)
    assert first["total"] == 7 and first["pages"] == 3 and len(first["hits"]) == 3
    rest = (
        api(server, "/api/search", per_page=3, page=2)["hits"]
        + api(server, "/api/search", per_page=3, page=3)["hits"]
    )
    ids = [hit["id"] for hit in first["hits"] + rest]
    assert sorted(ids) == list(range(1, 8))  # each article once over the pages
    dated = [
        datetime.fromisoformat(hit["published_at"]) for hit in first["hits"] + rest if hit["published_at"]
    ]
    assert dated == sorted(dated, reverse=True)  # newest first


def test_search_filters_by_site_and_date(server: Server, archive: WebArchive) -> None:
    assert api(server, "/api/search", site="mirror")["total"] == 1
    old = api(server, "/api/search", since="2011-01-01", until="2011-12-31")
    assert old["total"] == 2 and all(hit["published_at"].startswith("2011-12") for hit in old["hits"])


def test_bad_parameters_are_400_with_a_message(server: Server) -> None:
    status, _, body = get(server.base_url + "/api/search?since=yesterday")
    assert status == 400 and "not a date" in json.loads(body)["error"]
    status, _, body = get(server.base_url + "/api/search?per_page=1000")
    assert status == 422
    status, _, body = get(server.base_url + "/api/articles/999999")
    assert status == 404 and "no article 999999" in json.loads(body)["error"]
    status, _, body = get(server.base_url + "/articles/999999")
    assert status == 404 and b"no article 999999" in body
    status, _, body = get(server.base_url + "/?q=" + quote('"unbalanced'))
    assert status == 400 and b"invalid search query" in body and b"Traceback" not in body


def test_article_api_with_versions_and_duplicates(server: Server, archive: WebArchive) -> None:
    article = api(server, f"/api/articles/{archive.ids['xunjk']}")
    assert article["title"] == "焦点观察:柳州高新区十年高质量发展综述"
    assert article["author"] and article["published_at"].startswith("2022-09-14")
    assert article["version"] == 2 and CORRECTION in article["text"] and article["has_raw"]
    assert [d["id"] for d in article["duplicates"]] == [archive.ids["mirror"]]
    versions = api(server, f"/api/articles/{archive.ids['xunjk']}/versions")["versions"]
    assert [v["version"] for v in versions] == [1, 2]
    assert CORRECTION not in versions[0]["text"] and versions[0]["replaced_at"]


def test_article_page_shows_text_metadata_diff_and_raw_link(server: Server, archive: WebArchive) -> None:
    text = page(server, f"/articles/{archive.ids['xunjk']}")
    assert '<h1 id="title">焦点观察:柳州高新区十年高质量发展综述</h1>' in text
    assert f'<span class="add">+{CORRECTION}</span>' in text  # the diff between the versions
    assert f'href="/articles/{archive.ids["mirror"]}"' in text  # its duplicate
    assert f'href="/articles/{archive.ids["xunjk"]}/raw"' in text
    assert 'lang="zh"' in text
    for furniture in ("皖ICP备", "最近更新", "Copyright"):
        assert furniture not in text


def test_every_title_and_text_is_escaped(server: Server, archive: WebArchive) -> None:
    hostile = archive.ids["hostile"]
    for path in (f"/articles/{hostile}", "/?q=markup", "/", "/?site=hostile"):
        text = page(server, path)
        assert "<script" not in text.lower(), path
        assert "<b>bold</b>" not in text and "<img src=x" not in text
        assert str(escape(HOSTILE_TITLE)) in text, path


def test_raw_page_is_served_inert(server: Server, archive: WebArchive) -> None:
    status, headers, body = get(server.base_url + f"/articles/{archive.ids['hostile']}/raw")
    assert status == 200 and b"<script>" in body  # the page exactly as archived...
    policy = [part.strip() for part in headers["content-security-policy"].split(";")]
    assert "sandbox" in policy and "default-src 'none'" in policy and "img-src 'none'" in policy  # ...inert
    assert not any(part.startswith("sandbox ") for part in policy)  # no allow-scripts or other exemptions
    assert headers["x-content-type-options"] == "nosniff"


def test_our_pages_run_no_script(server: Server) -> None:
    _, headers, body = get(server.base_url + "/")
    assert "script-src" not in headers["content-security-policy"]  # default-src 'none' covers scripts
    assert "default-src 'none'" in headers["content-security-policy"]
    assert b"<script" not in body


def test_sites_page_and_api_show_health(server: Server) -> None:
    sites = {s["site"]: s for s in api(server, "/api/sites")["sites"]}
    assert sites["demo"]["articles"] == 5 and sites["mirror"]["duplicates"] == 1
    assert sites["hostile"]["missing_author_share"] == 1.0
    text = page(server, "/sites")
    assert text.count("<svg") == 3 and "<rect" in text  # articles per day, one chart per site
    assert "without author" in text


def test_runs_and_stats(server: Server) -> None:
    assert api(server, "/api/stats") == {"articles": 7, "sites": {"demo": 5, "hostile": 1, "mirror": 1}}
    assert api(server, "/api/runs") == {"runs": []}
    assert "No runs yet" in page(server, "/runs")


def test_openapi_document_lists_the_api(server: Server) -> None:
    document = api(server, "/api/openapi.json")
    assert document["openapi"].startswith("3.")
    for path in (
        "/api/search",
        "/api/articles/{article_id}",
        "/api/articles/{article_id}/versions",
        "/api/sites",
        "/api/runs",
        "/api/stats",
    ):
        assert path in document["paths"], path
    params = {p["name"] for p in document["paths"]["/api/search"]["get"]["parameters"]}
    assert {"q", "site", "since", "until", "lang", "page", "per_page"} <= params


def test_search_page_form_and_paging(server: Server) -> None:
    text = page(server, "/?" + urlencode({"per_page": 2, "site": "demo"}))
    assert re.search(r"5 articles, newest first\s+· page 1 of 3", text)
    assert 'href="/?per_page=2&amp;site=demo&amp;page=2"' in text
    assert '<option value="demo" selected>' in text


def _serve_fails(db: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "crawler", "--db", db, "serve", *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.slow
def test_remote_host_needs_the_flag_and_a_token(archive: WebArchive) -> None:
    refused = _serve_fails(archive.db, "--host", "0.0.0.0", "--port", "0")
    assert (
        refused.returncode == 2 and "--allow-remote" in refused.stderr and "Traceback" not in refused.stderr
    )
    no_token = _serve_fails(archive.db, "--host", "0.0.0.0", "--port", "0", "--allow-remote")
    assert no_token.returncode == 2 and "--token" in no_token.stderr
    missing = _serve_fails(str(Path(archive.db).with_name("missing.db")), "--port", "0")
    assert missing.returncode == 1 and missing.stderr.startswith("Error: no archive at")


@pytest.mark.slow
def test_a_token_is_required_on_every_request(archive: WebArchive) -> None:
    with serve(archive.db, env={"NEWSARCHIVE_TOKEN": "s3cret"}) as running:
        assert get(running.base_url + "/api/stats")[0] == 401
        assert get(running.base_url + "/")[0] == 401
        assert get(running.base_url + "/api/stats?token=wrong")[0] == 401
        assert get(running.base_url + "/api/stats", {"Authorization": "Bearer s3cret"})[0] == 200
        status, headers, _ = get(running.base_url + "/?token=s3cret")
        assert status == 200 and "newsarchive_token=s3cret" in headers["set-cookie"]


@pytest.mark.slow
def test_a_taken_port_is_one_error_line(archive: WebArchive, server: Server) -> None:
    port = server.base_url.rsplit(":", 1)[1]
    taken = _serve_fails(archive.db, "--port", port)
    assert taken.returncode == 1 and taken.stderr.startswith(f"Error: cannot listen on 127.0.0.1:{port}")


@pytest.mark.slow
def test_serve_reads_a_postgresql_archive(pg_url: str) -> None:
    with beacon_server() as beacon:
        archive = build_archive(pg_url, beacon.url)
    with serve(pg_url) as running:
        found = api(running, "/api/search", q="高新区")
        assert {hit["id"] for hit in found["hits"]} == {archive.ids["xunjk"], archive.ids["mirror"]}
        assert found["total"] == 2
        listing = api(running, "/api/search", per_page=3, page=3)
        assert listing["total"] == 7 and len(listing["hits"]) == 1
        versions = api(running, f"/api/articles/{archive.ids['xunjk']}/versions")["versions"]
        assert [v["version"] for v in versions] == [1, 2]
        assert "<svg" in page(running, "/sites")
        assert page(running, f"/articles/{archive.ids['hostile']}").count("<script") == 0
