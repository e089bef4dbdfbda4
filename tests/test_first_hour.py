"""The first hour of a new user, each surprise of issue 13 as a test: built-in profiles
that ran unasked, `--max-pages` that was neither exact nor reported, and `probe`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from core.errors import ConfigError
from crawler.profiles import load_profiles
from tests.test_crawl_support import FAST, cli, news_pages, runs, site_table, synthetic_pages, write_config


def test_builtin_profiles_are_examples_until_enabled(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no ./newsarchive.toml
    builtin = load_profiles()
    assert "xunjk" in builtin.profiles and not builtin.profiles["xunjk"].enabled
    assert builtin.enabled() == []
    with pytest.raises(ConfigError, match=r"built-in example and not enabled.*enabled = true"):
        builtin.runnable("xunjk")
    switch = tmp_path / "on.toml"
    switch.write_text("[sites.xunjk]\nenabled = true\n", encoding="utf-8")
    enabled = load_profiles(switch)
    assert enabled.enabled() == ["xunjk"]
    assert enabled.runnable("xunjk").start_urls == ("https://www.xunjk.com/",)  # the rest as built in
    replaced = write_config(tmp_path / "own.toml", {"xunjk": site_table("https://www.xunjk.com/")})
    assert load_profiles(replaced).runnable("xunjk").enabled  # a table of one's own is enabled
    bad = tmp_path / "bad.toml"
    bad.write_text("[sites.xunjk]\nenabled = 'yes'\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="enabled must be true or false"):
        load_profiles(bad).runnable("xunjk")


@pytest.mark.slow
def test_schedule_once_crawls_only_the_configured_site(
    serve_site: Any, sqlite_db: str, tmp_path: Path
) -> None:
    """First-hour surprise 2: `schedule --once` with a config naming only your site also crawled xunjk."""
    mine = serve_site(news_pages())
    config = write_config(
        tmp_path / "newsarchive.toml", {"mine": site_table(mine.base_url, schedule="0 0 1 1 *")}
    )
    result = cli("--db", sqlite_db, "--config", str(config), "schedule", "--once")
    assert result.returncode == 0, result.stderr
    assert [(r["site"], r["status"]) for r in runs(sqlite_db)] == [("mine", "ok")]
    named = cli("--db", sqlite_db, "--config", str(config), "schedule", "--once", "--site", "xunjk")
    assert named.returncode == 2 and "not enabled" in named.stderr


def _page_hits(site: Any) -> int:
    return sum(n for path, n in site.hits.items() if path != "/robots.txt")


@pytest.mark.slow
def test_max_pages_is_exact_and_reported_for_a_start_url(
    serve_site: Any, sqlite_db: str, tmp_path: Path
) -> None:
    """First-hour surprise 7: `--max-pages 2` fetched 1 page (robots.txt took the other), stored
    nothing and reported a plain ok."""
    site = serve_site(synthetic_pages(12))
    fast = [arg for name, value in FAST.items() for arg in ("-s", f"{name}={value}")]
    done = cli("--db", sqlite_db, "crawl", site.base_url + "/", "--max-pages", "4", *fast, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert _page_hits(site) == 4  # robots.txt is not a page
    assert "stopped at the page limit (4)" in done.stdout
    [run] = runs(sqlite_db)
    assert (
        run["status"] == "ok"
        and run["pages_fetched"] == 4
        and run["reason"] == "stopped at the page limit (4)"
    )
    assert run["articles_new"] >= 1


@pytest.mark.slow
def test_max_pages_is_exact_with_the_redis_frontier(
    serve_site: Any, sqlite_db: str, tmp_path: Path, redis_url: str
) -> None:
    """First-hour surprise 7: with the Redis frontier `--max-pages 3` fetched 10 pages."""
    import redis

    client = redis.Redis.from_url(redis_url)

    def clear() -> None:
        for key in client.scan_iter(match="*page_limit_site*"):
            client.delete(key)

    clear()
    site = serve_site(synthetic_pages(12))
    config = write_config(tmp_path / "sites.toml", {"page_limit_site": site_table(site.base_url)})
    try:
        done = cli("--db", sqlite_db, "--config", str(config), "crawl", "--site", "page_limit_site",
                   "--max-pages", "3", "-s", f"NEWSARCHIVE_REDIS_URL={redis_url}", cwd=tmp_path)  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert _page_hits(site) == 3
        assert "stopped at the page limit (3)" in done.stdout
    finally:
        clear()


def test_probe_sorts_the_links_and_extracts_a_sample(serve_site: Any, tmp_path: Path) -> None:
    """First-hour surprise 10: nothing showed which URLs would count as articles before crawling."""
    site = serve_site(news_pages())
    config = write_config(tmp_path / "sites.toml", {"local": site_table(site.base_url)})
    done = cli("--config", str(config), "probe", site.base_url + "/", "--site", "local", "--format", "json",
               cwd=tmp_path)  # fmt: skip
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    kinds = {link["url"].removeprefix(site.base_url): (link["kind"], link["why"]) for link in report["links"]}
    assert kinds["/news/"][0] == "listing"
    assert kinds["/private/secret.html"] == ("robots", "disallowed by robots.txt")
    assert kinds["http://example.invalid/offsite.html"][0] == "off-site"
    articles = [path for path, (kind, _) in kinds.items() if kind == "article"]
    assert articles and all(r"\d{4}/\d{4}" in kinds[path][1] for path in articles)  # which pattern matched
    assert report["page"]["is_article"] is False  # the home page itself is a listing
    sample = report["samples"][-1]
    assert sample["is_article"] and sample["title"] and len(sample["text"]) > 200
    assert sample["url"].removeprefix(site.base_url) in articles
    assert not list(tmp_path.glob("*.db"))  # nothing stored


def test_probe_without_a_profile_leaves_articles_to_the_classifier(serve_site: Any, tmp_path: Path) -> None:
    site = serve_site(news_pages())
    done = cli("probe", site.base_url + "/news/", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "left to the classifier" in done.stdout and "Sample:" in done.stdout
    assert "is an article" in done.stdout and "title:" in done.stdout


@pytest.mark.slow
def test_probe_fetches_only_http(tmp_path: Path) -> None:
    refused = cli("probe", "file:///etc/passwd", cwd=tmp_path)
    assert refused.returncode == 2 and refused.stderr.startswith("Error: not an http(s) URL")
    dead = cli("probe", "http://127.0.0.1:9/", cwd=tmp_path)
    assert (
        dead.returncode == 1
        and dead.stderr.startswith("Error: could not fetch")
        and "Traceback" not in dead.stderr
    )


@pytest.mark.slow
def test_an_unknown_site_filter_is_warned(tmp_path: Path) -> None:
    """First-hour surprise 8: `--site xunjk` on the demo archive found nothing, silently."""
    from click.testing import CliRunner

    from crawler.cli import main
    from tests.web_archive import build_archive

    archive = build_archive(tmp_path / "archive.db", "http://127.0.0.1:9")
    runner = CliRunner()
    for command in (["export", "--format", "jsonl"], ["stats"], ["runs"], ["reextract"]):
        unknown = runner.invoke(main, ["--db", archive.db, *command, "--site", "xunjk"])
        assert unknown.exit_code == 0, unknown.output
        assert (
            "Warning: no" in unknown.stderr
            and "site 'xunjk'; known sites: demo, hostile, mirror" in unknown.stderr
        )
        known = runner.invoke(main, ["--db", archive.db, *command[:1], "--site", "mirror"])
        assert "Warning" not in known.stderr, command
