"""`newsarchive extract`: one page to JSON, no database."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from crawler.cli import main
from tests.demo_pages import DEMO_SITE, XUNJK_BOILERPLATE, XUNJK_PATH, XUNJK_TITLE


def test_extract_prints_the_article_as_json(tmp_path: Path) -> None:
    source = DEMO_SITE / XUNJK_PATH.lstrip("/")
    result = CliRunner().invoke(
        main,
        [
            "--db",
            str(tmp_path / "unused.db"),
            "extract",
            str(source),
            "--url",
            "https://www.xunjk.com" + XUNJK_PATH,
        ],
    )
    assert result.exit_code == 0, result.output
    article = json.loads(result.output)
    assert article["title"] == XUNJK_TITLE
    assert article["author"] == "廖婧"
    assert article["source"] == "广西日报"
    assert article["is_article"] is True
    assert "柳州高新区(柳东新区),一如既往演绎奋勇向上的前行英姿。" in article["text"]
    for furniture in XUNJK_BOILERPLATE:
        assert furniture not in article["text"]
    assert not (tmp_path / "unused.db").exists()


def test_extract_fetches_a_url_from_a_local_server(serve_site) -> None:  # type: ignore[no-untyped-def]
    site = serve_site(
        {"/en/story.html": (DEMO_SITE / "en/2019/11/hitler-house-police-station.html").read_bytes()}
    )
    result = CliRunner().invoke(main, ["extract", site.url("/en/story.html")])
    assert result.exit_code == 0, result.output
    article = json.loads(result.output)
    assert article["title"] == "House where Hitler was born will become police station, Austria says"
    assert "Braunau am Inn" in article["text"]
    assert "All rights reserved" not in article["text"]


def test_extract_of_a_missing_file_is_a_one_line_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["extract", str(tmp_path / "missing.html")])
    assert result.exit_code == 1
    assert result.output.startswith("Error: cannot read")
    assert len(result.output.strip().splitlines()) == 1


def test_extract_of_binary_garbage_is_a_one_line_error(tmp_path: Path) -> None:
    garbage = tmp_path / "photo.jpg"
    garbage.write_bytes(b"\xff\xd8\xff\xe0" + bytes(range(256)) * 40)
    result = CliRunner().invoke(main, ["extract", str(garbage)])
    assert result.exit_code == 1
    assert result.output.startswith("Error: no article found")
    assert len(result.output.strip().splitlines()) == 1


def test_extract_of_a_dead_server_is_a_one_line_error() -> None:
    result = CliRunner().invoke(main, ["extract", "http://127.0.0.1:9/nothing.html"])
    assert result.exit_code == 1
    assert result.output.startswith("Error: could not fetch")
