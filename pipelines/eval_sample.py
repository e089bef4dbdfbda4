"""A fixed, small sample of each evaluation set, extracted in-process and scored: the
regression corpus the test suite checks against a committed baseline.

The sample is the first ``size`` ground-truth pages ordered by a hash of their URL, so it
is the same on every run, spreads over both folds and does not follow the file's order.
Pages go through :func:`extract_article` as an import would hand them over (a page it
takes for a non-article is missing); site templates, which need the whole set, are not
learned, so the numbers are a little below ``newsarchive eval``'s.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from core.items import published_iso
from pipelines.evaluation import SCORED_FIELDS, load_ground_truth, score_dataset
from pipelines.extraction import EXTRACTOR_VERSION, extract_article
from pipelines.warc_import import read_warc_pages

SAMPLE_SIZE = 20


def sample_truth(truth: list[dict[str, Any]], size: int = SAMPLE_SIZE) -> list[dict[str, Any]]:
    return sorted(truth, key=lambda page: hashlib.sha256(page["warc_url"].encode("utf-8")).hexdigest())[:size]


def score_sample(dataset: Path, size: int = SAMPLE_SIZE) -> dict[str, Any]:
    """The set's sample scored like ``newsarchive eval`` scores the whole set."""
    truth = sample_truth(load_ground_truth(dataset), size)
    wanted = {page["warc_url"] for page in truth}
    rows = []
    for page in read_warc_pages(dataset / "pages.warc.gz"):
        if page.url not in wanted:
            continue
        result = extract_article(
            page.body, page.url, http_charset=page.encoding, content_type=page.headers.get("Content-Type")
        )
        article = result.article
        if article is None or not result.is_article:
            continue
        rows.append(
            {
                "url": page.url,
                "title": article.title,
                "text": article.text,
                "author": article.author,
                "published_at": published_iso(article.published_at, article.published_precision),
            }
        )
    score = score_dataset(dataset.name, truth, rows)
    return {key: score[key] for key in (*SCORED_FIELDS, "missing") if key in score}


def write_baseline(path: Path, datasets: list[Path], size: int = SAMPLE_SIZE) -> dict[str, Any]:
    baseline = {
        "sample_size": size,
        "extractor_version": EXTRACTOR_VERSION,
        "sets": {dataset.name: score_sample(dataset, size) for dataset in datasets},
    }
    path.write_text(json.dumps(baseline, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return baseline
