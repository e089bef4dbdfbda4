"""Bad input, end to end: every command fed what users get wrong, run as a user runs it
(a fresh ``python -m crawler`` process, real SQLite files, a real HTTP server on 127.0.0.1).

The contract (README, "Errors"): a clear one-line ``Error: …`` on stderr and a non-zero
exit (2 for usage and configuration), or, inside a crawl, a logged and counted drop —
never a traceback, and the archive is left as it was.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import threading
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from core.keys import dropped_key
from tests.test_crawl_support import cli, html, query, site_table, write_config

FUTURE_REVISION = "9999_from_a_newer_newsarchive"
GOOD_ARTICLE = "/2024/0101/1.html"

# --- running the CLI ----------------------------------------------------------------------------


def run(*args: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """``newsarchive ARGS`` in a fresh process, in ``cwd`` (no stray newsarchive.toml)."""
    return cli(*args, cwd=cwd, timeout=timeout)


def assert_one_line_error(result: subprocess.CompletedProcess[str], expected: str, code: int | None) -> None:
    """Non-zero exit (``code`` when given), stderr exactly one ``Error:`` line naming ``expected``."""
    shown = f"exit {result.returncode}\nstderr:\n{result.stderr[-4000:]}\nstdout:\n{result.stdout[-1000:]}"
    assert "Traceback" not in result.stderr, shown
    assert result.returncode != 0, shown
    if code is not None:
        assert result.returncode == code, shown
    lines = result.stderr.splitlines()
    assert len(lines) == 1, shown
    assert lines[0].startswith("Error: "), shown
    assert expected in lines[0], shown


# --- archives -------------------------------------------------------------------------------------


def file_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else "absent"


def archive_state(db: Path, skip: tuple[str, ...] = ()) -> dict[str, str]:
    """A hash of every table's rows (``skip``: tables a failed crawl may rightly add to)."""
    state: dict[str, str] = {}
    with closing(sqlite3.connect(db)) as conn:
        tables = [
            name
            for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
            if not name.startswith("sqlite_") and name not in skip
        ]
        for name in tables:
            rows = sorted(repr(row) for row in conn.execute(f'SELECT * FROM "{name}"'))
            state[name] = hashlib.sha256("\n".join(rows).encode()).hexdigest()
    return state


@pytest.fixture(scope="module")
def sample_archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo's archive: five articles with raw pages, one crawl run."""
    folder = tmp_path_factory.mktemp("sample")
    done = run("--db", str(folder / "sample.db"), "demo", cwd=folder, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return folder / "sample.db"


@pytest.fixture(scope="module")
def sample_warc(sample_archive: Path) -> Path:
    """The sample archive exported as WARC.gz (what ``import`` reads back)."""
    out = sample_archive.parent / "sample.warc.gz"
    done = run("--db", str(sample_archive), "export", "--format", "warc", "--out", str(out), cwd=out.parent)
    assert done.returncode == 0, done.stderr
    return out


@dataclass
class Workspace:
    """A test's folder with a copy of the sample archive and bad input files in it."""

    path: Path
    db: Path
    warc: Path

    def file(self, name: str, content: bytes | str) -> Path:
        target = self.path / name
        if isinstance(content, str):
            target.write_text(content, encoding="utf-8")
        else:
            target.write_bytes(content)
        return target


@pytest.fixture
def ws(tmp_path: Path, sample_archive: Path, sample_warc: Path) -> Workspace:
    db = tmp_path / "archive.db"
    shutil.copyfile(sample_archive, db)
    return Workspace(tmp_path, db, sample_warc)


# --- the table of bad inputs ----------------------------------------------------------------------
#
# Each case: the arguments (after the global options, given a Workspace), the text the one error
# line must contain and the exit code (None: any non-zero). Paths in the Workspace are built by
# the lambdas; every case runs against a copy of the sample archive, which must come out unchanged.

Args = Callable[[Workspace], list[str]]


@dataclass(frozen=True)
class Case:
    args: Args
    expected: str
    code: int | None = 1
    records_failed_run: bool = False  # the failure is kept as a crawl_run; nothing else changes


def _db(*rest: str) -> Args:
    return lambda w: ["--db", str(w.db), *rest]


def _with_file(name: str, content: bytes | str, *before: str, after: tuple[str, ...] = ()) -> Args:
    return lambda w: ["--db", str(w.db), *before, str(w.file(name, content)), *after]


def _config(content: bytes | str, *rest: str) -> Args:
    return lambda w: ["--db", str(w.db), "--config", str(w.file("sites.toml", content)), *rest]


def _truncated(w: Workspace) -> Path:
    data = w.warc.read_bytes()
    return w.file("cut.warc.gz", data[: len(data) // 3])


def _eval_set(w: Workspace, truth: bytes | str | None, warc: Path | None = None) -> str:
    """An evaluation folder: pages.warc.gz and (unless None) ground_truth.jsonl."""
    folder = w.path / "evalset"
    folder.mkdir(exist_ok=True)
    shutil.copyfile(warc or w.warc, folder / "pages.warc.gz")
    if truth is not None:
        (folder / "ground_truth.jsonl").write_bytes(truth.encode() if isinstance(truth, str) else truth)
    return str(folder)


GOOD_TRUTH = json.dumps({"warc_url": "http://127.0.0.1/none.html", "body": "x"}) + "\n"
DEAD_URL = "http://127.0.0.1:9/news/"  # the discard port: nothing listens there
SITE_X = '[sites.x]\nstart_urls = ["http://127.0.0.1:9/"]\n'
BAD_CRON = '[sites.x]\nstart_urls = ["http://127.0.0.1:9/"]\nschedule = "61 * * * *"\n'

CASES: dict[str, Case] = {
    # bad command-line arguments: usage errors, one line, exit 2
    "unknown command": Case(_db("frobnicate"), "No such command 'frobnicate'", 2),
    "unknown global option": Case(lambda w: ["--no-such-option"], "No such option", 2),
    "unknown db subcommand": Case(_db("db", "downgrade"), "No such command 'downgrade'", 2),
    "show without id": Case(_db("show"), "Missing argument", 2),
    "search bad --since": Case(_db("search", "柳州", "--since", "yesterday"), "not a date", 2),
    "search impossible --until": Case(_db("search", "柳州", "--until", "2024-13-45"), "not a date", 2),
    "search --limit 0": Case(_db("search", "柳州", "--limit", "0"), "'--limit'", 2),
    "export unknown format": Case(_db("export", "--format", "xlsx"), "'--format'", 2),
    "stats negative --days": Case(_db("stats", "--days", "-1"), "'--days'", 2),
    "runs non-numeric --limit": Case(_db("runs", "--limit", "many"), "'--limit'", 2),
    "reextract bad --since": Case(_db("reextract", "--since", "last week"), "not a date", 2),
    "reextract --shard 0/3": Case(_db("reextract", "--shard", "0/3"), "K must be between 1 and N", 2),
    "reextract --shard half": Case(_db("reextract", "--shard", "half"), "is not a shard: K/N", 2),
    "reextract --redo alone": Case(_db("reextract", "--redo"), "--redo needs --shard", 2),
    "crawl --max-pages 0": Case(_db("crawl", DEAD_URL, "--max-pages", "0"), "'--max-pages'", 2),
    "crawl nothing to crawl": Case(_db("crawl"), "give a URL or --site NAME", 2),
    "crawl not a URL": Case(_db("crawl", "example.com/news"), "not an http(s) URL", 2),
    "crawl ftp URL": Case(_db("crawl", "ftp://127.0.0.1/news/"), "not an http(s) URL", 2),
    "crawl malformed IPv6 URL": Case(_db("crawl", "http://[::1/news/"), "http://[::1/news/", 2),
    "crawl port out of range": Case(_db("crawl", "http://127.0.0.1:99999/"), "http://127.0.0.1:99999/", 2),
    "crawl URL with a space": Case(_db("crawl", "http://exa mple.com/"), "contains white space", 2),
    "crawl -s without =": Case(_db("crawl", DEAD_URL, "-s", "DOWNLOAD_DELAY"), "expected NAME=VALUE", 2),
    "schedule --poll 0": Case(_db("schedule", "--poll", "0"), "'--poll'", 2),
    "import without files": Case(_db("import"), "Missing argument", 2),
    "import --shard 4/3": Case(_db("import", "--shard", "4/3", "x.warc"), "K must be between 1 and N", 2),
    "eval without folders": Case(lambda w: ["eval"], "Missing argument", 2),
    "demo empty --query": Case(_db("demo", "--query", " "), "empty search query", 1),
    # unknown site / malformed or unusable config file: exit 2
    "crawl unknown site": Case(_db("crawl", "--site", "nosuchsite"), "unknown site 'nosuchsite'", 2),
    "config malformed TOML": Case(
        _config("[sites.x\nstart_urls = ", "crawl", "--site", "x"), "malformed TOML", 2
    ),
    "config wrong type": Case(
        _config('[sites.x]\nstart_urls = "http://a/"\n', "crawl", "--site", "x"), "list", 2
    ),
    "config unknown key": Case(
        _config('[sites.x]\nstart_urls = ["http://127.0.0.1:9/"]\nstart_url = 1\n', "crawl", "--site", "x"),
        "unknown key 'start_url'",
        2,
    ),
    "config missing file": Case(
        lambda w: ["--db", str(w.db), "--config", str(w.path / "nope.toml"), "crawl", "--site", "x"],
        "not found",
        2,
    ),
    "config is a directory": Case(
        lambda w: ["--db", str(w.db), "--config", str(w.path), "crawl", "--site", "x"], "is a directory", 2
    ),
    # settings and selectors are checked when the config is read, before any fetch (SECURITY.md)
    "config setting of the wrong type": Case(
        _config(SITE_X + '[sites.x.settings]\nDOWNLOAD_DELAY = "abc"\n', "crawl", "--site", "x"),
        "sites.toml: [sites.x]: settings.DOWNLOAD_DELAY: expected a number, got 'abc'",
        2,
    ),
    "config misspelt setting": Case(
        _config(SITE_X + "[sites.x.settings]\nDOWNLOD_DELAY = 2\n", "crawl", "--site", "x"),
        "[sites.x]: settings.DOWNLOD_DELAY: unknown setting; did you mean DOWNLOAD_DELAY?",
        2,
    ),
    "config setting table of the wrong type": Case(
        _config(SITE_X + '[sites.x.settings]\nITEM_PIPELINES = ["a"]\n', "crawl", "--site", "x"),
        "settings.ITEM_PIPELINES: expected a table",
        2,
    ),
    "config invalid CSS selector": Case(
        _config(SITE_X + '[sites.x.selectors]\ntitle = "h1[["\n', "crawl", "--site", "x"),
        "[sites.x]: selectors.title: invalid CSS selector 'h1[['",
        2,
    ),
    "config CSS pseudo-element": Case(
        _config(SITE_X + '[sites.x.selectors]\nbody = "article::text"\n', "crawl", "--site", "x"),
        "selectors.body: invalid CSS selector 'article::text'",
        2,
    ),
    "config file:// start URL": Case(
        _config('[sites.x]\nstart_urls = ["file:///etc/passwd"]\n', "crawl", "--site", "x"),
        "not an http(s) URL: 'file:///etc/passwd'",
        2,
    ),
    "config allowed domain given as a URL": Case(
        _config(SITE_X + 'allowed_domains = ["ftp://127.0.0.1"]\n', "crawl", "--site", "x"),
        "allowed_domains 'ftp://127.0.0.1' is not a domain",
        2,
    ),
    "crawl -s misspelt setting": Case(
        _db("crawl", DEAD_URL, "-s", "ROBOTSTXT_OBAY=false"),
        "unknown setting; did you mean ROBOTSTXT_OBEY?",
        2,
    ),
    "crawl -s count out of range": Case(
        _db("crawl", DEAD_URL, "-s", "NEWSARCHIVE_KNOWN_URL_BATCH=-5"),
        "bad setting NEWSARCHIVE_KNOWN_URL_BATCH='-5': expected at least 1, got '-5'",
        2,
    ),
    "crawl -s fractional count": Case(
        _db("crawl", DEAD_URL, "-s", "CONCURRENT_REQUESTS=2.5"), "expected a whole number, got '2.5'", 2
    ),
    "config zero timeout": Case(
        _config(SITE_X + "[sites.x.settings]\nDOWNLOAD_TIMEOUT = 0\n", "crawl", "--site", "x"),
        "settings.DOWNLOAD_TIMEOUT: expected more than 0, got 0",
        2,
    ),
    "crawl -s table not JSON": Case(
        _db("crawl", DEAD_URL, "-s", "DOWNLOADER_MIDDLEWARES=x.Y"), "expected a table", 2
    ),
    "config not UTF-8": Case(_config(b"\xff\xfe[sites.x]\x00\x81", "crawl", "--site", "x"), "UTF-8", 2),
    "crawl bad cron expression": Case(_config(BAD_CRON, "crawl", "--site", "x"), "bad cron expression", 2),
    "schedule bad cron expression": Case(
        _config(BAD_CRON, "schedule", "--once", "--site", "x"),
        "bad cron expression",
        2,
        records_failed_run=True,
    ),
    "schedule unknown site": Case(
        _config(BAD_CRON.replace("61", "0"), "schedule", "--once", "--site", "nosuchsite"), "unknown site", 2
    ),
    "schedule malformed TOML": Case(_config("[sites.x\n", "schedule", "--once"), "malformed TOML", 2),
    # archives that cannot be opened at all (the archive in the workspace is not touched)
    "db URL of an unknown dialect": Case(lambda w: ["--db", "nosuchdb://x/y", "stats"], "cannot open", 1),
    "db URL of a server not running": Case(
        lambda w: ["--db", "postgresql+psycopg://postgres@127.0.0.1:9/news", "stats"], "cannot open", 1
    ),
    "empty --db": Case(lambda w: ["--db", "", "stats"], "empty", 1),
    "runs on a missing archive": Case(
        lambda w: ["--db", str(w.path / "nope.db"), "runs"], "no archive at", 1
    ),
    # unknown article id, FTS5-rejected search syntax
    "show unknown id": Case(_db("show", "99999"), "no article 99999", 1),
    "show id beyond 64 bits": Case(_db("show", "9" * 30), "no article " + "9" * 30, 1),
    "show unknown URL": Case(
        _db("show", "https://example.com/nope.html"), "no article https://example.com/", 1
    ),
    "show malformed URL": Case(_db("show", "http://[::1/x.html"), "no article http://[::1/x.html", 1),
    "show --raw unknown id": Case(_db("show", "0", "--raw"), "no article 0", 1),
    "search unterminated quote": Case(_db("search", '"高新区'), "invalid search query", 1),
    "search stray parenthesis": Case(_db("search", "柳州市)"), "invalid search query", 1),
    "search leading AND": Case(_db("search", "AND 柳州市"), "invalid search query", 1),
    "search only OR": Case(_db("search", "OR"), "no term to look for", 1),
    "search NEAR between words": Case(_db("search", "a NEAR b"), "NEAR(police station)", 1),
    "search --offset and --page": Case(_db("search", "a", "--offset", "1", "--page", "2"), "not both", 2),
    # unwritable export path
    "export into a missing folder": Case(
        lambda w: ["--db", str(w.db), "export", "--out", str(w.path / "missing" / "a.jsonl")],
        "cannot write",
        1,
    ),
    "export below a file": Case(
        lambda w: ["--db", str(w.db), "export", "--out", str(w.file("plain.txt", "x") / "a.jsonl")],
        "cannot write",
        1,
    ),
    "export onto a folder": Case(
        lambda w: ["--db", str(w.db), "export", "--out", str(w.path)], "is a directory", 1
    ),
    "export warc into a missing folder": Case(
        lambda w: [
            "--db",
            str(w.db),
            "export",
            "--format",
            "warc",
            "--out",
            str(w.path / "no" / "a.warc.gz"),
        ],
        "cannot write",
        1,
    ),
    "export md without --out": Case(_db("export", "--format", "md"), "give a folder with --out", 1),
    "export md onto a file": Case(
        lambda w: ["--db", str(w.db), "export", "--format", "md", "--out", str(w.file("plain.txt", "x"))],
        "cannot create folder",
        1,
    ),
    # broken or non-WARC files
    "import missing file": Case(
        lambda w: ["--db", str(w.db), "import", str(w.path / "nope.warc")], "is not a file", 1
    ),
    "import a folder": Case(lambda w: ["--db", str(w.db), "import", str(w.path)], "is not a file", 1),
    "import random bytes": Case(
        _with_file("random.warc", bytes(range(256)) * 40, "import"), "not a readable WARC file", 1
    ),
    "import a text file": Case(
        _with_file("notes.warc", "just some notes\nnot a WARC\n", "import"), "not a readable WARC file", 1
    ),
    "import an empty file": Case(_with_file("empty.warc", b"", "import"), "not a readable WARC file", 1),
    "import gzip of garbage": Case(
        _with_file("garbage.warc.gz", gzip.compress(b"\x00garbage " * 100), "import"),
        "not a readable WARC file",
        1,
    ),
    "import broken gzip": Case(
        _with_file("broken.warc.gz", b"\x1f\x8b\x08\x00" + bytes(range(200)), "import"),
        "not a readable WARC file",
        1,
    ),
    # a truncated or corrupt WARC is salvaged, not refused (issue 9): the archive takes its
    # readable records, so those cases are in tests/test_warc_reader.py
    "import good then broken file": Case(
        lambda w: ["--db", str(w.db), "import", str(w.warc), str(w.file("notes.warc", "not a WARC\n"))],
        "not a readable WARC file",
        1,
    ),
    # extract: missing, unreadable, binary, non-HTML pages and unreachable URLs
    "extract missing file": Case(lambda w: ["extract", str(w.path / "nope.html")], "cannot read", 1),
    "extract a folder": Case(lambda w: ["extract", str(w.path)], "cannot read", 1),
    "extract binary file": Case(
        lambda w: ["extract", str(w.file("x.bin", bytes(range(256)) * 20))], "no article", 1
    ),
    "extract empty file": Case(lambda w: ["extract", str(w.file("empty.html", b""))], "no article", 1),
    "extract unreachable URL": Case(lambda w: ["extract", DEAD_URL], "could not fetch", 1),
    "extract non-http URL": Case(lambda w: ["extract", "ftp://127.0.0.1:9/a.html"], "cannot read", 1),
    # eval: folders without data, malformed ground truth, broken WARC
    "eval missing folder": Case(lambda w: ["eval", str(w.path / "nope")], "no pages.warc.gz", 1),
    "eval folder without WARC": Case(lambda w: ["eval", str(w.path)], "no pages.warc.gz", 1),
    "eval without ground truth": Case(lambda w: ["eval", _eval_set(w, None)], "ground truth", 1),
    "eval malformed ground truth": Case(lambda w: ["eval", _eval_set(w, "{not json\n")], "ground truth", 1),
    "eval ground truth not UTF-8": Case(lambda w: ["eval", _eval_set(w, b"\xff\xfe{}\n")], "not UTF-8", 1),
    "eval ground truth not objects": Case(lambda w: ["eval", _eval_set(w, "[1, 2]\n")], "warc_url", 1),
    "eval truncated WARC": Case(lambda w: ["eval", _eval_set(w, GOOD_TRUTH, _truncated(w))], "truncated", 1),
    "eval --keep below a file": Case(
        lambda w: ["eval", _eval_set(w, GOOD_TRUTH), "--keep", str(w.file("plain.txt", "x") / "k")],
        "cannot create folder",
        1,
    ),
}

# cases that fail because of code outside this test's reach: name -> (file, what happens)
XFAIL: dict[str, str] = {}  # cases known to fail: none left


def _params() -> list[Any]:
    params = []
    for name, case in CASES.items():
        marks = [pytest.mark.xfail(reason=XFAIL[name], strict=True)] if name in XFAIL else []
        params.append(pytest.param(case, id=name, marks=marks))
    return params


@pytest.mark.slow  # a subprocess per case
@pytest.mark.parametrize("case", _params())
def test_bad_input_is_one_error_line_and_the_archive_is_untouched(ws: Workspace, case: Case) -> None:
    before = archive_state(ws.db, skip=("crawl_run",)) if case.records_failed_run else file_hash(ws.db)
    args = case.args(ws)
    result = run(*args, cwd=ws.path)
    assert_one_line_error(result, case.expected, case.code)
    if case.records_failed_run:
        assert archive_state(ws.db, skip=("crawl_run",)) == before, "the archive changed"
    else:
        assert file_hash(ws.db) == before, "the archive changed"
    assert not list(ws.path.glob("*.part")), "a half-written export was left behind"


# --- unusable archives: from a newer newsarchive, not a database, nowhere to create it ------------

ARCHIVE_COMMANDS: dict[str, Args] = {
    "db upgrade": lambda w: ["db", "upgrade"],
    "stats": lambda w: ["stats"],
    "runs": lambda w: ["runs"],
    "search": lambda w: ["search", "高新区"],
    "show": lambda w: ["show", "1"],
    "export": lambda w: ["export", "--out", str(w.path / "out.jsonl")],
    "reextract": lambda w: ["reextract"],
    "import": lambda w: ["import", str(w.warc)],
    "crawl": lambda w: ["crawl", DEAD_URL],
    "demo": lambda w: ["demo"],
}


def _newer(w: Workspace) -> Path:
    conn = sqlite3.connect(w.db)
    with conn:
        conn.execute("UPDATE alembic_version SET version_num = ?", (FUTURE_REVISION,))
    conn.close()  # the last connection out checkpoints the WAL into the file we hash
    return w.db


def _not_a_database(w: Workspace) -> Path:
    return w.file("notes.db", b"these are my notes, not an archive\n" * 200)


def _in_missing_folder(w: Workspace) -> Path:
    return w.path / "missing" / "archive.db"


def _below_a_file(w: Workspace) -> Path:
    return w.file("plain.txt", "x") / "archive.db"


ARCHIVES: dict[str, tuple[Callable[[Workspace], Path], tuple[str, ...]]] = {
    "newer archive": (_newer, ("is newer than this newsarchive",)),
    "not a database": (_not_a_database, ("file is not a database",)),
    "folder missing": (_in_missing_folder, ("does not exist", "no archive at")),
    "below a file": (_below_a_file, ("does not exist", "no archive at", "not a directory")),
}


@pytest.mark.slow
@pytest.mark.parametrize("command", list(ARCHIVE_COMMANDS))
@pytest.mark.parametrize("kind", list(ARCHIVES))
def test_an_unusable_archive_is_one_error_line_and_left_alone(ws: Workspace, kind: str, command: str) -> None:
    make, expected = ARCHIVES[kind]
    db = make(ws)
    before = file_hash(db)
    result = run("--db", str(db), *ARCHIVE_COMMANDS[command](ws), cwd=ws.path)
    assert_one_line_error(result, "", None)
    assert any(text in result.stderr for text in expected), result.stderr
    assert file_hash(db) == before, "the archive was changed"
    assert not (ws.path / "missing").exists(), "a folder was created for the archive"
    assert not (ws.path / "out.jsonl").exists()


READING_COMMANDS: dict[str, Args] = {
    name: ARCHIVE_COMMANDS[name] for name in ("stats", "search", "show", "export") if name in ARCHIVE_COMMANDS
} | {"list": lambda w: ["list"]}


@pytest.mark.slow
@pytest.mark.parametrize("command", list(READING_COMMANDS))
def test_a_reading_command_on_a_mistyped_archive_path_creates_nothing(ws: Workspace, command: str) -> None:
    """A typo in --db must not answer "0 hits" from a new empty archive it just made."""
    db = ws.path / "archvie.db"
    result = run("--db", str(db), *READING_COMMANDS[command](ws), cwd=ws.path)
    assert_one_line_error(result, f"no archive at {db}", 1)
    assert not db.exists(), "a reading command created an archive"
    assert not (ws.path / "out.jsonl").exists()


def _read_only(w: Workspace) -> str:
    """The archive opened read-only (SQLite URI): writes fail even for root."""
    return f"sqlite:///file:{w.db}?mode=ro&uri=true"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(lambda w: ["import", str(w.warc)], "readonly database", id="import"),
        pytest.param(lambda w: ["demo"], "readonly database", id="demo"),
        pytest.param(lambda w: ["crawl", DEAD_URL], "readonly database", id="crawl"),
    ],
)
@pytest.mark.slow
def test_a_read_only_archive_is_one_error_line(ws: Workspace, args: Args, expected: str) -> None:
    before = archive_state(ws.db)
    result = run("--db", _read_only(ws), *args(ws), cwd=ws.path)
    assert_one_line_error(result, expected, None)
    assert archive_state(ws.db) == before


@pytest.mark.slow
def test_reading_commands_work_on_a_read_only_archive(ws: Workspace) -> None:
    for args in (["stats"], ["search", "高新区"], ["show", "1"], ["runs"], ["export"]):
        result = run("--db", _read_only(ws), *args, cwd=ws.path)
        assert result.returncode == 0, (args, result.stderr)


@contextmanager
def read_only_media(folder: Path) -> Iterator[Path]:
    """``folder`` as read-only media: another path where nothing can be written, even by root.

    Tests run as root, where chmod stops nothing: a read-only bind mount is used, else
    ``chattr +i`` on the folder and its files; a plain user gets chmod. Skipped (with the
    reason) where none of these is allowed."""
    if os.geteuid() != 0:
        for path in [folder, *folder.iterdir()]:
            path.chmod(0o555 if path.is_dir() else 0o444)
        try:
            yield folder
        finally:
            for path in [folder, *folder.iterdir()]:
                path.chmod(0o755 if path.is_dir() else 0o644)
        return
    mount = folder.parent / (folder.name + "-ro")
    mount.mkdir()
    bound = subprocess.run(["mount", "--bind", str(folder), str(mount)], capture_output=True, check=False)
    if bound.returncode == 0:
        ro = subprocess.run(["mount", "-o", "remount,bind,ro", str(mount)], capture_output=True, check=False)
        try:
            if ro.returncode == 0:
                yield mount
                return
        finally:
            subprocess.run(["umount", str(mount)], check=False)
    paths = [*folder.iterdir(), folder]
    frozen = subprocess.run(["chattr", "+i", *map(str, paths)], capture_output=True, text=True, check=False)
    if frozen.returncode != 0:
        subprocess.run(["chattr", "-i", *map(str, paths)], capture_output=True, check=False)
        pytest.skip(f"no read-only folder for root here: no bind mount; chattr: {frozen.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["chattr", "-i", *map(str, paths)], check=False)


@pytest.mark.slow
def test_reading_commands_work_on_read_only_media(ws: Workspace, tmp_path: Path) -> None:
    """An archive on a DVD, a read-only mount or an immutable folder: opened read-only
    (SQLite mode=ro, immutable=1), so search, show, export, stats and runs work."""
    media = tmp_path / "media"
    media.mkdir()
    shutil.copyfile(ws.db, media / "archive.db")
    before = file_hash(media / "archive.db")
    with read_only_media(media) as folder:
        db = folder / "archive.db"
        with pytest.raises(OSError):
            (folder / "probe").write_text("x")  # the media really are read-only
        for args in (["stats"], ["search", "高新区"], ["show", "1"], ["runs"], ["export"],
                     ["export", "--format", "md", "--out", str(tmp_path / "md")]):
            result = run("--db", str(db), *args, cwd=ws.path)
            assert result.returncode == 0, (args, result.stderr)
            assert result.stdout or args[0] == "export", args
        # a command that writes says so in one line
        assert_one_line_error(run("--db", str(db), "import", str(ws.warc), cwd=ws.path), "", None)
        assert sorted(p.name for p in folder.iterdir()) == ["archive.db"]  # no -wal/-shm left behind
    assert file_hash(media / "archive.db") == before


# --- exports must not replace what they write to --------------------------------------------------


def test_export_to_a_fifo_writes_into_it_and_leaves_it_a_fifo(ws: Workspace) -> None:
    fifo = ws.path / "pipe"
    os.mkfifo(fifo)
    received: list[bytes] = []

    def read() -> None:
        with fifo.open("rb") as stream:
            received.append(stream.read())

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    result = run("--db", str(ws.db), "export", "--out", str(fifo), cwd=ws.path)
    reader.join(timeout=30)
    assert result.returncode == 0, result.stderr
    assert fifo.is_fifo(), "the export replaced the FIFO with a regular file"
    assert received and received[0].count(b"\n") == 5
    assert not list(ws.path.glob("*.part"))


# --- crawls: dead servers, error-only sites, binary, huge and mis-declared responses ---------------


def crawl_site(
    ws: Workspace, base_url: str, *options: str, verbose: bool = False
) -> subprocess.CompletedProcess[str]:
    """Crawl the site at ``base_url`` as profile ``t`` into the workspace's archive."""
    config = write_config(ws.path / "sites.toml", {"t": site_table(base_url)})
    level = ["-v"] if verbose else []
    return run(
        "--db", str(ws.db), "--config", str(config), *level, "crawl", "--site", "t", *options, cwd=ws.path
    )


def last_run(db: Path) -> dict[str, Any]:
    sql = "SELECT status, errors, reason, stats FROM crawl_run WHERE site = 't' ORDER BY id DESC LIMIT 1"
    status, errors, reason, stats = query(str(db), sql)[0]
    return {
        "status": status,
        "errors": json.loads(errors) if isinstance(errors, str) else errors,
        "reason": reason,
        "stats": json.loads(stats) if isinstance(stats, str) else stats,
    }


def site_articles(db: Path) -> list[tuple[str, str]]:
    return [(row[0], row[1]) for row in query(str(db), "SELECT title, text FROM article WHERE site = 't'")]


HOME = html("Home", f'<p><a href="{GOOD_ARTICLE}">Today’s story</a></p>')


@pytest.mark.slow
def test_a_site_answering_only_errors_is_a_failed_run(ws: Workspace, serve_site: Any) -> None:
    error = (500, {"Content-Type": "text/html"}, b"<h1>Internal Server Error</h1>")
    site = serve_site({"/": error, "/robots.txt": error, GOOD_ARTICLE: error})
    before = archive_state(ws.db, skip=("crawl_run",))
    result = crawl_site(ws, site.base_url)
    assert_one_line_error(result, "t: run failed: site answered only errors: http_500", 1)
    assert last_run(ws.db)["status"] == "failed"
    assert last_run(ws.db)["errors"] == {"http_500": 1}
    assert archive_state(ws.db, skip=("crawl_run",)) == before


@pytest.mark.slow
def test_a_dead_server_is_a_failed_run(ws: Workspace) -> None:
    before = archive_state(ws.db, skip=("crawl_run",))
    result = crawl_site(ws, "http://127.0.0.1:9")
    assert_one_line_error(result, "t: run failed: site unreachable: connection_refused", 1)
    assert last_run(ws.db)["status"] == "failed"
    assert archive_state(ws.db, skip=("crawl_run",)) == before


@pytest.mark.slow
def test_a_bad_setting_value_is_one_error_line(ws: Workspace, serve_site: Any) -> None:
    site = serve_site({"/": HOME})
    before = archive_state(ws.db)
    result = crawl_site(ws, site.base_url, "-s", "DOWNLOAD_DELAY=soon")
    # bad configuration: exit 2 before anything runs, so not even a failed run is recorded
    assert_one_line_error(result, "bad setting DOWNLOAD_DELAY='soon': expected a number", 2)
    assert archive_state(ws.db) == before
    assert site.hits["/"] == 0
    boolean = crawl_site(ws, site.base_url, "-s", "ROBOTSTXT_OBEY=maybe")
    assert_one_line_error(boolean, "bad setting ROBOTSTXT_OBEY='maybe': expected true or false", 2)


@pytest.mark.slow
def test_a_binary_response_is_a_logged_counted_drop(ws: Workspace, serve_site: Any) -> None:
    binary = (200, {"Content-Type": "application/octet-stream"}, bytes(range(256)) * 64)
    site = serve_site({"/": HOME, GOOD_ARTICLE: binary})
    before = archive_state(ws.db, skip=("crawl_run",))
    result = crawl_site(ws, site.base_url, verbose=True)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    assert f"Dropped: not_html: {site.url(GOOD_ARTICLE)}" in result.stderr
    assert f"'{dropped_key('not_html')}': 1" in result.stderr
    assert site_articles(ws.db) == []
    assert archive_state(ws.db, skip=("crawl_run",)) == before
    run = last_run(ws.db)
    assert run["status"] == "ok" and run["stats"]["dropped_not_html"] == 1  # counted in the run record
    assert "not stored: not_html x1" in result.stdout  # and in the summary line


@pytest.mark.slow
def test_a_response_beyond_download_maxsize_is_a_counted_drop(ws: Workspace, serve_site: Any) -> None:
    huge = html("A very long story", "<p>" + "words and more words " * 5000 + "</p>")
    site = serve_site({"/": HOME, GOOD_ARTICLE: huge})
    before = archive_state(ws.db, skip=("crawl_run",))
    result = crawl_site(ws, site.base_url, "-s", "DOWNLOAD_MAXSIZE=20000", "-s", "DOWNLOAD_WARNSIZE=0")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    assert "too_large x1" in result.stdout
    assert last_run(ws.db)["errors"].get("too_large") == 1
    assert site_articles(ws.db) == []
    assert archive_state(ws.db, skip=("crawl_run",)) == before


CHINESE = "柳州高新区十年间推进以人为本的产城融合发展，成为广西第一个规模以上工业总产值突破千亿元的产业新城。"


@pytest.mark.slow
def test_html_declaring_the_wrong_charset_is_stored_readable(ws: Workspace, serve_site: Any) -> None:
    body = (
        "<!doctype html><html><head><meta charset='utf-8'><title>柳州高新区十年综述</title></head><body>"
        "<article><h1>柳州高新区十年综述</h1>"
        + "".join(f"<p>{CHINESE}第{i}段。</p>" for i in range(8))
        + "</article></body></html>"
    ).encode("gb18030")  # GBK bytes under a header and a meta tag that both say UTF-8
    site = serve_site({"/": HOME, GOOD_ARTICLE: (200, {"Content-Type": "text/html; charset=utf-8"}, body)})
    result = crawl_site(ws, site.base_url)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    [(title, text)] = site_articles(ws.db)
    assert title == "柳州高新区十年综述"
    assert CHINESE in text
    assert "\ufffd" not in title + text


@pytest.mark.slow
def test_broken_html_is_stored_or_dropped_never_a_crash(ws: Workspace, serve_site: Any) -> None:
    broken = (
        b"<html><head><title>Council <b>budget</title><body><div><p>"
        + b"The council approved the budget for the coming year after a long debate. " * 30
        + b"<table><tr><td>unclosed<div></span></p></html><<<>>>\x00\x00<p>tail"
    )
    site = serve_site({"/": HOME, GOOD_ARTICLE: broken})
    result = crawl_site(ws, site.base_url)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    for _title, text in site_articles(ws.db):
        assert "The council approved the budget" in text
        assert "\x00" not in text


# --- extract: URLs answering errors or something other than HTML, mis-declared charsets ------------


@pytest.mark.slow
def test_extract_a_url_answering_an_error_or_binary(tmp_path: Path, serve_site: Any) -> None:
    site = serve_site(
        {
            "/error.html": (500, {"Content-Type": "text/html"}, b"<h1>Internal Server Error</h1>"),
            "/file.bin": (200, {"Content-Type": "application/octet-stream"}, bytes(range(256)) * 64),
        }
    )
    assert_one_line_error(run("extract", site.url("/error.html"), cwd=tmp_path), "answered HTTP 500", 1)
    assert_one_line_error(run("extract", site.url("/missing.html"), cwd=tmp_path), "answered HTTP 404", 1)
    assert_one_line_error(run("extract", site.url("/file.bin"), cwd=tmp_path), "no article found", 1)


def test_extract_a_page_declaring_the_wrong_charset(tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    page.write_bytes(
        (
            "<!doctype html><html><head><meta charset='utf-8'><title>柳州高新区十年综述</title></head><body>"
            "<article><h1>柳州高新区十年综述</h1>"
            + "".join(f"<p>{CHINESE}第{i}段。</p>" for i in range(8))
            + "</article></body></html>"
        ).encode("gb18030")
    )
    result = run("extract", str(page), "--url", "https://example.com/2024/0101/1.html", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    article = json.loads(result.stdout)
    assert CHINESE in article["text"]
    assert "\ufffd" not in article["title"] + article["text"]


# --- a damaged archive: a raw page whose stored bytes no longer decompress -------------------------


def _damage_raw_page(db: Path, article_id: int) -> None:
    conn = sqlite3.connect(db)
    with conn:
        conn.execute(
            "UPDATE raw_page SET body = x'00112233'"
            " WHERE id = (SELECT raw_page_id FROM article WHERE id = ?)",
            (article_id,),
        )
    conn.close()


@pytest.mark.slow
def test_a_damaged_raw_page_is_one_error_line_or_a_counted_skip(ws: Workspace) -> None:
    _damage_raw_page(ws.db, 2)
    before = file_hash(ws.db)
    assert_one_line_error(run("--db", str(ws.db), "show", "2", "--raw", cwd=ws.path), "is damaged", 1)
    out = ws.path / "pages.warc.gz"
    exported = run("--db", str(ws.db), "export", "--format", "warc", "--out", str(out), cwd=ws.path)
    assert_one_line_error(exported, "is damaged", 1)
    assert not out.exists() and not list(ws.path.glob("*.part"))
    assert file_hash(ws.db) == before
    article = "SELECT title, text, version, extractor_version FROM article WHERE id = 2"
    kept = query(str(ws.db), article)
    redone = run("--db", str(ws.db), "reextract", cwd=ws.path)
    assert redone.returncode == 0, redone.stderr
    assert "Traceback" not in redone.stderr
    assert "raw page damaged: 1" in redone.stdout
    assert "Re-extraction kept article 2" in redone.stderr
    assert query(str(ws.db), article) == kept
