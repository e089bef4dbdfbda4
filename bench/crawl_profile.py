"""Where the crawl's main process spends its CPU, per page, by component.

Runs ``newsarchive crawl`` of one of crawl_speed.py's loopback sites under cProfile in
every thread of the main process, timed by each thread's CPU clock (the reactor, the
writer thread, the pool's sender and receiver threads), then adds each function's own
time (``tottime``) to the component its file belongs to, and prints CPU ms per page: a
table, or JSON with ``--json``. Profiling
slows everything about 1.5-2×; the shares, not the absolute figures, are what it tells.

Usage: crawl_profile.py [--site news|light] [--workers N] [--json] [--save PSTATS] [-s NAME=VALUE]
"""

from __future__ import annotations

import argparse
import json
import os
import pstats
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from crawl_speed import SITES, serve, site_profile  # noqa: E402  (bench/, this script's folder)

# the first pattern (in this order) found in a function's file names its component
COMPONENTS = (
    ("crawler/middlewares.py", "ours: incremental-crawl middlewares"),
    ("crawler/links.py", "ours: link scan"),
    ("crawler/frontier.py", "ours: frontier, canonical fingerprints"),
    ("crawler/fingerprint.py", "ours: frontier, canonical fingerprints"),
    ("core/urls.py", "ours: frontier, canonical fingerprints"),
    ("crawler/safety.py", "ours: safety"),
    ("spiders/", "ours: spider"),
    ("crawler/", "ours: other crawler/"),
    ("pipelines/extraction_pool.py", "pool: submit, send, receive (pickle)"),
    ("pipelines/extract_worker.py", "pool: submit, send, receive (pickle)"),
    ("pipelines/extract.py", "pipelines: extract adapter"),
    ("pipelines/", "pipelines: store, ingest, templates"),
    ("storage/fingerprint.py", "storage: simhash, content hash"),
    ("storage/rawcodec.py", "storage: raw page codec"),
    ("storage/", "storage: repository, models"),
    ("sqlalchemy/", "SQLAlchemy"),
    ("sqlite3", "SQLite driver"),
    ("psycopg", "PostgreSQL driver"),
    ("scrapy/", "Scrapy engine, downloader, middlewares"),
    ("twisted/", "Twisted"),
    ("asyncio/", "asyncio"),
    ("parsel/", "parsel, lxml"),
    ("lxml", "parsel, lxml"),
    ("w3lib/", "w3lib"),
)
BUILTINS = (
    ("zlib", "compress: zlib"),
    ("zstd", "compress: zstd"),
    ("_hashlib", "hashes (sha256, blake2b)"),
    ("blake2b", "hashes (sha256, blake2b)"),
    ("pickle", "pool: submit, send, receive (pickle)"),
    ("dumps", "pool: submit, send, receive (pickle)"),
    ("loads", "pool: submit, send, receive (pickle)"),
    ("sqlite3", "SQLite driver"),
    ("select", "waiting (select/epoll, locks)"),
    ("poll", "waiting (select/epoll, locks)"),
    ("acquire", "waiting (select/epoll, locks)"),
    ("wait", "waiting (select/epoll, locks)"),
    ("read", "pipes, sockets (read/write)"),
    ("write", "pipes, sockets (read/write)"),
    ("recv", "pipes, sockets (read/write)"),
    ("send", "pipes, sockets (read/write)"),
)

_WRAPPER = r"""
import cProfile, os, sys, threading, runpy, time
out = sys.argv.pop(1)
profiles = []
lock = threading.Lock()
def _thread_profile(frame, event, arg):
    profile = cProfile.Profile(time.thread_time)
    with lock:
        profiles.append(profile)
    profile.enable()
threading.setprofile(_thread_profile)
main = cProfile.Profile(time.thread_time)
profiles.append(main)
def _dump():
    for i, p in enumerate(profiles):
        try:
            p.disable()
        except Exception:
            pass
        try:
            p.dump_stats(f"{out}.{i}")
        except (TypeError, ValueError):
            pass
import atexit
atexit.register(_dump)
sys.argv = ["newsarchive", *sys.argv[1:]]
main.enable()
try:
    runpy.run_module("crawler", run_name="__main__")
except SystemExit:
    pass
"""


def component(filename: str, name: str) -> str:
    if filename == "~":  # a builtin: {built-in method zlib.compress}
        for pattern, label in BUILTINS:
            if pattern in name:
                return label
        return "other builtins"
    for pattern, label in COMPONENTS:
        if pattern in filename:
            return label
    return "other Python (stdlib, …)"


def profile_crawl(
    site: str, workers: int, settings: dict[str, str], save: str | None = None
) -> dict[str, object]:
    pages = SITES[site]()
    server = serve(pages)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    with tempfile.TemporaryDirectory() as tmp:
        profile = site_profile(base, Path(tmp))
        db = str(Path(tmp) / "bench.db")
        out = str(Path(tmp) / "prof")
        args = [sys.executable, "-c", _WRAPPER, out, "--db", db, "--config", str(profile), "crawl",
                "--site", "bench", "-s", f"EXTRACT_WORKERS={workers}", "-s", "NEWSARCHIVE_PROGRESS=off"]
        for name, value in settings.items():
            args += ["-s", f"{name}={value}"]
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        done = subprocess.run(args, capture_output=True, text=True, env=env, check=False)
        if done.returncode != 0:
            raise SystemExit(f"crawl failed: {done.stderr[-2000:]}")
        dumps = sorted(Path(tmp).glob("prof.*"))
        stats = pstats.Stats(str(dumps[0]))
        for extra in dumps[1:]:
            stats.add(str(extra))
        if save:
            stats.dump_stats(save)
        from storage import list_runs, open_archive

        archive = open_archive(db)
        with archive.session() as session:
            run = list_runs(session, "bench", limit=1)[0]
        archive.close()
    server.shutdown()
    fetched = max(1, run.pages_fetched)
    by_component: Counter[str] = Counter()
    functions: Counter[str] = Counter()
    cumulative: dict[str, float] = {}
    for (filename, line, name), (_cc, _nc, tottime, cumtime, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        by_component[component(filename, name)] += tottime
        short = f"{filename.split('site-packages/')[-1].replace(str(ROOT) + '/', '')}:{line}({name})"
        functions[short] += tottime
        cumulative[short] = max(cumulative.get(short, 0.0), cumtime)
    total = sum(by_component.values())
    return {
        "site": site,
        "pages": run.pages_fetched,
        "articles": run.articles_new,
        "total_ms_per_page": 1000 * total / fetched,
        "components_ms_per_page": {k: 1000 * v / fetched for k, v in by_component.most_common()},
        "top_functions_ms_per_page": {k: 1000 * v / fetched for k, v in functions.most_common(40)},
        "cumulative_ms_per_page": {
            k: 1000 * v / fetched for k, v in sorted(cumulative.items(), key=lambda kv: -kv[1])[:60]
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--site", choices=sorted(SITES), default="light")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--save", metavar="PATH", help="also keep the merged pstats file")
    parser.add_argument("-s", dest="settings", action="append", default=[], metavar="NAME=VALUE")
    args = parser.parse_args()
    settings = dict(s.split("=", 1) for s in args.settings)
    result = profile_crawl(args.site, args.workers, settings, args.save)
    if args.json:
        print(json.dumps(result))
        return
    print(f"{result['site']} site: {result['pages']} pages, {result['articles']} articles; "
          f"main process {result['total_ms_per_page']:.1f} ms CPU/page under the profiler (all threads)")
    for key in ("components_ms_per_page", "top_functions_ms_per_page", "cumulative_ms_per_page"):
        print(f"\n{key}:")
        for name, ms in result[key].items():  # type: ignore[attr-defined]
            print(f"  {ms:7.2f}  {name}")


if __name__ == "__main__":
    main()
