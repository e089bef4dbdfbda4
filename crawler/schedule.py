"""The scheduler: start each site's crawl when its cron schedule says it is due.

A site is due when its cron expression fired (read in the profile's time zone, UTC by
default) since the start of its last run in
the archive. Each due crawl runs in a fresh process (``python -m crawler crawl --site X``;
Twisted's reactor cannot be restarted) under a per-site lock held for its whole life, so
two crawls of one site never overlap. On PostgreSQL the lock is an advisory lock in the
archive (seen by schedulers and crawlers on every machine); on SQLite an OS file lock. Both
die with their holder, so a killed crawl leaves no stale lock.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Protocol

from crawler.child_process import crawl_command
from crawler.frontier_url import shared_frontier_url
from crawler.profiles import ProfileSet, SiteProfile
from storage import Archive, finish_run, list_runs, start_run
from storage.locks import AdvisoryLock

__all__ = [
    "LOCK_HOLDER_ENV",
    "DueSite",
    "Scheduler",
    "SiteLock",
    "due_sites",
    "lock_held_by_parent",
    "record_failed_run",
    "select_sites",
    "site_lock",
]

logger = logging.getLogger(__name__)


class SiteLock:
    """A non-blocking per-site file lock (one archive, one site), exclusive or shared.

    Shared holders (the workers of one shared crawl) coexist; an exclusive holder (a crawl
    of the site on its own) excludes them all. ``flock`` locks die with their process.
    """

    def __init__(self, path: Path, *, shared: bool = False) -> None:
        self.path = path
        self.shared = shared
        self._fd: int | None = None

    def try_acquire(self) -> bool:
        if self._fd is not None:
            return True
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, (fcntl.LOCK_SH if self.shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def is_held_elsewhere(self) -> bool:
        if self._fd is not None:
            return False
        if not self.try_acquire():
            return True
        self.release()
        return False


class _Lock(Protocol):
    def try_acquire(self) -> bool: ...
    def release(self) -> None: ...
    def is_held_elsewhere(self) -> bool: ...


# Set by the scheduler for its child crawl: "I (this pid) hold your site's lock for you".
LOCK_HOLDER_ENV = "NEWSARCHIVE_LOCK_HOLDER"


def lock_held_by_parent() -> bool:
    """Whether our parent process (a scheduler) holds the site lock for this crawl. The pid
    must be our parent's, so a stray variable in a shell never switches locking off."""
    return os.environ.get(LOCK_HOLDER_ENV) == str(os.getppid())


def site_lock(db: str, site: str, *, shared: bool = False) -> _Lock:
    """The crawl lock of ``site`` in archive ``db`` (a path or URL; file paths are resolved).

    On PostgreSQL it is an advisory lock in the archive itself, so crawlers on several
    machines see it; on SQLite a file lock (the archive is on one machine anyway).
    ``shared=True`` is for the workers of one shared crawl (see crawler/frontier.py).
    """
    if db.startswith("postgresql"):
        return AdvisoryLock(db, f"crawl:{site}", shared=shared)
    key = db if "://" in db else str(Path(db).resolve())
    digest = hashlib.sha1(key.encode()).hexdigest()[:16]
    safe_site = "".join(c if c.isalnum() or c in "-_." else "_" for c in site)
    default = Path(tempfile.gettempdir()) / "newsarchive-locks"
    directory = Path(os.environ.get("NEWSARCHIVE_LOCK_DIR") or default)
    directory.mkdir(parents=True, exist_ok=True)
    return SiteLock(directory / f"{digest}-{safe_site}.lock", shared=shared)


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
    with archive.transaction() as session:
        run_id = start_run(session, site, pid=os.getpid())
        finish_run(session, run_id, status="failed", stats={}, errors={"not_started": 1}, reason=reason)
    return run_id


def select_sites(profiles: ProfileSet, names: Sequence[str] = ()) -> tuple[list[SiteProfile], dict[str, str]]:
    """The named sites (default: every enabled one), as (valid profiles, broken site -> reason).

    An unknown name is a ConfigError: a typo on the command line, not a site to record
    failed runs for.
    """
    chosen = list(dict.fromkeys(names)) if names else profiles.enabled()
    for name in chosen:
        if name not in profiles.broken:
            profiles.runnable(name)  # unknown, or a built-in example nobody enabled
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
        self.locks: dict[str, _Lock] = {}  # held for each running child
        self.failures = 0  # crawls that failed
        self.config_errors = 0  # sites whose profile is broken
        self.busy = 0  # due sites not started: crawled elsewhere right now
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
        """Start a crawl for each due site not already running; returns the sites started.

        The scheduler takes the site's lock itself, re-reads whether the site is still due
        under it (another scheduler may have crawled it since), and hands the lock to its
        child (``LOCK_HOLDER_ENV``) for the crawl's life: two schedulers, on one machine
        or two, never start one site twice.
        """
        started: list[str] = []
        now = now or datetime.now(UTC)
        for due in due_sites(self.archive, self.profiles, now):
            name = due.profile.name
            if name in self.running:
                continue
            lock = site_lock(self.db, name, shared=shared_frontier_url(due.profile.settings) is not None)
            if not lock.try_acquire():
                self.echo(f"{name}: not started: another crawl of this site is running")
                self.busy += 1
                continue
            if not due_sites(self.archive, [due.profile], now):  # crawled meanwhile, elsewhere
                lock.release()
                continue
            env = {**os.environ, "NEWSARCHIVE_PROGRESS": os.environ.get("NEWSARCHIVE_PROGRESS", "log"),
                   LOCK_HOLDER_ENV: str(os.getpid())}
            self.running[name] = subprocess.Popen(crawl_command(self.db, name, config=self.config), env=env)
            self.locks[name] = lock
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
            self.locks.pop(name).release()
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
        if not started and not self.config_errors and not self.busy:
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
