"""Bi–Bi pair vectors seen from an upper Bi site: which Bi site a vector ends on, its shell and its labels.

A pair vector r points from impurity i, on an *upper* Bi site, to impurity j on any Bi site. j is on
the ``'same'`` sublattice as i (another upper Bi site: r is a lattice translation) or on the
``'other'`` (a lower Bi site).

Labels -- one convention, used by every module of the package:

``layer`` (where j sits, a property of the vector)
    ``'same Bi layer'``, ``'upper Bi layer, QL +k'`` (the same sublattice k quintuple layers up or
    down), ``'other Bi layer, same QL'``, ``'across the vdW gap'`` and ``'lower Bi layer, QL +k'``.
``layer class`` (:func:`layer_class`, a property of the bond)
    On the same sublattice the bond seen from j is -r (i <-> j): "QL +k" and "QL -k" at one
    distance are one bond, written ``'upper Bi layer, QL ±k'``. Other layers are their own class.
``geometry`` (:func:`geometry_label`)
    The bond's layer class and |r| to 0.01 Å, e.g. ``'same Bi layer, 4.38 Å'`` or
    ``'upper Bi layer, QL ±1, 10.47 Å'``: the key the models, the ``distance`` protocol and the
    filled table group pairs by. Up to 30 Å each geometry is one orbit of the crystal's symmetry
    (:func:`jijtutorial.geometry.bond_classes`; checked by the tests).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ._crystal import ALAT, C_HEX, MAX_CLOUD_RADIUS, MAX_PAIR_DISTANCE, QL_HEIGHT, SITE_TOLERANCE, Z_BI, host_cloud

#: The two Bi sublattices j can be on, relative to i.
SUBLATTICES = ("same", "other")


def layer_class(layer: str, sublattice: str) -> str:
    """The layer class of a bond: on the same sublattice, "QL +k" and "QL -k" are one class ("QL ±k").

    For i and j both on upper Bi sites, the vector from j to i is -r: the bond (A, B, r) seen from j
    is (B, A, -r), so "QL +k" (r) and "QL -k" (-r) at one distance are the same bond. On the other
    sublattice -r from an upper site does not end on a Bi site, and the layer is its own class.
    """
    layer = str(layer)
    return re.sub(r"QL [+-](\d+)", r"QL ±\1", layer) if sublattice == "same" else layer


def geometry_label(layer_cls: str, distance: float) -> str:
    """The geometry label of a bond: its layer class and its length (Å, two decimals)."""
    return f"{layer_cls}, {float(distance):.2f} Å"


@dataclass(frozen=True)
class BiSite:
    """Where a pair vector lands: the Bi site of impurity j relative to impurity i."""

    sublattice: str  # 'same' (upper Bi layer, like i) or 'other' (lower Bi layer)
    layer: str  # where j's Bi layer is relative to i's, in words
    shell: int  # rank of the distance among Bi sites of that sublattice (1 = nearest)
    distance: float  # |vector|, Å
    miss: float  # distance from the vector's end to the Bi site, Å
    position: tuple[float, float, float]  # exact Bi site, Å relative to impurity i

    @property
    def layer_class(self) -> str:
        """The bond's layer class (:func:`layer_class`), e.g. 'upper Bi layer, QL ±1'."""
        return layer_class(self.layer, self.sublattice)

    @property
    def geometry(self) -> str:
        """The bond's geometry label, e.g. 'same Bi layer, 4.38 Å': that of its class (see ``bond_class``)."""
        from ._bonds import bond_class

        return bond_class(self.position).geometry


def layer_description(sublattice: str, dz: float) -> str:
    """Where j's Bi layer is, in words, from its sublattice and its height ``dz`` (Å) above i."""
    if sublattice == "same":
        k = int(round(dz / QL_HEIGHT))
        if k == 0:
            return "same Bi layer"
        return f"upper Bi layer, QL {k:+d}"
    # The lower Bi layer of i's own QL lies 2 (Z_BI - 1/3) c below i; count QLs from there.
    dz_same_ql = -2 * (Z_BI - 1 / 3) * C_HEX
    k = int(round((dz - dz_same_ql) / QL_HEIGHT))
    if k == 0:
        return "other Bi layer, same QL"
    if k == 1:
        return "across the vdW gap"
    return f"lower Bi layer, QL {k:+d}"


@lru_cache(maxsize=2)
def _shell_radii(sublattice: str, radius: float = 40.0) -> np.ndarray:
    pos, _, sites = host_cloud(radius)
    label = "Bi-upper" if sublattice == "same" else "Bi-lower"
    d = np.linalg.norm(pos[sites == label], axis=1)
    d = d[d > 1e-6]
    radii = [d[0]]
    for x in d[1:]:
        if x - radii[-1] > 1e-3:
            radii.append(x)
    return np.array(radii)


def locate_bi_site(vector, *, tolerance: float = SITE_TOLERANCE, where: str = "") -> BiSite:
    """Find the Bi site that impurity j occupies at ``vector`` (Å) from impurity i.

    Raises ``ValueError`` if no Bi site of the ideal host lies within ``tolerance`` Å, or if
    the vector is longer than :data:`MAX_PAIR_DISTANCE` (checked before anything is built).
    """
    v = np.asarray(vector, dtype=float).reshape(3)
    if not np.all(np.isfinite(v)):
        raise ValueError(f"pair vector {v} is not finite{_at(where)}.")
    r = float(np.linalg.norm(v))
    if r < 1e-6:
        raise ValueError(f"pair vector {v} has zero length{_at(where)}: the two impurities would share a site.")
    if r > MAX_PAIR_DISTANCE:
        raise ValueError(
            f"pair vector {np.round(v, 4)} Å has length {r:.1f} Å{_at(where)}, beyond the longest pair the "
            f"package handles, MAX_PAIR_DISTANCE = {MAX_PAIR_DISTANCE} Å (the data sets reach 16 Å). Check the "
            f"vector's unit: the JuKKR table gives it in units of alat = {ALAT} Å, the tidy frames in Å."
        )
    pos, _, sites = host_cloud(max(r + 5.0, 20.0))
    bi = np.flatnonzero(np.char.startswith(sites, "Bi"))
    miss = np.linalg.norm(pos[bi] - v, axis=1)
    k = bi[np.argmin(miss)]
    if miss.min() > tolerance:
        near = pos[k]
        raise ValueError(
            f"pair vector {np.round(v, 4)} Å (length {r:.3f} Å){_at(where)} does not land on a Bi site of "
            f"Bi2Te3: the nearest Bi site, {np.round(near, 3)} Å, is {miss.min():.3f} Å away "
            f"(tolerance {tolerance} Å). Check the vector's unit (the JuKKR table gives it in units of "
            f"alat = {ALAT} Å) and that impurity i sits on the upper Bi layer of a quintuple layer."
        )
    sublattice = "same" if sites[k] == "Bi-upper" else "other"
    site = pos[k]
    dist_site = float(np.linalg.norm(site))
    radii = _shell_radii(sublattice, max(40.0, dist_site + 5))
    shell = int(np.argmin(np.abs(radii - dist_site))) + 1
    return BiSite(
        sublattice=sublattice,
        layer=layer_description(sublattice, site[2]),
        shell=shell,
        distance=r,
        miss=float(miss.min()),
        position=tuple(float(x) for x in site),
    )


def locate_bi_sites(vectors, *, where: str = "row") -> list[BiSite]:
    """:func:`locate_bi_site` of many vectors (Å, shape (n, 3)), each distinct vector looked up once.

    ``where`` names the rows in error messages (``'<where> k'`` for the first row of a bad vector).
    """
    v = np.asarray(vectors, dtype=float).reshape(-1, 3)
    if not len(v):
        return []
    _, first, inverse = np.unique(np.round(v, 6), axis=0, return_index=True, return_inverse=True)
    sites: list = [None] * len(first)
    for u in np.argsort(first, kind="stable"):  # in row order: the first bad row is the one reported
        sites[u] = locate_bi_site(v[first[u]], where=f"{where} {first[u]}")
    return [sites[u] for u in np.asarray(inverse).reshape(-1)]


def _at(where: str) -> str:
    return f" ({where})" if where else ""


def bi_pair_vectors(max_distance: float, sublattice: str = "same") -> np.ndarray:
    """All vectors (Å) from impurity i to Bi sites of ``sublattice`` ('same' or 'other') up to ``max_distance``.

    Shape (n, 3), sorted by length.
    """
    if sublattice not in SUBLATTICES:
        raise ValueError(f"sublattice must be 'same' or 'other', not {sublattice!r}.")
    if not (np.isfinite(max_distance) and 0 < max_distance < MAX_CLOUD_RADIUS):
        raise ValueError(
            f"max_distance must be a length in Å between 0 and {MAX_CLOUD_RADIUS} (MAX_CLOUD_RADIUS), not {max_distance!r}."
        )
    pos, _, sites = host_cloud(max_distance + 1e-6)
    label = "Bi-upper" if sublattice == "same" else "Bi-lower"
    v = pos[sites == label]
    return v[np.linalg.norm(v, axis=1) > 1e-6]
