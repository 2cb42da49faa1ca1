"""Cache of descriptor features, per descriptor parameter set and per pair.

Design
------
A descriptor's features of one pair depend only on the descriptor's parameters and on the
pair itself (element_i, element_j, pair vector). The cache is therefore keyed in two levels:

1. a *parameter key*: SHA-256 of the descriptor class, its parameters (``get_params()``
   without the ``cache`` switch), the jijtutorial and dscribe versions and a format number;
2. a *row key* per pair: ``"Fe|Co|4.383000|0.000000|0.000000"`` (symbols and the vector in Å
   rounded to 1e-6).

Any subset of the pairs (a cross-validation fold, one notebook cell's pair) is a look-up in the
table of that parameter set; only pairs never seen before are computed. Two stores hold the
tables:

* an in-process memo (a dict; survives across ``fit``/``transform`` calls, ``Pipeline`` clones
  and grid-search candidates);
* a folder on disk, ``$JIJTUTORIAL_CACHE_DIR`` or ``~/.cache/jijtutorial``, one compressed
  ``features-<class>-<key>.npz`` per parameter set (keys, and the matrix dense or as CSR
  parts), written atomically (temporary file + rename), so notebooks, the benchmark command and
  tests reuse each other's work.

Featurisation is deterministic, so a cache hit returns exactly what a recomputation would.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import scipy.sparse as sp

CACHE_VARIABLE = "JIJTUTORIAL_CACHE_DIR"
FORMAT_VERSION = 1

_MEMO: dict[str, "FeatureTable"] = {}


def cache_dir() -> Path:
    """Folder of the disk cache: ``$JIJTUTORIAL_CACHE_DIR``, else ``~/.cache/jijtutorial``."""
    folder = os.environ.get(CACHE_VARIABLE)
    return Path(folder).expanduser() if folder else Path.home() / ".cache" / "jijtutorial"


def clear_memory_cache() -> None:
    """Forget the in-process memo (the disk cache stays)."""
    _MEMO.clear()


def source_digest() -> str:
    """SHA-256 (first 16 hex digits) of the package's own source files.

    Part of every cache key, so that a change of the code -- not only of the version number --
    invalidates cached features and benchmark runs.
    """
    global _SOURCE_DIGEST
    if _SOURCE_DIGEST is None:
        h = hashlib.sha256()
        root = Path(__file__).resolve().parent
        for f in sorted(root.rglob("*.py")):
            h.update(str(f.relative_to(root)).encode())
            h.update(f.read_bytes())
        _SOURCE_DIGEST = h.hexdigest()[:16]
    return _SOURCE_DIGEST


_SOURCE_DIGEST: str | None = None


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    from . import __version__

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


class FeatureTable:
    """Features of the pairs computed so far for one parameter set."""

    def __init__(self, keys: Sequence[str] = (), matrix=None):
        self.keys: list[str] = list(keys)
        self.index = {k: i for i, k in enumerate(self.keys)}
        self.matrix = matrix  # dense ndarray or CSR, rows in the order of keys

    def __len__(self) -> int:
        return len(self.keys)

    def add(self, keys: Sequence[str], rows) -> None:
        if self.matrix is None:
            self.matrix = rows
        elif sp.issparse(rows) or sp.issparse(self.matrix):
            self.matrix = sp.vstack([sp.csr_matrix(self.matrix), sp.csr_matrix(rows)], format="csr")
        else:
            self.matrix = np.vstack([self.matrix, rows])
        for k in keys:
            self.index[k] = len(self.keys)
            self.keys.append(k)

    def take(self, keys: Sequence[str]):
        idx = np.fromiter((self.index[k] for k in keys), dtype=np.int64, count=len(keys))
        return self.matrix[idx]

    # -- disk -----------------------------------------------------------------------------
    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        arrays: dict[str, np.ndarray] = {"keys": np.array(self.keys, dtype=str)}
        if sp.issparse(self.matrix):
            m = sp.csr_matrix(self.matrix)
            arrays.update(data=m.data, indices=m.indices, indptr=m.indptr, shape=np.array(m.shape))
        else:
            arrays["dense"] = np.asarray(self.matrix)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp.npz")
        os.close(fd)
        try:
            np.savez_compressed(tmp, **arrays)
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)

    @classmethod
    def load(cls, path: Path) -> "FeatureTable | None":
        try:
            with np.load(path, allow_pickle=False) as f:
                keys = [str(k) for k in f["keys"]]
                if "dense" in f:
                    matrix = f["dense"]
                else:
                    matrix = sp.csr_matrix((f["data"], f["indices"], f["indptr"]), shape=tuple(f["shape"]))
        except (OSError, ValueError, KeyError):
            return None  # unreadable or half-written file: recompute
        if matrix.shape[0] != len(keys):
            return None
        return cls(keys, matrix)


def cached_features(
    name: str,
    params: dict,
    keys: np.ndarray,
    compute: Callable[[np.ndarray], object],
    *,
    mode: bool | str = True,
):
    """Features of the pairs ``keys`` (see :func:`row_keys`), computing only the missing ones.

    ``compute(positions)`` receives the row positions (into ``keys``) of the missing pairs and
    returns their features (dense 2-D array or sparse matrix). ``mode``: ``True`` (memo and
    disk), ``'memory'`` (memo only) or ``False`` (no cache: always compute).
    """
    if mode is False:
        return compute(np.arange(len(keys)))
    if mode not in (True, "memory"):
        raise ValueError(f"cache must be True, 'memory' or False, not {mode!r}.")
    pkey = parameter_key(name, params)
    table = _MEMO.get(pkey)
    path = cache_dir() / f"features-{name}-{pkey}.npz"
    if table is None:
        table = (FeatureTable.load(path) if mode is True and path.is_file() else None) or FeatureTable()
        _MEMO[pkey] = table
    unique_keys, first = np.unique(keys.astype(str), return_index=True)
    missing = [i for k, i in zip(unique_keys, first) if k not in table.index]
    if missing:
        pos = np.sort(np.array(missing, dtype=np.int64))
        rows = compute(pos)
        table.add([str(keys[i]) for i in pos], rows)
        if mode is True:
            try:
                table.save(path)
            except OSError:  # read-only home etc.: the memo still works
                pass
    return table.take([str(k) for k in keys])


__all__ = ["CACHE_VARIABLE", "FeatureTable", "cache_dir", "cached_features", "clear_memory_cache", "parameter_key",
           "row_keys", "source_digest"]
