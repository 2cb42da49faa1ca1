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


def output_file(path, option: str = "--out") -> Path:
    """``path`` as a file that can be written (its folder created if needed); else a clear error naming ``option``.

    Raises ``IsADirectoryError`` if ``path`` is a folder, ``NotADirectoryError`` if a part of its folder
    is a file and ``PermissionError`` if the folder cannot be created or the file not written. An
    existing file is replaced when the command finishes.
    """
    out = Path(path).expanduser()
    if out.is_dir():
        raise IsADirectoryError(f"{option} {out} is a folder; give a file name for the table, e.g. {out / 'jij-table.csv'}.")
    folder = out.parent
    if folder.exists() and not folder.is_dir():
        raise NotADirectoryError(f"{option} {out}: {folder} is a file, not a folder; give a file in a folder.")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise NotADirectoryError(f"{option} {out}: a part of this path is a file, not a folder; give a file in a "
                                 f"folder.") from None
    except OSError as err:
        raise PermissionError(f"{option} {out}: cannot create the folder {folder} ({err.strerror or err}); choose a "
                              f"folder you can write to.") from None
    if not os.access(folder, os.W_OK | os.X_OK) or (out.exists() and not os.access(out, os.W_OK)):
        raise PermissionError(f"{option} {out} is not writable; choose a file you can write to.")
    return out
