"""``crawl`` and ``schedule``: thin commands over crawler.runner / crawler.schedule."""

from __future__ import annotations

import logging
import sys
from collections import defaultdict
from typing import TYPE_CHECKING, Any

import click

from core.errors import ConfigError
from core.keys import DROPPED_PREFIX, ERROR_PREFIX, STAT_INCREMENTAL_SKIPPED, STAT_PAGES, stored_key
from core.urls import site_of_url
from crawler.profiles import SiteProfile, load_profiles, profile_for_urls

if TYPE_CHECKING:
    from crawler.runner import RunResult

# Scrapy, the scheduler and storage are imported by the commands that use them, so that
# `newsarchive --help` and the other commands start without loading them.

CRAWL_EPILOG = """\b
Examples:
  newsarchive crawl --site example            # a profile in sites.toml with enabled = true
  newsarchive crawl --site example --max-pages 200 -s DOWNLOAD_DELAY=2
  newsarchive crawl https://example.com/news/
  newsarchive --config sites.toml crawl --site mysite --site othersite

\b
Settings, lowest to highest precedence: crawler/settings.py < the site profile's
[sites.NAME.settings] < NEWSARCHIVE_* environment < -s / --max-pages.
Exit status: 0 when every run was ok, 1 when a run failed, 2 for a bad config.
"""

SCHEDULE_EPILOG = """\b
Examples:
  newsarchive schedule                 # foreground; Ctrl-C stops cleanly
  newsarchive schedule --once          # for cron or a systemd timer
  newsarchive schedule --once --site example

\b
crontab line:   */5 * * * *  cd /srv/news && newsarchive schedule --once
Cron expressions in profiles ("schedule = '*/30 * * * *'") are read in the profile's
"timezone" (an IANA name such as Asia/Shanghai; UTC when not given).
Exit status of --once: 0 all ok, 1 a crawl failed, 2 a site's profile is broken.
"""


def _profiles_for(obj: Any, urls: tuple[str, ...], sites: tuple[str, ...]) -> list[SiteProfile]:
    profiles = [load_profiles(obj.config).runnable(name) for name in dict.fromkeys(sites)] if sites else []
    by_site: dict[str, list[str]] = defaultdict(list)
    for url in urls:
        profile_for_urls([url])  # validates the URL
        by_site[site_of_url(url)].append(url)
    profiles += [profile_for_urls(group, name) for name, group in by_site.items()]
    return profiles


_crawled: list[bool] = []  # run_crawl has returned in this process


def teardown_skippable() -> bool:
    """Whether this process has crawled and may now end without the interpreter's teardown
    (see crawler/__main__.py): the archive is closed, the runs recorded, the workers gone."""
    return bool(_crawled)


def _summary(result: RunResult) -> str:
    stats = result.stats
    line = (
        f"{result.site}: {result.status}"
        f" - {stats.get(STAT_PAGES, 0)} pages,"
        f" {stats.get(stored_key('new'), 0)} new,"
        f" {stats.get(stored_key('duplicate'), 0)} copies of stored ones,"
        f" {stats.get(stored_key('updated'), 0)} updated,"
        f" {stats.get(stored_key('unchanged'), 0)} unchanged,"
        f" {stats.get(STAT_INCREMENTAL_SKIPPED, 0)} known pages skipped"
    )
    dropped = {k.rsplit("/", 1)[1]: v for k, v in stats.items() if k.startswith(DROPPED_PREFIX)}
    if dropped:
        line += "; not stored: " + ", ".join(f"{k} x{v}" for k, v in sorted(dropped.items()))
    errors = {k.rsplit("/", 1)[1]: v for k, v in stats.items() if k.startswith(ERROR_PREFIX)}
    if errors:
        line += "; errors: " + ", ".join(f"{k} x{v}" for k, v in sorted(errors.items()))
    if result.reason:
        line += f" ({result.reason})"
    return line


@click.command("crawl", epilog=CRAWL_EPILOG)
@click.argument("urls", nargs=-1, metavar="[URL]...")
@click.option("--site", "sites", multiple=True, metavar="NAME", help="A site profile to crawl (repeatable).")
@click.option("--max-pages", type=click.IntRange(min=1), help="Stop each site after this many pages.")
@click.option("-s", "--set", "settings", multiple=True, metavar="NAME=VALUE",
              help="Override a Scrapy setting, as with `scrapy crawl -s` (repeatable).")
@click.pass_obj
def crawl(obj: Any, urls: tuple[str, ...], sites: tuple[str, ...], max_pages: int | None,
          settings: tuple[str, ...]) -> None:
    """Crawl sites (profiles) or start URLs into the archive, in this process."""
    if not urls and not sites:
        raise ConfigError("give a URL or --site NAME (see `newsarchive crawl --help`)")
    profiles = _profiles_for(obj, urls, sites)
    from crawler.runner import parse_overrides, run_crawl
    from storage import open_archive

    overrides = parse_overrides(settings)
    open_archive(obj.db).close()  # an unwritable or too-new archive is a one-line error, now
    logging.getLogger("newsarchive.progress").setLevel(logging.INFO)
    results = run_crawl(profiles, db=obj.db, overrides=overrides, max_pages=max_pages)
    _crawled.append(True)
    for result in results:
        if result.status == "ok":
            click.echo(_summary(result))
        elif result.status == "interrupted":
            click.echo(f"Interrupted: {_summary(result)}", err=True)
        else:  # one line per failed site: what went wrong, not the counts
            click.echo(f"Error: {result.site}: run {result.status}: {result.reason}", err=True)
    if any(r.status == "interrupted" for r in results):
        sys.exit(130)
    if any(r.status != "ok" for r in results):
        sys.exit(1)


@click.command("schedule", epilog=SCHEDULE_EPILOG)
@click.option("--once", is_flag=True, help="Start what is due, wait for it, and exit.")
@click.option("--site", "sites", multiple=True, metavar="NAME", help="Only these sites (repeatable).")
@click.option("--poll", type=click.FloatRange(min=1), default=30.0, show_default=True,
              help="Seconds between checks for due sites.")
@click.pass_obj
def schedule(obj: Any, once: bool, sites: tuple[str, ...], poll: float) -> None:
    """Start each site's crawl, in a fresh process, when its cron schedule is due."""
    from crawler.schedule import Scheduler, select_sites
    from storage import open_archive

    chosen = select_sites(load_profiles(obj.config), sites)  # config errors before the archive
    archive = open_archive(obj.db)
    try:
        scheduler = Scheduler(archive, obj.db, obj.config, chosen,
                              echo=lambda line: click.echo(line, err=True))
        code = scheduler.run_once() if once else scheduler.run_forever(poll)
    finally:
        archive.close()
    sys.exit(code)


COMMANDS: list[click.Command] = [crawl, schedule]
