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
from typing import Any

import click

from core.errors import NewsArchiveError
from crawler.commands import archive, crawl, demo, extract, probe, serve

DEFAULT_DB = "archive.db"

EPILOG = """\b
Examples:
  newsarchive demo
  newsarchive crawl --site example --max-pages 200
  newsarchive crawl https://example.com/news/
  newsarchive probe https://example.com/news/
  newsarchive search 高新区 --since 2022-01-01
  newsarchive export --format jsonl --out articles.jsonl
  newsarchive --db postgresql+psycopg://localhost/news stats
  newsarchive serve
"""


@dataclass
class CliContext:
    db: str
    config: str | None
    verbose: int


class OneLineUsageError(click.ClickException):
    """A usage error shown as one ``Error:`` line (click's own adds the usage
    and a hint on lines of their own); exit code 2 as with click."""

    exit_code = 2


def _one_line_usage(exc: click.UsageError) -> OneLineUsageError:
    message = " ".join(exc.format_message().split())
    if exc.ctx is not None:
        message += f" (see `{exc.ctx.command_path} --help`)"
    return OneLineUsageError(message)


class ArchiveGroup(click.Group):
    """Turns NewsArchiveError into ``Error: <message>`` and exit code 1 (2 for
    configuration), and usage errors into one ``Error:`` line with exit code 2."""

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        try:
            return super().make_context(info_name, args, parent, **extra)
        except click.exceptions.NoArgsIsHelpError:
            raise  # `newsarchive` alone shows the help
        except click.UsageError as exc:
            raise _one_line_usage(exc) from exc

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except click.exceptions.NoArgsIsHelpError:
            raise  # `newsarchive db` alone shows its help
        except click.UsageError as exc:
            raise _one_line_usage(exc) from exc
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


for _module in (crawl, extract, archive, demo, serve, probe):
    for _command in _module.COMMANDS:
        main.add_command(_command)
