"""The command line of a crawl in a fresh process.

Twisted's reactor cannot be restarted within one process, so every crawl that is not the
process's only one (scheduled crawls, the demo, the benchmarks) runs as a child started
with this command.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path

__all__ = ["crawl_command"]


def crawl_command(
    db: str, site: str, *, config: str | Path | None = None, settings: Mapping[str, object] | None = None
) -> list[str]:
    """``python -m crawler --db DB [--config PATH] crawl --site SITE [-s NAME=VALUE ...]``
    run by this interpreter (so the child sees the same installation)."""
    command = [sys.executable, "-m", "crawler", "--db", db]
    if config:
        command += ["--config", str(config)]
    command += ["crawl", "--site", site]
    for name, value in (settings or {}).items():
        command += ["-s", f"{name}={value}"]
    return command
