"""Classical Monte Carlo: heat-bath + over-relaxation sweeps with replica exchange (parallel tempering).

One heat-bath sweep draws every spin anew from its Boltzmann distribution in the local field
(rejection-free); each over-relaxation sweep reflects every spin about its local field (energy
unchanged, fast decorrelation); replica exchange swaps neighbouring temperatures so the cold
replicas do not get stuck. The compiled loops are in :mod:`._kernels`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..units import K_B_MEV
from . import _kernels
from ._model import SpinModel

#: Boltzmann constant in meV/K.
K_B = K_B_MEV  # meV/K


def check_temperatures(temperatures, name: str = "temperatures") -> np.ndarray:
    """Temperatures (K) as a sorted float array; raises on values ≤ 0, non-finite, duplicates or none."""
    try:
        t = np.atleast_1d(np.asarray(temperatures, dtype=float))
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be numbers in K, not {temperatures!r}.") from None
    if t.ndim != 1 or len(t) == 0:
        raise ValueError(f"{name} must be a non-empty 1-d list of temperatures in K.")
    if not np.all(np.isfinite(t)) or np.any(t <= 0):
        bad = t[~(np.isfinite(t) & (t > 0))][0]
        raise ValueError(f"{name} must be positive and finite (K); got {bad!r}. Monte Carlo needs T > 0.")
    t = np.sort(t)
    if np.any(np.diff(t) <= 0):
        raise ValueError(f"{name} contains duplicates; give each temperature once.")
    return t


def _check_count(value, name: str, minimum: int) -> int:
    if int(value) != value or value < minimum:
        raise ValueError(f"{name} must be an integer ≥ {minimum}, not {value!r}.")
    return int(value)


@dataclass(frozen=True)
class MonteCarloResult:
    """Thermal averages of one Monte Carlo run, one entry per temperature (sorted, K).

    ``energy`` is E/N (meV), ``m`` = ⟨|M|⟩/N with M = Σ_i S_i, ``m2`` = ⟨(|M|/N)²⟩, ``m4`` its
    square's average, ``mz`` = ⟨M_z⟩/N. ``spins`` (n_T, N, 3) and ``final_energy`` (n_T,) meV
    are the last configuration at each temperature and its tracked energy.
    """

    temperatures: np.ndarray
    n_spins: int
    n_measure: int
    energy: np.ndarray
    energy2: np.ndarray
    m: np.ndarray
    m2: np.ndarray
    m4: np.ndarray
    mz: np.ndarray
    exchange_acceptance: np.ndarray
    spins: np.ndarray
    final_energy: np.ndarray

    @property
    def binder(self) -> np.ndarray:
        """Binder cumulant U = 1 − ⟨m⁴⟩/(3⟨m²⟩²): 2/3 when ordered, 4/9 for a paramagnet of 3-component spins."""
        return 1.0 - self.m4 / (3.0 * self.m2**2)

    @property
    def susceptibility(self) -> np.ndarray:
        """χ = N (⟨m²⟩ − ⟨|m|⟩²)/(k_B T) per spin, 1/meV."""
        return self.n_spins * (self.m2 - self.m**2) / (K_B * self.temperatures)

    @property
    def specific_heat(self) -> np.ndarray:
        """C/(N k_B) = N (⟨e²⟩ − ⟨e⟩²)/(k_B T)², dimensionless."""
        return self.n_spins * (self.energy2 - self.energy**2) / (K_B * self.temperatures) ** 2

    def frame(self) -> pd.DataFrame:
        """One row per temperature: T (K), e (meV), |m|, m², m⁴, Binder U, χ (1/meV), C/k_B."""
        return pd.DataFrame(
            {
                "T": self.temperatures,
                "e": self.energy,
                "e2": self.energy2,
                "m": self.m,
                "m2": self.m2,
                "m4": self.m4,
                "U": self.binder,
                "chi": self.susceptibility,
                "C": self.specific_heat,
            }
        )


def run_monte_carlo(
    model: SpinModel,
    temperatures,
    *,
    n_sweeps: int = 2000,
    n_therm: int | None = None,
    n_overrelax: int = 2,
    seed=0,
    field=None,
    initial=None,
) -> MonteCarloResult:
    """Equilibrium Monte Carlo of ``model`` at each temperature, with replica exchange between them.

    Parameters
    ----------
    model : the spin model (J, D in meV).
    temperatures : K, > 0; one replica per temperature (sorted).
    n_sweeps : measured sweeps (one heat-bath sweep + ``n_overrelax`` over-relaxation sweeps each).
    n_therm : sweeps discarded first (default ``n_sweeps // 2``).
    n_overrelax : over-relaxation sweeps per heat-bath sweep.
    seed : int, sequence or ``numpy.random.SeedSequence``; the same seed gives the same result.
    field : (3,) uniform field B in meV (energy −B·S per spin), default none.
    initial : (N, 3) start configuration for every replica, 'random' (default) or 'ferro' (all +z).

    Returns
    -------
    :class:`MonteCarloResult`.
    """
    if not isinstance(model, SpinModel):
        raise TypeError(f"model must be a SpinModel, not {type(model).__name__}.")
    temps = check_temperatures(temperatures)
    n_sweeps = _check_count(n_sweeps, "n_sweeps", 1)
    n_therm = n_sweeps // 2 if n_therm is None else _check_count(n_therm, "n_therm", 0)
    n_overrelax = _check_count(n_overrelax, "n_overrelax", 0)
    b = np.zeros(3) if field is None else np.asarray(field, dtype=float).reshape(3)
    ss = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    init_ss, run_ss = ss.spawn(2)
    st = _kernels.rng_state(init_ss)
    n, nt = model.n_spins, len(temps)
    if initial is None or (isinstance(initial, str) and initial == "random"):
        spins = np.stack([_kernels.random_spins(n, st) for _ in range(nt)])
    elif isinstance(initial, str) and initial == "ferro":
        spins = np.zeros((nt, n, 3))
        spins[:, :, 2] = 1.0
    else:
        s0 = np.asarray(initial, dtype=float)
        if s0.shape != (n, 3):
            raise ValueError(f"initial must be 'random', 'ferro' or an array of shape ({n}, 3), not {s0.shape}.")
        spins = np.repeat((s0 / np.linalg.norm(s0, axis=1, keepdims=True))[None], nt, axis=0)
    spins = np.ascontiguousarray(spins)
    betas = 1.0 / (K_B * temps)
    sums, acc, att, energies, replica = _kernels.parallel_tempering(
        spins,
        betas,
        model.indptr,
        model.indices,
        model.csr_J,
        model.csr_D,
        model.has_dmi,
        b,
        n_therm,
        n_sweeps,
        n_overrelax,
        _kernels.rng_state(run_ss),
    )
    avg = sums / n_sweeps
    return MonteCarloResult(
        temperatures=temps,
        n_spins=n,
        n_measure=n_sweeps,
        energy=avg[:, 0],
        energy2=avg[:, 1],
        m=avg[:, 2],
        m2=avg[:, 3],
        m4=avg[:, 4],
        mz=avg[:, 5],
        exchange_acceptance=np.where(att > 0, acc / np.maximum(att, 1), np.nan),
        spins=spins[replica],
        final_energy=energies,
    )


def energy(model: SpinModel, spins, field=None) -> float:
    """Energy (meV) of ``spins`` (N, 3) computed by the compiled local-field loop (the one Monte Carlo uses)."""
    s = np.ascontiguousarray(np.asarray(spins, dtype=float))
    if s.shape != (model.n_spins, 3):
        raise ValueError(f"spins must have shape ({model.n_spins}, 3), not {s.shape}.")
    b = np.zeros(3) if field is None else np.asarray(field, dtype=float).reshape(3)
    return float(_kernels.total_energy(s, model.indptr, model.indices, model.csr_J, model.csr_D, model.has_dmi, b))


def local_fields(model: SpinModel, spins, field=None) -> np.ndarray:
    """Local fields h_i = −∂H/∂S_i (meV), shape (N, 3)."""
    s = np.ascontiguousarray(np.asarray(spins, dtype=float))
    b = np.zeros(3) if field is None else np.asarray(field, dtype=float).reshape(3)
    return _kernels.local_fields(s, model.indptr, model.indices, model.csr_J, model.csr_D, model.has_dmi, b)
