"""Resonant d-level impurities: a spin-split virtual bound state (Anderson 1961, Friedel 1958).

A transition-metal impurity carries a d shell (5 orbitals per spin) that hybridises with the host.
Downfolding the d shell onto the host site gives, per spin σ along the moment direction e, an
energy-dependent potential on the impurity's part Π of the site,

    V_σ(z) = W / (z − ε_dσ + iΓ)                                   (Im z > 0),

W (eV²) the hybridisation weight (the 5-fold degeneracy is absorbed in it: W = 5 t² for five d
orbitals that each hop with t to the host orbital), ε_dσ the spin-split d level and Γ the half-width
of the virtual bound state. The +iΓ is Anderson's wide-band limit: the d level is broadened by a
continuum that the four-band model does not contain (the Te p and Bi p bands several eV wide), so
the bare d level is exactly a Lorentzian of half-width Γ and V_σ(z) stays analytic and bounded
(|V_σ| ≤ W/Γ) in the upper half plane — a level at E_F would otherwise put a pole on the end of the
contour. The rotation of the moment rotates the spin structure,

    V(z) = [Ū(z) − (Δ(z)/2) e·σ] ⊗ Π,   Ū = (V↑ + V↓)/2,   Δ(z) = V↓(z) − V↑(z) = −[V↑(z) − V↓(z)],

the same form as the static impurity with U, Δ → Ū(z), Δ(z); the Liechtenstein formula takes
Δ_i(z)Δ_j(z)/4 inside the energy integral.

Friedel sum rule. A Lorentzian level of half-width Γ at ε holds (1/π) arccot((ε − E_F)/Γ) electrons
per orbital (the phase shift δ/π at E_F), so 5 orbitals hold n_σ electrons when

    ε_dσ − E_F = Γ cot(π n_σ / 5),    n_σ = (N_d ± m)/2 clipped to [0, 5]  (+ majority, − minority).

m is the JuKKR median moment of :mod:`jijtutorial.greens.element_table` (0 for the non-magnetic
elements, so ε_d↑ = ε_d↓, Δ(z) ≡ 0 and every J with them is exactly 0). N_d is the d count; the
rule used by default is the divalent one, N_d = group − 2 (the atomic 3dⁿ4s² / 4dⁿ5s² count,
Mn d⁵, Fe d⁶, Co d⁷): its Hund's-rule moment min(N_d, 10 − N_d) is the closest of the simple
rules to the JuKKR moments (V 3 vs 2.6 μB, Cr 4 vs 3.8, Mn 5 vs 4.4, Fe 4 vs 3.4, Co 3 vs 2.1).
The trivalent rule (N_d = group − 3, substitution of Bi³⁺) and the d^{n+1}s¹ rule (group − 1) are
available as ``rule="trivalent"`` and ``rule="neutral"``. A full (n_σ = 5) or empty (n_σ = 0) spin
channel has its level at ∓∞: V_σ ≡ 0.

Global parameters (no per-element or per-pair fitting): Γ = 0.3 eV and W = 0.3 eV² (t ≈ 0.25 eV
per d orbital), typical of the d-resonance widths of 3d impurities in sp hosts and of d–p hopping.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..elements import group, z_of
from .element_table import MAGNETIC_THRESHOLD, MEDIAN_MOMENT, MOMENT_SOURCE

#: Default half-width Γ (eV) of the virtual bound state and hybridisation weight W (eV²).
GAMMA = 0.3
WEIGHT = 0.3
#: Orbitals per spin of a d shell.
N_ORBITALS_D = 5

#: d-count rules: N_d = group − offset.
D_COUNT_RULES = {"trivalent": 3, "divalent": 2, "neutral": 1}
DEFAULT_RULE = "divalent"
RULE_NOTES = {
    "trivalent": "N_d = group - 3 (trivalent ion replacing Bi3+)",
    "divalent": "N_d = group - 2 (divalent ion, atomic d^n s^2 count)",
    "neutral": "N_d = group - 1 (d^(n+1) s^1 count of the neutral atom in a solid)",
}


def d_count(symbol: str, rule: str = DEFAULT_RULE) -> float:
    """Number of d electrons N_d of ``symbol`` by ``rule`` ('trivalent', 'divalent', 'neutral'), clipped to [0, 10]."""
    if rule not in D_COUNT_RULES:
        raise ValueError(f"unknown d-count rule {rule!r}: use one of {', '.join(D_COUNT_RULES)}.")
    return float(min(max(group(symbol) - D_COUNT_RULES[rule], 0), 10))


def spin_occupations(n_d: float, moment: float) -> tuple[float, float]:
    """(n↑, n↓) = ((N_d + m)/2, (N_d − m)/2), each clipped to [0, 5] (majority first)."""
    m = abs(float(moment))
    return (float(np.clip(0.5 * (n_d + m), 0.0, N_ORBITALS_D)), float(np.clip(0.5 * (n_d - m), 0.0, N_ORBITALS_D)))


def level_from_occupation(n: float, gamma: float = GAMMA) -> float:
    """ε_d − E_F (eV) of a Lorentzian level (half-width Γ, 5 orbitals) holding n electrons: Γ cot(π n / 5).

    ±inf for an empty (n = 0) or full (n = 5) channel.
    """
    if not (0.0 <= n <= N_ORBITALS_D):
        raise ValueError(f"an occupation per spin must lie in [0, 5], not {n!r}.")
    if n == 0.0:
        return np.inf
    if n == N_ORBITALS_D:
        return -np.inf
    return float(gamma / np.tan(np.pi * n / N_ORBITALS_D))


def occupation_from_level(level, gamma: float = GAMMA):
    """Electrons in 5 Lorentzian orbitals (half-width Γ) at ε_d − E_F = ``level`` (eV): (5/π) arccot(level/Γ)."""
    x = np.asarray(level, dtype=float) / gamma
    return N_ORBITALS_D * (0.5 - np.arctan(x) / np.pi)


def level_potential(z, level: float, e_fermi: float, weight: float = WEIGHT, gamma: float = GAMMA) -> np.ndarray:
    """V_σ(z) = W / (z − E_F − level + iΓ) on contour points z (eV); 0 for a level at ±∞."""
    z = np.asarray(z, dtype=complex)
    if not np.isfinite(level):
        return np.zeros(z.shape, dtype=complex)
    return weight / (z - (e_fermi + level) + 1j * gamma)


@dataclass(frozen=True)
class ResonantParameters:
    """A spin-split virtual bound state: d count, occupations, levels (relative to E_F), W and Γ."""

    symbol: str
    moment: float
    n_d: float
    n_up: float
    n_down: float
    level_up: float
    level_down: float
    weight: float
    gamma: float
    rule: str
    sources: str

    @property
    def magnetic(self) -> bool:
        return self.n_up != self.n_down

    def potentials(self, z, e_fermi: float) -> tuple[np.ndarray, np.ndarray]:
        """(V↑(z), V↓(z)) on contour points z (eV), ↑ = majority."""
        return (
            level_potential(z, self.level_up, e_fermi, self.weight, self.gamma),
            level_potential(z, self.level_down, e_fermi, self.weight, self.gamma),
        )

    def on_contour(self, z, e_fermi: float) -> tuple[np.ndarray, np.ndarray]:
        """(Ū(z), Δ(z)) = ((V↑ + V↓)/2, V↓ − V↑), arrays (nz,): the (U, Δ) pair the exchange functions take.

        Non-magnetic elements have V↑ ≡ V↓, so Δ(z) is exactly 0.
        """
        up, down = self.potentials(z, e_fermi)
        return 0.5 * (up + down), down - up

    def as_dict(self) -> dict:
        """JSON-friendly: a level at ±∞ (empty or full spin channel, V_σ ≡ 0) is written as None."""
        lvl = lambda x: float(x) if np.isfinite(x) else None
        return {
            "moment_muB": self.moment,
            "N_d": self.n_d,
            "n_up": self.n_up,
            "n_down": self.n_down,
            "level_up_eV": lvl(self.level_up),
            "level_down_eV": lvl(self.level_down),
            "sources": self.sources,
        }


def resonant_parameters(
    symbol: str, *, gamma: float = GAMMA, weight: float = WEIGHT, rule: str = DEFAULT_RULE
) -> ResonantParameters:
    """The virtual-bound-state parameters of ``symbol`` (levels ε_dσ − E_F from the Friedel sum rule, eV)."""
    z_of(symbol, where="impurity element")
    if not (np.isfinite(gamma) and gamma > 0):
        raise ValueError(f"gamma (half-width of the d resonance) must be a positive energy in eV, not {gamma!r}.")
    if not (np.isfinite(weight) and weight >= 0):
        raise ValueError(f"weight W must be a non-negative number in eV², not {weight!r}.")
    m = MEDIAN_MOMENT[symbol]
    m = abs(m) if abs(m) >= MAGNETIC_THRESHOLD else 0.0
    n_d = d_count(symbol, rule)
    n_up, n_down = spin_occupations(n_d, m)
    sources = (
        f"m: {MOMENT_SOURCE}"
        + ("" if m else " (|m| < 0.05 μB: m = 0)")
        + f"; {RULE_NOTES[rule]}; n_σ = (N_d ± m)/2 clipped to [0, 5]; "
        f"ε_dσ − E_F = Γ cot(π n_σ/5) (Friedel sum rule for a Lorentzian level), Γ = {gamma} eV, W = {weight} eV²"
    )
    return ResonantParameters(
        symbol=symbol,
        moment=m,
        n_d=n_d,
        n_up=n_up,
        n_down=n_down,
        level_up=level_from_occupation(n_up, gamma),
        level_down=level_from_occupation(n_down, gamma),
        weight=float(weight),
        gamma=float(gamma),
        rule=rule,
        sources=sources,
    )


def resonant_table(*, gamma: float = GAMMA, weight: float = WEIGHT, rule: str = DEFAULT_RULE):
    """All 20 elements as a DataFrame: N_d, n↑, n↓, ε_d↑ − E_F, ε_d↓ − E_F (eV), magnetic."""
    import pandas as pd

    from ..elements import IMPURITY_ELEMENTS

    rows = []
    for s in IMPURITY_ELEMENTS:
        p = resonant_parameters(s, gamma=gamma, weight=weight, rule=rule)
        rows.append(
            {
                "symbol": s,
                "Z": z_of(s),
                "moment": p.moment,
                "N_d": p.n_d,
                "n_up": p.n_up,
                "n_down": p.n_down,
                "level_up": p.level_up,
                "level_down": p.level_down,
                "magnetic": p.magnetic,
            }
        )
    return pd.DataFrame(rows)


def d_occupation(
    g_onsite, contour, params: ResonantParameters, e_fermi: float, projector=None, direction=(0.0, 0.0, 1.0)
) -> np.ndarray:
    """d electrons (n↑, n↓) of one impurity embedded in the host, from the Dyson equation of its d shell.

    The microscopic picture behind V_σ(z): five d orbitals per spin at ε_dσ, each broadened by −iΓ
    (G_L,σ(z) = 1/(z − ε_dσ + iΓ) = V_σ(z)/W) and hopping with t = √(W/5) to the host orbital of Π.
    Their bonding combination couples with √W and has G_b = [1 − W G_L g_Π]^{-1} G_L (2 × 2 in spin,
    g_Π the host's on-site Green function on the orbital of Π); the four others stay Lorentzians.
    n_σ = ∫ f (−1/π) Im [G_b + 4 G_L]_σσ over the contour, plus the Lorentzian tail below the contour's
    lower end, where the host has no states (analytic). For W → 0 this is the intended n_σ (the
    Friedel sum rule); a finite W shifts it by the hybridisation with the explicit host.
    g_onsite: host G_0(0; z) (nz, nb, nb); Π must have rank 1 (the upper-Bi projector has).
    Returns (n_majority, n_minority) for the moment along ``direction``.
    """
    from .impurity import orbital_projector, unit_vector
    from .tight_binding import PAULI

    g = np.asarray(g_onsite, dtype=complex)
    nb = g.shape[-1]
    P = orbital_projector(projector, nb // 2)
    w_, v_ = np.linalg.eigh(P)
    if not np.isclose(w_.sum(), 1.0):
        raise ValueError("d_occupation needs a rank-1 orbital projector (one host orbital for the d shell).")
    u = v_[:, -1]
    e = unit_vector(direction)
    _, spinors = np.linalg.eigh(-np.einsum("a,aij->ij", e, PAULI))  # first column: majority (e·σ = +1)
    B = np.kron(spinors, u[:, None])  # (nb, 2): host orbital |u> ⊗ (majority, minority spinor)
    g_u = np.einsum("ia,zij,jb->zab", B.conj(), g, B)  # (nz, 2, 2)
    levels = (params.level_up, params.level_down)
    # bare Lorentzian d propagators G_L,σ = V_σ / W (the same function that enters the potential)
    GL = np.stack([level_potential(contour.z, lv, e_fermi, 1.0, params.gamma) for lv in levels], axis=-1)  # (nz, 2)
    A = np.eye(2) - params.weight * GL[:, :, None] * g_u
    Gb = np.linalg.solve(A, GL[:, :, None] * np.eye(2))  # [1 − W G_L g]^{-1} G_L
    e_bottom = contour.params.get("e_bottom")
    out = []
    for s, lv in enumerate(levels):
        if not np.isfinite(lv):  # level at ±∞: the channel is empty or full
            out.append(0.0 if lv > 0 else float(N_ORBITALS_D))
            continue
        n = contour.integrate(Gb[:, s, s] + 4 * GL[:, s])
        if e_bottom is not None:
            n += N_ORBITALS_D * (0.5 - np.arctan((e_fermi + lv - e_bottom) / params.gamma) / np.pi)
        out.append(float(n))
    return np.array(out)
