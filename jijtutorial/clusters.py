"""More than two impurities: exchange inside a cluster embedded exactly by the Dyson equation.

A pair model assumes J_ij depends only on the two impurities and their vector. With a third
impurity nearby the host's electrons scatter off it too, and J_ij changes. Here all n impurities
of a cluster are embedded at once,

    G = (1 − G_0 V)^{-1} G_0   on the n-site block,  <a|G_0|b> = G_0(r_b − r_a),

and the Liechtenstein formula is applied to every pair (a, b) of the cluster with the full
G_ab, G_ba, from the three reference directions (:func:`jijtutorial.greens.assemble_references`).
With n = 2 this is exactly :func:`jijtutorial.greens.pair_exchange`.
"""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pandas as pd

from .elements import z_of
from .greens import (
    DEFAULT_IMPURITY_MODEL,
    HostGreen,
    assemble_references,
    embed,
    impurity_on_contour,
    impurity_potential,
    liechtenstein,
    upper_bi_projector,
)
from .units import EV_TO_MEV


def _check_cluster(elements, positions) -> tuple[list[str], np.ndarray]:
    elements = [str(e) for e in elements]
    for k, e in enumerate(elements):
        z_of(e, where=f"elements[{k}]")
    pos = np.asarray(positions, dtype=float)
    if pos.ndim != 2 or pos.shape[1] != 3 or len(pos) != len(elements):
        raise ValueError(f"positions must have shape ({len(elements)}, 3) (Å), one row per element, not {pos.shape}.")
    if len(elements) < 2:
        raise ValueError("a cluster needs at least two impurities.")
    if not np.all(np.isfinite(pos)):
        raise ValueError("positions must be finite numbers (Å).")
    d = np.linalg.norm(pos[:, None] - pos[None], axis=-1)
    a, b = np.triu_indices(len(pos), 1)
    if np.any(d[a, b] < 1e-6):
        k = int(np.argmin(d[a, b]))
        raise ValueError(f"impurities {a[k]} and {b[k]} sit on the same site; each needs its own.")
    return elements, pos


def cluster_tensors(elements, positions, host: HostGreen, *, impurity_model: str = DEFAULT_IMPURITY_MODEL) -> np.ndarray:
    """Exchange tensors (eV) of every pair of an impurity cluster, shape (n, n, 3, 3).

    elements: n symbols; positions: (n, 3) lattice vectors of the host model (Å), the sites of the
    impurities; host: a computed :class:`HostGreen`. Entry [a, b] is J_ab (E = −e_a·J_ab·e_b, each
    pair once); the diagonal is zero.
    """
    elements, pos = _check_cluster(elements, positions)
    n = len(elements)
    nb = host.model.n_basis
    diffs = (pos[None, :, :] - pos[:, None, :]).reshape(-1, 3)  # r_b − r_a for block (a, b)
    unique, inverse = np.unique(np.round(diffs, 8), axis=0, return_inverse=True)
    g = host(unique)  # (nz, nU, nb, nb)
    nz = g.shape[0]
    blocks = g[:, np.asarray(inverse).reshape(n, n)]  # (nz, n, n, nb, nb)
    G0 = blocks.transpose(0, 1, 3, 2, 4).reshape(nz, n * nb, n * nb)
    projector = upper_bi_projector()
    params = [impurity_on_contour(e, host.contour, impurity_model) for e in elements]

    def per_reference(direction):
        V = np.zeros((nz, n * nb, n * nb), dtype=complex)
        for a, (U, delta) in enumerate(params):
            V[:, a * nb : (a + 1) * nb, a * nb : (a + 1) * nb] = impurity_potential(U, delta, direction, nb // 2, projector)
        G = embed(G0, V)
        Jr = np.zeros((n, n, 3, 3))
        for a, b in combinations(range(n), 2):
            g_ab = G[:, a * nb : (a + 1) * nb, b * nb : (b + 1) * nb]
            g_ba = G[:, b * nb : (b + 1) * nb, a * nb : (a + 1) * nb]
            Jr[a, b] = liechtenstein(g_ab, g_ba, params[a][1], params[b][1], host.contour, projector)
            Jr[b, a] = Jr[a, b].T
        return Jr

    return assemble_references(per_reference)


def cluster_exchange(elements, positions, host: HostGreen, *, impurity_model: str = DEFAULT_IMPURITY_MODEL) -> pd.DataFrame:
    """Isotropic J (meV, trace/3 of the tensor) of every pair a < b of an impurity cluster.

    Returns one row per pair: indices, elements, distance (Å) and J (meV; > 0 ferromagnetic).
    """
    elements, pos = _check_cluster(elements, positions)
    T = cluster_tensors(elements, pos, host, impurity_model=impurity_model)
    rows = []
    for a, b in combinations(range(len(elements)), 2):
        rows.append(
            {
                "a": a,
                "b": b,
                "element_a": elements[a],
                "element_b": elements[b],
                "distance": float(np.linalg.norm(pos[b] - pos[a])),
                "J": float(np.trace(T[a, b]) / 3 * EV_TO_MEV),
            }
        )
    return pd.DataFrame(rows)


__all__ = ["cluster_exchange", "cluster_tensors"]
