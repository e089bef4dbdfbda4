"""Site-template learning: lines that repeat across many articles of one site are furniture.

A line (normalised: whitespace collapsed, digits folded) that appears in at least
``min_share`` of a site's distinct articles, and in at least ``min_pages`` of them (never
fewer than :data:`MIN_ARTICLES`), is part of the site's template — a slogan, a standing
disclaimer, a "follow us" line — and is removed from the site's articles with
:func:`apply_template`.

Two rules keep learning from erasing an article. Each distinct text counts once: copies of
one article (syndicated, under several URLs) would otherwise make its every line look like
furniture once they are a large enough share of the site. And stripping never takes an
article below :data:`MIN_KEPT_SHARE` of its own text: a template that would remove most of
an article is wrong about that article, which then keeps its text whole.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Iterable

_SPACES = re.compile(r"\s+")
_DIGITS = re.compile(r"\d+")
_MIN_LINE = 4
MIN_ARTICLES = 3  # a line shared by two articles is a quote or a follow-up, not furniture
MIN_KEPT_SHARE = 0.5  # of an article's characters that stripping must leave
# The version of these rules, stored with every learned template. Raise it whenever learning
# changes what a template may hold: a template learned by other rules is then learned again
# from scratch (``pipelines.site_templates``), and a line the old rules got wrong is pruned.
# 1: every stored row counted (copies of one article too), no floor, lines kept for ever;
# 2: each distinct text once, a line in several distinct articles, the 50 % floor.
TEMPLATE_RULES = 2


def normalise_line(line: str) -> str:
    """The comparison key of a line: spacing collapsed, numbers folded, case folded."""
    return _DIGITS.sub("0", _SPACES.sub(" ", line).strip()).casefold()


def _line_keys(text: str) -> frozenset[str]:
    return frozenset(key for key in map(normalise_line, text.split("\n")) if len(key) >= _MIN_LINE)


def line_keys(text: str) -> frozenset[str]:
    """The normalised lines of ``text`` that can be furniture (long enough to mean something)."""
    return _line_keys(text)


def line_hash(key: str) -> int:
    """A normalised line as a signed 64-bit number: how its count is stored."""
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "big", signed=True)


def template_threshold(pages: int, *, min_pages: int = 3, min_share: float = 0.5) -> float:
    """How many of ``pages`` distinct texts a line must be in to be furniture (infinite
    below ``min_pages`` texts: nothing is learned from so few)."""
    if pages < min_pages:
        return float("inf")
    return max(min_pages, MIN_ARTICLES, min_share * pages)


# Incremental learning keeps a count per line of a site (``pipelines.site_templates``);
# lossy counting (Manku and Motwani, 2002) bounds how many: every LOSSY_BUCKET texts, a line
# whose count (plus what it may have missed) is no more than the buckets seen is dropped.
# A count is then low by at most 1/LOSSY_BUCKET of the site's texts, and only for a line
# that was once dropped: a line at the 50 % threshold is learned when it reaches 51 % at
# worst, never one a full count would not learn. Below LOSSY_BUCKET texts nothing is dropped.
LOSSY_BUCKET = 100


def learn_template(texts: Iterable[str], *, min_pages: int = 3, min_share: float = 0.5) -> frozenset[str]:
    """Normalised lines that repeat across at least ``min_share`` (and ``min_pages``, at
    least :data:`MIN_ARTICLES`) of the distinct ``texts``.

    Texts with the same lines are one text here; the caller should also leave out copies
    that differ slightly (near-duplicates), which this pure function cannot tell apart."""
    counts: Counter[str] = Counter()
    seen: set[frozenset[str]] = set()
    for text in texts:
        keys = _line_keys(text)
        if keys in seen:
            continue
        seen.add(keys)
        counts.update(keys)
    needed = template_threshold(len(seen), min_pages=min_pages, min_share=min_share)
    return frozenset(key for key, count in counts.items() if count >= needed)


def apply_template(text: str, template: frozenset[str]) -> str:
    """``text`` without the lines of the site's template, unless that would leave less than
    :data:`MIN_KEPT_SHARE` of it: then ``text`` as it is."""
    if not template:
        return text
    kept = "\n".join(line for line in text.split("\n") if normalise_line(line) not in template).strip()
    if len(kept) < MIN_KEPT_SHARE * len(text.strip()):
        return text
    return kept
