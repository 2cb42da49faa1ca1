"""Force-theorem exchange tensor between two d-shell impurities, and Lloyd's formula to check it.

With the d shells of :mod:`.dshell` the impurity potential that rotates is the exchange splitting
on the d orbitals, V_k = −(Δ_k/2) e_k·σ ⊗ 1_d. The non-magnetic d-shell Green function of the pair
(levels ε̄_k, hybridisation Σ(z)) plays the role of the host of :mod:`.exchange`, so the same
formula holds exactly on the 10 × 10 d blocks:

    J_ab = (1/π) Im ∫ dE f(E) (Δ_iΔ_j/4) Tr[G_ji σ_a G_ij σ_b],   G = G_dd with both moments along e,

for the three reference directions z, x, y (:func:`jijtutorial.greens.assemble_references`).
Convention: E = −Σ_{i<j} e_i·J_ij·e_j (pair once, J > 0 ferromagnetic), eV; D from the
antisymmetric part (:class:`jijtutorial.greens.ExchangeResult`).

:func:`grand_potential_dshell` gives ΔΩ = (1/π) Im ∫ f ln det(1 − G_ref ΔH_d) for rotated moments
(Lloyd), whose mixed second derivative the tests compare with J.
"""

from __future__ import annotations

import numpy as np

from .dshell import N_D, DShellCluster
from .exchange import ExchangeResult, assemble_references, liechtenstein
from .tight_binding import PAULI


def _pair_blocks(G):
    n = 2 * N_D
    return G[:, :n, n:], G[:, n:, :n]


def dshell_exchange(cluster: DShellCluster, sigma, levels, deltas) -> ExchangeResult:
    """Exchange tensor (eV, (3, 3)) of the two impurities of ``cluster`` (site 0 = i, site 1 = j).

    sigma: Σ(z) of the pair (:meth:`DShellCluster.sigma`); levels ε̄ (eV) and splittings Δ (eV) per impurity.
    """
    return ExchangeResult(
        tensor=assemble_references(lambda direction: dshell_exchange_for_reference(cluster, sigma, levels, deltas, direction))
    )


def dshell_exchange_for_reference(cluster: DShellCluster, sigma, levels, deltas, direction) -> np.ndarray:
    """J_ab (eV, (3, 3)) with both moments along ``direction``; meaningful for a, b ⊥ direction.

    With spin–orbit coupling the two references that give a diagonal component (e.g. J_xx from z
    and from y) differ by the anisotropy; :func:`dshell_exchange` averages them.
    """
    if cluster.n_sites != 2:
        raise ValueError("the exchange needs a cluster of exactly two impurity sites.")
    d_i, d_j = float(deltas[0]), float(deltas[1])
    if d_i == 0.0 or d_j == 0.0:
        return np.zeros((3, 3))
    G_ij, G_ji = _pair_blocks(cluster.green_dd(sigma, levels, deltas, direction))
    return liechtenstein(G_ij, G_ji, d_i, d_j, cluster.contour)


def d_potential(level: float, delta: float, direction) -> np.ndarray:
    """H_d = ε̄ − (Δ/2) e·σ ⊗ 1_5 of one impurity (10 × 10, eV)."""
    e = np.asarray(direction, dtype=float)
    e = e / np.linalg.norm(e)
    return np.kron(level * np.eye(2) - 0.5 * delta * np.einsum("a,aij->ij", e, PAULI), np.eye(N_D))


def grand_potential_dshell(cluster: DShellCluster, sigma, levels, deltas, directions, reference_directions) -> float:
    """Ω(directions) − Ω(reference) (eV) of the impurities' d shells from Lloyd's formula (rigid rotation).

    ΔΩ = −(−1/π) Im ∫ f ln det(1 − G_ref ΔH) with G_ref = G_dd at the reference directions and ΔH
    the change of the d-shell potentials; ``directions`` one unit vector per impurity.
    """
    n = cluster.n_sites
    nb = 2 * N_D
    G = np.linalg.inv(_inverse(cluster, sigma, levels, deltas, reference_directions))
    dH = np.zeros((n * nb, n * nb), dtype=complex)
    for k in range(n):
        dH[k * nb : (k + 1) * nb, k * nb : (k + 1) * nb] = d_potential(levels[k], deltas[k], directions[k]) - d_potential(
            levels[k], deltas[k], reference_directions[k]
        )
    sign, logabs = np.linalg.slogdet(np.eye(n * nb) - G @ dH)
    return float(-cluster.contour.integrate(logabs + np.log(sign)))


def _inverse(cluster, sigma, levels, deltas, directions):
    n = cluster.n_sites
    nb = 2 * N_D
    H = np.zeros((n * nb, n * nb), dtype=complex)
    for k in range(n):
        H[k * nb : (k + 1) * nb, k * nb : (k + 1) * nb] = d_potential(levels[k], deltas[k], directions[k])
    z = cluster.contour.z
    return z[:, None, None] * np.eye(n * nb) - H - sigma


__all__ = ["d_potential", "dshell_exchange", "dshell_exchange_for_reference", "grand_potential_dshell"]
