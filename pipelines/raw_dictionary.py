"""The per-site zstd dictionary a crawl packs its raw pages with (``core.rawcodec``).

A site's raw pages share most of their bytes (the page template, scripts, styles): zstd
with a dictionary learned from a few of them stores each in fewer bytes than zlib or plain
zstd (bench/RESULTS.md). A crawl of a site with no dictionary yet packs its pages without
one, keeps the bodies of its first article pages (``NEWSARCHIVE_RAW_DICTIONARY_SAMPLES``, at
most ``SAMPLE_BYTES`` in all) and has a worker learn one from them; the dictionary is stored
in the archive before any page packed with it, and the rest of the crawl uses it. The next
crawl of the site finds it in the archive.
"""

from __future__ import annotations

from core.rawcodec import DICTIONARY_SAMPLES, RawDictionary
from storage import Archive, save_site_dictionary, site_dictionary

__all__ = ["SAMPLE_BYTES", "SAMPLES_HELD_BYTES", "SiteDictionary"]

SAMPLE_BYTES = 8 * 2**20  # learning takes memory in proportion to the samples
# an import meets many sites at once: the samples held for all of them together
SAMPLES_HELD_BYTES = 4 * SAMPLE_BYTES


class SiteDictionary:
    """The dictionary of one site in a crawl: loaded, or learned from its first pages.
    Not thread-safe: ``offer`` and ``learned`` are called from one thread (the reactor's),
    ``load`` and ``save`` are blocking (run them in a thread)."""

    def __init__(
        self, archive: Archive | None, site: str | None, *, samples: int = DICTIONARY_SAMPLES
    ) -> None:
        self.archive = archive
        self.site = site
        self.wanted = samples
        self.current: RawDictionary | None = None
        self._samples: list[bytes] = []
        self._sample_bytes = 0
        # learning only makes sense with an archive to keep the dictionary in
        self.closed = archive is None or not site or samples < 1

    def load(self) -> RawDictionary | None:
        """The site's dictionary in the archive (blocking)."""
        if self.archive is None or not self.site:
            return None
        with self.archive.session(read_only=True) as session:
            return site_dictionary(session, self.site)

    def offer(self, body: bytes) -> list[bytes] | None:
        """Note an article page's body; the samples to learn from once there are enough
        (once per crawl), else None."""
        if self.closed or self.current is not None:
            return None
        self._samples.append(body)
        self._sample_bytes += len(body)
        if len(self._samples) < self.wanted and self._sample_bytes < SAMPLE_BYTES:
            return None
        samples, self._samples = self._samples, []
        self.closed = True  # one attempt per crawl
        return samples

    @property
    def held(self) -> int:
        """Bytes of samples held, waiting for enough of them."""
        return self._sample_bytes if self._samples else 0

    def give_up(self) -> None:
        """Drop the samples held and learn nothing more in this run (memory is short)."""
        self._samples, self._sample_bytes = [], 0
        self.closed = True

    def save(self, dictionary: RawDictionary, samples: int) -> None:
        """Keep ``dictionary`` in the archive (blocking); only then may pages use it."""
        assert self.archive is not None and self.site
        with self.archive.transaction() as session:
            save_site_dictionary(session, self.site, dictionary, samples=samples)
