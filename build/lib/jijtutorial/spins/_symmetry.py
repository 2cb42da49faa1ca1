"""Point symmetry of the two Bi sublattices of Bi2Te3, found from the crystal itself.

Space group R-3m: the point group is D3d (12 rotations in the hexagonal frame). A Bi site has the
site symmetry C3v (6 of them); the other 6 (inversion, S6, the two-fold axes) carry an upper-Bi
site to a lower-Bi site. :func:`site_operations` returns both sets, checked against the atoms of
the ASE host (each operation maps the environment of one Bi site, species included, onto that
of the other within 1e-3 Å) rather than taken from a table.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from ..structures import bi2te3_host

#: Radius (Å) of the atomic environment used to test an operation.
_ENV_RADIUS = 9.0


def _d3d() -> np.ndarray:
    """The 12 rotations of D3d in the hexagonal frame: C3 about z, C2 about x, inversion; (12, 3, 3)."""
    c, s = np.cos(2 * np.pi / 3), np.sin(2 * np.pi / 3)
    c3 = np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])
    c2x = np.diag([1.0, -1.0, -1.0])
    ops = []
    for inv in (1.0, -1.0):
        for m in (np.eye(3), c2x):
            for k in range(3):
                ops.append(inv * np.linalg.matrix_power(c3, k) @ m)
    return np.array(ops)


def _environment(label: str) -> tuple[np.ndarray, np.ndarray]:
    host = bi2te3_host().repeat((5, 5, 2))
    pos, sites = host.positions, host.arrays["site"]
    idx = np.flatnonzero(sites == label)
    k = idx[np.argmin(np.linalg.norm(pos[idx] - pos.mean(axis=0), axis=1))]
    d = host.get_distances(k, np.arange(len(host)), mic=True, vector=True)
    keep = np.linalg.norm(d, axis=1) < _ENV_RADIUS
    return d[keep], host.numbers[keep]


def _maps(rot, src, z_src, dst, z_dst) -> bool:
    if len(src) != len(dst):
        return False
    moved = src @ rot.T
    dist = np.linalg.norm(moved[:, None, :] - dst[None, :, :], axis=2)
    k = dist.argmin(axis=1)
    return bool(np.all(dist[np.arange(len(src)), k] < 1e-3) and np.all(z_dst[k] == z_src)
                and len(set(k)) == len(k))


@lru_cache(maxsize=1)
def site_operations() -> tuple[np.ndarray, np.ndarray]:
    """Rotations (Cartesian, hexagonal frame) that carry a Bi site onto an upper-Bi site.

    Returns
    -------
    upper : (6, 3, 3) the site symmetry C3v of an upper-Bi site (upper → upper).
    lower : (6, 3, 3) the rotations that carry the environment of a lower-Bi site onto that of an
        upper-Bi site (lower → upper): inversion, S6 and the two-fold axes.
    """
    env_u, z_u = _environment("Bi-upper")
    env_l, z_l = _environment("Bi-lower")
    upper, lower = [], []
    for rot in _d3d():
        if _maps(rot, env_u, z_u, env_u, z_u):
            upper.append(rot)
        if _maps(rot, env_l, z_l, env_u, z_u):
            lower.append(rot)
    if len(upper) != 6 or len(lower) != 6:  # pragma: no cover - a broken host would land here
        raise RuntimeError(f"site symmetry of Bi in Bi2Te3: found {len(upper)} and {len(lower)} operations, expected 6 and 6.")
    return np.array(upper), np.array(lower)


def axial(rot: np.ndarray, vector: np.ndarray) -> np.ndarray:
    """An axial vector (such as D) transformed by the rotation ``rot``: det(R) R v."""
    return np.linalg.det(rot) * (rot @ vector)
