"""Are the error bars honest? Coverage of ±kσ intervals, reliability curves and the reliability plot.

A Gaussian predictive distribution N(μ, σ²) is *calibrated* if, over many test pairs, the central
interval of nominal probability p, ``μ ± z_p σ`` with ``z_p = Φ⁻¹((1 + p)/2)``, holds the true J in a
fraction p of them: 68.3 % within ±1σ, 95.4 % within ±2σ. A reliability plot draws the observed
fraction against p for p = 0.05 ... 0.95; a calibrated model lies on the diagonal, an over-confident
one below it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: Nominal coverages of the reliability curve.
NOMINAL = np.round(np.arange(0.05, 1.0, 0.05), 2)


def _check(y, mu, sd):
    y, mu, sd = (np.asarray(x, float).reshape(-1) for x in (y, mu, sd))
    if not (len(y) == len(mu) == len(sd)):
        raise ValueError(f"y, mu and sd must have one value per test pair; got lengths {len(y)}, {len(mu)}, {len(sd)}.")
    if np.any(~np.isfinite(sd)) or np.any(sd < 0):
        raise ValueError(
            "sd must be finite and non-negative for every pair (a model without error bars has NaN σ: leave it out)."
        )
    return y, mu, sd


def coverage(y, mu, sd, k=(1.0, 2.0)) -> dict:
    """Fraction of pairs with ``|y - mu| <= k sd``, for each ``k``.

    Parameters
    ----------
    y, mu, sd : array-like (n,)
        True J, predicted J and predicted σ (meV).
    k : sequence of float
        Interval half-widths in units of σ.

    Returns
    -------
    dict
        ``k`` -> fraction (ties count as inside).
    """
    y, mu, sd = _check(y, mu, sd)
    z = np.abs(y - mu)
    return {float(kk): float(np.mean(z <= kk * sd)) if len(z) else float("nan") for kk in np.atleast_1d(k)}


def reliability_curve(y, mu, sd, nominal=NOMINAL) -> pd.DataFrame:
    """Observed against nominal coverage of central Gaussian intervals.

    Parameters
    ----------
    y, mu, sd : array-like (n,)
        True J, predicted J and σ (meV).
    nominal : array-like
        Nominal coverages p in (0, 1).

    Returns
    -------
    pandas.DataFrame
        Columns ``nominal``, ``observed`` (fraction of pairs with ``|y - mu| <= z_p sd``) and ``z``.
    """
    from scipy.stats import norm

    y, mu, sd = _check(y, mu, sd)
    nominal = np.asarray(nominal, float)
    if np.any((nominal <= 0) | (nominal >= 1)):
        raise ValueError(f"nominal coverages must lie in (0, 1), not {nominal!r}.")
    zq = norm.ppf(0.5 + nominal / 2)
    r = np.abs(y - mu)
    return pd.DataFrame({"nominal": nominal, "observed": [float(np.mean(r <= z * sd)) for z in zq], "z": zq})


def calibration_table(predictions: pd.DataFrame, by=("model", "protocol")) -> pd.DataFrame:
    """±1σ, ±2σ and ±J_95 coverage, mean σ and MAE per group of out-of-fold predictions.

    Parameters
    ----------
    predictions : pandas.DataFrame
        Columns J, J_pred, J_std (meV), J_95 if present, and the columns of ``by``; rows without σ
        (models without error bars) are skipped.
    by : sequence of str
        Grouping columns.

    Returns
    -------
    pandas.DataFrame
        One row per group: ``within_1sigma``, ``within_2sigma``, ``within_J95``, ``mean_sigma`` (meV),
        ``MAE`` (meV), ``n``.
    """
    p = predictions[np.isfinite(predictions["J_std"])]
    rows = []
    for key, g in p.groupby(list(by), sort=False):
        c = coverage(g["J"], g["J_pred"], g["J_std"])
        err = (g["J"] - g["J_pred"]).abs()
        rows.append(
            {
                **dict(zip(by, key if isinstance(key, tuple) else (key,))),
                "within_1sigma": c[1.0],
                "within_2sigma": c[2.0],
                "within_J95": float(np.mean(err <= g["J_95"])) if "J_95" in g else np.nan,
                "mean_sigma": float(g["J_std"].mean()),
                "MAE": float(err.mean()),
                "n": len(g),
            }
        )
    return pd.DataFrame(rows)


def reliability_plot(curves: dict, ax=None, title: str | None = None):
    """Reliability diagram: observed against nominal coverage, one line per curve.

    Parameters
    ----------
    curves : dict
        Name -> frame of :func:`reliability_curve`.
    ax : matplotlib Axes, optional
        Where to draw (a new figure otherwise).
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure
        Opaque white background; the diagonal is perfect calibration, the vertical lines mark ±1σ
        (68.3 %) and ±2σ (95.4 %).
    """
    from ..plotting import figure

    if ax is None:
        fig, ax = figure(figsize=(4.8, 4.4))
    else:
        fig = ax.figure
    ax.plot([0, 1], [0, 1], color="0.5", lw=1, ls="--", label="calibrated")
    for name, c in curves.items():
        ax.plot(c["nominal"], c["observed"], marker="o", ms=3, label=name)
    for p, lab in ((0.6827, "±1σ"), (0.9545, "±2σ")):
        ax.axvline(p, color="0.8", lw=0.8, zorder=0)
        ax.text(p, 0.02, lab, fontsize=8, ha="right", va="bottom", color="0.4")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("nominal coverage of μ ± z σ (fraction)")
    ax.set_ylabel("observed fraction of test pairs inside")
    ax.set_title(title or "Reliability of the predictive σ of J (meV)", fontsize=10)
    ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    return fig
