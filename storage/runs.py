"""Runs: one row per crawl, import or reextract, so an operator can see what happened.

A run's counters are kept up to date while it runs (:func:`add_run_progress`, in the
transaction that stores each batch), so a run killed at any moment shows what it stored."""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from datetime import timedelta
from typing import Any, Literal

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from storage.errors import NotFound, wraps_driver_errors
from storage.models import CrawlRun
from storage.query import SQL_INT_MAX
from storage.types import utcnow

RunStatus = Literal["ok", "failed", "interrupted", "running"]
RunKind = Literal["crawl", "import", "reextract"]
COUNTERS = ("pages_fetched", "articles_new", "articles_updated", "articles_unchanged", "articles_duplicate")
# store outcome -> the run's counter column
OUTCOME_COUNTERS = {
    "new": "articles_new",
    "updated": "articles_updated",
    "unchanged": "articles_unchanged",
    "duplicate": "articles_duplicate",
}


@wraps_driver_errors
def start_run(
    session: Session, site: str | None, *, pid: int | None = None, kind: RunKind = "crawl",
    crawl_id: str | None = None,
) -> int:
    now = utcnow()
    run = CrawlRun(
        kind=kind,
        site=site,
        crawl_id=crawl_id,
        started_at=now,
        heartbeat_at=now,
        status="running",
        pid=os.getpid() if pid is None else pid,
        host=socket.gethostname(),
        pages_fetched=0,
        articles_new=0,
        articles_updated=0,
        articles_unchanged=0,
        articles_duplicate=0,
        errors={},
        stats={},
    )
    session.add(run)
    session.flush()
    return run.id


@wraps_driver_errors
def add_run_progress(
    session: Session, run_id: int, outcomes: Mapping[str, int], absolute: Mapping[str, int] | None = None
) -> None:
    """Add a committed batch's store outcomes (``new``, ``updated`` …) to the run's
    counters, and set the counters in ``absolute`` (``pages_fetched``); in the caller's
    transaction, so the record never says more or less than was committed."""
    values: dict[str, Any] = {
        column: getattr(CrawlRun, column) + int(outcomes[outcome])
        for outcome, column in OUTCOME_COUNTERS.items()
        if outcomes.get(outcome)
    }
    values.update({name: int(value) for name, value in (absolute or {}).items() if name in COUNTERS})
    if values:
        values["heartbeat_at"] = utcnow()  # a run that commits is alive
        session.execute(update(CrawlRun).where(CrawlRun.id == run_id).values(**values))


@wraps_driver_errors
def finish_run(
    session: Session,
    run_id: int,
    *,
    status: RunStatus,
    stats: Mapping[str, Any],
    errors: Mapping[str, int],
    reason: str | None = None,
) -> None:
    """Close a run. ``stats`` keys named like the counter columns
    (``pages_fetched``, ``articles_new``, ...) fill them; the whole mapping
    is kept as JSON too."""
    run = session.get(CrawlRun, run_id)
    if run is None:
        raise NotFound(f"no crawl run {run_id}")
    run.status = status
    run.finished_at = utcnow()
    for name in COUNTERS:
        if name in stats:
            setattr(run, name, int(stats[name]))
    run.stats = {key: value for key, value in stats.items() if isinstance(value, int | float | str | bool)}
    run.errors = {str(kind): int(count) for kind, count in errors.items()}
    run.reason = reason
    session.flush()  # a refusal (read-only, full disk) is a StorageError here, not at commit


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# A running crawl refreshes its run's heartbeat_at this often (crawler.extensions) ...
HEARTBEAT_SECONDS = 60.0
# ... and a run whose heartbeat is this old is dead, whichever host it ran on
STALE_AFTER = timedelta(seconds=5 * HEARTBEAT_SECONDS)


@wraps_driver_errors
def heartbeat_run(session: Session, run_id: int) -> None:
    """Say that run ``run_id`` is alive (a crawl calls this every HEARTBEAT_SECONDS)."""
    session.execute(update(CrawlRun).where(CrawlRun.id == run_id).values(heartbeat_at=utcnow()))


@wraps_driver_errors
def mark_dead_runs_interrupted(session: Session, *, stale_after: timedelta = STALE_AFTER) -> int:
    """Runs still "running" whose process is gone become "interrupted"; returns how many.

    A run of this host is dead when its process is; a run of any host is dead when its
    heartbeat is older than ``stale_after`` (the host may be gone for good). A run of
    another host from before heartbeats (none recorded) is left alone."""
    host = socket.gethostname()
    now = utcnow()
    count = 0
    for run in session.scalars(select(CrawlRun).where(CrawlRun.status == "running")):
        gone = run.host == host and (run.pid is None or not _alive(run.pid))
        silent = run.heartbeat_at is not None and now - run.heartbeat_at > stale_after
        if gone or silent:
            run.status = "interrupted"
            run.finished_at = run.finished_at or now
            silence = f"no heartbeat from {run.host} since {run.heartbeat_at:%Y-%m-%d %H:%M:%S} UTC"
            run.reason = run.reason or ("process ended without finishing the run" if gone else silence)
            count += 1
    return count


@wraps_driver_errors
def list_runs(session: Session, site: str | None = None, limit: int = 20) -> list[CrawlRun]:
    """The latest runs first."""
    query = (
        select(CrawlRun)
        .order_by(CrawlRun.started_at.desc(), CrawlRun.id.desc())
        .limit(min(limit, SQL_INT_MAX))
    )
    if site is not None:
        query = query.where(CrawlRun.site == site)
    return list(session.scalars(query))
