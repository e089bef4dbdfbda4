"""`newsarchive import` now beside the code before the ingest refactor, in the same run.

    .venv/bin/python bench/import_speed.py [--rounds 1] [--workers 2]

One WARC holding every page of the evaluation sets (their ``pages.warc.gz`` files, which are
gzip members each, concatenated) is imported into a fresh SQLite archive by this tree's code
and by :data:`PRE_REFACTOR` (checked out into a temporary ``git worktree``, run from there
with the same interpreter and virtualenv), alternately, ``--rounds`` times each; the fastest
round of each counts (the one least disturbed by other load on a shared machine). Reported:
pages/s, CPU per page of the whole process tree (main process and extraction workers), and,
to tell the ingest path from extraction (which changed between the two versions too), the
CPU per page of each version's ``extract_article`` alone, page by page in one process.
The last line of output is JSON.
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
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EVALDATA = ROOT.parent / "shared" / "evaldata"
# The last commit before pipelines/ingest.py existed (its first commit is 640b920, "One
# ingest path"; `git log --diff-filter=A -- pipelines/ingest.py`): import then ran its own
# loop in pipelines/warc_import.py over a forked ProcessPoolExecutor.
PRE_REFACTOR = "ba1bdbf"

# Run in a child: the import as a grandchild, whose CPU (with its workers', reaped by it)
# is in RUSAGE_CHILDREN.
_MEASURE = (
    "import json, resource, subprocess, sys, time;"
    "t = time.perf_counter();"
    "p = subprocess.run(sys.argv[1:], capture_output=True, text=True);"
    "d = time.perf_counter() - t;"
    "r = resource.getrusage(resource.RUSAGE_CHILDREN);"
    "print(json.dumps({'seconds': d, 'cpu': r.ru_utime + r.ru_stime, 'rss_kib': r.ru_maxrss,"
    " 'rc': p.returncode, 'out': p.stdout[-2000:], 'err': p.stderr[-2000:]}))"
)

# extract_article alone over the WARC's HTML pages: CPU per page after one untimed pass
_EXTRACT = """
import json, sys, time
from warcio.archiveiterator import ArchiveIterator
from pipelines.extraction import extract_article
pages = []
with open(sys.argv[1], "rb") as stream:
    for record in ArchiveIterator(stream):
        if record.rec_type == "response":
            pages.append((record.rec_headers.get_header("WARC-Target-URI"), record.content_stream().read()))
for url, body in pages[:20]:
    extract_article(body, url, content_type="text/html")
start = time.process_time()
for url, body in pages:
    extract_article(body, url, content_type="text/html")
print(json.dumps({"pages": len(pages), "cpu": time.process_time() - start}))
"""


def combined_warc(directory: Path) -> tuple[Path, list[str]]:
    if not EVALDATA.is_dir():
        raise SystemExit(f"evaluation data not found at {EVALDATA}")
    sets = sorted(p for p in EVALDATA.iterdir() if (p / "pages.warc.gz").is_file())
    path = directory / "evaldata.warc.gz"
    with path.open("wb") as out:
        for dataset in sets:
            with (dataset / "pages.warc.gz").open("rb") as part:
                shutil.copyfileobj(part, out)
    return path, [dataset.name for dataset in sets]


def _env(tree: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSARCHIVE_")}
    env["PYTHONPATH"] = str(tree)
    return env


def import_once(tree: Path, warc: Path, workers: int, directory: Path) -> dict[str, float]:
    db = directory / f"import-{uuid.uuid4().hex[:8]}.db"
    command = [sys.executable, "-m", "crawler", "--db", str(db), "import", "--workers", str(workers),
               str(warc)]
    done = subprocess.run([sys.executable, "-c", _MEASURE, *command], capture_output=True, text=True,
                          check=True, cwd=tree, env=_env(tree))
    info = json.loads(done.stdout)
    if info["rc"] != 0:
        raise SystemExit(f"import with {tree} failed:\n{info['err']}")
    with sqlite3.connect(db) as conn:
        articles = conn.execute("SELECT count(*) FROM article").fetchone()[0]
    db.unlink()
    pages = int(info["out"].split("Imported ", 1)[1].split(" ", 1)[0])
    return {"seconds": info["seconds"], "cpu": info["cpu"], "rss_mib": info["rss_kib"] / 1024,
            "pages": pages, "articles": articles}


def extract_cpu(tree: Path, warc: Path) -> float:
    done = subprocess.run([sys.executable, "-c", _EXTRACT, str(warc)], capture_output=True, text=True,
                          check=True, cwd=tree, env=_env(tree))
    info = json.loads(done.stdout.strip().splitlines()[-1])
    return float(info["cpu"]) / int(info["pages"])


def measure(rounds: int, workers: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="bench-import-") as tmp:
        directory = Path(tmp)
        warc, sets = combined_warc(directory)
        old = directory / "pre-refactor"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q", str(old), PRE_REFACTOR],
                       check=True, capture_output=True)
        try:
            trees = {"pre_refactor": old, "current": ROOT}
            runs: dict[str, list[dict[str, float]]] = {name: [] for name in trees}
            for _ in range(rounds):
                for name, tree in trees.items():
                    runs[name].append(import_once(tree, warc, workers, directory))
            result: dict[str, object] = {"sets": sets, "workers": workers, "rounds": rounds,
                                         "pre_refactor_commit": PRE_REFACTOR}
            for name, tree in trees.items():
                best = min(runs[name], key=lambda run: run["seconds"])
                pages = best["pages"]
                extract = extract_cpu(tree, warc)
                cpu_page = min(run["cpu"] for run in runs[name]) / pages
                result[name] = {
                    **best,
                    "pages_per_s": pages / best["seconds"],
                    "cpu_ms_per_page": 1000 * cpu_page,
                    "extract_cpu_ms_per_page": 1000 * extract,
                    "ingest_cpu_ms_per_page": 1000 * (cpu_page - extract),
                    "all_seconds": [run["seconds"] for run in runs[name]],
                }
            return result
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(old)],
                           check=False, capture_output=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    print(json.dumps(measure(args.rounds, args.workers)))


if __name__ == "__main__":
    main()
