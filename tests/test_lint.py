"""The linter passes on the package, the tests, the benchmarks and the notebooks, and all of them are formatted
(`ruff format`; rules in pyproject.toml)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _ruff() -> str:
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    if ruff is None:
        pytest.skip("ruff is not installed (pip install -e '.[test]').")
    return ruff


def test_ruff_is_clean():
    res = subprocess.run(
        [_ruff(), "check", "--no-cache", "--output-format", "concise", "."], cwd=ROOT, capture_output=True, text=True
    )
    assert res.returncode == 0, f"ruff check . found problems:\n{res.stdout}{res.stderr}"


def test_ruff_format_is_clean():
    res = subprocess.run([_ruff(), "format", "--check", "--no-cache", "."], cwd=ROOT, capture_output=True, text=True)
    assert res.returncode == 0, f"ruff format --check . would reformat (run `ruff format .`):\n{res.stdout}{res.stderr}"
