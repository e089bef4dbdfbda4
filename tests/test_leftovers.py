"""The session-end check of tests/conftest.py: a test that leaves a process behind fails the run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.leftovers import MARKER

ROOT = Path(__file__).parent.parent


def _pytest(tmp_path: Path, body: str) -> subprocess.CompletedProcess[str]:
    test = tmp_path / "test_inner.py"
    test.write_text("import subprocess, sys\n\n\ndef test_inner():\n" + body, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != MARKER}  # a session of its own
    env["PYTHONPATH"] = str(ROOT)
    command = [sys.executable, "-m", "pytest", "-q", "-p", "tests.conftest", "--rootdir", str(tmp_path),
               "-c", os.devnull, str(test)]  # fmt: skip
    return subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)


@pytest.mark.slow
def test_a_process_left_behind_fails_the_run(tmp_path: Path) -> None:
    """First-hour surprise 11: a test run could leave a forkserver and resource tracker behind."""
    sleeper = "import time; time.sleep(120)"
    leaky = _pytest(tmp_path, f"    subprocess.Popen([sys.executable, '-c', {sleeper!r}])\n")
    assert leaky.returncode == 1, leaky.stdout
    assert "processes left behind" in leaky.stdout and "time.sleep(120)" in leaky.stdout
    tidy = _pytest(tmp_path, "    subprocess.run([sys.executable, '-c', 'pass'], check=True)\n")
    assert tidy.returncode == 0, tidy.stdout
