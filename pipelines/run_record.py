"""The run record of a job outside Scrapy (``import``, ``reextract``): opened when the job
starts, kept up to date by the ingest path's writer with each committed batch, and closed
with a status: ``ok``, ``failed`` (any article not stored, or an error that stopped the
job) or ``interrupted`` (Ctrl-C, SIGTERM). A SIGKILLed job's record stays ``running``
until the next run marks it ``interrupted``; its counters say what it committed."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from core.errors import NewsArchiveError
from storage import Archive, StorageError, finish_run, mark_dead_runs_interrupted, start_run
from storage.runs import RunKind, RunStatus

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
def recorded_run(archive: Archive, kind: RunKind, site: str | None = None) -> Iterator[RunRecord]:
    """Open a run of ``kind``; close it with the job's outcome, or ``failed`` /
    ``interrupted`` with the reason when the job raises."""
    with archive.transaction() as session:
        stale = mark_dead_runs_interrupted(session)
        record = RunRecord(start_run(session, site, kind=kind))
    if stale:
        logger.warning("Marked %(n)d run(s) left open by dead processes as interrupted", {"n": stale})
    try:
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


def _finish(archive: Archive, record: RunRecord, status: RunStatus, reason: str | None) -> None:
    try:
        with archive.transaction() as session:
            finish_run(session, record.run_id, status=status, stats=_counters(record.stats),
                       errors=record.errors, reason=reason)
    except StorageError as exc:
        logger.error("Cannot finish the run record %(id)s: %(error)s", {"id": record.run_id, "error": exc})


def _counters(stats: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in stats.items() if isinstance(v, int | float | str | bool)}
