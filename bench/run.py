"""Speed and memory benchmarks: one command, results written to bench/RESULTS.md.

    .venv/bin/python bench/run.py            # everything (a few minutes on 2 cores)
    .venv/bin/python bench/run.py extract    # one part (extract, import, import-scale, reextract,
                                             # export, crawl)
    .venv/bin/python bench/run.py fill --db big.db --articles 1000000   # a synthetic archive
    .venv/bin/python bench/run.py search --db big.db [--json]          # search, stats, start-up
    .venv/bin/python bench/run.py crawl --json   # the rows as JSON

Every speed figure stands beside its baseline measured in the same run: extraction beside
bare trafilatura (CPU per page, page by page in one process), import beside the code before
the ingest refactor (a ``git worktree`` of it, same venv, same WARC), import into a
100,000-article archive (a cached ``fill``) beside the same import into an empty one, a
crawl beside cores × bare trafilatura and plain Scrapy (+ bare trafilatura) on the same
loopback site, and ``scrapy bench``; ratios are what count on a shared machine.

Each part runs the real code in a fresh process and measures wall time and peak
RSS (``resource.getrusage(RUSAGE_CHILDREN)``). Inputs: the evaluation pages in
../shared/evaldata when present, else the bundled demo site; nothing from the
internet. Numbers depend on the machine; the table records what it was.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EVALDATA = ROOT.parent / "shared" / "evaldata"
RESULTS = ROOT / "bench" / "RESULTS.md"
CLI = [sys.executable, "-m", "crawler"]


def _run(args: list[str], **kwargs: object) -> tuple[float, float, subprocess.CompletedProcess[str]]:
    """Run a child process; return (seconds, peak RSS of that child in MiB, result)."""
    code = (
        "import resource, subprocess, sys, json, time;"
        "t=time.perf_counter();"
        "p=subprocess.run(sys.argv[1:], capture_output=True, text=True);"
        "d=time.perf_counter()-t;"
        "r=resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss;"
        "print(json.dumps({'seconds': d, 'rss_kib': r, 'rc': p.returncode,"
        " 'out': p.stdout[-2000:], 'err': p.stderr[-2000:]}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, check=True, **kwargs
    )  # type: ignore[call-overload]
    info = json.loads(done.stdout)
    result = subprocess.CompletedProcess(args, info["rc"], info["out"], info["err"])
    if info["rc"] != 0:
        raise SystemExit(f"benchmark step failed: {' '.join(args)}\n{info['err']}")
    return info["seconds"], info["rss_kib"] / 1024, result


def bench_extract(rows: list[list[str]]) -> None:
    """CPU per page of extract_article beside bare trafilatura, page by page in one process."""
    script = ROOT / "bench" / "extract_speed.py"
    for dataset in _datasets():
        seconds, rss, done = _run([sys.executable, str(script), str(dataset / "pages.warc.gz")])
        info = json.loads(done.stdout.strip().splitlines()[-1])
        pages = info["pages"]
        rows.append(
            [
                f"extract (1 process) {dataset.name}",
                f"{pages} pages",
                f"{seconds:.1f} s",
                f"{1000 * info['cpu_seconds'] / pages:.0f} ms CPU/page (median {info['median_ms']:.0f})",
                f"bare trafilatura {1000 * info['bare_cpu_seconds'] / pages:.0f} ms CPU/page",
                f"{info['ratio']:.2f}× (target ≤ 1.2×)",
                f"{rss:.0f} MiB",
            ]
        )


def bench_import(rows: list[list[str]]) -> None:
    """`newsarchive import` of one WARC of every evaluation page, this tree's code beside the
    code before the ingest refactor, alternately in the same run (import_speed.py)."""
    script = ROOT / "bench" / "import_speed.py"
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, check=True)
    info = json.loads(done.stdout.strip().splitlines()[-1])
    now, old = info["current"], info["pre_refactor"]
    what = (f"{now['pages']} pages (all {len(info['sets'])} evaluation sets in one WARC), "
            f"{now['articles']} articles")
    before = f"before the ingest refactor ({info['pre_refactor_commit']})"
    rows.append(
        [
            f"import, --workers {info['workers']} (best of {info['rounds']})",
            what,
            f"{now['seconds']:.1f} s",
            f"{now['pages_per_s']:.1f} pages/s; {now['cpu_ms_per_page']:.0f} ms CPU/page (tree)",
            f"{before}: {old['pages_per_s']:.1f} pages/s; {old['cpu_ms_per_page']:.0f} ms CPU/page",
            f"{now['pages_per_s'] / old['pages_per_s']:.2f}× speed, "
            f"{now['cpu_ms_per_page'] / old['cpu_ms_per_page']:.2f}× CPU",
            f"{now['rss_mib']:.0f} MiB (before: {old['rss_mib']:.0f})",
        ]
    )
    rows.append(
        [
            "import: CPU beyond extraction (ingest path, start-up)",
            what,
            "–",
            f"{now['ingest_cpu_ms_per_page']:.0f} ms CPU/page "
            f"({now['cpu_ms_per_page']:.0f} − extract_article {now['extract_cpu_ms_per_page']:.0f})",
            f"{before}: {old['ingest_cpu_ms_per_page']:.0f} ms CPU/page "
            f"({old['cpu_ms_per_page']:.0f} − {old['extract_cpu_ms_per_page']:.0f})",
            f"{now['ingest_cpu_ms_per_page'] / old['ingest_cpu_ms_per_page']:.2f}×"
            if old["ingest_cpu_ms_per_page"] > 0 else "–",
            "–",
        ]
    )


def bench_import_scale(rows: list[list[str]]) -> None:
    """`newsarchive import` of the same WARC into an empty archive and into a copy of a
    100,000-article fill, in the same run (import_scale.py): the ratio is the target."""
    script = ROOT / "bench" / "import_scale.py"
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, check=True)
    info = json.loads(done.stdout.strip().splitlines()[-1])
    empty, filled = info["empty"], info["filled"]
    what = f"{empty['pages']} pages (all {len(info['sets'])} evaluation sets in one WARC)"
    for name, run in (("empty archive", empty), (f"{info['filled_articles']:,}-article archive", filled)):
        rows.append(
            [
                f"import-scale, --workers {info['workers']}: into an {name}" if name.startswith("empty")
                else f"import-scale, --workers {info['workers']}: into a {name}",
                what,
                f"{run['seconds']:.1f} s",
                f"{run['pages_per_s']:.1f} pages/s; {run['cores_busy']:.2f} of {info['cores']} cores busy "
                f"({run['cores_available']:.2f} available to {info['workers']} CPU loops then: "
                f"{run['busy_of_available']:.2f}×); {run['cpu_ms_per_page']:.0f} ms CPU/page (tree)",
                "–" if run is empty else f"empty archive {empty['pages_per_s']:.1f} pages/s (same run)",
                "–" if run is empty else f"{info['ratio']:.2f}× pages/s (target ≥ 0.85×); "
                f"{info['cpu_ratio']:.2f}× CPU/page",
                f"{run['rss_mib']:.0f} MiB",
            ]
        )


def bench_reextract(rows: list[list[str]]) -> None:
    """`newsarchive reextract` of an archive holding every evaluation page, 1 and 2 workers."""
    with tempfile.TemporaryDirectory() as tmp:
        db = str(Path(tmp) / "a.db")
        warcs = [str(dataset / "pages.warc.gz") for dataset in _datasets()]
        subprocess.run([*CLI, "--db", db, "import", *warcs], check=True, capture_output=True)
        for workers in (1, 2):
            seconds, rss, done = _run([*CLI, "--db", db, "reextract", "--workers", str(workers)])
            checked = int(done.stdout.split("Checked ", 1)[1].split(":", 1)[0])
            rows.append(
                [
                    f"reextract, --workers {workers}",
                    f"{checked} articles",
                    f"{seconds:.1f} s",
                    f"{checked / seconds:.1f} articles/s",
                    f"{rss:.0f} MiB",
                ]
            )


def bench_export(rows: list[list[str]]) -> None:
    """Export memory must not grow with the archive: 1x vs 8x the articles."""
    script = ROOT / "bench" / "fill_archive.py"
    for copies in (1, 8):
        with tempfile.TemporaryDirectory() as tmp:
            db = str(Path(tmp) / "a.db")
            subprocess.run([sys.executable, str(script), db, str(copies * 550)], check=True)
            out = Path(tmp) / "out.jsonl"
            seconds, rss, _ = _run([*CLI, "--db", db, "export", "--format", "jsonl", "--out", str(out)])
            count = sum(1 for _ in out.open(encoding="utf-8"))
            size = out.stat().st_size / 2**20
            rows.append(
                [
                    f"export jsonl ({copies}x)",
                    f"{count} articles, {size:.0f} MiB",
                    f"{seconds:.1f} s",
                    f"{count / seconds:.0f} articles/s",
                    f"{rss:.0f} MiB",
                ]
            )


def bench_crawl(rows: list[list[str]]) -> None:
    """Crawls of loopback sites beside cores × bare trafilatura and plain Scrapy (crawl_speed.py)."""
    script = ROOT / "bench" / "crawl_speed.py"
    cores = os.cpu_count() or 1
    for site in ("news", "light"):
        extra = ["--scrapy-bench"] if site == "news" else []
        done = subprocess.run(
            [sys.executable, str(script), "--site", site, *extra], capture_output=True, text=True, check=True
        )
        info = json.loads(done.stdout.strip().splitlines()[-1])
        ours, bare, plain, plain_tr = info["ours"], info["bare"], info["scrapy"], info["scrapy_trafilatura"]
        crawl = f"{ours['pages']} pages, {ours['articles']} articles"
        rows.append(
            [
                f"crawl {site} site, EXTRACT_WORKERS={cores}",
                crawl,
                f"{ours['seconds']:.1f} s",
                f"{ours['pages_per_s']:.1f} pages/s; {ours['cores_busy']:.2f} of {cores} cores busy",
                f"{cores} × bare trafilatura {bare['pages_per_s']:.1f} pages/s",
                f"{ours['pages_per_s'] / bare['pages_per_s']:.2f}× (target ≥ 0.8×)",
                f"{ours['peak_rss_tree_mib']:.0f} MiB (tree)",
            ]
        )
        rows.append(
            [
                f"crawl {site} site, the crawl alone (spider opened to closed, as the baselines are timed)",
                crawl,
                f"{ours['crawl_seconds']:.1f} s",
                f"{ours['crawl_pages_per_s']:.1f} pages/s",
                f"{cores} × bare trafilatura {bare['pages_per_s']:.1f} pages/s; "
                f"Scrapy + trafilatura {plain_tr['pages_per_s']:.1f} pages/s",
                f"{ours['crawl_pages_per_s'] / bare['pages_per_s']:.2f}× (target ≥ 0.8×); "
                f"{ours['crawl_pages_per_s'] / plain_tr['pages_per_s']:.2f}×"
                + (" (target ≥ 0.8×)" if site == "light" else ""),
                "–",
            ]
        )
        rows.append(
            [
                f"crawl {site} site: main process",
                crawl,
                "–",
                f"{ours['main_cpu_ms_per_page']:.1f} ms CPU/page",
                "–",
                "–",
                "–",
            ]
        )
        if "archive_bytes_per_article" in ours:
            rows.append(
                [
                    f"crawl {site} site: archive size",
                    crawl,
                    "–",
                    f"{ours['archive_bytes_per_article']:,.0f} bytes per article (SQLite file + WAL); "
                    f"raw page {ours['raw_bytes_per_page']:,.0f} bytes stored",
                    "–",
                    "–",
                    "–",
                ]
            )
        rows.append(
            [
                f"crawl {site} site beside plain Scrapy + bare trafilatura",
                crawl,
                f"{ours['seconds']:.1f} s",
                f"{ours['pages_per_s']:.1f} pages/s",
                f"Scrapy + trafilatura {plain_tr['pages_per_s']:.1f} pages/s "
                f"(Scrapy alone {plain['pages_per_s']:.1f})",
                f"{ours['pages_per_s'] / plain_tr['pages_per_s']:.2f}×"
                + (" (target ≥ 0.8×)" if site == "light" else ""),
                "–",
            ]
        )
        if "scrapy_bench" in info:
            rows.append(
                [
                    "scrapy bench (Scrapy's own loopback crawl, 10 s)",
                    f"{info['scrapy_bench']['pages']:.0f} pages",
                    f"{info['scrapy_bench']['seconds']:.1f} s",
                    f"{info['scrapy_bench']['pages_per_s']:.1f} pages/s",
                    "–",
                    "–",
                    "–",
                ]
            )


def _datasets() -> list[Path]:
    if not EVALDATA.is_dir():
        raise SystemExit(f"evaluation data not found at {EVALDATA}")
    return sorted(p for p in EVALDATA.iterdir() if (p / "pages.warc.gz").is_file())


PARTS = {
    "extract": bench_extract,
    "import": bench_import,
    "import-scale": bench_import_scale,
    "reextract": bench_reextract,
    "export": bench_export,
    "crawl": bench_crawl,
}


_BEGIN, _END = "<!-- bench/run.py parts: begin -->", "<!-- bench/run.py parts: end -->"


_EARLIER = " † "


def _part_of(benchmark: str) -> str | None:
    """The part a RESULTS.md row came from, by its first cell."""
    if benchmark.startswith("scrapy bench"):
        return "crawl"
    return max((part for part in PARTS if benchmark.startswith(part)), key=len, default=None)


def _earlier_rows(parts: list[str]) -> list[str]:
    """The table rows of the parts not run now, kept from RESULTS.md's block, each marked
    with the run it came from (``† date, load``): running one part keeps the others' rows."""
    old = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else ""
    if _BEGIN not in old or _END not in old:
        return []
    block = old.split(_BEGIN, 1)[1].split(_END, 1)[0]
    machine = next((line for line in block.splitlines() if line.startswith("Machine:")), "")
    found = re.search(r"(\d{4}-\d\d-\d\d \d\d:\d\d); load average ([\d.]+)", machine)
    when = f"{found[1]}, load {found[2]}" if found else "an earlier run"
    kept = []
    for line in block.splitlines():
        if not line.startswith("| ") or line.startswith("| benchmark |"):
            continue
        first, rest = line[2:].split(" | ", 1)
        if _part_of(first) not in (None, *parts):
            mark = "" if _EARLIER in first else f"{_EARLIER}{when}"
            kept.append(f"| {first}{mark} | {rest}")
    return kept


def _write_results(table: str) -> None:
    """Replace this command's block of RESULTS.md; what other benchmarks and notes wrote stays."""
    block = f"{_BEGIN}\n{table}\n{_END}"
    old = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else ""
    if _BEGIN in old and _END in old:
        head, rest = old.split(_BEGIN, 1)
        new = head + block + rest.split(_END, 1)[1]
    else:
        new = block + "\n\n" + old
    RESULTS.write_text(new, encoding="utf-8")


def main() -> None:
    if sys.argv[1:2] in (["fill"], ["search"]):  # parts with options of their own: bench/search_speed.py
        sys.path.insert(0, str(ROOT))
        from bench.search_speed import main as search_main

        search_main(sys.argv[1:])
        return
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("parts", nargs="*", metavar="PART", help=f"one of {', '.join(PARTS)} (default: all)")
    parser.add_argument(
        "--json", action="store_true", help="print the rows as JSON (RESULTS.md is still written)"
    )
    args = parser.parse_args()
    unknown = [part for part in args.parts if part not in PARTS]
    if unknown:
        parser.error(f"unknown part(s): {', '.join(unknown)}")
    rows: list[list[str]] = []
    load_before = os.getloadavg()
    for part in args.parts or PARTS:
        print(f"bench: {part} ...", file=sys.stderr)
        PARTS[part](rows)
    load_after = os.getloadavg()
    header = ["benchmark", "input", "wall time", "throughput", "baseline (same run)", "ratio", "peak RSS"]
    # parts without a baseline of their own report five cells
    rows = [row if len(row) == len(header) else [*row[:4], "–", "–", *row[4:]] for row in rows]
    parts = list(args.parts or PARTS)
    kept = _earlier_rows(parts)
    lines = [
        "# Benchmark results",
        "",
        f"Reproduce with `.venv/bin/python bench/run.py` (parts: {', '.join(parts)}).",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{time.strftime('%Y-%m-%d %H:%M')}; load average {load_before[0]:.1f} before, "
        f"{load_after[0]:.1f} after. Peak RSS is the largest single process (main or worker) "
        "unless marked (tree): the sum over the crawl's processes.",
        *(["Rows marked † are other parts' rows, kept from the earlier run they name."] if kept else []),
        "",
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
        *("| " + " | ".join(row) + " |" for row in rows),
        *kept,
        "",
    ]
    _write_results("\n".join(lines))
    if args.json:
        print(json.dumps([dict(zip(header, row, strict=True)) for row in rows], ensure_ascii=False, indent=1))
    else:
        print("\n".join(lines))


if __name__ == "__main__":
    resource.setrlimit(resource.RLIMIT_NOFILE, resource.getrlimit(resource.RLIMIT_NOFILE))
    main()
