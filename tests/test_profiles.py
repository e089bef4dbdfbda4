"""Site profiles (TOML) and the settings precedence they take part in."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from core.errors import ConfigError
from crawler.profiles import SiteProfile, get_profile, load_profiles, profile_for_urls
from crawler.runner import ENV_PRIORITY, apply_site_settings, base_settings, parse_overrides


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "newsarchive.toml"
    path.write_text(text, encoding="utf-8")
    return path


GOOD = r"""
[sites.local]
start_urls = ["http://127.0.0.1:8000/"]
article_patterns = ['/\d{4}/\d{4}/\d+\.html$']
feeds = ["http://127.0.0.1:8000/rss.xml"]
sitemaps = []
max_pages = 50
schedule = "*/30 * * * *"
timezone = "Asia/Shanghai"
revisit_fresh_days = 1
revisit_after_days = "never"
[sites.local.selectors]
title = "h1.title"
[sites.local.settings]
DOWNLOAD_DELAY = 3
"""


def test_builtin_xunjk_profile() -> None:
    profile = get_profile("xunjk")
    assert profile.start_urls == ("https://www.xunjk.com/",)
    assert profile.allowed_domains == ("xunjk.com",)
    assert profile.is_article_url("https://www.xunjk.com/2023/0518/123456.html")
    assert not profile.is_article_url("https://www.xunjk.com/news/")
    assert profile.max_pages == 5000


def test_user_profile_reads_every_key(tmp_path: Path) -> None:
    profile = get_profile("local", write(tmp_path, GOOD))
    assert profile.allowed_domains == ("127.0.0.1",)  # from the start URLs when not given
    assert profile.feeds == ("http://127.0.0.1:8000/rss.xml",)
    assert profile.selectors == {"title": "h1.title"}
    assert profile.revisit_fresh_days == 1.0 and profile.revisit_after_days is None
    assert profile.schedule == "*/30 * * * *" and profile.timezone == "Asia/Shanghai"
    assert profile.settings == {"DOWNLOAD_DELAY": 3}
    # built-ins stay available next to the user's sites
    assert "xunjk" in load_profiles(tmp_path / "newsarchive.toml").profiles


def test_newsarchive_toml_in_working_directory_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, GOOD)
    monkeypatch.chdir(tmp_path)
    assert get_profile("local").max_pages == 50


def daily_at_eight(zone: str = "UTC") -> SiteProfile:
    return SiteProfile(name="s", start_urls=("http://s.example/",), schedule="0 8 * * *", timezone=zone)


def test_schedule_is_read_in_the_sites_time_zone() -> None:
    now = datetime(2026, 11, 26, 0, 30, tzinfo=UTC)  # 08:30 in Beijing
    beijing = daily_at_eight("Asia/Shanghai").previous_fire(now)
    assert beijing is not None and beijing.astimezone(UTC) == datetime(2026, 11, 26, 0, 0, tzinfo=UTC)
    utc = daily_at_eight().previous_fire(now)  # the default: 08:00 UTC, yesterday
    assert utc is not None and utc.astimezone(UTC) == datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
    # a zone with summer time: 08:00 in New York is 12:00 UTC in July, 13:00 in January
    july = daily_at_eight("America/New_York").previous_fire(datetime(2026, 7, 1, 18, tzinfo=UTC))
    january = daily_at_eight("America/New_York").previous_fire(datetime(2026, 1, 15, 18, tzinfo=UTC))
    assert july is not None and july.astimezone(UTC).hour == 12
    assert january is not None and january.astimezone(UTC).hour == 13


def test_no_patterns_leaves_the_decision_to_the_classifier() -> None:
    profile = profile_for_urls(["https://www.example.com/news/"])
    assert profile.name == "example.com"
    assert profile.allowed_domains == ("example.com",)
    assert profile.is_article_url("https://example.com/anything") is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[sites.a\nstart_urls = 1", "malformed TOML"),
        ('[sites.a]\nstart_urls = ["http://x.org/"]\nstart_url = "x"', "unknown key 'start_url'"),
        ('[sites.a]\nstart_urls = "http://x.org/"', "start_urls must be a list of strings"),
        ('[sites.a]\nstart_urls = ["ftp://x.org/"]', "not an http(s) URL"),
        ('[sites.a]\nstart_urls = ["http://x.org/"]\narticle_patterns = ["(unclosed"]', "bad regex"),
        ('[sites.a]\nstart_urls = ["http://x.org/"]\nschedule = "every hour"', "bad cron expression"),
        ('[sites.a]\nstart_urls = ["http://x.org/"]\nmax_pages = -1', "max_pages must be a positive integer"),
        ('[sites.a]\nstart_urls = ["http://x.org/"]\ntimezone = "Beijing"', "unknown time zone 'Beijing'"),
        ('[sites.a]\nstart_urls = ["http://x.org/"]\ntimezone = 8', "must be a time zone name"),
        (
            '[sites.a]\nstart_urls = ["http://x.org/"]\n[sites.a.selectors]\nheadline = "h1"',
            "unknown selector",
        ),
        ("[sites.a]\nfeeds = []", "needs start_urls, feeds or sitemaps"),
        ('[sites.a]\nstart_urls = ["http://x.org/"]\n[sites.a.settings]\ndownload_delay = 2', "UPPER_CASE"),
    ],
)
def test_bad_profiles_are_one_line_config_errors(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        get_profile("a", path)
    assert message in str(caught.value)
    assert str(path) in str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_broken_site_does_not_hide_the_others(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD + '\n[sites.bad]\nstart_urls = ["http://x.org/"]\nschedule = "nope"\n')
    profiles = load_profiles(path)
    assert profiles.get("local").name == "local"
    assert "[sites.bad]" in profiles.broken["bad"]


def test_unknown_site_and_missing_config(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unknown site 'nope'.*xunjk"):
        get_profile("nope")
    with pytest.raises(ConfigError, match="config file not found"):
        load_profiles(tmp_path / "missing.toml")


def test_settings_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """defaults < site profile < environment < command line."""
    profile = get_profile("local", write(tmp_path, GOOD))
    settings = base_settings(db="a.db", overrides={"CONCURRENT_REQUESTS": "3"})
    monkeypatch.setenv("NEWSARCHIVE_CONTACT", "ops@example.org")
    monkeypatch.setenv("NEWSARCHIVE_EXTRACT_WORKERS", "5")
    apply_site_settings(settings, profile)
    assert settings.getbool("ROBOTSTXT_OBEY") and settings.getbool("AUTOTHROTTLE_ENABLED")  # defaults
    assert settings.getfloat("DOWNLOAD_DELAY") == 3  # profile over default
    assert settings.getint("NEWSARCHIVE_MAX_PAGES") == 50  # profile max_pages
    assert settings.getint("EXTRACT_WORKERS") == 5  # environment over default
    assert settings.getpriority("EXTRACT_WORKERS") == ENV_PRIORITY
    assert settings.getint("CONCURRENT_REQUESTS") == 3  # command line
    assert settings["USER_AGENT"].startswith("newsarchive/") and "ops@example.org" in settings["USER_AGENT"]
    assert settings["NEWSARCHIVE_DB"] == "a.db"

    cli = base_settings(db=None, overrides={"DOWNLOAD_DELAY": "0"}, max_pages=7)
    apply_site_settings(cli, profile)
    assert cli.getfloat("DOWNLOAD_DELAY") == 0  # command line over profile
    assert cli.getint("NEWSARCHIVE_MAX_PAGES") == 7


def test_bad_override_is_a_config_error() -> None:
    assert parse_overrides(["USER_AGENT=x=y"]) == {"USER_AGENT": "x=y"}
    with pytest.raises(ConfigError, match="unknown setting"):
        parse_overrides(["A=1"])
    # a setting of one's own is accepted once listed in NEWSARCHIVE_CUSTOM_SETTINGS
    custom = parse_overrides(["NEWSARCHIVE_CUSTOM_SETTINGS=A,B", "A=1", "B=x=y"])
    assert custom == {"NEWSARCHIVE_CUSTOM_SETTINGS": "A,B", "A": "1", "B": "x=y"}
    with pytest.raises(ConfigError, match="NAME=VALUE"):
        parse_overrides(["DOWNLOAD_DELAY"])


def test_settings_of_ones_own_are_listed_in_the_profile(tmp_path: Path) -> None:
    config = tmp_path / "sites.toml"
    config.write_text(
        '[sites.x]\nstart_urls = ["http://127.0.0.1:9/"]\n[sites.x.settings]\n'
        'NEWSARCHIVE_CUSTOM_SETTINGS = ["MYEXT_LEVEL"]\nMYEXT_LEVEL = 3\n'
        'DOWNLOADER_MIDDLEWARES = {"a.B" = 5}\n'
        '[sites.y]\nstart_urls = ["http://127.0.0.1:9/"]\n[sites.y.settings]\nMYEXT_LEVEL = 3\n',
        encoding="utf-8",
    )
    profiles = load_profiles(config)
    assert profiles.get("x").settings["MYEXT_LEVEL"] == 3
    with pytest.raises(ConfigError, match=r"\[sites.y\]: settings.MYEXT_LEVEL: unknown setting"):
        profiles.get("y")


def test_every_setting_the_code_reads_is_a_known_setting() -> None:
    """The check at load must not refuse a setting the project itself reads."""
    import re

    from crawler.setting_check import known_settings

    root = Path(__file__).parent.parent
    read = set()
    for package in ("core", "crawler", "spiders", "pipelines", "storage"):
        for path in (root / package).rglob("*.py"):
            read |= set(re.findall(r"settings\.get\w*\(\s*\"([A-Z][A-Z0-9_]+)\"", path.read_text("utf-8")))
    assert read and read <= known_settings(), read - known_settings()


def test_allowed_domains_may_name_a_port(tmp_path: Path) -> None:
    config = tmp_path / "sites.toml"
    config.write_text('[sites.x]\nstart_urls = ["http://127.0.0.1:8080/"]\n'
                      'allowed_domains = ["example.com", "127.0.0.1:8081", "[::1]:8082"]\n', encoding="utf-8")
    assert load_profiles(config).get("x").allowed_domains == ("example.com", "127.0.0.1:8081", "[::1]:8082")
    config.write_text('[sites.x]\nstart_urls = ["http://a.example/"]\nallowed_domains = ["a.example:http"]\n',
                      encoding="utf-8")
    with pytest.raises(ConfigError, match="allowed_domains"):
        load_profiles(config).get("x")


def test_every_range_names_a_known_setting_whose_default_lies_in_it() -> None:
    from crawler.setting_check import RANGES, _defaults, check_setting

    defaults = _defaults()
    assert set(RANGES) <= set(defaults), set(RANGES) - set(defaults)
    for name in RANGES:
        assert check_setting(name, defaults[name]) is None, name
    # each bound is enforced: the value just under it is refused, the bound itself taken
    for name, (least, whole) in RANGES.items():
        below = least - 1 if whole else -0.5
        assert check_setting(name, below) is not None, name
        if least >= 1 or least == 0:
            assert check_setting(name, int(least)) is None, name
