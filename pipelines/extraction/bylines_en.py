"""English bylines as pages print them under the headline.

* ``By Jane Doe and John Roe`` on one line, or ``By`` on its own line above the names;
* a bare name line (``Tex Hollywood``) that is followed by the dateline (``December 21, 2023``,
  perhaps after a ``-`` or ``•`` line) or by the outlet (``Cherry Hill Courier-Post``,
  ``USA TODAY NETWORK``): the layout of most CMS article headers without a "By".

A name is two to four capitalised words (initials, hyphens and particles such as ``bin``
or ``van`` allowed); the outlet and the site name are never a person.
"""

from __future__ import annotations

import re

from .datelines import is_dateline_only
from .textlines import WEB_ADDRESS

_PARTICLE = r"(?:bin|van|von|de|da|del|la|le|al)"
_BYLINE_NAME = rf"[A-Z][\w.'’-]+(?:\s+(?:{_PARTICLE}\s+)?[A-Z][\w.'’-]+){{0,3}}"
# capitals mark the names ("By Jane Doe and John Roe" is two people, not "Jane Doe and John")
BYLINE = re.compile(
    rf"^(?i:by|written by|words by)\s+"
    rf"(?P<names>{_BYLINE_NAME}(?:\s*(?:,\s*and\b|,|\band\b|&)\s*{_BYLINE_NAME})*)"
)
_NAME_SPLIT = re.compile(r"\s*(?:,\s*and\b|,|\band\b|&)\s*")
# "By JANE DOE Associated Press": the agency the reporter files for, glued to the name
_AGENCY_TAIL = re.compile(
    r"\s+(?:The\s+)?(?:Associated\s+Press|AP|Reuters|AFP|Agence\s+France-Presse|Bloomberg|UPI|CNN)$",
    re.I,
)
DATE_WORD = re.compile(
    r"\b(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|january|february|march|april|may|june|"
    r"july|august|september|october|november|december|updated|published|posted)\b.*$|\d.*$",
    re.I,
)
_WORD = r"[A-Z](?:[a-zà-ÿ'’-]+|\.)?(?:-[A-Z][a-zà-ÿ'’]+)?"
_PERSON = re.compile(rf"^{_WORD}(?:\s+(?:{_WORD}|{_PARTICLE}))*\s+{_WORD}$")
_SEPARATOR = re.compile(r"^[-–—•|·/]$")
_OUTLET_WORDS = re.compile(
    r"\b(?:network|news|press|post|times|journal|herald|tribune|gazette|reporter|courier|"
    r"sports|media|magazine|wire|staff|daily|weekly|today)\b",
    re.I,
)
_NAME_TAIL = re.compile(r"\s*[•|·,–—-]\s*$")
_BYLINE_WINDOW = 15
_NAME_WINDOW = 7


def english_byline(lines: list[str], anchor: int | None, outlets: list[str | None]) -> list[str]:
    """Author names from the byline under the headline at ``anchor`` (``[]`` when none)."""
    if anchor is None:
        return []
    window = lines[max(0, anchor - 2) : anchor + _BYLINE_WINDOW]
    for i, line in enumerate(window):
        stripped = line.strip()
        if stripped.lower() == "by" and i + 1 < len(window):
            stripped = "By " + window[i + 1].strip()
        match = BYLINE.match(stripped)
        if match and len(stripped) < 120:
            names = _NAME_SPLIT.split(match.group("names"))
            names = [_without_agency(_NAME_TAIL.sub("", DATE_WORD.sub("", n)).strip()) for n in names]
            # "By Terry Pluto, cleveland.com": a web address after the name is no author, while
            # "By Chicago Tribune staff" is the paper's own byline and stays
            return [n for n in names if n and not WEB_ADDRESS.search(n)]
    after = lines[anchor + 1 : anchor + 1 + _NAME_WINDOW]
    for i, line in enumerate(after):
        name = line.strip()
        if not _PERSON.match(name) or names_site(name, outlets):
            continue
        if _byline_follows(after[i + 1 : i + 3], outlets):
            return [name]
    return []


_CREDIT = re.compile(
    r"^[(\[]?\s*(?:additional )?(?:reporting|reported|written|story|text) by\s+(?P<names>[^;)\]]{2,80}?)"
    r"\s*(?:[;)\]]|$)",
    re.I,
)
_CREDIT_WINDOW = 3


def closing_credit(lines: list[str]) -> list[str]:
    """``Reporting by Jane Doe; Editing by John Roe`` at the end of the text: the reporters,
    never the editors (``(Reporting by The Associated Press.)``)."""
    for line in [line.strip() for line in lines if line.strip()][-_CREDIT_WINDOW:]:
        match = _CREDIT.match(line)
        if match and len(line) <= 120:
            names = _NAME_SPLIT.split(match.group("names").rstrip(". "))
            return [n for n in names if n and not WEB_ADDRESS.search(n)]
    return []


def _without_agency(name: str) -> str:
    """``JANE DOE Associated Press`` is Jane Doe; ``The Associated Press`` stays itself."""
    person = _AGENCY_TAIL.sub("", name)
    return person if len(person.split()) >= 2 else name


def _byline_follows(lines: list[str], outlets: list[str | None]) -> bool:
    """The line after a name says it is a byline: the dateline, or the outlet it writes for."""
    rest = [line.strip() for line in lines if not _SEPARATOR.match(line.strip())]
    if not rest:
        return False
    nxt = rest[0]
    if is_dateline_only(nxt):
        return True
    return len(nxt) <= 40 and (names_site(nxt, outlets) or bool(_OUTLET_WORDS.search(nxt)))


def names_site(author: str, names: list[str | None]) -> bool:
    """``author`` is one of ``names`` (the site, the publisher), or contains one, or is in one."""
    key = re.sub(r"\W+", "", author).lower()
    for name in names:
        other = re.sub(r"\W+", "", name or "").lower()
        if other and key and (key == other or key in other or other in key):
            return True
    return False
