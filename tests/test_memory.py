"""Large blocks go back to the system when freed (core.memory)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# In a fresh process: a mapped block freed (glibc then raises its mmap threshold to its size,
# as a crawl's first large page does), then 200 page-sized blocks, each followed by a small
# one that keeps the heap from shrinking below it, then the pages freed. Prints KiB of RSS
# the pages added and KiB given back when they were freed.
SCRIPT = """
import sys
from core.memory import release_large_blocks

def rss():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS"))

if sys.argv[1] == "release":
    assert release_large_blocks()
first = bytearray(4_000_000)
del first
before = rss()
pages, pins = [], []
for n in range(200):
    pages.append(bytearray(b"x" * 300_000))
    pins.append(bytearray(b"y" * 3_000))
held = rss()
del pages
print(held - before, held - rss())
"""


def _run(mode: str) -> tuple[int, int]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", SCRIPT, mode], capture_output=True, text=True,
                          env=env, check=True, timeout=60)
    grown, released = (int(n) for n in done.stdout.split())
    return grown, released


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_freed_page_sized_blocks_are_returned_to_the_system() -> None:
    grown, released = _run("release")
    assert grown > 50_000  # 60 MB of pages
    assert released > 0.9 * grown
    # without it, glibc keeps most of them in its heap (on Debian 12's glibc, about 60 %):
    # what the crawl's workers and main process held on to before
    _, released_by_default = _run("default")
    print(f"released with release_large_blocks: {released} KiB; without: {released_by_default} KiB")
