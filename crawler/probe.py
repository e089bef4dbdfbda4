"""``newsarchive probe URL``: what a crawl of a site would do, before crawling it.

One page is fetched; its links are sorted the way the spider sorts them (on the site or not,
allowed by robots.txt or not, an article by the profile's patterns, a listing to follow, or
left to the extraction classifier), and one candidate article is fetched and extracted, so a
user sees what the archive would hold before running ``crawl``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit
from urllib.robotparser import RobotFileParser

from core.errors import NewsArchiveError
from core.items import Article
from crawler import settings as defaults
from crawler.links import scan_page
from crawler.profiles import SiteProfile
from crawler.safety import SiteScope
from pipelines.extraction import extract_article

Fetch = Callable[[str], tuple[bytes, str | None, str | None]]  # body, charset, content type
Kind = Literal["article", "listing", "classifier", "off-site", "robots"]
CANDIDATES_TRIED = 3  # pages fetched at most to find one the classifier calls an article


@dataclass(frozen=True)
class LinkVerdict:
    url: str
    kind: Kind
    why: str

    @property
    def followed(self) -> bool:
        return self.kind in ("article", "listing", "classifier")


@dataclass(frozen=True)
class Extraction:
    url: str
    article: Article | None
    is_article: bool
    reason: str | None


@dataclass
class ProbeReport:
    url: str
    profile: SiteProfile
    page: Extraction  # what the classifier makes of the probed page itself
    links: list[LinkVerdict] = field(default_factory=list)
    samples: list[Extraction] = field(default_factory=list)  # the candidates tried, the last one shown
    robots: str = "not found"

    def counts(self) -> dict[str, int]:
        result: dict[str, int] = {}
        for link in self.links:
            result[link.kind] = result.get(link.kind, 0) + 1
        return result


def _matching_pattern(profile: SiteProfile, url: str) -> str | None:
    path = urlsplit(url).path or "/"
    return next((p for p in profile.article_patterns if re.search(p, path)), None)


def classify_link(
    url: str, profile: SiteProfile, scope: SiteScope, robots: RobotFileParser | None
) -> LinkVerdict:
    """What the spider does with a link found on a page of the site."""
    if not scope.allows(url):
        return LinkVerdict(url, "off-site", "not on the site's origins or allowed_domains")
    if robots is not None and not robots.can_fetch("*", url):
        return LinkVerdict(url, "robots", "disallowed by robots.txt")
    if not profile.article_patterns:
        return LinkVerdict(
            url, "classifier", "followed; no article_patterns, so the classifier decides once fetched"
        )
    pattern = _matching_pattern(profile, url)
    if pattern is not None:
        return LinkVerdict(url, "article", f"path matches article pattern '{pattern}'")
    return LinkVerdict(url, "listing", "followed for its links; no article pattern matches, so not stored")


def _robots(url: str, fetch: Fetch) -> tuple[RobotFileParser | None, str]:
    parts = urlsplit(url)
    robots_url = urlunsplit((parts.scheme, parts.netloc, "/robots.txt", "", ""))
    try:
        body, charset, _ = fetch(robots_url)
    except NewsArchiveError as exc:
        return None, f"not read ({exc}): everything allowed"
    parser = RobotFileParser(robots_url)
    parser.parse(body.decode(charset or "utf-8", errors="replace").splitlines())
    return parser, robots_url


def _extract(url: str, fetch: Fetch, selectors: Any) -> Extraction:
    body, charset, content_type = fetch(url)
    result = extract_article(body, url, http_charset=charset, content_type=content_type, selectors=selectors)
    return Extraction(url, result.article, result.is_article and result.article is not None, result.reason)


def _candidates(links: list[LinkVerdict]) -> list[str]:
    """Links worth extracting as a sample: pattern matches first, then (no patterns) the
    deepest paths, where a site keeps its stories."""
    by_pattern = [link.url for link in links if link.kind == "article"]
    if by_pattern:
        return by_pattern
    open_links = [link.url for link in links if link.kind == "classifier"]
    return sorted(open_links, key=lambda u: -len((urlsplit(u).path or "/").strip("/").split("/")))


def probe(url: str, profile: SiteProfile, fetch: Fetch, *, sample: str | None = None) -> ProbeReport:
    """Fetch ``url``, sort its links as a crawl of ``profile`` would, and extract one
    article: ``sample`` if given, else the first candidate the classifier accepts."""
    body, charset, content_type = fetch(url)
    page = extract_article(
        body, url, http_charset=charset, content_type=content_type, selectors=profile.selectors or None
    )
    scope = SiteScope.build(
        [*profile.start_urls, *profile.feeds, *profile.sitemaps, url], profile.allowed_domains
    )
    robots, robots_note = _robots(url, fetch)
    scan = scan_page(
        body,
        url,
        charset,
        max_links=defaults.NEWSARCHIVE_MAX_LINKS_PER_PAGE,
        max_url_length=defaults.NEWSARCHIVE_MAX_URL_LENGTH,
        max_elements=defaults.NEWSARCHIVE_MAX_PAGE_ELEMENTS,
    )
    report = ProbeReport(
        url=url,
        profile=profile,
        page=Extraction(url, page.article, page.is_article and page.article is not None, page.reason),
        links=[classify_link(link, profile, scope, robots) for link in scan.links],
        robots=robots_note,
    )
    selectors = profile.selectors or None
    if sample is not None:
        report.samples.append(_extract(sample, fetch, selectors))
        return report
    for candidate in _candidates(report.links)[:CANDIDATES_TRIED]:
        try:
            tried = _extract(candidate, fetch, selectors)
        except NewsArchiveError as exc:
            tried = Extraction(candidate, None, False, str(exc))
        report.samples.append(tried)
        if tried.is_article:
            break
    return report
