"""The classical spin model: unit spins, a pair list (each pair once) and its CSR form for the kernels.

H = −Σ_{i<j} [J_ij S_i·S_j + D_ij·(S_i × S_j)] − Σ_i B·S_i, energies in meV.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from ._exchange_table import check_table
from ._lattice import DiluteConfiguration, check_size_for_cutoff


@dataclass(frozen=True)
class SpinModel:
    """Classical Heisenberg + DMI model on ``n_spins`` unit spins.

    Attributes
    ----------
    n_spins : number of spins.
    pair_i, pair_j : (n_pairs,) int, i < j, each pair once.
    pair_J : (n_pairs,) meV.
    pair_D : (n_pairs, 3) meV, D_ij of the pair (i, j) with i < j.
    moments : (n_spins,) magnetic moments (μB); only the spin dynamics uses them.
    elements : (n_spins,) labels of the spins (chemical symbols), optional.
    info : free-form description (where the couplings came from).
    pair_shift : (n_pairs, 3) int, optional: for a periodic model, the cell translation n of each
        pair, such that r_j + n·cell − r_i is the pair's vector; :func:`ferromagnetic_network`
        needs it to tell whether a cluster wraps around the cell (percolates).

    The CSR form (``indptr``, ``indices``, ``csr_J``, ``csr_D``) holds every pair twice, with
    D_ji = −D_ij, so that the local field of spin i is one loop over row i.
    """

    n_spins: int
    pair_i: np.ndarray
    pair_j: np.ndarray
    pair_J: np.ndarray
    pair_D: np.ndarray
    moments: np.ndarray
    elements: np.ndarray | None = None
    info: dict = field(default_factory=dict)
    pair_shift: np.ndarray | None = field(default=None, repr=False)
    indptr: np.ndarray = field(init=False, repr=False)
    indices: np.ndarray = field(init=False, repr=False)
    csr_J: np.ndarray = field(init=False, repr=False)
    csr_D: np.ndarray = field(init=False, repr=False)

    def __post_init__(self):
        n = int(self.n_spins)
        i = np.asarray(self.pair_i, dtype=np.int64)
        j = np.asarray(self.pair_j, dtype=np.int64)
        J = np.asarray(self.pair_J, dtype=float)
        D = np.asarray(self.pair_D, dtype=float).reshape(len(i), 3)
        if n < 1:
            raise ValueError(f"n_spins must be positive, not {self.n_spins!r}.")
        if not (len(i) == len(j) == len(J) == len(D)):
            raise ValueError("pair_i, pair_j, pair_J and pair_D must have the same length.")
        if len(i) and (i.min() < 0 or j.max() >= n or np.any(i >= j)):
            raise ValueError("pairs must satisfy 0 <= pair_i < pair_j < n_spins (each pair once).")
        if len(i) and len(np.unique(i * n + j)) != len(i):
            raise ValueError("a pair appears twice in the pair list; give each pair once.")
        if not (np.all(np.isfinite(J)) and np.all(np.isfinite(D))):
            raise ValueError("pair_J and pair_D must be finite (meV).")
        moments = np.broadcast_to(np.asarray(self.moments, dtype=float), (n,)).copy()
        shift = None
        if self.pair_shift is not None:
            shift = np.asarray(self.pair_shift).reshape(-1, 3)
            if len(shift) != len(i) or not np.array_equal(shift, np.rint(shift)):
                raise ValueError("pair_shift must hold one integer cell translation (3,) per pair.")
            shift = shift.astype(np.int64)
        rows = np.concatenate([i, j])
        cols = np.concatenate([j, i])
        order = np.lexsort((cols, rows))
        indptr = np.zeros(n + 1, dtype=np.int64)
        np.add.at(indptr, rows + 1, 1)
        object.__setattr__(self, "n_spins", n)
        object.__setattr__(self, "pair_i", i)
        object.__setattr__(self, "pair_j", j)
        object.__setattr__(self, "pair_J", J)
        object.__setattr__(self, "pair_D", D)
        object.__setattr__(self, "moments", moments)
        object.__setattr__(self, "pair_shift", shift)
        object.__setattr__(self, "indptr", np.cumsum(indptr))
        object.__setattr__(self, "indices", cols[order].astype(np.int64))
        object.__setattr__(self, "csr_J", np.ascontiguousarray(np.concatenate([J, J])[order]))
        object.__setattr__(self, "csr_D", np.ascontiguousarray(np.concatenate([D, -D])[order]))

    @property
    def n_pairs(self) -> int:
        return len(self.pair_i)

    @property
    def has_dmi(self) -> bool:
        """True if any D is non-zero (the kernels then use the slower DMI loop)."""
        return bool(np.any(self.pair_D != 0.0))

    @property
    def neighbours(self) -> np.ndarray:
        """Number of coupled partners of each spin, shape (n_spins,)."""
        return np.diff(self.indptr)

    def energy(self, spins, field=None) -> float:
        """Energy (meV) of ``spins`` (n_spins, 3) by a direct sum over the pair list (NumPy, no kernel)."""
        s = _check_spins(spins, self.n_spins)
        si, sj = s[self.pair_i], s[self.pair_j]
        e = -np.sum(self.pair_J * np.einsum("pa,pa->p", si, sj)) - np.sum(self.pair_D * np.cross(si, sj))
        if field is not None:
            e -= float(np.sum(s @ np.asarray(field, dtype=float)))
        return float(e)

    def select(self, keep) -> SpinModel:
        """The model restricted to the spins ``keep`` (boolean mask or indices); pairs to removed spins drop out."""
        keep = np.asarray(keep)
        idx = np.flatnonzero(keep) if keep.dtype == bool else np.unique(keep.astype(int))
        new = -np.ones(self.n_spins, dtype=np.int64)
        new[idx] = np.arange(len(idx))
        ok = (new[self.pair_i] >= 0) & (new[self.pair_j] >= 0)
        return SpinModel(
            len(idx),
            new[self.pair_i[ok]],
            new[self.pair_j[ok]],
            self.pair_J[ok],
            self.pair_D[ok],
            self.moments[idx],
            None if self.elements is None else self.elements[idx],
            dict(self.info),
            None if self.pair_shift is None else self.pair_shift[ok],
        )

    @classmethod
    def from_pairs(cls, n_spins, pair_i, pair_j, J, D=None, moments=1.0, elements=None, info=None, shift=None) -> SpinModel:
        """Model from a pair list in any order (i ≠ j); pairs with i > j are flipped (D → −D, shift → −shift)."""
        i = np.asarray(pair_i, dtype=np.int64)
        j = np.asarray(pair_j, dtype=np.int64)
        J = np.broadcast_to(np.asarray(J, dtype=float), i.shape).copy()
        D = np.zeros((len(i), 3)) if D is None else np.broadcast_to(np.asarray(D, dtype=float), (len(i), 3)).copy()
        if np.any(i == j):
            raise ValueError("pair_i and pair_j must differ: a spin does not couple to itself.")
        flip = i > j
        i[flip], j[flip] = j[flip].copy(), i[flip].copy()
        D[flip] *= -1.0
        if shift is not None:
            shift = np.array(shift, dtype=float).reshape(len(i), 3)
            shift[flip] *= -1.0
        return cls(int(n_spins), i, j, J, D, moments, elements, dict(info or {}), shift)


def _check_spins(spins, n) -> np.ndarray:
    s = np.asarray(spins, dtype=float)
    if s.shape != (n, 3):
        raise ValueError(f"spins must have shape ({n}, 3), not {s.shape}.")
    return s


def _pairs_within(positions, cell, cutoff):
    """All pairs i < j within ``cutoff`` (Å) in a periodic cell: i, j, their vector r_j + n·cell − r_i (Å)
    and the cell translation n (int, (n_pairs, 3))."""
    from ase import Atoms
    from ase.neighborlist import neighbor_list

    atoms = Atoms(numbers=np.ones(len(positions), dtype=int), positions=positions, cell=cell, pbc=True)
    i, j, d, shift = neighbor_list("ijDS", atoms, cutoff + 1e-6, self_interaction=False)
    keep = i < j
    return i[keep], j[keep], d[keep], shift[keep]


def spin_model(configuration: DiluteConfiguration, table: pd.DataFrame, *, moments=None) -> SpinModel:
    """The spin model of a dilute configuration with the couplings of an expanded exchange table.

    Parameters
    ----------
    configuration : from :func:`jijtutorial.spins.random_configuration`.
    table : from :func:`jijtutorial.spins.exchange_table`, covering the configuration's elements;
        its cut-off is the model's.
    moments : {element: μB} for the spin dynamics; default: the mean ``moment_i`` of each element in
        ``table.attrs['moments']`` if present, else 1 μB.

    Every pair of dopants within the cut-off gets the J and D of its actual geometry: for a dopant i
    on an upper Bi site the table entry of (element_i, element_j, r_j − r_i); for i on a lower Bi
    site that of the inverted vector −(r_j − r_i) (inversion maps the lower onto the upper Bi
    sublattice; D, an axial vector, is unchanged). Pairs with J = 0 and D = 0 (e.g. zero-filled
    shells) are left out of the pair list; they would not change any energy.
    """
    check_table(table)
    cutoff = float(table.attrs["cutoff"])
    check_size_for_cutoff(configuration.size, cutoff)
    els = configuration.elements
    have = set(table["element_i"])
    lacking = sorted(set(els) - have)
    if lacking:
        raise ValueError(
            f"table has no couplings for {lacking}; build it with exchange_table(data, elements=[...]) "
            f"including every dopant of the configuration."
        )
    pi, pj, vec, shift = _pairs_within(configuration.positions, configuration.cell, cutoff)
    sub = configuration.sublattice
    J, D = _lookup(table, els, configuration.positions, sub, pi, pj, vec)
    # the same pair seen from j: J must agree and D_ji = -D_ij, or the table breaks the symmetry
    J_back, D_back = _lookup(table, els, configuration.positions, sub, pj, pi, -vec)
    bad = (np.abs(J - J_back) > 1e-6 * (1 + np.abs(J))) | np.any(np.abs(D + D_back) > 1e-6 * (1 + np.abs(D)), axis=1)
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"table is not symmetric: pair {els[pi[k]]}-{els[pj[k]]} at {np.round(vec[k], 3)} Å has J = {J[k]:.6g}, "
            f"D = {np.round(D[k], 6)} seen from {els[pi[k]]} but J = {J_back[k]:.6g}, D_ji = {np.round(D_back[k], 6)} seen "
            f"from {els[pj[k]]} (need J_ij = J_ji, D_ij = -D_ji). Build the table with exchange_table()."
        )
    # pairs whose couplings are exactly zero (zero-filled shells) contribute nothing: leave them out
    keep = (J != 0.0) | np.any(D != 0.0, axis=1)
    pi, pj, J, D, shift = pi[keep], pj[keep], J[keep], D[keep], shift[keep]
    if moments is None:
        moments = table.attrs.get("moments", {})
    mu = np.array([float(moments.get(e, 1.0)) or 1.0 for e in els]) if isinstance(moments, dict) else moments
    info = {
        "cutoff": cutoff,
        "size": configuration.size,
        "data": table.attrs.get("data", ""),
        "concentrations": dict(configuration.concentrations),
    }
    return SpinModel(configuration.n_spins, pi, pj, J, D, mu, np.asarray(els), info, shift)


def _lookup(table, els, positions, sub, pi, pj, vec):
    """J (meV) and D (meV, (n, 3)) of the directed pairs (pi -> pj) at vectors ``vec`` (Å)."""
    lower = sub[pi] == "lower"
    look = np.where(lower[:, None], -vec, vec)
    J = np.empty(len(pi))
    D = np.empty((len(pi), 3))
    found = np.zeros(len(pi), dtype=bool)
    # numpy arrays, not a pandas groupby: the table's attrs would be deep-copied for every group
    ti, tj = table["element_i"].to_numpy().astype(str), table["element_j"].to_numpy().astype(str)
    tvec = table[["rx", "ry", "rz"]].to_numpy(float)
    tJ, tD = table["J"].to_numpy(float), table[["Dx", "Dy", "Dz"]].to_numpy(float)
    ei, ej = np.asarray(els)[pi].astype(str), np.asarray(els)[pj].astype(str)
    for a, b in sorted(set(zip(ei.tolist(), ej.tolist()))):
        sel = np.flatnonzero((ei == a) & (ej == b))
        rows = np.flatnonzero((ti == a) & (tj == b))
        if len(rows) == 0:
            continue
        tree = cKDTree(tvec[rows])
        dist, k = tree.query(look[sel], distance_upper_bound=0.02)
        ok = np.isfinite(dist)
        J[sel[ok]] = tJ[rows[k[ok]]]
        D[sel[ok]] = tD[rows[k[ok]]]
        found[sel[ok]] = True
    if not found.all():
        k = int(np.flatnonzero(~found)[0])
        raise ValueError(
            f"pair ({els[pi[k]]} at {np.round(positions[pi[k]], 3)} Å, {els[pj[k]]}) at vector {np.round(vec[k], 3)} Å "
            f"has no entry in the table; the table does not match the configuration's lattice."
        )
    return J, D


#: Conventional cubic cells: fractional positions of the sites.
_CUBIC = {
    "sc": [(0, 0, 0)],
    "bcc": [(0, 0, 0), (0.5, 0.5, 0.5)],
    "fcc": [(0, 0, 0), (0.5, 0.5, 0), (0.5, 0, 0.5), (0, 0.5, 0.5)],
}
#: Nearest-neighbour distance (lattice constant 1) and coordination.
_NN = {"sc": (1.0, 6), "bcc": (np.sqrt(3) / 2, 8), "fcc": (np.sqrt(2) / 2, 12)}


def lattice_model(kind: str, L: int, J: float = 1.0, *, D=None) -> SpinModel:
    """Nearest-neighbour Heisenberg model on an L × L × L periodic cubic lattice ('sc', 'bcc', 'fcc').

    ``J`` (meV) on every nearest-neighbour pair; ``D`` (3,) meV, optional, the same DM vector on
    every pair (i, j) with i < j (a test device, not a physical DMI pattern). Sites: L³ × (1, 2, 4).
    """
    if kind not in _CUBIC:
        raise ValueError(f"kind must be one of {tuple(_CUBIC)}, not {kind!r}.")
    if int(L) != L or L < 3:
        raise ValueError(f"L must be an integer ≥ 3 (the cell must hold each neighbour pair once), not {L!r}.")
    L = int(L)
    basis = np.array(_CUBIC[kind], dtype=float)
    grid = np.stack(np.meshgrid(*[np.arange(L)] * 3, indexing="ij"), -1).reshape(-1, 3)
    pos = (grid[:, None, :] + basis[None, :, :]).reshape(-1, 3)
    nn, z = _NN[kind]
    i, j, _, shift = _pairs_within(pos, np.eye(3) * L, nn * 1.01)
    if len(i) * 2 != z * len(pos):  # pragma: no cover - geometry guard
        raise RuntimeError(f"{kind} lattice L={L}: found {2 * len(i) / len(pos):.2f} neighbours per site, expected {z}.")
    return SpinModel.from_pairs(len(pos), i, j, J, D, info={"lattice": kind, "L": L, "J": J}, shift=shift)


def clusters(model: SpinModel, threshold: float = 0.0) -> np.ndarray:
    """Connected clusters of spins linked by |J| > ``threshold`` (meV): a label per spin, shape (n_spins,)."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    strong = np.abs(model.pair_J) > threshold
    n = model.n_spins
    graph = coo_matrix((np.ones(strong.sum()), (model.pair_i[strong], model.pair_j[strong])), shape=(n, n))
    return connected_components(graph, directed=False)[1]


def largest_cluster_fraction(model: SpinModel, threshold: float = 0.0) -> float:
    """Fraction of the spins in the largest cluster of :func:`clusters` (→ 0 below the percolation threshold)."""
    labels = clusters(model, threshold)
    return float(np.bincount(labels).max() / model.n_spins)


def ferromagnetic_network(model: SpinModel, threshold: float = 0.0) -> dict:
    """The largest cluster of spins joined by ferromagnetic bonds (J > ``threshold``, meV) and whether it percolates.

    A finite periodic cell has no infinite cluster; the standard stand-in is a cluster that *wraps*
    around the cell: following its bonds one comes back to the same spin in another periodic image.
    The cluster is unwrapped along a spanning tree (each spin gets the cell translation of its image);
    every bond that closes a loop with a non-zero net translation is a winding, and the rank of the
    windings (0 to 3) counts the independent directions in which the cluster wraps. A cluster that
    wraps in all three is a percolating three-dimensional network: only then can the ferromagnetic
    bonds carry long-range order (a network that wraps in fewer directions is a layer or a chain,
    which a Heisenberg magnet does not order at T > 0).

    Returns {'fraction': share of the spins in the largest cluster, 'wraps': rank of its windings,
    'percolates': wraps == 3}. Needs the model's ``pair_shift`` (set by :func:`spin_model` and
    :func:`lattice_model`).
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import breadth_first_order, connected_components

    if model.pair_shift is None:
        raise ValueError(
            "ferromagnetic_network needs a periodic model with pair_shift (the cell translation of each "
            "pair); build it with spin_model() or lattice_model()."
        )
    fm = model.pair_J > threshold
    i, j, shift = model.pair_i[fm], model.pair_j[fm], model.pair_shift[fm]
    n = model.n_spins
    if n == 0 or not fm.any():
        return {"fraction": (1.0 / n) if n else 0.0, "wraps": 0, "percolates": False}
    graph = coo_matrix((np.ones(len(i)), (i, j)), shape=(n, n)).tocsr()
    labels = connected_components(graph, directed=False)[1]
    big = int(np.bincount(labels).argmax())
    members = np.flatnonzero(labels == big)
    # unwrap along a breadth-first spanning tree: offset(child) = offset(parent) ± shift of their bond
    bond = {(int(a), int(b)): k for k, (a, b) in enumerate(zip(i, j))}
    order, parent = breadth_first_order(graph, members[0], directed=False, return_predecessors=True)
    offset = np.zeros((n, 3), dtype=np.int64)
    for v in order[1:]:
        u = parent[v]
        k = bond.get((int(u), int(v)))
        offset[v] = offset[u] + shift[k] if k is not None else offset[u] - shift[bond[(int(v), int(u))]]
    inside = labels[i] == big
    winding = offset[i[inside]] + shift[inside] - offset[j[inside]]
    winding = winding[np.any(winding != 0, axis=1)]
    wraps = int(np.linalg.matrix_rank(winding.astype(float))) if len(winding) else 0
    return {"fraction": float(len(members) / n), "wraps": wraps, "percolates": wraps == 3}


def percolation_curve(table: pd.DataFrame, element: str, concentrations, size, *, thresholds=(0.0,), seeds=(0, 1, 2)):
    """Fraction of the dopants in the largest cluster, against concentration, for coupling thresholds (meV).

    Returns columns concentration, threshold, seed, fraction. Below the percolation threshold of the
    bonds |J| > threshold the fraction falls towards 0 as the cell grows; above it, it stays finite.
    """
    from ._lattice import random_configuration

    rows = []
    for c in concentrations:
        for seed in seeds:
            model = spin_model(random_configuration({element: float(c)}, size, seed=seed), table)
            for t in thresholds:
                rows.append(
                    {
                        "concentration": float(c),
                        "threshold": float(t),
                        "seed": seed,
                        "fraction": largest_cluster_fraction(model, t),
                    }
                )
    return pd.DataFrame(rows)
