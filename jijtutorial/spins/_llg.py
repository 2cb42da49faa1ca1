"""Spin dynamics: the stochastic Landau–Lifshitz–Gilbert equation with a Heun integrator.

    dS_i/dt = −γ_i/(1 + α²) [S_i × H_i + α S_i × (S_i × H_i)],   H_i = h_i + ξ_i,

with h_i = −∂H/∂S_i the local field (meV), γ_i = g/(ħ μ_i) the precession rate per meV of field
for a moment μ_i (μB) — a spin of 1 μB in a field of 1 meV precesses at g/ħ = 3.04 rad/ps — and α
the Gilbert damping. The thermal field ξ_i is white noise with ⟨ξ_ia(t) ξ_jb(t')⟩ =
2 α k_B T/γ_i δ_ij δ_ab δ(t − t') (fluctuation–dissipation), so the dynamics samples the
Boltzmann distribution at T; it is integrated in the Stratonovich sense (Heun), each stage an exact
rotation of every spin, so |S_i| = 1 holds to rounding. Time in ps.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import _kernels
from ._model import SpinModel
from ._montecarlo import K_B

#: ħ in meV ps.
HBAR = 0.6582119569
#: Electron g factor used for the precession rate.
G_FACTOR = 2.0


@dataclass(frozen=True)
class LLGResult:
    """Trajectory of a spin-dynamics run: ``times`` (ps), ``energy`` (meV, total), ``magnetisation``
    (n_rec, 3) = Σ S / N, and the final ``spins`` (N, 3)."""

    times: np.ndarray
    energy: np.ndarray
    magnetisation: np.ndarray
    spins: np.ndarray
    temperature: float
    alpha: float
    dt: float


def run_llg(
    model: SpinModel,
    *,
    temperature: float = 0.0,
    alpha: float = 0.1,
    dt: float = 1e-3,
    n_steps: int = 10000,
    record_every: int = 10,
    spins=None,
    field=None,
    seed=0,
) -> LLGResult:
    """Integrate the stochastic LLG equation of ``model``.

    Parameters
    ----------
    model : spin model; ``model.moments`` (μB) set the precession rates.
    temperature : K, ≥ 0 (0: no thermal field).
    alpha : Gilbert damping, ≥ 0 (0 and T = 0: energy-conserving precession).
    dt : time step, ps; keep max |h| γ dt well below 1.
    n_steps, record_every : steps, and how often energy and magnetisation are recorded.
    spins : (N, 3) start configuration (normalised); default all along +z.
    field : (3,) uniform field B in meV (energy −B·S per spin).
    seed : seed of the thermal noise.
    """
    if not isinstance(model, SpinModel):
        raise TypeError(f"model must be a SpinModel, not {type(model).__name__}.")
    for name, value in (("temperature", temperature), ("alpha", alpha)):
        if not (np.isfinite(value) and value >= 0):
            raise ValueError(f"{name} must be ≥ 0 and finite, not {value!r}.")
    if not (np.isfinite(dt) and dt > 0):
        raise ValueError(f"dt must be a positive time step in ps, not {dt!r}.")
    if int(n_steps) != n_steps or n_steps < 1 or int(record_every) != record_every or record_every < 1:
        raise ValueError("n_steps and record_every must be positive integers.")
    if temperature > 0 and alpha == 0:
        raise ValueError("temperature > 0 needs alpha > 0: the thermal field's strength is set by the damping.")
    n = model.n_spins
    if spins is None:
        s = np.zeros((n, 3))
        s[:, 2] = 1.0
    else:
        s = np.array(spins, dtype=float)
        if s.shape != (n, 3):
            raise ValueError(f"spins must have shape ({n}, 3), not {s.shape}.")
        s /= np.linalg.norm(s, axis=1, keepdims=True)
    s = np.ascontiguousarray(s)
    gamma = G_FACTOR / (HBAR * model.moments)  # rad / (ps meV)
    rate = gamma / (1.0 + alpha**2)
    noise = np.sqrt(2.0 * alpha * K_B * temperature / (gamma * dt))
    b = np.zeros(3) if field is None else np.asarray(field, dtype=float).reshape(3)
    st = _kernels.rng_state(seed)
    energies, mag = _kernels.llg_heun(
        s,
        rate,
        noise,
        float(alpha),
        float(dt),
        int(n_steps),
        int(record_every),
        model.indptr,
        model.indices,
        model.csr_J,
        model.csr_D,
        model.has_dmi,
        b,
        st,
    )
    times = np.arange(len(energies)) * record_every * dt
    return LLGResult(times, energies, mag, s, float(temperature), float(alpha), float(dt))
