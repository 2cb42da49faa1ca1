"""Checks on files and folders that commands write to, done before any computation starts."""

from __future__ import annotations

import os
from pathlib import Path


def output_folder(path, option: str = "--out") -> Path:
    """``path`` as an existing (created if needed), writable folder; else a clear error naming ``option``.

    Raises ``NotADirectoryError`` if ``path`` (or a parent) is a file and ``PermissionError`` if the
    folder cannot be created or written to.
    """
    out = Path(path).expanduser()
    if out.exists() and not out.is_dir():
        raise NotADirectoryError(f"{option} {out} is a file, not a folder; give a folder for the results.")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise NotADirectoryError(f"{option} {out}: a part of this path is a file, not a folder; give a folder "
                                 f"for the results.") from None
    except OSError as err:
        raise PermissionError(f"{option} {out}: cannot create this folder ({err.strerror or err}); choose a folder "
                              f"you can write to.") from None
    if not os.access(out, os.W_OK | os.X_OK):
        raise PermissionError(f"{option} {out} is not writable; choose a folder you can write to.")
    return out
