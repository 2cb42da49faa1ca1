"""Bi2Te3 as a 4-band topological-insulator tight-binding model, and its topology checks.

Continuum model (Zhang et al. 2009; Liu et al. 2010, Eq. 31 and Table IV), basis
|P1+ ↑>, |P2− ↑>, |P1+ ↓>, |P2− ↓> (spin-outer: σ ⊗ τ, τ the orbital):

    H(k) = ε(k) + M(k) τ_z + B0 k_z σ_z τ_x + A0 (k_x σ_x + k_y σ_y) τ_x,
    ε(k) = C0 + C1 k_z² + C2 k_⊥²,   M(k) = M0 + M1 k_z² + M2 k_⊥²,

inversion P = τ_z, time reversal iσ_y K. Bi2Te3 parameters of Liu et al. 2010, Table IV (eV, Å):
C0 = −0.18, C1 = 6.55, C2 = 49.68, M0 = −0.30, M1 = 2.79, M2 = 57.38, A0 = 2.87, B0 = 0.30
(the cubic warping terms R1, R2 are left out). M0 < 0 < M1, M2: the bands are inverted at Γ.

Lattice: one model site per quintuple layer, on the rhombohedral Bravais lattice of Bi2Te3 with
primitive vectors t1 = (a/2, a/(2√3), c/3), t2 = (−a/2, a/(2√3), c/3), t3 = (0, −a/√3, c/3)
(a = 4.383 Å, c = 30.487 Å) in the hexagonal Cartesian frame of :mod:`jijtutorial.structures`;
these are exactly the vectors between upper-Bi sites, so model site ↔ upper-Bi site.

Regularisation. k² and k are replaced by lattice sums that agree with them to O(k⁴) and O(k³):
    F_⊥(k) = 2/(3a²) Σ_{6 in-plane R} (1 − cos k·R)                             ≈ k_⊥²
    F_z(k) = α S₁ + β S₂ + γ S₀                                                 ≈ k_z²
    S_x,y(k) = 1/(3a²) Σ_{in-plane R} R_x,y sin k·R,  S_z = 1/(6h²) Σ_{R in S₁} R_z sin k·R
where S₀, S₁, S₂ are Σ (1 − cos k·R) over the in-plane shell, the 6 nearest inter-layer vectors
(±t_i, height h = c/3) and the 6 second inter-layer vectors (±(t_i + t_j), height 2h).
The naive choice (β = 0, nearest inter-layer only) is topologically *trivial* for Bi2Te3:
F_z reaches only 4/h² = 0.039 Å⁻² at Z, so M(Z) = M0 + 4 M1/h² = −0.19 eV < 0 and the bands are
inverted at Γ *and* Z (two inversions: Z2 = 0). The k·p parameters fix F_z only to O(k_z²); we use
that freedom and let M use F_z with ``z_boundary_factor`` λ_M = 6 (F_z(Z) = λ_M·4/h², via β < 0):
M(Z) = +0.35 eV, the bands are inverted only at Γ, and Z2 = 1. ε(k) keeps the nearest-neighbour
form (``eps_boundary_factor`` λ_ε = 1): with C1 > M1 a common λ > 1 would lift the valence band
along Γ–Z above the conduction band at Γ (no global gap). λ_M = 3...10 all give Z2 = 1 and a gap
of about 0.05 eV, limited by the small B0 = 0.30 eVÅ where M(k) changes sign along Γ–Z; λ_M = 6
gives 0.053 eV (indirect, both edges on Γ–Z), less than the measured ≈ 0.15 eV of Bi2Te3.
:func:`trim_parities` and :func:`z2_index` verify the result; :func:`bulk_gap` measures the gap.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from ..structures import A_HEX, C_HEX
from .tight_binding import PAULI, TightBinding, slab_hamiltonian

TAU = PAULI  # orbital Pauli matrices have the same form
_I2 = np.eye(2)


@dataclass(frozen=True)
class TIParameters:
    """Parameters of the 4-band model (eV, Å). Defaults: Bi2Te3, Liu et al. PRB 82, 045122 (2010), Table IV."""

    C0: float = -0.18
    C1: float = 6.55
    C2: float = 49.68
    M0: float = -0.30
    M1: float = 2.79
    M2: float = 57.38
    A0: float = 2.87
    B0: float = 0.30
    a: float = A_HEX
    c: float = C_HEX
    z_boundary_factor: float = 6.0
    eps_boundary_factor: float = 1.0
    source: str = "Liu et al., Phys. Rev. B 82, 045122 (2010), Table IV (Bi2Te3); lattice a, c of Bi2Te3"

    def as_dict(self) -> dict:
        return asdict(self)


BI2TE3 = TIParameters()


def rhombohedral_cell(a: float = A_HEX, c: float = C_HEX) -> np.ndarray:
    """Primitive vectors t1, t2, t3 (rows, Å) of the rhombohedral lattice of the upper-Bi sites."""
    h = c / 3
    return np.array([[a / 2, a / (2 * np.sqrt(3)), h], [-a / 2, a / (2 * np.sqrt(3)), h], [0.0, -a / np.sqrt(3), h]])


def _shells(cell: np.ndarray, a: float, h: float) -> dict[str, list[tuple[int, int, int]]]:
    """Lattice coordinates of the in-plane shell (6), nearest (6) and second (6) inter-layer shells."""
    rng = range(-3, 4)
    out = {"S0": [], "S1": [], "S2": []}
    for n in ((i, j, k) for i in rng for j in rng for k in rng):
        R = np.array(n) @ cell
        rp = np.hypot(R[0], R[1])
        layers = R[2] / h
        if abs(layers) < 1e-9 and abs(rp - a) < 1e-6:
            out["S0"].append(n)
        elif abs(abs(layers) - 1) < 1e-9 and abs(rp - a / np.sqrt(3)) < 1e-6:
            out["S1"].append(n)
        elif abs(abs(layers) - 2) < 1e-9 and abs(rp - a / np.sqrt(3)) < 1e-6:
            out["S2"].append(n)
    assert all(len(v) == 6 for v in out.values()), out
    return out


def ti_model(params: TIParameters = BI2TE3) -> TightBinding:
    """The regularised 4-band topological-insulator model (see module docstring) as a TightBinding."""
    p = params
    for name in ("a", "c", "z_boundary_factor"):
        if not (np.isfinite(getattr(p, name)) and getattr(p, name) > 0):
            raise ValueError(f"TIParameters.{name} must be positive, not {getattr(p, name)!r}.")
    cell = rhombohedral_cell(p.a, p.c)
    a, h = p.a, p.c / 3
    shells = _shells(cell, a, h)
    # Quadratic forms of Σ(1 − cos k·R) ≈ ½ Σ (k·R)²: S0 -> (3a²/2) k⊥², S1 -> (a²/2) k⊥² + 3h² kz²,
    # S2 -> (a²/2) k⊥² + 12h² kz². Solve for F_perp ≈ k⊥² and F_z ≈ kz² with F_z(Z) = λ · 4/h².
    w_perp = {"S0": 2 / (3 * a**2), "S1": 0.0, "S2": 0.0}

    def z_weights(lam):
        alpha = lam / (3 * h**2)
        beta = (1 - lam) / (12 * h**2)
        gamma = -(alpha + beta) / 3
        return {"S0": gamma, "S1": alpha, "S2": beta}

    w_m = z_weights(p.z_boundary_factor)
    w_e = z_weights(p.eps_boundary_factor)
    gz = np.kron(_I2, TAU[2])  # τ_z
    one = np.eye(4)
    # Linear terms: B0 kz σz τx + A0 (kx σx + ky σy) τx
    lin = [np.kron(PAULI[0], TAU[0]), np.kron(PAULI[1], TAU[0]), np.kron(PAULI[2], TAU[0])]
    hop: dict = {(0, 0, 0): p.C0 * one + p.M0 * gz}
    for shell, ns in shells.items():
        # c_e, c_m: coefficients of Σ(1 − cos) in ε and M
        c_e = p.C2 * w_perp[shell] + p.C1 * w_e[shell]
        c_m = p.M2 * w_perp[shell] + p.M1 * w_m[shell]
        for n in ns:
            R = np.array(n) @ cell
            block = np.zeros((4, 4), dtype=complex)
            hop[(0, 0, 0)] = hop[(0, 0, 0)] + (c_e * one + c_m * gz)
            # Σ_R c (1 − cos k·R) over a shell closed under R -> −R = Σ_R c (1 − e^{ik·R}): hopping −c
            block += -(c_e * one + c_m * gz)
            # Σ_R u_R sin k·R with u_{−R} = −u_R = Σ_R (u_R / i) e^{ik·R}: hopping u_R / i
            if shell == "S0":
                u = p.A0 * (R[0] * lin[0] + R[1] * lin[1]) / (3 * a**2)
                block += u / 1j
            elif shell == "S1":
                u = p.B0 * R[2] * lin[2] / (6 * h**2)
                block += u / 1j
            hop[n] = hop.get(n, 0) + block
    return TightBinding(cell=cell, hoppings=hop, n_orbitals=2, name="Bi2Te3 4-band TI model")


def upper_bi_projector() -> np.ndarray:
    """Orbital projector (2 × 2) of an impurity on the upper Bi layer of a quintuple layer.

    In a two-layer picture of the QL, P1+ and P2− are the even and odd combinations of the upper
    (u) and lower (l) halves, |P1+> = (|u> + |l>)/√2, |P2−> = (|u> − |l>)/√2 (this fixes the sign
    convention of the orbitals). A potential on the upper half alone is then V ⊗ |u><u| with
    |u><u| = (τ_0 + τ_x)/2: it mixes the two parities, so an impurity on a Bi site, which is not an
    inversion centre (2.03 Å above the QL centre), breaks inversion as it does in Bi2Te3.
    """
    return 0.5 * (np.eye(2) + TAU[0].real)


def inversion_operator() -> np.ndarray:
    """Parity on a site's 4-dimensional basis: P = 1_σ ⊗ τ_z (P1+ even, P2− odd)."""
    return np.kron(_I2, TAU[2]).real


def trim_points(model: TightBinding) -> tuple[np.ndarray, np.ndarray]:
    """The 8 time-reversal-invariant momenta k = (n1 b1 + n2 b2 + n3 b3)/2, n_i ∈ {0, 1}.

    Returns (k (8, 3) in Å⁻¹, n (8, 3)); row 0 is Γ, row 7 is Z (= (b1 + b2 + b3)/2).
    """
    n = np.array([(i, j, k) for i in (0, 1) for j in (0, 1) for k in (0, 1)])
    return n @ model.reciprocal_cell / 2, n


def trim_parities(model: TightBinding, n_occupied: int = 2) -> np.ndarray:
    """Product of parity eigenvalues ξ over one member of each occupied Kramers pair, δ_i, at the 8 TRIM.

    At a TRIM, H commutes with P, so each occupied eigenvector has parity ±1. Returns (8,) of ±1.
    """
    if n_occupied % 2:
        raise ValueError(f"n_occupied must be even (Kramers pairs), not {n_occupied}.")
    k, _ = trim_points(model)
    e, v = model.eigh(k)
    P = inversion_operator()
    out = []
    for i in range(len(k)):
        occ = v[i][:, :n_occupied]
        # parity eigenvalues of the occupied subspace (P restricted to it is Hermitian)
        xi = np.linalg.eigvalsh(occ.conj().T @ P @ occ)
        if np.abs(np.abs(xi) - 1).max() > 1e-8:
            raise ValueError("occupied states at a TRIM are not parity eigenstates: the model breaks inversion.")
        # Kramers partners share their parity; sorted, they are adjacent: keep one of each pair.
        out.append(int(np.prod(np.sign(xi[::2]))))
    return np.array(out)


def z2_index(model: TightBinding, n_occupied: int = 2) -> int:
    """Strong Z2 index ν0 from Fu–Kane: (−1)^ν0 = Π_i δ_i over the 8 TRIM (1 = strong TI)."""
    prod = int(np.prod(trim_parities(model, n_occupied)))
    return 0 if prod == 1 else 1


def mass_at_trim(model_params: TIParameters = BI2TE3) -> np.ndarray:
    """The mass M(k) (eV) of the regularised model at the 8 TRIM; negative means inverted."""
    model = ti_model(model_params)
    k, _ = trim_points(model)
    H = model.hamiltonian(k)
    return np.einsum("kab,ba->k", H, inversion_operator()).real / 4


def band_edges(model: TightBinding, kmesh=24, n_occupied: int = 2) -> tuple[float, float]:
    """Valence-band maximum and conduction-band minimum (eV) on a Γ-centred k-mesh plus a dense Γ–Z line."""
    line = np.linspace(0, 1, 2001)[:, None] * model.reciprocal_cell.sum(0)[None, :]
    k = np.vstack([model.kmesh(kmesh), line])
    e = np.linalg.eigvalsh(model.hamiltonian(k))
    return float(e[:, n_occupied - 1].max()), float(e[:, n_occupied].min())


def bulk_gap(model: TightBinding, kmesh=24, n_occupied: int = 2) -> float:
    """Indirect bulk gap CBM − VBM (eV) on a k-mesh (negative: the bands overlap, a semimetal)."""
    vbm, cbm = band_edges(model, kmesh, n_occupied)
    return cbm - vbm


def band_bottom(model: TightBinding, kmesh=12) -> float:
    """Lowest band energy (eV) on a k-mesh."""
    return float(np.linalg.eigvalsh(model.hamiltonian(model.kmesh(kmesh))).min())


def high_symmetry_path(model: TightBinding, n_per_segment: int = 60):
    """k-path Γ–Z and Γ–L–F–Γ... for band plots: returns (k (n, 3) Å⁻¹, x (n,), ticks [(x, label)])."""
    b = model.reciprocal_cell
    pts = {"Γ": np.zeros(3), "Z": b.sum(0) / 2, "L": b[0] / 2, "F": (b[0] + b[1]) / 2}
    order = ["F", "Γ", "Z", "L", "Γ"]
    ks, xs, ticks, x0 = [], [], [], 0.0
    for p, q in zip(order[:-1], order[1:]):
        seg = pts[p] + np.linspace(0, 1, n_per_segment, endpoint=False)[:, None] * (pts[q] - pts[p])
        ticks.append((x0, p))
        ks.append(seg)
        xs.append(x0 + np.linalg.norm(seg - pts[p], axis=1))
        x0 += np.linalg.norm(pts[q] - pts[p])
    ks.append(pts[order[-1]][None])
    xs.append(np.array([x0]))
    ticks.append((x0, order[-1]))
    return np.vstack(ks), np.concatenate(xs), ticks


def slab_bands(model: TightBinding, n_layers: int, k_parallel, layer_height: float | None = None):
    """Bands of a slab of ``n_layers`` quintuple layers and the weight of each state on the two surfaces.

    k_parallel: (nk, 2) in-plane wave vectors (Å⁻¹). Returns (energies (nk, nstates) eV,
    surface weight (nk, nstates): probability on the outermost layer at either surface).
    """
    h = layer_height if layer_height is not None else model.cell[0, 2]
    H = slab_hamiltonian(model, k_parallel, n_layers, h)
    e, v = np.linalg.eigh(H)
    nb = model.n_basis
    w = np.abs(v) ** 2
    top = w[:, :nb, :].sum(axis=1)
    bottom = w[:, -nb:, :].sum(axis=1)
    return e, top + bottom


def surface_path(a: float = A_HEX, n: int = 81, k_max: float = 0.15) -> tuple[np.ndarray, np.ndarray]:
    """In-plane path M̄-direction → Γ̄ → K̄-direction of length k_max (Å⁻¹) each side.

    Returns (k (n, 2) Å⁻¹, signed |k| (n,)): negative towards M̄ (along y), positive towards K̄ (along x).
    """
    s = np.linspace(-k_max, k_max, n)
    k = np.where(s[:, None] < 0, np.column_stack([0 * s, -s]), np.column_stack([s, 0 * s]))
    return k, s
