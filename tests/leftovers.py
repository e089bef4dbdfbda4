"""No test may leave a process behind: every process the test run starts carries a marker in
its environment (inherited by children and grandchildren, kept by orphans that init adopted),
and at the end of the session any such process still alive fails the run."""

from __future__ import annotations

import os
import time
import uuid
from dataclasses import dataclass

MARKER = "NEWSARCHIVE_TEST_SESSION"
GRACE_SECONDS = 5.0  # a process told to stop in a teardown may take a moment to go
# multiprocessing's helpers of the pytest process itself: they exit when it does
_OWN_HELPERS = ("multiprocessing.forkserver", "multiprocessing.resource_tracker")


@dataclass(frozen=True)
class Leftover:
    pid: int
    ppid: int
    command: str

    def __str__(self) -> str:
        return f"pid {self.pid} (parent {self.ppid}): {self.command[:160]}"


def mark_session() -> str:
    """Put the marker in this process's environment, so that every child inherits it."""
    token = os.environ.setdefault(MARKER, uuid.uuid4().hex)
    return token


def _survivors(token: str) -> list[Leftover]:
    import psutil

    me = os.getpid()
    ancestors = {parent.pid for parent in psutil.Process(me).parents()}  # a pytest run inside a test
    found = []
    for process in psutil.process_iter(["pid", "ppid", "cmdline"]):
        if process.info["pid"] == me or process.info["pid"] in ancestors:
            continue
        try:
            if process.environ().get(MARKER) != token or process.status() == psutil.STATUS_ZOMBIE:
                continue
        except (psutil.AccessDenied, psutil.NoSuchProcess, psutil.ZombieProcess):
            continue
        command = " ".join(process.info["cmdline"] or [])
        if process.info["ppid"] == me and any(helper in command for helper in _OWN_HELPERS):
            continue
        found.append(Leftover(process.info["pid"], process.info["ppid"], command))
    return found


def leftover_processes(token: str, grace: float = GRACE_SECONDS) -> list[Leftover]:
    """Processes of this test session still alive after ``grace`` seconds."""
    deadline = time.monotonic() + grace
    while True:
        found = _survivors(token)
        if not found or time.monotonic() >= deadline:
            return found
        time.sleep(0.2)


def kill(leftovers: list[Leftover]) -> None:
    """Stop them, so that a failed check does not leave them running either."""
    import psutil

    for leftover in leftovers:
        try:
            psutil.Process(leftover.pid).kill()
        except psutil.Error:
            pass
