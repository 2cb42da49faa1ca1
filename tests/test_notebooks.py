"""Every chapter notebook runs end to end through papermill with its fast parameters."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted(p for p in (ROOT / "notebooks").glob("*.ipynb") if not p.name.startswith("_"))


def _cells(path):
    return json.loads(path.read_text())["cells"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_committed_clean_and_parameterised(path):
    cells = _cells(path)
    code = [c for c in cells if c["cell_type"] == "code"]
    assert not any(c.get("outputs") or c.get("execution_count") for c in code), "strip outputs before committing"
    params = [c for c in code if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(params) == 1, "exactly one cell tagged 'parameters'"
    assert "FAST" in "".join(params[0]["source"]), "the parameters cell defines FAST"
    text = "".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    for part in ("Learning objectives", "Prerequisites", "Summary", "dropdown"):
        assert part in text, f"chapter lacks {part!r}"


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs(path, tmp_path):
    papermill = pytest.importorskip("papermill")
    papermill.execute_notebook(
        str(path), str(tmp_path / path.name), parameters={"FAST": True}, kernel_name="python3",
        cwd=str(path.parent), progress_bar=False,
    )
