from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from core.errors import InputError
from core.shard import Shard

if TYPE_CHECKING:
    from rich.console import Console


def table_console() -> Console:
    """A console for printing tables: piped or redirected output is not cut to 80 columns."""
    from rich.console import Console  # only where a table is printed: rich takes a while to import

    console = Console()
    return console if console.is_terminal else Console(width=200)


def warn_unknown_site(session: Any, site: str | None, *, what: str = "articles") -> None:
    """A ``--site`` the archive has no article of finds nothing: say so on stderr, with the
    sites there are (a typo, or the demo's ``demo`` where a README said ``xunjk``)."""
    if not site:
        return
    from storage import archive_summary

    sites = archive_summary(session)
    if site in sites:
        return
    known = ", ".join(sorted(s for s in sites if s)) or "none"
    click.echo(f"Warning: no {what} from site {site!r}; known sites: {known}", err=True)


class ShardParam(click.ParamType):
    """``K/N``: shard K of N (``core.shard``)."""

    name = "K/N"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Shard:
        if isinstance(value, Shard):
            return value
        try:
            return Shard.parse(str(value))
        except InputError as exc:
            self.fail(str(exc), param, ctx)


SHARD = ShardParam()
