"""The crystal engine's couplings as a prior for the learned models: one table per engine setting, cached.

A learned model of J (chapter 7) knows an element only through its training rows; the crystal engine
of :mod:`jijtutorial.greens.engine` knows every element through tabulated atomic properties (the d
count, Harrison's d radius, Janak's Stoner parameter) and two global parameters. Its J for a pair is
therefore information about a held-out element that no DFT output of that element enters: the
impurities' moments are the engine's own (Stoner mean field), never the data's.

This module gives the engine's J, D and in-pair moments for every ordered element pair on every
Bi–Bi geometry up to 13.2 Å (both sublattices, :func:`jijtutorial.greens.bi_pairs.pair_geometries`)
for one :class:`~jijtutorial.greens.engine.EngineSettings`, and looks them up for the rows of any
pair table (:class:`EnginePrior`). The table does not depend on any data set or fold.

Where the table comes from, in order:

1. this process's memory;
2. the disk cache, ``$JIJTUTORIAL_CACHE_DIR/engine-prior-<key>.pkl``, key = SHA-256 of the
   settings, the digest of the engine's source files (:func:`engine_source_digest`) and the layout;
   read back only if the key, the columns, the rows and the finiteness of every number check
   (:func:`jijtutorial.featurecache.load_cached_object`);
3. the package's model data set (``data/model_jij.csv``), which *is* this table for the model data
   set's settings: used when the CSV is the file its provenance describes, the provenance records
   the same settings, and the engine of this code reproduces two of its rows (:func:`_spot_check`,
   about 15 s once per engine digest and CSV); then written to 2;
4. the engine itself (about 0.3 s of CPU per element pair and geometry; the 10 400 of the full table
   about an hour on two busy cores, the 1728 JuKKR pairs a few minutes), written atomically to 2.

Only the element pairs and geometries asked for are computed; a later request computes the rest and
adds it to the same file.

Convention (the package's): E = −Σ_{i<j} [J_ij S_i·S_j + D_ij·(S_i × S_j)], each pair once, J > 0
ferromagnetic, meV; vectors in Å from impurity i on an upper Bi site; moments in μB.
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .elements import IMPURITY_ELEMENTS

#: Source files (glob patterns relative to the package) whose code the engine's numbers depend on: the whole
#: Green-function package, the elements and the crystal geometry (wherever it lives).
ENGINE_SOURCES = ("elements.py", "structures.py", "geometry/*.py", "greens/*.py")
#: Largest pair distance of the prior table (Å): every Bi–Bi geometry of both sublattices up to it.
PRIOR_MAX_DISTANCE = 13.2
#: Columns of the prior table.
PRIOR_COLUMNS = ("element_i", "element_j", "geometry_index", "rx", "ry", "rz", "J", "Dx", "Dy", "Dz", "moment_i", "moment_j")
#: Layout version of the cached table (part of the key).
PRIOR_FORMAT = 1

_MEMO: dict[str, pd.DataFrame] = {}
_LOCK = threading.Lock()


def engine_source_digest() -> str:
    """SHA-256 (first 16 hex digits) of the engine's source files (:data:`ENGINE_SOURCES`).

    Part of the prior table's cache key and of the name of the spot check's record: a change of the
    engine's code invalidates the cached table, and the model data set is checked against the engine again.
    """
    root = Path(__file__).resolve().parent
    h = hashlib.sha256()
    for pattern in ENGINE_SOURCES:
        for path in sorted(root.glob(pattern)):
            h.update(path.relative_to(root).as_posix().encode())
            h.update(path.read_bytes())
    return h.hexdigest()[:16]


def _settings(settings=None):
    from .greens.engine import EngineSettings

    if settings is None:
        return EngineSettings()
    if not isinstance(settings, EngineSettings):
        raise TypeError(f"settings must be a jijtutorial.greens.engine.EngineSettings, not {type(settings).__name__}.")
    return settings


def _settings_json(settings) -> str:
    return json.dumps(settings.as_dict(), sort_keys=True, default=repr)


def prior_key(settings=None) -> str:
    """Cache key (20 hex digits) of the prior table of ``settings``: settings, engine digest, layout."""
    s = _settings(settings)
    blob = json.dumps(
        {
            "settings": _settings_json(s),
            "engine": engine_source_digest(),
            "format": PRIOR_FORMAT,
            "max_distance": PRIOR_MAX_DISTANCE,
        },
        sort_keys=True,
    )
    return hashlib.sha256(blob.encode()).hexdigest()[:20]


def prior_geometries(settings=None) -> list[dict]:
    """The Bi–Bi geometries of the prior table (:func:`jijtutorial.greens.bi_pairs.pair_geometries` up to 13.2 Å)."""
    from .greens.bi_pairs import pair_geometries

    return pair_geometries(PRIOR_MAX_DISTANCE, _settings(settings).host)


# --------------------------------------------------------------------------------------------
# where the table comes from
# --------------------------------------------------------------------------------------------
def _shipped(settings, geos) -> pd.DataFrame | None:
    """The model data set as a prior table, if it is this engine's table for these settings (else None).

    Three checks: the CSV is the file its provenance describes (SHA-256), the provenance records these
    settings, and the engine of this code reproduces two of its rows (:func:`_spot_check`; about 15 s
    once, then remembered in the cache folder under the engine's source digest and the CSV's SHA-256).
    """
    from .datasets import MODEL_FILENAME, PACKAGE_DATA_DIR, load_model

    path = PACKAGE_DATA_DIR / MODEL_FILENAME  # the shipped file only: never generated here
    if not path.is_file():
        return None
    frame = load_model(path)
    prov = frame.attrs.get("provenance", {})
    if not prov.get("sha256_matches_provenance"):
        return None
    if json.dumps(prov.get("settings"), sort_keys=True, default=repr) != _settings_json(settings):
        return None
    if float(prov.get("max_distance_A", 0.0)) + 1e-6 < PRIOR_MAX_DISTANCE:
        return None
    table = _from_frame(frame, geos)
    if not _spot_check(settings, geos, table, str(prov["sha256"])):
        return None
    return table


#: Element pairs and geometry (index) the engine recomputes to check that the model data set is its table:
#: a ferromagnetic pair of two magnetic impurities and a pair with a non-magnetic one (induced moment).
SPOT_CHECK = (("Cr", "Cr", 0), ("V", "Cu", 0))
#: Largest difference (meV, μB) between the data set and a recomputed row for the data set to count as the table.
SPOT_TOLERANCE = 1e-6


def _spot_check(settings, geos, table, csv_sha) -> bool:
    """Whether the engine of this code reproduces :data:`SPOT_CHECK` rows of ``table`` (the answer cached)."""
    from ._files import atomic_write
    from .featurecache import cache_dir

    marker = cache_dir() / f"engine-prior-check-{engine_source_digest()}-{csv_sha[:16]}.json"
    try:
        return bool(json.loads(marker.read_text(encoding="utf-8"))["reproduced"])
    except (OSError, ValueError, KeyError, TypeError):
        pass
    fresh = _compute(settings, geos, list(SPOT_CHECK), progress=False, n_jobs=1)
    old = table.set_index(["element_i", "element_j", "geometry_index"]).loc[list(SPOT_CHECK)]
    cols = ["J", "Dx", "Dy", "Dz", "moment_i", "moment_j"]
    diff = float(np.max(np.abs(fresh[cols].to_numpy(float) - old[cols].to_numpy(float))))
    ok = diff <= SPOT_TOLERANCE
    try:
        cache_dir().mkdir(parents=True, exist_ok=True)
        atomic_write(marker, json.dumps({"reproduced": ok, "max_difference": diff, "pairs": SPOT_CHECK}))
    except OSError:
        pass  # an unwritable cache: checked again next time
    return ok


def _from_frame(frame: pd.DataFrame, geos) -> pd.DataFrame:
    """Rows of an engine frame (elements, vector, J, D, moments) keyed by geometry index."""
    index = _vector_index(geos)
    keys = [tuple(np.round(v, 2)) for v in frame[["rx", "ry", "rz"]].to_numpy(float)]
    gi = np.array([index.get(k, -1) for k in keys])
    if (gi < 0).any():
        k = int(np.flatnonzero(gi < 0)[0])
        raise ValueError(f"engine table row {k}: vector {keys[k]} Å is not a representative of the prior's geometries.")
    out = pd.DataFrame(
        {
            "element_i": frame["element_i"].astype(str).to_numpy(),
            "element_j": frame["element_j"].astype(str).to_numpy(),
            "geometry_index": gi,
        }
    )
    for c in ("rx", "ry", "rz", "J", "Dx", "Dy", "Dz", "moment_i", "moment_j"):
        out[c] = frame[c].to_numpy(float)
    return out


def _vector_index(geos) -> dict:
    return {tuple(np.round(g["vector"], 2)): k for k, g in enumerate(geos)}


def _check_table(table, key_pairs=None) -> str | None:
    """What is wrong with a cached prior table (None: nothing)."""
    if not isinstance(table, pd.DataFrame) or list(table.columns) != list(PRIOR_COLUMNS):
        return "its columns are not those of a prior table"
    if table.duplicated(["element_i", "element_j", "geometry_index"]).any():
        return "it holds a pair twice"
    num = table[["rx", "ry", "rz", "J", "Dx", "Dy", "Dz", "moment_i", "moment_j"]].to_numpy(float)
    if not np.isfinite(num).all():
        return "it holds a value that is not finite"
    if not set(table["element_i"]).union(table["element_j"]) <= set(IMPURITY_ELEMENTS):
        return "it holds an unknown element"
    return None


def engine_prior_table(
    settings=None, *, elements=None, geometries=None, progress: bool = False, n_jobs: int = 1, cache: bool = True
) -> pd.DataFrame:
    """The engine's J, D and moments for element pairs on the prior's Bi–Bi geometries (see the module docstring).

    Parameters
    ----------
    settings : :class:`jijtutorial.greens.engine.EngineSettings`, optional
        The engine (default: its defaults, those of the model data set).
    elements : sequence of str, optional
        Impurity symbols (default all 20): every ordered pair of them.
    geometries : sequence of int, optional
        Indices into :func:`prior_geometries` (default: all 26 up to 13.2 Å).
    progress, n_jobs : progress bar and Dask workers of a computation (:func:`jijtutorial.greens.engine.exchange_table`).
    cache : use and fill the disk cache (memory is always used).

    Returns
    -------
    DataFrame with :data:`PRIOR_COLUMNS`: element_i, element_j, geometry_index, rx, ry, rz (Å, the
    representative vector), J, Dx, Dy, Dz (meV), moment_i, moment_j (μB, the engine's own in the pair);
    ``attrs``: 'key', 'settings', 'engine_source', 'origin' ('memory', 'model data set', 'cache' or 'computed').
    """
    from .elements import z_of

    s = _settings(settings)
    geos = prior_geometries(s)
    els = list(IMPURITY_ELEMENTS if elements is None else elements)
    for k, e in enumerate(els):
        z_of(str(e), where=f"elements[{k}]")
    gidx = list(range(len(geos))) if geometries is None else [int(g) for g in geometries]
    bad = [g for g in gidx if not 0 <= g < len(geos)]
    if bad:
        raise ValueError(
            f"geometries: index {bad[0]} is not one of the prior's {len(geos)} geometries (0 ... "
            f"{len(geos) - 1}, see prior_geometries())."
        )
    key = prior_key(s)
    want = pd.MultiIndex.from_tuples(
        [(a, b, g) for g in gidx for a in els for b in els], names=["element_i", "element_j", "geometry_index"]
    )
    with _LOCK:
        table = _MEMO.get(key)
        origin = "memory"
        if table is None or not want.isin(_index(table)).all():
            table, origin = _load_or_compute(s, key, geos, table, want, progress, n_jobs, cache)
            _MEMO[key] = table
    out = table.set_index(["element_i", "element_j", "geometry_index"]).loc[want].reset_index()[list(PRIOR_COLUMNS)]
    out.attrs.update(key=key, settings=s.as_dict(), engine_source=engine_source_digest(), origin=origin)
    return out


def _index(table: pd.DataFrame) -> pd.MultiIndex:
    return pd.MultiIndex.from_frame(table[["element_i", "element_j", "geometry_index"]])


def _cache_path(key: str) -> Path:
    from .featurecache import cache_dir

    return cache_dir() / f"engine-prior-{key}.pkl"


def _load_or_compute(settings, key, geos, have, want, progress, n_jobs, cache):
    from .featurecache import load_cached_object, save_cached_object
    from .featurecache._files import _warn_once

    origin = "computed"
    parts = [] if have is None else [have]
    default = _settings_json(settings) == _settings_json(_settings(None))
    if have is None:
        stored = None
        if cache:
            path = _cache_path(key)
            stored = load_cached_object(path, key=key, expected_type=pd.DataFrame)
            if stored is not None:
                problem = _check_table(stored)
                if problem is None:
                    parts.append(stored)
                    origin = "cache"
                else:
                    stored = None
                    _warn_once(path, "corrupt", f"cache file {path} is unusable: {problem}. It is being recomputed.")
        if stored is None or not want.isin(_index(stored)).all():
            shipped = _shipped(settings, geos)
            if shipped is not None:
                parts.append(shipped)
                origin = "model data set"
                if cache:  # read back next time in a fraction of the time the CSV takes
                    save_cached_object(_cache_path(key), _union(parts), key=key)
            elif default:
                _warn_once(
                    ("engine-prior", key),
                    "stale",
                    "the model data set (data/model_jij.csv) is not this engine's table (its provenance records "
                    "other settings, or the engine of this code does not reproduce its rows): the prior table is "
                    "computed instead. Regenerate the data set with `jijtutorial generate-model-data`.",
                )
    table = _union(parts)
    missing = want[~want.isin(_index(table))] if len(table) else want
    if len(missing):
        new = _compute(settings, geos, list(missing), progress, n_jobs)
        table = _union([table, new])
        origin = "computed"
        if cache:
            save_cached_object(_cache_path(key), table, key=key)
    return table, origin


def _union(parts) -> pd.DataFrame:
    parts = [p for p in parts if p is not None and len(p)]
    if not parts:
        return pd.DataFrame({c: [] for c in PRIOR_COLUMNS})
    out = pd.concat(parts, ignore_index=True).drop_duplicates(["element_i", "element_j", "geometry_index"])
    return out[list(PRIOR_COLUMNS)].reset_index(drop=True)


def _compute(settings, geos, triples, progress, n_jobs) -> pd.DataFrame:
    from .greens.engine import CrystalEngine, exchange_table

    engine = CrystalEngine(settings)
    raw = exchange_table(engine, geometries=geos, pairs=[(a, b, int(g)) for a, b, g in triples], n_jobs=n_jobs, progress=progress)
    frame = _from_frame(raw, geos)
    problem = _check_table(frame[list(PRIOR_COLUMNS)])
    if problem:
        raise RuntimeError(f"the engine's table is unusable as a prior: {problem}.")
    return frame


# --------------------------------------------------------------------------------------------
# the prior of a pair table's rows
# --------------------------------------------------------------------------------------------
@dataclass
class EnginePrior:
    """The engine's J (and moments) for the rows of any pair table, from :func:`engine_prior_table`.

    A row (A, B, r) takes the value of the table row of the same ordered elements whose geometry's
    symmetry orbit holds r (the site group C3v of the upper Bi site; on the same sublattice also
    (A, B, r) = (B, A, −r)). Rows without a vector (only ``sublattice_j``, ``layer``, ``distance``) take
    the mean over (A, B) and (B, A) of the geometries of that layer class and distance, as the
    pair-symmetric learned models see them.

    Parameters
    ----------
    settings : EngineSettings, optional (the engine's defaults).
    elements : the elements to load (default all 20).
    progress, n_jobs : of a computation, if the table is not stored (see :func:`engine_prior_table`).
    """

    settings: object = None
    elements: tuple | None = None
    progress: bool = False
    n_jobs: int = 1
    table_: pd.DataFrame = field(default=None, repr=False)

    def __post_init__(self):
        self.settings = _settings(self.settings)
        self._geos = prior_geometries(self.settings)
        self._images = None

    @property
    def key(self) -> str:
        return prior_key(self.settings)

    def table(self) -> pd.DataFrame:
        if self.table_ is None:
            self.table_ = engine_prior_table(self.settings, elements=self.elements, progress=self.progress, n_jobs=self.n_jobs)
        return self.table_

    def _orbit_tree(self):
        if self._images is None:
            from scipy.spatial import cKDTree

            from .greens.bi_pairs import site_group

            ops = site_group(self.settings.host)
            pts, owner, swap = [], [], []
            for k, g in enumerate(self._geos):
                v = np.asarray(g["vector"], float)
                for sign, swapped in ((1.0, False), (-1.0, True)):
                    if swapped and g["sublattice"] != "same":
                        continue
                    for q in ops:
                        pts.append(q @ (sign * v))
                        owner.append(k)
                        swap.append(swapped)
            self._images = (cKDTree(np.array(pts)), np.array(owner), np.array(swap))
        return self._images

    def geometry_of(self, vectors) -> tuple[np.ndarray, np.ndarray]:
        """Index into the prior's geometries of each vector (Å), and whether the pair is seen swapped (B, A, −r).

        A vector no geometry's orbit holds (off the Bi lattice, or beyond 13.2 Å) is a ValueError naming it.
        """
        tree, owner, swap = self._orbit_tree()
        v = np.asarray(vectors, float).reshape(-1, 3)
        d, k = tree.query(v, distance_upper_bound=0.02)
        bad = ~np.isfinite(d)
        if bad.any():
            j = int(np.flatnonzero(bad)[0])
            raise ValueError(
                f"row {j}: pair vector {np.round(v[j], 4)} Å (length {np.linalg.norm(v[j]):.2f} Å) is not "
                f"a Bi–Bi vector of the engine prior's geometries (both sublattices up to "
                f"{PRIOR_MAX_DISTANCE} Å). Use a shorter vector, or a model without the prior."
            )
        return owner[k], swap[k]

    def values(self, X: pd.DataFrame, what: str = "J") -> np.ndarray:
        """The engine's ``what`` ('J', 'moment_i', 'moment_j') for each row of the pair table ``X``, shape (n,)."""
        if what not in ("J", "moment_i", "moment_j"):
            raise ValueError(f"what must be 'J', 'moment_i' or 'moment_j', not {what!r}.")
        tab = self.table().set_index(["element_i", "element_j", "geometry_index"])
        a = X["element_i"].astype(str).to_numpy()
        b = X["element_j"].astype(str).to_numpy()
        if {"rx", "ry", "rz"} <= set(X.columns):
            g, swapped = self.geometry_of(X[["rx", "ry", "rz"]].to_numpy(float))
            ai, bi = np.where(swapped, b, a), np.where(swapped, a, b)
            col = what
            if what != "J":  # swapped: impurity i of the row is impurity j of the table
                col = np.where(swapped, "moment_j" if what == "moment_i" else "moment_i", what)
            idx = pd.MultiIndex.from_arrays([ai, bi, g])
            if what == "J":
                return tab["J"].reindex(idx).to_numpy(float)
            return np.where(
                col == "moment_i", tab["moment_i"].reindex(idx).to_numpy(float), tab["moment_j"].reindex(idx).to_numpy(float)
            )
        return self._by_class(X, what, tab)

    def _by_class(self, X, what, tab) -> np.ndarray:
        from .kernels import encode_pairs

        geos = pd.DataFrame(
            {
                "element_i": "Cr",
                "element_j": "Cr",
                "rx": [g["vector"][0] for g in self._geos],
                "ry": [g["vector"][1] for g in self._geos],
                "rz": [g["vector"][2] for g in self._geos],
            }
        )
        keys = {}
        for k, key in enumerate(encode_pairs(geos).geo):
            keys.setdefault(str(key), []).append(k)
        enc = encode_pairs(X)
        out = np.empty(len(X))
        a = X["element_i"].astype(str).to_numpy()
        b = X["element_j"].astype(str).to_numpy()
        for r in range(len(X)):
            ks = keys.get(str(enc.geo[r]))
            if not ks:
                raise ValueError(
                    f"row {r}: geometry {enc.geo[r]!r} is not one of the engine prior's (both sublattices "
                    f"up to {PRIOR_MAX_DISTANCE} Å)."
                )
            if what == "J":
                vals = [tab.at[(x, y, k), "J"] for k in ks for x, y in ((a[r], b[r]), (b[r], a[r]))]
            else:
                vals = [tab.at[(a[r], b[r], k), what] for k in ks]
            out[r] = float(np.mean(vals))
        return out


__all__ = [
    "ENGINE_SOURCES",
    "EnginePrior",
    "PRIOR_COLUMNS",
    "PRIOR_MAX_DISTANCE",
    "engine_prior_table",
    "engine_source_digest",
    "prior_geometries",
    "prior_key",
]
