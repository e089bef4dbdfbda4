"""Content fingerprints: they live in :mod:`core.fingerprint` (the extraction workers,
which import no storage code, compute them too); this is the name storage reads them by."""

from __future__ import annotations

from core.fingerprint import (
    BAND_SHIFTS,
    MIN_SIMHASH_CHARS,
    NEAR_DUPLICATE_DISTANCE,
    SHINGLE,
    SIMHASH_BITS,
    bands,
    content_hash,
    hamming,
    normalise_text,
    simhash,
)

__all__ = [
    "BAND_SHIFTS",
    "MIN_SIMHASH_CHARS",
    "NEAR_DUPLICATE_DISTANCE",
    "SHINGLE",
    "SIMHASH_BITS",
    "bands",
    "content_hash",
    "hamming",
    "normalise_text",
    "simhash",
]
