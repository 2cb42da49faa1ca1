"""Curie temperatures from Binder-cumulant crossings, averaged over disorder, with bootstrap error bars.

For each size L the disorder average of the thermal moments gives
U_L(T) = 1 − [⟨m⁴⟩] / (3 [⟨m²⟩]²) ([·] the average over realisations). U_L tends to 2/3 in the
ordered phase and to 4/9 in the paramagnet, and curves of different L cross at T_C, up to small
finite-size corrections (Binder 1981). A larger system is more ordered below T_C and less above,
so U_large − U_small changes sign from + to − at the crossing.

:func:`curie_from_binder` takes the crossings of every pair of sizes; T_C is their mean. Its error
bar combines, in quadrature, the bootstrap spread (realisations resampled with replacement, per
size) and half the spread of the pairwise crossings (the finite-size drift). Without a crossing
the result says why: no order down to the lowest temperature ('none'; T_C is then reported as 0
with an upper bound), or still ordered at the highest ('above').
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import combinations

import numpy as np
import pandas as pd

#: Thermal moments every row of a moments frame must have.
MOMENT_COLUMNS = ("size", "n_sites", "realisation", "T", "m2", "m4")


def binder(m2, m4):
    """U = 1 − m4 / (3 m2²), elementwise."""
    return 1.0 - np.asarray(m4) / (3.0 * np.asarray(m2) ** 2)


def crossing(temperatures, u_small, u_large, sigma=None) -> tuple[float, str]:
    """Temperature where U_large − U_small = ΔU changes sign from + to −.

    ΔU is interpolated with a monotone cubic (PCHIP) in log T through all temperatures (K, > 0,
    increasing); the crossing is its root between the two grid points that bracket the sign change.

    ``sigma`` (same shape, optional) is the standard error of ΔU; a point counts as ordered-like
    (ΔU > 0) or paramagnet-like (ΔU < 0) only where |ΔU| > 2 sigma. The crossing is the downward
    sign change between the first significantly positive point and the next significantly
    negative one (the steepest, if noise makes several).

    Returns (T, status): 'crossing'; 'none' if ΔU is nowhere significantly positive, or is
    significantly negative first (the larger system is the less ordered from the lowest
    temperature on: no order in the range); 'above' if ΔU stays positive up to the highest
    temperature.
    """
    t = np.asarray(temperatures, dtype=float)
    d = np.asarray(u_large, dtype=float) - np.asarray(u_small, dtype=float)
    s = np.zeros_like(d) if sigma is None else np.asarray(sigma, dtype=float)
    plus = np.flatnonzero((d > 2 * s) & (d > 0))
    first_minus = np.flatnonzero((d < -2 * s) & (d < 0))
    if len(plus) == 0 or (len(first_minus) and first_minus[0] < plus[0]):
        return float("nan"), "none"
    k1 = plus[0]
    minus = np.flatnonzero((d < -2 * s) & (d < 0) & (np.arange(len(d)) > k1))
    if len(minus):
        k2 = minus[0]
        kp = plus[plus < k2].max()
    else:
        if d[-1] > 0:
            return float("nan"), "above"
        kp, k2 = k1, len(d) - 1
    k = np.arange(kp, k2)
    k = k[(d[k] > 0) & (d[k + 1] <= 0)]
    if len(k) == 0:
        return float("nan"), "above"
    best = k[np.argmax(d[k] - d[k + 1])]
    if d[best + 1] == 0.0:
        return float(t[best + 1]), "crossing"
    # ΔU is smooth in log T: a monotone cubic (PCHIP) through all points, root inside the bracket
    from scipy.interpolate import PchipInterpolator
    from scipy.optimize import brentq

    f = PchipInterpolator(np.log(t), d)
    return float(np.exp(brentq(f, np.log(t[best]), np.log(t[best + 1]), xtol=1e-12))), "crossing"


@dataclass(frozen=True)
class CurieEstimate:
    """T_C (K) from Binder crossings; see the module docstring for the definitions.

    Attributes
    ----------
    tc : T_C (K); 0 if no order was found down to the lowest temperature ('none'), NaN if 'above'.
    error : one-standard-deviation error bar (K): bootstrap and finite-size drift in quadrature; NaN
        with a single realisation per size (the bootstrap over disorder then has nothing to resample).
    status : 'ordered', 'none' (no crossing, the largest system is the least ordered) or 'above'.
    upper_bound : for 'none', the lowest temperature simulated (T_C is below it), K.
    crossings : one row per size pair: sizes, T_cross (K), bootstrap std (K), status.
    binder : one row per size and temperature: U and its bootstrap std.
    n_realisations : realisations per size.
    bootstrap_failures : fraction of bootstrap samples without a crossing for some size pair.
    """

    tc: float
    error: float
    status: str
    upper_bound: float
    crossings: pd.DataFrame
    binder: pd.DataFrame
    n_realisations: dict
    bootstrap_failures: float
    info: dict = field(default_factory=dict)

    def __str__(self) -> str:
        if self.status == "ordered":
            if not np.isfinite(self.error):
                return f"T_C = {self.tc:.2f} K (no error bar: one disorder realisation per size)"
            return f"T_C = {self.tc:.2f} ± {self.error:.2f} K"
        if self.status == "none":
            return f"no ferromagnetic order down to {self.upper_bound:.2f} K"
        return "T_C above the highest temperature simulated"


def _check_moments(moments: pd.DataFrame) -> pd.DataFrame:
    if not isinstance(moments, pd.DataFrame):
        raise TypeError(f"moments must be a DataFrame with columns {MOMENT_COLUMNS}.")
    missing = [c for c in MOMENT_COLUMNS if c not in moments.columns]
    if missing:
        raise ValueError(f"moments: column(s) {missing} missing; need {list(MOMENT_COLUMNS)}.")
    sizes = moments.groupby("size")["n_sites"].first().sort_values()
    if len(sizes) < 2:
        raise ValueError(f"moments: Binder crossings need at least two sizes, got {list(sizes.index)}.")
    temps = moments.groupby("size")["T"].apply(lambda t: tuple(np.round(np.unique(t), 9)))
    if temps.nunique() != 1:
        raise ValueError("moments: every size must be simulated at the same temperatures.")
    return moments


def _disorder_binder(m2: np.ndarray, m4: np.ndarray, pick=None) -> np.ndarray:
    """U(T) from (n_realisations, n_T) thermal moments, realisations optionally resampled by ``pick``."""
    if pick is not None:
        m2, m4 = m2[pick], m4[pick]
    return binder(m2.mean(axis=0), m4.mean(axis=0))


def curie_from_binder(moments: pd.DataFrame, *, n_bootstrap: int = 200, seed=0) -> CurieEstimate:
    """T_C from the Binder crossings of all pairs of sizes.

    Parameters
    ----------
    moments : one row per (size, realisation, temperature) with the thermal averages ``m2`` and
        ``m4`` (of m = |Σ S|/N); ``size`` is a label, ``n_sites`` orders the sizes; ``T`` in K.
    n_bootstrap : bootstrap samples (realisations resampled with replacement, per size).
    seed : seed of the bootstrap.
    """
    moments = _check_moments(moments)
    order = moments.groupby("size")["n_sites"].first().sort_values().index.tolist()
    temps = np.unique(moments["T"].to_numpy(float))
    data = {}
    for s in order:
        g = moments[moments["size"] == s].pivot_table(index="realisation", columns="T", values=["m2", "m4"])
        data[s] = (g["m2"].reindex(columns=temps).to_numpy(float), g["m4"].reindex(columns=temps).to_numpy(float))
    rng = np.random.default_rng(seed)
    u = {s: _disorder_binder(*data[s]) for s in order}
    boot = {s: np.array([_disorder_binder(*data[s], rng.integers(0, len(data[s][0]), len(data[s][0])))
                         for _ in range(n_bootstrap)]) for s in order}
    pairs = list(combinations(order, 2))
    rows, main = [], []
    boot_tc = np.full((n_bootstrap, len(pairs)), np.nan)
    for p, (a, b) in enumerate(pairs):
        sigma = np.std(boot[b] - boot[a], axis=0)
        t, status = crossing(temps, u[a], u[b], sigma)
        for k in range(n_bootstrap):
            boot_tc[k, p] = crossing(temps, boot[a][k], boot[b][k], sigma)[0]
        ok = np.isfinite(boot_tc[:, p])
        rows.append({"small": a, "large": b, "T_cross": t,
                     "bootstrap_std": float(np.std(boot_tc[ok, p])) if ok.sum() > 1 else float("nan"), "status": status})
        main.append((t, status))
    crossings = pd.DataFrame(rows)
    binder_rows = [{"size": s, "n_sites": int(moments.loc[moments["size"] == s, "n_sites"].iloc[0]), "T": T,
                    "U": u[s][k], "U_std": float(np.std(boot[s][:, k]))} for s in order for k, T in enumerate(temps)]
    found = [t for t, st in main if st == "crossing"]
    statuses = [st for _, st in main]
    n_real = {s: len(data[s][0]) for s in order}
    failures = float(np.mean(np.any(np.isnan(boot_tc), axis=1)))
    if found and len(found) * 2 >= len(main):
        tc = float(np.mean(found))
        cols = [st == "crossing" for st in statuses]
        ok = np.isfinite(boot_tc[:, cols]).all(axis=1)
        # one realisation per size: every bootstrap sample is the same, a spread of 0 would be no error bar at all
        single = min(n_real.values()) < 2
        stat = float(np.std(boot_tc[ok][:, cols].mean(axis=1))) if ok.sum() > 1 and not single else float("nan")
        drift = 0.5 * (max(found) - min(found))
        err = float(np.hypot(stat, drift)) if np.isfinite(stat) else float("nan")
        return CurieEstimate(tc, err, "ordered", np.nan, crossings, pd.DataFrame(binder_rows), n_real, failures)
    status = "above" if statuses.count("above") > statuses.count("none") else "none"
    tc = float("nan") if status == "above" else 0.0
    return CurieEstimate(tc, float("nan"), status, float(temps.min()) if status == "none" else np.nan, crossings,
                         pd.DataFrame(binder_rows), n_real, failures)
