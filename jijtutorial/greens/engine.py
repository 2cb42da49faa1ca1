"""The crystal exchange engine: the sp³ Bi2Te3 host, d-shell impurities with their own moments, J and D per pair.

One object, :class:`CrystalEngine`, holds the host (:mod:`.crystal`), its Green function on the
finite-temperature contour (:mod:`.crystal_green`) and the impurities' mean fields
(:mod:`.dshell`); :meth:`CrystalEngine.pair` gives the exchange tensor of an element pair on a
Bi–Bi vector (:mod:`.dshell_exchange`), and :func:`exchange_table` every element pair on every
geometry of :func:`.bi_pairs.pair_geometries` through Dask tasks (:mod:`jijtutorial.parallel`).

Settings (:class:`EngineSettings`) and their defaults:

* ``kmesh`` 12 (12³ k-points), ``temperature`` 800 K, ``n_poles`` 40 Ozaki poles: an electronic
  temperature that smooths the in-gap d states sitting at E_F (the self-consistent
  partly filled levels are pinned there); the tests check convergence in the poles and the mesh.
* ``e_fermi_shift``: E_F relative to the middle of the host's bulk gap (eV), default 0.
* ``host``: :data:`.crystal.BI2TE3_SK`; ``impurity``: :class:`.dshell.ImpurityModel`.

Moments: every impurity first alone (:func:`.dshell.solve_single`: ε̄ from the d count, Δ = I·m);
in a pair the splittings are iterated together with parallel moments (:func:`.dshell.solve_pair`),
which induces moments on impurities that are non-magnetic alone. J, D then follow from the force
theorem with those splittings. Units: eV inside, meV in :func:`exchange_table`'s frame.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from ..elements import IMPURITY_ELEMENTS, z_of
from .bi_pairs import crystal_site, pair_geometries
from .contour import ozaki
from .crystal import BI2TE3_SK, BI_UPPER, CrystalParameters, crystal_band_facts, crystal_model
from .crystal_green import CrystalGreen
from .dshell import DEFAULT_IMPURITY, DShellCluster, ImpurityModel, ImpurityState, cage, host_orbitals, solve_pair, solve_single
from .dshell_exchange import dshell_exchange


@dataclass(frozen=True)
class EngineSettings:
    """Numerical and physical settings of the crystal engine (see module docstring)."""

    kmesh: int = 12
    temperature: float = 800.0
    n_poles: int = 40
    e_fermi_shift: float = 0.0
    host: CrystalParameters = field(default_factory=lambda: BI2TE3_SK)
    impurity: ImpurityModel = field(default_factory=lambda: DEFAULT_IMPURITY)

    def __post_init__(self):
        if int(self.kmesh) < 2:
            raise ValueError(f"kmesh must be an integer ≥ 2 (k-points per reciprocal axis), not {self.kmesh!r}.")
        if not (np.isfinite(self.temperature) and self.temperature > 0):
            raise ValueError(f"temperature must be a positive electronic temperature in K, not {self.temperature!r}.")
        if int(self.n_poles) < 4:
            raise ValueError(f"n_poles must be at least 4, not {self.n_poles!r}.")

    def as_dict(self) -> dict:
        d = asdict(self)
        d["impurity"] = self.impurity.as_dict()
        return d


@dataclass(frozen=True)
class PairResult:
    """Exchange tensor (eV, (3, 3); E = −e_i·J·e_j) and the in-pair mean fields of a pair."""

    tensor: np.ndarray
    deltas: np.ndarray
    moments: np.ndarray
    converged: bool

    @property
    def J(self) -> float:
        return float(np.trace(self.tensor) / 3)

    @property
    def D(self) -> np.ndarray:
        t = self.tensor
        return 0.5 * np.array([t[1, 2] - t[2, 1], t[2, 0] - t[0, 2], t[0, 1] - t[1, 0]])


class CrystalEngine:
    """Host, contour and impurity mean fields; pairs on demand. See the module docstring."""

    def __init__(self, settings: EngineSettings | None = None):
        self.settings = settings or EngineSettings()
        s = self.settings
        self.model = crystal_model(s.host)
        self.band_facts = crystal_band_facts(self.model)
        self.e_fermi = 0.5 * (self.band_facts["vbm"] + self.band_facts["cbm"]) + s.e_fermi_shift
        self.contour = ozaki(self.e_fermi, s.temperature, s.n_poles)
        self.green = CrystalGreen(self.model, s.kmesh, self.contour, host_orbitals())
        self._single: dict[str, ImpurityState] = {}
        self._clusters: dict[tuple, DShellCluster] = {}

    def with_impurity(self, impurity: ImpurityModel) -> "CrystalEngine":
        """A copy with other impurity parameters that shares this engine's host Green function and clusters."""
        from copy import copy
        from dataclasses import replace

        other = copy(self)
        other.settings = replace(self.settings, impurity=impurity)
        other._single = {}
        return other

    # ----------------------------------------------------------------- clusters
    def _cluster_sites(self, vector=None):
        sites = [(BI_UPPER, (0, 0, 0))]
        if vector is not None:
            sites.append(crystal_site(vector, self.settings.host))
        return sites

    def prepare(self, vectors) -> None:
        """Compute the host blocks of the single impurity and of the pairs on ``vectors`` (Å) in one pass."""
        requests = []
        for v in [None, *[np.asarray(v, float) for v in vectors]]:
            sites = self._cluster_sites(v)
            te = sorted({(b, nb) for a, n in sites for b, nb, _ in cage(a, n)})
            cl = sites + te
            requests += [(a, b, tuple(np.subtract(nb, na))) for a, na in cl for b, nb in cl]
        self.green.compute(requests)

    def cluster(self, vector=None) -> DShellCluster:
        """The d-shell cluster of the single impurity (vector None) or of the pair on ``vector`` (Å)."""
        key = None if vector is None else tuple(np.round(np.asarray(vector, float), 6))
        if key not in self._clusters:
            self._clusters[key] = DShellCluster(self.green, self._cluster_sites(vector))
        return self._clusters[key]

    # ----------------------------------------------------------------- impurities
    def impurity(self, symbol: str) -> ImpurityState:
        """Self-consistent mean field of one impurity of ``symbol`` on a Bi site."""
        z_of(symbol, where="impurity element")
        if symbol not in self._single:
            self._single[symbol] = solve_single(self.cluster(), symbol, self.settings.impurity)
        return self._single[symbol]

    def pair(self, element_i: str, element_j: str, vector, self_consistent: bool = True) -> PairResult:
        """Exchange tensor of ``element_i`` on the upper Bi site and ``element_j`` at ``vector`` (Å)."""
        cl = self.cluster(vector)
        return pair_from_states(cl, self.impurity(element_i), self.impurity(element_j), self.settings.impurity, self_consistent)

    def describe(self) -> dict:
        return {
            "settings": self.settings.as_dict(),
            "band_facts": self.band_facts,
            "e_fermi_eV": self.e_fermi,
            "green": self.green.describe(),
        }


def pair_from_states(
    cluster: DShellCluster,
    state_i: ImpurityState,
    state_j: ImpurityState,
    model: ImpurityModel = DEFAULT_IMPURITY,
    self_consistent: bool = True,
) -> PairResult:
    """J tensor of a pair cluster from the two single-impurity states (pair mean field iterated if asked)."""
    states = [state_i, state_j]
    sigma = cluster.sigma([state_i.coupling, state_j.coupling])
    levels = [state_i.level, state_j.level]
    if self_consistent and (state_i.delta > 0 or state_j.delta > 0):
        deltas, n, ok = solve_pair(cluster, states, model)
    else:
        deltas = np.array([state_i.delta, state_j.delta])
        n = np.array([[state_i.n_up, state_i.n_down], [state_j.n_up, state_j.n_down]])
        ok = True
    res = dshell_exchange(cluster, sigma, levels, deltas)
    return PairResult(tensor=res.tensor, deltas=np.asarray(deltas), moments=n[:, 0] - n[:, 1], converged=bool(ok))


def _pair_task(shared, task):
    """Worker: every element pair of ``task`` = (geometry index, [(a, b), ...]) on that geometry's cluster."""
    clusters, states, model, self_consistent = shared
    k, pairs = task
    cl = clusters[k]
    out = []
    for a, b in pairs:
        r = pair_from_states(cl, states[a], states[b], model, self_consistent)
        out.append((r.tensor, r.moments, r.deltas, r.converged))
    return out


def exchange_table(
    engine: CrystalEngine | None = None,
    *,
    elements=None,
    geometries=None,
    max_distance: float = 13.2,
    pairs=None,
    self_consistent: bool = True,
    n_jobs: int = 1,
    client=None,
    progress: bool = True,
    chunk_size: int = 100,
):
    """J, D and the tensor (meV) of element pairs on Bi–Bi geometries, with the in-pair moments (μB).

    Parameters
    ----------
    engine : a :class:`CrystalEngine` (default: a new one with the default settings).
    elements : symbols (default the 20); pairs : explicit [(element_i, element_j, geometry index)]
        instead of every ordered pair on every geometry.
    geometries : dicts of :func:`.bi_pairs.pair_geometries` (default: all up to ``max_distance``).
    n_jobs, client : Dask workers as in :func:`jijtutorial.parallel.run_tasks` (1: here, no Dask).

    Returns
    -------
    DataFrame: element_i, element_j, rx, ry, rz (Å), geometry, sublattice, multiplicity, J, Dx, Dy,
    Dz (meV), Jxx … Jzz (meV), moment_i, moment_j (μB, in the pair), delta_i, delta_j (eV, the splittings in
    the pair: an impurity's own, or the one its neighbour induces), converged.
    """
    import pandas as pd

    from ..parallel import run_tasks

    engine = engine or CrystalEngine()
    geos = pair_geometries(max_distance, engine.settings.host) if geometries is None else list(geometries)
    elements = list(IMPURITY_ELEMENTS if elements is None else elements)
    if pairs is None:
        pairs = [(a, b, k) for k in range(len(geos)) for a in elements for b in elements]
    used = sorted({k for _, _, k in pairs})
    engine.prepare([geos[k]["vector"] for k in used])
    clusters = {k: engine.cluster(geos[k]["vector"]) for k in used}
    states = {s: engine.impurity(s) for s in sorted({p[0] for p in pairs} | {p[1] for p in pairs})}
    tasks = []
    for k in used:
        these = [(a, b) for a, b, kk in pairs if kk == k]
        tasks += [(k, these[i : i + chunk_size]) for i in range(0, len(these), chunk_size)]
    if client is None:
        client = "sync" if int(n_jobs) == 1 else None
    n_workers = None if int(n_jobs) < 0 else int(n_jobs)
    results = run_tasks(
        _pair_task,
        tasks,
        shared=(clusters, states, engine.settings.impurity, self_consistent),
        client=client,
        n_workers=n_workers,
        progress=progress,
        desc="geometries × element pairs",
    )
    found = {}
    for (k, these), res in zip(tasks, results):
        for (a, b), r in zip(these, res):
            found[(a, b, k)] = r
    rows = []
    comps = ["xx", "xy", "xz", "yx", "yy", "yz", "zx", "zy", "zz"]
    for a, b, k in pairs:
        t, mom, deltas, ok = found[(a, b, k)]
        t = t * 1e3
        g = geos[k]
        D = 0.5 * np.array([t[1, 2] - t[2, 1], t[2, 0] - t[0, 2], t[0, 1] - t[1, 0]])
        row = {
            "element_i": a,
            "element_j": b,
            "rx": g["vector"][0],
            "ry": g["vector"][1],
            "rz": g["vector"][2],
            "geometry": g["geometry"],
            "sublattice": g["sublattice"],
            "multiplicity": g["multiplicity"],
            "J": np.trace(t) / 3,
            "Dx": D[0],
            "Dy": D[1],
            "Dz": D[2],
        }
        row.update({f"J{c}": t["xyz".index(c[0]), "xyz".index(c[1])] for c in comps})
        row.update({"moment_i": mom[0], "moment_j": mom[1], "delta_i": deltas[0], "delta_j": deltas[1], "converged": ok})
        rows.append(row)
    return pd.DataFrame(rows)


__all__ = ["CrystalEngine", "EngineSettings", "PairResult", "exchange_table", "pair_from_states"]
