"""Fill an archive with N copies of the evaluation articles (for the export benchmark)."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

from pipelines.extraction import extract_article
from pipelines.warc_reader import read_warc_pages
from storage import open_archive, store_article

EVALDATA = Path(__file__).resolve().parents[2] / "shared" / "evaldata"


def main(db: str, copies: int) -> None:
    extracted = []
    for warc in sorted(EVALDATA.glob("*/pages.warc.gz")):
        for page in read_warc_pages(warc):
            result = extract_article(page.body, page.url, http_charset=page.encoding)
            if result.article is not None:
                extracted.append((page, result.article))
    archive = open_archive(db)
    for copy in range(copies):
        with archive.session() as session, session.begin():
            for page, article in extracted:
                url = f"{page.url.rstrip('/')}/copy{copy}"
                store_article(
                    session,
                    replace(page, url=url, final_url=url),
                    replace(article, url=url, canonical_url=None),
                )
    archive.close()


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
