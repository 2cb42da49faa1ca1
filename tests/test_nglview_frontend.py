"""nglview's Python side asks for the front-end version its installed JavaScript registers.

Every nglview widget tells the browser which JavaScript module and version draws it
(``_model_module_version`` / ``_view_module_version``, a semver range). JupyterLab's widget
manager only finds the class if the installed lab extension registered a version in that range;
otherwise the cell shows a broken widget and the console says "Module nglview-js-widgets,
version 4.0 is not registered, however, 3.1.5 is" (nglview 4.0.1, whose JavaScript is still
3.1.5). These tests read the installed files, with no browser:

* ``share/jupyter/labextensions/nglview-js-widgets``: ``package.json`` (what JupyterLab lists),
  the version its ``remoteEntry`` puts in the shared scope, and the version the built plugin
  registers with the widget manager (the package version compiled into its chunks);
* ``share/jupyter/nbextensions/nglview-js-widgets/index.js``: the AMD bundle the static book
  serves (``book/_ext/offline_widgets.py`` copies it), which must be the same JavaScript.
"""

from __future__ import annotations

import importlib
import json
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NAME = "nglview-js-widgets"

#: The package.json object webpack compiles into the bundle; its version is what the plugin
#: passes to ``registerWidget`` (``version: require('../package.json').version``).
_COMPILED_VERSION = re.compile(r'exports\s*=\s*\{\s*version\s*:\s*"([^"]+)"\s*\}')
#: The module-federation shared-scope entry of the lab extension: ``"nglview-js-widgets","3.1.5"``.
_SHARED_VERSION = re.compile(r'"nglview-js-widgets"\s*,\s*"([^"]+)"')


# --- semver, as ipywidgets' registry matches a requested range against registered versions ----


def _parts(version: str) -> tuple[int, int, int]:
    m = re.fullmatch(r"v?(\d+)\.(\d+)\.(\d+)(?:[-+].*)?", version.strip())
    if not m:
        raise ValueError(f"not a semver version: {version!r}")
    return tuple(int(x) for x in m.groups())


def semver_satisfies(version: str, spec: str) -> bool:
    """Does ``version`` (x.y.z) satisfy the npm semver range ``spec``?

    Covers what widget packages write: an exact or partial version (``3.1.5``, ``4.0``, ``4``,
    ``4.x``: the missing parts are wildcards), ``^x.y.z``, ``~x.y.z`` and ``*``.
    """
    v = _parts(version)
    spec = spec.strip()
    if spec in ("*", "", "x"):
        return True
    m = re.fullmatch(r"([\^~]?)v?(\d+)(?:\.(\d+|x|\*))?(?:\.(\d+|x|\*))?", spec)
    if not m:
        raise ValueError(f"unsupported semver range {spec!r}: extend semver_satisfies")
    op, *given = m.groups()
    nums = [int(g) for g in given if g is not None and g not in ("x", "*")]
    base = tuple(nums + [0] * (3 - len(nums)))
    if op == "^":
        # ^1.2.3: >=1.2.3 <2.0.0; ^0.2.3: <0.3.0; ^0.0.3: <0.0.4
        first = next((k for k, x in enumerate(base) if x != 0), len(nums) - 1)
        upper = list(base[: first + 1])
        upper[-1] += 1
        return base <= v and v[: first + 1] < tuple(upper)
    if op == "~":
        # ~1.2.3: >=1.2.3 <1.3.0; ~1: <2.0.0
        keep = 2 if len(nums) >= 2 else 1
        return base <= v and v[:keep] == base[:keep]
    return v[: len(nums)] == tuple(nums)  # exact (3 parts) or partial: the rest are wildcards


# --- what the installed files say -------------------------------------------------------------


def requested_versions() -> dict[str, tuple[str, str]]:
    """(model, view) front-end version of every nglview widget class drawn by ``nglview-js-widgets``."""
    pytest.importorskip("nglview", reason="nglview is not installed (pip install -e '.[book]')")
    import ipywidgets

    for sub in ("widget", "color", "theme.theme", "widget_base"):  # every module defining widgets
        try:
            importlib.import_module(f"nglview.{sub}")
        except ImportError:
            pass

    out = {}
    todo = list(ipywidgets.Widget.__subclasses__())
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        if not cls.__module__.startswith("nglview"):
            continue
        traits = cls.class_traits()
        if NAME not in (traits["_model_module"].default_value, traits["_view_module"].default_value):
            continue
        out[f"{cls.__module__}.{cls.__qualname__}"] = (
            traits["_model_module_version"].default_value,
            traits["_view_module_version"].default_value,
        )
    return out


def installed_extension(kind: str) -> Path:
    """``<data dir>/<kind>/nglview-js-widgets`` that Jupyter uses (the first on its data path)."""
    from jupyter_core.paths import jupyter_path

    for folder in jupyter_path(kind):
        if (Path(folder) / NAME).is_dir():
            return Path(folder) / NAME
    pytest.fail(
        f"nglview's {kind} folder {NAME} not found on the Jupyter data path {jupyter_path(kind)}; "
        "reinstall nglview (pip install -e '.[book]')."
    )


def lab_extension_versions(folder: Path) -> dict[str, set[str]]:
    """Versions a built lab extension declares (package.json), shares and registers (its chunks)."""
    package = json.loads((folder / "package.json").read_text())
    static = folder / "static"
    load = package.get("jupyterlab", {}).get("_build", {}).get("load", "")
    entry = folder / load if load else None
    shared = set(_SHARED_VERSION.findall(entry.read_text(errors="replace"))) if entry and entry.is_file() else set()
    compiled = set()
    for js in sorted(static.glob("*.js")):
        compiled |= set(_COMPILED_VERSION.findall(js.read_text(errors="replace")))
    return {"package.json": {package["version"]}, "shared scope": shared, "registered": compiled}


def notebook_extension_versions(folder: Path) -> set[str]:
    """Package version compiled into the AMD bundle ``index.js`` of the notebook extension."""
    return set(_COMPILED_VERSION.findall((folder / "index.js").read_text(errors="replace")))


def frontend_problems(requested: dict[str, tuple[str, str]], lab: dict[str, set[str]]) -> list[str]:
    """Why JupyterLab would fail to load nglview's widgets; empty if it would not."""
    problems = []
    for what, found in lab.items():
        if len(found) != 1:
            problems.append(
                f"the lab extension's {what} gives {sorted(found) or 'no'} version(s), expected one "
                f"(has the bundle layout changed? then update tests/test_nglview_frontend.py)"
            )
    registered = next(iter(lab["registered"])) if len(lab["registered"]) == 1 else None
    if len(set().union(*lab.values())) > 1:
        problems.append(f"the lab extension disagrees with itself: {lab}")
    for cls, (model, view) in sorted(requested.items()):
        for kind, spec in (("model", model), ("view", view)):
            if registered is not None and not semver_satisfies(registered, spec):
                problems.append(
                    f"{cls} asks for {NAME} {kind} version {spec!r}, but the installed lab extension "
                    f"registers {registered}: the widget cannot load in JupyterLab"
                )
    return problems


# --- tests ------------------------------------------------------------------------------------


def test_nglview_requests_the_frontend_its_lab_extension_registers():
    requested = requested_versions()
    assert any(name.endswith("NGLWidget") for name in requested), f"NGLWidget not found among {requested}"
    lab = lab_extension_versions(installed_extension("labextensions"))
    problems = frontend_problems(requested, lab)
    assert not problems, "\n".join(problems) + "\nPin an nglview whose Python and JavaScript agree (pyproject.toml)."


def test_the_book_serves_the_same_nglview_javascript_as_jupyterlab():
    sys.path.insert(0, str(ROOT / "book" / "_ext"))
    try:
        import offline_widgets
    finally:
        sys.path.remove(str(ROOT / "book" / "_ext"))
    book_js = offline_widgets.nglview_nbextension_dir()
    assert book_js == installed_extension("nbextensions")
    lab = lab_extension_versions(installed_extension("labextensions"))
    assert notebook_extension_versions(book_js) == lab["registered"]
    model, view = requested_versions()["nglview.widget.NGLWidget"]
    (version,) = notebook_extension_versions(book_js)
    assert semver_satisfies(version, model) and semver_satisfies(version, view)


def _fake_lab_extension(folder: Path, version: str) -> Path:
    """A lab extension laid out as nglview's: package.json, remoteEntry and a chunk with the version."""
    (folder / "static").mkdir(parents=True)
    (folder / "package.json").write_text(
        json.dumps({"name": NAME, "version": version, "jupyterlab": {"_build": {"load": "static/remoteEntry.abc.js"}}})
    )
    (folder / "static" / "remoteEntry.abc.js").write_text(
        f'f("ngl","2.4.0",(()=>k.e(977))),f("{NAME}","{version}",(()=>Promise.all([k.e(227)])))'
    )
    (folder / "static" / "309.def.js").write_text(f'8330:e=>{{"use strict";e.exports={{version:"{version}"}}}}}}]);')
    return folder


def test_check_catches_nglview_401_mismatch(tmp_path):
    """nglview 4.0.1 asks for 4.0 while its JavaScript registers 3.1.5: the check must say so."""
    lab = lab_extension_versions(_fake_lab_extension(tmp_path / NAME, "3.1.5"))
    assert lab == {"package.json": {"3.1.5"}, "shared scope": {"3.1.5"}, "registered": {"3.1.5"}}
    problems = frontend_problems({"nglview.widget.NGLWidget": ("4.0", "4.0")}, lab)
    assert len(problems) == 2 and all("'4.0'" in p and "registers 3.1.5" in p for p in problems)
    assert frontend_problems({"nglview.widget.NGLWidget": ("3.1.5", "3.1.5")}, lab) == []


def test_check_catches_a_bundle_it_cannot_read(tmp_path):
    folder = _fake_lab_extension(tmp_path / NAME, "3.1.5")
    (folder / "static" / "309.def.js").write_text("no version here")
    problems = frontend_problems({"nglview.widget.NGLWidget": ("3.1.5", "3.1.5")}, lab_extension_versions(folder))
    assert problems and "registered gives no version(s)" in problems[0]


@pytest.mark.parametrize(
    ("version", "spec", "expected"),
    [
        ("3.1.5", "3.1.5", True),
        ("3.1.5", "4.0", False),
        ("4.0.2", "4.0", True),
        ("4.1.0", "4.0", False),
        ("3.1.5", "3", True),
        ("3.1.5", "3.x", True),
        ("3.1.5", "*", True),
        ("3.1.5", "^3.1.0", True),
        ("4.0.0", "^3.1.0", False),
        ("3.0.9", "^3.1.0", False),
        ("0.2.5", "^0.2.3", True),
        ("0.3.0", "^0.2.3", False),
        ("3.1.5", "~3.1.4", True),
        ("3.2.0", "~3.1.4", False),
        ("3.1.3", "~3.1.4", False),
    ],
)
def test_semver_satisfies(version, spec, expected):
    assert semver_satisfies(version, spec) is expected


def test_semver_rejects_what_it_does_not_understand():
    with pytest.raises(ValueError, match="unsupported semver range '>=3 <4'"):
        semver_satisfies("3.1.5", ">=3 <4")
    with pytest.raises(ValueError, match="not a semver version"):
        semver_satisfies("3.1", "3")
