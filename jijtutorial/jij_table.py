"""The filled table: J and D with σ for every ordered element pair on every Bi–Bi geometry.

A spin model of a doped crystal needs J and D for every pair of dopants at every distance up to a
cut-off, most of which no calculation ever gave. :func:`predict_jij_table` fills the table: where the
data set has the pair at that geometry, its own J and D (``source`` ``'JuKKR'``, or ``'engine'`` for
the package's model data set); everywhere else the predictions of :class:`jijtutorial.kernels.PairGP`
(J) and :class:`jijtutorial.kernels.EquivariantDGP` (D, equivariant under the crystal's symmetry) with
their calibrated σ (``source`` ``'predicted'``).

Geometry. Impurity i sits on an *upper* Bi site of a quintuple layer (the convention of the data
sets and :mod:`jijtutorial.geometry`); j on any Bi site at vector r. Vectors are grouped into bond
classes (:func:`jijtutorial.geometry.bond_classes`): the vectors the site symmetry of the upper Bi
site (C3v) relates, and on the same sublattice those related by exchanging the two impurities --
the vector from j to i is -r, so J(A, B, r) = J(B, A, -r), and "QL +k" and "QL -k" at one distance
are one class (``layer`` reads "QL ±k"). J is a scalar: PairGP is symmetric in A and B, and one
value serves every vector of a class; ``multiplicity`` counts them (from one site). D is not: it
belongs to the vector ``rx, ry, rz`` of the row -- the class's representative, or the data's own
vector where the data has the pair -- and turns with it onto the other vectors of the class
(:func:`jijtutorial.spins.exchange_table` does that). For i on a *lower* Bi site use the inversion
through the quintuple-layer centre: J(A on lower, B at r) = J(A on upper, B at -r), D unchanged.

Cache. The fitted models (:class:`TableModel`, :func:`fit_table_model`) are stored in the cache folder
(``$JIJTUTORIAL_CACHE_DIR``) under a key of the data's values, the arguments of the fit and the code it
runs, and read back instead of refitted (``cache=False`` turns this off; ``jijtutorial jij-table --no-cache``).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .elements import IMPURITY_ELEMENTS, z_of

#: Longest cut-off (Å) of a filled table. Beyond about 16 Å every coupling is an extrapolation
#: of the fitted decay of J with distance (its σ at least as large as |J|); past 30 Å the table
#: would hold 70 000 rows of numbers below 10⁻⁴ meV.
MAX_TABLE_DISTANCE = 30.0
#: Columns of the table, in order.
COLUMNS = (
    "element_i",
    "element_j",
    "sublattice_j",
    "layer",
    "distance",
    "geometry",
    "rx",
    "ry",
    "rz",
    "multiplicity",
    "J",
    "J_std",
    "J_95",
    "J_model",
    "J_std_model",
    "D",
    "Dx",
    "Dy",
    "Dz",
    "Dx_std",
    "Dy_std",
    "Dz_std",
    "source",
    "beyond_data",
)
#: What the ``source`` column says for the rows of each data set.
SOURCES = {"jukkr": "JuKKR", "model": "engine"}


def _check_distance(max_distance) -> float:
    try:
        d = float(max_distance)
    except (TypeError, ValueError):
        raise ValueError(f"max_distance must be a length in Å, not {max_distance!r}.") from None
    if not np.isfinite(d) or d <= 0:
        raise ValueError(f"max_distance must be a positive length in Å, not {max_distance!r}.")
    if d < 4.38:
        raise ValueError(f"max_distance = {d:g} Å: no Bi site that close (the nearest is 4.38 Å away).")
    if d > MAX_TABLE_DISTANCE:
        raise ValueError(
            f"max_distance = {d:g} Å is beyond the longest cut-off of a filled table, "
            f"MAX_TABLE_DISTANCE = {MAX_TABLE_DISTANCE:g} Å: far beyond the data every J is an "
            "extrapolation of its decay with distance. Choose a shorter cut-off."
        )
    return d


def check_elements(elements) -> list:
    """The symbols of ``elements`` (default: all 20 impurities), each once, or a ValueError naming the argument.

    A symbol given twice is kept once: ``['Cr', 'Cr']`` asks for the Cr–Cr table (the command line, where
    a repeated element is more likely a typo, refuses it)."""
    if elements is None:
        return list(IMPURITY_ELEMENTS)
    if isinstance(elements, str):
        elements = [e.strip() for e in elements.split(",")] if "," in elements else [elements]
    out = []
    for e in elements:
        z_of(str(e), where="argument elements")
        if str(e) not in out:
            out.append(str(e))
    if not out:
        raise ValueError("elements: give at least one impurity element (e.g. ['Mn', 'Fe']), or None for all 20.")
    return out


def bi_geometries(max_distance: float) -> pd.DataFrame:
    """The Bi–Bi geometries seen from an upper Bi site up to ``max_distance`` Å.

    Parameters
    ----------
    max_distance : float
        Cut-off in Å (at most :data:`MAX_TABLE_DISTANCE`).

    Returns
    -------
    pandas.DataFrame
        One row per bond class (:func:`jijtutorial.geometry.bond_classes`), by distance:
        ``sublattice_j`` ('same' or 'other'), ``layer`` (the layer class: QL +k and -k merged on the
        same sublattice), ``distance`` (Å, 0.01), ``geometry`` (label), ``rx, ry, rz`` (the class's
        representative vector, Å: the one pointing highest, then with the smallest x, then y) and
        ``multiplicity`` (vectors of this class from one site).
    """
    from .geometry import bond_classes

    d_max = _check_distance(max_distance)
    rows = [
        dict(
            sublattice_j=c.sublattice,
            layer=c.layer_class,
            distance=round(c.distance, 2),
            geometry=c.geometry,
            rx=c.representative[0],
            ry=c.representative[1],
            rz=c.representative[2],
            multiplicity=c.multiplicity,
        )
        for c in bond_classes(d_max)
    ]
    if not rows:
        raise ValueError(f"max_distance = {d_max:g} Å: no Bi site that close (the nearest is 4.38 Å away).")
    out = pd.DataFrame(rows).sort_values(["distance", "sublattice_j", "geometry"], kind="stable").reset_index(drop=True)
    for c in ("rx", "ry", "rz"):
        out[c] = out[c].round(6) + 0.0
    return out[["sublattice_j", "layer", "distance", "geometry", "rx", "ry", "rz", "multiplicity"]]


def _vector_geometries(vectors) -> pd.DataFrame:
    """Geometries of explicit pair vectors (Å), one row each; a clear error for one off the Bi lattice."""
    from .geometry import bond_class, locate_bi_site

    v = np.asarray(vectors, dtype=float)
    if v.ndim == 1:
        v = v.reshape(1, -1)
    if v.ndim != 2 or v.shape[1] != 3 or not len(v):
        raise ValueError(f"vectors must be pair vectors (rx, ry, rz) in Å, shape (n, 3), not shape {np.shape(vectors)}.")
    rows = []
    for k, vec in enumerate(v):
        site = locate_bi_site(vec, where=f"argument vectors[{k}]")
        d = round(float(np.linalg.norm(vec)), 2)
        if d > MAX_TABLE_DISTANCE:
            raise ValueError(f"vectors[{k}] has length {d:g} Å, beyond MAX_TABLE_DISTANCE = {MAX_TABLE_DISTANCE:g} Å.")
        rows.append(
            dict(
                sublattice_j=site.sublattice,
                layer=site.layer_class,
                distance=d,
                geometry=bond_class(site.position).geometry,
                rx=vec[0],
                ry=vec[1],
                rz=vec[2],
                multiplicity=1,
            )
        )
    return pd.DataFrame(rows)


@dataclass
class TableModel:
    """The models of a filled table, fitted on every row of one data set.

    Attributes
    ----------
    j : PairGP
        The model of J (:class:`jijtutorial.kernels.PairGP`).
    d : EquivariantDGP or None
        The model of D (:class:`jijtutorial.kernels.EquivariantDGP`); None if the data have no D.
    frame : pandas.DataFrame
        The data they were fitted on.
    selection : str
        The inner selection that chose their kernels and calibrated their σ.
    """

    j: object
    d: object
    frame: pd.DataFrame
    selection: str

    def predict_d(self, query: pd.DataFrame):
        """D (meV, (n, 3)) and its σ per component at the rows' pair vectors; NaN without a model of D."""
        if self.d is None:
            nan = np.full((len(query), 3), np.nan)
            return nan, nan.copy()
        return self.d.predict(query, return_std=True)


#: The code a stored :class:`TableModel` depends on: this module and every package module it imports
#: (the kernels, the engine prior and its engine, geometry, targets, protocols ...), transitively.
TABLE_MODEL_CODE = ("jijtutorial.jij_table",)
#: Modules left out of that digest: ``benchmark`` only gives :func:`jijtutorial.benchmark.resolve_frame`
#: (the frame it returns enters the key by value), ``plotting`` and ``tables`` only present results.
NOT_FIT_CODE = ("jijtutorial.benchmark", "jijtutorial.plotting", "jijtutorial.tables")
#: Layout of a stored TableModel (part of its key).
TABLE_MODEL_FORMAT = 1


def _frame_digest(frame: pd.DataFrame) -> str:
    """SHA-256 (first 20 hex digits) of every value of ``frame``: its columns, their dtypes and rows in order.

    Exact, not rounded: two frames have the same digest only if each column holds the same bytes
    (numbers) or the same values of the same types (text, objects). ``attrs`` do not enter: the
    models never read them.
    """
    h = hashlib.sha256()
    h.update(json.dumps([len(frame), [str(c) for c in frame.columns], [str(t) for t in frame.dtypes]]).encode())
    for c in frame.columns:
        col = frame[c]
        if isinstance(col.dtype, np.dtype) and col.dtype.kind in "biufcmM":
            h.update(np.ascontiguousarray(col.to_numpy()).tobytes())
        else:
            h.update(json.dumps([f"{type(v).__name__}:{v!r}" for v in col.to_numpy(object)]).encode())
    return h.hexdigest()[:20]


def _plain(value):
    """``value`` as JSON (tuples and arrays as lists), or a TypeError for anything a key cannot hold exactly."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, float, np.integer, np.floating)):
        return value.item() if isinstance(value, np.generic) else value
    if isinstance(value, (list, tuple, np.ndarray)):
        return [_plain(v) for v in (value.tolist() if isinstance(value, np.ndarray) else value)]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    raise TypeError(type(value).__name__)


def _table_model_key(frame: pd.DataFrame, selection: str, prior: bool, params: dict) -> str | None:
    """Key of the stored :class:`TableModel` of ``frame`` fitted with these arguments (None: not storable).

    The key is a SHA-256 of the frame's values (:func:`_frame_digest`), ``selection``, ``prior``,
    ``params``, the digest of the code of the fit (:data:`TABLE_MODEL_CODE` and what it imports, less
    :data:`NOT_FIT_CODE`), the versions of jijtutorial, numpy, scipy, pandas and scikit-learn (the
    fit's numbers and the pickle depend on them) and :data:`TABLE_MODEL_FORMAT`. A parameter that is not
    plain data (numbers, text, sequences of them) has no exact key: None, and the model is not stored.
    """
    import scipy
    import sklearn

    from . import __version__
    from .featurecache import code_digest

    try:
        args = _plain({"selection": selection, "prior": bool(prior), "params": params})
    except TypeError:
        return None
    blob = json.dumps(
        {
            "data": _frame_digest(frame),
            "arguments": args,
            "source": code_digest(*TABLE_MODEL_CODE, exclude=NOT_FIT_CODE),
            "versions": [__version__, np.__version__, scipy.__version__, pd.__version__, sklearn.__version__],
            "format": TABLE_MODEL_FORMAT,
        },
        sort_keys=True,
    )
    return hashlib.sha256(blob.encode()).hexdigest()[:20]


def fit_table_model(
    data="auto", selection: str = "distance", data_path=None, prior: bool = False, *, cache: bool = True, **params
) -> TableModel:
    """PairGP (J) and EquivariantDGP (D) fitted on every row of a data set, for :func:`predict_jij_table`.

    Parameters
    ----------
    data : ``'auto'``, ``'jukkr'``, ``'model'`` or a tidy DataFrame (with moments; D from ``Dx, Dy, Dz``
        if it has them).
    selection : str
        The inner selection that chooses the kernels and calibrates σ (default ``'distance'``: most
        of a filled table is at distances never computed).
    data_path : str or path-like, optional
        File or folder of the data set named by ``data`` (default: its usual place).
    prior : bool
        The model of J is PairGP with the crystal engine as a prior (:class:`jijtutorial.prior_model.EnginePriorGP`:
        the engine's J of each pair stacked with PairGP, σ with the prior's spread), up to 13.2 Å.
    cache : bool
        Reuse the models fitted earlier on the same data with the same arguments and code, and store a
        new fit, in ``$JIJTUTORIAL_CACHE_DIR/table-model-<key>.pkl`` (key: :func:`_table_model_key`).
        A fit on the 10 400 rows of the model data set takes about two minutes on two cores; reading
        it back, a few seconds. A damaged file, or one holding anything else, is reported with a
        :class:`jijtutorial.featurecache.CacheWarning` and refitted. ``False``: always fit, store nothing.
    **params : further parameters of PairGP.

    Returns
    -------
    TableModel
        Its ``frame`` is always the data given here (with their ``attrs``), also when the models are read
        from the cache.
    """
    from .benchmark import resolve_frame

    frame = resolve_frame(data, data_path)
    key = _table_model_key(frame, selection, prior, params) if cache else None
    if key is None:
        return _fit_table_model(frame, selection, prior, params)
    from .featurecache import cache_dir, load_cached_object, save_cached_object
    from .featurecache._files import _file_lock, _warn_once

    path = cache_dir() / f"table-model-{key}.pkl"
    # one fit for processes that ask at once (two chapters run side by side): the others wait and read it
    with _file_lock(path):
        stored = load_cached_object(path, key=key, expected_type=TableModel)
        if stored is not None:
            if stored.selection == selection and stored.frame.equals(frame):
                return TableModel(stored.j, stored.d, frame, selection)
            _warn_once(
                path,
                "corrupt",
                f"cache file {path} is unusable: its models were fitted on other data. It is being recomputed and replaced.",
            )
        model = _fit_table_model(frame, selection, prior, params)
        save_cached_object(path, model, key=key)
    return model


def _fit_table_model(frame: pd.DataFrame, selection: str, prior: bool, params: dict) -> TableModel:
    """The fit itself (see :func:`fit_table_model`), on a resolved frame."""
    from .kernels import EquivariantDGP, PairGP
    from .targets import D

    if prior:
        from .prior_model import EnginePriorGP

        j = EnginePriorGP(selection=selection, gp_params=params or None).fit(frame, frame["J"].to_numpy(float))
    else:
        j = PairGP(selection=selection, **params).fit(frame, frame["J"].to_numpy(float))
    d = None
    if set(D.columns) <= set(frame.columns) and np.any(D.values(frame)):  # data without D: no model of it
        d = EquivariantDGP(selection=selection).fit(frame, D.values(frame))
    return TableModel(j, d, frame, selection)


def predict_jij_table(
    elements=None,
    max_distance: float = 13.2,
    *,
    vectors=None,
    data="auto",
    selection: str = "distance",
    model=None,
    data_path=None,
    prior: bool = False,
    cache: bool = True,
) -> pd.DataFrame:
    """J (meV) with σ for every ordered pair of ``elements`` on every Bi–Bi geometry up to ``max_distance``.

    Parameters
    ----------
    elements : sequence of str, optional
        Impurity symbols (default: the 20 of the data sets); anything else is a ValueError.
    max_distance : float
        Cut-off in Å (the JuKKR data reach 13.15 Å; at most :data:`MAX_TABLE_DISTANCE`).
    vectors : array-like (n, 3), optional
        Explicit pair vectors (Å) instead of every geometry up to ``max_distance``; each must end on
        a Bi site (one row per vector, multiplicity 1).
    data : ``'auto'``, ``'jukkr'``, ``'model'`` or a tidy DataFrame
        The computed couplings: copied where present, and the model's training set.
    data_path : str or path-like, optional
        File or folder of the data set named by ``data`` (default: its usual place).
    selection : str
        Inner selection of the models (see :func:`fit_table_model`).
    model : TableModel, optional
        The models from :func:`fit_table_model` to reuse (their data are then used; ``data`` is ignored).
    prior : bool
        Fill J with PairGP and the crystal engine as its prior (see :func:`fit_table_model`; up to 13.2 Å).
    cache : bool
        Reuse the models fitted earlier on the same data, arguments and code (``$JIJTUTORIAL_CACHE_DIR``,
        see :func:`fit_table_model`); ``False``: fit them afresh and store nothing. Ignored with ``model``.

    Returns
    -------
    pandas.DataFrame
        One row per (element_i, element_j, geometry), columns :data:`COLUMNS`: ``element_i``,
        ``element_j``, ``sublattice_j``, ``layer``, ``distance`` (Å), ``geometry``, ``rx, ry, rz``
        (representative vector, Å), ``multiplicity``, ``J`` (meV: the data's where computed, else the
        prediction), ``J_std`` (σ, meV; 0 for computed rows; ±σ holds about 68 % of the true values),
        ``J_95`` (half-width of the ~95 % interval, meV; wider than 2σ, the errors have heavy tails),
        ``J_model``, ``J_std_model`` (the model's prediction and σ, also on computed rows), ``Dx``,
        ``Dy``, ``Dz`` (meV, at the row's vector: the data's where the data has the pair at that very
        vector, else the model's), ``D`` (|D|), ``Dx_std``, ``Dy_std``, ``Dz_std`` (σ of each component,
        meV; 0 for the data's own D; 0 too where the crystal's symmetry fixes the component, e.g. D = 0 for
        two equal impurities across an inversion centre), ``source`` ('JuKKR', 'engine' or 'predicted')
        and ``beyond_data`` (a predicted row farther than the data's farthest pair, or with an element
        whose periodic-table row has no element in the data: see :meth:`jijtutorial.kernels.PairGP.predict`,
        ``return_beyond``).
    """
    els = check_elements(elements)
    geos = bi_geometries(max_distance) if vectors is None else _vector_geometries(vectors)
    if model is None:
        model = fit_table_model(data, selection, data_path, prior=prior, cache=cache)
    if not isinstance(model, TableModel):
        raise TypeError(f"model must be the TableModel of jijtutorial.jij_table.fit_table_model, not {type(model).__name__}.")
    frame = model.frame
    records = geos.to_dict("records")  # once, not once per element pair
    q = pd.DataFrame([dict(element_i=a, element_j=b, **g) for a in els for b in els for g in records])
    mu, sd, unknown_element = model.j.predict(q, return_std=True, return_beyond=True)
    q["J_model"], q["J_std_model"] = mu, sd
    # the data's own rows: same ordered pair and geometry (layer class and distance)
    from .kernels import encode_pairs

    enc_f = encode_pairs(frame)
    key_f = pd.Series(
        np.arange(len(frame)),
        index=pd.MultiIndex.from_arrays(
            [frame["element_i"].astype(str).to_numpy(), frame["element_j"].astype(str).to_numpy(), enc_f.geo]
        ),
    )
    key_f = key_f[~key_f.index.duplicated()]
    enc_q = encode_pairs(q)
    hit = key_f.reindex(pd.MultiIndex.from_arrays([q["element_i"].to_numpy(), q["element_j"].to_numpy(), enc_q.geo]))
    hit = hit.to_numpy()
    has = np.isfinite(hit)
    rows = hit[has].astype(int)
    vec_f = frame[["rx", "ry", "rz"]].to_numpy(float)
    same_vector = np.ones(len(rows), bool)
    if vectors is None:  # the data's own vector represents the geometry, so that D belongs to it
        q.loc[has, ["rx", "ry", "rz"]] = vec_f[rows]
    else:  # D only where the given vector is the data's
        same_vector = np.linalg.norm(q.loc[has, ["rx", "ry", "rz"]].to_numpy(float) - vec_f[rows], axis=1) < 1e-3
    name = frame.attrs.get("name", "data")
    q["source"] = np.where(has, SOURCES.get(name, str(name)), "predicted")
    q["J"] = mu
    q.loc[has, "J"] = frame["J"].to_numpy(float)[rows]
    q["J_std"] = np.where(has, 0.0, sd)
    q["J_95"] = np.where(has, 0.0, model.j.interval95_ * sd)
    d_mu, d_sd = model.predict_d(q)  # at each row's vector (the data's own where the data has the pair)
    own = np.flatnonzero(has)[same_vector] if {"Dx", "Dy", "Dz"} <= set(frame.columns) else np.zeros(0, int)
    for k, c in enumerate(("Dx", "Dy", "Dz")):
        q[c] = d_mu[:, k]
        q[f"{c}_std"] = d_sd[:, k]
        if len(own):
            q.loc[own, c] = frame[c].to_numpy(float)[rows[same_vector]]
            q.loc[own, f"{c}_std"] = 0.0
    q["D"] = np.linalg.norm(q[["Dx", "Dy", "Dz"]].to_numpy(float), axis=1)
    # beyond the data: farther than its farthest pair, or an element whose periodic-table row the model never saw
    # (no moment and no similar element: J is the mean coupling, σ the spread of the couplings at that geometry)
    q["beyond_data"] = (q["distance"] > float(frame["distance"].max()) + 5e-3) | (unknown_element & ~has)
    return q[list(COLUMNS)]


def table_plot(table: pd.DataFrame, pairs=(("Mn", "Mn"), ("Fe", "Fe"), ("Cr", "Mo")), linthresh: float = 0.05):
    """J (meV) against distance (Å) for a few element pairs of a filled table: computed and predicted.

    Parameters
    ----------
    table : pandas.DataFrame
        From :func:`predict_jij_table`.
    pairs : sequence of (element_i, element_j)
        One panel each.
    linthresh : float
        The J axis is linear within ±``linthresh`` meV and logarithmic beyond (couplings span four
        decades).

    Returns
    -------
    matplotlib.figure.Figure
        Filled markers: the data's own J; open markers with bars: predicted J ± σ; colour: the
        sublattice of j.
    """
    from .plotting import figure, symlog_ticks

    pairs = [tuple(p) for p in pairs]
    fig, axes = figure(1, len(pairs), figsize=(3.6 * len(pairs), 3.6), sharey=True, squeeze=False)
    for ax, (a, b) in zip(axes[0], pairs):
        t = table[(table["element_i"] == a) & (table["element_j"] == b)]
        if t.empty:
            raise ValueError(f"table_plot: the table has no rows for the pair ({a!r}, {b!r}).")
        for k, sub in enumerate(("same", "other")):
            s = t[t["sublattice_j"] == sub]
            known = s["source"] != "predicted"
            ax.plot(
                s.loc[known, "distance"],
                s.loc[known, "J"],
                "o",
                color=f"C{k}",
                ms=5,
                label=f"computed, j on the {sub} sublattice",
            )
            ax.errorbar(
                s.loc[~known, "distance"],
                s.loc[~known, "J"],
                yerr=s.loc[~known, "J_std"],
                fmt="o",
                mfc="white",
                color=f"C{k}",
                ms=5,
                capsize=2,
                lw=0.8,
                label=f"predicted ± σ, {sub} sublattice",
            )
        ax.axhline(0, color="k", lw=0.6)
        ax.set_yscale("symlog", linthresh=linthresh)
        ax.set_title(f"{a}–{b}", fontsize=11)
        ax.set_xlabel("distance (Å)")
    symlog_ticks(axes[0, 0], linthresh)  # the panels share the J axis
    axes[0, 0].set_ylabel("J (meV)")
    axes[0, -1].legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------------------------
# command line
# --------------------------------------------------------------------------------------------
def add_arguments(parser) -> None:
    """Arguments of ``jijtutorial jij-table``."""
    parser.add_argument(
        "--dataset",
        default="auto",
        choices=("auto", "jukkr", "model"),
        help="data set: the JuKKR table, the package's model data, or auto (JuKKR if found)",
    )
    parser.add_argument("--data-path", default=None, help="file or folder of the data set (default: its usual place)")
    parser.add_argument(
        "--elements", default=None, help=f"comma-separated impurity elements (default: all 20, {','.join(IMPURITY_ELEMENTS)})"
    )
    parser.add_argument(
        "--max-distance",
        type=float,
        default=13.2,
        help=f"cut-off in Å (default 13.2, the JuKKR data reach 13.15; at most {MAX_TABLE_DISTANCE:g})",
    )
    parser.add_argument(
        "--selection",
        default="distance",
        choices=("rows", "pairs", "element", "distance"),
        help="what the model is tuned and its σ calibrated for (default: unseen distances)",
    )
    parser.add_argument("--out", default="jij-table.csv", help="CSV file to write")
    parser.add_argument(
        "--no-cache", action="store_true", help="fit the models afresh and do not store them (default: reuse an earlier fit)"
    )


def run(args) -> int:
    """``jijtutorial jij-table``: fit PairGP on the data set and write the filled table to ``--out``."""
    import time

    from ._files import atomic_path, output_file

    try:  # every argument before any computation, each error naming its option
        els = check_elements(args.elements)
        named = [e.strip() for e in args.elements.split(",")] if args.elements is not None else els
        if len(named) != len(els):
            raise ValueError(
                f"--elements: {next(e for e in named if named.count(e) > 1)} is named twice; name each element once."
            )
        _check_distance(args.max_distance)
    except ValueError as err:
        text = str(err).replace("argument elements", "--elements").replace("max_distance", "--max-distance")
        raise ValueError("--" + text if text.startswith("elements:") else text) from None
    out = output_file(args.out)
    t0 = time.perf_counter()
    model = fit_table_model(args.dataset, args.selection, args.data_path, cache=not args.no_cache)
    table = predict_jij_table(els, args.max_distance, model=model)
    with atomic_path(out) as tmp:  # a run killed while writing leaves the previous table whole
        table.to_csv(tmp, index=False)
    counts = table["source"].value_counts()
    print(
        f"{len(table)} rows ({len(els)}² ordered pairs x {table['geometry'].nunique()} geometries up to "
        f"{args.max_distance:g} Å): "
        + ", ".join(f"{n} {s}" for s, n in counts.items())
        + f"; model of J: {', '.join(f'{k}={v}' for k, v in model.j.params_.items())} "
        f"(inner {args.selection} CV MAE {model.j.cv_mae_:.3g} meV)"
        + (
            f"; model of D: {', '.join(f'{k}={v}' for k, v in model.d.params_.items())} (inner CV MAE of "
            f"|D_pred - D| {model.d.cv_mae_:.3g} meV)"
            if model.d is not None
            else "; no D in the data"
        )
        + f"; {time.perf_counter() - t0:.1f} s"
    )
    print(f"written to {out.resolve()}")
    return 0


__all__ = [
    "COLUMNS",
    "MAX_TABLE_DISTANCE",
    "TableModel",
    "bi_geometries",
    "check_elements",
    "fit_table_model",
    "predict_jij_table",
    "table_plot",
]
