"""Extraction quality report: score exported articles against hand-made ground truth.

The metric is the article-extraction-benchmark one (4-token shingles, per-page
normalised TP/FP/FN, mean precision and recall, F1 of the means) with each CJK
character as one token — the same as the evaluation data's ``evaluate.py``, so
``newsarchive eval`` prints numbers comparable with it.
"""

from __future__ import annotations

import hashlib
import json
import re
import statistics
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from core.errors import InputError
from pipelines.extraction.textlines import CJK

# ../shared/tools/score.py's tokens: each Chinese character (plus compatibility ideographs,
# kana and Hangul) is a token of its own
_CJK = CJK + "\uf900-\ufaff\u3040-\u30ff\uac00-\ud7af"
_TOKEN_RE = re.compile(rf"[{_CJK}]|[^\W{_CJK}]+", re.UNICODE)
_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'})
# In these sets the ground-truth body starts with the headline.
HEADLINE_IN_BODY = frozenset({"daniel_zh"})

Row = tuple[float, float, float]


def _shingles(text: str, n: int = 4) -> Counter[tuple[str, ...]]:
    tokens = _TOKEN_RE.findall(text or "")
    return Counter(tuple(tokens[i : i + n]) for i in range(max(1, len(tokens) - n + 1)) if tokens[i : i + n])


def tp_fp_fn(truth: str, predicted: str) -> Row:
    t, p = _shingles(truth), _shingles(predicted)
    tp = fp = fn = 0.0
    for key in set(t) | set(p):
        a, b = t.get(key, 0), p.get(key, 0)
        tp += min(a, b)
        fp += max(0, b - a)
        fn += max(0, a - b)
    total = tp + fp + fn
    return (tp / total, fp / total, fn / total) if total else (0.0, 0.0, 0.0)


def _precision(tp: float, fp: float, fn: float) -> float:
    if fp == fn == 0:
        return 1.0
    return 0.0 if tp == fp == 0 else tp / (tp + fp)


def _recall(tp: float, fp: float, fn: float) -> float:
    if fp == fn == 0:
        return 1.0
    return 0.0 if tp == fn == 0 else tp / (tp + fn)


def body_metrics(rows: list[Row]) -> dict[str, float]:
    p = [_precision(*r) for r in rows if r[0] + r[1] > 0]
    r = [_recall(*x) for x in rows if x[0] + x[2] > 0]
    mp = statistics.mean(p) if p else 0.0
    mr = statistics.mean(r) if r else 0.0
    f1 = 2 * mp * mr / (mp + mr) if mp + mr else 0.0
    return {"f1": round(f1, 4), "precision": round(mp, 4), "recall": round(mr, 4)}


def _norm(value: str | None) -> str:
    return re.sub(r"\s+", " ", (value or "").translate(_QUOTES)).strip().lower()


def _author_ok(predicted: Any, truth: str) -> bool:
    if isinstance(predicted, list):
        predicted = ", ".join(predicted)
    p, t = _norm(predicted).replace(" ", ""), _norm(truth).replace(" ", "")
    return bool(p) and (p == t or p in t or t in p)


def load_ground_truth(dataset: Path) -> list[dict[str, Any]]:
    path = dataset / "ground_truth.jsonl"
    try:
        with path.open(encoding="utf-8") as lines:
            return [json.loads(line) for line in lines if line.strip()]
    except (OSError, json.JSONDecodeError) as exc:
        raise InputError(f"cannot read ground truth {path}: {exc}") from exc


def score_dataset(
    name: str, truth: list[dict[str, Any]], exported: Iterable[Mapping[str, Any]]
) -> dict[str, Any]:
    """Score exported articles (dicts with url/canonical_url, title, text, published_at, author)."""
    by_url: dict[str, Mapping[str, Any]] = {}
    for row in exported:
        for key in ("url", "canonical_url"):
            if row.get(key):
                by_url.setdefault(row[key], row)
    rows: list[Row] = []
    missing = 0
    hits = {"title_exact": [0, 0], "date_day": [0, 0], "author": [0, 0]}
    for page in truth:
        got = by_url.get(page["warc_url"])
        if got is None:
            missing += 1
            got = {}
        if page.get("body"):
            text = got.get("text") or ""
            if name in HEADLINE_IN_BODY and got.get("title"):
                text = got["title"] + "\n" + text
            rows.append(tp_fp_fn(page["body"], text))
        if page.get("title"):
            hits["title_exact"][1] += 1
            hits["title_exact"][0] += _norm(got.get("title")) == _norm(page["title"])
        if page.get("date"):
            hits["date_day"][1] += 1
            hits["date_day"][0] += (got.get("published_at") or "")[:10] == page["date"][:10]
        if page.get("author"):
            hits["author"][1] += 1
            hits["author"][0] += _author_ok(got.get("author"), page["author"])
    m = body_metrics(rows)
    out: dict[str, Any] = {
        "dataset": name,
        "body_f1": m["f1"],
        "body_precision": m["precision"],
        "body_recall": m["recall"],
        "pages": len(truth),
        "missing": missing,
    }
    for key, (ok, n) in hits.items():
        if n:
            out[key] = round(ok / n, 4)
            out[key + "_n"] = n
    return out


SCORED_FIELDS = ("body_f1", "body_precision", "body_recall", "title_exact", "date_day", "author")


def fold_of(url: str, folds: int) -> int:
    """The fold a ground-truth page belongs to: a hash of its URL, so the split is the same
    on every run and machine and does not follow the order of the file."""
    return int.from_bytes(hashlib.sha256(url.encode("utf-8")).digest()[:8], "big") % folds


def score_folds(
    name: str, truth: list[dict[str, Any]], exported: Iterable[Mapping[str, Any]], folds: int
) -> dict[str, Any]:
    """The whole set's score plus ``folds``: one score per fold (pages split by
    :func:`fold_of`) and ``gap``: per scored field, the largest minus the smallest fold."""
    rows = list(exported)
    result = score_dataset(name, truth, rows)
    if folds < 2:
        return result
    parts = [
        score_dataset(name, [page for page in truth if fold_of(page["warc_url"], folds) == fold], rows)
        for fold in range(folds)
    ]
    result["folds"] = parts
    result["gap"] = {
        key: round(max(p[key] for p in parts) - min(p[key] for p in parts), 4)
        for key in SCORED_FIELDS
        if all(key in p for p in parts)
    }
    return result
