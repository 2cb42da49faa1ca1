"""The crystal's point symmetry, how vectors transform under it, and the exchange of the two impurities.

Space group R-3m: the point group is D3d, 12 operations in the hexagonal frame (C3 about z, three
two-fold axes C2 in the plane, the inversion and their products: 6 proper rotations, 6 improper).
A Bi site has the site symmetry C3v (6 of them: E, 2 C3, 3 mirrors σd); the other 6 (inversion,
2 S6, 3 C2) carry a lower-Bi site onto an upper-Bi site. :func:`site_operations` returns both sets,
checked against the atoms of the host (each operation maps the environment of one Bi site, species
included, onto that of the other within 1e-3 Å) rather than taken from a table.

How things transform under an operation R (a 3 x 3 orthogonal matrix, det R = ±1):

* a *polar* vector (a pair vector r, a position): ``r -> R r`` (:func:`polar`);
* an *axial* vector (a spin, the Dzyaloshinskii–Moriya vector D, a cross product): ``v -> det(R) R v``
  (:func:`axial`): an improper operation (a mirror, the inversion) flips it once more;
* a scalar (J): unchanged.

Exchanging the two impurities (i <-> j) of a bond: the vector becomes -r and, since
``D_ij·(S_i × S_j) = D_ji·(S_j × S_i)``, ``D_ji = -D_ij`` while ``J_ji = J_ij`` (:func:`exchange_ij`).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from ._crystal import bi2te3_host

#: Radius (Å) of the atomic environment used to test an operation.
_ENV_RADIUS = 9.0


@lru_cache(maxsize=1)
def _d3d() -> np.ndarray:
    c, s = np.cos(2 * np.pi / 3), np.sin(2 * np.pi / 3)
    c3 = np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])
    c2x = np.diag([1.0, -1.0, -1.0])
    ops = []
    for inv in (1.0, -1.0):
        for m in (np.eye(3), c2x):
            for k in range(3):
                ops.append(inv * np.linalg.matrix_power(c3, k) @ m)
    out = np.array(ops)
    out.flags.writeable = False
    return out


def point_group() -> np.ndarray:
    """The 12 operations of D3d in the hexagonal frame, shape (12, 3, 3).

    Order: E, C3, C3², C2x, C3 C2x, C3² C2x (proper), then the same times the inversion (improper:
    -E, S6 ..., the mirrors σd = -C2).
    """
    return _d3d().copy()


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
    return bool(np.all(dist[np.arange(len(src)), k] < 1e-3) and np.all(z_dst[k] == z_src) and len(set(k)) == len(k))


@lru_cache(maxsize=1)
def _site_operations() -> tuple[np.ndarray, np.ndarray]:
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
    upper, lower = np.array(upper), np.array(lower)
    upper.flags.writeable = lower.flags.writeable = False
    return upper, lower


def site_operations() -> tuple[np.ndarray, np.ndarray]:
    """Rotations (Cartesian, hexagonal frame, about a Bi site) that carry a Bi site onto an upper-Bi site.

    Returns
    -------
    upper : ndarray (6, 3, 3)
        The site symmetry C3v of an upper-Bi site (upper -> upper): E, C3, C3², three mirrors.
    lower : ndarray (6, 3, 3)
        The rotations that carry the environment of a lower-Bi site onto that of an upper-Bi site
        (lower -> upper): the inversion, S6, S6⁻¹ and the three two-fold axes.
    """
    upper, lower = _site_operations()
    return upper.copy(), lower.copy()


def operations_onto_upper(sublattice: str) -> np.ndarray:
    """The rotations that carry a Bi site of ``sublattice`` ('same': upper, 'other': lower) onto an upper site."""
    upper, lower = _site_operations()
    if sublattice == "same":
        return upper
    if sublattice == "other":
        return lower
    raise ValueError(f"sublattice must be 'same' or 'other', not {sublattice!r}.")


def polar(rot, vector) -> np.ndarray:
    """A polar vector (a pair vector, a position) transformed by ``rot``: ``R v``.

    ``rot`` (..., 3, 3) and ``vector`` (..., 3) broadcast; returns (..., 3).
    """
    return np.einsum("...ab,...b->...a", np.asarray(rot, float), np.asarray(vector, float))


def axial(rot, vector) -> np.ndarray:
    """An axial vector (a spin, the DM vector D) transformed by ``rot``: ``det(R) R v``.

    ``rot`` (..., 3, 3) and ``vector`` (..., 3) broadcast; returns (..., 3).
    """
    rot = np.asarray(rot, float)
    return np.linalg.det(rot)[..., None] * polar(rot, vector)


def exchange_ij(vector, sublattice: str, D=None):
    """The same bond seen from impurity j, in the package's convention (the first impurity on an upper site).

    On the same sublattice the vector from j to i is ``-r``. On the other sublattice j sits on a
    lower site; the inversion through the bond's midpoint -- a symmetry of the crystal, see
    :func:`jijtutorial.geometry.bond_symmetry` -- carries it onto an upper site and ``-r`` back onto
    ``r``. J is unchanged; ``D_ji = -D_ij`` (D is axial: the inversion leaves it as it is).

    Parameters
    ----------
    vector : array-like (3,)
        r from i (upper site) to j, Å.
    sublattice : {'same', 'other'}
        j's sublattice.
    D : array-like (3,), optional
        D_ij (meV).

    Returns
    -------
    vector_ji : ndarray (3,), and D_ji : ndarray (3,) if ``D`` is given.
    """
    v = np.asarray(vector, float).reshape(3)
    if sublattice not in ("same", "other"):
        raise ValueError(f"sublattice must be 'same' or 'other', not {sublattice!r}.")
    out = -v if sublattice == "same" else v.copy()
    if D is None:
        return out
    return out, -np.asarray(D, float).reshape(3)
