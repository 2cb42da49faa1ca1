"""The Bi2Te3 crystal: lattice constants, Wyckoff positions, the host cell and clouds of host atoms.

Conventions (those of the JuKKR data README): hexagonal setting of R-3m (No. 166), ``a`` along
x, ``c`` along z, lengths in Å. The *upper* Bi layer of a quintuple layer (QL) is the Bi layer
whose Te neighbours above face the van der Waals gap; impurity i of every pair sits on it.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from ase import Atoms
from ase.spacegroup import crystal

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

#: Height of one quintuple layer (Å): c / 3.
QL_HEIGHT = C_HEX / 3.0


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
    return round(z / QL_HEIGHT) * QL_HEIGHT


@lru_cache(maxsize=1)
def _origin_site() -> np.ndarray:
    """Position (Å) of the reference upper-Bi site that impurity i occupies."""
    host = bi2te3_host()
    upper = host.positions[host.arrays["site"] == "Bi-upper"]
    return upper[np.argmin(np.linalg.norm(upper[:, :2], axis=1) + upper[:, 2] * 1e-6)].copy()


@lru_cache(maxsize=4)
def host_cloud(radius: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Host atoms within ``radius`` Å of the reference upper-Bi site, positions relative to it.

    Returns
    -------
    positions : ndarray (n, 3)
        Å, relative to the reference site, sorted by distance.
    numbers : ndarray (n,)
        Atomic numbers.
    sites : ndarray of str (n,)
        Site labels (``'Bi-upper'``, ``'Bi-lower'``, ``'Te1'``, ``'Te2'``).

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
    shifts = np.array([(i, j, k) for i in range(-nxy, nxy + 1) for j in range(-nxy, nxy + 1) for k in range(-nz, nz + 1)])
    trans = shifts @ cell
    pos = (host.positions[None, :, :] + trans[:, None, :]).reshape(-1, 3) - origin
    numbers = np.tile(host.numbers, len(shifts))
    sites = np.tile(host.arrays["site"], len(shifts))
    dist = np.linalg.norm(pos, axis=1)
    keep = dist <= radius + 1e-9
    order = np.argsort(dist[keep], kind="stable")
    return pos[keep][order], numbers[keep][order], sites[keep][order]
