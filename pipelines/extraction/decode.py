"""Turn response bytes into text, trusting a declared charset only when it decodes cleanly.

Chinese pages often lie: a ``<meta charset=gb2312>`` left over from an old template on
a page that was re-encoded to UTF-8, or no declaration at all. The order is:

1. a byte-order mark wins;
2. bytes that are valid UTF-8 (and not plain ASCII) are UTF-8 — GBK text is almost never
   valid UTF-8 by accident, while UTF-8 often decodes "cleanly" as GB18030;
3. the declared charset (HTTP header, then ``<meta>``, then a corpus ``<text encoding=…>``
   wrapper), widened to its superset (gb2312/gbk → gb18030, big5 → big5hkscs);
4. charset-normalizer's guess; whichever candidate leaves the fewest undecodable bytes.
"""

from __future__ import annotations

import codecs
import re

from charset_normalizer import from_bytes

# Encodings that real pages declare but whose superset is what browsers actually decode.
_SUPERSETS = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "cp936": "gb18030",
    "x-gbk": "gb18030",
    "euc-cn": "gb18030",
    "hz-gb-2312": "gb18030",
    "big5": "big5hkscs",
    "cp950": "big5hkscs",
    "iso-8859-1": "cp1252",
    "latin-1": "cp1252",
    "ascii": "cp1252",
    "us-ascii": "cp1252",
    "utf8": "utf-8",
}

_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
_WRAPPER_ENCODING = re.compile(rb"""^\s*<text\b[^>]*\bencoding\s*=\s*["']?([A-Za-z0-9_-]+)""", re.I)
_HEAD_BYTES = 8192


def normalise_charset(name: str | None) -> str | None:
    """Map a declared charset name to the Python codec that decodes what browsers show."""
    if not name:
        return None
    label = name.strip().strip("\"'").lower()
    label = _SUPERSETS.get(label, label)
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def declared_charset(body: bytes, http_charset: str | None = None) -> str | None:
    """The charset the response claims: HTTP header, then ``<meta>``, then a corpus wrapper."""
    head = body[:_HEAD_BYTES]
    for candidate in (
        http_charset,
        _first_group(_META_CHARSET, head),
        _first_group(_WRAPPER_ENCODING, head),
    ):
        codec = normalise_charset(candidate)
        if codec:
            return codec
    return None


def _first_group(pattern: re.Pattern[bytes], data: bytes) -> str | None:
    match = pattern.search(data)
    return match.group(1).decode("ascii", "ignore") if match else None


def _errors(body: bytes, codec: str) -> int:
    try:
        body.decode(codec)
        return 0
    except UnicodeDecodeError:
        pass
    except LookupError:
        return len(body)
    return body.decode(codec, errors="replace").count("\ufffd")


def _guess(body: bytes) -> str | None:
    best = from_bytes(body[:200_000]).best()
    return normalise_charset(best.encoding) if best is not None else None


def decode_html(body: bytes, http_charset: str | None = None) -> str:
    """Decode an HTML response body to text. Never raises; undecodable bytes become U+FFFD."""
    if not body:
        return ""
    for bom, codec in _BOMS:
        if body.startswith(bom):
            return body.decode(codec, errors="replace")
    if body.isascii():
        return body.decode("ascii")
    if _errors(body, "utf-8") == 0:
        return body.decode("utf-8")
    declared = declared_charset(body, http_charset)
    if declared and declared != "utf-8" and _errors(body, declared) == 0:
        return body.decode(declared)
    candidates = [c for c in (declared, "utf-8") if c]
    guessed = _guess(body)
    if guessed:
        candidates.append(guessed)
    # a few stray bytes in an otherwise well-encoded page should not flip the charset
    best = min(candidates, key=lambda codec: _errors(body, codec))
    return body.decode(best, errors="replace")
