"""Impurities on host sites: their potential and the exact Dyson embedding of a pair.

An impurity adds V = [U·1 − (Δ/2) (e·σ)] ⊗ Π to its site's block (eV): U shifts, Δ splits spin
parallel / antiparallel to the unit vector e (majority along e is lowered by Δ/2, so the moment
points along e). Π is the orbital projector of the impurity: 1_orb when it replaces the whole site,
or a projector on part of the site (for the Bi2Te3 model the upper half of a quintuple layer,
:func:`jijtutorial.greens.ti_model.upper_bi_projector`, which breaks the site's inversion symmetry).

Impurities are embedded exactly on the block of their sites (:func:`embed`):
    G = (1 − G_0 V)^{-1} G_0,   e.g. for a pair G_0 = [[G_0(0), G_0(R)], [G_0(−R), G_0(0)]],   V = diag(V_i, V_j).
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


def orbital_projector(projector, n_orbitals: int) -> np.ndarray:
    """The orbital projector as an (n_orbitals, n_orbitals) array (None -> identity), validated."""
    if projector is None:
        return np.eye(n_orbitals)
    P = np.asarray(projector, dtype=complex)
    if P.shape != (n_orbitals, n_orbitals) or not np.allclose(P, P.conj().T) or not np.allclose(P @ P, P):
        raise ValueError(
            f"projector must be a Hermitian idempotent ({n_orbitals} × {n_orbitals}) orbital matrix, not {projector!r}."
        )
    return P


def impurity_potential(U, delta, direction, n_orbitals: int, projector=None) -> np.ndarray:
    """V = [U·1 − (Δ/2)(e·σ)] ⊗ Π, shape (2 n_orbitals, 2 n_orbitals), eV (Π = 1 by default).

    U and Δ are numbers (the static impurity), or arrays of shape (nz,) with one value per contour
    point (an energy-dependent potential such as the resonant d level of
    :mod:`jijtutorial.greens.resonant`: U(z) = [V↑(z) + V↓(z)]/2, Δ(z) = V↓(z) − V↑(z)); then
    V has shape (nz, 2 n_orbitals, 2 n_orbitals).
    """
    U_arr, d_arr = np.asarray(U), np.asarray(delta)
    if not (np.all(np.isfinite(U_arr)) and np.all(np.isfinite(d_arr))):
        raise ValueError(f"U and delta must be finite energies in eV, not U={U!r}, delta={delta!r}.")
    if d_arr.ndim == 0 and np.isrealobj(d_arr) and delta < 0:
        raise ValueError(f"delta (exchange splitting) must be ≥ 0 eV, not {delta!r}: the moment's sign is its direction.")
    if U_arr.ndim > 1 or d_arr.ndim > 1:
        raise ValueError(f"U and delta must be numbers or 1-d arrays over the contour, not shapes {U_arr.shape}, {d_arr.shape}.")
    e = unit_vector(direction)
    spin = np.einsum("a,aij->ij", e, PAULI)
    P = orbital_projector(projector, n_orbitals)
    if U_arr.ndim == 0 and d_arr.ndim == 0:
        return np.kron(U * np.eye(2) - 0.5 * delta * spin, P)
    U_arr, d_arr = np.broadcast_arrays(U_arr, d_arr)
    spin_part = U_arr[:, None, None] * np.eye(2) - 0.5 * d_arr[:, None, None] * spin
    return np.einsum("zab,ij->zaibj", spin_part, P).reshape(len(U_arr), 2 * n_orbitals, 2 * n_orbitals)


def embed(g0_block, v_block) -> np.ndarray:
    """Full Green function G = (1 − G_0 V)^{-1} G_0 of impurities on n sites (Dyson equation).

    g0_block: host Green function on the n sites, shape (..., n·nb, n·nb); v_block: the
    block-diagonal impurity potentials, same shape (eV). Returns G, same shape (1/eV).
    """
    g0_block = np.asarray(g0_block, dtype=complex)
    A = np.eye(g0_block.shape[-1]) - g0_block @ v_block
    return np.linalg.solve(A, g0_block)


def embed_pair(g_onsite, g_ij, g_ji, v_i, v_j) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Full Green function blocks (G_ii, G_ij, G_ji, G_jj) of the pair, by the Dyson equation.

    g_onsite, g_ij, g_ji: host blocks G_0(0), G_0(R), G_0(−R), shape (..., nb, nb) (broadcast
    together); v_i, v_j: impurity potentials (..., nb, nb). Returns four (..., nb, nb) arrays.
    """
    g_onsite, g_ij, g_ji, v_i, v_j = np.broadcast_arrays(
        *(np.asarray(a, dtype=complex) for a in (g_onsite, g_ij, g_ji, v_i, v_j))
    )
    nb = g_onsite.shape[-1]
    G0 = np.concatenate([np.concatenate([g_onsite, g_ij], axis=-1), np.concatenate([g_ji, g_onsite], axis=-1)], axis=-2)
    zero = np.zeros_like(v_i)
    V = np.concatenate([np.concatenate([v_i, zero], axis=-1), np.concatenate([zero, v_j], axis=-1)], axis=-2)
    G = embed(G0, V)
    return G[..., :nb, :nb], G[..., :nb, nb:], G[..., nb:, :nb], G[..., nb:, nb:]
