"""The tidy pair table every loader returns: its columns, units, sign convention and validation."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..elements import IMPURITY_ELEMENTS
from ..geometry import bond_class, locate_bi_site

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


CONVENTION = (
    "H = -sum_<ij> J_ij S_i.S_j - sum_<ij> D_ij.(S_i x S_j), each pair once, unit vectors S; "
    "J > 0 favours ferromagnetic alignment. Energies in meV, lengths in Å, moments in μB."
)


def tidy_frame(raw: pd.DataFrame, attrs: dict, *, source: str = "input", lines=None) -> pd.DataFrame:
    """Validate raw pair columns (:data:`RAW_COLUMNS`) and add the derived ones.

    ``raw`` has one row per pair with element symbols, the pair vector in Å, J and D in meV and
    the moments in μB; extra columns are kept after the tidy ones. Every pair vector must land
    on a Bi site (:func:`jijtutorial.geometry.locate_bi_site`); ``geometry`` is the label of its
    bond class (:func:`jijtutorial.geometry.bond_class`). ``source`` names the file in
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
            "geometry": [bond_class(sites[k].position).geometry for k in inverse],
            "D": np.linalg.norm(frame[["Dx", "Dy", "Dz"]].to_numpy(), axis=1),
        }
    )
    for col in derived:
        frame[col] = derived[col].to_numpy()
    extras = [c for c in frame.columns if c not in TIDY_COLUMNS]
    frame = frame[list(TIDY_COLUMNS) + extras]
    frame.attrs.update(attrs)
    return frame


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
    return np.where(
        a <= b,
        np.char.add(np.char.add(a.astype(str), "-"), b.astype(str)),
        np.char.add(np.char.add(b.astype(str), "-"), a.astype(str)),
    )
