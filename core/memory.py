"""Keep a long-running process's memory close to what it holds (glibc's malloc).

glibc serves a block of 128 KiB or more with a mapping of its own (returned to the system
when freed), but raises that threshold to the size of each such block freed, up to 32 MiB:
after the first few pages, every raw page (300 KB on a news site), its decoded text and its
pickles came from the heap, whose freed holes the system never gets back. On the crawl of
the bench's news site, pinning the threshold took the peak memory of the process tree from
about 512 MB to about 445 MB (bench/RESULTS.md), at the cost of a mapping per large block.
"""

from __future__ import annotations

import ctypes
import sys

__all__ = ["MMAP_THRESHOLD", "release_large_blocks"]

MMAP_THRESHOLD = 128 * 1024  # glibc's default starting threshold
_M_MMAP_THRESHOLD = -3  # mallopt parameter (malloc.h); setting it also ends the raising


def release_large_blocks(threshold: int = MMAP_THRESHOLD) -> bool:
    """Serve blocks of ``threshold`` bytes or more from mappings of their own, so that
    freeing them returns the memory; False where this is no glibc."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(_M_MMAP_THRESHOLD, threshold))
