"""The scheduler: start each site's crawl when its cron schedule says it is due.

A site is due when its cron expression fired (read in the profile's time zone, UTC by
default) since the start of its last run in
the archive. Each due crawl runs in a fresh process (``python -m crawler crawl --site X``;
Twisted's reactor cannot be restarted) and takes a per-site file lock for its whole
life, so two crawls of one site never overlap. The lock is an OS file lock (``filelock``):
the kernel releases it when the holding process dies, so a killed crawl leaves no stale lock.
"""

from __future__ import annotations

import hashlib
import logging
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType

from filelock import FileLock, Timeout

from crawler.profiles import ProfileSet, SiteProfile
from storage import Archive, finish_run, list_runs, start_run

__all__ = ["DueSite", "Scheduler", "SiteLock", "due_sites", "record_failed_run", "select_sites", "site_lock"]

logger = logging.getLogger(__name__)


class SiteLock:
    """A non-blocking per-site lock (one archive, one site)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = FileLock(str(path))

    def try_acquire(self) -> bool:
        try:
            self._lock.acquire(timeout=0)
        except Timeout:
            return False
        return True

    def release(self) -> None:
        if self._lock.is_locked:
            self._lock.release()

    def is_held_elsewhere(self) -> bool:
        if not self.try_acquire():
            return True
        self.release()
        return False


def site_lock(db: str, site: str) -> SiteLock:
    """The lock of ``site`` in archive ``db`` (a path or URL; file paths are resolved)."""
    key = db if "://" in db else str(Path(db).resolve())
    digest = hashlib.sha1(key.encode()).hexdigest()[:16]
    safe_site = "".join(c if c.isalnum() or c in "-_." else "_" for c in site)
    default = Path(tempfile.gettempdir()) / "newsarchive-locks"
    directory = Path(os.environ.get("NEWSARCHIVE_LOCK_DIR") or default)
    directory.mkdir(parents=True, exist_ok=True)
    return SiteLock(directory / f"{digest}-{safe_site}.lock")


@dataclass(frozen=True)
class DueSite:
    profile: SiteProfile
    fired_at: datetime  # the cron fire time that made it due
    last_started_at: datetime | None


def due_sites(archive: Archive, profiles: Sequence[SiteProfile], now: datetime) -> list[DueSite]:
    """Scheduled sites whose cron fired since their last run started."""
    due: list[DueSite] = []
    with archive.session(read_only=True) as session:
        for profile in profiles:
            fired = profile.previous_fire(now)
            if fired is None:
                continue
            last = list_runs(session, site=profile.name, limit=1)
            started = last[0].started_at if last else None
            if started is None or started < fired:
                due.append(DueSite(profile, fired, started))
    return due


def record_failed_run(archive: Archive, site: str, reason: str) -> int:
    """A failed run for a site that could not even start (bad profile, bad cron, bad setting)."""
    with archive.session() as session, session.begin():
        run_id = start_run(session, site, pid=os.getpid())
        finish_run(session, run_id, status="failed", stats={}, errors={"not_started": 1}, reason=reason)
    return run_id


def crawl_command(db: str, config: str | None, site: str) -> list[str]:
    """The command line of a child crawl process."""
    command = [sys.executable, "-m", "crawler", "--db", db]
    if config:
        command += ["--config", config]
    return [*command, "crawl", "--site", site]


def select_sites(profiles: ProfileSet, names: Sequence[str] = ()) -> tuple[list[SiteProfile], dict[str, str]]:
    """The named sites (default: all), as (valid profiles, broken site -> reason).

    An unknown name is a ConfigError: a typo on the command line, not a site to record
    failed runs for.
    """
    chosen = list(dict.fromkeys(names)) if names else sorted({*profiles.profiles, *profiles.broken})
    for name in chosen:
        if name not in profiles.broken:
            profiles.get(name)
    return ([profiles.profiles[n] for n in chosen if n in profiles.profiles],
            {n: profiles.broken[n] for n in chosen if n in profiles.broken})


class Scheduler:
    """Starts due crawls as child processes; ``run_once`` for cron/systemd timers,
    ``run_forever`` for a foreground service."""

    def __init__(self, archive: Archive, db: str, config: str | None,
                 sites: tuple[list[SiteProfile], dict[str, str]],
                 echo: Callable[[str], None] = print) -> None:
        self.archive = archive
        self.db = db
        self.config = config
        self.echo = echo
        self.profiles, self.broken = sites
        self.running: dict[str, subprocess.Popen[bytes]] = {}
        self.failures = 0  # crawls that failed
        self.config_errors = 0  # sites whose profile is broken
        self._stopping = False

    def report_broken(self) -> None:
        """Record a failed run for each site whose profile is broken, and say why."""
        for name, reason in self.broken.items():
            self.echo(f"Error: {name}: not scheduled: {reason}")
            record_failed_run(self.archive, name, reason)
            self.config_errors += 1
        unscheduled = [p.name for p in self.profiles if not p.schedule]
        if unscheduled:
            self.echo(f"No schedule (not started): {', '.join(unscheduled)}")

    def start_due(self, now: datetime | None = None) -> list[str]:
        """Start a crawl for each due site not already running; returns the sites started."""
        started: list[str] = []
        for due in due_sites(self.archive, self.profiles, now or datetime.now(UTC)):
            name = due.profile.name
            if name in self.running or site_lock(self.db, name).is_held_elsewhere():
                continue
            env = {**os.environ, "NEWSARCHIVE_PROGRESS": os.environ.get("NEWSARCHIVE_PROGRESS", "log")}
            self.running[name] = subprocess.Popen(crawl_command(self.db, self.config, name), env=env)
            self.echo(f"{name}: started crawl (schedule {due.profile.schedule!r}, "
                      f"pid {self.running[name].pid})")
            started.append(name)
        return started

    def reap(self) -> None:
        for name, child in list(self.running.items()):
            code = child.poll()
            if code is None:
                continue
            del self.running[name]
            if code == 0:
                self.echo(f"{name}: crawl finished")
            else:
                self.failures += 1
                self.echo(f"{name}: crawl failed (exit code {code}); see `newsarchive runs --site {name}`")

    def wait(self) -> None:
        while self.running:
            time.sleep(0.2)
            self.reap()

    def run_once(self) -> int:
        """Start what is due and wait for it. Exit status: 2 when a site's profile is broken,
        1 when a crawl failed, else 0."""
        self.report_broken()
        started = self.start_due()
        if not started and not self.config_errors:
            self.echo("Nothing due.")
        self.wait()
        return 2 if self.config_errors else 1 if self.failures else 0

    def _on_term(self, signum: int, frame: FrameType | None) -> None:
        self._stopping = True

    def run_forever(self, poll_seconds: float = 30.0) -> int:
        """Loop until SIGINT/SIGTERM; children get SIGTERM and record interrupted runs."""
        self.report_broken()
        previous = signal.signal(signal.SIGTERM, self._on_term)
        try:
            while not self._stopping:
                self.reap()
                self.start_due()
                deadline = time.monotonic() + poll_seconds
                while not self._stopping and time.monotonic() < deadline:
                    time.sleep(0.2)
                    self.reap()
        except KeyboardInterrupt:
            # the children share our terminal's process group and got the SIGINT too; a
            # second signal would make Scrapy stop uncleanly, so just wait for them
            self.wait()
            raise
        finally:
            signal.signal(signal.SIGTERM, previous)
        for child in self.running.values():
            child.send_signal(signal.SIGTERM)
        self.wait()
        return 0
