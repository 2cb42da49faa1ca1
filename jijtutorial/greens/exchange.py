"""Exchange couplings from the magnetic force theorem (Liechtenstein et al. 1987).

Convention (the one of the JuKKR data set, pair counted once):

    E = −Σ_{i<j} [ e_i·J^S_ij·e_j + D_ij·(e_i × e_j) ] = −Σ_{i<j} e_i·J_ij·e_j,

e_i unit vectors of the moments, J > 0 ferromagnetic, J_ij the full 3 × 3 tensor, J^S its symmetric
part, D_x = (J_yz − J_zy)/2, D_y = (J_zx − J_xz)/2, D_z = (J_xy − J_yx)/2, isotropic J = Tr J / 3.
TB2J writes E = −Σ_{i≠j} J_ij e_i·e_j (every pair twice), so J_TB2J = J/2 for the same physics;
a Heisenberg model written with ½ Σ_{i≠j} is the same as ours.

Force theorem: rotating the impurity potentials V = [U − (Δ/2) e·σ] ⊗ Π rigidly changes the band
(grand-potential) energy by Lloyd's formula Ω = (1/π) Im ∫ dE f(E) ln det(1 − G_0 V). Its mixed second
derivative in the rotations δe_i ⊥ e_i, δe_j ⊥ e_j is −δe_i·J·δe_j with

    J_ab = (1/π) Im ∫ dE f(E) (Δ_i Δ_j / 4) Tr[ G_ji (σ_a ⊗ Π) G_ij (σ_b ⊗ Π) ],

G the Green function with both impurities embedded, G_ij = <i|G|j>, the trace over orbitals and
spin. For an energy-dependent potential V(z) = [U(z) − (Δ(z)/2) e·σ] ⊗ Π (the resonant d level of
:mod:`jijtutorial.greens.resonant`, Δ(z) = V↓(z) − V↑(z)) the same algebra holds at every energy,
and Δ_i(z)Δ_j(z)/4 stands inside the integral. One reference direction e gives the 2 × 2 block of J ⊥ e;
the references z, x, y give all nine
components (the diagonal ones twice; they are averaged).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .contour import Contour
from .impurity import embed_pair, impurity_potential, orbital_projector, unit_vector
from .tight_binding import PAULI

#: Reference directions and the two tensor components each one determines.
REFERENCES = (((0.0, 0.0, 1.0), (0, 1)), ((1.0, 0.0, 0.0), (1, 2)), ((0.0, 1.0, 0.0), (2, 0)))


@dataclass(frozen=True)
class ExchangeResult:
    """Exchange tensor(s) J_ij, shape (..., 3, 3), in eV (E = −e_i·J·e_j, pair once)."""

    tensor: np.ndarray

    @property
    def J(self) -> np.ndarray:
        """Isotropic exchange Tr J / 3 (eV), shape (...)."""
        return np.trace(self.tensor, axis1=-2, axis2=-1) / 3.0

    @property
    def symmetric(self) -> np.ndarray:
        """Symmetric part J^S (eV), shape (..., 3, 3)."""
        return 0.5 * (self.tensor + np.swapaxes(self.tensor, -1, -2))

    @property
    def D(self) -> np.ndarray:
        """Dzyaloshinskii–Moriya vector (eV), shape (..., 3): D·(e_i × e_j) = e_i·A·e_j, A = antisymmetric part."""
        t = self.tensor
        return 0.5 * np.stack([t[..., 1, 2] - t[..., 2, 1], t[..., 2, 0] - t[..., 0, 2], t[..., 0, 1] - t[..., 1, 0]], axis=-1)


def _spin_operators(n_orbitals: int, projector=None) -> np.ndarray:
    P = orbital_projector(projector, n_orbitals)
    return np.array([np.kron(s, P) for s in PAULI])


def _per_energy(x, ndim: int) -> np.ndarray:
    """A number, or an array over the contour (nz,), shaped to broadcast against an (nz, ...) array of ``ndim`` axes."""
    x = np.asarray(x)
    if x.ndim == 0:
        return x
    if x.ndim != 1:
        raise ValueError(f"an energy-dependent parameter must have one value per contour point, shape (nz,), not {x.shape}.")
    return x.reshape((-1,) + (1,) * (ndim - 1))


def liechtenstein(g_ij, g_ji, delta_i, delta_j, contour: Contour, projector=None) -> np.ndarray:
    """J_ab (eV) of the force-theorem formula for all a, b in x, y, z, shape (..., 3, 3).

    g_ij, g_ji: full Green function blocks <i|G|j>, <j|G|i> on the contour, shape (nz, ..., nb, nb).
    delta_i, delta_j: exchange splittings Δ (eV), numbers, or arrays (nz,) for an energy-dependent
    splitting Δ(z) = V↓(z) − V↑(z) (then Δ_iΔ_j/4 moves inside the energy integral).
    Only the components perpendicular to the reference direction used for G are meaningful.
    projector: the impurities' orbital projector Π (None: the whole site).
    """
    g_ij = np.asarray(g_ij)
    S = _spin_operators(g_ij.shape[-1] // 2, projector)
    # Tr[G_ji σ_a G_ij σ_b] as batched matrix products (einsum's generic loop is several times slower here)
    nb = g_ij.shape[-1]
    left = np.asarray(g_ji)[..., None, :, :] @ S  # G_ji σ_a: (..., a, p, r)
    right = (g_ij[..., None, :, :] @ S).swapaxes(-1, -2)  # (G_ij σ_b)ᵀ: (..., b, p, r)
    shape = left.shape[:-2]
    T = left.reshape(shape + (nb * nb,)) @ right.reshape(shape + (nb * nb,)).swapaxes(-1, -2)
    d_i, d_j = np.asarray(delta_i), np.asarray(delta_j)
    if d_i.ndim == 0 and d_j.ndim == 0:
        prefactor = 0.25 * float(delta_i) * float(delta_j)
        return -prefactor * contour.integrate(T) + 0.0  # (1/π) Im ∫ f ... = −contour.integrate(...); +0.0 drops −0.0
    prefactor = 0.25 * _per_energy(d_i, T.ndim) * _per_energy(d_j, T.ndim)
    return -contour.integrate(prefactor * T) + 0.0


def exchange_for_reference(
    g_onsite, g_ij, g_ji, contour: Contour, impurity_i, impurity_j, direction, projector=None
) -> np.ndarray:
    """J_ab (eV, shape (..., 3, 3)) with both moments along ``direction``; meaningful only for a, b ⊥ direction.

    g_onsite (nz, nb, nb) or broadcastable, g_ij = G_0(R), g_ji = G_0(−R): (nz, ..., nb, nb) host blocks.
    impurity_i, impurity_j: (U, Δ) pairs in eV, numbers or arrays over the contour (nz,) for an
    energy-dependent potential (see :func:`jijtutorial.greens.impurity_potential`);
    projector: orbital projector Π of the impurities.
    """
    e = unit_vector(direction)
    nb = np.shape(g_ij)[-1]
    (U_i, d_i), (U_j, d_j) = impurity_i, impurity_j
    v_i = impurity_potential(U_i, d_i, e, nb // 2, projector)
    v_j = impurity_potential(U_j, d_j, e, nb // 2, projector)
    g_onsite = np.asarray(g_onsite)
    extra = np.ndim(g_ij) - g_onsite.ndim
    g0 = g_onsite.reshape(g_onsite.shape[:1] + (1,) * extra + g_onsite.shape[1:])
    v_i, v_j = (v.reshape(v.shape[:1] + (1,) * (np.ndim(g_ij) - 3) + v.shape[1:]) if v.ndim == 3 else v for v in (v_i, v_j))
    _, G_ij, G_ji, _ = embed_pair(g0, g_ij, g_ji, v_i, v_j)
    return liechtenstein(G_ij, G_ji, d_i, d_j, contour, projector)


def assemble_references(per_reference) -> np.ndarray:
    """The full tensor (..., 3, 3) from the three reference directions of :data:`REFERENCES`.

    ``per_reference(direction)`` returns J (..., 3, 3) computed with the moments along
    ``direction``; only the 2 × 2 block perpendicular to it is taken, and the diagonal
    components (given by two references each) are averaged.
    """
    tensor = None
    count = np.zeros((3, 3))
    for direction, (a, b) in REFERENCES:
        Jr = per_reference(direction)
        if tensor is None:
            tensor = np.zeros(np.shape(Jr))
        for p in (a, b):
            for q in (a, b):
                tensor[..., p, q] += Jr[..., p, q]
                count[p, q] += 1
    return tensor / count + 0.0


def exchange_tensor(g_onsite, g_ij, g_ji, contour: Contour, impurity_i, impurity_j, projector=None) -> ExchangeResult:
    """Full exchange tensor from the three references z, x, y (see :data:`REFERENCES`), eV."""
    return ExchangeResult(
        tensor=assemble_references(
            lambda direction: exchange_for_reference(g_onsite, g_ij, g_ji, contour, impurity_i, impurity_j, direction, projector)
        )
    )


def grand_potential_change(g_onsite, g_ij, g_ji, contour: Contour, v_pair, v_reference) -> np.ndarray:
    """Ω(V) − Ω(V_ref) (eV) of the two-impurity system from Lloyd's formula.

    Ω = (1/π) Im ∫ dE f(E) ln det(1 − G_0 V); the difference is evaluated as
    ln det(1 − G_ref (V − V_ref)) with G_ref the Green function at V_ref (no branch ambiguity for
    small changes). v_pair, v_reference: (V_i, V_j) tuples of (nb, nb) potentials, or (nz, nb, nb)
    for energy-dependent ones (one per contour point).
    Host blocks: g_onsite (nz, nb, nb), g_ij, g_ji (nz, nb, nb) for one pair vector.
    """
    vi, vj = (np.asarray(v, dtype=complex) for v in v_pair)
    ri, rj = (np.asarray(v, dtype=complex) for v in v_reference)
    G_ii, G_ij, G_ji, G_jj = embed_pair(g_onsite, g_ij, g_ji, ri, rj)
    G = np.concatenate([np.concatenate([G_ii, G_ij], -1), np.concatenate([G_ji, G_jj], -1)], -2)
    nb = vi.shape[-1]
    dV = np.zeros(np.broadcast_shapes(vi.shape, vj.shape, ri.shape, rj.shape)[:-2] + (2 * nb, 2 * nb), dtype=complex)
    dV[..., :nb, :nb], dV[..., nb:, nb:] = vi - ri, vj - rj
    sign, logabs = np.linalg.slogdet(np.eye(2 * nb) - G @ dV)
    L = logabs + np.log(sign)
    return -contour.integrate(L)
