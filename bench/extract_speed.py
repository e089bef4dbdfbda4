"""CPU per page of extract_article beside bare trafilatura, on every page of one WARC, in
this one process, page by page in turn (so both see the same load).

Bare trafilatura is what the evaluation data's README scores: ``bare_extraction(bytes,
url=..., with_metadata=True)``. Usage: extract_speed.py PAGES.warc.gz
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

import trafilatura

from pipelines.extraction import extract_article
from pipelines.warc_reader import read_warc_pages


def main(path: str) -> None:
    pages = list(read_warc_pages(Path(path)))
    # one untimed pass first: one-off start-up (dateparser's locale tables, lazily compiled
    # rules) is not a per-page cost, and on a 38-page set it would swamp the figure
    for page in pages:
        trafilatura.bare_extraction(page.body, url=page.url, with_metadata=True)
        extract_article(page.body, page.url, http_charset=page.encoding)
    ours: list[float] = []
    bare: list[float] = []
    for page in pages:
        t = time.process_time()
        extract_article(page.body, page.url, http_charset=page.encoding)
        ours.append(time.process_time() - t)
        t = time.process_time()
        trafilatura.bare_extraction(page.body, url=page.url, with_metadata=True)
        bare.append(time.process_time() - t)
    print(
        json.dumps(
            {
                "pages": len(pages),
                "cpu_seconds": sum(ours),
                "bare_cpu_seconds": sum(bare),
                "ratio": sum(ours) / sum(bare),
                "median_ms": statistics.median(ours) * 1000,
                "bare_median_ms": statistics.median(bare) * 1000,
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1])
