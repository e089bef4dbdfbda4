"""``demo``: crawl the bundled offline sample site into a local archive, then query it."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from core.errors import NewsArchiveError
from crawler.child_process import crawl_command
from crawler.demo import DEMO_ORIGIN, proxy_environment, serve_demo_site, write_demo_profile


@click.command("demo")
@click.option("--query", default="高新区", show_default=True, help="What to search for after the crawl.")
def demo_command(query: str) -> None:
    """Serve a bundled sample news site on 127.0.0.1, crawl it into the archive, query it.

    No network is needed. The archive is the global --db (default ./archive.db).

    \b
    Examples:
      newsarchive demo
      newsarchive --db /tmp/demo.db demo --query police
    """
    from storage import open_archive
    from storage.query import check_query

    obj = click.get_current_context().obj
    check_query(query)  # a query that can never match, and
    open_archive(obj.db).close()  # an unusable or too-new archive: one error line, before serving
    console = Console()
    with serve_demo_site() as base_url, tempfile.TemporaryDirectory() as tmp:
        profile = Path(tmp) / "demo.toml"
        write_demo_profile(profile)
        console.print(
            f"Serving the sample site as [bold]{DEMO_ORIGIN}/[/bold] (through {base_url}); "
            f"crawling it into [bold]{obj.db}[/bold]"
        )
        # A fresh process for the crawl: Twisted's reactor cannot be restarted in one process.
        command = crawl_command(obj.db, "demo", config=profile)
        # its stderr is held back so that a failure is one error line, not the child's and ours
        env = proxy_environment(dict(os.environ), base_url)
        finished = subprocess.run(command, check=False, stderr=subprocess.PIPE, text=True, env=env)
        if finished.returncode != 0:
            errors = [line for line in finished.stderr.splitlines() if line.startswith("Error: ")]
            why = errors[-1].removeprefix("Error: ") if errors else f"exit code {finished.returncode}"
            raise NewsArchiveError(f"the demo crawl failed: {why}")
        sys.stderr.write(finished.stderr)
    _print_summary(console, obj.db, query)


def _print_summary(console: Console, db: str, query: str) -> None:
    from storage import archive_summary, open_archive, search

    archive = open_archive(db)
    try:
        with archive.session() as session:
            summary = archive_summary(session)
            hits = search(session, query, limit=5)
    finally:
        archive.close()
    table = Table("site", "articles", title="Archive")
    for site, count in summary.items():
        table.add_row(site or "-", str(count))
    console.print(table)
    if not hits:
        raise NewsArchiveError(f"the demo archive has no article matching {query!r}")
    console.print(f"Search for [bold]{query}[/bold]:")
    for hit in hits:
        _print_hit(console, hit)
    console.print(f"Try: newsarchive --db {db} search {query} / export --format jsonl / show {hits[0].id}")
    console.print(f"Browse it: newsarchive --db {db} serve, then open http://127.0.0.1:8080/")


def _print_hit(console: Console, hit: Any) -> None:
    date = hit.published_at.date().isoformat() if hit.published_at else "-"
    console.print(f"  #{hit.id} {date} {escape(f'[{hit.site}]')} [bold]{escape(hit.title or '')}[/bold]")
    if getattr(hit, "snippet", None):
        console.print(f"    {hit.snippet}", markup=False, highlight=False)


COMMANDS: list[click.Command] = [demo_command]
