"""``runs``: the runs recorded in the archive (a read command: it imports neither Scrapy nor
the crawler, see ``crawler.cli``)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import click

from crawler.commands import table_console, warn_unknown_site

if TYPE_CHECKING:
    from storage import CrawlRun

RUNS_EPILOG = """\b
Examples:
  newsarchive runs
  newsarchive runs --site demo --limit 5
  newsarchive runs --format json

\b
The workers of one shared crawl (NEWSARCHIVE_REDIS_URL, see docs/scaling.md) each record a
run; the "crawl" column (crawl_id in JSON) names the shared crawl they served.
"""


def _duration(run: CrawlRun) -> float | None:
    if run.started_at is None or run.finished_at is None:
        return None
    return round((run.finished_at - run.started_at).total_seconds(), 1)


def _run_json(run: CrawlRun) -> dict[str, Any]:
    return {
        "id": run.id,
        "kind": run.kind,
        "site": run.site,
        "started_at": run.started_at.isoformat() if run.started_at else None,
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "duration_seconds": _duration(run),
        "status": run.status,
        "pages_fetched": run.pages_fetched,
        "articles_new": run.articles_new,
        "articles_duplicate": run.articles_duplicate,
        "articles_updated": run.articles_updated,
        "articles_unchanged": run.articles_unchanged,
        "errors": run.errors or {},
        "reason": run.reason,
        "crawl_id": run.crawl_id,
        "host": run.host,
    }


def _format_duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    minutes, secs = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"


@click.command("runs", epilog=RUNS_EPILOG)
@click.option("--site", default=None, help="Only runs of this site.")
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True)
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.pass_obj
def runs(obj: Any, site: str | None, limit: int, fmt: str) -> None:
    """List runs (crawl, import, reextract), latest first: when, how long, status, counts
    and errors by kind. "pages" is pages fetched (crawl) or extracted (import, reextract);
    "copies" are new articles whose text was already stored under another URL."""
    from storage import list_runs, open_archive

    archive = open_archive(obj.db, create=False, reading=True)
    with archive, archive.session(read_only=True) as session:
        rows = [_run_json(run) for run in list_runs(session, site=site, limit=limit)]
        if not rows:
            warn_unknown_site(session, site, what="runs or articles")
    if fmt == "json":
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    from rich.table import Table
    from rich.text import Text

    table = Table()
    # "crawl": the shared crawl (NEWSARCHIVE_REDIS_URL) a run was one worker of
    for column in (
        "id",
        "kind",
        "site",
        "crawl",
        "started",
        "finished",
        "took",
        "status",
        "pages",
        "new",
        "copies",
        "upd",
        "same",
        "errors",
        "reason",
    ):
        table.add_column(column)
    for row in rows:
        errors = ", ".join(f"{k} x{v}" for k, v in row["errors"].items())
        started, finished = ((row[k] or "")[:19].replace("T", " ") for k in ("started_at", "finished_at"))
        cells = (
            str(row["id"]),
            row["kind"],
            row["site"] or "-",
            row["crawl_id"] or "-",
            started,
            finished or "-",
            _format_duration(row["duration_seconds"]),
            row["status"],
            str(row["pages_fetched"]),
            str(row["articles_new"]),
            str(row["articles_duplicate"]),
            str(row["articles_updated"]),
            str(row["articles_unchanged"]),
            errors,
            row["reason"] or "",
        )
        # Text, not markup: a reason naming "[sites.bad]" must not be read as a style tag
        table.add_row(*(Text(cell) for cell in cells))
    table_console().print(table)


COMMANDS: list[click.Command] = [runs]
