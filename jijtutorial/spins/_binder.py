"""Curie temperatures from Binder-cumulant crossings, averaged over disorder, with bootstrap error bars.

For each size L the disorder average of the thermal moments gives
U_L(T) = 1 − [⟨m⁴⟩] / (3 [⟨m²⟩]²) ([·] the average over realisations). U_L tends to 2/3 in the
ordered phase and to 4/9 in the paramagnet, and curves of different L cross at T_C, up to small
finite-size corrections (Binder 1981). A larger system is more ordered below T_C and less above,
so U_large − U_small changes sign from + to − at the crossing.

:func:`curie_from_binder` takes the crossings of every pair of sizes; T_C is their mean. Its error
bar combines, in quadrature,

* the bootstrap spread (realisations resampled with replacement, per size, every crossing redone),
* half the spread of the pairwise crossings (the finite-size drift),
* the grid: a crossing is only known to lie in the grid interval [T_low, T_high] where ΔU changes
  sign, and the interpolation places it somewhere inside. Its uncertainty is the root-mean-square
  distance from the interpolated T to a crossing spread evenly over the interval,
  √(Δ²/12 + (T − T_mid)²), Δ the interval's width and T_mid its middle, averaged over the size
  pairs: Δ/√12 for a crossing placed mid-interval, more where the interpolation pushes it
  towards an end.

The last term is what a coarse grid costs: a 41 % step at 10 K is at least ±1.2 K. A second pass with
temperatures concentrated in the bracketing interval (:func:`refinement_temperatures`, used by
:func:`jijtutorial.spins.curie_sweep` with ``refine``) shrinks it, and the estimate then no longer
depends on where the first grid happened to put its points.

Without a crossing the result says what the simulation shows. 'none': no crossing *and* the
ferromagnetic bonds do not percolate in any realisation of the largest cell (see
:func:`jijtutorial.spins.ferromagnetic_network`): no long-range ferromagnetic order to be found at
any temperature; 'above': still ordered at the highest temperature simulated (most size pairs);
'below': otherwise -- no crossing above the lowest temperature simulated, so T_C is below it (an
upper bound), the answer whenever the ferromagnetic bonds percolate or nothing is known about them.
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
    sign change between the last significantly positive point and the next significantly
    negative one. If noise makes ΔU change sign more than once in between (a fine grid near T_C),
    the crossing is the root of a straight line fitted to ΔU against log T over those points.

    Returns (T, status): 'crossing'; 'none' if ΔU is nowhere significantly positive, or is
    significantly negative first (the larger system is the less ordered from the lowest
    temperature on: no order in the range); 'above' if ΔU stays positive from the last
    significantly positive point up to the highest temperature.
    """
    t, status, _, _ = _crossing(temperatures, u_small, u_large, sigma)
    return t, status


def _crossing(temperatures, u_small, u_large, sigma=None) -> tuple[float, str, float, float]:
    """:func:`crossing` and the grid interval (T_low, T_high) in K that brackets the crossing (NaN without one)."""
    nan = float("nan")
    t = np.asarray(temperatures, dtype=float)
    d = np.asarray(u_large, dtype=float) - np.asarray(u_small, dtype=float)
    s = np.zeros_like(d) if sigma is None else np.asarray(sigma, dtype=float)
    plus = np.flatnonzero((d > 2 * s) & (d > 0))
    first_minus = np.flatnonzero((d < -2 * s) & (d < 0))
    if len(plus) == 0 or (len(first_minus) and first_minus[0] < plus[0]):
        return nan, "none", nan, nan
    k1 = plus[0]
    minus = np.flatnonzero((d < -2 * s) & (d < 0) & (np.arange(len(d)) > k1))
    if len(minus):
        k2 = minus[0]
        kp = plus[plus < k2].max()
    else:  # never significantly negative: a downward sign change after the last significant plus, or 'above'
        kp, k2 = plus.max(), len(d) - 1
    k = np.arange(kp, k2)
    k = k[(d[k] > 0) & (d[k + 1] <= 0)]
    if len(k) == 0:
        return nan, "above", nan, nan
    if len(k) > 1:
        # several sign changes between kp and k2: noise around ΔU = 0; a straight line in log T over the
        # whole stretch is steadier than any one of them
        x = np.log(t[kp : k2 + 1])
        slope, intercept = np.polyfit(x, d[kp : k2 + 1], 1)
        if slope < 0:
            root = -intercept / slope
            if x[0] <= root <= x[-1]:
                j = int(np.clip(np.searchsorted(x, root) - 1, 0, len(x) - 2))
                return float(np.exp(root)), "crossing", float(t[kp + j]), float(t[kp + j + 1])
        best = k[np.argmax(d[k] - d[k + 1])]
    else:
        best = k[0]
    lo, hi = float(t[best]), float(t[best + 1])
    if d[best + 1] == 0.0:
        return hi, "crossing", lo, hi
    # ΔU is smooth in log T: a monotone cubic (PCHIP) through all points, root inside the bracket
    from scipy.interpolate import PchipInterpolator
    from scipy.optimize import brentq

    f = PchipInterpolator(np.log(t), d)
    return float(np.exp(brentq(f, np.log(lo), np.log(hi), xtol=1e-12))), "crossing", lo, hi


@dataclass(frozen=True)
class CurieEstimate:
    """T_C (K) from Binder crossings; see the module docstring for the definitions.

    Attributes
    ----------
    tc : T_C (K) for 'ordered'; 0 for 'none' (no ferromagnetic order); NaN for 'below' and 'above'.
    error : one-standard-deviation error bar (K) of an 'ordered' T_C: the parts of ``error_parts``
        in quadrature; NaN with a single realisation per size (the bootstrap over disorder then has
        nothing to resample).
    status : 'ordered' (a crossing), 'below' (no crossing above the lowest temperature simulated:
        T_C is below ``upper_bound``), 'none' (no crossing and no percolating ferromagnetic network:
        no ferromagnetic order) or 'above' (still ordered at the highest temperature).
    upper_bound : for 'below' and 'none', the lowest temperature simulated (K); NaN otherwise.
    crossings : one row per size pair: sizes, T_cross (K), bootstrap std (K), status, and the grid
        interval T_low, T_high (K) that brackets the crossing.
    binder : one row per size and temperature: U and its bootstrap std.
    n_realisations : realisations per size.
    bootstrap_failures : fraction of bootstrap samples without a crossing for some size pair.
    error_parts : {'statistical', 'finite_size', 'grid'} (K), the parts of ``error``.
    percolating : share of the largest cell's realisations whose ferromagnetic bonds percolate
        (:func:`jijtutorial.spins.ferromagnetic_network`), or None if not known.
    temperatures : the temperatures simulated (K), every size alike.
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
    error_parts: dict = field(default_factory=dict)
    percolating: float | None = None
    temperatures: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def __str__(self) -> str:
        if self.status == "ordered":
            if not np.isfinite(self.error):
                return f"T_C = {self.tc:.2f} K (no error bar: one disorder realisation per size)"
            return f"T_C = {self.tc:.2f} ± {self.error:.2f} K"
        if self.status == "below":
            return (
                f"T_C below {_kelvin(self.upper_bound)} (no Binder crossing above the lowest temperature "
                f"simulated{'; the ferromagnetic bonds percolate' if self.percolating else ''})"
            )
        if self.status == "none":
            return (
                f"no ferromagnetic order: no Binder crossing down to {_kelvin(self.upper_bound)} and the "
                f"ferromagnetic bonds do not percolate"
            )
        return "T_C above the highest temperature simulated"


def _kelvin(t: float) -> str:
    return f"{t:.2g} K" if abs(t) < 1 else f"{t:.1f} K"


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


def curie_from_binder(
    moments: pd.DataFrame, *, n_bootstrap: int = 200, seed=0, percolating: float | None = None
) -> CurieEstimate:
    """T_C from the Binder crossings of all pairs of sizes.

    Parameters
    ----------
    moments : one row per (size, realisation, temperature) with the thermal averages ``m2`` and
        ``m4`` (of m = |Σ S|/N); ``size`` is a label, ``n_sites`` orders the sizes; ``T`` in K.
    n_bootstrap : bootstrap samples (realisations resampled with replacement, per size).
    seed : seed of the bootstrap.
    percolating : share (0 to 1) of the largest cell's realisations whose ferromagnetic bonds
        percolate, or None if not known. Without a crossing, 0 means 'none' (no ferromagnetic order);
        anything else, or None, 'below' (T_C below the lowest temperature simulated).
    """
    moments = _check_moments(moments)
    if percolating is not None and not (0.0 <= float(percolating) <= 1.0):
        raise ValueError(f"percolating must be a share in [0, 1] or None, not {percolating!r}.")
    order = moments.groupby("size")["n_sites"].first().sort_values().index.tolist()
    temps = np.unique(moments["T"].to_numpy(float))
    data = {}
    for s in order:
        g = moments[moments["size"] == s].pivot_table(index="realisation", columns="T", values=["m2", "m4"])
        data[s] = (g["m2"].reindex(columns=temps).to_numpy(float), g["m4"].reindex(columns=temps).to_numpy(float))
    rng = np.random.default_rng(seed)
    u = {s: _disorder_binder(*data[s]) for s in order}
    boot = {
        s: np.array([_disorder_binder(*data[s], rng.integers(0, len(data[s][0]), len(data[s][0]))) for _ in range(n_bootstrap)])
        for s in order
    }
    pairs = list(combinations(order, 2))
    rows, main = [], []
    boot_tc = np.full((n_bootstrap, len(pairs)), np.nan)
    for p, (a, b) in enumerate(pairs):
        sigma = np.std(boot[b] - boot[a], axis=0)
        t, status, lo, hi = _crossing(temps, u[a], u[b], sigma)
        for k in range(n_bootstrap):
            boot_tc[k, p] = crossing(temps, boot[a][k], boot[b][k], sigma)[0]
        ok = np.isfinite(boot_tc[:, p])
        rows.append(
            {
                "small": a,
                "large": b,
                "T_cross": t,
                "bootstrap_std": float(np.std(boot_tc[ok, p])) if ok.sum() > 1 else float("nan"),
                "status": status,
                "T_low": lo,
                "T_high": hi,
            }
        )
        main.append((t, status))
    crossings = pd.DataFrame(rows)
    binder_rows = [
        {
            "size": s,
            "n_sites": int(moments.loc[moments["size"] == s, "n_sites"].iloc[0]),
            "T": T,
            "U": u[s][k],
            "U_std": float(np.std(boot[s][:, k])),
        }
        for s in order
        for k, T in enumerate(temps)
    ]
    found = [t for t, st in main if st == "crossing"]
    statuses = [st for _, st in main]
    n_real = {s: len(data[s][0]) for s in order}
    failures = float(np.mean(np.any(np.isnan(boot_tc), axis=1)))
    common = {
        "crossings": crossings,
        "binder": pd.DataFrame(binder_rows),
        "n_realisations": n_real,
        "bootstrap_failures": failures,
        "percolating": None if percolating is None else float(percolating),
        "temperatures": temps,
    }
    if found and len(found) * 2 >= len(main):
        tc = float(np.mean(found))
        cols = [st == "crossing" for st in statuses]
        ok = np.isfinite(boot_tc[:, cols]).all(axis=1)
        # one realisation per size: every bootstrap sample is the same, a spread of 0 would be no error bar at all
        single = min(n_real.values()) < 2
        stat = float(np.std(boot_tc[ok][:, cols].mean(axis=1))) if ok.sum() > 1 and not single else float("nan")
        drift = 0.5 * (max(found) - min(found))
        bracket = crossings[crossings["status"] == "crossing"]
        width = bracket["T_high"] - bracket["T_low"]
        offset = bracket["T_cross"] - 0.5 * (bracket["T_high"] + bracket["T_low"])
        grid = float(np.mean(np.sqrt(width**2 / 12.0 + offset**2)))
        err = float(np.sqrt(stat**2 + drift**2 + grid**2)) if np.isfinite(stat) else float("nan")
        return CurieEstimate(
            tc, err, "ordered", np.nan, error_parts={"statistical": stat, "finite_size": drift, "grid": grid}, **common
        )
    if percolating is not None and float(percolating) == 0.0:
        # no crossing and no percolating ferromagnetic network: a larger cell more ordered at the highest
        # temperature ('above') is then finite clusters in small cells, not a magnet
        return CurieEstimate(0.0, float("nan"), "none", float(temps.min()), **common)
    if statuses.count("above") > statuses.count("none"):
        return CurieEstimate(float("nan"), float("nan"), "above", np.nan, **common)
    return CurieEstimate(float("nan"), float("nan"), "below", float(temps.min()), **common)


def refinement_temperatures(estimate: CurieEstimate, n: int) -> np.ndarray:
    """``n`` temperatures (K) for a second pass where the Binder curves cross.

    They are spread evenly in log T over the grid intervals that bracket the crossings of the size
    pairs (from the lowest T_low to the highest T_high), endpoints excluded; a point within 2 % of a
    temperature already simulated is dropped. Empty unless ``estimate`` is 'ordered': without a
    crossing there is nothing to refine (an upper bound stays the lowest temperature simulated).
    """
    if int(n) != n or n < 0:
        raise ValueError(f"n must be a number of temperatures ≥ 0, not {n!r}.")
    if estimate.status != "ordered" or n == 0:
        return np.zeros(0)
    bracket = estimate.crossings[estimate.crossings["status"] == "crossing"]
    lo, hi = float(bracket["T_low"].min()), float(bracket["T_high"].max())
    new = np.geomspace(lo, hi, int(n) + 2)[1:-1]
    have = np.asarray(estimate.temperatures, dtype=float)
    if len(have):
        near = np.min(np.abs(np.log(new[:, None] / have[None, :])), axis=1) < np.log(1.02)
        new = new[~near]
    return new
