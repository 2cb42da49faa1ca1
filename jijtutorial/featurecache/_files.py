"""Cache files: warnings once per file, atomic writes, a lock file between processes."""

from __future__ import annotations

import os
import threading
import warnings
from contextlib import contextmanager
from pathlib import Path

from .._files import atomic_write

_WARNED: set[tuple[str, str]] = set()
_WARNED_LOCK = threading.Lock()


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


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically: a temporary file in the same folder, then a rename.

    A reader sees the old file or the new one, never a half-written one; a crash leaves no
    partial file behind. Creates the folder if needed; raises ``OSError`` if it cannot write.
    The package's one atomic writer, :func:`jijtutorial._files.atomic_write`, does the work.
    """
    atomic_write(path, data)


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
