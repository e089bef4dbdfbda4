"""Large blocks go back to the system when freed (core.memory)."""

from __future__ import annotations

import sys

import pytest

from core.memory import release_large_blocks


def _rss_kib() -> int:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS"))


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_freed_page_sized_blocks_are_returned_to_the_system() -> None:
    assert release_large_blocks()
    before = _rss_kib()
    pages = [bytes(300_000) + bytes([n % 256]) for n in range(200)]  # 60 MB of "raw pages"
    held = _rss_kib()
    assert held - before > 50_000
    del pages
    assert _rss_kib() - before < 10_000
