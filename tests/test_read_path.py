"""The read commands (show, stats, search, list) read a SQLite archive through the standard
library's sqlite3 and a PostgreSQL one through psycopg alone (``storage.reader``), or through
SQLAlchemy (a schema to upgrade, ``NEWSARCHIVE_READ_PATH=sqlalchemy``): the output must be the
same either way, and the fast path must not import SQLAlchemy. The PostgreSQL variants are
slow (a database created and migrated) and skip when the server is down."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from crawler.cli import main
from storage import open_archive, store_article
from storage.reader import READ_PATH_ENV, open_postgres_reader, open_sqlite_reader
from tests.conftest import pg_database
from tests.test_storage_data import SECTIONS, extracted, fill

ROOT = Path(__file__).resolve().parents[1]
BASE = "https://www.xunjk.com/yanjiu/2022/0928/"


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    """A PostgreSQL database of this module's own, dropped afterwards."""
    yield from pg_database("newsarchive_readpath")


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.slow)])
def db(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """Two sites, one article with two versions, one on a site of its own."""
    if request.param == "sqlite":
        path = str(tmp_path_factory.mktemp("readpath") / "a.db")
    else:
        path = str(request.getfixturevalue("postgres_url"))
    with open_archive(path) as archive:
        fill(archive, [extracted(key, f"{BASE}{n}.html") for n, key in enumerate(SECTIONS)])
        fill(archive, [extracted("people", "https://other.example.com/p.html", site="other")])
        page, article = extracted("intro", f"{BASE}0.html")
        with archive.session() as session, session.begin():
            store_article(session, page, replace(article, text=article.text.replace("踏石留印", "行稳致远")))
    return path


def _run(db: str, path: str, args: list[str]) -> Result:
    return CliRunner(env={READ_PATH_ENV: path}).invoke(main, ["--db", db, *args])


COMMANDS = [
    ["show", "1"],
    ["show", "1", "--versions"],
    ["show", "1", "--versions", "--format", "json"],
    ["show", "3", "--format", "json"],
    ["show", "http://www.xunjk.com/yanjiu/2022/0928/2.html?utm_source=weibo"],
    ["show", "999"],
    ["show", "https://nowhere.example.com/a"],
    ["search", "柳州"],
    ["search", "柳州", "--format", "json"],
    ["search", "柳州", "--limit", "2", "--page", "2", "--format", "json"],
    ["search", "高新区", "--site", "xunjk", "--since", "2015-01-01", "--format", "json"],
    ["search", "高新區", "--until", "2030-01-01T12:00:00+08:00", "--format", "json"],
    ["search", '"知识产权" OR 排头兵'],
    ["search", "柳州", "-排头兵", "--format", "json"],
    ["search", "-柳州"],
    ["search", "柳州", "--site", "nosuch"],
    ["search", "柳州", "--lang", "zh", "--articles-only", "--author", "x", "--format", "json"],
    ["search", "NEAR(柳州 高新区, 5)", "--format", "json"],
    ["search", "NEAR("],
    ["search"],
    ["list", "--limit", "3"],
    ["list", "--site", "other", "--format", "json"],
    ["stats"],
    ["stats", "--format", "json"],
    ["stats", "--site", "xunjk", "--days", "1", "--format", "json"],
    ["stats", "--since", "2015-01-01", "--lang", "zh", "--format", "json"],
    ["stats", "--site", "nosuch"],
]


@pytest.mark.parametrize("args", COMMANDS, ids=[" ".join(a) for a in COMMANDS])
def test_same_output_either_way(db: str, args: list[str]) -> None:
    fast, through_sqlalchemy = _run(db, "", args), _run(db, "sqlalchemy", args)
    assert fast.exit_code == through_sqlalchemy.exit_code, (fast.output, through_sqlalchemy.output)
    assert fast.stdout == through_sqlalchemy.stdout
    assert fast.output == through_sqlalchemy.output
    if fast.exit_code == 0 and "--format" in args and "--author" not in args:
        assert json.loads(fast.stdout)  # something was found to compare


@pytest.mark.slow
def test_the_postgresql_fast_path_is_taken_only_at_the_current_schema(postgres_url: str) -> None:
    with open_archive(postgres_url):  # created at the current schema
        pass
    reader = open_postgres_reader(postgres_url)
    assert reader is not None
    reader.close()
    assert open_postgres_reader(postgres_url.replace("+psycopg", "")) is None  # another driver
    assert open_postgres_reader(postgres_url.replace("/newsarchive_", "/nosuch_")) is None  # no database
    import psycopg

    conninfo = "postgresql://" + postgres_url.split("://", 1)[1]
    with psycopg.connect(conninfo) as connection:
        version = connection.execute("SELECT version_num FROM alembic_version").fetchone()
        connection.execute("UPDATE alembic_version SET version_num = '0001_initial'")
    try:
        assert open_postgres_reader(postgres_url) is None  # to be upgraded: through SQLAlchemy and Alembic
    finally:
        with psycopg.connect(conninfo) as connection:
            connection.execute("UPDATE alembic_version SET version_num = %s", version)


def test_the_fast_path_is_taken_only_at_the_current_schema(sqlite_db: str, tmp_path: Path) -> None:
    with open_archive(sqlite_db):
        pass
    db = sqlite_db
    reader = open_sqlite_reader(db)
    assert reader is not None
    reader.close()
    assert open_sqlite_reader(f"sqlite:///{db}?mode=ro") is None  # options: SQLAlchemy's
    old = tmp_path / "old.db"
    old.write_bytes(Path(db).read_bytes())
    import sqlite3

    with sqlite3.connect(old) as connection:
        connection.execute("UPDATE alembic_version SET version_num = '0001_initial'")
    assert open_sqlite_reader(str(old)) is None  # to be upgraded: through SQLAlchemy and Alembic


_PROBE = """
import json, sys
from crawler.cli import main
try:
    main(sys.argv[1:], prog_name="newsarchive", standalone_mode=False)
finally:
    sys.stdout.flush()
    print("\\nMODULES " + json.dumps(sorted(sys.modules)), file=sys.stderr)
"""


@pytest.mark.parametrize(
    "args", [["show", "1", "--versions"], ["stats"], ["stats", "--since", "2015-01-01"],
             ["search", "柳州", "--site", "xunjk"], ["list"]],
)  # fmt: skip
def test_the_fast_path_imports_no_sqlalchemy(db: str, args: list[str]) -> None:
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, "--db", db, *args],
        capture_output=True, text=True, cwd=ROOT, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    modules = json.loads(done.stderr.rsplit("MODULES ", 1)[1])
    assert "storage.reader" in modules
    assert not [m for m in modules if m.split(".")[0] in ("sqlalchemy", "alembic")]


def _whole_text_snippet(text: str, terms: list[str], before: int = 30, after: int = 70) -> str:
    """The snippet as it was built before, from the whole text every time."""
    import re

    from core.hanzi import fold_chinese

    flat = " ".join(text.split())
    if not terms:
        return flat[: before + after] + ("…" if len(flat) > before + after else "")
    folded_terms = sorted({fold_chinese(t) for t in terms}, key=len, reverse=True)
    pattern = re.compile("|".join(re.escape(t) for t in folded_terms), re.IGNORECASE)
    folded = fold_chinese(flat)
    first = pattern.search(folded)
    start = max(0, first.start() - before) if first else 0
    end = min(len(flat), (first.end() if first else 0) + after)
    parts: list[str] = []
    position = start
    for match in pattern.finditer(folded, start, end):
        parts.append(flat[position : match.start()])
        parts.append(f"**{flat[match.start() : match.end()]}**")
        position = match.end()
    parts.append(flat[position:end])
    return ("…" if start > 0 else "") + "".join(parts) + ("…" if end < len(flat) else "")


def test_snippets_from_a_prefix_are_those_of_the_whole_text(monkeypatch: pytest.MonkeyPatch) -> None:
    """The snippet is looked for in the text's first SNIPPET_PREFIX characters first: it is
    the whole text's snippet at every prefix length, over texts where matches, whitespace
    runs and traditional characters fall on either side of the cut."""
    import random

    search_module = sys.modules["storage.search"]
    rng = random.Random(11)
    alphabet = [
        "中",
        "國",
        "国",
        "经济",
        "the",
        "The",
        "police",
        " ",
        "  ",
        "\n",
        "\t ",
        "a",
        "b",
        "said",
        "x",
    ]
    term_sets = [["中国"], ["the"], ["police said", "the"], ["经济", "中"], ["x a"], []]
    for _ in range(400):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 120)))
        terms = rng.choice(term_sets)
        expected = _whole_text_snippet(text, terms)
        for cut in (1, 5, 20, 40, 80, 120, 200):
            monkeypatch.setattr(search_module, "SNIPPET_PREFIX", cut)
            assert search_module.snippet(text, terms) == expected, (text, terms, cut)
