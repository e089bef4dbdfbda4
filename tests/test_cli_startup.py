"""Read commands start without the crawl's heavy imports (Scrapy, Twisted) or Alembic (the
schema check reads the version row when it matches). Start-up time itself is measured in
bench/ (``bench/run.py search``), never asserted here."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import click
import pytest

from crawler.cli import COMMAND_MODULES, main
from storage import open_archive
from tests.test_storage_data import SECTIONS, extracted, fill

ROOT = Path(__file__).resolve().parents[1]
BASE = "https://www.xunjk.com/yanjiu/2022/0928/"
HEAVY = ("scrapy", "twisted", "alembic")
_PROBE = """
import json, sys
from crawler.cli import main
try:
    main(sys.argv[1:], prog_name="newsarchive", standalone_mode=False)
finally:
    sys.stdout.flush()
    print("\\nMODULES " + json.dumps(sorted({m.split(".")[0] for m in sys.modules})), file=sys.stderr)
"""


def _imported(probe: str, db: str, args: list[str]) -> set[str]:
    """The modules a command imported, run in a fresh process."""
    done = subprocess.run(
        [sys.executable, "-c", probe, "--db", db, *args],
        capture_output=True, text=True, cwd=ROOT, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return set(json.loads(done.stderr.rsplit("MODULES ", 1)[1]))


@pytest.fixture(scope="module")
def archive_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    """An archive of the real pages in tests/fixtures (no ../shared/evaldata needed)."""
    db = str(tmp_path_factory.mktemp("startup") / "a.db")
    with open_archive(db) as archive:
        fill(archive, [extracted(key, f"{BASE}{n}.html") for n, key in enumerate(SECTIONS)])
    return db


@pytest.mark.parametrize(
    "args",
    [
        ["search", "中国"],
        ["search", "高新区", "--site", "xunjk", "--since", "2015-01-01", "--format", "json"],
        ["show", "1"],
        ["list", "--limit", "3"],
        ["stats"],
        ["runs"],
    ],
)
def test_read_commands_import_no_scrapy_twisted_or_alembic(archive_db: str, args: list[str]) -> None:
    modules = _imported(_PROBE, archive_db, args)
    assert "storage" in modules  # the command did read the archive
    assert not modules & set(HEAVY), sorted(modules & set(HEAVY))


def test_every_command_module_is_listed() -> None:
    """COMMAND_MODULES names each command where its module defines it."""
    from importlib import import_module

    for name, module in COMMAND_MODULES.items():
        commands = {c.name for c in import_module(f"crawler.commands.{module}").COMMANDS}
        assert name in commands, (name, module)
    for path in (ROOT / "crawler" / "commands").glob("*.py"):
        module = import_module(f"crawler.commands.{path.stem}")
        for command in getattr(module, "COMMANDS", []):
            assert COMMAND_MODULES.get(command.name) == path.stem, command.name
    listed = set(main.list_commands(click.Context(main)))
    assert listed == set(COMMAND_MODULES)


_FULL_PROBE = _PROBE.replace('m.split(".")[0] for m in sys.modules', "m for m in sys.modules")
assert _FULL_PROBE != _PROBE


@pytest.mark.parametrize(
    ("args", "absent"),
    [
        (
            ["search", "中国", "--format", "json"],
            ("rich", "sqlalchemy", "storage.repository", "storage.export"),
        ),
        (["show", "1"], ("rich", "sqlalchemy", "storage.runs", "storage.templates")),
        (["stats", "--format", "json"], ("rich", "sqlalchemy", "storage.repository", "storage.export")),
        (["search", "中国"], ("sqlalchemy", "storage.repository", "storage.runs", "storage.templates")),
    ],
)
def test_read_commands_on_sqlite_import_what_they_use(
    archive_db: str, args: list[str], absent: tuple[str, ...]
) -> None:
    """On a SQLite archive a read command reads through the standard library's sqlite3 and
    imports no SQLAlchemy (0.65 s of start-up here: storage.reader); storage's names are
    imported from their modules when used, so a read command leaves the writers' modules
    alone; JSON output needs no rich."""
    modules = _imported(_FULL_PROBE, archive_db, args)
    assert "storage.reader" in modules
    unwanted = {m for m in modules if m == "sqlalchemy.dialects.postgresql"}
    unwanted |= {m for m in modules if m.split(".")[0] in absent or m in absent}
    assert not unwanted, sorted(unwanted)


def test_storage_names_resolve_lazily() -> None:
    import storage
    import storage.search  # the module of the same name as the function: it stays the function

    for name in storage.__all__:
        assert getattr(storage, name) is not None, name
    assert callable(storage.search) and storage.search.__module__ == "storage.search"
    with pytest.raises(AttributeError):
        _ = storage.no_such_name


def test_storage_lists_its_names_consistently() -> None:
    """storage/__init__.py names its exports for type checkers (TYPE_CHECKING imports), for
    the lazy lookup (_WHERE) and in __all__: the three lists agree."""
    import ast

    import storage

    tree = ast.parse((ROOT / "storage" / "__init__.py").read_text(encoding="utf-8"))
    typed: set[str] = set()
    eager: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.If):  # if TYPE_CHECKING:
            typed |= {a.name for n in node.body if isinstance(n, ast.ImportFrom) for a in n.names}
        elif isinstance(node, ast.ImportFrom) and node.module == "storage.search":
            eager |= {a.name for a in node.names}
    assert typed == set(storage._WHERE)
    assert set(storage.__all__) == typed | eager
