"""How a raw page's bytes are kept: zstd frames, with a per-site dictionary when there is one.

A stored body is a zstd frame (it starts ``28 B5 2F FD``), compressed with the dictionary
of its site when the archive has one; the frame's header names the dictionary by its id,
so a reader needs nothing but the frame and the archive's dictionaries. Bodies stored
before (a zlib stream: its first byte is 0x78) stay readable as they are.

Pure functions over bytes (zstandard and zlib only), so that the extraction workers, which
import no storage code, can pack a page while they hold it, and ``storage`` can unpack it.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import zstandard

__all__ = [
    "DICTIONARY_SAMPLES",
    "RawCodecError",
    "RawDictionary",
    "ZSTD_LEVEL",
    "body_sha256",
    "dictionary_id",
    "pack_body",
    "train_dictionary",
    "unpack_body",
]

# With the site's dictionary, level 3 (zstd's default) stores fewer bytes than zlib-6 at a
# fifth of its CPU; without one, level 3 stores 7-8 % more than zlib-6 on Chinese pages and
# level 6 fewer on every evaluation set, at half zlib-6's CPU (bench/raw_page_size.py)
ZSTD_LEVEL = 3
ZSTD_LEVEL_WITHOUT_DICTIONARY = 6
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
# a dictionary of 110 KiB (zstd's default size) learned from a site's first pages
DICTIONARY_SIZE = 112_640
DICTIONARY_SAMPLES = 64
# ids below 32768 are reserved by the zstd format for registered dictionaries
_FIRST_ID, _LAST_ID = 32_768, 2**31 - 1


class RawCodecError(ValueError):
    """The bytes are no stored body this code can read (damaged, or a dictionary missing)."""


@dataclass(frozen=True)
class RawDictionary:
    """A zstd dictionary (its id is also in the header of every frame it compressed)."""

    dict_id: int
    data: bytes


_local = threading.local()  # compressors are not thread-safe: one set per thread


def _compressor(dictionary: RawDictionary | None) -> zstandard.ZstdCompressor:
    cache: dict[int, zstandard.ZstdCompressor] = getattr(_local, "compressors", None) or {}
    _local.compressors = cache
    key = dictionary.dict_id if dictionary is not None else 0
    compressor = cache.get(key)
    if compressor is None:
        if len(cache) > 8:  # a crawl has one site; an import a handful at a time
            cache.clear()
        dict_data = zstandard.ZstdCompressionDict(dictionary.data) if dictionary is not None else None
        level = ZSTD_LEVEL if dictionary is not None else ZSTD_LEVEL_WITHOUT_DICTIONARY
        compressor = zstandard.ZstdCompressor(level=level, dict_data=dict_data, write_content_size=True)
        cache[key] = compressor
    return compressor


def pack_body(body: bytes, dictionary: RawDictionary | None = None) -> bytes:
    """``body`` as stored: a zstd frame, with ``dictionary`` when given."""
    return _compressor(dictionary).compress(body)


def body_sha256(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def dictionary_id(data: bytes) -> int:
    """The id of the dictionary a stored body needs (0: none, or a zlib stream)."""
    if not data.startswith(ZSTD_MAGIC):
        return 0
    try:
        return int(zstandard.get_frame_parameters(data).dict_id)
    except zstandard.ZstdError as exc:
        raise RawCodecError(f"not a zstd frame: {exc}") from exc


def _decompressor(dictionary: RawDictionary | None) -> zstandard.ZstdDecompressor:
    cache: dict[RawDictionary | None, zstandard.ZstdDecompressor] = (
        getattr(_local, "decompressors", None) or {}
    )
    _local.decompressors = cache
    decompressor = cache.get(dictionary)
    if decompressor is None:
        if len(cache) > 8:
            cache.clear()
        dict_data = zstandard.ZstdCompressionDict(dictionary.data) if dictionary is not None else None
        decompressor = cache[dictionary] = zstandard.ZstdDecompressor(dict_data=dict_data)
    return decompressor


def unpack_body(
    data: bytes, dictionary: Callable[[int], RawDictionary | None] = lambda _: None
) -> bytes:
    """The body as fetched. ``dictionary(dict_id)`` gives the dictionary of that id (None
    when the archive has none such). RawCodecError when the bytes cannot be read."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise RawCodecError(f"not bytes but {type(data).__name__}")
    data = bytes(data)
    if not data.startswith(ZSTD_MAGIC):
        try:
            return zlib.decompress(data)  # stored before zstd
        except zlib.error as exc:
            raise RawCodecError(str(exc)) from exc
    dict_id = dictionary_id(data)
    found = None
    if dict_id:
        found = dictionary(dict_id)
        if found is None:
            raise RawCodecError(f"compressed with dictionary {dict_id}, which the archive does not have")
    try:
        # decompressobj: also reads a frame whose header does not give its size
        stream = _decompressor(found).decompressobj()
        body = stream.decompress(data)
    except zstandard.ZstdError as exc:
        raise RawCodecError(str(exc)) from exc
    if not stream.eof:
        raise RawCodecError("the zstd frame is cut short")
    return body


def train_dictionary(samples: Sequence[bytes], *, size: int = DICTIONARY_SIZE) -> RawDictionary | None:
    """A dictionary learned from ``samples`` (a site's first raw pages), with a fresh random
    id; None when they are too few or too alike for zstd to learn one."""
    if len(samples) < 8:
        return None
    dict_id = _FIRST_ID + secrets.randbelow(_LAST_ID - _FIRST_ID)
    try:
        trained = zstandard.train_dictionary(size, list(samples), dict_id=dict_id, level=ZSTD_LEVEL)
    except zstandard.ZstdError:
        return None
    return RawDictionary(trained.dict_id(), trained.as_bytes())
