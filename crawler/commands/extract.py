"""``extract``, ``import`` and ``eval``: extraction without the crawler."""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import re
import tempfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from core.errors import InputError, RunFailed
from core.keys import DROPPED_PREFIX, ERROR_PREFIX, STORED_PREFIX
from core.shard import Shard
from crawler.commands import SHARD, table_console

MAX_EXTRACT_BYTES = 50 * 1024 * 1024


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def article_json(article: Any) -> dict[str, Any]:
    return {key: _jsonable(value) for key, value in dataclasses.asdict(article).items()}


def _user_agent() -> str:
    """The crawl's User-Agent, with the same environment overrides."""
    from crawler.identity import user_agent

    return os.environ.get("NEWSARCHIVE_USER_AGENT") or user_agent(os.environ.get("NEWSARCHIVE_CONTACT"))


def _read_source(source: str) -> tuple[bytes, str | None, str | None]:
    """Body, HTTP charset and content type of a local file or an http(s) URL."""
    if source.startswith(("http://", "https://")):
        return _fetch(source)
    path = Path(source)
    try:
        if path.stat().st_size > MAX_EXTRACT_BYTES:
            raise InputError(f"{source} is larger than {MAX_EXTRACT_BYTES // 2**20} MiB")
        return path.read_bytes(), None, None
    except OSError as exc:
        raise InputError(f"cannot read {source}: {exc.strerror or exc}") from exc


def _fetch(url: str) -> tuple[bytes, str | None, str | None]:
    import urllib3
    from w3lib.encoding import http_content_type_encoding

    http = urllib3.PoolManager(
        headers={"User-Agent": _user_agent()}, timeout=urllib3.Timeout(connect=10, read=30)
    )
    # urllib3 logs every retry as a warning with the whole exception; the one
    # error line below says it (-vv still shows them)
    pool_logger = logging.getLogger("urllib3.connectionpool")
    quiet = logging.getLogger().getEffectiveLevel() > logging.DEBUG and not pool_logger.level
    if quiet:
        pool_logger.setLevel(logging.ERROR)
    try:
        response = http.request("GET", url, preload_content=False, retries=urllib3.Retry(2, redirect=5))
        body = response.read(MAX_EXTRACT_BYTES + 1)
        response.release_conn()
    except urllib3.exceptions.HTTPError as exc:
        raise InputError(f"could not fetch {url}: {_fetch_failure(exc)}") from exc
    finally:
        if quiet:
            pool_logger.setLevel(logging.NOTSET)
    if response.status >= 400:
        raise InputError(f"{url} answered HTTP {response.status}")
    if len(body) > MAX_EXTRACT_BYTES:
        raise InputError(f"{url} is larger than {MAX_EXTRACT_BYTES // 2**20} MiB")
    content_type = response.headers.get("Content-Type")
    return body, http_content_type_encoding(content_type), content_type


def _fetch_failure(exc: Exception) -> str:
    """Why a fetch failed, in a few words: "host not found", "Connection refused" …"""
    import urllib3

    reason = getattr(exc, "reason", None) or exc
    if isinstance(reason, urllib3.exceptions.NameResolutionError):
        return "host not found"
    if isinstance(reason, urllib3.exceptions.NewConnectionError):  # a ConnectTimeoutError subclass
        text = str(reason).rsplit(": ", 1)[-1]
        return re.sub(r"^\[Errno -?\d+\]\s*", "", text) or "cannot connect"
    if isinstance(reason, urllib3.exceptions.ConnectTimeoutError | urllib3.exceptions.ReadTimeoutError):
        return "timed out"
    if isinstance(reason, urllib3.exceptions.SSLError):
        return "TLS error"
    if isinstance(reason, urllib3.exceptions.ResponseError):
        return str(reason).splitlines()[0]
    return type(reason).__name__


@click.command("extract")
@click.argument("source", metavar="PATH_OR_URL")
@click.option("--url", help="The page's URL, when SOURCE is a local file (used for dates and links).")
def extract_command(source: str, url: str | None) -> None:
    """Extract one page and print the article as JSON (no database).

    \b
    Examples:
      newsarchive extract page.html --url https://www.xunjk.com/2022/0914/123.html
      newsarchive extract https://example.com/news/story.html
    """
    from pipelines.extraction import extract_article

    body, charset, content_type = _read_source(source)
    page_url = url or (
        source if source.startswith(("http://", "https://")) else Path(source).resolve().as_uri()
    )
    result = extract_article(body, page_url, http_charset=charset, content_type=content_type)
    if result.article is None:
        raise InputError(f"no article found in {source} ({result.reason})")
    output = article_json(result.article)
    output["is_article"] = result.is_article
    if result.reason:
        output["reason"] = result.reason
    click.echo(json.dumps(output, ensure_ascii=False, indent=2))


class ByteSize(click.ParamType):
    """A number of bytes: ``16777216``, ``512KiB``, ``16MiB``, ``1GiB`` (or KB/MB/GB, also 1024-based)."""

    name = "size"
    _UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30}

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int):
            return value
        match = re.fullmatch(r"\s*(\d+)\s*([kmg]?)(?:i?b)?\s*", str(value), re.IGNORECASE)
        if match is None or int(match[1]) < 1:
            self.fail(f"{value!r} is not a size (e.g. 16777216, 512KiB, 16MiB)", param, ctx)
        return int(match[1]) * self._UNITS[match[2].lower()]


def _default_dictionary_samples() -> int:
    from crawler.settings import NEWSARCHIVE_RAW_DICTIONARY_SAMPLES

    return NEWSARCHIVE_RAW_DICTIONARY_SAMPLES


def _default_max_record_size() -> int:
    from crawler.settings import DOWNLOAD_MAXSIZE

    return DOWNLOAD_MAXSIZE


@click.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--workers",
    default=lambda: os.cpu_count() or 2,
    show_default="every core",
    type=click.IntRange(1, 64),
    help="Extraction processes.",
)
@click.option(
    "--max-record-size",
    type=ByteSize(),
    default=_default_max_record_size,
    show_default="16MiB, the crawl's DOWNLOAD_MAXSIZE",
    help="Skip (and count as too_large) a record whose content is larger, without reading it.",
)
@click.option(
    "--shard", type=SHARD, default=None,
    help="Only the files of shard K of N (by a hash of the file's name): give every machine "
    "the same list and 1/N … N/N. Implies --claim.",
)
@click.option(
    "--claim", is_flag=True,
    help="Claim each file in the archive before importing it: importers given the same files "
    "take different ones, skip files already imported, and resume a file whose importer died.",
)
@click.option(
    "--redo", is_flag=True, help="With --claim or --shard: import again files an earlier run finished."
)
@click.option(
    "--dictionary-samples",
    type=click.IntRange(0, 10_000),
    default=_default_dictionary_samples,
    show_default="64, the crawl's NEWSARCHIVE_RAW_DICTIONARY_SAMPLES",
    help="A site with no zstd dictionary for its raw pages gets one learned from its first this "
    "many article pages (8 MiB of them at most); 0: never learn one.",
)
@click.pass_obj
def import_command(
    obj: Any, paths: tuple[Path, ...], workers: int, max_record_size: int, shard: Shard | None, claim: bool,
    redo: bool, dictionary_samples: int,
) -> None:
    """Import WARC / WARC.gz files: each HTML response is extracted and stored as if crawled.

    A damaged file (truncated, a corrupt gzip member) is salvaged: every record that can be
    read is imported, then the damage is reported in one line and the exit status is 1.

    Many files on several machines: give each importer the same list with --shard K/N
    (a fixed split by file name, N importers cover every file once) or --claim (each
    importer claims the next file nobody has in the archive, so any number of importers
    share the list as they go). Either way the archive records each file's progress: a
    file is imported once, and the file of an importer that was killed is resumed after
    its last committed pages by the next importer (or re-run) that reaches it.

    \b
    Examples:
      newsarchive import crawl-2024-05.warc.gz
      newsarchive --db news.db import a.warc.gz b.warc
      newsarchive import --max-record-size 64MiB big-pages.warc.gz
      newsarchive import --dictionary-samples 0 one-page-per-site.warc.gz
      newsarchive --db postgresql+psycopg://db/news import --shard 2/4 /data/warcs/*.warc.gz
      newsarchive --db postgresql+psycopg://db/news import --claim /data/warcs/*.warc.gz
    """
    for path in paths:
        if not path.is_file():
            raise InputError(f"{path} is not a file")
    if redo and not (claim or shard):
        raise click.UsageError("--redo needs --claim or --shard")
    chosen = [path for path in paths if shard is None or shard.has_name(path)]
    if not chosen:
        click.echo(f"No file of shard {shard} among the {len(paths)} given.")
        return
    stats = _run_import(obj.db, chosen, workers, quiet=False, max_record_size=max_record_size,
                        track=claim or shard is not None, redo=redo, dictionary_samples=dictionary_samples)
    outcomes = ", ".join(f"{n} {k}" for k, n in sorted(stats.outcomes.items())) or "nothing stored"
    dropped = ", ".join(f"{n} {k}" for k, n in sorted(stats.dropped.items()))
    for line in stats.skipped:
        click.echo(f"Skipped {line}", err=True)
    for line in stats.resumed:
        click.echo(f"Resumed {line}")
    done = len(chosen) - len(stats.skipped)
    click.echo(f"Imported {stats.pages} pages from {done} file(s): {outcomes}")
    if dropped:
        click.echo(f"Not stored: {dropped}")
    if stats.failed:
        raise RunFailed(f"cannot write the archive: {stats.failed} articles not stored ({stats.failure})")
    _raise_for_damage(stats)
    if stats.template_failure:
        raise RunFailed(_template_line(stats))


def _template_line(stats: Any) -> str:
    return (f"cannot refresh the site templates ({stats.template_failure}); every article is stored, "
            "the next import or crawl of these sites learns them")


def _raise_for_damage(stats: Any) -> None:
    if stats.damage:
        raise InputError(_damage_line(stats))


def _damage_line(stats: Any) -> str:
    return "damaged WARC, every readable record imported: " + "; ".join(stats.damage)


def _run_import(
    db: str, paths: list[Path], workers: int, *, quiet: bool, max_record_size: int | None = None,
    track: bool = False, redo: bool = False, dictionary_samples: int | None = None,
) -> Any:
    from pipelines.run_record import recorded_run
    from pipelines.warc_import import check_warc, import_warcs
    from storage import open_archive

    for path in paths:  # a wrong file is refused before the archive is opened (or upgraded)
        check_warc(path)
    archive = open_archive(db)
    try:
        console = Console(stderr=True)
        with Progress(
            TextColumn("[bold]importing"),
            BarColumn(),
            TextColumn("{task.completed} pages"),
            TimeElapsedColumn(),
            console=console,
            disable=quiet or not console.is_terminal,
            transient=True,
        ) as progress, recorded_run(archive, "import") as run:
            task = progress.add_task("import", total=None)
            stats = import_warcs(
                archive, paths, workers=workers, max_record_size=max_record_size, run_id=run.run_id,
                on_page=lambda s: progress.update(task, completed=s.pages), track=track, redo=redo,
                dictionary_samples=_default_dictionary_samples() if dictionary_samples is None
                else dictionary_samples,
            )
            run.stats = {"pages_fetched": stats.pages, **_run_counts(stats.counts)}
            run.errors = {k.removeprefix(ERROR_PREFIX): n for k, n in stats.counts.items()
                          if k.startswith(ERROR_PREFIX)}
            run.failure = stats.failure
            if stats.damage:
                run.problem = _damage_line(stats)
            elif stats.template_failure:
                run.problem = _template_line(stats)
            return stats
    finally:
        archive.close()


def _run_counts(counts: Any) -> dict[str, int]:
    """The run record's counters from the ingest path's counts."""
    stored = {k.removeprefix(STORED_PREFIX): n for k, n in counts.items() if k.startswith(STORED_PREFIX)}
    dropped = {"dropped_" + k.removeprefix(DROPPED_PREFIX): n for k, n in counts.items()
               if k.startswith(DROPPED_PREFIX)}
    return {**{f"articles_{k}": n for k, n in stored.items()}, **dropped}


def _ground_truth(dataset: Path, load: Callable[[Path], list[Any]]) -> list[dict[str, Any]]:
    """The folder's ground_truth.jsonl, checked: one JSON object with a ``warc_url`` per line."""
    path = dataset / "ground_truth.jsonl"
    try:
        truth = load(dataset)
    except UnicodeDecodeError as exc:
        raise InputError(f"cannot read ground truth {path}: not UTF-8 text ({exc.reason})") from exc
    for number, entry in enumerate(truth, 1):
        if not isinstance(entry, dict) or not isinstance(entry.get("warc_url"), str):
            raise InputError(f"{path}: entry {number} is not an object with a warc_url")
    return truth


@click.command("eval")
@click.argument("datasets", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64))
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option("--keep", type=click.Path(path_type=Path), help="Keep the temporary archives and exports here.")
@click.option(
    "--folds",
    default=1,
    show_default=True,
    type=click.IntRange(1, 10),
    help="Also score each set in N folds (pages split by a hash of their URL) and show the gap.",
)
def eval_command(datasets: tuple[Path, ...], workers: int, fmt: str, keep: Path | None, folds: int) -> None:
    """Score extraction on evaluation folders (pages.warc.gz + ground_truth.jsonl).

    Each folder is imported into a temporary archive, exported as JSON Lines and
    scored the way the evaluation data's evaluate.py scores it. With --folds 2 each
    set is also scored in two halves (split by a hash of each page's URL, the same
    on every run): a rule that helps one half only is fitted to its pages.

    \b
    Examples:
      newsarchive eval ../shared/evaldata/daniel_zh
      newsarchive eval ../shared/evaldata/* --folds 2
      newsarchive eval ../shared/evaldata/* --format json
    """
    from pipelines.evaluation import SCORED_FIELDS, load_ground_truth, score_folds
    from storage import iter_export_rows, open_archive

    folders = [d for d in datasets if not d.is_file()]
    for skipped in (d for d in datasets if d.is_file()):
        # a shell glob over the evaluation folder also names its README
        click.echo(f"Skipping {skipped}: a file, not an evaluation folder", err=True)
    if not folders:
        raise InputError("no evaluation folder given (each needs pages.warc.gz and ground_truth.jsonl)")
    results = []
    for dataset in folders:
        warc = dataset / "pages.warc.gz"
        if not warc.is_file():
            raise InputError(f"{dataset} has no pages.warc.gz")
        truth = _ground_truth(dataset, load_ground_truth)
        with tempfile.TemporaryDirectory() as tmp:
            workdir = keep or Path(tmp)
            try:
                workdir.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise InputError(f"cannot create folder {workdir}: {exc.strerror or exc}") from exc
            db = str(workdir / f"{dataset.name}.db")
            _raise_for_damage(_run_import(db, [warc], workers, quiet=True))  # no score from part of a set
            archive = open_archive(db)
            try:
                with archive.session() as session:
                    rows = list(iter_export_rows(session))
            finally:
                archive.close()
            if keep:
                with (workdir / f"{dataset.name}.jsonl").open("w", encoding="utf-8") as out:
                    for row in rows:
                        out.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")
            results.append(score_folds(dataset.name, truth, rows, folds))
    if fmt == "json":
        for result in results:
            click.echo(json.dumps(result, ensure_ascii=False))
        return
    table = Table("set", "fold", "pages", "missing", "body F1", "P", "R", "title", "date", "author")
    for r in results:
        for fold, part in [("all", r), *((str(n), p) for n, p in enumerate(r.get("folds", [])))]:
            table.add_row(
                r["dataset"] if fold == "all" else "",
                fold,
                str(part["pages"]),
                str(part["missing"]),
                *(f"{part[k]:.3f}" for k in ("body_f1", "body_precision", "body_recall")),
                *(f"{part[k]:.3f}" if k in part else "–" for k in ("title_exact", "date_day", "author")),
            )
        if "gap" in r:
            gap = r["gap"]
            table.add_row(
                "", "gap", "", "",
                *(f"{gap[k]:.3f}" if k in gap else "–" for k in SCORED_FIELDS),
                end_section=True,
            )  # fmt: skip
    table_console().print(table)


COMMANDS: list[click.Command] = [extract_command, import_command, eval_command]
