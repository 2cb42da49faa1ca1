"""Impurities on host sites: their potential and the exact Dyson embedding of a pair.

An impurity replaces the host site by V = U·1 − (Δ/2) (e·σ) ⊗ 1_orb on that site's block (eV):
U shifts all its orbitals, Δ splits spin parallel / antiparallel to the unit vector e
(majority along e is lowered by Δ/2, so the moment points along e).

Both impurities are embedded exactly on the two-site block:
    G = (1 − G_0 V)^{-1} G_0,   G_0 = [[G_0(0), G_0(R)], [G_0(−R), G_0(0)]],   V = diag(V_i, V_j).
"""

from __future__ import annotations

import numpy as np

from .tight_binding import PAULI


def unit_vector(direction, name: str = "direction") -> np.ndarray:
    """``direction`` normalised to length 1; ValueError if it is zero or not three finite numbers."""
    e = np.asarray(direction, dtype=float).reshape(-1)
    if e.shape != (3,) or not np.all(np.isfinite(e)) or np.linalg.norm(e) < 1e-12:
        raise ValueError(f"{name} must be a non-zero 3-vector, not {direction!r}.")
    return e / np.linalg.norm(e)


def impurity_potential(U: float, delta: float, direction, n_orbitals: int) -> np.ndarray:
    """V = U·1 − (Δ/2)(e·σ) ⊗ 1_orb, shape (2 n_orbitals, 2 n_orbitals), eV."""
    if not (np.isfinite(U) and np.isfinite(delta)):
        raise ValueError(f"U and delta must be finite energies in eV, not U={U!r}, delta={delta!r}.")
    if delta < 0:
        raise ValueError(f"delta (exchange splitting) must be ≥ 0 eV, not {delta!r}: the moment's sign is its direction.")
    e = unit_vector(direction)
    spin = np.einsum("a,aij->ij", e, PAULI)
    return U * np.eye(2 * n_orbitals) - 0.5 * delta * np.kron(spin, np.eye(n_orbitals))


def embed_pair(g_onsite, g_ij, g_ji, v_i, v_j) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Full Green function blocks (G_ii, G_ij, G_ji, G_jj) of the pair, by the Dyson equation.

    g_onsite, g_ij, g_ji: host blocks G_0(0), G_0(R), G_0(−R), shape (..., nb, nb) (broadcast
    together); v_i, v_j: impurity potentials (..., nb, nb). Returns four (..., nb, nb) arrays.
    """
    g_onsite, g_ij, g_ji, v_i, v_j = np.broadcast_arrays(*(np.asarray(a, dtype=complex)
                                                            for a in (g_onsite, g_ij, g_ji, v_i, v_j)))
    nb = g_onsite.shape[-1]
    G0 = np.concatenate([np.concatenate([g_onsite, g_ij], axis=-1),
                         np.concatenate([g_ji, g_onsite], axis=-1)], axis=-2)
    zero = np.zeros_like(v_i)
    V = np.concatenate([np.concatenate([v_i, zero], axis=-1),
                        np.concatenate([zero, v_j], axis=-1)], axis=-2)
    A = np.eye(2 * nb) - G0 @ V
    G = np.linalg.solve(A, G0)
    return G[..., :nb, :nb], G[..., :nb, nb:], G[..., nb:, :nb], G[..., nb:, nb:]


def embed_single(g_onsite, v) -> np.ndarray:
    """Full on-site Green function of one impurity: (1 − G_0(0) V)^{-1} G_0(0), shape (..., nb, nb)."""
    g = np.asarray(g_onsite, dtype=complex)
    nb = g.shape[-1]
    return np.linalg.solve(np.eye(nb) - g @ np.asarray(v, dtype=complex), g)
