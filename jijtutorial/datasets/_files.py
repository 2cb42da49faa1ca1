"""Reading data files: bytes, CSV rows with their own line numbers, numeric checks, warnings once."""

from __future__ import annotations

import csv
import hashlib
import io
import warnings
from pathlib import Path

import numpy as np
import pandas as pd


class DataFileWarning(UserWarning):
    """A data file differs from the published one, or an unreadable one was passed over."""


_WARNED: set[tuple] = set()


def _warn_once(tag: tuple, message: str, stacklevel: int = 3) -> None:
    if tag in _WARNED:
        return
    _WARNED.add(tag)
    warnings.warn(message, DataFileWarning, stacklevel=stacklevel)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _read_bytes(p: Path, advice: str = "Re-download the file.") -> bytes:
    """The file's bytes; a clear error naming it if it cannot be read or is empty."""
    try:
        data = p.read_bytes()
    except PermissionError as err:
        raise PermissionError(
            f"{p}: permission denied, the file cannot be read. Make it readable (chmod u+r) or put a "
            f"readable copy elsewhere and point to that."
        ) from err
    except IsADirectoryError as err:
        raise IsADirectoryError(f"{p}: is a folder, not a data file.") from err
    except OSError as err:
        raise OSError(f"{p}: cannot be read ({err.strerror or err}).") from err
    if not data:
        raise ValueError(f"{p}: the file is empty (0 bytes). {advice}")
    return data


def _string_frame(header: list[str], rows: list[list[str]]) -> pd.DataFrame:
    """Rows of strings as a frame of text columns (pandas' default string dtype)."""
    columns = list(zip(*rows)) if rows else [()] * len(header)
    return pd.DataFrame({name: pd.Series(list(col), dtype=str) for name, col in zip(header, columns)})


def _parse_csv(p: Path, data: bytes, advice: str) -> tuple[list[str], list[list[str]], list[int]]:
    """Header, rows (lists of strings) and the file line (1-based) of each row.

    Blank lines are skipped but counted, so a line number is the one an editor shows. Raises
    ``ValueError`` naming the file (and line) for text that is not UTF-8, a malformed CSV row, a
    row with another number of fields than the header, or a column named twice in the header.
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise ValueError(f"{p}: not a UTF-8 text file (undecodable byte at offset {err.start}). {advice}") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    header: list[str] | None = None
    header_line = 0
    rows: list[list[str]] = []
    lines: list[int] = []
    next_line = 1
    try:
        for record in reader:
            line, next_line = next_line, reader.line_num + 1
            if not record or (len(record) == 1 and not record[0].strip()):
                continue  # blank line
            if header is None:
                header, header_line = record, line
                _check_separator(p, header, header_line, advice)
                continue
            if len(record) != len(header):
                raise ValueError(
                    f"{p}: line {line} has {len(record)} fields, the header (line {header_line}) has {len(header)}. {advice}"
                )
            rows.append(record)
            lines.append(line)
    except csv.Error as err:
        raise ValueError(f"{p}: line {next_line}: not a readable CSV row ({err}). {advice}") from None
    if header is None:
        raise ValueError(f"{p}: the file holds only blank lines, no header. {advice}")

    seen: dict[str, int] = {}
    for k, name in enumerate(header):
        if name in seen:
            raise ValueError(
                f"{p}: the header (line {header_line}) names column {name!r} twice (fields {seen[name] + 1} "
                f"and {k + 1}); which one holds the data is ambiguous. Remove or rename one. {advice}"
            )
        seen[name] = k
    return header, rows, lines


def _check_separator(p: Path, header: list[str], line: int, advice: str) -> None:
    """Raise if the header is one field holding semicolons or tabs: a CSV written with another separator."""
    if len(header) != 1:
        return
    for sep, what in ((";", "semicolons"), ("\t", "tabs")):
        if header[0].count(sep) >= 2:
            raise ValueError(
                f"{p}: line {line}: the header is separated by {what}, not commas ({header[0][:60]!r}...). The "
                f"loaders read comma-separated files: save the table as CSV with ',' as the separator and '.' as "
                f"the decimal mark. {advice}"
            )


def _check_numeric(raw: pd.DataFrame, columns, path: Path, lines: np.ndarray) -> None:
    """Raise naming file, line (1-based, in the file) and column of a non-numeric or NaN value."""
    for col in columns:
        values = pd.to_numeric(raw[col], errors="coerce")
        bad = values.isna() | ~np.isfinite(values.to_numpy(dtype=float, na_value=np.nan))
        if bad.any():
            k = int(np.flatnonzero(bad.to_numpy())[0])
            raise ValueError(
                f"{path}: line {lines[k]}, column {col!r}: value {raw[col].iloc[k]!r} is not a finite "
                f"number ({int(bad.sum())} such value(s) in that column). Fix or re-download the file; "
                f"rows are never dropped silently."
            )
        raw[col] = values
