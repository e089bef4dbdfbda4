"""The run record of a job outside Scrapy (``import``, ``reextract``): opened when the job
starts, kept up to date by the ingest path's writer with each committed batch, and closed
with a status: ``ok``, ``failed`` (any article not stored, or an error that stopped the
job) or ``interrupted`` (Ctrl-C, SIGTERM). A SIGKILLed job's record stays ``running``
until the next run marks it ``interrupted``; its counters say what it committed.

While the job runs, a thread refreshes the record's heartbeat every ``HEARTBEAT_SECONDS``,
as a crawl's does: a committed batch refreshes it too, but a batch (or a template refresh)
that takes longer than ``STALE_AFTER`` would otherwise let another process take the job's
parts over (``storage.jobs``) while it is still at work."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from core.errors import NewsArchiveError
from storage import Archive, StorageError, finish_run, mark_dead_runs_interrupted, start_run
from storage.runs import HEARTBEAT_SECONDS, RunKind, RunStatus, heartbeat_run

__all__ = ["RunRecord", "recorded_run"]

logger = logging.getLogger(__name__)


@dataclass
class RunRecord:
    """What the job tells its record before it closes."""

    run_id: int
    stats: dict[str, Any] = field(default_factory=dict)  # pages_fetched, articles_new … and the rest
    errors: dict[str, int] = field(default_factory=dict)  # kind -> count; "storage" fails the run
    failure: str | None = None  # why storing failed, when it did
    problem: str | None = None  # anything else that fails the run (a damaged input file)

    def outcome(self) -> tuple[RunStatus, str | None]:
        failed = self.errors.get("storage", 0)
        if failed:
            detail = f" ({self.failure})" if self.failure else ""
            return "failed", f"cannot write the archive: {failed} articles not stored{detail}"
        if self.problem:
            return "failed", self.problem
        return "ok", None


@contextmanager
def recorded_run(
    archive: Archive, kind: RunKind, site: str | None = None, *, heartbeat_seconds: float = HEARTBEAT_SECONDS
) -> Iterator[RunRecord]:
    """Open a run of ``kind``; close it with the job's outcome, or ``failed`` /
    ``interrupted`` with the reason when the job raises. Its heartbeat is refreshed every
    ``heartbeat_seconds`` meanwhile."""
    with archive.transaction() as session:
        stale = mark_dead_runs_interrupted(session)
        record = RunRecord(start_run(session, site, kind=kind))
    if stale:
        logger.warning("Marked %(n)d run(s) left open by dead processes as interrupted", {"n": stale})
    try:
        with _heartbeat(archive, record.run_id, heartbeat_seconds):
            yield record
    except KeyboardInterrupt:
        _finish(archive, record, "interrupted", "stopped by a signal (Ctrl-C or SIGTERM)")
        raise
    except NewsArchiveError as exc:
        _finish(archive, record, "failed", str(exc))
        raise
    except Exception as exc:
        _finish(archive, record, "failed", f"{type(exc).__name__}: {exc}")
        raise
    status, reason = record.outcome()
    _finish(archive, record, status, reason)


@contextmanager
def _heartbeat(archive: Archive, run_id: int, seconds: float) -> Iterator[None]:
    """Refresh the heartbeat of run ``run_id`` every ``seconds`` in a thread of its own
    (its own short transactions) until the block ends."""
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(seconds):
            try:
                with archive.transaction() as session:
                    heartbeat_run(session, run_id)
            except StorageError as exc:  # the next beat, or the next batch, may get through
                logger.info("Cannot refresh the run's heartbeat: %(error)s", {"error": exc})

    thread = threading.Thread(target=beat, name="newsarchive-heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=10)  # a beat waiting for the write lock ends with it


def _finish(archive: Archive, record: RunRecord, status: RunStatus, reason: str | None) -> None:
    try:
        with archive.transaction() as session:
            finish_run(session, record.run_id, status=status, stats=_counters(record.stats),
                       errors=record.errors, reason=reason)
    except StorageError as exc:
        logger.error("Cannot finish the run record %(id)s: %(error)s", {"id": record.run_id, "error": exc})


def _counters(stats: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in stats.items() if isinstance(v, int | float | str | bool)}
