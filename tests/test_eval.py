"""`newsarchive eval` and the scorer behind it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from crawler.cli import main
from pipelines.evaluation import body_metrics, score_dataset, tp_fp_fn
from tests.demo_pages import ARTICLE_PATHS, XUNJK_PATH, XUNJK_TITLE, page
from tests.warc_util import write_warc

SEED_BODY = (Path(__file__).parent / "fixtures" / "xunjk_body.txt").read_text(encoding="utf-8")


def test_identical_text_scores_one_and_disjoint_text_scores_zero() -> None:
    assert tp_fp_fn("柳州高新区十年高质量发展", "柳州高新区十年高质量发展") == (1.0, 0.0, 0.0)
    tp, fp, fn = tp_fp_fn("the house where hitler was born", "a completely different sentence here")
    assert tp == 0.0 and fp > 0 and fn > 0
    assert body_metrics([(1.0, 0.0, 0.0), (0.5, 0.5, 0.0)]) == {
        "f1": 0.8571,
        "precision": 0.75,
        "recall": 1.0,
    }


def test_score_counts_missing_pages_and_matches_canonical_url() -> None:
    truth = [
        {"warc_url": "http://a/1", "body": "one two three four five", "author": "Jane Doe"},
        {"warc_url": "http://a/2", "body": "six seven eight nine ten"},
    ]
    exported = [
        {
            "url": "http://x/1",
            "canonical_url": "http://a/1",
            "text": "one two three four five",
            "author": "Jane Doe",
        }
    ]
    result = score_dataset("set", truth, exported)
    assert result["missing"] == 1
    assert result["author"] == 1.0
    assert result["body_recall"] == 0.5


@pytest.mark.slow
def test_eval_imports_exports_and_scores_a_dataset_folder(tmp_path: Path) -> None:
    dataset = tmp_path / "mini_zh"
    dataset.mkdir()
    url = "https://www.xunjk.com" + XUNJK_PATH
    write_warc(dataset / "pages.warc.gz", [(url, page(XUNJK_PATH))])
    truth = {"warc_url": url, "body": SEED_BODY, "title": XUNJK_TITLE, "date": "2022-09-14", "author": "廖婧"}
    (dataset / "ground_truth.jsonl").write_text(
        json.dumps(truth, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    result = CliRunner().invoke(main, ["eval", str(dataset), "--format", "json"])
    assert result.exit_code == 0, result.output
    scores = json.loads(result.output)
    assert scores["missing"] == 0
    assert scores["body_f1"] >= 0.95
    assert scores["title_exact"] == 1.0 and scores["date_day"] == 1.0 and scores["author"] == 1.0


def test_eval_skips_files_a_glob_brings_but_needs_a_folder(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text("# the evaluation sets\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["eval", str(readme)])
    assert result.exit_code == 1
    assert f"Skipping {readme}: a file" in result.output
    assert "Error: no evaluation folder given" in result.output
    assert "Traceback" not in result.output
    missing = CliRunner().invoke(main, ["eval", str(tmp_path / "nope")])
    assert missing.exit_code == 1 and "nope has no pages.warc.gz" in missing.output
    assert "Traceback" not in missing.output


def test_eval_of_a_folder_without_pages_is_a_one_line_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["eval", str(tmp_path)])
    assert result.exit_code == 1
    assert result.output.strip() == f"Error: {tmp_path} has no pages.warc.gz"


def test_demo_pages_are_all_articles_in_the_eval_sense() -> None:
    assert all(page(p) for p in ARTICLE_PATHS)


@pytest.mark.slow
def test_folds_split_by_url_hash_and_show_their_gap(tmp_path: Path) -> None:
    from pipelines.evaluation import fold_of

    urls = [f"https://www.example.com{p}" for p in ARTICLE_PATHS]
    assert [fold_of(u, 2) for u in urls] == [fold_of(u, 2) for u in reversed(urls)][::-1]
    assert {fold_of(u, 2) for u in urls} == {0, 1}  # these five pages fall in both folds
    dataset = tmp_path / "mini"
    dataset.mkdir()
    write_warc(dataset / "pages.warc.gz", [(u, page(p)) for u, p in zip(urls, ARTICLE_PATHS, strict=True)])
    # the xunjk page's truth is right, every other page's truth is another page's text:
    # the fold holding the xunjk page scores higher, and the gap says by how much
    truths = [{"warc_url": u, "body": SEED_BODY if p == XUNJK_PATH else "no such words in any page here"}
              for u, p in zip(urls, ARTICLE_PATHS, strict=True)]  # fmt: skip
    lines = "".join(json.dumps(t) + "\n" for t in truths)
    (dataset / "ground_truth.jsonl").write_text(lines, encoding="utf-8")
    result = CliRunner().invoke(main, ["eval", str(dataset), "--folds", "2", "--format", "json"])
    assert result.exit_code == 0, result.output
    scores = json.loads(result.output)
    folds = scores["folds"]
    assert [f["pages"] for f in folds] == [
        sum(1 for u in urls if fold_of(u, 2) == n) for n in (0, 1)
    ]
    assert scores["gap"]["body_f1"] == round(abs(folds[0]["body_f1"] - folds[1]["body_f1"]), 4) > 0.3
    table = CliRunner().invoke(main, ["eval", str(dataset), "--folds", "2"])
    assert table.exit_code == 0 and "gap" in table.output and "mini" in table.output
