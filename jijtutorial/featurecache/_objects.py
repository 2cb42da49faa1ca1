"""Pickled results (e.g. benchmark runs) with an embedded key and type, read back only if they match."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

from ._files import _warn_once, atomic_write_bytes

#: Marker of the pickled objects written by :func:`save_cached_object`.
PICKLE_FORMAT = "jijtutorial-cached-object-1"


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
            reason = f"it holds a {type(blob.get('object')).__name__}, not a {' or '.join(t.__name__ for t in want)}"
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
    data = pickle.dumps(
        {"format": PICKLE_FORMAT, "key": key, "type": type(obj).__qualname__, "object": obj}, protocol=pickle.HIGHEST_PROTOCOL
    )
    try:
        atomic_write_bytes(path, data)
    except OSError as err:
        _warn_once(path.parent, "unwritable", f"cannot write the cache file {path} ({err}); the result is not kept.")
        return False
    return True
