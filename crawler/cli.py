"""The ``newsarchive`` command line: a thin layer over the library.

Each command module in ``crawler.commands`` exposes ``COMMANDS``; this module
only builds the group, the global options, and turns the project's errors into
a one-line message and a non-zero exit.
"""

from __future__ import annotations

import logging
import os
import sys
from dataclasses import dataclass

import click

from crawler.commands import archive, crawl, demo, extract
from crawler.errors import NewsArchiveError

DEFAULT_DB = "archive.db"

EPILOG = """\b
Examples:
  newsarchive demo
  newsarchive crawl --site xunjk --max-pages 200
  newsarchive crawl https://example.com/news/
  newsarchive search 高新区 --since 2022-01-01
  newsarchive export --format jsonl --out articles.jsonl
  newsarchive --db postgresql+psycopg://localhost/news stats
"""


@dataclass
class CliContext:
    db: str
    config: str | None
    verbose: int


class ArchiveGroup(click.Group):
    """Turns NewsArchiveError into ``Error: <message>`` and exit code 1."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except NewsArchiveError as exc:
            click.echo(f"Error: {exc}", err=True)
            sys.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("Interrupted.", err=True)
            sys.exit(130)


@click.group(cls=ArchiveGroup, epilog=EPILOG, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--db",
    envvar="NEWSARCHIVE_DB",
    default=DEFAULT_DB,
    show_default=True,
    help="Archive: a SQLAlchemy URL or a SQLite file path. Env: NEWSARCHIVE_DB.",
)
@click.option(
    "--config",
    type=click.Path(dir_okay=False),
    default=None,
    help="Site profiles TOML file (default: ./newsarchive.toml if present).",
)
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
@click.version_option(package_name="newsarchive")
@click.pass_context
def main(ctx: click.Context, db: str, config: str | None, verbose: int) -> None:
    """newsarchive: crawl news sites into a clean, searchable, versioned archive."""
    level = {0: logging.WARNING, 1: logging.INFO}.get(verbose, logging.DEBUG)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    ctx.obj = CliContext(db=db, config=config or os.environ.get("NEWSARCHIVE_CONFIG"), verbose=verbose)


for _module in (crawl, extract, archive, demo):
    for _command in _module.COMMANDS:
        main.add_command(_command)
