"""Every Bi–Bi pair geometry from an upper-Bi impurity, both sublattices, one representative per symmetry orbit.

Convention (the JuKKR table's): impurity i sits on an *upper* Bi site of a quintuple layer (atom
:data:`.crystal.BI_UPPER` of cell 0); impurity j on the Bi site at ``i + vector`` (Å), on the
same sublattice (upper Bi layers) or the other one (lower Bi layers). Two vectors related by a
symmetry operation g of the crystal that fixes site i (the site group C3v: the threefold axis
along z and the three mirror planes containing it) give the same pair up to g: J is invariant,
D turns as an axial vector. One representative per orbit; the JuKKR table's ten vectors are
taken as the representatives of their orbits so that the two data sets share exact geometries.

This is the one place of the engine that enumerates Bi–Bi pairs, built on the package's one home
for pair geometry and symmetry, :mod:`jijtutorial.geometry` (its D3d :func:`~jijtutorial.geometry.point_group`,
:func:`~jijtutorial.geometry.bi_pair_vectors` and :func:`~jijtutorial.geometry.locate_bi_site`). The
engine's orbits are those of the site group alone (C3v, i and j kept in order), not the bond classes of
:func:`jijtutorial.geometry.bond_classes` (which also exchange i and j): the engine computes (A, B, r) and
(B, A, −r) as rows of their own. Its ``geometry`` label is therefore the *vector's* layer and length
(``'upper Bi layer, QL +1, 10.47 Å'``), not the bond class's (``'QL ±1'``) that the tidy frames carry.
"""

from __future__ import annotations

import numpy as np

from ..geometry import ALAT, bi_pair_vectors, locate_bi_site, point_group
from .crystal import BI2TE3_SK, BI_LOWER, BI_UPPER, CrystalParameters, atom_positions, primitive_cell

#: The ten pair vectors of the JuKKR table (units of alat = 10.4727 Å): geometry only.
JUKKR_VECTORS_ALAT = (
    (-0.41851489357247, 0.0, 0.0),
    (0.0, 0.0, 0.582221),
    (-0.418515, 0.0, 0.582221),
    (-0.627772, -0.120815, -0.388147),
    (-0.83703, 0.0, 0.0),
    (0.209257, 0.120815, 0.970369),
    (-0.83703, 0.0, 0.582221),
    (-1.046287, -0.120815, -0.388147),
    (-0.627772, -0.120815, -0.970369),
    (-1.255545, 0.0, 0.0),
)


def site_group(params: CrystalParameters = BI2TE3_SK) -> np.ndarray:
    """Operations of D3d (about the Te2 inversion centre) that map the upper Bi site onto itself modulo a lattice vector.

    For Bi2Te3 these are the 6 operations of C3v. A pair vector v turns into g v.
    """
    tau = atom_positions(params)[BI_UPPER]
    inv = np.linalg.inv(primitive_cell(params.a, params.c))
    keep = []
    for g in point_group():
        frac = (g @ tau - tau) @ inv
        if np.allclose(frac, np.rint(frac), atol=1e-6):
            keep.append(g)
    return np.array(keep)


def crystal_site(vector, params: CrystalParameters = BI2TE3_SK) -> tuple[int, tuple[int, int, int]]:
    """The crystal site (atom, cell n) of impurity j at ``vector`` (Å) from the upper Bi of cell 0."""
    pos = atom_positions(params)
    inv = np.linalg.inv(primitive_cell(params.a, params.c))
    target = pos[BI_UPPER] + np.asarray(vector, dtype=float)
    for atom in (BI_UPPER, BI_LOWER):
        frac = (target - pos[atom]) @ inv
        if np.abs(frac - np.rint(frac)).max() < 2e-3:
            return atom, tuple(int(x) for x in np.rint(frac))
    raise ValueError(f"pair vector {np.round(vector, 4)} Å does not end on a Bi site of the crystal model.")


def pair_geometries(max_distance: float = 13.2, params: CrystalParameters = BI2TE3_SK) -> list[dict]:
    """One representative per orbit of Bi–Bi vectors up to ``max_distance`` (Å), both sublattices, sorted by distance.

    Each dict: vector (3,) Å, distance, sublattice ('same'/'other'), layer (readable), geometry
    (label 'layer, d Å' as in the tidy frames), multiplicity (orbit size), site (atom, n) of the
    crystal model, jukkr (True if the vector is one of the JuKKR table's).
    """
    ops = site_group(params)
    preferred = np.array(JUKKR_VECTORS_ALAT) * ALAT
    out = []
    for sub in ("same", "other"):
        R = bi_pair_vectors(max_distance, sub)
        d = np.linalg.norm(R, axis=1)
        order = np.lexsort((np.round(R[:, 1], 6), np.round(R[:, 0], 6), -np.round(R[:, 2], 6), np.round(d, 6)))
        R, d = R[order], d[order]
        seen = np.zeros(len(R), bool)
        for i in range(len(R)):
            if seen[i]:
                continue
            images = np.einsum("gab,b->ga", ops, R[i])
            members = [j for j in range(len(R)) if np.min(np.linalg.norm(images - R[j], axis=1)) < 1e-4]
            seen[members] = True
            rep, jukkr = R[i], False
            for p in preferred:
                hit = [j for j in members if np.linalg.norm(R[j] - p) < 0.01]
                if hit:
                    rep, jukkr = p, True
            site = locate_bi_site(rep)
            out.append(
                {
                    "vector": np.asarray(rep, float),
                    "distance": float(d[i]),
                    "sublattice": sub,
                    "layer": site.layer,
                    "geometry": f"{site.layer}, {d[i]:.2f} Å",
                    "multiplicity": len(members),
                    "site": crystal_site(rep, params),
                    "jukkr": jukkr,
                }
            )
    out.sort(key=lambda x: (round(x["distance"], 4), x["sublattice"]))
    return out


__all__ = ["JUKKR_VECTORS_ALAT", "crystal_site", "pair_geometries", "site_group"]
