"""``--shard K/N``: one of N parts of a job, the same on every machine.

Shard K (1..N) of N takes the articles whose id is K-1 modulo N, or the files whose name
hashes to K-1 modulo N: N processes given 1/N … N/N cover everything exactly once, with no
coordination between them.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import PurePath

from core.errors import InputError

__all__ = ["Shard"]


@dataclass(frozen=True)
class Shard:
    index: int  # 1..count
    count: int

    @classmethod
    def parse(cls, text: str) -> Shard:
        match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
        if match is None:
            raise InputError(f"{text!r} is not a shard: K/N, e.g. 2/4 (the second of four)")
        index, count = int(match[1]), int(match[2])
        if not 1 <= index <= count:
            raise InputError(f"shard {text!r}: K must be between 1 and N")
        return cls(index, count)

    @property
    def remainder(self) -> int:
        """Article ids of this shard are this modulo ``count``."""
        return self.index - 1

    def has_name(self, path: str | PurePath) -> bool:
        """Whether the file ``path`` belongs to this shard: by a hash of its name (not its
        folder, which may differ between machines)."""
        digest = hashlib.sha256(PurePath(path).name.encode()).digest()
        return int.from_bytes(digest[:8], "big") % self.count == self.remainder

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"
