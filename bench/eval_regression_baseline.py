"""Write the regression corpus baseline ``tests/fixtures/eval_regression.json``.

Scores a fixed sample of each evaluation set (``pipelines/eval_sample.py``) with the
current extractor. Run it when a change improves extraction on purpose, and commit the
file with the change; ``tests/test_eval_regression.py`` fails when any set's score drops
by more than 0.005 below it::

    PYTHONPATH=$PWD .venv/bin/python bench/eval_regression_baseline.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipelines.eval_sample import write_baseline  # noqa: E402

EVALDATA = ROOT.parent / "shared" / "evaldata"
BASELINE = ROOT / "tests" / "fixtures" / "eval_regression.json"


def main() -> None:
    datasets = sorted(d for d in EVALDATA.iterdir() if (d / "ground_truth.jsonl").is_file())
    print(json.dumps(write_baseline(BASELINE, datasets), indent=1, sort_keys=True))


if __name__ == "__main__":
    main()
