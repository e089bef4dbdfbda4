"""Archive commands: ``db upgrade``, ``show``, ``search``, ``export``,
``reextract`` and ``stats``. Each parses options, calls one library function
in ``storage`` and prints; errors are the library's one-line errors."""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any

import click

from core.errors import InputError, RunFailed
from crawler.commands import table_console, warn_unknown_site

_HIGHLIGHT = re.compile(r"\*\*(.+?)\*\*")


class DateParam(click.ParamType):
    """``YYYY-MM-DD`` (a whole day, UTC) or an ISO 8601 date-time."""

    name = "DATE"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> date | datetime:
        if isinstance(value, date):
            return value
        try:
            if len(value) == 10:
                return date.fromisoformat(value)
            return datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            self.fail(f"{value!r} is not a date (YYYY-MM-DD) or ISO 8601 date-time", param, ctx)


DATE = DateParam()


def filter_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """The article filters shared by search, export, reextract and stats."""
    options = [
        click.option("--site", default=None, help="Only articles of this site."),
        click.option("--since", type=DATE, default=None, help="Published on or after DATE (UTC)."),
        click.option("--until", type=DATE, default=None, help="Published on or before DATE (UTC)."),
        click.option("--author", default=None, help="Author contains this text."),
        click.option("--lang", "language", default=None, help="Language code, e.g. zh (matches zh-CN)."),
        click.option(
            "--articles-only",
            is_flag=True,
            help="Leave out pages kept as uncertain (is_article is not 'yes': maybe a listing page).",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _filters(query: str | None = None, **options: Any) -> Any:
    from storage import ArticleFilter

    return ArticleFilter(
        query=query,
        site=options.get("site"),
        since=options.get("since"),
        until=options.get("until"),
        author=options.get("author"),
        language=options.get("language"),
        articles_only=bool(options.get("articles_only")),
    )


def _open(obj: Any, *, reading: bool = False) -> Any:
    """The archive; ``reading``: a SQLite file that cannot be written opens read-only."""
    from storage import open_archive

    return open_archive(obj.db, reading=reading)


def _progress(description: str) -> Any:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console(stderr=True)
    return Progress(
        TextColumn(description),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
        disable=not console.is_terminal,  # in a log or a pipe a bar is noise, and no longer one error line
    )


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


# -- db ----------------------------------------------------------------------------------------


@click.group("db")
def db_group() -> None:
    """Archive schema maintenance (every command also upgrades on its own).

    \b
    Examples:
      newsarchive db upgrade
      newsarchive --db postgresql+psycopg://localhost/news db upgrade
    """


@db_group.command("upgrade")
@click.pass_obj
def db_upgrade(obj: Any) -> None:
    """Create the archive or bring its schema up to this version.

    Every command does this on its own; this one only reports it. An archive
    written by a newer newsarchive is refused and left untouched.

    \b
    Example:
      newsarchive --db archive.db db upgrade
    """
    from storage.archive import create_archive_engine, upgrade_schema

    engine = create_archive_engine(obj.db)
    try:
        before, after = upgrade_schema(engine)
    finally:
        engine.dispose()
    if before == after:
        click.echo(f"Archive {obj.db} is up to date (schema {after}).")
    else:
        click.echo(f"Archive {obj.db} upgraded: schema {before or 'none'} -> {after}.")


# -- show --------------------------------------------------------------------------------------


@click.command("show")
@click.argument("ref", metavar="ID|URL")
@click.option("--versions", is_flag=True, help="List earlier versions, each with a diff to the next.")
@click.option("--raw", is_flag=True, help="Print the stored raw HTTP body instead (bytes as fetched).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.pass_obj
def show(obj: Any, ref: str, versions: bool, raw: bool, fmt: str) -> None:
    """Show one article by id or URL (any alias of it).

    \b
    Examples:
      newsarchive show 12
      newsarchive show https://www.xunjk.com/yanjiu/2022/0928/1.html --versions
      newsarchive show 12 --raw > page.html
    """
    from storage import article_versions, export_row, get_article, raw_page, raw_page_body, version_diff

    with _open(obj, reading=True) as archive, archive.session(read_only=True) as session:
        article = get_article(session, ref)
        if raw:
            body = raw_page_body(raw_page(session, article))
            sys.stdout.flush()
            sys.stdout.buffer.write(body)
            sys.stdout.buffer.flush()
            return
        row = export_row(article)
        history = article_versions(session, article) if versions else []
    if fmt == "json":
        if versions:
            row["versions"] = [
                {"version": v.version, "title": v.title, "text": v.text,
                 "fetched_at": _iso(v.fetched_at), "replaced_at": _iso(v.replaced_at),
                 "reason": v.reason, "extractor_version": v.extractor_version}
                for v in history
            ]  # fmt: skip
        click.echo(json.dumps(row, ensure_ascii=False, indent=2))
        return
    for key in ("id", "title", "canonical_url", "site", "author", "source", "published_at", "modified_at",
                "language", "version", "duplicate_of", "extractor_version", "fetched_at"):  # fmt: skip
        click.echo(f"{key}: {row[key] if row[key] is not None else '-'}")
    if row["tags"]:
        click.echo(f"tags: {', '.join(row['tags'])}")
    if not versions:
        click.echo("\n" + row["text"])
        return
    click.echo(f"\n{len(history)} version(s):")
    for view in history:
        state = f"replaced {_iso(view.replaced_at)} by {view.reason}" if view.replaced_at else "current"
        click.echo(f"  v{view.version}  fetched {_iso(view.fetched_at)}  {state}  [{view.extractor_version}]")
    for old, new in zip(history, history[1:], strict=False):
        click.echo("")
        click.echo(version_diff(old, new))


# -- search ------------------------------------------------------------------------------------


@click.command("search")
@click.argument("query")
@filter_options
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True)
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.pass_obj
def search_command(obj: Any, query: str, limit: int, fmt: str, **options: Any) -> None:
    """Full-text search, best match first, with a highlighted snippet.

    Chinese works at any length. On SQLite, terms of three or more characters
    use the FTS5 trigram index and FTS5 syntax works ("a phrase", OR, NOT);
    shorter terms are matched as substrings.

    \b
    Examples:
      newsarchive search 高新区 --since 2022-01-01
      newsarchive search 柳州 --site xunjk --format json
      newsarchive search '"知识产权" OR 排头兵'
    """
    from storage import search

    with _open(obj, reading=True) as archive, archive.session(read_only=True) as session:
        hits = search(session, query, limit=limit, **options)
    if fmt == "json":
        rows = [{**hit.__dict__, "published_at": _iso(hit.published_at)} for hit in hits]
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    from rich.table import Table
    from rich.text import Text

    table = Table(title=f"{len(hits)} hit(s) for {query}")
    for column in ("id", "published", "site", "title", "snippet"):
        table.add_column(column, overflow="fold")
    for hit in hits:
        snippet = Text()
        position = 0
        for match in _HIGHLIGHT.finditer(hit.snippet):
            snippet.append(hit.snippet[position : match.start()])
            snippet.append(match.group(1), style="bold yellow")
            position = match.end()
        snippet.append(hit.snippet[position:])
        published = hit.published_at.date().isoformat() if hit.published_at else "-"
        table.add_row(str(hit.id), published, hit.site or "-", hit.title or "", snippet)
    table_console().print(table)


# -- export ------------------------------------------------------------------------------------


@contextmanager
def _output(out: Path | None, binary: bool) -> Iterator[IO[Any]]:
    """stdout, or ``out`` written through a temporary file and renamed at the
    end, so a failed export leaves no half-written file behind. A device or a
    pipe (``/dev/null``, a FIFO) is written directly: renaming over it would
    replace it with a regular file."""
    if out is None:
        yield sys.stdout.buffer if binary else sys.stdout
        return
    try:
        special = out.exists() and not out.is_file() and not out.is_dir()
    except OSError:
        special = False
    target = out if special else out.with_name(out.name + ".part")
    try:
        stream = target.open("wb") if binary else target.open("w", encoding="utf-8", newline="")
    except OSError as exc:
        raise InputError(f"cannot write {out}: {exc.strerror or exc}") from exc
    try:
        with stream:
            yield stream
        if not special:
            os.replace(target, out)
    except OSError as exc:  # a full disk, a vanished folder
        raise InputError(f"cannot write {out}: {exc.strerror or exc}") from exc
    finally:
        if not special:
            target.unlink(missing_ok=True)


@contextmanager
def _bar(session: Any, filters: Any, out: Path | None, fmt: str) -> Iterator[Callable[[int], None] | None]:
    """A progress bar on stderr when writing to a file (stdout is the data)."""
    if out is None:
        yield None
        return
    from storage import count_articles

    with _progress(f"Exporting {fmt}") as bar:
        task = bar.add_task("export", total=count_articles(session, filters))
        yield lambda n: bar.advance(task, n)


@click.command("export")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["jsonl", "csv", "md", "txt", "warc"]),
    default="jsonl",
    show_default=True,
)
@click.option(
    "--out", type=click.Path(path_type=Path), default=None, help="File (folder for md); default stdout."
)
@click.option("--query", default=None, help="Only articles matching this search query.")
@filter_options
@click.pass_obj
def export(obj: Any, fmt: str, out: Path | None, query: str | None, **options: Any) -> None:
    """Export articles, streaming (any archive size, constant memory).

    jsonl/csv/txt: one record per article (fields in docs/archive.md);
    md: one Markdown file per article in the --out folder, metadata as front
    matter; warc: the stored raw responses, for `import` and replay tools.

    \b
    Examples:
      newsarchive export --format jsonl --out articles.jsonl
      newsarchive export --format md --out articles/ --site xunjk
      newsarchive export --format warc --out pages.warc.gz --since 2024-01-01
      newsarchive export --format csv --query 高新区 > hits.csv
    """
    from storage import iter_export_rows
    from storage.export import write_csv, write_jsonl, write_markdown, write_txt, write_warc

    if fmt == "md" and out is None:
        raise InputError("--format md writes one file per article: give a folder with --out")
    if out is not None and fmt != "md" and out.is_dir():
        raise InputError(f"cannot write {out}: it is a directory")
    filters = _filters(query, **options)
    with _open(obj, reading=True) as archive, archive.session(read_only=True) as session:
        warn_unknown_site(session, filters.site)
        if fmt == "md":
            assert out is not None
            with _bar(session, filters, out, fmt) as advance:
                count = write_markdown(iter_export_rows(session, filters), out, advance)
        elif fmt == "warc":
            with _output(out, binary=True) as stream, _bar(session, filters, out, fmt) as advance:
                count = write_warc(session, stream, filters, advance)
        else:
            writer = {"jsonl": write_jsonl, "csv": write_csv, "txt": write_txt}[fmt]
            with _output(out, binary=False) as stream, _bar(session, filters, out, fmt) as advance:
                count = writer(iter_export_rows(session, filters), stream, advance)
    if out is not None:
        click.echo(f"Exported {count} article(s) to {out}.", err=True)


# -- reextract ---------------------------------------------------------------------------------


@click.command("reextract")
@filter_options
@click.option(
    "--workers", default=2, show_default=True, type=click.IntRange(1, 64), help="Extraction processes."
)
@click.pass_obj
def reextract_command(obj: Any, workers: int, **options: Any) -> None:
    """Run the current extractor again on the stored raw pages.

    A changed title or text becomes a new version (reason "reextract"); every
    article records the extractor version that produced it.

    \b
    Examples:
      newsarchive reextract --site xunjk
      newsarchive reextract --since 2024-01-01 --workers 4
    """
    from pipelines.reextract import reextract
    from pipelines.run_record import recorded_run
    from storage import count_articles

    filters = _filters(**options)
    with _open(obj) as archive:
        with archive.session(read_only=True) as session:
            warn_unknown_site(session, filters.site)
            total = count_articles(session, filters)
        with _progress("Re-extracting") as bar, recorded_run(archive, "reextract", filters.site) as run:
            task = bar.add_task("reextract", total=total)
            stats = reextract(archive, filters, workers=workers, run_id=run.run_id,
                              progress=lambda n: bar.advance(task, n))
            run.stats = {"pages_fetched": stats.checked, "articles_updated": stats.changed,
                         "articles_unchanged": stats.unchanged,
                         **{f"kept_{k}": v for k, v in stats.failed.items()}}
            run.errors = {"storage": stats.not_stored} if stats.not_stored else {}
            run.failure = stats.failure
    failed = sum(stats.failed.values())
    click.echo(
        f"Checked {stats.checked}: {stats.changed} changed (new version), {stats.unchanged} unchanged, "
        f"{failed} kept as they were."
    )
    for reason, count in stats.failed.most_common():  # no article found (why), or a damaged raw page
        click.echo(f"  {reason}: {count}")
    if stats.not_stored:
        raise RunFailed(f"cannot write the archive: {stats.not_stored} articles not stored ({stats.failure})")


# -- stats -------------------------------------------------------------------------------------


@click.command("stats")
@filter_options
@click.option(
    "--days", type=click.IntRange(min=0), default=14, show_default=True, help="Days in the per-day table."
)
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.pass_obj
def stats_command(obj: Any, days: int, fmt: str, **options: Any) -> None:
    """Articles per site and per day, and the share missing a date or author.

    A site whose missing-date or missing-author share jumps has probably
    changed its layout.

    \b
    Examples:
      newsarchive stats
      newsarchive stats --site xunjk --days 30 --format json
    """
    from storage import articles_per_day, site_stats

    filters = _filters(**options)
    with _open(obj, reading=True) as archive, archive.session(read_only=True) as session:
        warn_unknown_site(session, filters.site)
        sites = site_stats(session, filters)
        per_day = articles_per_day(session, filters)
    recent_days = sorted({day for _, day, _ in per_day}, reverse=True)[:days]
    per_day = [row for row in per_day if row[1] in recent_days]
    if fmt == "json":
        data = {
            "sites": [
                {"site": s.site, "articles": s.articles, "duplicates": s.duplicates,
                 "missing_date": s.missing_date, "missing_date_share": round(s.missing_date_share, 4),
                 "missing_author": s.missing_author, "missing_author_share": round(s.missing_author_share, 4),
                 "uncertain": s.uncertain, "uncertain_share": round(s.uncertain_share, 4),
                 "last_fetched": _iso(s.last_fetched)}
                for s in sites
            ],
            "per_day": [{"site": site, "day": day.isoformat(), "articles": n} for site, day, n in per_day],
        }  # fmt: skip
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    from rich.table import Table

    console = table_console()
    table = Table(title="Articles per site")
    for column in ("site", "articles", "duplicates", "no date", "no author", "uncertain", "last fetched"):
        table.add_column(column, justify="right" if column not in ("site", "last fetched") else "left")
    for s in sites:
        table.add_row(
            s.site or "-", str(s.articles), str(s.duplicates),
            f"{s.missing_date_share:.0%}", f"{s.missing_author_share:.0%}", f"{s.uncertain_share:.0%}",
            s.last_fetched.strftime("%Y-%m-%d %H:%M") if s.last_fetched else "-",
        )  # fmt: skip
    console.print(table)
    if per_day:
        day_table = Table(title=f"Articles per day (last {len(recent_days)} publication days, UTC)")
        for column in ("day", "site", "articles"):
            day_table.add_column(column)
        for site, day, n in per_day:
            day_table.add_row(day.isoformat(), site or "-", str(n))
        console.print(day_table)
    if not sites:
        click.echo("The archive has no articles yet.", err=True)


COMMANDS: list[click.Command] = [db_group, show, search_command, export, reextract_command, stats_command]
