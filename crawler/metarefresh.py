"""Meta-refresh redirects found in the head of a page, without decoding all of it.

Scrapy's ``MetaRefreshMiddleware`` looks for ``<meta http-equiv=refresh>`` in the first 4,096
characters of ``response.text``, and ``response.text`` decodes the whole body and keeps the
text on the response for as long as the response lives: on a crawl of 300 KB news pages
that was a megabyte of text per response in flight (about 30 MB of the crawl's peak memory)
and a decode per page the crawl never used. :class:`HeadMetaRefreshMiddleware` decodes only
enough of the body for those 4,096 characters, the same way ``response.text`` decodes
(``html_to_unicode`` with the response's encoding: a byte-order mark wins), so it finds
the same refresh and the same ``<base href>`` as Scrapy's.
"""

from __future__ import annotations

from typing import cast

from scrapy import Request, Spider
from scrapy.downloadermiddlewares.redirect import MetaRefreshMiddleware
from scrapy.http import HtmlResponse, Response
from scrapy.utils.httpobj import urlparse_cached
from w3lib import html
from w3lib.encoding import html_to_unicode

__all__ = ["HEAD_CHARS", "HeadMetaRefreshMiddleware", "head_text"]

HEAD_CHARS = 4096  # what Scrapy's get_meta_refresh and get_base_url read
# bytes read per character wanted: 4 for UTF-8 and UTF-32, room for the escapes of ISO-2022
_MAX_CHAR_BYTES = 8


def head_text(response: HtmlResponse, chars: int = HEAD_CHARS) -> str:
    """``response.text[:chars]``, decoding only the bytes that hold them."""
    encoding = response.encoding
    cut = response.body[: chars * _MAX_CHAR_BYTES + 4]  # + a byte-order mark
    return html_to_unicode(f"charset={encoding}", cut)[1][:chars]


class HeadMetaRefreshMiddleware(MetaRefreshMiddleware):
    """``MetaRefreshMiddleware`` (same settings, same decisions) reading the head of the page
    only; it replaces Scrapy's in ``DOWNLOADER_MIDDLEWARES``."""

    def process_response(  # type: ignore[override]
        self, request: Request, response: Response, spider: Spider | None = None
    ) -> Request | Response:
        if (
            request.meta.get("dont_redirect", False)
            or request.method == "HEAD"
            or not isinstance(response, HtmlResponse)
            or urlparse_cached(request).scheme not in {"http", "https"}
        ):
            return response
        text = head_text(response)
        base = html.get_base_url(text, response.url, response.encoding)
        interval, url = html.get_meta_refresh(text, base, response.encoding, ignore_tags=self._ignore_tags)
        if not url:
            return response
        redirected = self._redirect_request_using_get(request, response, url)
        if urlparse_cached(redirected).scheme not in {"http", "https"}:
            return response
        if cast("float", interval) < self._maxdelay:
            return self._redirect(redirected, request, "meta refresh")
        return response
