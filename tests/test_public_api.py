"""The curated public surface: every module has ``__all__``, the notebooks use nothing else, and the
core imports without any Jupyter package."""

from __future__ import annotations

import ast
import importlib
import json
import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

import jijtutorial

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
#: Packages of the book toolchain that the core must not need.
JUPYTER = (
    "IPython",
    "ipykernel",
    "ipywidgets",
    "jupyter_client",
    "jupyter_core",
    "jupyterlab",
    "nglview",
    "notebook",
    "papermill",
    "myst_nb",
    "jupyter_book",
    "sphinx",
)


@pytest.mark.parametrize("name", jijtutorial.SUBMODULES)
def test_every_public_module_declares_what_it_exports(name):
    module = importlib.import_module(f"jijtutorial.{name}")
    assert hasattr(module, "__all__"), f"jijtutorial.{name} has no __all__"
    missing = [n for n in module.__all__ if not hasattr(module, n)]
    assert not missing, f"jijtutorial.{name}.__all__ names what it does not define: {missing}"
    assert len(set(module.__all__)) == len(module.__all__)


def test_top_level_shortcuts_and_lazy_import():
    for name in jijtutorial.__all__:
        assert getattr(jijtutorial, name) is not None
    with pytest.raises(AttributeError, match="no attribute 'nonsense'"):
        jijtutorial.nonsense  # noqa: B018
    code = "import sys, jijtutorial; print(sorted(m for m in sys.modules if m.startswith('jijtutorial')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "['jijtutorial']"  # subpackages load on first use


def _code_cells(path: Path) -> list[str]:
    cells = json.loads(path.read_text())["cells"]
    out = []
    for c in cells:
        if c["cell_type"] != "code":
            continue
        lines = "".join(c["source"]).splitlines()
        out.append("\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in lines))
    return out


def _public(module: str) -> set[str]:
    mod = importlib.import_module(module)
    names = set(getattr(mod, "__all__", ()))
    if module == "jijtutorial":
        names |= set(jijtutorial.SUBMODULES)
    return names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebooks_use_only_the_public_surface(path):
    """Imports from jijtutorial and attributes of its modules must be in the modules' ``__all__``."""
    aliases: dict[str, str] = {}  # local name -> public module
    problems = []
    trees = [ast.parse(src) for src in _code_cells(path)]
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("jijtutorial"):
                mod = node.module
                if mod != "jijtutorial" and mod.removeprefix("jijtutorial.") not in jijtutorial.SUBMODULES:
                    problems.append(f"imports from {mod}, which is not a public module")
                    continue
                public = _public(mod)
                for a in node.names:
                    if a.name not in public:
                        problems.append(f"from {mod} import {a.name}: not in {mod}.__all__")
                    elif mod == "jijtutorial" and a.name in jijtutorial.SUBMODULES:
                        aliases[a.asname or a.name] = f"jijtutorial.{a.name}"
            elif isinstance(node, ast.Import):
                for a in node.names:
                    if a.name.startswith("jijtutorial."):
                        if a.name.removeprefix("jijtutorial.") not in jijtutorial.SUBMODULES:
                            problems.append(f"import {a.name}: not a public module")
                        elif a.asname:
                            aliases[a.asname] = a.name
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in aliases:
                mod = aliases[node.value.id]
                if node.attr not in _public(mod):
                    problems.append(f"{node.value.id}.{node.attr}: not in {mod}.__all__")
    assert not problems, f"{path.name}:\n" + "\n".join(sorted(set(problems)))


CORE_IMPORT = """
import importlib.abc, sys
BLOCKED = {blocked!r}
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ImportError(f"{{name}} is not installed (blocked)")
sys.meta_path.insert(0, Block())
import jijtutorial.datasets, jijtutorial.descriptors, jijtutorial.kernels, jijtutorial.greens, jijtutorial.benchmark
import jijtutorial.structures, jijtutorial.model_data, jijtutorial.exploration, jijtutorial.viewer
from jijtutorial.viewer import structure_image
loaded = sorted(m for m in sys.modules if m.split(".")[0] in BLOCKED)
print("loaded:", loaded)
"""


def test_core_imports_without_any_jupyter_package():
    code = CORE_IMPORT.format(blocked=JUPYTER)
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert "loaded: []" in res.stdout


@pytest.mark.slow
def test_pip_install_into_a_clean_venv(tmp_path):
    """``pip install .`` (core only) into a fresh virtual environment, then import the core modules there."""
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    py = env_dir / ("Scripts" if os.name == "nt" else "bin") / "python"
    res = subprocess.run([str(py), "-m", "pip", "install", "--quiet", str(ROOT)], capture_output=True, text=True, cwd=tmp_path)
    assert res.returncode == 0, res.stderr[-2000:]
    listed = subprocess.run([str(py), "-m", "pip", "list", "--format=json"], capture_output=True, text=True, check=True).stdout
    installed = {p["name"].lower().replace("_", "-") for p in json.loads(listed)}
    assert not installed & {"jupyter-book", "jupyterlab", "nglview", "papermill", "ipykernel", "notebook"}
    code = (
        "import jijtutorial.datasets, jijtutorial.descriptors, jijtutorial.kernels, jijtutorial.greens, "
        "jijtutorial.benchmark; print(jijtutorial.kernels.SymmetricPairKRR())"
    )
    res = subprocess.run([str(py), "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert res.returncode == 0, res.stderr[-2000:]
    assert "SymmetricPairKRR" in res.stdout
