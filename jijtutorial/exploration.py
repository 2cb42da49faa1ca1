"""First looks at a pair data set: J against distance, element-pair maps, sign statistics."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .elements import IMPURITY_ELEMENTS
from .plotting import J_CMAP, figure
from .units import K_B_MEV


def j_matrix(frame: pd.DataFrame, geometry: str) -> pd.DataFrame:
    """20 x 20 table of J (meV) at one geometry: rows element i, columns element j.

    ``geometry`` is a value of the frame's ``geometry`` column, e.g. 'same Bi layer, 4.38 Å'.
    Missing element pairs are NaN. Raises if the geometry is not in the frame.
    """
    if geometry not in set(frame["geometry"]):
        raise ValueError(f"geometry {geometry!r} not in the data; choose one of {sorted(set(frame['geometry']))}.")
    sub = frame[frame["geometry"] == geometry]
    table = sub.pivot_table(index="element_i", columns="element_j", values="J", aggfunc="mean")
    return table.reindex(index=list(IMPURITY_ELEMENTS), columns=list(IMPURITY_ELEMENTS))


def nearest_geometry(frame: pd.DataFrame) -> str:
    """Geometry label of the shortest pair vector in the frame."""
    return str(frame.loc[frame["distance"].idxmin(), "geometry"])


def sign_summary(frame: pd.DataFrame, threshold: float = 1e-3) -> pd.DataFrame:
    """Count ferromagnetic (J > threshold), antiferromagnetic (J < -threshold) and ~zero pairs per geometry.

    ``threshold`` in meV. Returns one row per geometry, sorted by distance.
    """
    g = frame.assign(sign=np.select([frame["J"] > threshold, frame["J"] < -threshold], ["FM (J > 0)", "AFM (J < 0)"], "|J| ≈ 0"))
    table = g.pivot_table(index="geometry", columns="sign", values="J", aggfunc="size", fill_value=0)
    order = frame.groupby("geometry")["distance"].first().sort_values().index
    return table.reindex(order)


def plot_j_map(frame: pd.DataFrame, geometry: str | None = None, ax=None, vmax: float | None = None):
    """Heat map of :func:`j_matrix` with a symmetric diverging colour scale (meV)."""
    geometry = geometry or nearest_geometry(frame)
    table = j_matrix(frame, geometry)
    if ax is None:
        fig, ax = figure(figsize=(6.8, 5.6))
    else:
        fig = ax.figure
    vmax = vmax or float(np.nanmax(np.abs(table.to_numpy())))
    im = ax.imshow(table.to_numpy(), cmap=J_CMAP, vmin=-vmax, vmax=vmax)
    n = len(IMPURITY_ELEMENTS)
    ax.set_xticks(range(n), IMPURITY_ELEMENTS, rotation=90)
    ax.set_yticks(range(n), IMPURITY_ELEMENTS)
    ax.set_xlabel("impurity j")
    ax.set_ylabel("impurity i")
    ax.grid(False)
    ax.axhline(9.5, color="k", lw=0.6)
    ax.axvline(9.5, color="k", lw=0.6)
    ax.set_title(f"$J_{{ij}}$ at {geometry}")
    fig.colorbar(im, ax=ax, label="J (meV); > 0 ferromagnetic")
    return fig, ax


def plot_j_vs_distance(frame: pd.DataFrame, pairs=(("Cr", "Cr"), ("Mn", "Mn"), ("Fe", "Fe"), ("Cr", "Mn"), ("V", "V")), ax=None):
    """J (meV) against distance (Å) for a few element pairs, one line per pair and sublattice family."""
    if ax is None:
        fig, ax = figure(figsize=(7, 4.2))
    else:
        fig = ax.figure
    for (a, b), color in zip(pairs, mpl_colors()):
        sub = frame[(frame["element_i"] == a) & (frame["element_j"] == b)].sort_values("distance")
        if sub.empty:
            raise ValueError(f"element pair ({a}, {b}) is not in the data.")
        for sublattice, marker, ls in (("same", "o", "-"), ("other", "s", "--")):
            s = sub[sub["sublattice_j"] == sublattice]
            if len(s):
                ax.plot(
                    s["distance"],
                    s["J"],
                    marker=marker,
                    ls=ls,
                    color=color,
                    label=f"{a}–{b}, {'same' if sublattice == 'same' else 'other'} Bi sublattice",
                )
    ax.axhline(0, color="k", lw=0.8)
    ax.set_xlabel("distance $|\\mathbf{r}_{ij}|$ (Å)")
    ax.set_ylabel("$J_{ij}$ (meV)")
    ax.set_title("Exchange against distance")
    ax.legend(fontsize=8, ncol=2)
    return fig, ax


def mpl_colors():
    import matplotlib as mpl

    return mpl.rcParams["axes.prop_cycle"].by_key()["color"]


def coordination_number(vector) -> int:
    """Number of Bi sites equivalent to the one at ``vector`` (Å) from impurity i.

    Counts the Bi sites at the same distance and in the same Bi layer relative to i (the
    geometry label of :func:`jijtutorial.geometry.locate_bi_site`), e.g. 6 in-plane nearest
    neighbours at 4.38 Å, 1 site straight across the van der Waals gap at 6.10 Å.
    """
    from .geometry import bi_pair_vectors, locate_bi_site

    site = locate_bi_site(vector)
    candidates = bi_pair_vectors(site.distance + 0.01, site.sublattice)
    same_length = candidates[np.abs(np.linalg.norm(candidates, axis=1) - site.distance) < 0.01]
    return int(sum(locate_bi_site(v).layer == site.layer for v in same_length))


def mean_field_curie_temperature(frame: pd.DataFrame, element: str, concentration: float) -> dict:
    """Mean-field Curie temperature (K) of ``element`` spread at random over Bi sites.

    Classical unit spins with H = -sum_<ij> J_ij S_i.S_j (pairs once) give k_B T_C = J_0 / 3 with
    J_0 = x * sum over Bi sites r of J(r) and ``x`` = ``concentration`` the fraction of Bi sites
    occupied. The sum runs over every Bi site within the farthest distance in the data, the table
    expanded by the crystal's symmetry (:func:`jijtutorial.spins.exchange_table`); sites at
    geometries the data never computed count as zero and are listed.

    Returns {'T_C (K)' (max(J_0, 0) / 3 k_B: 0 when J_0 ≤ 0, where mean field favours no
    ferromagnet), 'J_0 (meV)' (signed), 'contributions' (per geometry: J (meV), sites, z*J (meV)),
    'missing' (geometries taken as zero: distance in Å and number of sites)}. For one species this is
    :func:`jijtutorial.spins.mean_field_tc`, with the same convention for J_0 ≤ 0.
    """
    from .spins import exchange_table

    if not 0 < concentration <= 1:
        raise ValueError(f"concentration must be a fraction of Bi sites in (0, 1], not {concentration!r}.")
    sub = frame[(frame["element_i"] == element) & (frame["element_j"] == element)]
    if sub.empty:
        raise ValueError(f"no {element}-{element} pairs in the data.")
    table = exchange_table(frame, [element], cutoff=float(sub["distance"].max()) + 0.01, fill="zero")
    computed = table[~table["source"].astype(str).str.startswith("zero")]
    contributions = (
        computed.groupby("geometry", sort=False)
        .agg(distance=("distance", "first"), J=("J", "mean"), sites=("J", "size"), zJ=("J", "sum"))
        .sort_values("distance")
        .reset_index()
        .rename(columns={"J": "J (meV)", "zJ": "z*J (meV)", "distance": "distance (Å)"})
    )
    missing = (
        table[table["source"].astype(str).str.startswith("zero")]
        .groupby("geometry", sort=False)
        .agg(distance=("distance", "first"), sites=("J", "size"))
        .sort_values("distance")
        .reset_index()
        .rename(columns={"distance": "distance (Å)"})
    )
    j0 = concentration * float(table["J"].sum())
    return {"T_C (K)": max(j0, 0.0) / 3 / K_B_MEV, "J_0 (meV)": j0, "contributions": contributions, "missing": missing}


def coverage(frame: pd.DataFrame) -> pd.DataFrame:
    """How the database was designed: number of computed ordered pairs per geometry and element i.

    Rows are geometries sorted by distance, columns the impurity elements; a cell counts the rows
    with that element on site i at that geometry (20 when all partners j were computed).
    """
    table = frame.pivot_table(index="geometry", columns="element_i", values="J", aggfunc="size", fill_value=0)
    order = frame.groupby("geometry")["distance"].first().sort_values().index
    cols = [e for e in IMPURITY_ELEMENTS if e in table.columns]
    return table.reindex(index=order, columns=cols, fill_value=0)


def compare_datasets(reference: pd.DataFrame, other: pd.DataFrame, *, suffixes=("_ref", "_other")) -> pd.DataFrame:
    """Pairs present in both data sets, matched on (element_i, element_j, geometry).

    Returns one row per match with ``J`` of both (meV) and the distance; raises if nothing matches.
    Symmetry-equivalent vectors share a geometry label, so a model computed on another member
    of the same star of vectors still matches.
    """
    key = ["element_i", "element_j", "geometry"]
    a = reference.groupby(key, as_index=False).agg(J=("J", "mean"), distance=("distance", "first"))
    b = other.groupby(key, as_index=False).agg(J=("J", "mean"))
    merged = a.merge(b, on=key, suffixes=suffixes)
    if merged.empty:
        raise ValueError("the two data sets share no (element_i, element_j, geometry); nothing to compare.")
    return merged.sort_values(["distance", "element_i", "element_j"]).reset_index(drop=True)


def agreement_by_geometry(matched: pd.DataFrame, ref: str = "J_ref", other: str = "J_other") -> pd.DataFrame:
    """Per geometry: pairs, Pearson correlation, MAE (meV) and the fraction of equal signs of J.

    Pairs where either |J| < 0.01 meV are left out of the sign agreement (the sign of a zero is noise).
    """
    rows = []
    for geometry, g in matched.groupby("geometry", sort=False):
        x, y = g[ref].to_numpy(), g[other].to_numpy()
        signed = (np.abs(x) > 0.01) & (np.abs(y) > 0.01)
        corr = float(np.corrcoef(x, y)[0, 1]) if len(g) > 2 and x.std() > 0 and y.std() > 0 else np.nan
        rows.append(
            {
                "geometry": geometry,
                "pairs": len(g),
                "Pearson r": corr,
                "MAE (meV)": float(np.mean(np.abs(x - y))),
                "same sign": float(np.mean(np.sign(x[signed]) == np.sign(y[signed]))) if signed.any() else np.nan,
            }
        )
    return pd.DataFrame(rows)


__all__ = [
    "agreement_by_geometry",
    "compare_datasets",
    "coordination_number",
    "coverage",
    "j_matrix",
    "mean_field_curie_temperature",
    "nearest_geometry",
    "plot_j_map",
    "plot_j_vs_distance",
    "sign_summary",
]
