"""Site-template learning: lines that repeat across many articles of one site are furniture.

A line (normalised: whitespace collapsed, digits folded) that appears in at least
``min_share`` of a site's articles, and in at least ``min_pages`` of them, is part of
the site's template — a slogan, a standing disclaimer, a "follow us" line — and is
removed from every article of that site with :func:`apply_template`.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

_SPACES = re.compile(r"\s+")
_DIGITS = re.compile(r"\d+")
_MIN_LINE = 4


def normalise_line(line: str) -> str:
    """The comparison key of a line: spacing collapsed, numbers folded, case folded."""
    return _DIGITS.sub("0", _SPACES.sub(" ", line).strip()).casefold()


def learn_template(texts: Iterable[str], *, min_pages: int = 3, min_share: float = 0.5) -> frozenset[str]:
    """Normalised lines that repeat across at least ``min_share`` (and ``min_pages``) of ``texts``."""
    counts: Counter[str] = Counter()
    pages = 0
    for text in texts:
        pages += 1
        counts.update({key for key in map(normalise_line, text.split("\n")) if len(key) >= _MIN_LINE})
    if pages < min_pages:
        return frozenset()
    needed = max(min_pages, min_share * pages)
    return frozenset(key for key, count in counts.items() if count >= needed)


def apply_template(text: str, template: frozenset[str]) -> str:
    """``text`` without the lines of the site's template."""
    if not template:
        return text
    kept = [line for line in text.split("\n") if normalise_line(line) not in template]
    return "\n".join(kept).strip()
