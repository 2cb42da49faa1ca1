"""The exchange table the spin model consumes: J and D for every Bi–Bi vector up to a cut-off.

Input: any tidy frame with columns ``element_i, element_j, rx, ry, rz`` (Å, from impurity i on an
*upper* Bi site to impurity j), ``J, Dx, Dy, Dz`` (meV, H = −Σ_{i<j} [J S_i·S_j + D·(S_i × S_j)])
and optionally ``sigma`` (meV, an uncertainty of J) and ``source``. The JuKKR table, the package's
model data set and a predicted table all have that form, and they give one row per *symmetry
class*, not one per vector.

:func:`exchange_table` expands it to every Bi site within the cut-off of an upper-Bi site, for
every ordered pair of the requested elements. A pair (A on an upper site, B at r) takes its J and D
from any table row that the crystal's symmetry maps onto it:

* a rotation Q of the site symmetry C3v of the upper Bi site: J(A, B, r) = J(A, B, Q r) and
  D = det(Q) Qᵀ D(A, B, Q r) (D is an axial vector);
* the same pair seen from B: J(A, B, r) = J(B, A, r') and D(A, B, r) = −D(B, A, r'), with r' the
  image of −r under the site symmetry of B's sublattice (for B on a lower-Bi site, the rotations
  that carry lower onto upper Bi: inversion, S6 and the two-fold axes).

Every (row, operation) that matches is averaged. This symmetrises the table: components of D
that the crystal's symmetry forbids average out (Moriya's rules), and symmetry-equivalent pairs
the table holds twice (e.g. J(A, B) and J(B, A) across the gap, equal up to about 1e-3 meV in the
JuKKR table) are averaged; ``n_rows`` and ``J_spread`` record how many distinct rows were used and
how far apart their J are. A vector no row maps onto is *missing*: the
function raises, listing the missing shells, unless ``fill`` says how to fill them ('engine': the
package's crystal engine of :mod:`jijtutorial.greens.engine`, any Bi–Bi vector; 'predicted': the
machine-learned filled table of chapter 7, J with its σ in ``sigma`` and D from the equivariant model
of D -- its σ per component is in the filled table, :func:`jijtutorial.jij_table.predict_jij_table`;
'zero': explicitly zero). Filled entries are marked in ``source`` and listed in ``attrs['missing']``.

The model builder (:func:`jijtutorial.spins.spin_model`) uses the table for dopants on upper Bi
sites, and for a dopant i on a lower Bi site the inverted vector: inversion maps the lower onto the
upper sublattice, so J(A, B, r)_lower = J(A, B, −r)_upper and D is unchanged (axial).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from ..elements import IMPURITY_ELEMENTS
from ..geometry import bi_pair_vectors, locate_bi_site, site_operations

#: Columns the input table must have.
REQUIRED_COLUMNS = ("element_i", "element_j", "rx", "ry", "rz", "J", "Dx", "Dy", "Dz")
#: Columns of the expanded table.
TABLE_COLUMNS = (
    "element_i",
    "element_j",
    "rx",
    "ry",
    "rz",
    "distance",
    "sublattice_j",
    "geometry",
    "J",
    "Dx",
    "Dy",
    "Dz",
    "sigma",
    "source",
    "n_rows",
    "J_spread",
)
#: Ways to fill vectors the table does not cover.
FILL_OPTIONS = ("predicted", "engine", "engine-ml", "zero")
#: Label of explicitly zero-filled entries in ``source``.
ZERO_SOURCE = "zero (missing)"
ENGINE_SOURCE = "engine"
#: Label of entries filled by the machine-learned table (:func:`jijtutorial.jij_table.predict_jij_table`).
PREDICTED_SOURCE = "predicted"
#: Label of predicted entries beyond the data: an element whose periodic-table row has no element in the data
#: (PairGP's ``beyond_data``: the mean coupling with σ the spread of the couplings, not an estimate of this pair).
PREDICTED_BEYOND_SOURCE = "predicted (beyond data)"
#: Label of entries filled by the learned model with the crystal engine as its prior (fill 'engine-ml',
#: :class:`jijtutorial.prior_model.EnginePriorGP`).
ENGINE_ML_SOURCE = "engine+ML"

_MATCH_TOL = 0.02  # Å


def _source_label(data: pd.DataFrame) -> str:
    name = data.attrs.get("name", "")
    return {"jukkr": "JuKKR", "model": "model data"}.get(name, name or "table")


def load_table(data) -> pd.DataFrame:
    """``data`` as a frame: a DataFrame is returned as is; 'jukkr', 'model' or 'auto' are loaded."""
    if isinstance(data, pd.DataFrame):
        return data
    if isinstance(data, str):
        from ..datasets import load_dataset

        return load_dataset(data)
    raise TypeError(
        f"data must be a pandas DataFrame of pair couplings or one of 'jukkr', 'model', 'auto'; got {type(data).__name__}."
    )


def _check_input(data: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in REQUIRED_COLUMNS if c not in data.columns]
    if missing:
        raise ValueError(
            f"data: column(s) {missing} missing; a J table needs {list(REQUIRED_COLUMNS)} "
            f"(vectors in Å from impurity i on an upper Bi site, J and D in meV)."
        )
    if len(data) == 0:
        raise ValueError("data: the J table has no rows.")
    out = data.reset_index(drop=True)
    for col in ("rx", "ry", "rz", "J", "Dx", "Dy", "Dz") + (("sigma",) if "sigma" in out.columns else ()):
        values = pd.to_numeric(out[col], errors="coerce").to_numpy(float)
        bad = ~np.isfinite(values)
        if bad.any():
            k = int(np.flatnonzero(bad)[0])
            raise ValueError(f"data: {_row_name(data, k)}, column {col!r}: {out[col].iloc[k]!r} is not a finite number.")
    for col in ("element_i", "element_j"):
        # a row whose element matches no dopant would silently drop out of the expansion, and the coupling it
        # gave would be filled (e.g. with zero) as if it had never been computed
        values = out[col].to_numpy(object)
        bad = np.array([not (isinstance(v, str) and v in IMPURITY_ELEMENTS) for v in values])
        if bad.any():
            k = int(np.flatnonzero(bad)[0])
            v = values[k]
            hint = next((e for e in IMPURITY_ELEMENTS if isinstance(v, str) and e.lower() == v.strip().lower()), None)
            raise ValueError(
                f"data: {_row_name(data, k)}, column {col!r}: {v!r} is not an impurity element"
                + (f" (did you mean {hint!r}?)" if hint else "")
                + f"; expected one of {', '.join(IMPURITY_ELEMENTS)} ({int(bad.sum())} such row(s)). "
                f"Fix the table: no row is dropped."
            )
    return out


def _row_name(data: pd.DataFrame, k: int) -> str:
    """'row k' (position in the table), with the index label when it differs."""
    label = data.index[k]
    return f"row {k}" + (f" (index {label!r})" if label != k else "")


def _check_elements(elements) -> tuple[str, ...]:
    if isinstance(elements, str):
        elements = [e.strip() for e in elements.replace("+", ",").split(",") if e.strip()]
    try:
        elems = tuple(dict.fromkeys(str(e) for e in elements))
    except TypeError:
        raise ValueError(f"elements must be a list of chemical symbols, e.g. ['Cr', 'V']; got {elements!r}.") from None
    if not elems:
        raise ValueError("elements is empty: name at least one dopant, e.g. ['Cr'].")
    return elems


def _check_fill(fill) -> tuple[str, ...]:
    if fill is None:
        return ()
    if isinstance(fill, str):
        fill = [f.strip() for f in fill.replace("+", ",").split(",") if f.strip()]
    fill = tuple(fill)
    bad = [f for f in fill if f not in FILL_OPTIONS]
    if bad:
        raise ValueError(
            f"fill: unknown option(s) {bad}; use a sequence of {FILL_OPTIONS} (tried in order), or () "
            f"to raise on missing vectors."
        )
    return fill


def _snap(data: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Exact Bi-site vectors (unique, (m, 3)) and each row's index into them."""
    raw = data[["rx", "ry", "rz"]].to_numpy(float)
    key = np.round(raw, 4)
    _, first, inverse = np.unique(key, axis=0, return_index=True, return_inverse=True)
    sites = np.array([locate_bi_site(raw[k], where=f"data, row {k}").position for k in first])
    return sites, np.asarray(inverse).reshape(-1)


def _target_vectors(cutoff: float) -> tuple[np.ndarray, np.ndarray]:
    same = bi_pair_vectors(cutoff, "same")
    other = bi_pair_vectors(cutoff, "other")
    vec = np.vstack([same, other])
    sub = np.array(["same"] * len(same) + ["other"] * len(other))
    keep = np.linalg.norm(vec, axis=1) <= cutoff + 1e-9
    vec, sub = vec[keep], sub[keep]
    order = np.lexsort((vec[:, 2], vec[:, 1], vec[:, 0], np.round(np.linalg.norm(vec, axis=1), 4)))
    return vec[order], sub[order]


def _symmetry_matches(targets, target_sub, sites) -> list[list[tuple[int, np.ndarray, bool]]]:
    """For each target vector: (site index, rotation Q, swapped) of every table vector it maps onto."""
    ops_upper, ops_lower = site_operations()
    tree = cKDTree(sites)
    out = []
    for v, s in zip(targets, target_sub):
        found = []
        for swapped, ops, w in ((False, ops_upper, v), (True, ops_upper if s == "same" else ops_lower, -v)):
            images = np.einsum("gab,b->ga", ops, w)
            dist, idx = tree.query(images, distance_upper_bound=_MATCH_TOL)
            for q, (d, k) in enumerate(zip(dist, idx)):
                if np.isfinite(d):  # every operation counts: averaging over them symmetrises D
                    found.append((int(k), ops[q], swapped))
        out.append(found)
    return out


def _expand(data, sites, row_site, targets, target_sub, matches, elements, source_default):
    """Rows of the expanded table; entries no table row maps onto have J = NaN."""
    has_sigma = "sigma" in data.columns
    has_source = "source" in data.columns
    rows_by = defaultdict(list)  # (A, B, site index) -> row numbers
    ei, ej = data["element_i"].astype(str).to_numpy(), data["element_j"].astype(str).to_numpy()
    for r, (a, b, k) in enumerate(zip(ei, ej, row_site)):
        rows_by[(a, b, int(k))].append(r)
    J = data["J"].to_numpy(float)
    D = data[["Dx", "Dy", "Dz"]].to_numpy(float)
    sigma = data["sigma"].to_numpy(float) if has_sigma else None
    source = data["source"].astype(str).to_numpy() if has_source else None
    out = []
    for a in elements:
        for b in elements:
            for v, s, found in zip(targets, target_sub, matches):
                js, ds, sg, src, used = [], [], [], [], set()
                for k, q, swapped in found:
                    key = (b, a, k) if swapped else (a, b, k)
                    for r in rows_by.get(key, ()):
                        used.add(r)
                        d = np.linalg.det(q) * (q.T @ D[r])  # axial: det(R) R D with R = q^T
                        js.append(J[r])
                        ds.append(-d if swapped else d)
                        if has_sigma:
                            sg.append(sigma[r])
                        src.append(source[r] if has_source else source_default)
                row = {"element_i": a, "element_j": b, "rx": v[0], "ry": v[1], "rz": v[2], "sublattice_j": s}
                if js:
                    dm = np.mean(ds, axis=0)
                    row.update(
                        J=float(np.mean(js)),
                        Dx=dm[0],
                        Dy=dm[1],
                        Dz=dm[2],
                        sigma=float(np.mean(sg)) if sg else np.nan,
                        source="+".join(dict.fromkeys(src)),
                        n_rows=len(used),
                        J_spread=float(np.ptp(js)),
                    )
                else:
                    row.update(J=np.nan, Dx=np.nan, Dy=np.nan, Dz=np.nan, sigma=np.nan, source="", n_rows=0, J_spread=np.nan)
                out.append(row)
    return out


def _engine_rows(missing: pd.DataFrame, kmesh: int, progress: bool) -> pd.DataFrame:
    """J and D (meV) of missing entries from the package's crystal engine (:mod:`jijtutorial.greens.engine`).

    With the engine's default settings and vectors up to 13.2 Å these are the rows of its cached table
    (:func:`jijtutorial.engine_prior.engine_prior_table`, one representative per geometry; the
    expansion carries them onto the missing vectors by symmetry); otherwise the engine computes them.
    """
    from ..engine_prior import PRIOR_MAX_DISTANCE, engine_prior_table
    from ..greens.engine import CrystalEngine, EngineSettings, exchange_table

    reach = float(np.linalg.norm(missing[["rx", "ry", "rz"]].to_numpy(float), axis=1).max()) if len(missing) else 0.0
    if int(kmesh) == EngineSettings().kmesh and reach <= PRIOR_MAX_DISTANCE + 0.01:
        els = sorted(set(missing["element_i"].astype(str)) | set(missing["element_j"].astype(str)))
        tab = engine_prior_table(elements=els, progress=progress)
        out = tab[["element_i", "element_j", "rx", "ry", "rz", "J", "Dx", "Dy", "Dz"]].copy()
        out["source"] = ENGINE_SOURCE
        return out

    engine = CrystalEngine(EngineSettings(kmesh=kmesh))
    vec = missing[["rx", "ry", "rz"]].to_numpy(float)
    keys = [tuple(np.round(v, 6)) for v in vec]
    unique = list(dict.fromkeys(keys))
    geos = []
    for key in unique:
        site = locate_bi_site(np.array(key))
        geos.append({"vector": np.array(key), "geometry": site.geometry, "sublattice": site.sublattice, "multiplicity": 1})
    index = {k: i for i, k in enumerate(unique)}
    pairs = [(a, b, index[k]) for a, b, k in zip(missing["element_i"], missing["element_j"], keys)]
    table = exchange_table(engine, geometries=geos, pairs=pairs, progress=progress)
    out = table[["element_i", "element_j", "rx", "ry", "rz", "J", "Dx", "Dy", "Dz"]].copy()
    out["source"] = ENGINE_SOURCE
    return out


def _predicted_rows(missing: pd.DataFrame, data: pd.DataFrame, model, prior: bool = False) -> pd.DataFrame:
    """J ± σ and D (meV) of missing entries from the filled table's models fitted on ``data`` (or the given ``model``).

    ``prior``: the model of J is PairGP with the crystal engine as its prior (fill 'engine-ml').
    D comes from the equivariant model of D; where the data have no D (no model of it) it is 0.
    """
    from ..jij_table import TableModel, _vector_geometries, fit_table_model

    if model is None:
        model = fit_table_model(data, prior=prior)
    elif not isinstance(model, TableModel):
        raise TypeError(
            f"table_model must be the TableModel of jijtutorial.jij_table.fit_table_model, not {type(model).__name__}."
        )
    geos = _vector_geometries(missing[["rx", "ry", "rz"]].to_numpy(float))
    query = pd.concat([missing[["element_i", "element_j"]].reset_index(drop=True), geos], axis=1)
    mu, sd, beyond = model.j.predict(query, return_std=True, return_beyond=True)
    d = np.zeros((len(query), 3)) if model.d is None else model.d.predict(query)
    label, label_beyond = (
        (ENGINE_ML_SOURCE, ENGINE_ML_SOURCE + " (beyond data)") if prior else (PREDICTED_SOURCE, PREDICTED_BEYOND_SOURCE)
    )
    return pd.DataFrame(
        {
            "element_i": query["element_i"],
            "element_j": query["element_j"],
            "rx": query["rx"],
            "ry": query["ry"],
            "rz": query["rz"],
            "J": np.asarray(mu, float),
            "Dx": d[:, 0],
            "Dy": d[:, 1],
            "Dz": d[:, 2],
            "sigma": np.asarray(sd, float),
            "source": np.where(beyond, label_beyond, label),
        }
    )


def _geometry_labels(vectors) -> tuple[list[str], np.ndarray]:
    labels, dist = [], []
    for v in vectors:
        s = locate_bi_site(v)
        labels.append(s.geometry)
        dist.append(s.distance)
    return labels, np.array(dist)


def _missing_summary(frame: pd.DataFrame, mask) -> pd.DataFrame:
    sub = frame.loc[mask]
    if sub.empty:
        return pd.DataFrame(columns=["element_i", "element_j", "geometry", "distance", "vectors"])
    return (
        sub.groupby(["element_i", "element_j", "geometry"], sort=False)
        .agg(distance=("distance", "first"), vectors=("J", "size"))
        .reset_index()
    )


def exchange_table(
    data, elements, cutoff: float, *, fill=(), engine_kmesh: int = 12, table_model=None, progress: bool = False
) -> pd.DataFrame:
    """J and D for every Bi–Bi vector within ``cutoff`` of an upper-Bi site, for each ordered element pair.

    Parameters
    ----------
    data : tidy frame (columns :data:`REQUIRED_COLUMNS`, optional ``sigma`` and ``source``) or one
        of 'jukkr', 'model', 'auto' (loaded with :func:`jijtutorial.datasets.load_dataset`).
    elements : the dopant species, e.g. ``['Cr', 'V']`` (or 'Cr,V').
    cutoff : largest pair distance (Å) with a coupling; beyond it J = D = 0 by construction.
    fill : how to fill vectors the table does not cover, tried in order: 'predicted' (the models of the
        filled table of chapter 7, fitted on ``data``: J with its σ in ``sigma``, D from the equivariant
        model of D),
        'engine' (the package's crystal engine, both Bi sublattices), 'engine-ml' (as 'predicted', with
        PairGP given the engine as a prior, :class:`jijtutorial.prior_model.EnginePriorGP`; ``source``
        'engine+ML') and/or 'zero' (explicitly zero). Default (): raise, listing what is missing.
    engine_kmesh : k-points per axis of the engine's host Green function.
    table_model : the models of the filled table (:func:`jijtutorial.jij_table.fit_table_model`) for
        'predicted' (or fitted with ``prior=True`` for 'engine-ml'), to reuse across calls; default: fitted
        on ``data``, or read back from the cache folder where a call before fitted them on the same data.
    progress : tqdm bar over element pairs for the engine.

    Returns
    -------
    DataFrame, one row per (element_i, element_j, vector) with the columns of :data:`TABLE_COLUMNS`
    (vectors in Å from an upper-Bi site, J, D, sigma in meV). ``attrs``: 'cutoff', 'elements',
    'fill', 'data' (the input's name), 'missing' (entries filled: element pair, geometry, distance,
    number of vectors and how they were filled), 'moments' (mean |moment_i| per element in μB, if
    the input has that column; the spin dynamics uses them), 'convention'.
    """
    data = _check_input(load_table(data))
    elements = _check_elements(elements)
    fill = _check_fill(fill)
    try:
        cutoff = float(cutoff)
    except (TypeError, ValueError):
        raise ValueError(f"cutoff must be a distance in Å, not {cutoff!r}.") from None
    if not (np.isfinite(cutoff) and cutoff >= 4.38):
        raise ValueError(f"cutoff must be a distance in Å of at least the nearest Bi–Bi distance (4.38 Å); got {cutoff!r}.")
    present = set(data["element_i"].astype(str)) | set(data["element_j"].astype(str))
    absent = [e for e in elements if e not in present]
    if absent and not {"engine", "predicted", "engine-ml"} & set(fill):
        raise ValueError(
            f"elements: no J data for {absent} in this table (it has {', '.join(sorted(present))}). Use a table that "
            f"covers them, fill='predicted' to predict them with the machine-learned model, or fill='engine' to "
            f"compute them with the package's Green-function engine."
        )
    if absent and {"predicted", "engine-ml"} & set(fill):
        from ..jij_table import check_elements

        check_elements(absent)  # raises for an element the model does not know
    elif absent:
        from ..greens import resonant_parameters

        for e in absent:
            resonant_parameters(e)  # raises for an element the engine does not know
    ours = data[data["element_i"].isin(elements) & data["element_j"].isin(elements)]
    reach = float(np.linalg.norm(ours[["rx", "ry", "rz"]].to_numpy(float), axis=1).max()) if len(ours) else 0.0
    targets, target_sub = _target_vectors(cutoff)
    beyond = np.linalg.norm(targets, axis=1) > reach + 0.01
    if beyond.any() and not {"engine", "predicted", "engine-ml"} & set(fill):
        raise ValueError(
            f"cutoff={cutoff:g} Å is beyond the table: its farthest pair among {', '.join(elements)} is at {reach:.2f} Å, "
            f"and {int(beyond.sum())} Bi sites lie between that and the cut-off. Choose cutoff < "
            f"{np.linalg.norm(targets[beyond], axis=1).min():.2f} Å, or fill='predicted' (the machine-learned table) or "
            f"fill='engine' (the package's engine) for farther couplings."
        )
    label = _source_label(data)
    sites, row_site = _snap(data)
    matches = _symmetry_matches(targets, target_sub, sites)
    frame = pd.DataFrame(_expand(data, sites, row_site, targets, target_sub, matches, elements, label))
    geometry, distance = _geometry_labels(targets)
    n_el = len(elements) ** 2
    frame["geometry"] = geometry * n_el
    frame["distance"] = np.tile(distance, n_el)
    filled = []
    for how in fill:
        miss = frame["J"].isna()
        if not miss.any():
            break
        if how in ("engine", "predicted", "engine-ml"):
            todo = frame.loc[miss]
            if todo.empty:
                continue
            reps = _engine_representatives(todo, targets, target_sub, matches)
            if how == "engine":
                extra, label_fill = _engine_rows(reps, engine_kmesh, progress), ENGINE_SOURCE
            elif how == "engine-ml":  # a table_model whose J model has the prior (weights_) is reused; else one is fitted
                model = table_model if hasattr(getattr(table_model, "j", None), "weights_") else None
                extra, label_fill = _predicted_rows(reps, data, model, prior=True), ENGINE_ML_SOURCE
            else:
                extra, label_fill = _predicted_rows(reps, data, table_model), PREDICTED_SOURCE
            e_sites, e_row_site = _snap(extra)
            e_matches = _symmetry_matches(targets, target_sub, e_sites)
            add = pd.DataFrame(_expand(extra, e_sites, e_row_site, targets, target_sub, e_matches, elements, label_fill))
            take = miss.to_numpy() & add["J"].notna().to_numpy()
            for col in ("J", "Dx", "Dy", "Dz", "sigma", "source", "n_rows", "J_spread"):
                frame.loc[take, col] = add.loc[take, col].to_numpy()
            filled.append(_missing_summary(frame, take).assign(filled_with=label_fill))
        elif how == "zero":
            frame.loc[miss, ["J", "Dx", "Dy", "Dz"]] = 0.0
            frame.loc[miss, "source"] = ZERO_SOURCE
            filled.append(_missing_summary(frame, miss).assign(filled_with="zero"))
    still = frame["J"].isna()
    if still.any():
        summary = _missing_summary(frame, still)
        lines = "\n".join(f"  {r.element_i}-{r.element_j}: {r.geometry} ({r.vectors} vectors)" for r in summary.itertuples())
        raise ValueError(
            f"the table does not cover {int(still.sum())} pair vectors within cutoff={cutoff:g} Å:\n{lines}\n"
            f"Pass fill='predicted' to fill them from the machine-learned table (J ± σ and D), fill='zero' "
            f"to set them to zero explicitly, fill='engine' (the crystal engine) or fill=('engine', 'zero'), "
            f"or use a smaller cutoff."
        )
    frame["n_rows"] = frame["n_rows"].astype(int)
    frame = frame[list(TABLE_COLUMNS)]
    moments = {}
    if "moment_i" in data.columns:
        mom = data.groupby(data["element_i"].astype(str))["moment_i"].mean()
        moments = {e: abs(float(mom[e])) for e in elements if e in mom.index}
    frame.attrs.update(
        {
            "cutoff": cutoff,
            "elements": elements,
            "fill": fill,
            "data": data.attrs.get("name", label),
            "moments": moments,
            "missing": (
                pd.concat(filled, ignore_index=True)
                if filled
                else pd.DataFrame(columns=["element_i", "element_j", "geometry", "distance", "vectors", "filled_with"])
            ),
            "convention": (
                "H = -sum_{i<j} [J_ij S_i.S_j + D_ij.(S_i x S_j)], unit spins, meV; vectors (Å) from "
                "impurity i on an upper Bi site; for i on a lower Bi site use the inverted vector."
            ),
        }
    )
    return frame


def _engine_representatives(todo, targets, target_sub, matches) -> pd.DataFrame:
    """One missing entry per symmetry class (the engine computes it once; the rest follow by symmetry)."""
    index = {tuple(np.round(v, 4)): n for n, v in enumerate(targets)}
    chosen: list[tuple[str, str, int]] = []
    covered: set[tuple[str, str, int]] = set()
    by_vector: dict[int, list[list[bool]]] = {}
    for r in todo.itertuples():
        n = index[tuple(np.round([r.rx, r.ry, r.rz], 4))]
        key = (r.element_i, r.element_j, n)
        if key in covered:
            continue
        chosen.append(key)
        # every target that maps onto this vector (directly, or swapped) is covered by it
        if n not in by_vector:  # the same for every element pair: computed once per vector
            by_vector[n] = matches_by_vector(targets[n], targets, target_sub)
        for m, found in enumerate(by_vector[n]):
            for swapped in found:
                covered.add((r.element_j, r.element_i, m) if swapped else (r.element_i, r.element_j, m))
    rows = [{"element_i": a, "element_j": b, "rx": targets[n][0], "ry": targets[n][1], "rz": targets[n][2]} for a, b, n in chosen]
    return pd.DataFrame(rows)


def matches_by_vector(v, targets, target_sub) -> list[list[bool]]:
    """For each target vector: whether it maps onto ``v`` directly (False) and/or swapped (True)."""
    found = _symmetry_matches(targets, target_sub, np.asarray(v, float)[None, :])
    return [sorted({swapped for _, _, swapped in f}) for f in found]


def symmetry_residuals(data, table: pd.DataFrame) -> pd.DataFrame:
    """How far the input rows are from the symmetrised table, per geometry.

    For each row of ``data`` whose elements and vector appear in ``table`` (an upper-Bi vector
    within the cut-off): |J_row − J_table| and |D_row − D_table| (meV). Returns per geometry the
    number of rows, the median |D| of the rows, and the median and largest changes. Large |ΔD|
    means the input's D has components the crystal's symmetry forbids (Moriya's rules).
    """
    data = _check_input(load_table(data))
    key = ["element_i", "element_j"]
    t = table.assign(_kx=table["rx"].round(2), _ky=table["ry"].round(2), _kz=table["rz"].round(2))
    sites, row_site = _snap(data)
    d = data.assign(_kx=np.round(sites[row_site, 0], 2), _ky=np.round(sites[row_site, 1], 2), _kz=np.round(sites[row_site, 2], 2))
    m = d.merge(t, on=key + ["_kx", "_ky", "_kz"], suffixes=("_row", ""))
    if m.empty:
        return pd.DataFrame(columns=["geometry", "rows", "|D| median", "|dJ| median", "|dJ| max", "|dD| median", "|dD| max"])
    dD = np.linalg.norm(m[["Dx_row", "Dy_row", "Dz_row"]].to_numpy(float) - m[["Dx", "Dy", "Dz"]].to_numpy(float), axis=1)
    m = m.assign(
        _dJ=(m["J_row"] - m["J"]).abs(), _dD=dD, _D=np.linalg.norm(m[["Dx_row", "Dy_row", "Dz_row"]].to_numpy(float), axis=1)
    )
    out = (
        m.groupby("geometry", sort=False)
        .agg(
            distance=("distance", "first"),
            rows=("_dJ", "size"),
            D_median=("_D", "median"),
            dJ_median=("_dJ", "median"),
            dJ_max=("_dJ", "max"),
            dD_median=("_dD", "median"),
            dD_max=("_dD", "max"),
        )
        .sort_values("distance")
        .reset_index()
    )
    return out.rename(
        columns={
            "D_median": "|D| median",
            "dJ_median": "|dJ| median",
            "dJ_max": "|dJ| max",
            "dD_median": "|dD| median",
            "dD_max": "|dD| max",
        }
    )


def table_elements(table: pd.DataFrame) -> tuple[str, ...]:
    """Elements covered by an expanded table."""
    return tuple(table.attrs.get("elements") or dict.fromkeys(table["element_i"]))


def check_table(table: pd.DataFrame) -> None:
    """Raise unless ``table`` is an expanded exchange table (output of :func:`exchange_table`)."""
    if not isinstance(table, pd.DataFrame):
        raise TypeError(f"table must be the DataFrame returned by exchange_table(), not {type(table).__name__}.")
    missing = [c for c in TABLE_COLUMNS if c not in table.columns]
    if missing or "cutoff" not in table.attrs:
        raise ValueError(
            "table must come from jijtutorial.spins.exchange_table() (columns "
            f"{list(TABLE_COLUMNS)} and attrs['cutoff']); build it from your J data with that function."
        )


def elements_of(spec: Sequence[str] | str) -> tuple[str, ...]:
    """Public helper: parse 'Cr,V' or ['Cr', 'V'] into a tuple of symbols."""
    return _check_elements(spec)
