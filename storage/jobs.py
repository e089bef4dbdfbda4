"""Jobs split across processes or machines: who has each part, how far it got.

``reextract --shard K/N`` has one part per shard, ``import --shard`` / ``--claim`` one per
file. A process *claims* a part for its run before working on it: a part another live run
holds is left alone (the archive, not a file on one host, says who has it, so this holds
across machines), a part whose run died is taken over where it stopped, and a finished
part is skipped. The position is advanced in the transaction that commits the work it
covers, so it never says more than was committed.

A run is live while its record says ``running``; ``mark_dead_runs_interrupted`` (called
when any run starts) ends the records of runs whose process died or whose heartbeat stopped.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from storage.errors import wraps_driver_errors
from storage.models import CrawlRun, JobPart
from storage.types import utcnow

__all__ = ["Claim", "advance_part", "claim_part", "finish_part", "job_key"]


def job_key(kind: str, **what: Any) -> str:
    """A stable name for a job: its kind and a short hash of what defines it (filters,
    extractor version, number of shards), so that a re-run of the same command finds the
    parts of the run it resumes, and a different command does not."""
    spec = json.dumps(what, sort_keys=True, default=str, ensure_ascii=False)
    return f"{kind}:{hashlib.sha256(spec.encode()).hexdigest()[:16]}"


@dataclass(frozen=True)
class Claim:
    """The outcome of :func:`claim_part`: ``claimed`` (``position`` says where to resume),
    ``done`` (finished by run ``run_id``), or ``taken`` (live run ``run_id`` on ``host``
    has it)."""

    status: Literal["claimed", "done", "taken"]
    position: int = 0
    run_id: int | None = None
    host: str | None = None
    pid: int | None = None


@wraps_driver_errors
def claim_part(session: Session, job: str, part: str, run_id: int, *, redo: bool = False) -> Claim:
    """Take ``part`` of ``job`` for run ``run_id``, in the caller's transaction (commit it
    at once: the claim is what other processes see). ``redo``: a finished part is started
    again from the beginning (a part a live run holds is still left to it)."""
    try:
        with session.begin_nested():
            session.add(JobPart(job=job, part=part, position=0, done=False, updated_at=utcnow()))
    except IntegrityError:
        pass  # it exists (another process may have inserted it this moment)
    # the row lock orders concurrent claimers; the owner's record is then read in a new
    # statement, which sees a run that committed while this one waited for the lock
    row = session.execute(
        select(JobPart).where(JobPart.job == job, JobPart.part == part)
        .with_for_update().execution_options(populate_existing=True)
    ).scalar_one()
    if row.run_id is not None and row.run_id != run_id and not row.done:
        owner = session.execute(
            select(CrawlRun.status, CrawlRun.host, CrawlRun.pid).where(CrawlRun.id == row.run_id)
        ).one_or_none()
        if owner is not None and owner.status == "running":
            return Claim("taken", row.position, row.run_id, owner.host, owner.pid)
    if row.done and not redo:
        return Claim("done", row.position, row.run_id)
    if row.done:
        row.done, row.position = False, 0
    row.run_id = run_id
    row.updated_at = utcnow()
    session.flush()
    return Claim("claimed", row.position, run_id)


@wraps_driver_errors
def advance_part(session: Session, job: str, part: str, position: int) -> None:
    """Record that ``part`` is done up to ``position``, in the transaction that commits that
    work."""
    session.execute(
        update(JobPart).where(JobPart.job == job, JobPart.part == part)
        .values(position=position, updated_at=utcnow())
    )


@wraps_driver_errors
def finish_part(session: Session, job: str, part: str, position: int | None = None) -> None:
    """Mark ``part`` finished: later claims of it are ``done``."""
    values: dict[str, Any] = {"done": True, "updated_at": utcnow()}
    if position is not None:
        values["position"] = position
    session.execute(update(JobPart).where(JobPart.job == job, JobPart.part == part).values(**values))
