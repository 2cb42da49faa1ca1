"""The package's own model data set (``jijtutorial/data/model_jij.csv``, computed by :mod:`jijtutorial.model_data`).

The file ships with the package (package data): loading it never runs the Green-function engine,
and this module imports nothing above the tidy-frame schema. ``jijtutorial generate-model-data``
regenerates it there (developers; a few minutes on two cores; the test suite checks it is what the
code writes).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np
import pandas as pd

from ._files import _parse_csv, _read_bytes, _string_frame, _warn_once
from ._schema import CONVENTION, TIDY_COLUMNS, tidy_frame

#: Folder of the data the package generates itself and ships (the model data set): ``jijtutorial/data``.
PACKAGE_DATA_DIR = Path(__file__).resolve().parents[1] / "data"
MODEL_FILENAME = "model_jij.csv"


def model_path(path: str | os.PathLike | None = None) -> Path:
    """Where the model data set is: ``path`` (file or folder), else the file the package ships (:data:`PACKAGE_DATA_DIR`)."""
    if path is not None:
        p = Path(path).expanduser()
        if p.is_dir():
            p = p / MODEL_FILENAME
        if not p.is_file():
            raise FileNotFoundError(
                f"model data set not found at {p}. Generate it with `jijtutorial generate-model-data "
                f"--out {p.parent}` (a few minutes), or pass the path of an existing {MODEL_FILENAME}."
            )
        return p
    shipped = PACKAGE_DATA_DIR / MODEL_FILENAME
    if not shipped.is_file():
        raise FileNotFoundError(
            f"the package's model data set is missing: {shipped} does not exist, though it ships with jijtutorial "
            f"(package data). Reinstall the package (`pip install .`), or generate the data set with `jijtutorial "
            f"generate-model-data --out <folder>` and pass that folder as path."
        )
    return shipped


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
    _refuse_duplicates(raw, p, lines, advice)
    prov_file = p.with_suffix(".provenance.json")
    provenance = {}
    if prov_file.is_file():
        try:
            provenance = json.loads(_read_bytes(prov_file, advice).decode("utf-8"))
        except (ValueError, UnicodeDecodeError) as err:
            raise ValueError(f"{prov_file}: not a valid provenance file ({err}). {advice}") from None
    sha = hashlib.sha256(data).hexdigest()
    recorded = provenance.get("csv_sha256")
    provenance = {
        "path": str(p),
        "sha256": sha,
        **provenance,
        "sha256_matches_provenance": None if recorded is None else sha == recorded,
    }
    if recorded is not None and sha != recorded:
        _warn_once(
            ("model-sha", str(p), sha),
            (
                f"{p} is not the file its provenance ({prov_file.name}) describes: its sha256 is {sha[:16]}..., "
                f"the recorded one {recorded[:16]}...; it has {len(rows)} rows (recorded: {provenance.get('n_rows')}). "
                f"The generation parameters may not describe these numbers. {advice}"
            ),
        )
    attrs = {
        "name": "model",
        "title": "Model exchange couplings of 3d/4d impurity pairs in a Bi2Te3 tight-binding model",
        "description": (
            "Exchange couplings between two substitutional d impurities on Bi sites of an sp3 "
            "Slater-Koster tight-binding model of the topological insulator Bi2Te3 (all five atoms of "
            "the cell, spin-orbit coupling), computed by jijtutorial from host Green functions, the "
            "Dyson equation, the impurities' own Stoner moments and the Liechtenstein force-theorem "
            "formula. A stand-in for the JuKKR data: same schema, same elements, every Bi-Bi geometry "
            "of both sublattices up to 13.2 A, the JuKKR vectors among them."
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


def _refuse_duplicates(raw: pd.DataFrame, p: Path, lines, advice: str) -> None:
    """Raise naming both lines if two rows hold the same pair (elements and vector to 1e-6 Å).

    The generator writes each (element_i, element_j, vector) once, so a second row is an edit: a
    conflicting one (other J, D, ...) leaves the true value unknown, and an exact copy would count the
    pair twice (weighting it double in a fit, leaking it across a train/test split). Both are errors,
    unlike in the JuKKR table, whose published file holds two exact duplicates that are removed.
    """
    try:
        vec = raw[["rx", "ry", "rz"]].apply(pd.to_numeric, errors="coerce").to_numpy(float)
    except KeyError:
        return  # tidy_frame names the missing column
    key = pd.DataFrame(
        {
            "a": raw["element_i"].astype(str) if "element_i" in raw else "",
            "b": raw["element_j"].astype(str) if "element_j" in raw else "",
            "x": np.round(vec[:, 0], 6) + 0.0,
            "y": np.round(vec[:, 1], 6) + 0.0,
            "z": np.round(vec[:, 2], 6) + 0.0,
        }
    )
    dup = key.duplicated(keep=False).to_numpy() & np.isfinite(vec).all(axis=1)
    if not dup.any():
        return
    first = key[dup].groupby(list(key.columns), sort=False).ngroup()
    rows = np.flatnonzero(dup)
    k0 = rows[0]
    k1 = rows[1:][first.to_numpy()[1:] == first.to_numpy()[0]][0]
    same = raw.iloc[k0].equals(raw.iloc[k1])
    n = int(key.duplicated().sum())
    what = "repeats it exactly (the pair would count twice)" if same else "gives it other values"
    differ = [c for c in raw.columns if raw[c].iloc[k0] != raw[c].iloc[k1]][:4]
    raise ValueError(
        f"{p}: lines {lines[k0]} and {lines[k1]} hold the same pair ({raw['element_i'].iloc[k0]}-"
        f"{raw['element_j'].iloc[k0]}, vector ({vec[k0, 0]:g}, {vec[k0, 1]:g}, {vec[k0, 2]:g}) Å): line {lines[k1]} "
        f"{what}{' in ' + ', '.join(differ) if differ else ''}; {n} such row(s). Each pair must appear once: "
        f"delete the extra row. {advice}"
    )
