"""The words the search index holds: Chinese as overlapping character pairs, other
scripts as lower-cased words, traditional characters folded to simplified ones.

One tokenizer serves the index and the queries, on SQLite and PostgreSQL, so that a
query finds what the index holds whatever the database. Chinese has no spaces between
words; indexing every pair of neighbouring characters (a bigram) lets a query of any
length match anywhere: 中国 is the token 中国, 新能源汽车 the phrase 新能 能源 源汽 汽车,
and one character the prefix 中* (every character of a run starts a token: the last one
is indexed on its own as well).
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from operator import add

from core.hanzi import fold_chinese

# Han (with extension A and the compatibility block) and kana: scripts written without
# spaces between words. Hangul is written with spaces and is indexed as words.
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
_RUN = re.compile(f"([{_CJK}]+)|([^\\W_{_CJK}]+)")
# PostgreSQL keeps token positions up to 16383 (later ones collapse onto it)
PG_MAX_POSITION = 16383


def normalise(text: str) -> str:
    """What both the index and the queries see: NFKC (full-width ＡＢＣ１２ become ABC12),
    lower case, traditional characters folded to simplified ones."""
    if not unicodedata.is_normalized("NFKC", text):  # the common case costs a check, not a copy
        text = unicodedata.normalize("NFKC", text)
    return fold_chinese(text.lower())


def _runs(text: str) -> list[tuple[str, bool]]:
    """(run, is_cjk) in order."""
    return [(cjk or word, bool(cjk)) for cjk, word in _RUN.findall(normalise(text))]


def index_tokens(text: str) -> list[str]:
    """The tokens stored for ``text``: per Chinese run its bigrams then its last
    character; per other word the word."""
    tokens: list[str] = []
    for cjk, word in _RUN.findall(normalise(text)):
        if cjk:
            tokens.extend(map(add, cjk[:-1], cjk[1:]))  # the pairs, built in C: the index's hot loop
            tokens.append(cjk[-1])
        else:
            tokens.append(word)
    return tokens


def index_text(text: str | None) -> str:
    """``index_tokens`` joined by spaces: what the SQLite index (FTS5 ``ascii`` tokenizer,
    which splits on the spaces and leaves the tokens alone) is fed."""
    return " ".join(index_tokens(text)) if text else ""


def tsvector_literal(title: str | None, text: str | None) -> str:
    """A PostgreSQL ``tsvector`` literal of the title and text tokens with their
    positions (the title weighted A, the text D), cast with ``::tsvector`` so that no
    text-search parser splits the tokens again."""
    return tsvector_of_tokens(index_tokens(title or ""), index_tokens(text or ""))


def tsvector_of_tokens(title: list[str], text: list[str]) -> str:
    """``tsvector_literal`` of tokens already computed (``index_tokens`` of the title
    and of the text)."""
    positions: dict[str, list[str]] = defaultdict(list)
    offset = 0
    for tokens, weight in ((title, "A"), (text, "")):
        for n, token in enumerate(tokens, start=offset + 1):
            positions[token].append(f"{min(n, PG_MAX_POSITION)}{weight}")
        offset += len(tokens) + 1  # a gap: no phrase runs from the title into the text
    return " ".join(f"'{token}':{','.join(places)}" for token, places in positions.items())


@dataclass(frozen=True)
class TermTokens:
    """A query term as index tokens that must follow each other; ``prefix`` when
    the last token may be the start of a longer one."""

    tokens: tuple[str, ...]
    prefix: bool


def query_tokens(term: str, *, prefix: bool = False) -> TermTokens:
    """The tokens of a query term (a word or a quoted phrase). A Chinese run at the
    end of the term is matched by its bigrams alone (the text may go on after it);
    one of a single character becomes a prefix; a run followed by more of the term
    also has its last character, as the index does."""
    runs = _runs(term)
    tokens: list[str] = []
    for n, (run, cjk) in enumerate(runs):
        last = n == len(runs) - 1
        if cjk and len(run) > 1:
            tokens.extend(run[i : i + 2] for i in range(len(run) - 1))
            if not last:
                tokens.append(run[-1])
        else:
            tokens.append(run)
            if last and cjk:
                prefix = True
    return TermTokens(tuple(tokens), prefix and bool(tokens))


# -- site and publication day (the SQLite index's ``meta`` column, migration 0011) ------------
# Markers that ``normalise`` never leaves in a text (NFKC turns ⓢ into s), so no word of a
# query can be one of these tokens.
SITE_MARK, DAY_MARK, MONTH_MARK, YEAR_MARK = "ⓢ", "ⓓ", "ⓜ", "ⓨ"


def site_token(site: str | None) -> str:
    """The token of a site: its UTF-8 bytes in hex (the ``ascii`` tokenizer would split
    a site name at its dots and dashes)."""
    return SITE_MARK + (site or "").encode().hex()


def meta_tokens(site: str | None, day: date | None) -> list[str]:
    """What the index's ``meta`` column holds for an article (the triggers of migration
    0011 write the same in SQL): its site, and when dated, its UTC publication day, month,
    year, decade, century and millennium (``ⓨ2020 ⓨ202 ⓨ20 ⓨ2``)."""
    tokens = [site_token(site)]
    if day is not None:
        year = f"{day.year:04d}"
        tokens += [f"{DAY_MARK}{year}{day.month:02d}{day.day:02d}", f"{MONTH_MARK}{year}{day.month:02d}"]
        tokens += [YEAR_MARK + year[:n] for n in (4, 3, 2, 1)]
    return tokens


def _block(day: date, stop: date | None) -> tuple[str, date | None]:
    """The largest calendar unit that starts at ``day`` and ends by ``stop`` (None: past
    the last day there is): its token and the day after it (None: past the last day)."""
    if day.month == 1 and day.day == 1:
        for size, digits in ((1000, 1), (100, 2), (10, 3), (1, 4)):
            if day.year % size and day.year != 1:  # year 1 starts every block (there is no year 0)
                continue
            last = (day.year // size + 1) * size
            after = date(last, 1, 1) if last <= date.max.year else None
            if stop is None or (after is not None and after <= stop):
                return YEAR_MARK + f"{day.year:04d}"[:digits], after
    if day.day == 1:
        if day.month < 12:
            after = date(day.year, day.month + 1, 1)
        else:
            after = date(day.year + 1, 1, 1) if day.year < date.max.year else None
        if stop is None or (after is not None and after <= stop):
            return f"{MONTH_MARK}{day.year:04d}{day.month:02d}", after
    after = day + timedelta(days=1) if day < date.max else None
    return f"{DAY_MARK}{day.year:04d}{day.month:02d}{day.day:02d}", after


def day_range_tokens(start: date | None, stop: date | None) -> list[str]:
    """Tokens of the ``meta`` column of which an article has one exactly when its UTC
    publication day is in [start, stop) (None: unbounded): the fewest whole days, months,
    years, decades, centuries and millennia that tile the range."""
    day: date | None = start or date.min
    tokens: list[str] = []
    while day is not None and (stop is None or day < stop):
        token, day = _block(day, stop)
        tokens.append(token)
    return tokens
