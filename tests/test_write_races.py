"""Concurrent writers on PostgreSQL: real processes, the real server. Each race is forced
(one writer holds its transaction open while the other acts), so the test fails every
time the race is possible, not once in a while."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from pipelines.site_templates import refresh_site_templates
from storage import Article, open_archive, store_article
from tests.test_storage_data import SECTIONS, article_for, page_for

ROOT = Path(__file__).resolve().parents[1]

PRELUDE = """
import sys, time, pathlib
from storage import open_archive, store_article
from pipelines.site_templates import refresh_site_templates
from tests.test_storage_data import SECTIONS, article_for, page_for
db, flags = sys.argv[1], pathlib.Path(sys.argv[2])
def wait_for(name):
    deadline = time.monotonic() + 60
    while not (flags / name).exists():
        assert time.monotonic() < deadline, name
        time.sleep(0.02)
archive = open_archive(db)
"""

# Two writers store one text under two URLs; the first keeps its transaction open while
# the second stores.
STORE_COPY = PRELUDE + """
role = sys.argv[3]
url = f"https://www.xunjk.com/{role}/story.html"
text = SECTIONS["people"]
if role == "second":
    wait_for("first-stored")
with archive.session() as session, session.begin():
    outcome = store_article(session, page_for(url, text), article_for(url, text, title="Same story"))
    if role == "first":
        (flags / "first-stored").touch()
        time.sleep(2)
print(outcome.status)
"""

FOOTER = "本网站所有内容版权归柳州高新区所有 未经书面授权不得转载\n责任编辑 网站管理员"


def tpl_url(n: int) -> str:
    return f"https://www.xunjk.com/tpl/{n}.html"


# A correction of article 0 (version 2), held uncommitted until the template refresh has
# read the old text and is about to write; then committed.
CORRECT = PRELUDE + """
from tests.test_write_races import FOOTER, tpl_url
url = tpl_url(0)
text = "更正后的第二版正文：" + SECTIONS["people"] + "\\n" + FOOTER
with archive.session() as session, session.begin():
    store_article(session, page_for(url, text), article_for(url, text, title="Story 0"))
    (flags / "corrected").touch()
    wait_for("refreshing")
    time.sleep(2)
"""

REFRESH = PRELUDE + """
wait_for("corrected")
with archive.session() as session, session.begin():
    (flags / "refreshing").touch()
    print(refresh_site_templates(session, ["xunjk"]))
"""


def _run(script: str, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-c", script, *args], cwd=ROOT, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


@pytest.mark.slow
def test_two_writers_storing_one_text_under_two_urls_at_once_make_one_a_duplicate(
    pg_url: str, tmp_path: Path
) -> None:
    open_archive(pg_url).close()
    first = _run(STORE_COPY, pg_url, str(tmp_path), "first")
    second = _run(STORE_COPY, pg_url, str(tmp_path), "second")
    outputs = [first.communicate(timeout=120), second.communicate(timeout=120)]
    assert [first.returncode, second.returncode] == [0, 0], outputs
    assert [out.strip() for out, _ in outputs] == ["new", "duplicate"]
    with open_archive(pg_url) as archive, archive.session() as session:
        rows = session.execute(select(Article.id, Article.duplicate_of).order_by(Article.id)).all()
    assert len(rows) == 2
    assert rows[1].duplicate_of == rows[0].id and rows[0].duplicate_of is None


@pytest.mark.slow
def test_a_template_refresh_never_overwrites_a_correction_another_writer_committed(
    pg_url: str, tmp_path: Path
) -> None:
    with open_archive(pg_url) as archive, archive.session() as session, session.begin():
        for n, key in enumerate(SECTIONS):
            text = SECTIONS[key] + "\n" + FOOTER
            url = tpl_url(n)
            store_article(session, page_for(url, text), article_for(url, text, title=f"Story {n}"))
    corrector = _run(CORRECT, pg_url, str(tmp_path))
    refresher = _run(REFRESH, pg_url, str(tmp_path))
    outputs = [corrector.communicate(timeout=120), refresher.communicate(timeout=120)]
    assert [corrector.returncode, refresher.returncode] == [0, 0], outputs
    assert "xunjk" in outputs[1][0]  # the refresh ran (and cleaned the others)
    with open_archive(pg_url) as archive, archive.session() as session:
        rows = {row.url: row for row in session.scalars(select(Article))}
        corrected = rows[tpl_url(0)]
        assert corrected.version == 2
        assert corrected.text.startswith("更正后的第二版正文")  # version 2's text, as committed
        assert all("未经书面授权" not in rows[tpl_url(n)].text for n in range(1, 4)), outputs  # cleaned
    # the next refresh cleans the correction too
    with open_archive(pg_url) as archive:
        with archive.session() as session, session.begin():
            refresh_site_templates(session, ["xunjk"])
        with archive.session() as session:
            text = session.scalars(select(Article.text).where(Article.url == tpl_url(0))).one()
    assert text.startswith("更正后的第二版正文") and "未经书面授权" not in text


# Two workers of a shared crawl end at once and both refresh the site's template: the first
# holds its refresh (which created the site's template row) uncommitted while the second runs.
REFRESH_HELD = PRELUDE + """
role = sys.argv[3]
if role == "second":
    wait_for("first-refreshed")
with archive.session() as session, session.begin():
    cleaned = refresh_site_templates(session, ["xunjk"])
    if role == "first":
        (flags / "first-refreshed").touch()
        time.sleep(2)
print(cleaned)
"""


@pytest.mark.slow
def test_two_template_refreshes_of_one_site_at_once_both_succeed(pg_url: str, tmp_path: Path) -> None:
    with open_archive(pg_url) as archive, archive.session() as session, session.begin():
        for n, key in enumerate(SECTIONS):
            text = SECTIONS[key] + "\n" + FOOTER
            url = tpl_url(n)
            store_article(session, page_for(url, text), article_for(url, text, title=f"Story {n}"))
    first = _run(REFRESH_HELD, pg_url, str(tmp_path), "first")
    second = _run(REFRESH_HELD, pg_url, str(tmp_path), "second")
    outputs = [first.communicate(timeout=120), second.communicate(timeout=120)]
    assert [first.returncode, second.returncode] == [0, 0], outputs  # no duplicate key, no lost refresh
    assert outputs[0][0].strip() == "{'xunjk': 4}"  # the first learned and cleaned ...
    assert outputs[1][0].strip() == "{'xunjk': 0}"  # ... the second found it done
    with open_archive(pg_url) as archive, archive.session() as session:
        assert all("未经书面授权" not in text for text in session.scalars(select(Article.text)))
