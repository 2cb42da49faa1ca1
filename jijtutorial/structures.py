"""Impurity pairs embedded in Bi2Te3: periodic supercells and finite atomic environments.

The crystal itself -- lattice constants, the host cell, Bi sites, pair vectors, their labels and the
crystal's symmetry -- lives in :mod:`jijtutorial.geometry`; this module builds atoms around a pair.
Conventions (those of the JuKKR data README): hexagonal setting of R-3m (No. 166), ``a`` along x,
``c`` along z, lengths in Å. Impurity i sits on the *upper* Bi layer of a quintuple layer (QL) and
impurity j on the Bi site at ``r_i + vector``.
"""

from __future__ import annotations

import numpy as np
from ase import Atoms

from .elements import symbol_of, z_of

# The crystal's constants and sites, for the modules that used to find them here (one home: geometry).
from .geometry import (  # noqa: F401
    A_HEX,
    ALAT,
    C_HEX,
    MAX_CLOUD_RADIUS,
    MAX_PAIR_DISTANCE,
    QL_HEIGHT,
    SITE_TOLERANCE,
    Z_BI,
    Z_TE1,
    BiSite,
    bi2te3_host,
    bi_pair_vectors,
    host_cloud,
    locate_bi_site,
)


def _impurity_symbols(element_i, element_j) -> tuple[str, str]:
    out = []
    for name, e in (("element_i", element_i), ("element_j", element_j)):
        if isinstance(e, (int, np.integer)):
            out.append(symbol_of(int(e), where=name))
        else:
            z_of(e, where=name)
            out.append(str(e))
    return out[0], out[1]


def embed_pair(element_i, element_j, vector, *, repeat: tuple[int, int, int] | None = None) -> Atoms:
    """Periodic Bi2Te3 supercell with impurities substituted on two Bi sites.

    ``element_i`` goes on an upper-Bi site near the cell centre, ``element_j`` on the Bi site at
    ``vector`` (Å) from it. ``atoms.info['impurities']`` holds their indices (i, j).
    ``repeat`` defaults to the smallest supercell that keeps the pair and its periodic images
    at least 2|vector| apart in plane.
    """
    sym_i, sym_j = _impurity_symbols(element_i, element_j)
    site = locate_bi_site(vector)
    v = np.array(site.position)
    if repeat is None:
        n = max(3, int(np.ceil(2 * np.linalg.norm(v[:2]) / A_HEX)) + 2)
        repeat = (n, n, 1 if abs(v[2]) < QL_HEIGHT else 2)
    atoms = bi2te3_host().repeat(repeat)
    centre = atoms.cell.array.sum(axis=0) / 2
    upper = np.flatnonzero(atoms.arrays["site"] == "Bi-upper")
    i = upper[np.argmin(np.linalg.norm(atoms.positions[upper] - centre, axis=1))]
    d = atoms.get_distances(i, np.arange(len(atoms)), mic=True, vector=True) - v
    j = int(np.argmin(np.linalg.norm(d, axis=1)))
    if np.linalg.norm(d[j]) > SITE_TOLERANCE or atoms.symbols[j] != "Bi":
        raise ValueError(f"supercell {repeat} is too small to hold the pair vector {v}; pass a larger repeat.")
    atoms.symbols[i] = sym_i
    atoms.symbols[j] = sym_j
    atoms.info["impurities"] = (int(i), int(j))
    atoms.info["pair_vector"] = tuple(float(x) for x in v)
    return atoms


def pair_environment(element_i, element_j, vector, r_cut: float) -> Atoms:
    """Finite cluster of every atom within ``r_cut`` Å of either impurity.

    Impurity i is atom 0 and impurity j atom 1; host atoms follow, sorted by their distance to
    the nearer impurity. Positions are relative to the pair's midpoint; no periodicity.
    ``atoms.info`` records ``r_cut`` and the exact pair vector (Å).
    """
    if not (np.isfinite(r_cut) and r_cut > 0):
        raise ValueError(f"r_cut must be a positive length in Å, not {r_cut!r}.")
    sym_i, sym_j = _impurity_symbols(element_i, element_j)
    site = locate_bi_site(vector)
    v = np.array(site.position)
    radius = _cloud_radius(np.linalg.norm(v) + r_cut)
    if radius > MAX_CLOUD_RADIUS:
        raise ValueError(
            f"r_cut = {r_cut} Å is too large for a pair {np.linalg.norm(v):.2f} Å long: the environment "
            f"would need host atoms up to {radius:.0f} Å away, beyond MAX_CLOUD_RADIUS = {MAX_CLOUD_RADIUS} Å."
        )
    pos, numbers, _ = host_cloud(radius)
    d_i = np.linalg.norm(pos, axis=1)
    d_j = np.linalg.norm(pos - v, axis=1)
    host = (d_i > 1e-6) & (d_j > 1e-6) & (np.minimum(d_i, d_j) <= r_cut + 1e-9)
    d_near = np.minimum(d_i, d_j)[host]
    order = np.lexsort((pos[host][:, 2], pos[host][:, 1], pos[host][:, 0], np.round(d_near, 6)))
    host_pos = pos[host][order]
    host_num = numbers[host][order]
    midpoint = v / 2
    positions = np.vstack([[-midpoint, v - midpoint], host_pos - midpoint])
    atoms = Atoms(
        numbers=np.concatenate([[z_of(sym_i), z_of(sym_j)], host_num]),
        positions=positions,
        pbc=False,
    )
    atoms.info.update(r_cut=float(r_cut), pair_vector=tuple(float(x) for x in v), impurities=(0, 1))
    return atoms


def _cloud_radius(r: float) -> float:
    # Few distinct radii so the lru_cache is reused across pairs.
    return float(np.ceil((r + 1.0) / 10.0) * 10.0)


__all__ = ["embed_pair", "pair_environment"]
