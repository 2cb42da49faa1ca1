"""Reading chapters for tests: their Markdown, the glue references in it, the values glued when they run."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

#: A reference to a computed value in Markdown: {eval}`name` (see jijtutorial.pages).
REFERENCE = re.compile(r"\{(eval)\}`([A-Za-z_][A-Za-z0-9_]*)`")


def markdown_text(path: Path) -> str:
    """All Markdown cells of a notebook, joined."""
    cells = json.loads(Path(path).read_text())["cells"]
    return "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")


def glued_values(notebook: dict) -> dict[str, str]:
    """Name -> text of every value glued in an executed notebook (myst-nb's 'scrapbook' display data)."""
    values = {}
    for cell in notebook["cells"]:
        for out in cell.get("outputs", []):
            meta = out.get("metadata", {}).get("scrapbook")
            if not meta:
                continue
            prefix = meta.get("mime_prefix", "")
            data = out["data"]
            if prefix + "text/markdown" in data:
                values[meta["name"]] = "".join(data[prefix + "text/markdown"])
            else:
                text = "".join(data[prefix + "text/plain"])
                try:
                    text = str(ast.literal_eval(text))
                except (SyntaxError, ValueError):
                    pass
                values[meta["name"]] = text
    return values


def check_glued_values(source: Path, executed: dict, data: str) -> None:
    """Every glue reference of ``source``'s Markdown has a value in the ``executed`` notebook: not empty, not NaN."""
    values = glued_values(executed)
    references = REFERENCE.findall(markdown_text(source))
    missing = sorted({name for _, name in references} - set(values))
    assert not missing, f"{source.name} on the {data} data glues no value for {missing}"
    for name in {name for _, name in references}:
        # Only a note that applies to one data set (its name ends in _note) may be empty on the other.
        assert values[name].strip() or name.endswith("_note"), f"{source.name}: {name!r} is empty on the {data} data"
        assert "nan" not in values[name].split(), f"{source.name}: {name!r} = {values[name]!r} on the {data} data"
