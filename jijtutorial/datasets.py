"""Data set loaders: one ``load_*()`` per data set, each returning a tidy ``pandas.DataFrame``.

Every frame has one row per impurity pair and the columns of :data:`TIDY_COLUMNS` (plus
source-specific extras). ``frame.attrs`` carries the description, units, sign convention,
licence and provenance of the data.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from .elements import IMPURITY_ELEMENTS, IMPURITY_Z, symbol_of
from .structures import ALAT, locate_bi_site

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

#: Folder of the data the package generates itself (the model data set).
PACKAGE_DATA_DIR = Path(__file__).resolve().parent.parent / "data"
MODEL_FILENAME = "model_jij.csv"

#: Columns of every tidy frame, with their units.
TIDY_COLUMNS: dict[str, str] = {
    "element_i": "chemical symbol of impurity i (on the upper Bi layer of a quintuple layer)",
    "element_j": "chemical symbol of impurity j",
    "Z_i": "atomic number of impurity i",
    "Z_j": "atomic number of impurity j",
    "rx": "x of the vector from impurity i to impurity j (Å; x along a)",
    "ry": "y of that vector (Å)",
    "rz": "z of that vector (Å; z along c)",
    "distance": "|r_ij| (Å)",
    "sublattice_j": "Bi sublattice of impurity j relative to i: 'same' or 'other'",
    "shell": "rank of the distance among Bi sites of j's sublattice (1 = nearest)",
    "layer": "Bi layer of j relative to i, in words",
    "geometry": "readable label: layer and distance",
    "J": "isotropic exchange J_ij (meV); H = -sum_<ij> J_ij S_i.S_j, J > 0 ferromagnetic",
    "Dx": "Dzyaloshinskii-Moriya vector, x (meV)",
    "Dy": "DM vector, y (meV)",
    "Dz": "DM vector, z (meV)",
    "D": "|D| (meV)",
    "moment_i": "spin moment of impurity i (μB)",
    "moment_j": "spin moment of impurity j (μB)",
}

#: Raw columns :func:`tidy_frame` needs; it derives the rest.
RAW_COLUMNS = ("element_i", "element_j", "rx", "ry", "rz", "J", "Dx", "Dy", "Dz", "moment_i", "moment_j")

#: Columns the JuKKR table must have, and their meaning (see the data README).
JUKKR_COLUMNS = (
    "calc_imps", "J_data_uuid", "imp0", "offset0", "ilayer0", "imp1", "offset1", "ilayer1",
    "i", "j", "Z_i", "Z_j", "J", "D", "Dx", "Dy", "Dz", "rx", "ry", "rz", "r", "mom1", "mom2", "tot_mom",
)
_JUKKR_NUMERIC = tuple(c for c in JUKKR_COLUMNS if c != "J_data_uuid")

CONVENTION = (
    "H = -sum_<ij> J_ij S_i.S_j - sum_<ij> D_ij.(S_i x S_j), each pair once, unit vectors S; "
    "J > 0 favours ferromagnetic alignment. Energies in meV, lengths in Å, moments in μB."
)


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


class DataFileWarning(UserWarning):
    """A data file differs from the published one, or an unreadable one was passed over."""


_WARNED: set[tuple] = set()


def _warn_once(tag: tuple, message: str, stacklevel: int = 3) -> None:
    if tag in _WARNED:
        return
    _WARNED.add(tag)
    warnings.warn(message, DataFileWarning, stacklevel=stacklevel)


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
        _warn_once(("unavailable", str(path), str(err)),
                   f"the JuKKR table exists but cannot be used: {err} It is treated as unavailable.")
        return False
    return True


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
                continue
            if len(record) != len(header):
                raise ValueError(
                    f"{p}: line {line} has {len(record)} fields, the header (line {header_line}) has "
                    f"{len(header)}. {advice}"
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
        diffs = ", ".join(f"{col} {values[j, compare.index(col)]:.6g} vs {values[k, compare.index(col)]:.6g}"
                          for col in cols[:4])
        raise ValueError(
            f"{p}: lines {line[j]} and {line[k]} hold the same pair (Z_i={int(key['Z_i'][k])}, "
            f"Z_j={int(key['Z_j'][k])}, vector ({raw['rx'].iloc[k]}, {raw['ry'].iloc[k]}, {raw['rz'].iloc[k]}) alat) "
            f"with different values: {diffs}{' ...' if len(cols) > 4 else ''} ({int(conflict.sum())} such row(s)). "
            f"Conflicting duplicates are never dropped: delete the wrong row, or re-download the table "
            f"(doi:{JUKKR_DOI})."
        )
    return [(int(k), int(first[k])) for k in dup]


def tidy_frame(raw: pd.DataFrame, attrs: dict, *, source: str = "input", lines=None) -> pd.DataFrame:
    """Validate raw pair columns (:data:`RAW_COLUMNS`) and add the derived ones.

    ``raw`` has one row per pair with element symbols, the pair vector in Å, J and D in meV and
    the moments in μB; extra columns are kept after the tidy ones. Every pair vector must land
    on a Bi site (:func:`jijtutorial.structures.locate_bi_site`). ``source`` names the file in
    error messages; ``lines`` (one int per row), if given, are the rows' lines in that file,
    which the messages then quote instead of the row position.
    """
    if lines is not None:
        lines = np.asarray(lines).reshape(-1)
        if len(lines) != len(raw):
            raise ValueError(f"tidy_frame: {len(lines)} line numbers for {len(raw)} rows.")

    def at(k: int) -> str:
        return f"line {lines[k]}" if lines is not None else f"row {k}"

    missing = [c for c in RAW_COLUMNS if c not in raw.columns]
    if missing:
        raise ValueError(f"{source}: column(s) {missing} missing; a pair table needs {list(RAW_COLUMNS)}.")
    frame = raw.reset_index(drop=True).copy()
    numeric = [c for c in RAW_COLUMNS if c not in ("element_i", "element_j")]
    for col in numeric:
        values = pd.to_numeric(frame[col], errors="coerce").to_numpy(float)
        bad = ~np.isfinite(values)
        if bad.any():
            k = int(np.flatnonzero(bad)[0])
            raise ValueError(
                f"{source}: {at(k)}, column {col!r}: {frame[col].iloc[k]!r} is not a finite number. "
                f"Fix the input; rows are never dropped silently."
            )
        frame[col] = values
    for col in ("element_i", "element_j"):
        unknown = ~frame[col].isin(IMPURITY_ELEMENTS)
        if unknown.any():
            k = int(np.flatnonzero(unknown.to_numpy())[0])
            raise ValueError(
                f"{source}: {at(k)}, column {col!r}: unknown element {frame[col].iloc[k]!r}; "
                f"expected one of {', '.join(IMPURITY_ELEMENTS)}."
            )
    vectors = frame[["rx", "ry", "rz"]].to_numpy()
    unique, first, inverse = np.unique(np.round(vectors, 6), axis=0, return_index=True, return_inverse=True)
    # in file order, so that the first bad vector of the file is the one reported
    sites = [None] * len(unique)
    for u in np.argsort(first, kind="stable"):
        sites[u] = locate_bi_site(unique[u], where=f"{source}, {at(int(first[u]))}")
    inverse = np.asarray(inverse).reshape(-1)
    from ase.data import atomic_numbers

    derived = pd.DataFrame(
        {
            "Z_i": [atomic_numbers[e] for e in frame["element_i"]],
            "Z_j": [atomic_numbers[e] for e in frame["element_j"]],
            "distance": np.linalg.norm(vectors, axis=1),
            "sublattice_j": [sites[k].sublattice for k in inverse],
            "shell": np.array([sites[k].shell for k in inverse], dtype=int),
            "layer": [sites[k].layer for k in inverse],
            "geometry": [sites[k].geometry for k in inverse],
            "D": np.linalg.norm(frame[["Dx", "Dy", "Dz"]].to_numpy(), axis=1),
        }
    )
    for col in derived:
        frame[col] = derived[col].to_numpy()
    extras = [c for c in frame.columns if c not in TIDY_COLUMNS]
    frame = frame[list(TIDY_COLUMNS) + extras]
    frame.attrs.update(attrs)
    return frame


def model_path(path: str | os.PathLike | None = None, *, generate_if_missing: bool = True) -> Path:
    """Where the model data set is: ``path`` (file or folder), else the repository's ``data/``.

    With no ``path``, an installation without the repository's ``data/`` folder (a wheel, Colab)
    falls back to the user cache (``$JIJTUTORIAL_CACHE_DIR`` or ``~/.cache/jijtutorial``) and, if
    ``generate_if_missing``, computes the data set there once (deterministic: the same numbers
    as the shipped file; about half a minute on two cores).
    """
    if path is not None:
        p = Path(path).expanduser()
        if p.is_dir():
            p = p / MODEL_FILENAME
        if not p.is_file():
            raise FileNotFoundError(
                f"model data set not found at {p}. Generate it with `jijtutorial generate-model-data "
                f"--out {p.parent}` (under a minute), or pass the path of an existing {MODEL_FILENAME}."
            )
        return p
    shipped = PACKAGE_DATA_DIR / MODEL_FILENAME
    if shipped.is_file():
        return shipped
    from .featurecache import cache_dir

    cached = cache_dir() / MODEL_FILENAME
    if cached.is_file():
        return cached
    if not generate_if_missing:
        raise FileNotFoundError(
            f"model data set not found in {shipped.parent} nor {cached.parent}. Generate it with "
            f"`jijtutorial generate-model-data --out {cached.parent}`."
        )
    from .model_data import write_model_data

    print(f"jijtutorial: the model data set is not installed; computing it once into {cached.parent} ...")
    csv, _ = write_model_data(cached.parent, n_jobs=-1)
    return csv


def load_model(path: str | os.PathLike | None = None) -> pd.DataFrame:
    """Load the package's own J_ij data set, computed from Green functions of a Bi2Te3 model.

    Same columns as :func:`load_jukkr` plus the exchange-tensor components and parameters of
    the model; ``frame.attrs['provenance']`` holds the generation parameters (from the JSON file
    written next to the CSV by ``jijtutorial generate-model-data``), ``attrs['path']`` the file
    and ``attrs['n_pairs']`` the number of rows. A CSV whose SHA-256 differs from the one its
    provenance file records loads with a :class:`DataFileWarning` (once).
    """
    p = model_path(path)
    advice = f"Regenerate it with `jijtutorial generate-model-data --out {p.parent}`."
    data = _read_bytes(p, advice)
    header, rows, lines = _parse_csv(p, data, advice)
    if not rows:
        raise ValueError(f"{p}: the table has a header but no rows. {advice}")
    raw = _string_frame(header, rows)
    for col in raw.columns:
        if col not in ("element_i", "element_j"):
            try:
                raw[col] = pd.to_numeric(raw[col])
            except (ValueError, TypeError):
                pass  # tidy_frame names the bad value of a required column; extras stay text
    prov_file = p.with_suffix(".provenance.json")
    provenance = {}
    if prov_file.is_file():
        try:
            provenance = json.loads(_read_bytes(prov_file, advice).decode("utf-8"))
        except (ValueError, UnicodeDecodeError) as err:
            raise ValueError(f"{prov_file}: not a valid provenance file ({err}). {advice}") from None
    sha = hashlib.sha256(data).hexdigest()
    recorded = provenance.get("csv_sha256")
    provenance = {"path": str(p), "sha256": sha, **provenance,
                  "sha256_matches_provenance": None if recorded is None else sha == recorded}
    if recorded is not None and sha != recorded:
        _warn_once(("model-sha", str(p), sha), (
            f"{p} is not the file its provenance ({prov_file.name}) describes: its sha256 is {sha[:16]}..., "
            f"the recorded one {recorded[:16]}...; it has {len(rows)} rows (recorded: {provenance.get('n_rows')}). "
            f"The generation parameters may not describe these numbers. {advice}"
        ))
    attrs = {
        "name": "model",
        "title": "Model exchange couplings of 3d/4d impurity pairs in a Bi2Te3 tight-binding model",
        "description": (
            "Exchange couplings between two impurities embedded in a four-band tight-binding model of "
            "the topological insulator Bi2Te3, computed by jijtutorial from host Green functions, the "
            "Dyson equation and the Liechtenstein force-theorem formula. A teaching stand-in for the "
            "JuKKR data: same schema, same elements, same-sublattice pair vectors."
        ),
        "source": "generated by jijtutorial.model_data (see provenance)",
        "licence": "same as the jijtutorial package",
        "convention": CONVENTION,
        "units": {c: u for c, u in TIDY_COLUMNS.items()},
        "path": str(p),
        "n_pairs": len(raw),
        "provenance": provenance,
    }
    return tidy_frame(raw, attrs, source=str(p), lines=lines)


def load_dataset(name: str, path: str | os.PathLike | None = None) -> pd.DataFrame:
    """Load a data set by name: ``'jukkr'``, ``'model'``, or ``'auto'`` (JuKKR if available, else model).

    ``'auto'`` falls back to the model data set, with a :class:`DataFileWarning` saying why, when
    the JuKKR table exists but cannot be read or parsed; if neither data set can be loaded it
    raises ``FileNotFoundError`` giving both reasons.
    """
    if name == "jukkr":
        return load_jukkr(path)
    if name == "model":
        return load_model(path)
    if name != "auto":
        raise ValueError(f"unknown data set {name!r}: use 'jukkr', 'model' or 'auto'.")
    try:
        jukkr_path(path)
    except FileNotFoundError as err:
        why = str(err)
    else:
        try:
            return load_jukkr(path)
        except (OSError, ValueError) as err:
            why = str(err)
            _warn_once(("fallback", str(path), why),
                       f"the JuKKR table cannot be loaded: {why} Using the package's model data set instead.")
    try:
        return load_model()
    except (OSError, ValueError) as err:
        raise FileNotFoundError(
            f"no data set can be loaded. JuKKR table: {why} Model data set: {err}"
        ) from None


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
        lines.append(f"NOT the published table (sha256 differs): {prov.get('rows_in_file')} rows in the file, "
                     f"{len(frame)} pairs, published {prov.get('published_rows')} rows / {prov.get('published_pairs')} pairs")
    if prov.get("sha256_matches_provenance") is False:
        lines.append("the CSV differs from the one its provenance file describes (sha256)")
    return "\n".join(lines)


def element_pair_groups(frame: pd.DataFrame) -> np.ndarray:
    """Group label per row that is the same for (A, B) and (B, A): for grouped cross-validation.

    Shape (n_rows,), integers; rows of one unordered element pair share a label whatever the
    distance, so a ``GroupKFold`` never puts (A, B) in training and (B, A) in the test fold.
    """
    for col in ("Z_i", "Z_j"):
        if col not in frame.columns:
            raise ValueError(f"element_pair_groups needs a tidy frame with column {col!r}.")
    lo = np.minimum(frame["Z_i"].to_numpy(), frame["Z_j"].to_numpy())
    hi = np.maximum(frame["Z_i"].to_numpy(), frame["Z_j"].to_numpy())
    return lo * 100 + hi


def element_pair_labels(frame: pd.DataFrame) -> np.ndarray:
    """Readable unordered element-pair label per row, e.g. 'Cr-Fe' (alphabetical order)."""
    a = frame["element_i"].to_numpy()
    b = frame["element_j"].to_numpy()
    return np.where(a <= b, np.char.add(np.char.add(a.astype(str), "-"), b.astype(str)),
                    np.char.add(np.char.add(b.astype(str), "-"), a.astype(str)))


def data_notice(frame: pd.DataFrame, requested: str = "auto") -> str:
    """What a chapter says about its data: which data set ``frame`` is and, if the JuKKR table was
    asked for (``requested`` 'jukkr' or 'auto') but is not on this machine, how to get it.
    """
    name = frame.attrs.get("name", "custom")
    line = f"Data set: {frame.attrs.get('title', 'pair data set')} — {len(frame)} pairs."
    if "subsample" in frame.attrs:
        line += f" ({frame.attrs['subsample']})"
    if requested in ("jukkr", "auto") and name != "jukkr":
        line = (f"The JuKKR table is not available on this machine, so this chapter uses the package's own model "
                f"data set. To use the JuKKR data, download '{JUKKR_FILENAME}' from the Materials Cloud Archive "
                f"(doi:{JUKKR_DOI}, CC BY 4.0) and set {DATA_DIR_VARIABLE} to its folder.\n" + line)
    return line


__all__ = ["CONVENTION", "DATA_DIR_VARIABLE", "JUKKR_COLUMNS", "JUKKR_DOI", "JUKKR_FILENAME", "JUKKR_SHA256",
           "JUKKR_URL", "MODEL_FILENAME", "PACKAGE_DATA_DIR", "RAW_COLUMNS", "TIDY_COLUMNS", "data_notice", "describe",
           "element_pair_groups", "element_pair_labels", "jukkr_available", "jukkr_path", "load_dataset", "load_jukkr",
           "load_model", "model_path", "tidy_frame"]
