"""Article extraction library: bytes of a news page in, a clean :class:`~core.items.Article` out.

Pure Python on top of trafilatura, readability-lxml and lxml; no Scrapy, no SQLAlchemy.
See ``docs/extraction.md`` for the stages and rules.
"""

from __future__ import annotations

from .core import EXTRACTOR_VERSION, ExtractionResult, extract_article
from .decode import decode_html
from .template import apply_template, learn_template

__all__ = [
    "EXTRACTOR_VERSION",
    "ExtractionResult",
    "apply_template",
    "decode_html",
    "extract_article",
    "learn_template",
]
