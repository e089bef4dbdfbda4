"""Score ``extract_article`` on the evaluation sets (the extraction dev loop).

Reads each ``pages.warc.gz`` the way a crawl import would (WARC response records,
``Content-Type: text/html`` without a charset), runs :func:`extract_article` on every
record, writes one JSON Lines export per set and scores it with the shared
``evaluate.py``::

    .venv/bin/python bench/eval_extraction.py                 # all four sets
    .venv/bin/python bench/eval_extraction.py daniel_zh -j 2  # one set, two processes
    .venv/bin/python bench/eval_extraction.py --baseline      # bare trafilatura, for comparison
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.items import published_iso  # noqa: E402
from pipelines.extraction import extract_article  # noqa: E402

EVALDATA = Path("/work/shared/evaldata")
EVALUATE = Path("/work/shared/tools/evaluate.py")
SETS = ("daniel_zh", "cwced_zh", "scrapinghub_en", "naeb_en")
COLUMNS = ("body_f1", "body_precision", "body_recall", "title_exact", "date_day", "author", "missing")


def warc_pages(path: Path) -> Iterator[tuple[str, bytes, str | None]]:
    """Yield (url, body, content type) for every response record."""
    with path.open("rb") as stream:
        for record in ArchiveIterator(stream):
            if record.rec_type != "response":
                continue
            url = record.rec_headers.get_header("WARC-Target-URI")
            content_type = record.http_headers.get_header("Content-Type") if record.http_headers else None
            yield url, record.content_stream().read(), content_type


def export_row(page: tuple[str, bytes, str | None]) -> dict[str, object]:
    url, body, content_type = page
    result = extract_article(body, url, content_type=content_type)
    article = result.article
    if article is None:
        return {"url": url, "text": "", "is_article": False, "reason": result.reason}
    return {
        "url": url,
        "title": article.title,
        "text": article.text,
        "published_at": published_iso(article.published_at, article.published_precision),
        "author": article.author,
        "source": article.source,
        "is_article": result.is_article,
        "reason": result.reason,
    }


def baseline_row(page: tuple[str, bytes, str | None]) -> dict[str, object]:
    import trafilatura

    url, body, _ = page
    doc = trafilatura.bare_extraction(body, url=url, with_metadata=True)
    if doc is None:
        return {"url": url, "text": ""}
    fields = {"title": "title", "text": "text", "published_at": "date", "author": "author"}
    return {"url": url, **{key: getattr(doc, attr, None) for key, attr in fields.items()}}


def run_set(name: str, out_dir: Path, jobs: int, baseline: bool) -> dict[str, object]:
    pages = list(warc_pages(EVALDATA / name / "pages.warc.gz"))
    worker = baseline_row if baseline else export_row
    with ProcessPoolExecutor(jobs) as pool:
        rows = list(pool.map(worker, pages, chunksize=4))
    export = out_dir / f"{name}.jsonl"
    with export.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    scored = subprocess.run(
        [sys.executable, str(EVALUATE), str(EVALDATA / name), str(export)],
        check=True,
        capture_output=True,
        text=True,
    )
    score: dict[str, object] = json.loads(scored.stdout)
    score["not_article"] = sum(1 for row in rows if not row.get("is_article", True))
    return score


def print_table(scores: list[dict[str, object]]) -> None:
    header = ["set", *COLUMNS, "not_article"]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for score in scores:
        cells = [str(score["dataset"])]
        for column in (*COLUMNS, "not_article"):
            value = score.get(column)
            cells.append("–" if value is None else f"{value:.3f}" if isinstance(value, float) else str(value))
        print("| " + " | ".join(cells) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("sets", nargs="*", metavar="SET", help=f"any of {', '.join(SETS)} (default: all)")
    parser.add_argument("-j", "--jobs", type=int, default=2)
    parser.add_argument("-o", "--out", type=Path, default=Path("/tmp/eval_extraction"))
    parser.add_argument("--baseline", action="store_true", help="score bare trafilatura instead")
    args = parser.parse_args()
    unknown = set(args.sets) - set(SETS)
    if unknown:
        parser.error(f"unknown set(s): {', '.join(sorted(unknown))}")
    args.out.mkdir(parents=True, exist_ok=True)
    print_table([run_set(name, args.out, args.jobs, args.baseline) for name in args.sets or SETS])


if __name__ == "__main__":
    main()
