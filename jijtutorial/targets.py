"""What a model predicts: the targets J and D, their columns, their symmetry and what a model must not see.

=======  =====================  ==================================  ==========================================
target   columns (meV)          i <-> j                             crystal operation R
=======  =====================  ==================================  ==========================================
``J``    ``J``                  symmetric: J_ji = J_ij              scalar, invariant: J(R r) = J(r)
``D``    ``Dx, Dy, Dz``         antisymmetric: D_ji = -D_ij         axial vector: D(R r) = det(R) R D(r)
=======  =====================  ==================================  ==========================================

Convention: E = −Σ_{i<j} [J_ij S_i·S_j + D_ij·(S_i × S_j)], each pair once, meV; the pair vector
points from impurity i, on an upper Bi site, to j (:mod:`jijtutorial.geometry`).

**What a model must not see.** A model predicts what a pair calculation gives; for the rows it
predicts it may read none of that calculation's outputs: J, the DM vector (Dx, Dy, Dz and its
length D), the two moments and, in the model data set, the exchange tensor
(:data:`CALCULATION_OUTPUTS`). ``Target.hidden`` lists them, the target's own columns first; the
benchmark's fold models drop them from every test row (:mod:`jijtutorial.benchmark`), for a model of
J as for a model of D.

**Symmetry-forbidden D in the data.** The raw D of a row may hold components the crystal's symmetry
forbids: numerical noise of the calculation. In the JuKKR table the largest are on inversion-centred
bonds (every bond between the two Bi sublattices), where D must vanish for two equal impurities: up
to 3.4 meV (Ni-Ni at 7.51 Å), 0.3-0.9 meV at 7.83 Å. :func:`symmetrised_d` removes them the way the
spin model does (:func:`jijtutorial.spins.exchange_table`): it averages every row over all rows the
symmetry maps onto it -- the projection onto the allowed D of its bond, and the twin (B, A) where the
bond's exchange relates them. D models are scored against the symmetrised D, and against the raw D too.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .elements import IMPURITY_ELEMENTS
from .geometry import bond_class, exchange_ij, locate_bi_sites

#: Everything one pair calculation gives: what no model may read for the rows it predicts (the model data set
#: also carries the whole exchange tensor).
CALCULATION_OUTPUTS = (
    "J",
    "Dx",
    "Dy",
    "Dz",
    "D",
    "moment_i",
    "moment_j",
    "Jxx",
    "Jxy",
    "Jxz",
    "Jyx",
    "Jyy",
    "Jyz",
    "Jzx",
    "Jzy",
    "Jzz",
)

_EL = {e: i for i, e in enumerate(IMPURITY_ELEMENTS)}


@dataclass(frozen=True)
class Target:
    """A quantity a model predicts.

    Attributes
    ----------
    name : str
        ``'J'`` or ``'D'``.
    columns : tuple of str
        The tidy columns it is (meV).
    derived : tuple of str
        Tidy columns computed from them (``'D'`` = |D|).
    exchange : str
        How it behaves when i and j are exchanged: ``'symmetric'`` or ``'antisymmetric'``.
    point_group : str
        How it transforms under a crystal operation: ``'scalar'`` (invariant) or ``'axial vector'``.
    description : str
        One line for tables and pages.
    """

    name: str
    columns: tuple
    derived: tuple
    exchange: str
    point_group: str
    description: str

    @property
    def hidden(self) -> tuple:
        """Columns a model must not read for the rows it predicts: its own, then the other outputs of the calculation."""
        return tuple(dict.fromkeys(self.columns + self.derived + CALCULATION_OUTPUTS))

    @property
    def is_vector(self) -> bool:
        return len(self.columns) > 1

    def values(self, frame: pd.DataFrame) -> np.ndarray:
        """The target of each row, as the data give it: (n,) for J, (n, 3) for D (meV)."""
        missing = [c for c in self.columns if c not in frame.columns]
        if missing:
            raise ValueError(f"target {self.name}: the pair table lacks column(s) {missing}.")
        v = frame[list(self.columns)].to_numpy(float)
        return v[:, 0] if not self.is_vector else v

    def reference(self, frame: pd.DataFrame) -> np.ndarray:
        """What predictions are scored against: J itself; for D the symmetrised D (:func:`symmetrised_d`)."""
        return self.values(frame) if not self.is_vector else symmetrised_d(frame)

    def hide(self, frame: pd.DataFrame) -> pd.DataFrame:
        """``frame`` without the columns of :attr:`hidden` (the rows a model predicts)."""
        return frame.drop(columns=[c for c in self.hidden if c in frame.columns])


J = Target(
    "J",
    ("J",),
    (),
    "symmetric",
    "scalar",
    "isotropic exchange J (meV): a scalar, the same for every equivalent bond and seen from i or j",
)
D = Target(
    "D",
    ("Dx", "Dy", "Dz"),
    ("D",),
    "antisymmetric",
    "axial vector",
    "Dzyaloshinskii–Moriya vector D (meV): turns with the bond (det(R) R D), D_ji = -D_ij",
)
#: The targets by name.
TARGETS = {"J": J, "D": D}


def get_target(target) -> Target:
    """The :class:`Target` called ``target`` ('J' or 'D'; a Target is returned as it is)."""
    if isinstance(target, Target):
        return target
    if target not in TARGETS:
        raise ValueError(f"unknown target {target!r}: use 'J' (the isotropic exchange) or 'D' (the DM vector).")
    return TARGETS[target]


# --------------------------------------------------------------------------------------------
# D on the allowed subspace of each bond
# --------------------------------------------------------------------------------------------
@dataclass
class DChannels:
    """The rows of a pair table decomposed onto the D their bonds allow (see :mod:`jijtutorial.geometry`).

    A row (A at i, B at v) belongs to a bond class with representative r0; ``D_row = maps[r] @ D(p, q, r0)``
    with ``(p, q)`` its elements (exchanged if the class operation exchanged i and j), and
    ``D(p, q, r0) = sum_k c_k(p, q) e_k`` over the allowed basis of the class. A *channel* is one basis
    vector of one class; c_k(q, p) = s_k c_k(p, q) with the channel's parity s_k (+1, -1, or 0: unrelated).

    Attributes
    ----------
    classes : list of BondClass
        The bond classes, in order of first appearance (after any given ones).
    row_class : ndarray of int (n,)
    maps : ndarray (n, 3, 3)
    p, q : ndarray of int (n,)
        Element indices (into :data:`jijtutorial.elements.IMPURITY_ELEMENTS`) at the representative.
    channel : list of (class index, basis index)
    label : list of str (n_channels,)
        The bond-frame vector each basis vector came from: 't', 'rho' or 'z'.
    parity : ndarray of int (n_channels,)
    basis : ndarray (n_channels, 3)
    distance : ndarray (n_channels,)
        |r0| (Å).
    sublattice : ndarray (n_channels,)
        0 (same) or 1 (other).
    obs_row, obs_channel : ndarray of int (n_obs,)
        The (row, channel) of each *observation*: every row once per allowed basis vector of its class,
        except the forbidden ones (A = A on an antisymmetric channel: exactly 0).
    obs_lo, obs_hi : ndarray of int (n_obs,)
        The element pair as the channel sees it: ordered by index when the parity is ±1, else (p, q).
    obs_sign : ndarray (n_obs,)
        s where ordering reversed the pair, else 1: the channel's value is ``obs_sign * c_k(p, q)``.
    """

    classes: list
    row_class: np.ndarray
    maps: np.ndarray
    p: np.ndarray
    q: np.ndarray
    channel: list
    label: list
    parity: np.ndarray
    basis: np.ndarray
    distance: np.ndarray
    sublattice: np.ndarray
    obs_row: np.ndarray
    obs_channel: np.ndarray
    obs_lo: np.ndarray
    obs_hi: np.ndarray
    obs_sign: np.ndarray

    def coefficients(self, D) -> np.ndarray:
        """Each observation's value (n_obs,) from the rows' D (n, 3) meV: ``obs_sign * e_k · Mᵀ D``."""
        D = np.asarray(D, float)
        rep = np.einsum("nba,nb->na", self.maps, D)  # M^T D: D at the representative
        c = np.einsum("oa,oa->o", self.basis[self.obs_channel], rep[self.obs_row])
        return c * self.obs_sign

    def assemble(self, values, n_rows: int) -> np.ndarray:
        """Row D vectors (n, 3) from observation values (the inverse of :meth:`coefficients` on the allowed D)."""
        rep = np.zeros((n_rows, 3))
        np.add.at(rep, self.obs_row, (np.asarray(values, float) * self.obs_sign)[:, None] * self.basis[self.obs_channel])
        return np.einsum("nab,nb->na", self.maps, rep)


def decompose(frame: pd.DataFrame, classes=None) -> DChannels:
    """Decompose the rows of a pair table (element_i, element_j, rx, ry, rz in Å) onto the allowed D of their bonds.

    ``classes``: bond classes to number first (e.g. those of a fitted model); new ones follow.
    """
    for c in ("element_i", "element_j", "rx", "ry", "rz"):
        if c not in frame.columns:
            raise ValueError(
                f"the D of a pair needs its elements and its pair vector: column {c!r} is missing "
                "(D turns with the bond, so a geometry label alone does not say which way it points)."
            )
    idx = []
    for c in ("element_i", "element_j"):
        col = frame[c].astype(str).to_numpy()
        bad = ~np.isin(col, IMPURITY_ELEMENTS)
        if bad.any():
            k = int(np.flatnonzero(bad)[0])
            raise ValueError(
                f"row {k}, column {c!r}: unknown impurity element {col[k]!r}; expected one of {', '.join(IMPURITY_ELEMENTS)}."
            )
        idx.append(np.array([_EL[e] for e in col], dtype=int))
    a, b = idx
    sites = locate_bi_sites(frame[["rx", "ry", "rz"]].to_numpy(float))
    classes = list(classes or [])
    index = {c.geometry: k for k, c in enumerate(classes)}
    n = len(frame)
    row_class = np.empty(n, int)
    maps = np.empty((n, 3, 3))
    p, q = a.copy(), b.copy()
    for r, s in enumerate(sites):
        c = bond_class(s.position)
        if c.geometry not in index:
            index[c.geometry] = len(classes)
            classes.append(c)
        row_class[r] = index[c.geometry]
        M, ex = c.member(s.position)
        maps[r] = M
        if ex:
            p[r], q[r] = b[r], a[r]
    channel, label, parity, basis, dist, sub, first = [], [], [], [], [], [], []
    for k, c in enumerate(classes):
        B, par, names = c.symmetry.allowed_basis()
        first.append(len(channel))
        for j in range(len(B)):
            channel.append((k, j))
            label.append(names[j])
            parity.append(int(par[j]))
            basis.append(B[j])
            dist.append(c.distance)
            sub.append(0.0 if c.sublattice == "same" else 1.0)
    obs = []
    for r in range(n):
        k = row_class[r]
        for ch in range(first[k], first[k + 1] if k + 1 < len(first) else len(channel)):
            s = parity[ch]
            if s == -1 and p[r] == q[r]:
                continue  # forbidden: exactly zero
            if s != 0 and p[r] > q[r]:
                obs.append((r, ch, q[r], p[r], float(s)))
            else:
                obs.append((r, ch, p[r], q[r], 1.0))
    o = np.array(obs, float).reshape(-1, 5)
    return DChannels(
        classes,
        row_class,
        maps,
        p,
        q,
        channel,
        label,
        np.array(parity, int),
        np.array(basis, float).reshape(-1, 3),
        np.array(dist),
        np.array(sub),
        o[:, 0].astype(int),
        o[:, 1].astype(int),
        o[:, 2].astype(int),
        o[:, 3].astype(int),
        o[:, 4],
    )


def symmetrised_d(frame: pd.DataFrame, channels: DChannels | None = None) -> np.ndarray:
    """D of each row (meV, (n, 3)) averaged over every row of ``frame`` the crystal's symmetry maps onto it.

    Each row's D is projected onto the D its bond allows; where the bond's own operations exchange i
    and j, (A, B) and (B, A) are averaged with the sign of the channel; equal impurities on an
    inversion-centred bond get D = 0. The result is what :func:`jijtutorial.spins.exchange_table`
    gives the spin model.
    """
    ch = decompose(frame) if channels is None else channels
    y = ch.coefficients(D.values(frame))
    key = ch.obs_channel.astype(np.int64) * 10_000 + ch.obs_lo * 100 + ch.obs_hi
    _, inv = np.unique(key, return_inverse=True)
    inv = inv.reshape(-1)
    mean = np.bincount(inv, weights=y) / np.bincount(inv)
    return ch.assemble(mean[inv], len(frame))


#: The checks of :func:`d_symmetry_checks`, in order.
D_SYMMETRY_CHECKS = (
    "equivalent bonds: rotated copies",
    "D_ji = −D_ij (the bond seen from j)",
    "D(A, A) = 0 on inversion-centred bonds",
)


def d_symmetry_checks(predict, vectors, elements) -> pd.DataFrame:
    """How far a model of D is from the symmetry of :data:`D`: the largest deviation of each rule (meV).

    For every bond class among ``vectors`` and every ordered pair of ``elements``, the model's D at
    the class's representative r0, ``d0 = predict(A, B, r0)``, is compared with

    * its prediction on every other bond of the class: ``predict(A', B', r) = M d0`` with the map
      ``M`` and element order of :meth:`jijtutorial.geometry.BondClass.member` (a rotated copy,
      ``det(R) R d0``, or ``-det(R) R d0`` with the elements exchanged where the operation exchanges
      i and j);
    * the same bond seen from impurity j (:func:`jijtutorial.geometry.exchange_ij`):
      ``predict(B, A, r_ji) = -d0``;
    * zero, for A = A on an inversion-centred bond.

    Parameters
    ----------
    predict : callable
        ``predict(frame) -> ndarray (n, 3)`` (meV) for a frame with columns element_i, element_j,
        rx, ry, rz (Å) -- e.g. a fitted model's ``predict``.
    vectors : array-like (m, 3)
        Bond vectors (Å) from an upper Bi site; their classes are checked (each once).
    elements : sequence of str
        The impurity elements whose ordered pairs are checked.

    Returns
    -------
    pandas.DataFrame
        One row per rule of :data:`D_SYMMETRY_CHECKS`: ``check``, ``comparisons`` (predicted vectors
        compared), ``largest deviation`` (meV, max over components; NaN if nothing to compare) and
        ``largest |D|`` (meV, of the predictions compared: the scale a deviation is small against).
    """
    elements = list(elements)
    if not elements:
        raise ValueError("d_symmetry_checks: give at least one element.")
    vecs = np.asarray(vectors, dtype=float).reshape(-1, 3)
    classes = {}
    for v in vecs:
        c = bond_class(v)
        classes.setdefault(c.geometry, c)
    pairs = [(a, b) for a in elements for b in elements]
    ai = np.array([a for a, _ in pairs])
    bi = np.array([b for _, b in pairs])
    dev = dict.fromkeys(D_SYMMETRY_CHECKS, -np.inf)
    count = dict.fromkeys(D_SYMMETRY_CHECKS, 0)
    scale = dict.fromkeys(D_SYMMETRY_CHECKS, 0.0)

    def ask(first, second, r):
        q = pd.DataFrame({"element_i": first, "element_j": second, "rx": r[0], "ry": r[1], "rz": r[2]})
        out = np.asarray(predict(q), dtype=float).reshape(len(q), 3)
        return out

    def note(name, got, want):
        if len(got):
            dev[name] = max(dev[name], float(np.abs(got - want).max()))
            count[name] += len(got)
            scale[name] = max(scale[name], float(np.linalg.norm(got, axis=1).max()), float(np.linalg.norm(want, axis=1).max()))

    for c in classes.values():
        r0 = c.representative
        d0 = ask(ai, bi, r0)
        for r, M, exchanged in zip(c.vectors, c.maps, c.exchanged):
            got = ask(bi, ai, r) if exchanged else ask(ai, bi, r)
            note(D_SYMMETRY_CHECKS[0], got, d0 @ M.T)
        note(D_SYMMETRY_CHECKS[1], ask(bi, ai, exchange_ij(r0, c.sublattice)), -d0)
        if c.symmetry.inversion_centred:
            same = ai == bi
            note(D_SYMMETRY_CHECKS[2], d0[same], np.zeros((int(same.sum()), 3)))
    return pd.DataFrame(
        {
            "check": list(D_SYMMETRY_CHECKS),
            "comparisons": [count[k] for k in D_SYMMETRY_CHECKS],
            "largest deviation": [dev[k] if count[k] else np.nan for k in D_SYMMETRY_CHECKS],
            "largest |D|": [scale[k] if count[k] else np.nan for k in D_SYMMETRY_CHECKS],
        }
    )


__all__ = [
    "CALCULATION_OUTPUTS",
    "D",
    "DChannels",
    "D_SYMMETRY_CHECKS",
    "J",
    "TARGETS",
    "Target",
    "d_symmetry_checks",
    "decompose",
    "get_target",
    "symmetrised_d",
]
