"""Data set loaders: one ``load_*()`` per data set, each returning a tidy ``pandas.DataFrame``.

Every frame has one row per impurity pair and the columns of :data:`TIDY_COLUMNS` (plus
source-specific extras). ``frame.attrs`` carries the description, units, sign convention,
licence and provenance of the data.
"""

from __future__ import annotations

import hashlib
import json
import os
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


def jukkr_available(path: str | os.PathLike | None = None) -> bool:
    """True if :func:`load_jukkr` can find the table."""
    try:
        jukkr_path(path)
    except FileNotFoundError:
        return False
    return True


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _check_numeric(raw: pd.DataFrame, columns, path: Path, row_offset: int = 2) -> None:
    """Raise naming file, row (1-based line in the file) and column of a non-numeric or NaN value."""
    for col in columns:
        values = pd.to_numeric(raw[col], errors="coerce")
        bad = values.isna() | ~np.isfinite(values.to_numpy(dtype=float, na_value=np.nan))
        if bad.any():
            k = int(np.flatnonzero(bad.to_numpy())[0])
            raise ValueError(
                f"{path}: line {k + row_offset}, column {col!r}: value {raw[col].iloc[k]!r} is not a finite "
                f"number ({int(bad.sum())} such value(s) in that column). Fix or re-download the file; "
                f"rows are never dropped silently."
            )
        raw[col] = values


def load_jukkr(path: str | os.PathLike | None = None, *, drop_duplicates: bool = True) -> pd.DataFrame:
    """Load the JuKKR J_ij table of 3d/4d impurity pairs in Bi2Te3 as a tidy frame.

    Parameters
    ----------
    path : file or folder holding ``jukkr_bi2te3_jij_dimers.csv``; default ``$JIJTUTORIAL_DATA_DIR``.
    drop_duplicates : remove exact duplicates (same Z_i, Z_j and pair vector); their number is
        recorded in ``frame.attrs['provenance']['duplicates_removed']``.

    Returns
    -------
    DataFrame with the columns of :data:`TIDY_COLUMNS` plus ``uuid`` (AiiDA node of the J_ij
    output), 1728 rows for the published table. ``frame.attrs`` holds the description.
    """
    p = jukkr_path(path)
    try:
        raw = pd.read_csv(p, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, UnicodeDecodeError) as err:
        raise ValueError(f"{p}: not a readable CSV table ({err}). Re-download the file.") from err
    missing = [c for c in JUKKR_COLUMNS if c not in raw.columns]
    if missing:
        raise ValueError(
            f"{p}: column(s) {missing} missing (found {list(raw.columns)}). The loader expects the "
            f"24 columns of the Materials Cloud table (doi:{JUKKR_DOI}); was the file edited or renamed?"
        )
    if len(raw) == 0:
        raise ValueError(f"{p}: the table has a header but no rows. Re-download the file.")
    raw = raw.replace({"": np.nan, "nan": np.nan, "NaN": np.nan})
    _check_numeric(raw, _JUKKR_NUMERIC, p)
    for col in ("Z_i", "Z_j"):
        for k, z in enumerate(raw[col]):
            if z != int(z) or int(z) not in IMPURITY_Z:
                raise ValueError(
                    f"{p}: line {k + 2}, column {col!r}: unknown element Z={z}. The table holds only "
                    f"Sc-Zn (21-30) and Y-Cd (39-48); fix or re-download the file."
                )
    if not (np.array_equal(raw["Z_i"], raw["imp0"]) and np.array_equal(raw["Z_j"], raw["imp1"])):
        k = int(np.flatnonzero((raw["Z_i"] != raw["imp0"]) | (raw["Z_j"] != raw["imp1"]))[0])
        raise ValueError(f"{p}: line {k + 2}: Z_i/Z_j disagree with imp0/imp1; the file is inconsistent.")

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
    n_raw = len(frame)
    n_dup = 0
    if drop_duplicates:
        key = pd.DataFrame(
            {"Z_i": raw["Z_i"], "Z_j": raw["Z_j"], "rx": raw["rx"].round(8), "ry": raw["ry"].round(8), "rz": raw["rz"].round(8)}
        )
        dup = key.duplicated(keep="first").to_numpy()
        n_dup = int(dup.sum())
        frame = frame.loc[~dup].reset_index(drop=True)
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
        "provenance": {
            "path": str(p),
            "sha256": _sha256(p),
            "sha256_matches_published": _sha256(p) == JUKKR_SHA256,
            "rows_in_file": n_raw,
            "duplicates_removed": n_dup,
        },
    }
    return tidy_frame(frame, attrs, source=str(p))


def tidy_frame(raw: pd.DataFrame, attrs: dict, *, source: str = "input") -> pd.DataFrame:
    """Validate raw pair columns (:data:`RAW_COLUMNS`) and add the derived ones.

    ``raw`` has one row per pair with element symbols, the pair vector in Å, J and D in meV and
    the moments in μB; extra columns are kept after the tidy ones. Every pair vector must land
    on a Bi site (:func:`jijtutorial.structures.locate_bi_site`). ``source`` names the file in
    error messages.
    """
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
                f"{source}: row {k}, column {col!r}: {frame[col].iloc[k]!r} is not a finite number. "
                f"Fix the input; rows are never dropped silently."
            )
        frame[col] = values
    for col in ("element_i", "element_j"):
        unknown = ~frame[col].isin(IMPURITY_ELEMENTS)
        if unknown.any():
            k = int(np.flatnonzero(unknown.to_numpy())[0])
            raise ValueError(
                f"{source}: row {k}, column {col!r}: unknown element {frame[col].iloc[k]!r}; "
                f"expected one of {', '.join(IMPURITY_ELEMENTS)}."
            )
    vectors = frame[["rx", "ry", "rz"]].to_numpy()
    unique, inverse = np.unique(np.round(vectors, 6), axis=0, return_inverse=True)
    sites = []
    for u in unique:
        rows = np.flatnonzero(np.all(np.round(vectors, 6) == u, axis=1))
        sites.append(locate_bi_site(u, where=f"{source}, row {rows[0]}"))
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
    written next to the CSV by ``jijtutorial generate-model-data``).
    """
    p = model_path(path)
    raw = pd.read_csv(p)
    prov_file = p.with_suffix(".provenance.json")
    provenance = json.loads(prov_file.read_text()) if prov_file.is_file() else {}
    provenance = {"path": str(p), "sha256": _sha256(p), **provenance}
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
        "provenance": provenance,
    }
    return tidy_frame(raw, attrs, source=str(p))


def load_dataset(name: str, path: str | os.PathLike | None = None) -> pd.DataFrame:
    """Load a data set by name: ``'jukkr'``, ``'model'``, or ``'auto'`` (JuKKR if available, else model)."""
    if name == "jukkr":
        return load_jukkr(path)
    if name == "model":
        return load_model(path)
    if name == "auto":
        if jukkr_available(path):
            return load_jukkr(path)
        try:
            return load_model()
        except FileNotFoundError as err:
            raise FileNotFoundError(
                f"no data set: the JuKKR table is not available (download {JUKKR_FILENAME} from Materials Cloud, "
                f"doi:{JUKKR_DOI}, and set {DATA_DIR_VARIABLE}) and the model data set could not be loaded ({err}); "
                f"generate it with `jijtutorial generate-model-data`"
            ) from None
    raise ValueError(f"unknown data set {name!r}: use 'jukkr', 'model' or 'auto'.")


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
