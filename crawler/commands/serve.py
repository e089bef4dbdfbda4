"""``serve``: the read-only web UI and JSON API over the archive."""

from __future__ import annotations

import ipaddress
import os
import socket
from typing import Any

import click

from core.errors import ConfigError, NewsArchiveError

TOKEN_ENV = "NEWSARCHIVE_TOKEN"


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _bind(host: str, port: int) -> socket.socket:
    """Bind before the server starts, so that a taken port is one error line."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise ConfigError(f"cannot resolve --host {host}: {exc.strerror}") from exc
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError as exc:
        sock.close()
        raise NewsArchiveError(f"cannot listen on {host}:{port}: {exc.strerror}") from exc
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8080,
    show_default=True,
    help="Port to listen on (0: any free port).",
)
@click.option(
    "--allow-remote", is_flag=True, help="Allow a --host other than loopback (then a --token is required)."
)
@click.option(
    "--token",
    default=None,
    metavar="TOKEN",
    help=f"Require this token on every request (Authorization: Bearer or ?token=). Env: {TOKEN_ENV}.",
)
@click.pass_obj
def serve(obj: Any, host: str, port: int, allow_remote: bool, token: str | None) -> None:
    """Serve a read-only web UI and JSON API over the archive.

    Pages: / (search), /articles/ID, /articles/ID/raw (the archived page,
    inert), /sites, /runs. JSON: /api/search, /api/articles/ID,
    /api/articles/ID/versions, /api/sites, /api/runs, /api/stats; the
    OpenAPI document is /api/openapi.json. Ctrl-C stops it.

    \b
    Examples:
      newsarchive serve
      newsarchive --db /srv/news/archive.db serve --port 9000
      NEWSARCHIVE_TOKEN=s3cret newsarchive serve --host 0.0.0.0 --allow-remote
    """
    token = token or os.environ.get(TOKEN_ENV) or None
    if not _is_loopback(host):
        if not allow_remote:
            raise ConfigError(
                f"--host {host} is reachable from other machines: add --allow-remote and a --token"
            )
        if not token:
            raise ConfigError(
                f"--allow-remote needs a --token (or ${TOKEN_ENV}): the archive would be open to all"
            )
    import uvicorn

    from storage import open_archive
    from web import create_app

    archive = open_archive(obj.db, create=False, reading=True)
    sock = _bind(host, port)
    try:
        shown = f"[{host}]" if ":" in host else host
        click.echo(
            f"Serving {archive.url} at http://{shown}:{sock.getsockname()[1]}/ (Ctrl-C stops)", err=True
        )
        config = uvicorn.Config(
            create_app(archive, token=token), log_level="warning", access_log=False, server_header=False
        )
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        sock.close()
        archive.close()


COMMANDS: list[click.Command] = [serve]
