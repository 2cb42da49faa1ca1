"""Complex energy contours for ∫ dE f(E) (−1/π) Im F(E + i0) with F analytic in the upper half plane.

A :class:`Contour` is a set of points z_k and weights w_k such that

    ∫ dE f(E) (−1/π) Im F(E + i0)  ≈  −(1/π) Im Σ_k w_k F(z_k),

i.e. Σ_k w_k F(z_k) stands for ∫ dE f(E) F(E + i0) (only its imaginary part is meaningful).

* :func:`semicircle` — T = 0: f is a step at E_F; the real-axis integral from below the bands to
  E_F is deformed onto a semicircle in the upper half plane, Gauss–Legendre in θ^(1/3) (points crowded towards E_F). Suited to
  a Fermi level in a gap (the ends of the arc touch the real axis).
* :func:`ozaki` — finite T: f(E) = 1/2 − Σ_p R_p [1/(x − iζ_p) + 1/(x + iζ_p)], x = (E − μ)/k_BT,
  the continued-fraction pole expansion of Ozaki, PRB 75, 035123 (2007). Closing the contour in the
  upper half plane leaves the residues at z_p = μ + i ζ_p k_BT, w_p = −2πi R_p k_BT. Valid when F
  decays faster than 1/|z| (true for the exchange integrand and for differences of Lloyd's formula
  between two rotated moments), so it works for metals with no knowledge of the band bottom.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..units import K_B_EV as KB_EV


@dataclass(frozen=True)
class Contour:
    """Energy points z (complex eV, shape (n,)) and weights w (complex eV, shape (n,)); see module docstring."""

    z: np.ndarray
    w: np.ndarray
    kind: str
    params: dict

    def __len__(self) -> int:
        return len(self.z)

    def integrate(self, values) -> np.ndarray:
        """∫ dE f(E) (−1/π) Im F(E+i0) from F(z_k) given as ``values`` with the energy on axis 0."""
        values = np.asarray(values)
        return -np.imag(np.tensordot(self.w, values, axes=(0, 0))) / np.pi

    def describe(self) -> dict:
        """JSON-friendly description for provenance files."""
        return {"kind": self.kind, "n_points": len(self), **self.params}


def semicircle(e_bottom: float, e_fermi: float, n_points: int = 48, power: float = 3.0) -> Contour:
    """T = 0 contour: semicircle from ``e_bottom`` (below every band, eV) to ``e_fermi`` (eV).

    z = c + r e^{iθ} with θ = π s^power, Gauss–Legendre with ``n_points`` nodes in s ∈ (0, 1).
    power > 1 crowds the points towards E_F, where the arc meets the real axis and poles in the
    gap next to E_F limit the accuracy (power = 1 is Gauss–Legendre in θ). Points are returned
    from E_F (s → 0) to the band bottom.
    """
    if not (np.isfinite(e_bottom) and np.isfinite(e_fermi) and e_bottom < e_fermi):
        raise ValueError(f"e_bottom ({e_bottom!r} eV) must lie below e_fermi ({e_fermi!r} eV): put it below the lowest band.")
    if int(n_points) < 2:
        raise ValueError(f"n_points must be at least 2, not {n_points!r}.")
    if not (np.isfinite(power) and power >= 1):
        raise ValueError(f"power must be ≥ 1, not {power!r}.")
    x, wx = np.polynomial.legendre.leggauss(int(n_points))
    s, ws = 0.5 * (x + 1), 0.5 * wx
    theta = np.pi * s**power
    dtheta = np.pi * power * s ** (power - 1) * ws
    c, r = 0.5 * (e_bottom + e_fermi), 0.5 * (e_fermi - e_bottom)
    z = c + r * np.exp(1j * theta)
    # the path runs from θ = π (e_bottom) to θ = 0 (e_fermi): dz = −i r e^{iθ} |dθ|
    w = -1j * r * np.exp(1j * theta) * dtheta
    return Contour(
        z=z,
        w=w,
        kind="semicircle",
        params={"e_bottom": float(e_bottom), "e_fermi": float(e_fermi), "temperature": 0.0, "power": float(power)},
    )


def ozaki_poles(n_poles: int) -> tuple[np.ndarray, np.ndarray]:
    """Poles ζ_p > 0 and residues R_p of Ozaki's continued-fraction Fermi function (ascending ζ).

    1/(1 + e^x) ≈ 1/2 − Σ_p R_p [1/(x − iζ_p) + 1/(x + iζ_p)]; accurate for |x| up to ~ (4 n_poles)².
    """
    n = int(n_poles)
    if n < 1:
        raise ValueError(f"n_poles must be a positive integer, not {n_poles!r}.")
    m = np.arange(1, 2 * n)
    off = 1.0 / (2.0 * np.sqrt((2 * m - 1) * (2 * m + 1)))
    B = np.diag(off, 1) + np.diag(off, -1)
    b, v = np.linalg.eigh(B)
    pos = b > 0
    b, v = b[pos], v[:, pos]
    zeta = 1.0 / b
    R = np.abs(v[0]) ** 2 / (4.0 * b**2)
    order = np.argsort(zeta)
    return zeta[order], R[order]


def fermi_pole_expansion(x, n_poles: int) -> np.ndarray:
    """Ozaki's approximation of the Fermi function 1/(1 + e^x) (for tests and plots)."""
    zeta, R = ozaki_poles(n_poles)
    x = np.asarray(x, dtype=float)[..., None]
    return 0.5 - np.sum(R * (2 * x / (x**2 + zeta**2)), axis=-1)


def ozaki(e_fermi: float, temperature: float, n_poles: int = 60) -> Contour:
    """Finite-temperature contour: the Ozaki poles z_p = μ + iζ_p k_BT (eV), temperature in K."""
    if not (np.isfinite(temperature) and temperature > 0):
        raise ValueError(
            f"temperature must be positive (K) for the Ozaki contour, not {temperature!r}; use semicircle() for T = 0."
        )
    if not np.isfinite(e_fermi):
        raise ValueError(f"e_fermi must be a finite energy in eV, not {e_fermi!r}.")
    kT = KB_EV * float(temperature)
    zeta, R = ozaki_poles(n_poles)
    z = e_fermi + 1j * zeta * kT
    # f ≈ −R_p / (x − iζ_p) near the pole: residue in E is −R_p k_BT; ∫ f F dE = 2πi Σ (−R_p k_BT) F(z_p)
    w = -2j * np.pi * R * kT
    return Contour(
        z=z,
        w=w.astype(complex),
        kind="ozaki",
        params={"e_fermi": float(e_fermi), "temperature": float(temperature), "n_poles": int(n_poles)},
    )


def fermi_function(energy, e_fermi: float, temperature: float) -> np.ndarray:
    """Fermi–Dirac occupation (T in K; T = 0 gives a step, 1/2 at E_F)."""
    e = np.asarray(energy, dtype=float) - e_fermi
    if temperature == 0:
        return np.where(e < 0, 1.0, np.where(e > 0, 0.0, 0.5))
    x = e / (KB_EV * temperature)
    return 0.5 * (1 - np.tanh(0.5 * x))
