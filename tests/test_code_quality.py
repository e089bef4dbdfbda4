"""ruff and mypy stay clean: the style guide asks for it, CI keeps it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent


def _run(tool: str, *args: str) -> subprocess.CompletedProcess[str]:
    pytest.importorskip(tool, reason=f"{tool} not installed (pip install -e '.[test]')")
    return subprocess.run([sys.executable, "-m", tool, *args], cwd=ROOT, capture_output=True, text=True)


def test_ruff_check_is_clean() -> None:
    done = _run("ruff", "check", ".")
    assert done.returncode == 0, done.stdout[-5000:]


@pytest.mark.slow
def test_mypy_is_clean(tmp_path: Path) -> None:
    done = _run("mypy", "--cache-dir", str(tmp_path / "mypy"))
    assert done.returncode == 0, done.stdout[-5000:]


def _importlinter_config() -> dict[str, object]:
    import tomllib

    config: dict[str, object] = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    return config


def test_every_top_level_package_is_under_the_layers_contract() -> None:
    """A new top-level package (web/, say) must be added to root_packages, or
    import-linter would not look at its imports at all."""
    packages = {p.parent.name for p in ROOT.glob("*/__init__.py")} - {"tests", "bench"}
    missing = packages - set(_importlinter_config()["root_packages"])  # type: ignore[call-overload]
    assert not missing, f"add {sorted(missing)} to [tool.importlinter] root_packages in pyproject.toml"


@pytest.mark.slow
def test_imports_only_point_down_the_layers() -> None:
    """`lint-imports`: the layers contract (spiders > crawler > pipelines | web > storage >
    core), extraction and storage independent, no Scrapy below pipelines."""
    pytest.importorskip("importlinter", reason="import-linter not installed (pip install -e '.[test]')")
    lint_imports = Path(sys.executable).parent / "lint-imports"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [str(lint_imports), "--no-cache"], cwd=ROOT, capture_output=True, text=True, env=env
    )
    assert done.returncode == 0, done.stdout[-5000:] + done.stderr[-2000:]
