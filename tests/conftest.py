"""Shared fixtures: the JuKKR table (skipped with a reason when absent) and a small CSV writer."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from jijtutorial import datasets, featurecache

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def jukkr_file() -> Path:
    if not datasets.jukkr_available():
        pytest.skip(
            f"JuKKR table not available: set {datasets.DATA_DIR_VARIABLE} to the folder holding "
            f"{datasets.JUKKR_FILENAME} (Materials Cloud doi:{datasets.JUKKR_DOI})."
        )
    return datasets.jukkr_path()


@pytest.fixture(scope="session")
def jukkr(jukkr_file) -> pd.DataFrame:
    return datasets.load_jukkr(jukkr_file)


@pytest.fixture
def jukkr_copy(jukkr_file, tmp_path) -> Path:
    """A writable copy of the JuKKR table for corrupting in a test."""
    dst = tmp_path / datasets.JUKKR_FILENAME
    shutil.copy(jukkr_file, dst)
    return dst


@pytest.fixture
def private_cache(tmp_path, monkeypatch):
    """A feature cache of the test's own, empty in memory and on disk."""
    monkeypatch.setenv(featurecache.CACHE_VARIABLE, str(tmp_path / "cache"))
    featurecache.clear_memory_cache()
    yield
    featurecache.clear_memory_cache()
