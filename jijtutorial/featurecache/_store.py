"""The features of pairs, computed once per parameter set and pair, shared by threads and processes."""

from __future__ import annotations

import threading
from typing import Callable

import numpy as np

from ._files import _stamp, _warn_once
from ._keys import cache_dir, parameter_key
from ._table import FeatureTable, _corrupt_message, _read_table, _save_merged

_MEMO: dict[str, FeatureTable] = {}
_MEMO_LOCK = threading.Lock()  # guards _MEMO and _KEY_LOCKS
_KEY_LOCKS: dict[str, threading.RLock] = {}


def clear_memory_cache() -> None:
    """Forget the in-process memo (the disk cache stays)."""
    with _MEMO_LOCK:
        _MEMO.clear()


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
                _warn_once(
                    path,
                    "corrupt",
                    _corrupt_message(path, f"it holds {table.n_features} features per row, the descriptor gives {rows.shape[1]}"),
                )
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
