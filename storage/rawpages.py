"""Raw page bodies as stored (``core.rawcodec``) and the per-site zstd dictionaries they
may need: persistence only; the dictionaries are learned by the ingest path."""

from __future__ import annotations

import weakref
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from core.rawcodec import RawCodecError, RawDictionary, unpack_body
from storage.errors import StorageError, wraps_driver_errors
from storage.models import RawPage, RawPageDictionary

__all__ = ["dictionary_by_id", "raw_body", "save_site_dictionary", "site_dictionary"]

# dictionaries never change once stored: each engine keeps those it has read
_by_engine: weakref.WeakKeyDictionary[Any, dict[int, RawDictionary]] = weakref.WeakKeyDictionary()


@wraps_driver_errors
def site_dictionary(session: Session, site: str) -> RawDictionary | None:
    """The newest dictionary of ``site``, or None."""
    row = session.execute(
        select(RawPageDictionary.dict_id, RawPageDictionary.data)
        .where(RawPageDictionary.site == site)
        .order_by(RawPageDictionary.id.desc())
        .limit(1)
    ).first()
    return None if row is None else RawDictionary(int(row.dict_id), bytes(row.data))


@wraps_driver_errors
def save_site_dictionary(session: Session, site: str, dictionary: RawDictionary, *, samples: int) -> None:
    """Keep ``dictionary`` for ``site`` (before any body compressed with it is stored)."""
    session.add(
        RawPageDictionary(dict_id=dictionary.dict_id, site=site, data=dictionary.data, samples=samples)
    )
    session.flush()


@wraps_driver_errors
def dictionary_by_id(session: Session, dict_id: int) -> RawDictionary | None:
    engine = session.get_bind()
    cache = _by_engine.setdefault(engine, {})
    found = cache.get(dict_id)
    if found is None:
        data = session.scalar(select(RawPageDictionary.data).where(RawPageDictionary.dict_id == dict_id))
        if data is None:
            return None
        found = cache[dict_id] = RawDictionary(dict_id, bytes(data))
    return found


def raw_body(raw: RawPage, session: Session | None = None) -> bytes:
    """The stored body as fetched (zstd, with its site's dictionary, or zlib in rows stored
    before); StorageError when the stored bytes are damaged or their dictionary is missing.
    The dictionary is read through ``session``, by default the row's own."""
    session = session or object_session(raw)

    def dictionary(dict_id: int) -> RawDictionary | None:
        if session is None:
            raise StorageError(f"the raw page {raw.id} needs dictionary {dict_id}, but no session to read it")
        return dictionary_by_id(session, dict_id)

    try:
        return unpack_body(raw.body, dictionary)
    except RawCodecError as exc:
        raise StorageError(f"the stored raw page {raw.id} of {raw.final_url} is damaged: {exc}") from exc
