"""``probe``: point the tool at a site and see what a crawl would follow and store."""

from __future__ import annotations

import json
from typing import Any

import click
from rich.markup import escape

from core.errors import ConfigError
from crawler.commands import table_console

SHOWN_LINKS = 40
KIND_LABELS = {
    "article": "article",
    "listing": "follow",
    "classifier": "follow?",
    "off-site": "skip",
    "robots": "skip",
}


def _extraction_json(extraction: Any) -> dict[str, Any]:
    article = extraction.article
    return {
        "url": extraction.url,
        "is_article": extraction.is_article,
        "reason": extraction.reason,
        "title": article.title if article else None,
        "author": article.author if article else None,
        "published_at": article.published_at.isoformat() if article and article.published_at else None,
        "language": article.language if article else None,
        "text": article.text if article else None,
    }


def _verdict(extraction: Any) -> str:
    if extraction.is_article:
        return "an article" + (f" ({extraction.reason})" if extraction.reason else "")
    return f"not an article ({extraction.reason or 'no text'})"


@click.command("probe")
@click.argument("url")
@click.option(
    "--site", default=None, help="Judge links by this site profile (default: an ad-hoc one, as `crawl URL`)."
)
@click.option(
    "--article", "sample", default=None, metavar="URL", help="Extract this page as the sample article."
)
@click.option("--all", "show_all", is_flag=True, help=f"List every link (default: the first {SHOWN_LINKS}).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.pass_obj
def probe_command(obj: Any, url: str, site: str | None, sample: str | None, show_all: bool, fmt: str) -> None:
    """Fetch one page and show what a crawl would do: which links it follows, which count
    as articles and why (the profile's article_patterns, or the extraction classifier when
    there are none), and what extraction gives for one of them. Nothing is stored.

    \b
    Examples:
      newsarchive probe https://example.com/news/
      newsarchive probe https://news.example.com/world/ --site example
      newsarchive probe https://example.com/ --article https://example.com/2024/05/story.html
    """
    from crawler.commands.extract import _fetch
    from crawler.probe import probe
    from crawler.profiles import check_url, load_profiles, profile_for_urls

    for given in (url, sample):
        if given is None:
            continue
        try:
            check_url(given)
        except TypeError as exc:
            raise ConfigError(str(exc)) from None
    profile = load_profiles(obj.config).get(site) if site else profile_for_urls([url])
    report = probe(url, profile, _fetch, sample=sample)
    if fmt == "json":
        click.echo(
            json.dumps(
                {
                    "url": report.url,
                    "profile": profile.name,
                    "article_patterns": list(profile.article_patterns),
                    "robots": report.robots,
                    "page": _extraction_json(report.page),
                    "links": [
                        {"url": ln.url, "kind": ln.kind, "followed": ln.followed, "why": ln.why}
                        for ln in report.links
                    ],
                    "counts": report.counts(),
                    "samples": [_extraction_json(s) for s in report.samples],
                },
                ensure_ascii=False,
                indent=2,
            )
        )
        return
    _print_report(report, show_all)


def _print_report(report: Any, show_all: bool) -> None:
    console = table_console()
    profile = report.profile
    patterns = ", ".join(profile.article_patterns) or "none: the extraction classifier decides"
    console.print(f"[bold]{escape(report.url)}[/bold] — profile [bold]{escape(profile.name)}[/bold]")
    console.print(f"  article patterns: {escape(patterns)}")
    console.print(f"  robots.txt: {escape(report.robots)}")
    console.print(f"  this page: {escape(_verdict(report.page))}")
    counts = report.counts()
    followed = sum(n for kind, n in counts.items() if kind in ("article", "listing", "classifier"))
    console.print(
        f"\n{len(report.links)} links: {followed} followed ({counts.get('article', 0)} articles by pattern, "
        f"{counts.get('listing', 0)} listings, {counts.get('classifier', 0)} left to the classifier), "
        f"{counts.get('off-site', 0)} off-site, {counts.get('robots', 0)} disallowed by robots.txt"
    )
    shown = report.links if show_all else report.links[:SHOWN_LINKS]
    for link in shown:
        console.print(f"  {KIND_LABELS[link.kind]:<8} {escape(link.url)}  [dim]{escape(link.why)}[/dim]")
    if len(shown) < len(report.links):
        console.print(f"  … {len(report.links) - len(shown)} more (--all lists them)")
    if not report.samples:
        console.print("\nNo candidate article among the links.")
        return
    for tried in report.samples[:-1]:
        console.print(f"\nTried {escape(tried.url)}: {escape(_verdict(tried))}")
    last = report.samples[-1]
    console.print(f"\nSample: [bold]{escape(last.url)}[/bold] is {escape(_verdict(last))}")
    article = last.article
    if article is None:
        return
    published = article.published_at.isoformat() if article.published_at else "-"
    for label, value in (
        ("title", article.title),
        ("author", article.author),
        ("published", published),
        ("language", article.language),
    ):
        console.print(f"  {label}: {escape(str(value or '-'))}")
    text = " ".join(article.text.split())
    console.print(f"  text ({len(text)} characters): {escape(text[:300])}{'…' if len(text) > 300 else ''}")


COMMANDS: list[click.Command] = [probe_command]
