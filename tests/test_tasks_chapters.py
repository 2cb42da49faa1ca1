"""`tasks.py prepare` and `tasks.py lab` take every chapter of the book, 7b included."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from _browser import toc_notebooks

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("tasks", ROOT / "tasks.py")
tasks = importlib.util.module_from_spec(spec)
spec.loader.exec_module(tasks)


def test_every_chapter_of_the_book_is_prepared_and_copied():
    # was: the pattern 'NN_*.ipynb' left out 07b_equivariant_targets (not cached by prepare, not copied by lab)
    assert tasks.chapter_notebooks() == toc_notebooks(ROOT / "_toc.yml")
    names = [p.name for p in tasks.chapter_notebooks(["07"])]
    assert names == ["07_results.ipynb", "07b_equivariant_targets.ipynb"]
    assert [p.name for p in tasks.chapter_notebooks(["07b"])] == ["07b_equivariant_targets.ipynb"]
