"""`newsarchive import` into an empty archive beside the same import into a large one.

    .venv/bin/python bench/import_scale.py [--articles 100000] [--fill PATH] [--rounds 1]

One WARC of every evaluation page (``import_speed.combined_warc``) is imported by this
tree's code (a) into a fresh SQLite archive and (b) into a copy of an archive of
``--articles`` synthetic articles built by ``bench/run.py fill`` (``bench/fill_archive.py``;
built once and cached under ``NEWSARCHIVE_BENCH_CACHE``, or given with ``--fill``; upgraded
to this tree's schema before it is copied), alternately, ``--rounds`` times each; the
fastest round of each counts. The copy is made before the clock starts. Reported: pages/s
of each, their ratio (the target: the large archive within 15 % of the empty one), the
ratio of their CPU per page (the whole process tree's: main process and extraction workers;
on a machine shared with other work, wall time says more about the others than about the
import), and how many cores the import kept busy (that CPU time over the wall time) beside
how many the machine gave, at that moment, to as many pure-CPU loops as there are workers
(``cores_available``, measured just before and after each import, started the same way). On
a shared machine these differ from the cores: Linux's autogroup scheduling gives each
session an equal share, so one busy process of another session leaves the import's session
one core of two, whatever their nice values. ``cores_busy / cores_available`` near 1 means
the import kept busy every core it could have had. The last line of output is JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.import_speed import _MEASURE, _env, combined_warc  # noqa: E402

CACHE = Path(os.environ.get("NEWSARCHIVE_BENCH_CACHE") or Path.home() / ".cache" / "newsarchive" / "bench")


def _articles(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute("SELECT count(*) FROM article").fetchone()[0])


def prepare_fill(path: Path | None, articles: int, tree: Path = ROOT) -> Path:
    """The large archive: ``path``, or the cached fill of ``articles``, built if missing;
    upgraded to this tree's schema (so that no migration runs inside the timed import)."""
    if path is None:
        path = CACHE / f"import-fill-{articles}.db"
        path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or _articles(path) < articles:
        print(f"filling {path} up to {articles} articles", file=sys.stderr)
        subprocess.run([sys.executable, str(ROOT / "bench" / "run.py"), "fill", "--db", str(path),
                        "--articles", str(articles), "--up-to"], check=True, cwd=ROOT, env=_env(ROOT))
    subprocess.run([sys.executable, "-c", "import sys; from storage import open_archive; "
                    "open_archive(sys.argv[1]).close()", str(path)], check=True, cwd=tree, env=_env(tree))
    return path


# ``n`` processes that spin for ``seconds``: how much CPU they got over the wall time
_SPIN = (
    "import resource, subprocess, sys, time;"
    "n, s = int(sys.argv[1]), sys.argv[2];"
    "t = time.perf_counter();"
    "ps = [subprocess.Popen([sys.executable, '-c', 'import sys, time\\n"
    "end = time.perf_counter() + float(sys.argv[1])\\nwhile time.perf_counter() < end: pass', s])"
    " for _ in range(n)];"
    "[p.wait() for p in ps];"
    "r = resource.getrusage(resource.RUSAGE_CHILDREN);"
    "print((r.ru_utime + r.ru_stime) / (time.perf_counter() - t))"
)


def cores_available(processes: int, seconds: float = 5.0) -> float:
    """How many cores ``processes`` pure-CPU loops, started as the import is, get now."""
    done = subprocess.run([sys.executable, "-c", _SPIN, str(processes), str(seconds)],
                          capture_output=True, text=True, check=True)
    return float(done.stdout.strip())


def import_into(db: Path, warc: Path, workers: int, tree: Path = ROOT) -> dict[str, float]:
    before = _articles(db) if db.exists() else 0
    command = [sys.executable, "-m", "crawler", "--db", str(db), "import", "--workers", str(workers),
               str(warc)]
    done = subprocess.run([sys.executable, "-c", _MEASURE, *command], capture_output=True, text=True,
                          check=True, cwd=tree, env=_env(tree))
    info = json.loads(done.stdout)
    if info["rc"] != 0:
        raise SystemExit(f"import into {db} failed:\n{info['err']}")
    pages = int(info["out"].split("Imported ", 1)[1].split(" ", 1)[0])
    return {"seconds": info["seconds"], "cpu": info["cpu"], "rss_mib": info["rss_kib"] / 1024,
            "pages": pages, "archive_before": before, "articles_added": _articles(db) - before}


def measure(
    articles: int, fill: Path | None, rounds: int, workers: int, tree: Path = ROOT
) -> dict[str, object]:
    cores = os.cpu_count() or 1
    big = prepare_fill(fill, articles, tree)
    filled = _articles(big)
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="bench-import-scale-") as tmp:
        directory = Path(tmp)
        warc, sets = combined_warc(directory)
        runs: dict[str, list[dict[str, float]]] = {"empty": [], "filled": []}
        for round_number in range(rounds):
            for name in ("empty", "filled"):
                db = directory / f"{name}-{round_number}.db"
                if name == "filled":
                    shutil.copyfile(big, db)
                    os.sync()  # the copy's dirty pages written now, not during the timed import
                before = cores_available(workers)
                run = import_into(db, warc, workers, tree)
                run["cores_available"] = (before + cores_available(workers)) / 2
                runs[name].append(run)
                db.unlink()
    result: dict[str, object] = {"sets": sets, "workers": workers, "cores": cores, "rounds": rounds,
                                 "filled_articles": filled, "load_before": load_before,
                                 "load_after": os.getloadavg()[0]}
    for name, done in runs.items():
        best = min(done, key=lambda run: run["seconds"])
        result[name] = {**best, "pages_per_s": best["pages"] / best["seconds"],
                        "cores_busy": best["cpu"] / best["seconds"],
                        "busy_of_available": best["cpu"] / best["seconds"] / best["cores_available"],
                        "cpu_ms_per_page": 1000 * best["cpu"] / best["pages"],
                        "all_seconds": [run["seconds"] for run in done]}
    empty, full = result["empty"], result["filled"]
    assert isinstance(empty, dict) and isinstance(full, dict)
    result["ratio"] = full["pages_per_s"] / empty["pages_per_s"]
    # CPU per page depends far less than wall time on what else the machine runs
    result["cpu_ratio"] = empty["cpu_ms_per_page"] / full["cpu_ms_per_page"]
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--articles", type=int, default=100_000, help="articles in the large archive")
    parser.add_argument("--fill", type=Path, help="a filled SQLite archive to copy (default: cached fill)")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--tree", type=Path, default=ROOT,
                        help="run the import of another checkout (an earlier commit, for comparison; "
                        "give it a --fill at that checkout's schema)")
    args = parser.parse_args(argv)
    print(json.dumps(measure(args.articles, args.fill, args.rounds, args.workers, args.tree)))


if __name__ == "__main__":
    main()
