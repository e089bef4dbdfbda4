"""The extraction worker process: ``python -m pipelines.extract_worker``.

Started by :class:`pipelines.extraction_pool.ExtractionPool`. It imports the extraction
library and nothing else of the project (no storage, no SQLAlchemy, no Scrapy), so each
worker costs the memory of the extraction alone; everything heavier that a job needs is
imported by unpickling the job's function.

Protocol, over the worker's stdin and stdout: frames of a 4-byte big-endian length and a
pickle. A job is ``(function, args, kwargs)``; the answer ``(True, result)`` or
``(False, exception)``. End of stdin ends the worker.

Large objects that many jobs share (a site's raw-page dictionary, 110 KB) cross the pipe
once per worker: the pool pickles such an object (see :func:`shared_key`) as a persistent
id, ``("keep", key, pickle)`` the first time a worker gets it and ``("ref", key)`` after;
the worker keeps the last ``SHARED_KEPT`` of them (the pool counts the same way, so both
sides agree on what the worker holds).
"""

from __future__ import annotations

import ctypes
import io
import os
import pickle
import signal
import struct
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping
from typing import IO, Any

from core.fingerprint import content_hash, simhash
from core.items import FetchedPage, PackedPage
from core.memory import release_large_blocks
from core.rawcodec import RawDictionary, body_sha256, pack_body, train_dictionary
from pipelines.extraction import ExtractionResult, extract_article

__all__ = [
    "SHARED_KEPT",
    "SharedObjects",
    "die_with_parent",
    "extract_and_pack",
    "extract_page",
    "learn_dictionary",
    "pack_page",
    "read_frame",
    "shared_key",
    "write_frame",
]

_PR_SET_PDEATHSIG = 1
_LENGTH = struct.Struct(">I")
SHARED_KEPT = 8  # shared objects a worker keeps (a crawl has one site's dictionary)


def shared_key(obj: object) -> Hashable | None:
    """The key under which ``obj`` is sent once per worker, or None (pickled with each job)."""
    if type(obj) is RawDictionary:
        return ("raw-dictionary", obj.dict_id, len(obj.data))
    return None


class SharedObjects:
    """The shared objects one worker holds, oldest first; the pool keeps one per worker with
    the keys only, the worker one with the objects: both forget the oldest beyond
    ``SHARED_KEPT`` in the same order."""

    def __init__(self) -> None:
        self.kept: OrderedDict[Hashable, Any] = OrderedDict()

    def __contains__(self, key: Hashable) -> bool:
        return key in self.kept

    def get(self, key: Hashable) -> Any:
        return self.kept[key]

    def keep(self, key: Hashable, obj: Any = None) -> None:
        self.kept[key] = obj
        while len(self.kept) > SHARED_KEPT:
            self.kept.popitem(last=False)


class _JobUnpickler(pickle.Unpickler):
    def __init__(self, data: bytes, shared: SharedObjects) -> None:
        super().__init__(io.BytesIO(data))
        self.shared = shared

    def persistent_load(self, pid: Any) -> Any:
        if pid[0] == "keep":
            _, key, data = pid
            obj = pickle.loads(data)
            self.shared.keep(key, obj)
            return obj
        if pid[0] == "ref" and pid[1] in self.shared:
            return self.shared.get(pid[1])
        raise pickle.UnpicklingError(f"unknown shared object {pid!r}")


def load_job(data: bytes, shared: SharedObjects) -> Any:
    """A job's frame unpickled, its shared objects taken from (or added to) ``shared``."""
    return _JobUnpickler(data, shared).load()


def extract_page(page: FetchedPage, selectors: Mapping[str, str] | None = None) -> ExtractionResult:
    """Extract one page (runs in a worker process)."""
    return extract_article(
        page.body,
        page.final_url or page.url,
        http_charset=page.encoding,
        content_type=page.headers.get("Content-Type"),
        selectors=dict(selectors) if selectors else None,
    )


def pack_page(page: FetchedPage, text: str, dictionary: RawDictionary | None = None) -> PackedPage:
    """What storage would otherwise compute in the writing process: the body compressed
    (with the site's ``dictionary``), its SHA-256, and the fingerprints of ``text``."""
    return PackedPage(
        body=pack_body(page.body, dictionary),
        sha256=body_sha256(page.body),
        text=text,
        text_hash=content_hash(text),
        simhash=simhash(text),
    )


def extract_and_pack(
    page: FetchedPage,
    selectors: Mapping[str, str] | None = None,
    dictionary: RawDictionary | None = None,
) -> tuple[ExtractionResult, PackedPage | None]:
    """Extract one page and, when it is an article (the pages that get stored), pack it
    for storage while the worker holds it (runs in a worker process)."""
    result = extract_page(page, selectors)
    if not result.is_article or result.article is None:
        return result, None
    return result, pack_page(page, result.article.text or "", dictionary)


def learn_dictionary(samples: list[bytes]) -> RawDictionary | None:
    """A zstd dictionary of a site's raw pages (runs in a worker process: it takes a
    second or two of CPU)."""
    return train_dictionary(samples)


def die_with_parent(parent: int) -> None:
    """End this process when ``parent`` ends, even by SIGKILL. Linux does it for us
    (PR_SET_PDEATHSIG); a watcher thread covers the rest and the moment before the prctl call."""
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:
        os._exit(1)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, name="newsarchive-parent-watch", daemon=True).start()


def read_frame(stream: IO[bytes]) -> bytes | None:
    """One frame's payload; None at the end of the stream (or a frame cut short by it)."""
    head = stream.read(_LENGTH.size)
    if len(head) < _LENGTH.size:
        return None
    size = _LENGTH.unpack(head)[0]
    data = stream.read(size)
    return data if len(data) == size else None


def write_frame(stream: IO[bytes], data: bytes) -> None:
    stream.write(_LENGTH.pack(len(data)))
    stream.write(data)
    stream.flush()


def _heap_trimmer() -> Callable[[], object]:
    """glibc's ``malloc_trim(0)``, or nothing where there is none: after a large page the
    heap keeps its high-water mark, and a worker's RSS would stay at its largest page's."""
    try:
        trim = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):
        return lambda: None
    return lambda: trim(0)


def serve(source: IO[bytes], sink: IO[bytes]) -> None:
    """Run jobs from ``source``, answers to ``sink``, until ``source`` ends."""
    trim = _heap_trimmer()
    shared = SharedObjects()
    while (frame := read_frame(source)) is not None:
        try:
            fn, args, kwargs = load_job(frame, shared)
            answer = (True, fn(*args, **kwargs))
        except Exception as exc:  # noqa: BLE001 - handed back to the caller's future
            answer = (False, exc)
        try:
            data = pickle.dumps(answer, protocol=pickle.HIGHEST_PROTOCOL)
        except (pickle.PicklingError, TypeError, AttributeError) as exc:
            data = pickle.dumps((False, RuntimeError(f"unpicklable result: {exc}")))
        write_frame(sink, data)
        del frame, answer, data
        trim()


def main() -> None:
    parent = int(sys.argv[1]) if len(sys.argv) > 1 else os.getppid()
    die_with_parent(parent)
    release_large_blocks()  # each page's body, trees and pickles go back when freed
    # Ctrl-C reaches the whole process group: the parent decides when its workers stop
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # the channel gets file descriptors of its own: nothing a job (or a C library) prints may
    # corrupt the answers, and nothing may read the jobs
    source = os.fdopen(os.dup(0), "rb")
    sink = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    with open(os.devnull, "rb") as null:
        os.dup2(null.fileno(), 0)
    sys.stdout = sys.stderr
    serve(source, sink)
    # Every answer is written (each frame flushed): the interpreter's teardown would only
    # free the extraction library's objects, 0.2-0.4 s the pool's shutdown (and the crawl's
    # end) waits for, per worker.
    sink.close()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
