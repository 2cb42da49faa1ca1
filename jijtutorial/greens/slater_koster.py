"""Slater–Koster two-centre integrals for s, p and d orbitals, and on-site spin–orbit coupling.

Conventions (used by every module that builds a crystal or an impurity from atoms):

* Real orbitals in the order s; p_x, p_y, p_z; d_xy, d_yz, d_zx, d_{x²−y²}, d_{3z²−r²}.
* ``(l, m, n)`` are the direction cosines of the vector **from** the orbital on the left (the bra,
  at the origin) **to** the orbital on the right (the ket). The matrix element <α(0)|H|β(d)> of the
  tables of Slater and Koster, Phys. Rev. 94, 1498 (1954), Table I, with their sign convention
  (V_spσ > 0 when the positive lobe of p points at the s orbital's atom ... as in their paper).
* Spin: a block over (spin, orbital) is spin-outer, index ``s * n_orb + o`` with s = 0 (↑), 1 (↓)
  along z — the convention of :mod:`jijtutorial.greens.tight_binding`.
* Spin–orbit coupling on a p shell: H_SO = λ L·S (S = σ/2, ħ = 1); the j = 3/2 quartet lies λ/2
  above the shell's energy and the j = 1/2 doublet λ below it, a splitting 3λ/2.
"""

from __future__ import annotations

import numpy as np

from .tight_binding import PAULI

#: Orbital names in the package's order.
S_ORBITALS = ("s",)
P_ORBITALS = ("px", "py", "pz")
D_ORBITALS = ("dxy", "dyz", "dzx", "dx2-y2", "d3z2-r2")


def direction_cosines(vector) -> np.ndarray:
    """(l, m, n) of a bond vector (Å), shape (..., 3); ValueError for a zero vector."""
    v = np.asarray(vector, dtype=float)
    d = np.linalg.norm(v, axis=-1, keepdims=True)
    if np.any(d < 1e-12):
        raise ValueError("a bond vector has zero length: two orbitals of different atoms cannot sit on one point.")
    return v / d


def sp_block(vector, V_sss: float, V_sps: float, V_pss: float, V_pps: float, V_ppp: float) -> np.ndarray:
    """<α(0)|H|β(vector)> for α, β in (s, px, py, pz): a (4, 4) real matrix (eV).

    V_sps is the (s on the left, p on the right) σ integral, V_pss the (p left, s right) one; for
    two atoms of one species they are equal. Slater–Koster: E_s,x = l V_spσ, E_x,s = −l V_psσ,
    E_x,y = l m (V_ppσ − V_ppπ), E_x,x = l² V_ppσ + (1 − l²) V_ppπ.
    """
    c = direction_cosines(vector)
    out = np.zeros((4, 4))
    out[0, 0] = V_sss
    out[0, 1:] = c * V_sps
    out[1:, 0] = -c * V_pss
    out[1:, 1:] = np.outer(c, c) * (V_pps - V_ppp) + np.eye(3) * V_ppp
    return out


def pd_block(vector, V_pds: float, V_pdp: float) -> np.ndarray:
    """<p_α(0)|H|d_β(vector)> for α in (x, y, z), β in :data:`D_ORBITALS`: a (3, 5) real matrix (eV).

    Slater and Koster (1954), Table I, with the remaining entries by cyclic permutation of x, y, z.
    The d → p element is <d_β(0)|H|p_α(r)> = −pd_block(r)[α, β] (p is odd, d even).
    """
    l, m, n = direction_cosines(vector)
    s3 = np.sqrt(3.0)
    S, P = V_pds, V_pdp
    out = np.empty((3, 5))
    # p_x
    out[0] = [
        s3 * l * l * m * S + m * (1 - 2 * l * l) * P,
        s3 * l * m * n * S - 2 * l * m * n * P,
        s3 * l * l * n * S + n * (1 - 2 * l * l) * P,
        0.5 * s3 * l * (l * l - m * m) * S + l * (1 - l * l + m * m) * P,
        l * (n * n - 0.5 * (l * l + m * m)) * S - s3 * l * n * n * P,
    ]
    # p_y
    out[1] = [
        s3 * m * m * l * S + l * (1 - 2 * m * m) * P,
        s3 * m * m * n * S + n * (1 - 2 * m * m) * P,
        s3 * l * m * n * S - 2 * l * m * n * P,
        0.5 * s3 * m * (l * l - m * m) * S - m * (1 + l * l - m * m) * P,
        m * (n * n - 0.5 * (l * l + m * m)) * S - s3 * m * n * n * P,
    ]
    # p_z
    out[2] = [
        s3 * l * m * n * S - 2 * l * m * n * P,
        s3 * n * n * m * S + m * (1 - 2 * n * n) * P,
        s3 * n * n * l * S + l * (1 - 2 * n * n) * P,
        0.5 * s3 * n * (l * l - m * m) * S - n * (l * l - m * m) * P,
        n * (n * n - 0.5 * (l * l + m * m)) * S + s3 * n * (l * l + m * m) * P,
    ]
    return out


def orbital_angular_momentum_p() -> np.ndarray:
    """L_x, L_y, L_z on the real p orbitals (p_x, p_y, p_z), (L_a)_{bc} = −i ε_{abc}; shape (3, 3, 3)."""
    eps = np.zeros((3, 3, 3))
    for a, b, c in ((0, 1, 2), (1, 2, 0), (2, 0, 1)):
        eps[a, b, c], eps[a, c, b] = 1.0, -1.0
    return -1j * eps


def soc_p(lam: float) -> np.ndarray:
    """λ L·S on a p shell with spin, spin-outer (index s * 3 + p): a (6, 6) Hermitian matrix (eV)."""
    L = orbital_angular_momentum_p()
    return 0.5 * lam * sum(np.kron(PAULI[a], L[a]) for a in range(3))


__all__ = [
    "D_ORBITALS",
    "P_ORBITALS",
    "S_ORBITALS",
    "direction_cosines",
    "orbital_angular_momentum_p",
    "pd_block",
    "soc_p",
    "sp_block",
]
