"""Visible text of an HTML element as lines, one per block (paragraph, cell, list item)."""

from __future__ import annotations

import re
from typing import Any

_BLOCK_TAGS = frozenset(
    "address article aside blockquote br dd details div dl dt fieldset figcaption figure footer form "
    "h1 h2 h3 h4 h5 h6 header hr li main nav ol p pre section summary table tbody td th thead tr ul "
    "center".split()
)
_SKIP_TAGS = frozenset({"script", "style", "noscript", "template", "iframe", "object", "select", "option"})
_SPACES = re.compile(r"[ \t\r\f\v\xa0\u3000\u2002\u2003\u200b]+")


def _walk(element: Any, out: list[str]) -> None:
    tag = element.tag if isinstance(element.tag, str) else ""
    if tag in _SKIP_TAGS or not isinstance(element.tag, str):
        if element.tail:
            out.append(element.tail)
        return
    block = tag in _BLOCK_TAGS
    if block:
        out.append("\n")
    if element.text:
        out.append(element.text)
    for child in element:
        _walk(child, out)
    if block:
        out.append("\n")
    if element.tail:
        out.append(element.tail)


def element_lines(element: Any) -> list[str]:
    """Non-empty, whitespace-normalised text lines of ``element`` in document order."""
    parts: list[str] = []
    _walk(element, parts)
    lines = (_SPACES.sub(" ", line).strip() for line in "".join(parts).split("\n"))
    return [line for line in lines if line]


CJK_CHAR = re.compile(r"[\u3400-\u9fff]")


def squeeze(text: str) -> str:
    """``text`` without any whitespace: how lines are compared across extractions."""
    return re.sub(r"\s+", "", text)
