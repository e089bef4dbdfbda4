"""Signals of our own, sent through Scrapy's signal manager (a signal is any object)."""

from __future__ import annotations

# Sent by the store pipeline with ``upto`` (a time.monotonic() value): every item it had
# received by then is committed to the archive. The shared frontier acknowledges a request
# only after this, so a worker killed before its commit loses nothing.
archive_written = object()
