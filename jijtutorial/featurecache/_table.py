"""The table of one parameter set: rows by key, its ``.npz`` file with header and checksum."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path
from typing import NamedTuple, Sequence

import numpy as np
import scipy.sparse as sp

from ._files import CacheFileError, _file_lock, _stamp, _warn_once, atomic_write_bytes
from ._keys import _ROW_KEY, CACHE_VARIABLE, FORMAT_VERSION


class _Snapshot(NamedTuple):
    keys: tuple
    index: dict
    matrix: object


def _n_features(matrix) -> int | None:
    return None if matrix is None else int(matrix.shape[1])


def _checksum(keys: Sequence[str], arrays: dict[str, np.ndarray]) -> str:
    """SHA-256 binding every row key to its row: keys in order, then the matrix arrays."""
    h = hashlib.sha256()
    h.update("\n".join(keys).encode())
    for name in ("dense", "data", "indices", "indptr", "shape"):
        if name in arrays:
            a = np.ascontiguousarray(arrays[name])
            h.update(f"|{name}|{a.dtype.str}|{a.shape}|".encode())
            h.update(a.tobytes())
    return h.hexdigest()


class FeatureTable:
    """Features of the pairs computed so far for one parameter set.

    Keys, their index and the matrix (dense array or CSR, rows in the order of the keys) are one
    immutable snapshot; :meth:`add` builds the next snapshot and swaps it in with a single
    assignment, so no reader ever sees keys without their rows.
    """

    def __init__(self, keys: Sequence[str] = (), matrix=None):
        keys = tuple(str(k) for k in keys)
        index = {k: i for i, k in enumerate(keys)}
        if len(index) != len(keys):
            raise ValueError("FeatureTable: duplicate row keys.")
        if matrix is None and keys:
            raise ValueError("FeatureTable: keys without a matrix.")
        if matrix is not None and matrix.shape[0] != len(keys):
            raise ValueError(f"FeatureTable: {len(keys)} keys but {matrix.shape[0]} matrix rows.")
        self._state = _Snapshot(keys, index, matrix)
        self._disk_stamp = None  # (inode, size, mtime) of the cache file when last read or written

    # read-only views of the current snapshot
    @property
    def keys(self) -> tuple:
        return self._state.keys

    @property
    def index(self) -> dict:
        return self._state.index

    @property
    def matrix(self):
        return self._state.matrix

    @property
    def n_features(self) -> int | None:
        """Features per row (``None`` while empty)."""
        return _n_features(self._state.matrix)

    def __len__(self) -> int:
        return len(self._state.keys)

    def add(self, keys: Sequence[str], rows) -> None:
        """Append ``rows`` (n, n_features) under ``keys`` (n, new and distinct), atomically."""
        keys = [str(k) for k in keys]
        old = self._state
        if rows.ndim != 2 or rows.shape[0] != len(keys):
            raise ValueError(f"FeatureTable.add: {len(keys)} keys but rows of shape {rows.shape}.")
        known = [k for k in keys if k in old.index]
        if known or len(set(keys)) != len(keys):
            raise ValueError(f"FeatureTable.add: key(s) already present or repeated, e.g. {(known or keys)[0]!r}.")
        if old.matrix is not None and rows.shape[1] != old.matrix.shape[1]:
            raise ValueError(f"FeatureTable.add: rows have {rows.shape[1]} features, the table {old.matrix.shape[1]}.")
        if old.matrix is None:
            matrix = rows
        elif sp.issparse(rows) or sp.issparse(old.matrix):
            matrix = sp.vstack([sp.csr_matrix(old.matrix), sp.csr_matrix(rows)], format="csr")
        else:
            matrix = np.vstack([old.matrix, rows])
        index = dict(old.index)
        for k in keys:
            index[k] = len(index)
        self._state = _Snapshot(old.keys + tuple(keys), index, matrix)

    def merge(self, other: FeatureTable) -> int:
        """Add the rows of ``other`` whose keys this table lacks (in ``other``'s order); returns how many."""
        st, ot = self._state, other._state
        new = [i for i, k in enumerate(ot.keys) if k not in st.index]
        if new:
            self.add([ot.keys[i] for i in new], ot.matrix[np.array(new, dtype=np.int64)])
        return len(new)

    def missing(self, keys: Sequence[str]) -> list[str]:
        """Those of ``keys`` not in the table (each once, in order of first appearance)."""
        index = self._state.index
        return list(dict.fromkeys(k for k in keys if k not in index))

    def take(self, keys: Sequence[str]):
        """Rows of ``keys`` (all present), in that order."""
        st = self._state
        idx = np.fromiter((st.index[k] for k in keys), dtype=np.int64, count=len(keys))
        return st.matrix[idx]

    # -- disk -----------------------------------------------------------------------------
    def to_bytes(self, *, name: str = "", parameter_key: str = "") -> bytes:
        """The table as a compressed ``.npz`` file with its JSON header (see :meth:`from_bytes`)."""
        st = self._state
        arrays: dict[str, np.ndarray] = {"keys": np.array(st.keys, dtype=str)}
        if sp.issparse(st.matrix):
            m = sp.csr_matrix(st.matrix)
            arrays.update(data=m.data, indices=m.indices, indptr=m.indptr, shape=np.array(m.shape))
        else:
            arrays["dense"] = np.asarray(st.matrix)
        header = {
            "format": FORMAT_VERSION,
            "name": name,
            "parameter_key": parameter_key,
            "n_rows": len(st.keys),
            "n_features": _n_features(st.matrix),
            "sparse": bool(sp.issparse(st.matrix)),
            "checksum": _checksum(st.keys, arrays),
        }
        arrays["header"] = np.array(json.dumps(header, sort_keys=True))
        buf = io.BytesIO()
        np.savez_compressed(buf, **arrays)
        return buf.getvalue()

    def save(self, path: Path, *, name: str = "", parameter_key: str = "") -> None:
        """Write the table to ``path`` atomically (temporary file + rename)."""
        atomic_write_bytes(path, self.to_bytes(name=name, parameter_key=parameter_key))

    @classmethod
    def load(
        cls, path: Path, *, name: str | None = None, parameter_key: str | None = None, n_features: int | None = None
    ) -> FeatureTable:
        """Read and check a table written by :meth:`save`.

        Raises ``FileNotFoundError`` if there is no file and :class:`CacheFileError` (saying
        why) if it is unreadable or inconsistent: not an ``.npz`` archive, no header, another
        format, class or parameter key, a row count or ``n_features`` that disagrees with the
        matrix (or with ``n_features`` if given), malformed or duplicate row keys, or a checksum
        that does not match keys and rows (e.g. permuted keys).
        """
        try:
            with np.load(path, allow_pickle=False) as f:
                names = set(f.files)
                if "header" not in names:
                    raise CacheFileError("it has no header (written by another version, or not a cache file)")
                header = json.loads(str(f["header"][()]))
                keys = [str(k) for k in f["keys"]]
                arrays = {k: f[k] for k in ("dense", "data", "indices", "indptr", "shape") if k in names}
        except FileNotFoundError:
            raise
        except CacheFileError:
            raise
        except Exception as err:  # BadZipFile, EOFError, zlib.error, OSError, ValueError, KeyError, ...
            raise CacheFileError(f"it cannot be read ({type(err).__name__}: {err})") from err
        if not isinstance(header, dict) or header.get("format") != FORMAT_VERSION:
            raise CacheFileError(f"its header {header!r} is not format {FORMAT_VERSION}")
        if name is not None and header.get("name") != name:
            raise CacheFileError(f"it belongs to descriptor {header.get('name')!r}, not {name!r}")
        if parameter_key is not None and header.get("parameter_key") != parameter_key:
            raise CacheFileError(f"it holds parameter key {header.get('parameter_key')!r}, not {parameter_key!r} (its file name)")
        if _checksum(keys, arrays) != header.get("checksum"):
            raise CacheFileError("its checksum does not match its row keys and rows (edited, permuted or damaged)")
        bad = next((k for k in keys if not _ROW_KEY.match(k)), None)
        if bad is not None:
            raise CacheFileError(f"row key {bad!r} is malformed")
        if len(set(keys)) != len(keys):
            raise CacheFileError(f"{len(keys) - len(set(keys))} row key(s) occur twice")
        try:
            if "dense" in arrays:
                matrix = arrays["dense"]
            else:
                matrix = sp.csr_matrix(
                    (arrays["data"], arrays["indices"], arrays["indptr"]), shape=tuple(int(x) for x in arrays["shape"])
                )
        except Exception as err:
            raise CacheFileError(f"its matrix cannot be rebuilt ({type(err).__name__}: {err})") from err
        if matrix.ndim != 2 or matrix.shape[0] != len(keys) or header.get("n_rows") != len(keys):
            raise CacheFileError(
                f"it has {len(keys)} row keys, header n_rows {header.get('n_rows')}, matrix shape {matrix.shape}"
            )
        if header.get("n_features") != matrix.shape[1]:
            raise CacheFileError(f"header n_features {header.get('n_features')} but {matrix.shape[1]} matrix columns")
        if n_features is not None and matrix.shape[1] != n_features:
            raise CacheFileError(f"it has {matrix.shape[1]} features per row, the descriptor gives {n_features}")
        return cls(keys, matrix)


def _corrupt_message(path: Path, reason: str) -> str:
    return f"feature cache file {path} is unusable: {reason}. It is being recomputed and replaced."


def _read_table(path: Path, name: str, pkey: str, n_features: int | None) -> FeatureTable | None:
    """The table on disk, or ``None`` if absent or damaged (warning once per file)."""
    if not path.is_file():
        return None
    try:
        return FeatureTable.load(path, name=name, parameter_key=pkey, n_features=n_features)
    except FileNotFoundError:
        return None
    except CacheFileError as err:
        _warn_once(path, "corrupt", _corrupt_message(path, str(err)))
        return None


def _save_merged(table: FeatureTable, path: Path, name: str, pkey: str) -> None:
    """Merge the rows other processes wrote meanwhile into ``table``, then write it (under the file lock)."""
    try:
        with _file_lock(path):
            if _stamp(path) != table._disk_stamp:  # written by someone else since we last read or wrote it
                on_disk = _read_table(path, name, pkey, table.n_features)
                if on_disk is not None:
                    table.merge(on_disk)
            table.save(path, name=name, parameter_key=pkey)
            table._disk_stamp = _stamp(path)
    except OSError as err:  # read-only cache folder etc.: the memo still works
        _warn_once(
            path.parent,
            "unwritable",
            f"cannot write the feature cache in {path.parent} ({err}); features are kept in memory only. "
            f"Set {CACHE_VARIABLE} to a writable folder to keep them between runs.",
        )
