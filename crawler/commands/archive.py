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
from crawler.commands import SHARD, table_console, warn_unknown_site

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
    """The archive; ``reading``: it must exist already (a mistyped path is an error, not a new
    empty archive), and a SQLite file that cannot be written opens read-only."""
    from storage import open_archive

    return open_archive(obj.db, create=not reading, reading=reading)


@contextmanager
def _reading(obj: Any) -> Iterator[Any]:
    """What the read commands read from: on an archive at the current schema, the standard
    library's sqlite3 or psycopg alone (no SQLAlchemy to import: ``storage.reader``); otherwise
    a read-only SQLAlchemy session. The storage functions take either, with the same SQL."""
    from storage.reader import open_postgres_reader, open_sqlite_reader

    reader = open_sqlite_reader(obj.db) or open_postgres_reader(obj.db)
    if reader is not None:
        with reader:
            yield reader
        return
    with _open(obj, reading=True) as archive, archive.session(read_only=True) as session:
        yield session


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
    if raw:
        from storage import get_article, raw_page, raw_page_body

        with _open(obj, reading=True) as archive, archive.session(read_only=True) as session:
            body = raw_page_body(raw_page(session, get_article(session, ref)))
        sys.stdout.flush()
        sys.stdout.buffer.write(body)
        sys.stdout.buffer.flush()
        return
    from storage import export_row, read_article, read_versions, version_diff

    with _reading(obj) as source:
        article = read_article(source, ref)
        row = export_row(article)
        history = read_versions(source, article) if versions else []
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


def _page_options(func: Callable[..., Any]) -> Callable[..., Any]:
    options = [
        click.option(
            "--limit", type=click.IntRange(min=1), default=20, show_default=True, help="Hits per page."
        ),
        click.option(
            "--offset",
            type=click.IntRange(min=0),
            default=None,
            help="Skip this many hits (0 = from the first).",
        ),
        click.option("--page", type=click.IntRange(min=1), default=None, help="Page N of --limit hits each."),
        click.option(
            "--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _run_search(
    obj: Any, query: str, limit: int, offset: int | None, page: int | None, fmt: str, **options: Any
) -> None:
    from storage import known_sites, search_page

    if offset is not None and page is not None:
        raise click.UsageError("give --offset or --page, not both")
    start = offset if offset is not None else ((page or 1) - 1) * limit
    with _reading(obj) as session:
        result = search_page(session, query, limit=limit, offset=start, **options)
        site = options.get("site")
        sites = known_sites(session) if site and result.total == 0 else []
    if site and result.total == 0 and site not in sites:
        known = ", ".join(sites) if sites else "none"
        click.echo(f"Warning: no articles from site {site!r}; known sites: {known}", err=True)
    if fmt == "json":  # the hits alone, as before paging: the total is in the table's title
        rows = [{**hit.__dict__, "published_at": _iso(hit.published_at)} for hit in result.hits]
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    from rich.table import Table
    from rich.text import Text

    label = f"hit(s) for {query}" if query.strip() else "article(s)"
    table = Table(title=f"{result.describe()} {label}")
    for column in ("id", "published", "site", "title", "snippet"):
        table.add_column(column, overflow="fold")
    for hit in result.hits:
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
    shown_to = result.offset + len(result.hits)
    if result.hits and (shown_to < result.total or not result.total_exact):
        click.echo(f"Next page: --offset {shown_to} (or --page {shown_to // limit + 1}).", err=True)


class QueryCommand(click.Command):
    """A command whose arguments are query words, any of which may start with "-"
    (`search -police`, `search police -station`): every argument that is not one of
    the command's options (or an option's value) is a query word, even `-hello`,
    which click would read as -h -e -l -l -o."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        takes_value: dict[str, bool] = {}
        for param in self.get_params(ctx):
            if isinstance(param, click.Option):
                for name in (*param.opts, *param.secondary_opts):
                    takes_value[name] = not param.is_flag and not param.count
        options: list[str] = []
        words: list[str] = []
        rest = iter(args)
        for arg in rest:
            name = arg.split("=", 1)[0]
            if arg == "--":
                words.extend(rest)
            elif name in takes_value:
                options.append(arg)
                if takes_value[name] and "=" not in arg:
                    value = next(rest, None)
                    if value is not None:  # its value, whatever it looks like
                        options.append(value)
            else:
                words.append(arg)
        return super().parse_args(ctx, [*options, *(["--", *words] if words else [])])


@click.command("search", cls=QueryCommand)
@click.argument("query", nargs=-1)
@filter_options
@_page_options
@click.pass_obj
def search_command(obj: Any, query: tuple[str, ...], **options: Any) -> None:
    """Full-text search, best match first, with a highlighted snippet and the number
    of hits; no query lists the articles, newest first.

    \b
    Query language (SQLite and PostgreSQL alike):
      高新区            contains the characters (Chinese: any length, 1 or more)
      police station    both words (AND); police OR station: either
      "police station"  the phrase; econom* a word starting with econom
      -police, NOT police   without it (alone: every article without it)
      NEAR(police station)  within 10 words of each other; NEAR(a b, 5): within 5
    Traditional and simplified characters find each other (中国 finds 中國).
    Words of the query may be given unquoted: a word starting with "-" is a query
    word (use `--` before the query if it clashes with an option).

    \b
    Examples:
      newsarchive search 高新区 --since 2022-01-01
      newsarchive search 柳州 --site demo --format json
      newsarchive search '"知识产权" OR 排头兵' --page 2
      newsarchive search police -station
      newsarchive search          # every article, newest first
    """
    _run_search(obj, " ".join(query), **options)


@click.command("list")
@filter_options
@_page_options
@click.pass_obj
def list_command(obj: Any, **options: Any) -> None:
    """List articles newest published first (undated last), page by page, with the total.

    \b
    Examples:
      newsarchive list
      newsarchive list --site demo --page 2
      newsarchive list --since 2024-01-01 --limit 50 --format json
    """
    _run_search(obj, "", **options)


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
      newsarchive export --format md --out articles/ --site demo
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
@click.option(
    "--shard", type=SHARD, default=None,
    help="Only shard K of N (articles whose id is K-1 modulo N): run 1/N … N/N on N machines. "
    "Resumable: a re-run of a shard whose run stopped goes on where it stopped.",
)
@click.option("--redo", is_flag=True, help="With --shard: run a shard again that an earlier run finished.")
@click.pass_obj
def reextract_command(obj: Any, workers: int, shard: Any, redo: bool, **options: Any) -> None:
    """Run the current extractor again on the stored raw pages.

    A changed title or text becomes a new version (reason "reextract"); every
    article records the extractor version that produced it.

    With --shard K/N the work is split across processes or machines: each takes the
    articles whose id is K-1 modulo N, so N of them given 1/N … N/N (with the same
    filters) cover every article once. Each shard's progress is kept in the archive:
    a shard whose process was killed is resumed by running the same command again,
    a shard another live process is running is refused, a finished one is skipped
    (--redo runs it again).

    \b
    Examples:
      newsarchive reextract --site demo
      newsarchive reextract --since 2024-01-01 --workers 4
      newsarchive --db postgresql+psycopg://db/news reextract --shard 1/3   # host 1
      newsarchive --db postgresql+psycopg://db/news reextract --shard 2/3   # host 2
      newsarchive --db postgresql+psycopg://db/news reextract --shard 3/3   # host 3
    """
    from pipelines.reextract import reextract
    from pipelines.run_record import recorded_run
    from storage import count_articles

    filters = _filters(**options)
    if redo and shard is None:
        raise click.UsageError("--redo needs --shard")
    with _open(obj) as archive:
        with archive.session(read_only=True) as session:
            warn_unknown_site(session, filters.site)
            total = count_articles(session, filters)
        if shard is not None:
            total = -(-total // shard.count)  # about; the ids are spread evenly enough for a bar
        with _progress("Re-extracting") as bar, recorded_run(archive, "reextract", filters.site) as run:
            task = bar.add_task("reextract", total=total)
            stats = reextract(archive, filters, workers=workers, run_id=run.run_id,
                              progress=lambda n: bar.advance(task, n), shard=shard, redo=redo)
            run.stats = {"pages_fetched": stats.checked, "articles_updated": stats.changed,
                         "articles_unchanged": stats.unchanged,
                         **{f"kept_{k}": v for k, v in stats.failed.items()}}
            if shard is not None:
                run.stats |= {"shard": str(shard), "resumed_after_article": stats.resumed_after}
            run.errors = {"storage": stats.not_stored} if stats.not_stored else {}
            run.failure = stats.failure
    if stats.already_done:
        click.echo(f"Shard {shard} was finished by an earlier run: nothing to do (--redo runs it again).")
        return
    if stats.resumed_after:
        click.echo(f"Shard {shard}: resumed after article {stats.resumed_after}, "
                   "where an earlier run stopped.")
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
      newsarchive stats --site demo --days 30 --format json
    """
    from storage import articles_per_day, site_stats

    filters = _filters(**options)
    with _reading(obj) as session:
        warn_unknown_site(session, filters.site)
        sites = site_stats(session, filters)
        per_day = articles_per_day(session, filters, days=days)
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


COMMANDS: list[click.Command] = [
    db_group, show, search_command, list_command, export, reextract_command, stats_command,
]  # fmt: skip
