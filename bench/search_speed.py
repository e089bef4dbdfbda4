"""Search, stats and start-up at scale, each beside a baseline measured in the same run.

    python bench/run.py search --articles 1000000 [--json] [--runs 5]   # SQLite, cached
    python bench/run.py search --articles 200000 --db postgresql+psycopg://postgres@127.0.0.1/big
    python bench/run.py fill --db big.db --articles 1000000 [--up-to]  # just build one

With ``--articles N``, the archive is first filled up to N articles (``bench/fill_archive.py``)
when it holds fewer; without ``--db`` it is a SQLite file in the bench cache
(``$NEWSARCHIVE_BENCH_CACHE``, else ``~/.cache/newsarchive/bench``) named after N and the
schema revision, so a rerun measures the archive built before (and an interrupted build
goes on where it stopped).

In-process search: every query of ``QUERIES`` (1- to 4-character Chinese terms, phrases,
common and rare English words, with and without site and date filters) once to warm
up, then ``--runs`` times; p50/p95/max per kind, through a SQLAlchemy session; on SQLite
also through the standard library's sqlite3 (``storage.reader``, what the read commands use;
the same SQL and results). Baseline: the substring scan the
archive used before the bigram index for short Chinese terms and on PostgreSQL (instr
over title and text, ranked by occurrences before the LIMIT), one run per kind. CLI:
``newsarchive search`` (JSON), ``show`` and ``stats`` in a fresh process, start-up included,
beside ``python -c pass``.
Stats: ``site_stats`` + ``articles_per_day`` as ``stats`` runs them, beside the full
aggregate over ``article``. Results are appended to bench/RESULTS.md with the machine,
date and load average.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from bench.fill_archive import fill
from storage import (
    Article,
    ArticleFilter,
    articles_per_day,
    head_revision,
    open_archive,
    search_page,
    site_stats,
)
from storage.models import SiteDayStats
from storage.query import SQL_INT_MAX
from storage.reader import open_sqlite_reader

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "RESULTS.md"
CLI = [sys.executable, "-m", "crawler"]
CACHE = Path(os.environ.get("NEWSARCHIVE_BENCH_CACHE") or Path.home() / ".cache" / "newsarchive" / "bench")

# (kind, query, filters): the kinds of the target
QUERIES: list[tuple[str, str, dict[str, Any]]] = [
    ("zh 1 char", "中", {}),
    ("zh 1 char", "学", {}),
    ("zh 2 chars", "中国", {}),
    ("zh 2 chars", "经济", {}),
    ("zh 2 chars", "艺术", {}),
    ("zh 3 chars", "研究生", {}),
    ("zh 3 chars", "博物馆", {}),
    ("zh 4 chars", "中华民族", {}),
    ("zh 4 chars", "改革开放", {}),
    ("zh phrase", '"中国 艺术"', {}),
    ("zh traditional", "中國", {}),
    ("en common", "the", {}),
    ("en common", "said", {}),
    ("en rare", "zeppelin", {}),
    ("en rare", "quarantine", {}),
    ("en phrase", '"police said"', {}),
    ("en NEAR", "NEAR(police station)", {}),
    ("site filter", "中国", {"site": "daniel_zh-1"}),
    ("site filter", "the", {"site": "naeb_en-2"}),
    # periods as fractions of the archive's span of publication days (a partial fill spans less)
    ("date filter", "经济", {"since": 1 / 3, "until": 2 / 3}),
    ("date filter", "said", {"since": 5 / 6}),
    ("list", "", {}),
    ("list", "", {"site": "cwced_zh-3"}),
]


def _timed(call: Callable[[], Any]) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def _summary(times: list[float]) -> dict[str, float]:
    ordered = sorted(times)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {"p50_ms": statistics.median(ordered) * 1000, "p95_ms": p95 * 1000, "max_ms": ordered[-1] * 1000}


def _substring_baseline(session: Any, query: str, filters: dict[str, Any]) -> None:
    """What search did before the bigram index for short terms and on PostgreSQL."""
    term = query.strip('"').split()[0] if query.strip() else ""
    if not term or term.startswith("NEAR"):
        return
    if session.get_bind().dialect.name == "sqlite":
        found = (func.instr(func.lower(Article.title), term) > 0) | (
            func.instr(func.lower(Article.text), term) > 0
        )
    else:
        found = Article.title.ilike(f"%{term}%") | Article.text.ilike(f"%{term}%")
    score = (func.length(Article.text) - func.length(func.replace(Article.text, term, ""))) / len(term)
    statement = select(Article.id).where(found).order_by(score.desc(), Article.id).limit(20)
    if filters.get("site"):
        statement = statement.where(Article.site == filters["site"])
    session.execute(statement).all()


def measure(db: str, runs: int) -> dict[str, Any]:
    archive = open_archive(db)
    result: dict[str, Any] = {"db": archive.url, "dialect": archive.dialect}
    with archive.session(read_only=True) as session:
        result["articles"] = int(session.scalar(select(func.count()).select_from(Article)) or 0)
        kinds: dict[str, list[float]] = {}
        baseline: dict[str, list[float]] = {}
        totals: dict[str, str] = {}
        first, last = session.execute(
            select(func.min(SiteDayStats.day), func.max(SiteDayStats.day)).where(SiteDayStats.day != "")
        ).one()
        span = (date.fromisoformat(first), date.fromisoformat(last)) if first else (date.today(),) * 2

        def day(fraction: float) -> date:
            return span[0] + (span[1] - span[0]) * fraction

        reader = open_sqlite_reader(db) if archive.dialect == "sqlite" else None
        stdlib: list[float] = []
        for kind, query, fractions in QUERIES:
            filters = {k: day(v) if isinstance(v, float) else v for k, v in fractions.items()}
            page = search_page(session, query, **filters)  # warm-up
            totals[f"{kind}: {query or '(list)'}"] = page.describe()
            kinds.setdefault(kind, []).extend(
                _timed(lambda q=query, f=filters: search_page(session, q, **f)) for _ in range(runs)
            )
            if reader is not None:  # what the read commands use: the same SQL through sqlite3
                assert search_page(reader, query, **filters) == page
                stdlib.extend(
                    _timed(lambda q=query, f=filters: search_page(reader, q, **f)) for _ in range(runs)
                )
            if kind not in baseline and query:
                baseline[kind] = [_timed(lambda q=query, f=filters: _substring_baseline(session, q, f))]
        result["search"] = {
            kind: {**_summary(times), "baseline_ms": baseline[kind][0] * 1000 if kind in baseline else None}
            for kind, times in kinds.items()
        }
        everything = [t for times in kinds.values() for t in times]
        result["search_all"] = _summary(everything)
        if reader is not None:
            result["search_all_sqlite3"] = _summary(stdlib)
            reader.close()
        result["totals"] = totals
        stats_times = [
            _timed(lambda: (site_stats(session), articles_per_day(session, days=14))) for _ in range(runs)
        ]
        full = ArticleFilter(until=date.max)  # any filter other than a site: the full aggregate
        full_times = [_timed(lambda: (site_stats(session, full), articles_per_day(session, full, days=14)))]
        result["stats"] = {**_summary(stats_times), "baseline_ms": full_times[0] * 1000}
    archive.close()
    if archive.dialect == "sqlite":
        path = Path(db)
        size = sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))
        result["bytes_per_article"] = size / max(result["articles"], 1)
    result["cli"] = _cli(db, runs)
    return result


def _cli(db: str, runs: int) -> dict[str, Any]:
    cpu: dict[str, list[float]] = {}

    def run(name: str, args: list[str]) -> float:
        """Wall time; the CPU time (user + system) goes to ``cpu``: on a busy machine the
        wall time measures the neighbours too."""
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        subprocess.run(args, check=True, capture_output=True)
        wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.setdefault(name, []).append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
        return wall

    python = [run("python -c pass", [sys.executable, "-c", "pass"]) for _ in range(runs)]
    searches = [
        run("newsarchive search", [*CLI, "--db", db, "search", query, "--format", "json"])
        for query in ("中国", "the", "博物馆", "zeppelin", "中")
        for _ in range(max(1, runs // 2))
    ]
    show = [run("newsarchive show", [*CLI, "--db", db, "show", "1"]) for _ in range(runs)]
    stats = [run("newsarchive stats", [*CLI, "--db", db, "stats"]) for _ in range(runs)]
    # the table of stats prints a row per site and per site and day (1,100 lines at 1M, which
    # rich takes about 0.25 s to lay out): JSON shows the start-up and the reading alone
    stats_json = [
        run("newsarchive stats (JSON)", [*CLI, "--db", db, "stats", "--format", "json"]) for _ in range(runs)
    ]
    walls = {
        "python -c pass": python,
        "newsarchive search": searches,
        "newsarchive show": show,
        "newsarchive stats": stats,
        "newsarchive stats (JSON)": stats_json,
    }
    return {
        name: {**_summary(times), "cpu_p95_ms": _summary(cpu[name])["p95_ms"]}
        for name, times in walls.items()
    }


def _load() -> str:
    try:
        return " ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        return "?"


def report(result: dict[str, Any]) -> str:
    def ms(value: float | None) -> str:
        return "-" if value is None else f"{value:.1f} ms"

    lines = [
        "",
        f"## Search, stats and start-up: {result['articles']} articles on {result['dialect']}",
        "",
        f"`bench/run.py search` on {time.strftime('%Y-%m-%d %H:%M')}: {platform.machine()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}, load average {result['load']} "
        f"(before) / {_load()} (after); archive {result['db']}"
        + (f", {result['bytes_per_article']:.0f} bytes per article" if "bytes_per_article" in result else "")
        + ". Baseline: the substring scan that served short Chinese terms and PostgreSQL before.",
        "",
        "| measure | p50 | p95 | max | baseline (same run) |",
        "|---|---|---|---|---|",
        # CLI rows: wall times, then the p95 of the CPU time the process used
    ]
    for kind, row in result["search"].items():
        lines.append(
            f"| search in-process, {kind} | {ms(row['p50_ms'])} | {ms(row['p95_ms'])} | {ms(row['max_ms'])} "
            f"| {ms(row['baseline_ms'])} |"
        )
    row = result["search_all"]
    lines.append(
        f"| **search in-process, all** | {ms(row['p50_ms'])} | **{ms(row['p95_ms'])}** "
        f"| {ms(row['max_ms'])} | |"
    )
    if "search_all_sqlite3" in result:
        row = result["search_all_sqlite3"]
        lines.append(
            f"| **search in-process through sqlite3 (the read commands' path), all** | {ms(row['p50_ms'])} "
            f"| **{ms(row['p95_ms'])}** | {ms(row['max_ms'])} | |"
        )
    row = result["stats"]
    lines.append(
        f"| stats (site_stats + articles_per_day) | {ms(row['p50_ms'])} | **{ms(row['p95_ms'])}** "
        f"| {ms(row['max_ms'])} | {ms(row['baseline_ms'])} (full aggregate) |"
    )
    floor = result["cli"]["python -c pass"]
    for name, row in result["cli"].items():
        lines.append(
            f"| CLI {name} (wall; CPU p95 {ms(row['cpu_p95_ms'])}) | {ms(row['p50_ms'])} "
            f"| **{ms(row['p95_ms'])}** "
            f"| {ms(row['max_ms'])} | {ms(floor['p95_ms'])} (python -c pass; CPU {ms(floor['cpu_p95_ms'])}) |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(
        prog="bench/run.py", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="part", required=True)
    filler = sub.add_parser("fill", help="build a synthetic archive of N articles")
    filler.add_argument("--db", required=True, help="SQLite path or SQLAlchemy URL")
    filler.add_argument("--articles", type=int, required=True)
    filler.add_argument("--sites", type=int, default=100)
    filler.add_argument("--up-to", action="store_true", help="only what the archive lacks to hold N")
    searcher = sub.add_parser("search", help="measure search, stats and start-up on an archive")
    searcher.add_argument("--db", help="SQLite path or SQLAlchemy URL (default: the cached fill)")
    searcher.add_argument("--articles", type=int, help="fill the archive up to this many articles first")
    searcher.add_argument("--runs", type=int, default=5)
    searcher.add_argument("--json", action="store_true", help="print the measures as JSON")
    searcher.add_argument("--no-write", action="store_true", help="do not append to bench/RESULTS.md")
    args = parser.parse_args(argv)
    if args.part == "fill":
        print(json.dumps(fill(args.db, args.articles, sites=args.sites, up_to=args.up_to)))
        return
    if args.db is None and args.articles is None:
        parser.error("search needs --db or --articles")
    if args.db is None:
        CACHE.mkdir(parents=True, exist_ok=True)
        args.db = str(CACHE / f"fill-{args.articles}-{head_revision()}.db")
    if args.articles is not None:
        print(f"filling {args.db} up to {args.articles} articles", file=sys.stderr)
        fill(args.db, args.articles, up_to=True)
    load = _load()
    result = measure(args.db, max(1, min(args.runs, SQL_INT_MAX)))
    result["load"] = load
    text = report(result)
    if not args.no_write:
        with RESULTS.open("a", encoding="utf-8") as out:
            out.write(text)
    print(json.dumps(result, ensure_ascii=False, indent=2) if args.json else text)


if __name__ == "__main__":
    main(sys.argv[1:])
