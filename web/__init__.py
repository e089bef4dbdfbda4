"""The read-only web UI and JSON API over the archive (``newsarchive serve``).

Beside ``pipelines/`` in the layers: it reads through ``storage`` and never
writes. ``create_app(archive)`` gives an ASGI application."""

from __future__ import annotations

from web.app import create_app

__all__ = ["create_app"]
