"""Every chapter notebook runs end to end through papermill with its fast parameters."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from notebook_text import check_glued_values

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


# A figure made at the top level of a cell (not inside an `if`, which may not run).
FIGURE_CELL = re.compile(r"^fig(, *axe?s?)? *= ", re.MULTILINE)


@pytest.mark.slow
@pytest.mark.parametrize("data", ["as configured", "without JuKKR"])
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs(path, data, tmp_path, monkeypatch):
    """Runs with FAST = True, with and without the JuKKR table; every figure cell shows its figure and every
    number the text quotes (myst-nb glue) gets a value."""
    papermill = pytest.importorskip("papermill")
    monkeypatch.delenv("MPLBACKEND", raising=False)  # Agg in the kernel would hide every figure
    if data == "without JuKKR":
        monkeypatch.delenv("JIJTUTORIAL_DATA_DIR", raising=False)
    out = tmp_path / path.name
    papermill.execute_notebook(
        str(path),
        str(out),
        parameters={"FAST": True},
        kernel_name="python3",
        cwd=str(path.parent),
        progress_bar=False,
    )
    check_glued_values(path, json.loads(out.read_text()), data)
    for k, cell in enumerate(_cells(out)):
        source = "".join(cell["source"])
        if cell["cell_type"] == "code" and FIGURE_CELL.search(source):
            images = [o for o in cell.get("outputs", []) if "image/png" in o.get("data", {})]
            assert images, f"cell {k} makes a figure but shows none:\n{source[:300]}"
