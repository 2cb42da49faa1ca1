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
  ``features-<class>-<key>.npz`` per parameter set (keys, the matrix dense or as CSR parts, and
  a JSON header with the parameter key, the number of rows and features and a SHA-256 checksum
  of keys and matrix), so notebooks, the benchmark command and tests reuse each other's work.

Featurisation is deterministic, so a cache hit returns exactly what a recomputation would.

Concurrency
-----------
* Threads: one lock per parameter set is held around look-up, computation of the missing rows
  and insertion, so threads sharing a parameter set never compute a row twice and never see a
  half-filled table; :class:`FeatureTable` swaps its keys, index and matrix as one immutable
  snapshot, so even a reader without the lock sees either the old or the new table.
* Processes: a write takes an exclusive ``fcntl.flock`` on ``<file>.lock`` (where available),
  re-reads the file, merges the rows another process added since (rows present in both are
  identical: featurisation is deterministic; the in-memory one is kept), writes the union to a
  temporary file in the same folder and renames it over the old one. Readers therefore see
  either the old or the new complete file, and no process loses another's rows. Without
  ``fcntl`` (Windows) the rename is still atomic; concurrent writers may then drop each other's
  rows, which only costs a recomputation later.

Damaged files
-------------
A file that cannot be read (truncated, empty, not a zip archive), lacks the header, belongs to
another parameter set, has duplicate or malformed row keys, a matrix whose shape disagrees with
the header, or a checksum that does not match (e.g. permuted keys) is reported once per file
with a :class:`CacheWarning` naming it, recomputed, and replaced atomically.

:func:`load_cached_object` and :func:`save_cached_object` give the same guarantees to pickled
results (e.g. a benchmark run): an embedded key and an expected type are checked on reading.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import pickle
import re
import tempfile
import threading
import warnings
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, NamedTuple, Sequence

import numpy as np
import scipy.sparse as sp

__all__ = [
    "CACHE_VARIABLE",
    "CacheFileError",
    "CacheWarning",
    "FeatureTable",
    "atomic_write_bytes",
    "cache_dir",
    "cached_features",
    "clear_memory_cache",
    "load_cached_object",
    "parameter_key",
    "row_keys",
    "save_cached_object",
    "source_digest",
]

CACHE_VARIABLE = "JIJTUTORIAL_CACHE_DIR"
#: Version of the file layout (part of every parameter key: files of another layout are never read).
FORMAT_VERSION = 2
#: Marker of the pickled objects written by :func:`save_cached_object`.
PICKLE_FORMAT = "jijtutorial-cached-object-1"

_MEMO: dict[str, FeatureTable] = {}
_MEMO_LOCK = threading.Lock()  # guards _MEMO and _KEY_LOCKS
_KEY_LOCKS: dict[str, threading.RLock] = {}
_WARNED: set[tuple[str, str]] = set()
_WARNED_LOCK = threading.Lock()

_ROW_KEY = re.compile(r"^[A-Z][a-z]?\|[A-Z][a-z]?(\|-?\d+\.\d{6}){3}$")


class CacheWarning(UserWarning):
    """A cache file was unusable (it is recomputed) or could not be written (results are not kept)."""


class CacheFileError(ValueError):
    """A cache file exists but is unreadable or inconsistent; the message says why."""


def _warn_once(path: Path | str, kind: str, message: str) -> None:
    """``warnings.warn(message)`` once per (file, kind) and process."""
    tag = (str(path), kind)
    with _WARNED_LOCK:
        if tag in _WARNED:
            return
        _WARNED.add(tag)
    warnings.warn(message, CacheWarning, stacklevel=3)


def cache_dir() -> Path:
    """Folder of the disk cache: ``$JIJTUTORIAL_CACHE_DIR``, else ``~/.cache/jijtutorial``."""
    folder = os.environ.get(CACHE_VARIABLE)
    return Path(folder).expanduser() if folder else Path.home() / ".cache" / "jijtutorial"


def clear_memory_cache() -> None:
    """Forget the in-process memo (the disk cache stays)."""
    with _MEMO_LOCK:
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


# ------------------------------------------------------------------------------------------------
# atomic files
# ------------------------------------------------------------------------------------------------
def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically: a temporary file in the same folder, then a rename.

    A reader sees the old file or the new one, never a half-written one; a crash leaves no
    partial file behind. Creates the folder if needed; raises ``OSError`` if it cannot write.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


@contextmanager
def _file_lock(path: Path):
    """Exclusive inter-process lock on ``<path>.lock`` (``fcntl.flock``); a no-op where unavailable."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not Linux/macOS
        yield
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path.with_name(path.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o644)
    except OSError:  # read-only folder: the write will fail (and say so) anyway
        yield
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def _stamp(path: Path) -> tuple[int, int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns)


# ------------------------------------------------------------------------------------------------
# the table of one parameter set
# ------------------------------------------------------------------------------------------------
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
            raise ValueError(
                f"FeatureTable.add: rows have {rows.shape[1]} features, the table {old.matrix.shape[1]}."
            )
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
            "format": FORMAT_VERSION, "name": name, "parameter_key": parameter_key, "n_rows": len(st.keys),
            "n_features": _n_features(st.matrix), "sparse": bool(sp.issparse(st.matrix)),
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
    def load(cls, path: Path, *, name: str | None = None, parameter_key: str | None = None,
             n_features: int | None = None) -> FeatureTable:
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
            raise CacheFileError(
                f"it holds parameter key {header.get('parameter_key')!r}, not {parameter_key!r} (its file name)"
            )
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
                matrix = sp.csr_matrix((arrays["data"], arrays["indices"], arrays["indptr"]),
                                       shape=tuple(int(x) for x in arrays["shape"]))
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
        _warn_once(path.parent, "unwritable",
                   f"cannot write the feature cache in {path.parent} ({err}); features are kept in memory only. "
                   f"Set {CACHE_VARIABLE} to a writable folder to keep them between runs.")


def _key_lock(pkey: str) -> threading.RLock:
    with _MEMO_LOCK:
        return _KEY_LOCKS.setdefault(pkey, threading.RLock())


def cached_features(
    name: str,
    params: dict,
    keys: np.ndarray,
    compute: Callable[[np.ndarray], object],
    *,
    mode: bool | str = True,
    n_features: int | None = None,
):
    """Features of the pairs ``keys`` (see :func:`row_keys`), computing only the missing ones.

    ``compute(positions)`` receives the row positions (into ``keys``) of the missing pairs and
    returns their features (dense 2-D array or sparse matrix). ``mode``: ``True`` (memo and
    disk), ``'memory'`` (memo only) or ``False`` (no cache: always compute). ``n_features``, if
    given, is checked against a table read from disk. Safe to call from several threads and
    processes at once (see the module notes).
    """
    if mode is False:
        return compute(np.arange(len(keys)))
    if mode not in (True, "memory"):
        raise ValueError(f"cache must be True, 'memory' or False, not {mode!r}.")
    pkey = parameter_key(name, params)
    path = cache_dir() / f"features-{name}-{pkey}.npz"
    str_keys = [str(k) for k in keys]
    first: dict[str, int] = {}
    for i, k in enumerate(str_keys):
        first.setdefault(k, i)
    with _key_lock(pkey):
        with _MEMO_LOCK:
            table = _MEMO.get(pkey)
        if table is None:
            table = (_read_table(path, name, pkey, n_features) if mode is True else None) or FeatureTable()
            table._disk_stamp = _stamp(path)
            with _MEMO_LOCK:
                _MEMO[pkey] = table
        missing = table.missing(str_keys)
        if missing and mode is True and _stamp(path) != table._disk_stamp:
            # another process has written the file since: take its rows before computing
            on_disk = _read_table(path, name, pkey, table.n_features)
            if on_disk is not None:
                table.merge(on_disk)
            table._disk_stamp = _stamp(path)
            missing = table.missing(str_keys)
        if missing:
            pos = np.sort(np.array([first[k] for k in missing], dtype=np.int64))
            rows = _check_rows(name, compute(pos), len(pos))
            if table.n_features is not None and rows.shape[1] != table.n_features:
                # the stored rows disagree with what the descriptor computes: start afresh
                _warn_once(path, "corrupt", _corrupt_message(
                    path, f"it holds {table.n_features} features per row, the descriptor gives {rows.shape[1]}"))
                table = FeatureTable()
                with _MEMO_LOCK:
                    _MEMO[pkey] = table
                pos = np.sort(np.array(list(first.values()), dtype=np.int64))
                rows = _check_rows(name, compute(pos), len(pos))
            table.add([str_keys[i] for i in pos], rows)
            if mode is True:
                _save_merged(table, path, name, pkey)
        return table.take(str_keys)


def _check_rows(name: str, rows, n: int):
    if getattr(rows, "ndim", None) != 2 or rows.shape[0] != n:
        raise ValueError(f"{name}: computed features of shape {getattr(rows, 'shape', None)} for {n} pairs.")
    return rows


# ------------------------------------------------------------------------------------------------
# pickled results (benchmark runs)
# ------------------------------------------------------------------------------------------------
def load_cached_object(path: str | os.PathLike, *, key: str, expected_type: type | tuple[type, ...]):
    """An object saved by :func:`save_cached_object` under ``key``, or ``None``.

    Returns ``None`` silently if there is no file (a cache miss). If the file exists but cannot
    be unpickled (truncated, empty, garbage, a class that no longer exists), is not such a cache
    file, holds another key, or holds an object that is not an instance of ``expected_type``, a
    :class:`CacheWarning` naming the file and the reason is issued (once per file and process)
    and ``None`` is returned: the caller recomputes and calls :func:`save_cached_object`, which
    replaces the file atomically.
    """
    path = Path(path)
    if not path.is_file():
        return None
    try:
        with open(path, "rb") as fh:
            blob = pickle.load(fh)
    except FileNotFoundError:
        return None
    except Exception as err:  # noqa: BLE001 - EOFError, UnpicklingError, AttributeError, ...: recompute
        reason = f"it cannot be read ({type(err).__name__}: {err})"
    else:
        want = expected_type if isinstance(expected_type, tuple) else (expected_type,)
        if not (isinstance(blob, dict) and blob.get("format") == PICKLE_FORMAT):
            reason = f"it is not a jijtutorial cache file (it holds a {type(blob).__name__})"
        elif blob.get("key") != key:
            reason = f"it holds key {blob.get('key')!r}, not {key!r}"
        elif not isinstance(blob.get("object"), want):
            reason = (f"it holds a {type(blob.get('object')).__name__}, not a "
                      f"{' or '.join(t.__name__ for t in want)}")
        else:
            return blob["object"]
    _warn_once(path, "corrupt", f"cache file {path} is unusable: {reason}. It is being recomputed and replaced.")
    return None


def save_cached_object(path: str | os.PathLike, obj, *, key: str) -> bool:
    """Pickle ``obj`` with ``key`` to ``path`` atomically; ``True`` if written.

    If the folder cannot be written, a :class:`CacheWarning` says so (once per folder) and
    ``False`` is returned; the caller's result is unaffected.
    """
    path = Path(path)
    data = pickle.dumps({"format": PICKLE_FORMAT, "key": key, "type": type(obj).__qualname__, "object": obj},
                        protocol=pickle.HIGHEST_PROTOCOL)
    try:
        atomic_write_bytes(path, data)
    except OSError as err:
        _warn_once(path.parent, "unwritable", f"cannot write the cache file {path} ({err}); the result is not kept.")
        return False
    return True
