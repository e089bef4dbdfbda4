"""An archive that cannot be written never reports success: a crawl in which any article
could not be stored ends `failed` with exit 1 and the count in its record, and a repeated
error is logged once with a count. Real failures: a full filesystem (a small tmpfs, when
this machine lets the test mount one), a PostgreSQL connection killed by the server, a
PostgreSQL archive switched to read-only mid-run."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from storage import open_archive
from tests.test_crawl_support import cli, popen, query, site_table, synthetic_pages, write_config
from tests.test_incremental import slow_site

pytestmark = pytest.mark.slow


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 4 MiB tmpfs: a filesystem that really fills up."""
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a small tmpfs needs root and mount(8)")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount_point)],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def _fill(disk: Path, leave: int) -> None:
    """Fill ``disk`` but ``leave`` bytes."""
    free = shutil.disk_usage(disk).free
    with (disk / "filler").open("wb") as filler:
        filler.write(b"\0" * max(0, free - leave))


def _storage_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if "Cannot store" in line]


def test_a_full_disk_fails_the_run_and_says_why_once(
    serve_site: Any, small_disk: Path, tmp_path: Path
) -> None:
    db = str(small_disk / "archive.db")
    open_archive(db).close()  # the schema fits; the articles will not
    site = serve_site(synthetic_pages(150))
    config = write_config(tmp_path / "sites.toml", {"local": site_table(
        site.base_url, settings={"STORE_BATCH_SIZE": 10})})
    _fill(small_disk, leave=150_000)
    result = cli("--db", db, "--config", str(config), "crawl", "--site", "local", timeout=300)
    assert result.returncode == 1, result.stderr[-3000:]
    output = result.stdout + result.stderr
    assert "Traceback" not in output
    assert "Error: local: run failed: cannot write the archive:" in result.stderr
    assert "full" in result.stderr  # the reason, not just a count
    # logged once (with the count at the end), not once per article
    assert len(_storage_lines(output)) == 1, _storage_lines(output)[:5]
    os.remove(small_disk / "filler")
    stored = query(db, "SELECT count(*) FROM article")[0][0]
    assert stored < 150
    ((status, new, errors, reason),) = query(db, "SELECT status, articles_new, errors, reason FROM crawl_run")
    assert status == "failed" and new == stored and '"storage"' in errors
    assert reason.startswith("cannot write the archive:")


def _pg_admin(sql: str) -> None:
    psycopg = pytest.importorskip("psycopg")
    with psycopg.connect("host=127.0.0.1 port=5432 user=postgres dbname=postgres", autocommit=True) as conn:
        conn.execute(sql)


def _database(pg_url: str) -> str:
    return pg_url.rsplit("/", 1)[1]


def _crawl_in_background(serve_site: Any, db: str, tmp_path: Path, count: int) -> tuple[Any, list[str], Any]:
    site, paths = slow_site(serve_site, count=count, delay=0.1)
    config = write_config(tmp_path / f"sites-{uuid.uuid4().hex[:6]}.toml", {"local": site_table(
        site.base_url, settings={"CONCURRENT_REQUESTS_PER_DOMAIN": 2, "STORE_BATCH_SIZE": 5,
                                 "STORE_FLUSH_SECONDS": 0.5})})
    return site, paths, popen("--db", db, "--config", str(config), "crawl", "--site", "local")


def _stored(pg_url: str) -> int:
    with open_archive(pg_url) as archive, archive.session() as session:
        from sqlalchemy import func, select

        from storage import Article

        return int(session.scalar(select(func.count()).select_from(Article)) or 0)


def _wait_stored(pg_url: str, at_least: int, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while _stored(pg_url) < at_least:
        assert time.monotonic() < deadline, f"fewer than {at_least} articles in {timeout}s"
        time.sleep(0.2)


def test_a_lost_postgresql_connection_loses_no_article(serve_site: Any, pg_url: str, tmp_path: Path) -> None:
    open_archive(pg_url).close()
    site, paths, child = _crawl_in_background(serve_site, pg_url, tmp_path, count=40)
    try:
        _wait_stored(pg_url, 5)
        _pg_admin(  # the server ends every connection of the crawl
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            f"WHERE datname = '{_database(pg_url)}' AND pid <> pg_backend_pid()"
        )
        output, _ = child.communicate(timeout=240)
    finally:
        if child.poll() is None:
            child.kill()
    assert "Traceback" not in output
    stored = _stored(pg_url)
    # either every article is stored (the writer reconnects), or the run says it failed
    if stored == len(paths):
        assert child.returncode == 0, output[-3000:]
    else:
        assert child.returncode == 1 and "cannot write the archive" in output, output[-3000:]


def test_a_postgresql_archive_turned_read_only_mid_run_fails_the_run(
    serve_site: Any, pg_url: str, tmp_path: Path
) -> None:
    open_archive(pg_url).close()
    name = _database(pg_url)
    site, paths, child = _crawl_in_background(serve_site, pg_url, tmp_path, count=60)
    try:
        _wait_stored(pg_url, 5)
        _pg_admin(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on')
        _pg_admin("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                  f"WHERE datname = '{name}' AND pid <> pg_backend_pid()")
        output, _ = child.communicate(timeout=240)
    finally:
        if child.poll() is None:
            child.kill()
        _pg_admin(f'ALTER DATABASE "{name}" SET default_transaction_read_only = off')
    assert child.returncode == 1, output[-3000:]
    assert "Traceback" not in output
    assert "Error: local: run failed: cannot write the archive:" in output
    assert "read-only" in output
    assert len(_storage_lines(output)) == 1, _storage_lines(output)[:5]
    assert _stored(pg_url) < len(paths)
