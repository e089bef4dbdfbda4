"""Content fingerprints: an exact hash of normalised text and a 64-bit SimHash
over character shingles (works for Chinese, which has no spaces). In ``core`` so that the
extraction workers compute them while they hold the text (``storage.fingerprint`` is the
same module, for storage's readers)."""

from __future__ import annotations

import hashlib
import re
import unicodedata

SHINGLE = 4
SIMHASH_BITS = 64
NEAR_DUPLICATE_DISTANCE = 3  # bits; 4 bands of 16 bits find every match within 3
MIN_SIMHASH_CHARS = 80  # shorter texts are too generic to call near-duplicates
BAND_SHIFTS = (48, 32, 16, 0)
_BIT_OF_BYTE = [bytes((byte >> bit) & 1 for byte in range(256)) for bit in range(8)]
_SPACE = re.compile(r"\s+")
_NOT_WORD = re.compile(r"[\W_]+", re.UNICODE)


def normalise_text(text: str) -> str:
    """NFKC, whitespace collapsed, trimmed: what "the same text" means."""
    return _SPACE.sub(" ", unicodedata.normalize("NFKC", text)).strip()


def content_hash(text: str) -> str:
    return hashlib.sha256(normalise_text(text).encode("utf-8")).hexdigest()


def _to_signed(value: int) -> int:
    return value - (1 << 64) if value >= (1 << 63) else value


def simhash(text: str) -> int | None:
    """Signed 64-bit SimHash of ``text`` (signed so it fits a BIGINT), or None
    when the text is too short to say anything."""
    chars = _NOT_WORD.sub("", normalise_text(text).lower())
    if len(chars) < MIN_SIMHASH_CHARS:
        return None
    digests = b"".join(
        hashlib.blake2b(chars[i : i + SHINGLE].encode("utf-8"), digest_size=8).digest()
        for i in range(len(chars) - SHINGLE + 1)
    )
    total = len(digests) // 8
    # Bit k of the SimHash is set when most shingle hashes have it set. Count
    # the ones per bit in C: take each byte position as a column, map every
    # byte to one of its bits with translate() and count.
    value = 0
    for position in range(8):
        column = digests[position::8]
        for bit in range(8):
            if column.translate(_BIT_OF_BYTE[bit]).count(1) * 2 > total:
                value |= 1 << ((7 - position) * 8 + bit)
    return _to_signed(value)


def hamming(a: int, b: int) -> int:
    return ((a ^ b) & ((1 << 64) - 1)).bit_count()


def bands(value: int) -> list[int]:
    """The four 16-bit bands, as SQL computes them: ``(simhash >> shift) & 65535``."""
    return [(value >> shift) & 0xFFFF for shift in BAND_SHIFTS]
