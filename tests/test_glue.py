"""The chapters quote their numbers from their own computation (myst-nb glue), on either data set.

Fast checks read the committed notebooks: every ``{glue:...}`name``` in the Markdown is glued by a
code cell of the same chapter, the numbers that used to be typed into the text are gone, and
``J_ij`` is written as math. That every glued name gets a value when a chapter runs, on the JuKKR
table and on the model data set, is checked where the chapters run (tests/test_notebooks.py).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from notebook_text import REFERENCE, markdown_text

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted(p for p in (ROOT / "notebooks").glob("*.ipynb") if not p.name.startswith("_"))
PAGES = sorted((ROOT / "book").glob("*.md"))
#: A glue call in code: glue("name", ...).
CALL = re.compile(r"""\bglue\(\s*["']([A-Za-z_][A-Za-z0-9_]*)["']""")

#: Data-dependent statements that used to be typed into the text and now come from the computation.
TYPED = {
    "02_magnetic_topological_insulators": [
        "ten pair geometries",
        "late ones (Fe, Co, Ni, Tc) antiferromagnetically",
        "Cr and V come out ferromagnetic with T_C of tens of kelvin",
    ],
    "03_jij_from_greens": ["r = 0.78 and 0.75 with 82 % and 92 %", "about fifty times"],
    "04_building_the_database": ["agree to a median of a few 10⁻⁴ meV", "duplicates (2)", "3·10⁻⁴ meV"],
    "05_descriptors": [
        "fills about 3 %",
        "(10⁻¹⁵–10⁻¹²)",
        "the 8.77 Å pair is indistinguishable",
        "with J equal to 10⁻³ meV",
        "**the same features** — and it does",
    ],
    "06_kernel_ridge_benchmark": [
        "R² ≈ 0.93",
        "an MAE of about 0.3 meV",
        "the linear models are no better than the mean",
        "The chosen γ sits at the sharp end of the grid",
        "the level of predicting zero",
        "takes a fraction of a second",
        "J equal to about 10⁻³ meV",
        "The comments between the code cells describe the results on the JuKKR table",
    ],
    "07_results": [
        "About 70 % of the test pairs",
        "with an MAE of about 0.06 meV",
        "Our model's grouped curve falls fastest",
        "Among the magnetic pairs, our model's errors are a fraction of SOAP's",
    ],
    "08_outlook": [
        "For 1728 pairs",
        "by up to several per cent",
        "A few hundred well-chosen pairs reach most of the accuracy of the full model",
    ],
}


def _cells(path: Path) -> list[dict]:
    return json.loads(path.read_text())["cells"]


def _markdown(path: Path) -> str:
    return markdown_text(path)


def _code(path: Path) -> str:
    return "\n".join("".join(c["source"]) for c in _cells(path) if c["cell_type"] == "code")


#: A symbol with an underscore subscript (Δ_i, T_C, k_BT, t_dd), as a reader would see it in running text.
SUBSCRIPTED = re.compile(
    r"(?<![\w`/.-])([A-Za-z\u0370-\u03ff][A-Za-z0-9\u0370-\u03ff]{0,2}"
    r"_[A-Za-z0-9\u0370-\u03ff]{1,4})(?![\w])"
)


def _prose(text: str) -> str:
    """Markdown without code blocks, inline code and math: the text a reader sees as words.

    A directive's fence (````` ````{dropdown} `````) stays, with its text: only code blocks go."""
    text = re.sub(r"^(`{3,})(?!`|\{)[^\n]*\n.*?^\1[ \t]*$", "", text, flags=re.S | re.M)
    text = re.sub(r"^`{3,}.*$", "", text, flags=re.M)  # the fences of directives
    text = re.sub(r"\$\$.*?\$\$", "", text, flags=re.S)
    text = re.sub(r"\$[^$\n]+\$", "", text)
    return re.sub(r"`[^`\n]+`", "", text)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_glue_reference_is_glued_by_the_chapter(path):
    referenced = {name for _, name in REFERENCE.findall(_markdown(path))}
    glued = set(CALL.findall(_code(path)))
    assert referenced <= glued, f"{path.name}: the text refers to {sorted(referenced - glued)}, which no cell glues"


@pytest.mark.parametrize("path", [p for p in NOTEBOOKS if p.stem in TYPED], ids=lambda p: p.stem)
def test_typed_numbers_are_gone(path):
    text = _markdown(path)
    left = [phrase for phrase in TYPED[path.stem] if phrase in text]
    assert not left, f"{path.name} still types data-dependent statements into its text: {left}"


@pytest.mark.parametrize("path", NOTEBOOKS + PAGES, ids=lambda p: p.stem)
def test_j_ij_and_sums_are_written_as_math(path):
    text = _markdown(path) if path.suffix == ".ipynb" else path.read_text()
    prose = _prose(text)
    for raw in ("J_ij", "Σ_{", "**S**_i", "**e**_i"):
        assert raw not in prose, f"{path.name}: write {raw!r} as math ($J_{{ij}}$, $\\sum_{{...}}$), not as raw markup"
    # Any symbol with an underscore subscript in running text (Δ_i, T_C, k_BT, r_cut) shows the underscore.
    raw = sorted(set(m.group(1) for m in SUBSCRIPTED.finditer(prose)))
    assert not raw, f"{path.name}: symbols typed with an underscore in the text {raw}: write them as math ($\\Delta_i$)"
    # {doc} shows a page's title as plain text: "J_{ij} from Green functions". Link to such pages with own text.
    titled_math = [p.stem for p in NOTEBOOKS if "$" in _markdown(p).lstrip().splitlines()[0]]
    for stem in titled_math:
        assert f"{{doc}}`../notebooks/{stem}`" not in text, f"{path.name}: link to {stem} as [its title with math](...)"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_the_title_has_no_math(path):
    """jupyterlab-myst shows a notebook's first heading as its title, in plain text: ``$J_{ij}$`` there reads
    ``J_{ij}``. Write the symbol in Unicode (Jᵢⱼ); the book's title and side bar show the same."""
    title = _markdown(path).lstrip().splitlines()[0]
    assert title.startswith("# ") and not re.search(r"\$|\\\(", title), (
        f"{path.name}: the title {title!r} holds math, which JupyterLab shows raw; write it in Unicode (Jᵢⱼ)"
    )


def _bound_names(code: str) -> set[str]:
    """Names a chapter's code binds: assignments, loop targets, imports, functions and classes."""
    import ast

    names = set()
    for cell in code.split("\n\n\n"):
        try:
            tree = ast.parse(cell)
        except SyntaxError:  # IPython magics: not Python
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                names.add(node.id)
            elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                names.add(node.name)
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                names.update((a.asname or a.name).split(".")[0] for a in node.names)
    return names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_no_glued_name_is_also_a_variable(path):
    """{eval}`name` reads the kernel's variable `name`: a chapter variable of that name would replace the text."""
    code = "\n\n\n".join("".join(c["source"]) for c in _cells(path) if c["cell_type"] == "code")
    clash = set(CALL.findall(code)) & _bound_names(code)
    assert not clash, f"{path.name}: glued name(s) {sorted(clash)} are also variables of the chapter; rename them"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_code_in_the_prose_is_valid_python(path):
    """Solutions and snippets in Markdown code blocks (```python) must at least compile."""
    bad = []
    for i, cell in enumerate(_cells(path)):
        if cell["cell_type"] != "markdown":
            continue
        for m in re.finditer(r"^```python\n(.*?)^```$", "".join(cell["source"]), flags=re.S | re.M):
            try:
                compile(m.group(1), f"{path.name}, markdown cell {i}", "exec")
            except SyntaxError as err:
                bad.append(f"markdown cell {i}, line {err.lineno}: {err.msg}: {(err.text or '').strip()}")
    assert not bad, f"{path.name}: code blocks that are not Python:\n  " + "\n  ".join(bad)


def test_bibliography_titles_carry_no_tex_math():
    """sphinxcontrib-bibtex prints a title's $...$ verbatim on the References page: formulas go in Unicode (Bi₂Te₃)."""
    bib = (ROOT / "book" / "references.bib").read_text()
    tex = [f"references.bib:{k}: {line.strip()}" for k, line in enumerate(bib.splitlines(), 1) if "$" in line]
    assert not tex, "write chemical formulas in Unicode, not as TeX math:\n" + "\n".join(tex)
