"""Site-profile CSS selectors that override the automatic result for the fields they name."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from cssselect import SelectorError

from core.items import SELECTOR_FIELDS, Article

from .boilerplate import remove_furniture
from .dates import find_date, local_zone, parse_date
from .metadata_zh import byline_authors, source_of
from .textlines import element_lines

logger = logging.getLogger(__name__)


def _select_lines(tree: Any, selector: str) -> list[str]:
    try:
        elements = tree.cssselect(selector)
    except SelectorError:
        logger.warning("Ignoring invalid selector %(selector)r", {"selector": selector})
        return []
    return [line for element in elements for line in element_lines(element)]


def apply_selectors(article: Article, tree: Any, selectors: Mapping[str, str]) -> None:
    """Overwrite the fields named in ``selectors`` with what the selectors find (when they find it)."""
    for field_name, selector in selectors.items():
        if field_name not in SELECTOR_FIELDS or not selector:
            continue
        lines = _select_lines(tree, selector)
        if not lines:
            continue
        joined = " ".join(lines)
        if field_name == "title":
            article.title = joined
        elif field_name == "body":
            article.text = remove_furniture("\n".join(lines))
        elif field_name == "author":
            article.author = " ".join(byline_authors(joined)) or joined
        elif field_name == "source":
            article.source = source_of(joined) or joined
        elif field_name == "date":
            tz = local_zone(article.language)
            found = parse_date(joined, tz) or find_date(joined, tz)
            if found:
                article.published_at = found.value
                article.published_time_known = found.time_known
                article.published_precision = found.precision
