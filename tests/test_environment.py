"""pyproject.toml and environment.yml describe the same stack."""

from __future__ import annotations

import re
from pathlib import Path

import tomllib
import yaml

ROOT = Path(__file__).resolve().parent.parent


def _name(spec: str) -> str:
    return re.split(r"[<>=!~ \[]", spec.strip(), maxsplit=1)[0].lower().replace("_", "-")


def _spec(spec: str) -> str:
    return spec.strip().lower().replace("_", "-").replace(" ", "")


def test_pyproject_and_environment_yml_agree():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    pip_specs = [s for s in project["dependencies"] + extras["book"] + extras["test"] if _name(s) != "jijtutorial"]
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda_specs = [d for d in env["dependencies"] if isinstance(d, str) and _name(d) not in ("python", "pip")]
    assert {_name(s): _spec(s) for s in pip_specs} == {_name(s): _spec(s) for s in conda_specs}


def test_requested_packages_are_dependencies():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    core = {_name(s) for s in project["dependencies"]}
    book = {_name(s) for s in project["optional-dependencies"]["book"]}
    for wanted in ("ase", "dscribe", "scikit-learn", "numpy", "scipy", "pandas", "matplotlib", "threadpoolctl"):
        assert wanted in core
    for wanted in ("jupyter-book", "jupyterlab", "jupyterlab-myst", "nglview", "papermill"):
        assert wanted in book
    # a scientist who only wants the loaders and models gets no book toolchain
    assert not core & {"jupyter-book", "jupyterlab", "nglview", "papermill", "ipykernel", "notebook"}
    jb = next(s for s in project["optional-dependencies"]["book"] if _name(s) == "jupyter-book")
    assert "<2" in jb  # Jupyter Book 2.x needs the web at build time
    assert "jijtutorial[book]" in project["optional-dependencies"]["test"]  # the tests run the chapters
