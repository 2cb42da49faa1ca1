"""Cache keys: the folder, the parameter key of a descriptor setting, the row key of a pair."""

from __future__ import annotations

import hashlib
import json
import os
import re
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


def source_digest() -> str:
    """SHA-256 (first 16 hex digits) of the package's own source files.

    Part of every cache key, so that a change of the code -- not only of the version number --
    invalidates cached features and benchmark runs.
    """
    global _SOURCE_DIGEST
    if _SOURCE_DIGEST is None:
        h = hashlib.sha256()
        root = Path(__file__).resolve().parents[1]  # the jijtutorial package
        for f in sorted(root.rglob("*.py")):
            h.update(str(f.relative_to(root)).encode())
            h.update(f.read_bytes())
        _SOURCE_DIGEST = h.hexdigest()[:16]
    return _SOURCE_DIGEST


_SOURCE_DIGEST: str | None = None


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    from .. import __version__

    try:
        ds = version("dscribe")
    except PackageNotFoundError:  # pragma: no cover - dscribe is a dependency
        ds = "none"
    return {"jijtutorial": __version__, "source": source_digest(), "dscribe": ds, "format": str(FORMAT_VERSION)}


def parameter_key(name: str, params: dict) -> str:
    """Hex key of a descriptor class and parameter set (first 20 hex digits of a SHA-256)."""
    blob = json.dumps({"class": name, "params": params, **_versions()}, sort_keys=True, default=repr)
    return hashlib.sha256(blob.encode()).hexdigest()[:20]


def row_keys(element_i: Sequence[str], element_j: Sequence[str], vectors: np.ndarray) -> np.ndarray:
    """One string per pair: symbols and the vector (Å) rounded to 1e-6."""
    v = np.round(np.asarray(vectors, dtype=float), 6) + 0.0  # + 0.0 turns -0.0 into 0.0
    return np.array(
        [f"{a}|{b}|{x:.6f}|{y:.6f}|{z:.6f}" for a, b, (x, y, z) in zip(element_i, element_j, v)], dtype=object
    )
