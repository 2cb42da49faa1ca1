"""Choosing a data set by name, describing it, and telling a chapter's reader which one it uses."""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import pandas as pd

from ._files import _warn_once
from ._jukkr import DATA_DIR_VARIABLE, JUKKR_DOI, JUKKR_FILENAME, jukkr_path, load_jukkr
from ._model import load_model


def load_dataset(name: str, path: str | os.PathLike | None = None) -> pd.DataFrame:
    """Load a data set by name: ``'jukkr'``, ``'model'``, or ``'auto'`` (JuKKR if available, else model).

    Without ``path``, ``'auto'`` takes the JuKKR table from ``$JIJTUTORIAL_DATA_DIR`` and falls back to the
    package's model data set when the table is not there or cannot be read or parsed. If
    ``$JIJTUTORIAL_DATA_DIR`` is set (the user asked for the JuKKR table) or the table is damaged, a
    :class:`DataFileWarning` says why and ``frame.attrs['fallback']`` keeps the reason, which
    :func:`data_notice` prints on every page and output that describes the data. If neither data set
    can be loaded it raises ``FileNotFoundError`` giving both reasons.

    With an explicit ``path``, ``'auto'`` loads *that* file -- as the JuKKR table, or as a model data
    set if it is one -- and never another data set: a file that is missing or cannot be loaded either
    way is an error naming it (``FileNotFoundError`` or ``ValueError``), not a silent switch to the
    package's model data.
    """
    if name == "jukkr":
        return load_jukkr(path)
    if name == "model":
        return load_model(path)
    if name != "auto":
        raise ValueError(f"unknown data set {name!r}: use 'jukkr', 'model' or 'auto'.")
    if path is not None:
        return _load_explicit(path)
    damaged = False
    try:
        jukkr_path(path)
    except FileNotFoundError as err:
        why = str(err)
    else:
        try:
            return load_jukkr(path)
        except (OSError, ValueError) as err:
            why, damaged = str(err), True
            _warn_once(
                ("fallback", str(path), why),
                f"the JuKKR table cannot be loaded: {why} Using the package's model data set instead.",
            )
    try:
        frame = load_model()
    except (OSError, ValueError) as err:
        raise FileNotFoundError(f"no data set can be loaded. JuKKR table: {why} Model data set: {err}") from None
    if not damaged and os.environ.get(DATA_DIR_VARIABLE):
        _warn_once(("fallback", str(path), why), f"{why} Using the package's model data set instead.")
    if damaged or os.environ.get(DATA_DIR_VARIABLE):
        # The user asked for the JuKKR table (the variable is set) and did not get it: every page and
        # output that describes the data (data_notice) says why, not only a warning on stderr.
        frame.attrs["fallback"] = why
    return frame


def _load_explicit(path) -> pd.DataFrame:
    """The data set in the file (or folder) ``path`` the user named: JuKKR or model, else an error naming it."""
    from ._jukkr import JUKKR_COLUMNS
    from ._model import MODEL_FILENAME

    p = Path(path).expanduser()
    if p.is_dir():
        if (p / JUKKR_FILENAME).is_file():
            return load_jukkr(p)
        if (p / MODEL_FILENAME).is_file():
            return load_model(p)
        raise FileNotFoundError(
            f"{p} holds neither {JUKKR_FILENAME} nor {MODEL_FILENAME}; give the file of the data "
            f"set (or its folder), or choose the data set by name instead of the path."
        )
    if not p.is_file():
        raise FileNotFoundError(f"{p}: no such file; give the file of the data set (or its folder).")
    with open(p, "rb") as fh:
        head = fh.readline(1 << 16).decode("utf-8-sig", errors="replace")
    fields = [f.strip().strip('"') for f in re.split(r"[,;\t]", head)]
    jukkr_like = sum(c in fields for c in JUKKR_COLUMNS) >= len(JUKKR_COLUMNS) // 2
    # the file's own header says which loader applies; its errors name the file, line and column
    return load_jukkr(p) if jukkr_like or p.name == JUKKR_FILENAME else load_model(p)


def describe(frame: pd.DataFrame) -> str:
    """Human-readable description of a loaded data set (title, size, source, licence, units)."""
    a = frame.attrs
    prov = a.get("provenance", {})
    lines = [
        a.get("title", "pair data set"),
        "=" * len(a.get("title", "pair data set")),
        a.get("description", ""),
        "",
        f"pairs: {len(frame)}   elements: {frame['element_i'].nunique()} x {frame['element_j'].nunique()}   "
        f"distinct pair vectors: {len(np.unique(frame[['rx', 'ry', 'rz']].round(4).to_numpy(), axis=0))}",
        f"J: {frame['J'].min():.2f} ... {frame['J'].max():.2f} meV, std {frame['J'].std():.2f} meV",
        f"source: {a.get('source', '')}",
        f"licence: {a.get('licence', '')}",
        f"convention: {a.get('convention', '')}",
    ]
    if "duplicates_removed" in prov:
        lines.append(f"exact duplicates removed: {prov['duplicates_removed']} of {prov['rows_in_file']} rows")
    if prov.get("sha256_matches_published") is False:
        lines.append(
            f"NOT the published table (sha256 differs): {prov.get('rows_in_file')} rows in the file, "
            f"{len(frame)} pairs, published {prov.get('published_rows')} rows / {prov.get('published_pairs')} pairs"
        )
    if prov.get("sha256_matches_provenance") is False:
        lines.append("the CSV differs from the one its provenance file describes (sha256)")
    return "\n".join(lines)


def data_notice(frame: pd.DataFrame, requested: str = "auto") -> str:
    """What a chapter says about its data: which data set ``frame`` is and, if the JuKKR table was
    asked for (``requested`` 'jukkr' or 'auto') but is not on this machine, how to get it.
    """
    name = frame.attrs.get("name", "custom")
    line = f"Data set: {frame.attrs.get('title', 'pair data set')} — {len(frame)} pairs."
    if "subsample" in frame.attrs:
        line += f" ({frame.attrs['subsample']})"
    if requested in ("jukkr", "auto") and name != "jukkr" and frame.attrs.get("fallback"):
        line = (
            f"The JuKKR table was asked for ({DATA_DIR_VARIABLE} is set) but cannot be used: "
            f"{frame.attrs['fallback']} So this chapter uses the package's own model data set instead; fix the "
            f"file or unset {DATA_DIR_VARIABLE}.\n" + line
        )
    elif requested in ("jukkr", "auto") and name != "jukkr":
        line = (
            f"The JuKKR table is not available on this machine, so this chapter uses the package's own model "
            f"data set. To use the JuKKR data, download '{JUKKR_FILENAME}' from the Materials Cloud Archive "
            f"(doi:{JUKKR_DOI}, CC BY 4.0) and set {DATA_DIR_VARIABLE} to its folder.\n" + line
        )
    return line
