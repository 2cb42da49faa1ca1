"""Bi2Te3 host, impurity pairs embedded on Bi sites, and their atomic environments.

Conventions (those of the JuKKR data README): hexagonal setting of R-3m (No. 166), ``a`` along
x, ``c`` along z, lengths in Å. Impurity i sits on the *upper* Bi layer of a quintuple layer
(QL) -- the Bi layer whose Te neighbours above face the van der Waals gap -- and impurity j on
the Bi site at ``r_i + vector``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from ase import Atoms
from ase.spacegroup import crystal

from .elements import symbol_of, z_of

#: Lattice constants of Bi2Te3 (Å) and the Wyckoff z of Bi (6c), Te1 (6c); Te2 is on 3a.
A_HEX = 4.383
C_HEX = 30.487
Z_BI = 0.400
Z_TE1 = 0.209

#: Length unit of the JuKKR table's pair vectors (Å).
ALAT = 10.4727

#: Largest distance (Å) a pair vector may miss a Bi site by.
SITE_TOLERANCE = 0.01

#: Longest pair vector (Å) the package accepts. The JuKKR table's longest pair is 13.15 Å
#: (1.256 alat) and the model data set's 16 Å; 60 Å (about 14 in-plane lattice constants and
#: two conventional cells along c) leaves ample room for new data, while anything longer is
#: certainly a unit error (e.g. Å given where alat is expected) or a corrupted row. Checked
#: before any host cloud is built (whose size grows as the cube of the length).
MAX_PAIR_DISTANCE = 60.0

#: Largest radius (Å) of host-atom cloud ever built: a pair at :data:`MAX_PAIR_DISTANCE` plus
#: 40 Å for its environment (descriptor cut-off radii are a few Å): 0.12 million atoms, about
#: 60 MB and half a second to build; a cloud of 1000 Å would need a thousand times more.
MAX_CLOUD_RADIUS = 100.0

_QL_HEIGHT = C_HEX / 3.0


def bi2te3_host() -> Atoms:
    """Conventional hexagonal cell of Bi2Te3 (15 atoms, 3 QLs), periodic.

    ``atoms.arrays['site']`` labels each atom: ``'Bi-upper'``, ``'Bi-lower'``, ``'Te1'``, ``'Te2'``.
    """
    atoms = crystal(
        ["Bi", "Te", "Te"],
        basis=[(0, 0, Z_BI), (0, 0, Z_TE1), (0, 0, 0)],
        spacegroup=166,
        cellpar=[A_HEX, A_HEX, C_HEX, 90, 90, 120],
    )
    atoms.set_array("site", _site_labels(atoms))
    return atoms


def _site_labels(atoms: Atoms) -> np.ndarray:
    """Name each atom's Wyckoff site; Bi above the central Te2 of its QL is 'upper'."""
    labels = []
    for pos, sym in zip(atoms.positions, atoms.get_chemical_symbols()):
        # The QL centre (Te2) nearest in z decides: Bi above it is upper, Bi below it is lower.
        centre = _nearest_ql_centre(pos[2])
        if sym == "Bi":
            labels.append("Bi-upper" if pos[2] > centre else "Bi-lower")
        else:
            labels.append("Te2" if abs(pos[2] - centre) < 1e-6 else "Te1")
    return np.array(labels, dtype="<U8")


def _nearest_ql_centre(z: float) -> float:
    return round(z / _QL_HEIGHT) * _QL_HEIGHT


@lru_cache(maxsize=1)
def _origin_site() -> np.ndarray:
    """Position (Å) of the reference upper-Bi site that impurity i occupies."""
    host = bi2te3_host()
    upper = host.positions[host.arrays["site"] == "Bi-upper"]
    return upper[np.argmin(np.linalg.norm(upper[:, :2], axis=1) + upper[:, 2] * 1e-6)].copy()


@lru_cache(maxsize=4)
def _host_cloud(radius: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Host atoms within ``radius`` Å of the reference site, positions relative to it.

    Returns (positions (n, 3), atomic numbers (n,), site labels (n,)), sorted by distance.
    Raises ``ValueError`` for a radius beyond :data:`MAX_CLOUD_RADIUS` (the cloud grows as r³).
    """
    if not (np.isfinite(radius) and 0 < radius <= MAX_CLOUD_RADIUS):
        raise ValueError(
            f"host cloud radius {radius!r} Å is outside (0, {MAX_CLOUD_RADIUS}] Å (MAX_CLOUD_RADIUS): "
            f"the cloud grows as the cube of its radius. Pair vectors are limited to {MAX_PAIR_DISTANCE} Å "
            f"and environments to a few tens of Å around them."
        )
    host = bi2te3_host()
    cell = host.cell.array
    origin = _origin_site()
    nxy = int(np.ceil(radius / (A_HEX * np.sqrt(3) / 2))) + 1
    nz = int(np.ceil(radius / C_HEX)) + 1
    shifts = np.array(
        [(i, j, k) for i in range(-nxy, nxy + 1) for j in range(-nxy, nxy + 1) for k in range(-nz, nz + 1)]
    )
    trans = shifts @ cell
    pos = (host.positions[None, :, :] + trans[:, None, :]).reshape(-1, 3) - origin
    numbers = np.tile(host.numbers, len(shifts))
    sites = np.tile(host.arrays["site"], len(shifts))
    dist = np.linalg.norm(pos, axis=1)
    keep = dist <= radius + 1e-9
    order = np.argsort(dist[keep], kind="stable")
    return pos[keep][order], numbers[keep][order], sites[keep][order]


@dataclass(frozen=True)
class BiSite:
    """Where a pair vector lands: the Bi site of impurity j relative to impurity i."""

    sublattice: str  # 'same' (upper Bi layer, like i) or 'other' (lower Bi layer)
    layer: str  # human description of j's Bi layer relative to i's
    shell: int  # rank of the distance among Bi sites of that sublattice (1 = nearest)
    distance: float  # |vector|, Å
    miss: float  # distance from the vector's end to the Bi site, Å
    position: tuple[float, float, float]  # exact Bi site, Å relative to impurity i

    @property
    def geometry(self) -> str:
        """Readable label, e.g. 'same Bi layer, 4.38 Å'."""
        return f"{self.layer}, {self.distance:.2f} Å"


def _layer_description(sublattice: str, dz: float) -> str:
    if sublattice == "same":
        k = int(round(dz / _QL_HEIGHT))
        if k == 0:
            return "same Bi layer"
        return f"upper Bi layer, QL {k:+d}"
    # The lower Bi layer of i's own QL lies 2 (Z_BI - 1/3) c below i; count QLs from there.
    dz_same_ql = -2 * (Z_BI - 1 / 3) * C_HEX
    k = int(round((dz - dz_same_ql) / _QL_HEIGHT))
    if k == 0:
        return "other Bi layer, same QL"
    if k == 1:
        return "across the vdW gap"
    return f"lower Bi layer, QL {k:+d}"


@lru_cache(maxsize=2)
def _shell_radii(sublattice: str, radius: float = 40.0) -> np.ndarray:
    pos, _, sites = _host_cloud(radius)
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
    pos, _, sites = _host_cloud(max(r + 5.0, 20.0))
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
        layer=_layer_description(sublattice, site[2]),
        shell=shell,
        distance=r,
        miss=float(miss.min()),
        position=tuple(float(x) for x in site),
    )


def _at(where: str) -> str:
    return f" ({where})" if where else ""


def bi_pair_vectors(max_distance: float, sublattice: str = "same") -> np.ndarray:
    """All vectors (Å) from impurity i to Bi sites of ``sublattice`` ('same' or 'other') up to ``max_distance``.

    Shape (n, 3), sorted by length.
    """
    if sublattice not in ("same", "other"):
        raise ValueError(f"sublattice must be 'same' or 'other', not {sublattice!r}.")
    if not (np.isfinite(max_distance) and 0 < max_distance < MAX_CLOUD_RADIUS):
        raise ValueError(
            f"max_distance must be a length in Å between 0 and {MAX_CLOUD_RADIUS} (MAX_CLOUD_RADIUS), "
            f"not {max_distance!r}."
        )
    pos, _, sites = _host_cloud(max_distance + 1e-6)
    label = "Bi-upper" if sublattice == "same" else "Bi-lower"
    v = pos[sites == label]
    return v[np.linalg.norm(v, axis=1) > 1e-6]


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
        repeat = (n, n, 1 if abs(v[2]) < _QL_HEIGHT else 2)
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
    pos, numbers, _ = _host_cloud(radius)
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


__all__ = ["ALAT", "A_HEX", "BiSite", "C_HEX", "SITE_TOLERANCE", "Z_BI", "Z_TE1", "bi2te3_host", "bi_pair_vectors",
           "embed_pair", "locate_bi_site", "pair_environment"]
