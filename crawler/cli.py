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
from importlib import import_module
from typing import Any

import click

from core.errors import NewsArchiveError

DEFAULT_DB = "archive.db"

# Each command and the module of crawler.commands that defines it (in its COMMANDS). A
# command's module is imported when that command runs, not at start-up: the crawl
# commands bring Scrapy and Twisted, which a read command (search, show, list, stats,
# runs) has no use for and would spend most of its start-up importing.
COMMAND_MODULES = {
    "crawl": "crawl", "schedule": "crawl", "runs": "runs",
    "db": "archive", "show": "archive", "search": "archive", "list": "archive", "export": "archive",
    "reextract": "archive", "stats": "archive",
    "extract": "extract", "import": "extract", "eval": "extract",
    "demo": "demo", "serve": "serve", "probe": "probe",
}  # fmt: skip

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
    configuration), and usage errors into one ``Error:`` line with exit code 2.
    Commands are found in ``COMMAND_MODULES``, their module imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(COMMAND_MODULES) | set(self.commands))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in COMMAND_MODULES:
            module = import_module(f"crawler.commands.{COMMAND_MODULES[cmd_name]}")
            for command in module.COMMANDS:
                self.add_command(command)
        return self.commands.get(cmd_name)

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

