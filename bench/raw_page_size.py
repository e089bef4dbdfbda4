"""Bytes and CPU per raw page: zlib-6 (what the archive stored before), zstd without a
dictionary (level 6) and zstd with a dictionary of the page's own site (level 3), as
``core.rawcodec.pack_body`` packs them, on the evaluation pages.

Pages are grouped by site (``core.urls.site_of_url`` of their URL in ground_truth.jsonl).
For each site with at least ``--min-pages`` pages, a dictionary is learned as a crawl learns
it (``core.rawcodec.train_dictionary``) from its first half (at most
``DICTIONARY_SAMPLES`` pages) and every form is measured on the other half, the pages the
dictionary never saw; sites with fewer pages count as pages without a dictionary (the
first pages of any site are stored so). Prints one JSON line, or a table with ``--table``.

Usage: raw_page_size.py [--min-pages N] [--table]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import zlib
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.rawcodec import DICTIONARY_SAMPLES, pack_body, train_dictionary  # noqa: E402
from core.urls import site_of_url  # noqa: E402

EVALDATA = ROOT.parent / "shared" / "evaldata"


def _cpu_ms(fn: Callable[[bytes], bytes], bodies: list[bytes]) -> tuple[int, float]:
    start = time.process_time()
    size = sum(len(fn(body)) for body in bodies)
    return size, 1000 * (time.process_time() - start)


def measure(min_pages: int) -> dict[str, dict[str, float]]:
    result: dict[str, dict[str, float]] = {}
    for folder in sorted(p for p in EVALDATA.iterdir() if (p / "ground_truth.jsonl").is_file()):
        sites: dict[str, list[bytes]] = defaultdict(list)
        for line in (folder / "ground_truth.jsonl").read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            sites[site_of_url(row.get("url") or "") or "?"].append((folder / row["file"]).read_bytes())
        totals = defaultdict(float)
        for bodies in sites.values():
            if len(bodies) >= min_pages:
                half = len(bodies) // 2
                samples, held_out = bodies[: min(half, DICTIONARY_SAMPLES)], bodies[half:]
                start = time.process_time()
                dictionary = train_dictionary(samples)
                totals["train_ms"] += 1000 * (time.process_time() - start)
            else:
                held_out, dictionary = bodies, None
            totals["pages"] += len(held_out)
            totals["raw"] += sum(len(b) for b in held_out)
            for name, fn in (
                ("zlib6", lambda b: zlib.compress(b, 6)),
                ("zstd_plain", pack_body),
                ("zstd_dict", lambda b, d=dictionary: pack_body(b, d)),  # type: ignore[misc]
            ):
                size, ms = _cpu_ms(fn, held_out)
                totals[name] += size
                totals[f"{name}_ms"] += ms
            totals["sites_with_dictionary"] += dictionary is not None
        pages = totals["pages"]
        result[folder.name] = {
            "pages": pages,
            "sites_with_dictionary": totals["sites_with_dictionary"],
            "raw_bytes": totals["raw"] / pages,
            **{f"{name}_bytes": totals[name] / pages for name in ("zlib6", "zstd_plain", "zstd_dict")},
            **{f"{name}_ms": totals[f"{name}_ms"] / pages for name in ("zlib6", "zstd_plain", "zstd_dict")},
            "train_ms": totals["train_ms"],
        }
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--min-pages", type=int, default=16, help="pages a site needs for a dictionary")
    parser.add_argument("--table", action="store_true")
    args = parser.parse_args()
    result = measure(args.min_pages)
    if not args.table:
        print(json.dumps(result))
        return
    print("| set | pages measured (sites with a dictionary) | raw | zlib-6 | zstd, no dictionary (level 6) "
          "| zstd + site dictionary (level 3) |")
    print("|---|---|---|---|---|---|")
    for name, r in result.items():
        print(f"| {name} | {r['pages']:.0f} ({r['sites_with_dictionary']:.0f}) | {r['raw_bytes']:,.0f} B | "
              f"{r['zlib6_bytes']:,.0f} B, {r['zlib6_ms']:.2f} ms | "
              f"{r['zstd_plain_bytes']:,.0f} B ({r['zstd_plain_bytes'] / r['zlib6_bytes']:.2f}×), "
              f"{r['zstd_plain_ms']:.2f} ms | "
              f"{r['zstd_dict_bytes']:,.0f} B ({r['zstd_dict_bytes'] / r['zlib6_bytes']:.2f}×), "
              f"{r['zstd_dict_ms']:.2f} ms |")


if __name__ == "__main__":
    main()
