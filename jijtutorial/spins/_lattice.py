"""Dilute configurations: magnetic dopants on the Bi sites of a periodic Bi2Te3 supercell.

The supercell is the conventional hexagonal cell of :func:`jijtutorial.structures.bi2te3_host`
(15 atoms, 6 Bi: 3 on upper and 3 on lower Bi layers of the three quintuple layers) repeated
``size = (n1, n2, n3)`` times; it has 6 n1 n2 n3 Bi sites. Dopants replace Bi at random, the
number of each species fixed to round(concentration × number of Bi sites).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from ..elements import IMPURITY_ELEMENTS
from ..geometry import bi2te3_host

#: Largest number of Bi sites of a supercell (6 n1 n2 n3): about 2.5 million atoms built in memory (a few hundred
#: MB); the default sweep's largest cell has 24,576.
MAX_BI_SITES = 1_000_000


def _check_size(size) -> tuple[int, int, int]:
    try:
        t = tuple(int(s) for s in size)
    except (TypeError, ValueError):
        raise ValueError(
            f"size must be three positive integers (n1, n2, n3), repeats of the hexagonal cell; got {size!r}."
        ) from None
    if len(t) != 3 or any(s < 1 for s in t) or any(float(s) != float(x) for s, x in zip(t, size)):
        raise ValueError(f"size must be three positive integers (n1, n2, n3), repeats of the hexagonal cell; got {size!r}.")
    n = 6 * t[0] * t[1] * t[2]
    if n > MAX_BI_SITES:
        raise ValueError(
            f"size={t} has {n:,} Bi sites, more than MAX_BI_SITES = {MAX_BI_SITES:,} (the whole "
            f"supercell is built in memory, and a Monte Carlo sweep of it would take hours); choose a "
            f"smaller size, e.g. (32, 32, 4) with 24,576 sites."
        )
    return t


@lru_cache(maxsize=16)
def bi_sites(size) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Bi sites of the supercell ``size``: positions (n, 3) Å, sublattice labels (n,) and the cell (3, 3) Å.

    The labels are 'upper' or 'lower' (the Bi layer of a quintuple layer, see
    :mod:`jijtutorial.structures`). Arrays are read-only.
    """
    size = _check_size(size)
    host = bi2te3_host().repeat(size)
    bi = np.flatnonzero(np.char.startswith(host.arrays["site"], "Bi"))
    pos = host.positions[bi].copy()
    sub = np.where(host.arrays["site"][bi] == "Bi-upper", "upper", "lower")
    cell = host.cell.array.copy()
    for a in (pos, sub, cell):
        a.setflags(write=False)
    return pos, sub, cell


def cell_widths(cell) -> np.ndarray:
    """Perpendicular widths (Å) of a cell (3, 3): the distance between opposite faces, shape (3,)."""
    cell = np.asarray(cell, dtype=float)
    volume = abs(np.linalg.det(cell))
    return np.array([volume / np.linalg.norm(np.cross(cell[(k + 1) % 3], cell[(k + 2) % 3])) for k in range(3)])


def minimal_size(cutoff: float) -> tuple[int, int, int]:
    """Smallest ``size`` whose cell is wider than 2 × ``cutoff`` (Å) in every direction."""
    unit = cell_widths(bi2te3_host().cell.array)
    return tuple(int(np.floor(2 * cutoff / w)) + 1 for w in unit)


def check_size_for_cutoff(size, cutoff: float) -> None:
    """Raise if the supercell ``size`` is not wider than twice ``cutoff`` (Å) in every direction.

    Only then does every pair of sites within the cut-off appear exactly once (one periodic image).
    """
    size = _check_size(size)
    widths = cell_widths(bi_sites(size)[2])
    if np.any(widths <= 2 * cutoff):
        need = minimal_size(cutoff)
        raise ValueError(
            f"size={size} is too small for the cut-off {cutoff:.2f} Å: the supercell is {np.round(widths, 2).tolist()} Å "
            f"wide, and it must be wider than twice the cut-off ({2 * cutoff:.2f} Å) in every direction so that each "
            f"pair is counted once. Use size ≥ {need} or a smaller cutoff."
        )


def check_concentrations(dopants, name: str = "dopants") -> dict[str, float]:
    """Validate ``{element: concentration}`` (fractions of Bi sites); return it as a plain dict."""
    if not isinstance(dopants, Mapping) or not dopants:
        raise ValueError(f"{name} must be a mapping element -> concentration, e.g. {{'Cr': 0.04}}; got {dopants!r}.")
    out = {}
    for element, c in dopants.items():
        if element not in IMPURITY_ELEMENTS:
            raise ValueError(f"{name}: unknown dopant {element!r}; expected one of {', '.join(IMPURITY_ELEMENTS)}.")
        try:
            c = float(c)
        except (TypeError, ValueError):
            raise ValueError(f"{name}: the concentration of {element} must be a number in (0, 1], not {c!r}.") from None
        if not (np.isfinite(c) and 0.0 < c <= 1.0):
            raise ValueError(
                f"{name}: the concentration of {element} must be a fraction of the Bi sites in (0, 1], not {c!r} "
                f"(write 4 % as 0.04)."
            )
        out[str(element)] = c
    if sum(out.values()) > 1.0 + 1e-12:
        raise ValueError(f"{name}: the concentrations add up to {sum(out.values()):.3f} > 1; they are fractions of the Bi sites.")
    return out


@dataclass(frozen=True)
class DiluteConfiguration:
    """Magnetic dopants on Bi sites of a periodic Bi2Te3 supercell.

    Attributes
    ----------
    size : (n1, n2, n3) repeats of the hexagonal cell.
    cell : (3, 3) supercell vectors, Å.
    site : (n_spins,) index of each dopant's Bi site among :func:`bi_sites` of ``size``.
    elements : (n_spins,) chemical symbol of each dopant.
    concentrations : requested fraction of Bi sites per element.
    seed : the seed that drew the configuration (None if given explicitly).
    """

    size: tuple[int, int, int]
    site: np.ndarray
    elements: np.ndarray
    concentrations: dict = field(default_factory=dict)
    seed: object = None

    @property
    def cell(self) -> np.ndarray:
        return bi_sites(self.size)[2]

    @property
    def positions(self) -> np.ndarray:
        """Dopant positions (n_spins, 3), Å."""
        return bi_sites(self.size)[0][self.site]

    @property
    def sublattice(self) -> np.ndarray:
        """'upper' or 'lower' Bi layer of each dopant, shape (n_spins,)."""
        return bi_sites(self.size)[1][self.site]

    @property
    def n_spins(self) -> int:
        return len(self.site)

    @property
    def n_bi_sites(self) -> int:
        return len(bi_sites(self.size)[0])

    @property
    def species(self) -> tuple[str, ...]:
        """The dopant elements, in order of first appearance in ``concentrations`` (or of the sites)."""
        seen = list(self.concentrations) or []
        for e in self.elements:
            if e not in seen:
                seen.append(str(e))
        return tuple(seen)

    def actual_concentrations(self) -> dict[str, float]:
        """Fraction of Bi sites occupied by each element in this configuration."""
        return {e: float(np.sum(self.elements == e)) / self.n_bi_sites for e in self.species}

    def atoms(self):
        """The whole supercell as ASE ``Atoms`` with the dopants substituted; ``info['dopants']`` holds their indices."""
        host = bi2te3_host().repeat(self.size)
        bi = np.flatnonzero(np.char.startswith(host.arrays["site"], "Bi"))
        idx = bi[self.site]
        host.symbols[idx] = list(self.elements)
        host.info["dopants"] = idx
        return host


def random_configuration(dopants: Mapping[str, float], size, seed=0) -> DiluteConfiguration:
    """Dopants at random on the Bi sites of the supercell ``size``.

    Parameters
    ----------
    dopants : {element: concentration}, concentrations as fractions of the Bi sites in (0, 1],
        e.g. ``{'Cr': 0.03, 'V': 0.01}``.
    size : (n1, n2, n3) repeats of the 15-atom hexagonal cell (6 n1 n2 n3 Bi sites).
    seed : int, sequence of ints or ``numpy.random.SeedSequence``.

    Every element gets exactly round(c × number of Bi sites) sites, at least one.
    """
    dopants = check_concentrations(dopants)
    size = _check_size(size)
    n_sites = len(bi_sites(size)[0])
    counts = {e: round(c * n_sites) for e, c in dopants.items()}
    for e, k in counts.items():
        if k == 0:
            raise ValueError(
                f"size={size} has {n_sites} Bi sites: a concentration of {dopants[e]} {e} gives no dopant at all. "
                f"Use a larger size."
            )
    rng = np.random.default_rng(seed)
    chosen = rng.choice(n_sites, size=sum(counts.values()), replace=False)
    elements = np.concatenate([[e] * k for e, k in counts.items()]).astype("<U2")
    order = np.argsort(chosen, kind="stable")
    return DiluteConfiguration(size=size, site=chosen[order], elements=elements[order], concentrations=dopants, seed=seed)


def configuration_from_sites(size, sites: Mapping[int, str]) -> DiluteConfiguration:
    """A configuration with the given ``{Bi-site index: element}`` (indices into :func:`bi_sites`)."""
    size = _check_size(size)
    n_sites = len(bi_sites(size)[0])
    idx = np.array(sorted(int(k) for k in sites), dtype=int)
    if len(idx) == 0:
        raise ValueError("sites is empty: give at least one {Bi-site index: element}.")
    if idx[0] < 0 or idx[-1] >= n_sites:
        raise ValueError(f"sites: Bi-site indices must lie in [0, {n_sites}) for size={size}.")
    elements = np.array([sites[int(k)] if int(k) in sites else sites[k] for k in idx], dtype="<U2")
    for e in set(elements):
        if e not in IMPURITY_ELEMENTS:
            raise ValueError(f"sites: unknown element {e!r}; expected one of {', '.join(IMPURITY_ELEMENTS)}.")
    conc = {e: float(np.sum(elements == e)) / n_sites for e in dict.fromkeys(elements)}
    return DiluteConfiguration(size=size, site=idx, elements=elements, concentrations=conc, seed=None)


def find_site(size, position, tolerance: float = 0.01) -> int:
    """Index of the Bi site of ``size`` at ``position`` (Å, wrapped into the cell); raises if none."""
    pos, _, cell = bi_sites(_check_size(size))
    d = pos - np.asarray(position, dtype=float)
    f = np.linalg.solve(cell.T, d.T).T
    f -= np.round(f)
    dist = np.linalg.norm(f @ cell, axis=1)
    k = int(np.argmin(dist))
    if dist[k] > tolerance:
        raise ValueError(f"position {np.round(position, 3)} Å is {dist[k]:.3f} Å from the nearest Bi site of size={size}.")
    return k
