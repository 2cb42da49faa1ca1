"""Cache keys: the folder, the parameter key of a descriptor setting, the row key of a pair."""

from __future__ import annotations

import hashlib
import json
import os
import re
from functools import lru_cache
from pathlib import Path
from typing import Sequence

import numpy as np

CACHE_VARIABLE = "JIJTUTORIAL_CACHE_DIR"
#: Version of the file layout (part of every parameter key: files of another layout are never read).
FORMAT_VERSION = 2


_ROW_KEY = re.compile(r"^[A-Z][a-z]?\|[A-Z][a-z]?(\|-?\d+\.\d{6}){3}$")


def cache_dir() -> Path:
    """Folder of the disk cache: ``$JIJTUTORIAL_CACHE_DIR``, else ``~/.cache/jijtutorial``."""
    folder = os.environ.get(CACHE_VARIABLE)
    return Path(folder).expanduser() if folder else Path.home() / ".cache" / "jijtutorial"


#: The package's root folder (the ``jijtutorial`` package).
_PACKAGE = Path(__file__).resolve().parents[1]


def _module_file(name: str) -> Path | None:
    """The source file of package module ``name`` (``jijtutorial.x.y``), or None if it is not one."""
    parts = name.split(".")
    if parts[0] != "jijtutorial":
        return None
    base = _PACKAGE.joinpath(*parts[1:])
    if (base / "__init__.py").is_file():
        return base / "__init__.py"
    f = base.with_suffix(".py")
    return f if f.is_file() else None


def _imports(name: str, path: Path) -> set[str]:
    """Package modules that ``path`` (module ``name``) imports anywhere: at the top, inside functions, relative or absolute."""
    return _parsed_imports(name, path, path.stat().st_mtime_ns)


@lru_cache(maxsize=512)
def _parsed_imports(name: str, path: Path, mtime: int) -> frozenset:
    import ast

    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.startswith("jijtutorial"))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            if not mod.startswith("jijtutorial"):
                continue
            subs = {f"{mod}.{a.name}" for a in node.names}
            subs = {m for m in subs if _module_file(m) is not None}
            if len(subs) < len(node.names):  # names defined (or re-exported) by ``mod`` itself
                out.add(mod)
            out.update(subs)  # ``from pkg import submodule``: the submodule, not all of the package
    return frozenset(m for m in out if _module_file(m) is not None)


def code_files(*roots: str, exclude=()) -> list[Path]:
    """Source files of the modules ``roots`` and of every package module they import, transitively.

    Every ``import`` statement counts, including those inside functions; importing from a package
    counts its ``__init__`` (and so what that imports). Modules named in ``exclude`` (and what only
    they import) are left out: modules that only present results -- figures, tables of text -- and
    cannot change what a cache holds.
    """
    seen, stack = set(), list(roots)
    while stack:
        name = stack.pop()
        if name in seen or name in exclude:
            continue
        path = _module_file(name)
        if path is None:
            raise ValueError(f"code_files: {name!r} is not a module of the jijtutorial package.")
        seen.add(name)
        stack.extend(_imports(name, path) - seen)
    return sorted(_module_file(n) for n in seen)


def code_digest(*roots: str, exclude=()) -> str:
    """SHA-256 (first 16 hex digits) of the code a cache depends on: :func:`code_files` of ``roots``.

    Part of a cache's key, so that a change of that code -- not only of the version number --
    invalidates what was computed with it, while editing code it does not use (a plot, a chapter's
    helper) leaves the cache valid.
    """
    files = tuple(code_files(*roots, exclude=tuple(exclude)))
    return _file_digest(files, tuple(f.stat().st_mtime_ns for f in files))


@lru_cache(maxsize=64)
def _file_digest(files: tuple, mtimes: tuple) -> str:
    h = hashlib.sha256()
    for f in files:
        h.update(str(f.relative_to(_PACKAGE)).encode())
        h.update(f.read_bytes())
    return h.hexdigest()[:16]


#: The code the feature cache depends on: the descriptors and everything they import.
FEATURE_CODE = ("jijtutorial.descriptors",)


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    from .. import __version__

    try:
        ds = version("dscribe")
    except PackageNotFoundError:  # pragma: no cover - dscribe is a dependency
        ds = "none"
    return {"jijtutorial": __version__, "source": code_digest(*FEATURE_CODE), "dscribe": ds, "format": str(FORMAT_VERSION)}


def parameter_key(name: str, params: dict) -> str:
    """Hex key of a descriptor class and parameter set (first 20 hex digits of a SHA-256)."""
    blob = json.dumps({"class": name, "params": params, **_versions()}, sort_keys=True, default=repr)
    return hashlib.sha256(blob.encode()).hexdigest()[:20]


def row_keys(element_i: Sequence[str], element_j: Sequence[str], vectors: np.ndarray) -> np.ndarray:
    """One string per pair: symbols and the vector (Å) rounded to 1e-6."""
    v = np.round(np.asarray(vectors, dtype=float), 6) + 0.0  # + 0.0 turns -0.0 into 0.0
    return np.array([f"{a}|{b}|{x:.6f}|{y:.6f}|{z:.6f}" for a, b, (x, y, z) in zip(element_i, element_j, v)], dtype=object)
