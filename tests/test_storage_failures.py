"""An archive that cannot be written never reports success: a crawl in which any article
could not be stored ends `failed` with exit 1 and the count in its record, and a repeated
error is logged once with a count. Real failures: a full filesystem (a small tmpfs, when
this machine lets the test mount one), a SQLite archive whose filesystem the kernel turns
read-only mid-run (ext4 on a loop device), a PostgreSQL connection killed by the server, a
PostgreSQL archive switched to read-only mid-run."""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from storage import open_archive
from tests.test_crawl_support import cli, popen, query, site_table, synthetic_pages, write_config
from tests.test_incremental import slow_site, wait_for_articles
from tests.warc_util import write_warc

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


class Ext4Disk:
    """An ext4 filesystem on a loop device, mounted ``errors=remount-ro``: :meth:`fail` makes
    the kernel turn it read-only (``emergency_ro``) under the files open on it, as it does
    on a real disk error. A tmpfs cannot do that: remounting it read-only with a file open
    for writing is refused (EBUSY)."""

    def __init__(self, image: Path, mount_point: Path) -> None:
        self.image, self.mount_point = image, mount_point

    @property
    def trigger(self) -> Path:
        source = subprocess.run(["findmnt", "-n", "-o", "SOURCE", str(self.mount_point)],
                                capture_output=True, text=True, check=False).stdout.strip()
        return Path("/sys/fs/ext4") / Path(source).name / "trigger_fs_error"

    def fail(self) -> None:
        self.trigger.write_text("test")

    def read_only(self) -> bool:
        options = subprocess.run(["findmnt", "-n", "-o", "OPTIONS", str(self.mount_point)],
                                 capture_output=True, text=True, check=False).stdout
        # a filesystem the kernel turned read-only still lists "rw", with "emergency_ro"
        return bool({"ro", "emergency_ro"} & set(options.strip().split(",")))

    def remount(self) -> None:
        """Unmount and mount the image again, writable (its journal replayed): what a user
        does after the disk error, and where the articles committed before it must be."""
        _umount(self.mount_point)
        _mount_ext4(self.image, self.mount_point)


def _mount_ext4(image: Path, mount_point: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["mount", "-o", "loop,errors=remount-ro", str(image), str(mount_point)],
                          capture_output=True, text=True, check=False)


def _umount(mount_point: Path) -> None:
    if subprocess.run(["umount", str(mount_point)], capture_output=True, check=False).returncode != 0:
        subprocess.run(["umount", "-l", str(mount_point)], capture_output=True, check=False)


def _detach_loops(image: Path) -> None:
    """Loop devices still backing ``image`` (mount's autoclear missed one): detached."""
    listed = subprocess.run(["losetup", "-j", str(image)], capture_output=True, text=True, check=False)
    for line in listed.stdout.splitlines():
        subprocess.run(["losetup", "-d", line.split(":", 1)[0]], capture_output=True, check=False)


@pytest.fixture
def failing_disk(tmp_path: Path) -> Iterator[Ext4Disk]:
    """A 32 MiB ext4 filesystem that the test can turn read-only with the archive open."""
    tools = ("mount", "mkfs.ext4", "losetup", "findmnt")
    if os.geteuid() != 0 or not all(shutil.which(tool) for tool in tools):
        pytest.skip("an ext4 loop mount needs root, mount(8), mkfs.ext4, losetup and findmnt")
    if not Path("/dev/loop-control").exists():
        pytest.skip("no loop devices here (/dev/loop-control is missing)")
    image, mount_point = tmp_path / "ext4.img", tmp_path / "ext4"
    mount_point.mkdir()
    with image.open("wb") as stream:
        stream.truncate(32 << 20)
    made = subprocess.run(["mkfs.ext4", "-q", "-F", str(image)], capture_output=True, text=True, check=False)
    if made.returncode != 0:
        pytest.skip(f"mkfs.ext4 failed: {made.stderr.strip()}")
    mounted = _mount_ext4(image, mount_point)
    if mounted.returncode != 0:
        _detach_loops(image)
        pytest.skip(f"cannot mount an ext4 image on a loop device here: {mounted.stderr.strip()}")
    disk = Ext4Disk(image, mount_point)
    try:
        if not disk.trigger.exists():
            pytest.skip(f"this kernel has no {disk.trigger} to turn the filesystem read-only")
        yield disk
    finally:
        _umount(mount_point)
        _detach_loops(image)


def _run_until_read_only(child: subprocess.Popen[str], disk: Ext4Disk, db: str, articles: int) -> str:
    """Let ``child`` run; once ``articles`` are committed, the filesystem turns read-only
    under it. Returns its output once it has ended, having checked what every run whose
    archive turns read-only must do: fail with exit 1, say why in one line per distinct
    error (not once per article), no traceback."""

    def watch() -> None:
        wait_for_articles(db, articles, timeout=120)
        disk.fail()

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        output, _ = child.communicate(timeout=600)
        watcher.join(timeout=5)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert disk.read_only(), "the filesystem did not turn read-only"
    assert child.returncode == 1, output[-3000:]
    assert "Traceback" not in output, output[-3000:]
    assert "cannot write the archive" in output, output[-3000:]
    assert len(_storage_lines(output)) == 1, _storage_lines(output)[:5]
    return output


def _committed_before(disk: Ext4Disk, db: str) -> list[tuple[str, int]]:
    """The archive's articles (url, text length) as they are after the disk error: the
    filesystem is mounted again and the archive opened and checked."""
    disk.remount()
    assert query(db, "PRAGMA integrity_check") == [("ok",)]
    return query(db, "SELECT url, length(text) FROM article ORDER BY url")


def test_a_sqlite_archive_turned_read_only_mid_crawl_fails_the_run(
    serve_site: Any, failing_disk: Ext4Disk, tmp_path: Path
) -> None:
    db = str(failing_disk.mount_point / "archive.db")
    open_archive(db).close()
    site, paths, child = _crawl_in_background(serve_site, db, tmp_path, count=60)
    output = _run_until_read_only(child, failing_disk, db, articles=10)
    assert "Error: local: run failed: cannot write the archive:" in output, output[-3000:]
    stored = _committed_before(failing_disk, db)
    assert 10 <= len(stored) < len(paths)
    assert all(length > 500 for _, length in stored), stored
    ((status,),) = query(db, "SELECT status FROM crawl_run")
    # the run record could not be closed on a read-only disk: the next run marks it interrupted
    assert status in ("failed", "running")


def test_a_sqlite_archive_turned_read_only_mid_import_fails_the_import(
    failing_disk: Ext4Disk, tmp_path: Path
) -> None:
    db = str(failing_disk.mount_point / "archive.db")
    open_archive(db).close()
    pages = synthetic_pages(600)
    warc = write_warc(tmp_path / "pages.warc.gz", [
        (f"http://news.example.org{path}", body) for path, body in pages.items() if path != "/"
    ])
    child = popen("--db", db, "import", str(warc), "--workers", "1")
    output = _run_until_read_only(child, failing_disk, db, articles=100)
    assert "Error: cannot write the archive:" in output, output[-3000:]
    stored = _committed_before(failing_disk, db)
    assert 100 <= len(stored) < 600
    assert all(length > 500 for _, length in stored)


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
