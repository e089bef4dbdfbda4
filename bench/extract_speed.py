"""Time extract_article on every page of one WARC, in this one process."""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

from pipelines.extraction import extract_article
from pipelines.warc_reader import read_warc_pages


def main(path: str) -> None:
    pages = list(read_warc_pages(Path(path)))
    timings = []
    start = time.perf_counter()
    for page in pages:
        t = time.perf_counter()
        extract_article(page.body, page.url, http_charset=page.encoding)
        timings.append(time.perf_counter() - t)
    total = time.perf_counter() - start
    print(json.dumps({"pages": len(pages), "seconds": total, "median_ms": statistics.median(timings) * 1000}))


if __name__ == "__main__":
    main(sys.argv[1])
