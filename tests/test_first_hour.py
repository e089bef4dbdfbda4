"""The first hour of a new user, each surprise of issue 13 as a test: built-in profiles
that ran unasked, `--max-pages` that was neither exact nor reported, and `probe`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from core.errors import ConfigError
from crawler.profiles import load_profiles
from tests.test_crawl_support import cli, news_pages, runs, site_table, write_config


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
