"""A pool of extraction worker processes that die with the process that started them.

Each worker is ``python -m pipelines.extract_worker`` (which imports the extraction library
only: no storage, no SQLAlchemy, no Scrapy), fed through its stdin and answering on its
stdout (the frames of :mod:`pipelines.extract_worker`). Two threads per worker do the
talking — one sends, one receives — so ``submit`` only appends to a queue: the caller (the
crawl's reactor thread) never pickles a page nor waits on a pipe. Each worker has two jobs
in hand at most, so it finds its next page ready when it finishes one, while the rest wait
in the queue for whichever worker is free first.

A worker that dies (out of memory, a crash in a C extension) breaks the pool, as with
``concurrent.futures``: every job in hand or waiting fails with ``BrokenProcessPool`` and
:meth:`ExtractionPool.restart` starts afresh.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import pickle
import queue
import subprocess
import sys
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import IO, Any, TypeVar

from pipelines.extract_worker import SharedObjects, read_frame, shared_key, write_frame

__all__ = ["BrokenProcessPool", "ExtractionPool"]

logger = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")

_PARENT_ENV = "NEWSARCHIVE_POOL_PARENT"
_WORKER_MODULE = "pipelines.extract_worker"
_IN_HAND = 2  # jobs sent to one worker and not yet answered
_LAUNCHER = """#!{python} -S
# newsarchive (pipelines/extraction_pool.py): start an extraction worker that dies with its
# parent. PR_SET_PDEATHSIG survives execve, so it holds from the worker's first instruction,
# not only once its imports are done (seconds on a loaded machine, when a SIGKILL of the
# parent would orphan it).
import ctypes, os, sys
try:
    ctypes.CDLL(None).prctl(1, 9, 0, 0, 0)  # PR_SET_PDEATHSIG, SIGKILL
except (OSError, AttributeError):
    pass
parent = os.environ.get("{env}")
if parent and os.getppid() != int(parent):
    os._exit(1)
os.execv({python!r}, [{python!r}] + sys.argv[1:])
"""


def _launcher() -> str | None:
    """An executable that starts the workers (see ``_LAUNCHER``), kept in the user's cache;
    None where there is no PR_SET_PDEATHSIG (not Linux) or nowhere to keep it."""
    if not sys.platform.startswith("linux"):
        return None
    text = _LAUNCHER.format(python=sys.executable, env=_PARENT_ENV)
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "newsarchive"
    path = cache / f"worker-launcher-{digest}"
    try:
        if not path.is_file() or path.read_text() != text:
            cache.mkdir(parents=True, exist_ok=True)
            partial = path.with_name(f"{path.name}.{os.getpid()}")
            partial.write_text(text)
            partial.chmod(0o700)
            partial.replace(path)
    except OSError:
        return None
    return str(path)


def _worker_env() -> dict[str, str]:
    """The worker's environment: ours, with this project's root first on its path (the
    parent may have found the project through its own ``sys.path``, not the environment)."""
    env = dict(os.environ)
    root = str(Path(__file__).resolve().parents[1])
    paths = [root, *(p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p and p != root)]
    env["PYTHONPATH"] = os.pathsep.join(paths)
    env[_PARENT_ENV] = str(os.getpid())
    return env


_Job = tuple[Future[Any], Callable[..., Any], tuple[Any, ...], dict[str, Any]]


class _JobPickler(pickle.Pickler):
    """Pickles a job; an object with a :func:`shared_key` goes whole only to a worker that
    does not hold it yet (``new`` lists what this job gives the worker to keep)."""

    def __init__(self, out: io.BytesIO, held: SharedObjects) -> None:
        super().__init__(out, protocol=pickle.HIGHEST_PROTOCOL)
        self.held = held
        self.new: list[Any] = []

    def persistent_id(self, obj: Any) -> Any:
        key = shared_key(obj)
        if key is None:
            return None
        if key in self.held or key in self.new:
            return ("ref", key)
        self.new.append(key)
        return ("keep", key, pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL))


def _pickle_job(job: tuple[Any, ...], held: SharedObjects) -> tuple[bytes, list[Any]]:
    out = io.BytesIO()
    pickler = _JobPickler(out, held)
    pickler.dump(job)
    return out.getvalue(), pickler.new


class _Worker:
    """One worker process and the two threads that talk to it."""

    def __init__(self, pool: ExtractionPool, jobs: queue.SimpleQueue[_Job | None]) -> None:
        self.pool = pool
        self.jobs = jobs
        launcher = _launcher()
        python = [launcher] if launcher else [sys.executable]
        self.process = subprocess.Popen(
            [*python, "-m", _WORKER_MODULE, str(os.getpid())],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=_worker_env(),
        )
        assert self.process.stdin is not None and self.process.stdout is not None
        self.stdin: IO[bytes] = self.process.stdin
        self.stdout: IO[bytes] = self.process.stdout
        self.in_hand: deque[Future[Any]] = deque()
        self.held = SharedObjects()  # the keys of the shared objects the worker holds
        self.slots = threading.Semaphore(_IN_HAND)
        self.lock = threading.Lock()
        self.gone = False  # the worker's answers have ended: nothing more is sent to it
        self.stopping = False  # the pool is stopping it: its end is no failure
        self.sender = threading.Thread(target=self._send, name="newsarchive-pool-send", daemon=True)
        self.receiver = threading.Thread(target=self._receive, name="newsarchive-pool-receive", daemon=True)
        self.sender.start()
        self.receiver.start()

    def _send(self) -> None:
        while True:
            self.slots.acquire()
            job = self.jobs.get()
            if job is None:
                break
            future, fn, args, kwargs = job
            if not future.set_running_or_notify_cancel():
                self.slots.release()
                continue
            try:
                data, new = _pickle_job((fn, args, kwargs), self.held)
            except (pickle.PicklingError, TypeError, AttributeError) as exc:
                future.set_exception(exc)
                self.slots.release()
                continue
            with self.lock:
                if self.gone or self.pool.broken:
                    future.set_exception(BrokenProcessPool(self.pool.broken or "the extraction worker ended"))
                    break
                self.in_hand.append(future)
            try:
                write_frame(self.stdin, data)
            except (OSError, ValueError):  # the worker is gone: the receiver fails its jobs
                break
            for key in new:  # the worker keeps them as it reads the job, in this order
                self.held.keep(key)
        try:
            self.stdin.close()
        except OSError:
            pass

    def _receive(self) -> None:
        while (frame := read_frame(self.stdout)) is not None:
            with self.lock:
                future = self.in_hand.popleft()
            self.slots.release()
            try:
                ok, value = pickle.loads(frame)
            except Exception as exc:  # noqa: BLE001 - an answer we cannot read fails its job only
                ok, value = False, exc
            if ok:
                future.set_result(value)
            else:
                future.set_exception(value)
        code = self.process.wait()
        with self.lock:
            self.gone = True
            lost, self.in_hand = list(self.in_hand), deque()
        if not self.stopping:
            self.pool.break_pool(f"an extraction worker ended unexpectedly (exit code {code})")
        for future in lost:
            future.set_exception(BrokenProcessPool("the extraction worker ended with this job in hand"))
        self.slots.release()  # a sender waiting for a slot goes on to find the pool's end

    def stop(self, wait: bool) -> None:
        self.stopping = True
        if not wait:
            self.process.kill()
        self.sender.join()
        self.receiver.join()
        self.process.wait()


class ExtractionPool:
    """Worker processes for extraction (``submit`` and ``map``, like an executor), started
    on first use; see the module's docstring."""

    def __init__(self, workers: int) -> None:
        self.workers = max(1, workers)
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._workers: list[_Worker] = []
        self._start_lock = threading.Lock()
        self.broken: str | None = None

    def start(self) -> None:
        """Start the workers now (e.g. while the first pages download)."""
        with self._start_lock:
            if not self._workers:
                self._workers = [_Worker(self, self._jobs) for _ in range(self.workers)]

    def submit(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> Future[T]:
        """``fn(*args, **kwargs)`` in a worker; ``fn`` must be a module-level function."""
        if self.broken:
            raise BrokenProcessPool(self.broken)
        if not self._workers:
            self.start()
        future: Future[T] = Future()
        self._jobs.put((future, fn, args, kwargs))
        if self.broken:  # broken meanwhile: no worker may be left to take it
            self._fail_waiting(BrokenProcessPool(self.broken))
        return future

    def map(self, fn: Callable[[T], R], items: Iterable[T], *, ahead: int = 0) -> Iterator[R]:
        """``fn(item)`` for each item, in order, at most ``ahead`` (default: 4 per worker) in
        the pool at a time."""
        limit = ahead or 4 * self.workers
        pending: deque[Future[R]] = deque()
        for item in items:
            pending.append(self.submit(fn, item))
            if len(pending) >= limit:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()

    def break_pool(self, reason: str) -> None:
        """A worker died: fail every job, stop the other workers (``restart`` starts anew)."""
        if self.broken:
            return
        self.broken = reason
        logger.debug("Extraction pool broken: %(reason)s", {"reason": reason})
        self._fail_waiting(BrokenProcessPool(reason))
        for worker in self._workers:
            if worker.process.poll() is None:
                worker.process.kill()
        for _ in self._workers:
            self._jobs.put(None)

    def _fail_waiting(self, error: BaseException) -> None:
        while True:
            try:
                job = self._jobs.get_nowait()
            except queue.Empty:
                return
            if job is not None and job[0].set_running_or_notify_cancel():
                job[0].set_exception(error)

    def restart(self) -> None:
        """After a worker died (BrokenProcessPool): the next submit starts a fresh pool."""
        self.shutdown(wait=False)

    def shutdown(self, wait: bool = True) -> None:
        """Stop the workers: after the jobs in hand (``wait``) or at once; jobs not yet
        sent to a worker are cancelled."""
        workers, self._workers = self._workers, []
        for worker in workers:
            worker.stopping = True
        jobs, self._jobs = self._jobs, queue.SimpleQueue()
        while True:
            try:
                job = jobs.get_nowait()
            except queue.Empty:
                break
            if job is not None:
                job[0].cancel()
        for _ in workers:
            jobs.put(None)
        for worker in workers:
            worker.stop(wait)
        self.broken = None

    def __enter__(self) -> ExtractionPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()
