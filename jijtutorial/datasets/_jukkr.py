"""The JuKKR table (Materials Cloud Archive 2024.103): where it is, how it is read and checked."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np
import pandas as pd

from ..elements import IMPURITY_Z, symbol_of
from ..geometry import ALAT
from ._files import _check_numeric, _parse_csv, _read_bytes, _string_frame, _warn_once
from ._schema import CONVENTION, TIDY_COLUMNS, tidy_frame

#: Environment variable naming the folder that holds the JuKKR table.
DATA_DIR_VARIABLE = "JIJTUTORIAL_DATA_DIR"

JUKKR_FILENAME = "jukkr_bi2te3_jij_dimers.csv"
JUKKR_SHA256 = "5b342d5f34b58b71ba674d8a81ba1c1991ecda91d8fa59842e6357ccef790681"
JUKKR_DOI = "10.24435/materialscloud:c9-9x"
JUKKR_URL = "https://doi.org/10.24435/materialscloud:c9-9x"
#: Rows of the published table, and unique pairs after its 2 exact duplicates are removed.
JUKKR_ROWS = 1730
JUKKR_PAIRS = 1728
#: Largest |r - |(rx, ry, rz)|| (alat) accepted between the table's column ``r`` and its vector.
R_TOLERANCE = 1e-4


#: Columns the JuKKR table must have, and their meaning (see the data README).
JUKKR_COLUMNS = (
    "calc_imps",
    "J_data_uuid",
    "imp0",
    "offset0",
    "ilayer0",
    "imp1",
    "offset1",
    "ilayer1",
    "i",
    "j",
    "Z_i",
    "Z_j",
    "J",
    "D",
    "Dx",
    "Dy",
    "Dz",
    "rx",
    "ry",
    "rz",
    "r",
    "mom1",
    "mom2",
    "tot_mom",
)
_JUKKR_NUMERIC = tuple(c for c in JUKKR_COLUMNS if c != "J_data_uuid")


def _missing_table_message(path: Path | None) -> str:
    where = f"{path} does not exist" if path is not None else f"${DATA_DIR_VARIABLE} is not set and no path was given"
    return (
        f"JuKKR table not found: {where}. Download '{JUKKR_FILENAME}' (the 'extracted table of Jij "
        f"values') from the Materials Cloud Archive record 2024.103, doi:{JUKKR_DOI} "
        f"({JUKKR_URL}, licence CC BY 4.0), put it in a folder and set {DATA_DIR_VARIABLE} to that "
        f"folder, or pass path= to load_jukkr(). Without it, use load_model(), the package's own data set."
    )


def jukkr_path(path: str | os.PathLike | None = None) -> Path:
    """Where the JuKKR table is: ``path`` (file or folder), else ``$JIJTUTORIAL_DATA_DIR``.

    Raises ``FileNotFoundError`` with download instructions if it is not there.
    """
    if path is None:
        folder = os.environ.get(DATA_DIR_VARIABLE)
        if not folder:
            raise FileNotFoundError(_missing_table_message(None))
        path = Path(folder)
    p = Path(path).expanduser()
    if p.is_dir():
        p = p / JUKKR_FILENAME
    if not p.is_file():
        raise FileNotFoundError(_missing_table_message(p))
    return p


def jukkr_available(path: str | os.PathLike | None = None) -> bool:
    """True if :func:`load_jukkr` can find the table and read it.

    A table that exists but cannot be read (no permission, empty file) counts as unavailable,
    with a :class:`DataFileWarning` saying why (once per file).
    """
    try:
        p = jukkr_path(path)
        _read_bytes(p)
    except FileNotFoundError:
        return False
    except (OSError, ValueError) as err:
        _warn_once(
            ("unavailable", str(path), str(err)),
            f"the JuKKR table exists but cannot be used: {err} It is treated as unavailable.",
        )
        return False
    return True


def load_jukkr(path: str | os.PathLike | None = None, *, drop_duplicates: bool = True) -> pd.DataFrame:
    """Load the JuKKR J_ij table of 3d/4d impurity pairs in Bi2Te3 as a tidy frame.

    Parameters
    ----------
    path : file or folder holding ``jukkr_bi2te3_jij_dimers.csv``; default ``$JIJTUTORIAL_DATA_DIR``.
    drop_duplicates : remove exact duplicates (rows equal in every numeric column; only the AiiDA
        uuid may differ); their file lines are recorded in ``frame.attrs['provenance']``.
        Conflicting duplicates (same elements and vector, other J, D, moments, ...) always raise.

    Returns
    -------
    DataFrame with the columns of :data:`TIDY_COLUMNS` plus ``uuid`` (AiiDA node of the J_ij
    output), 1728 rows for the published table. ``frame.attrs`` holds the description,
    ``attrs['n_pairs']`` the number of rows and ``attrs['path']`` the file.

    Raises
    ------
    FileNotFoundError, PermissionError, ValueError
        each naming the file and, for a bad row, its line in the file (1-based, counting the
        header and blank lines). A file whose SHA-256 differs from the published table's loads
        with a :class:`DataFileWarning` (once) giving its row count and the rows removed.
    """
    p = jukkr_path(path)
    advice = f"Fix it or re-download the table (doi:{JUKKR_DOI})."
    data = _read_bytes(p, advice)
    sha = hashlib.sha256(data).hexdigest()
    header, rows, lines = _parse_csv(p, data, advice)
    missing = [c for c in JUKKR_COLUMNS if c not in header]
    if missing:
        raise ValueError(
            f"{p}: column(s) {missing} missing (found {header}). The loader expects the "
            f"24 columns of the Materials Cloud table (doi:{JUKKR_DOI}); was the file edited or renamed?"
        )
    if not rows:
        raise ValueError(f"{p}: the table has a header but no rows. Re-download the file.")
    raw = _string_frame(header, rows)
    line = np.asarray(lines, dtype=np.int64)
    _check_numeric(raw, _JUKKR_NUMERIC, p, line)
    for col in ("Z_i", "Z_j"):
        z = raw[col].to_numpy(float)
        bad = (z != np.round(z)) | ~np.isin(z, IMPURITY_Z)
        if bad.any():
            k = int(np.flatnonzero(bad)[0])
            raise ValueError(
                f"{p}: line {line[k]}, column {col!r}: unknown element Z={z[k]:g}. The table holds only "
                f"Sc-Zn (21-30) and Y-Cd (39-48); fix or re-download the file."
            )
    if not (np.array_equal(raw["Z_i"], raw["imp0"]) and np.array_equal(raw["Z_j"], raw["imp1"])):
        k = int(np.flatnonzero((raw["Z_i"] != raw["imp0"]) | (raw["Z_j"] != raw["imp1"]))[0])
        raise ValueError(f"{p}: line {line[k]}: Z_i/Z_j disagree with imp0/imp1; the file is inconsistent.")
    _check_derived_columns(raw, p, line, advice)
    n_raw = len(raw)
    removed = _duplicates(raw, p, line)  # raises on conflicting duplicates
    keep = np.ones(n_raw, dtype=bool)
    if drop_duplicates:
        keep[[k for k, _ in removed]] = False
    else:
        removed = []
    raw = raw.loc[keep].reset_index(drop=True)
    frame = pd.DataFrame(
        {
            "element_i": [symbol_of(int(z)) for z in raw["Z_i"]],
            "element_j": [symbol_of(int(z)) for z in raw["Z_j"]],
            "rx": raw["rx"].to_numpy(float) * ALAT,
            "ry": raw["ry"].to_numpy(float) * ALAT,
            "rz": raw["rz"].to_numpy(float) * ALAT,
            "J": raw["J"].to_numpy(float),
            "Dx": raw["Dx"].to_numpy(float),
            "Dy": raw["Dy"].to_numpy(float),
            "Dz": raw["Dz"].to_numpy(float),
            "moment_i": raw["mom1"].to_numpy(float),
            "moment_j": raw["mom2"].to_numpy(float),
            "uuid": raw["J_data_uuid"].astype(str).to_numpy(),
        }
    )
    published = sha == JUKKR_SHA256
    removed_lines = [(int(line[k]), int(line[j])) for k, j in removed]
    attrs = {
        "name": "jukkr",
        "title": "JuKKR exchange couplings of 3d/4d impurity pairs in Bi2Te3",
        "description": (
            "Isotropic exchange J_ij and Dzyaloshinskii-Moriya vectors between two substitutional "
            "transition-metal impurities (Sc-Zn, Y-Cd) on Bi sites of bulk Bi2Te3, computed with the "
            "JuKKR Korringa-Kohn-Rostoker Green-function code (impurity embedding, LDA, spin-orbit "
            "coupling) through the AiiDA-KKR workflows, with the Liechtenstein formula."
        ),
        "source": (
            "R. Mozumder, J. Wasmer, D. Antognini Silva, S. Blügel, P. Rüßmann, 'High-throughput magnetic "
            "co-doping and design of exchange interactions in a topological insulator', arXiv:2407.04413 "
            f"(2024); data: Materials Cloud Archive 2024.103, doi:{JUKKR_DOI}."
        ),
        "licence": "CC BY 4.0 (cite the paper and the Materials Cloud record)",
        "convention": CONVENTION,
        "units": {c: u for c, u in TIDY_COLUMNS.items()},
        "path": str(p),
        "n_pairs": len(frame),
        "provenance": {
            "path": str(p),
            "sha256": sha,
            "sha256_matches_published": published,
            "published_rows": JUKKR_ROWS,
            "published_pairs": JUKKR_PAIRS,
            "rows_in_file": n_raw,
            "duplicates_removed": len(removed_lines),
            # (removed line, line it repeats), at most 1000 listed
            "duplicate_lines": removed_lines[:1000],
        },
    }
    tidy = tidy_frame(frame, attrs, source=str(p), lines=line[keep])
    if not published:
        _warn_once(("sha", str(p), sha), _not_published_message(p, sha, n_raw, removed_lines, len(frame)))
    return tidy


def _not_published_message(p: Path, sha: str, n_raw: int, removed: list[tuple[int, int]], n: int) -> str:
    if removed:
        shown = ", ".join(f"line {a} (repeats line {b})" for a, b in removed[:5])
        more = f" and {len(removed) - 5} more" if len(removed) > 5 else ""
        dropped = f"{len(removed)} exact duplicate row(s) were removed: {shown}{more}"
    else:
        dropped = "no rows were removed"
    return (
        f"{p} is not the published JuKKR table: its sha256 is {sha[:16]}..., the published file's "
        f"{JUKKR_SHA256[:16]}... (doi:{JUKKR_DOI}). It has {n_raw} data rows (the published table "
        f"{JUKKR_ROWS}, {JUKKR_PAIRS} unique pairs); {dropped}; {n} pairs remain. Figures computed from it "
        f"describe this file (N = {n}, frame.attrs['n_pairs']), not the published table."
    )


def _check_derived_columns(raw: pd.DataFrame, p: Path, line: np.ndarray, advice: str) -> None:
    """Columns the table states twice must agree: r = |(rx, ry, rz)|, D = |(Dx, Dy, Dz)|, tot_mom = mom1 + mom2."""
    vec = raw[["rx", "ry", "rz"]].to_numpy(float)
    checks = [
        # column, what it must equal, unit, its value, tolerance (absolute; relative above 1 for D, tot_mom)
        ("r", "|(rx, ry, rz)|", "alat", np.linalg.norm(vec, axis=1), R_TOLERANCE),
        ("D", "|(Dx, Dy, Dz)|", "meV", np.linalg.norm(raw[["Dx", "Dy", "Dz"]].to_numpy(float), axis=1), 1e-6),
        ("tot_mom", "mom1 + mom2", "μB", raw["mom1"].to_numpy(float) + raw["mom2"].to_numpy(float), 1e-6),
    ]
    for col, what, unit, expected, tol in checks:
        stated = raw[col].to_numpy(float)
        scale = 1.0 if col == "r" else np.maximum(1.0, np.abs(expected))
        bad = np.abs(stated - expected) > tol * scale
        if bad.any():
            k = int(np.flatnonzero(bad)[0])
            raise ValueError(
                f"{p}: line {line[k]}, column {col!r}: {stated[k]:.10g} {unit}, but {what} = {expected[k]:.8g} {unit} "
                f"(difference {abs(stated[k] - expected[k]):.3g}, tolerance {tol:g}; {int(bad.sum())} such row(s)). "
                f"The row is inconsistent. {advice}"
            )


#: Columns that locate a pair; rows equal in these describe the same pair.
_PAIR_KEY = ("Z_i", "Z_j", "rx", "ry", "rz")


def _duplicates(raw: pd.DataFrame, p: Path, line: np.ndarray) -> list[tuple[int, int]]:
    """(row, row it repeats) for every exact duplicate; raises naming both lines for a conflicting one.

    Rows of one pair (same Z_i, Z_j and vector to 1e-8 alat) must agree in every other numeric
    column (J, D, moments, offsets, ...); only ``J_data_uuid`` may differ.
    """
    key = pd.DataFrame({c: raw[c].astype(float).round(8) + 0.0 for c in _PAIR_KEY})
    group = key.groupby(list(_PAIR_KEY), sort=False).ngroup().to_numpy()
    first = pd.Series(np.arange(len(raw))).groupby(group).transform("min").to_numpy()
    dup = np.flatnonzero(first != np.arange(len(raw)))
    if not len(dup):
        return []
    compare = [c for c in _JUKKR_NUMERIC if c not in _PAIR_KEY and c != "r"]
    values = raw[compare].to_numpy(float)
    differ = values[dup] != values[first[dup]]
    conflict = differ.any(axis=1)
    if conflict.any():
        c = int(np.flatnonzero(conflict)[0])
        k, j = int(dup[c]), int(first[dup[c]])
        cols = [compare[m] for m in np.flatnonzero(differ[c])]
        diffs = ", ".join(f"{col} {values[j, compare.index(col)]:.6g} vs {values[k, compare.index(col)]:.6g}" for col in cols[:4])
        raise ValueError(
            f"{p}: lines {line[j]} and {line[k]} hold the same pair (Z_i={int(key['Z_i'][k])}, "
            f"Z_j={int(key['Z_j'][k])}, vector ({raw['rx'].iloc[k]}, {raw['ry'].iloc[k]}, {raw['rz'].iloc[k]}) alat) "
            f"with different values: {diffs}{' ...' if len(cols) > 4 else ''} ({int(conflict.sum())} such row(s)). "
            f"Conflicting duplicates are never dropped: delete the wrong row, or re-download the table "
            f"(doi:{JUKKR_DOI})."
        )
    return [(int(k), int(first[k])) for k in dup]
