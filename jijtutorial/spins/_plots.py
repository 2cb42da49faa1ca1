"""Figures of the spin chapter: Binder cumulants, T_C against concentration, co-doping, spin dynamics.

Every function returns (fig, ax) and draws on an opaque white background with units on the axes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..plotting import figure
from ._binder import CurieEstimate


def plot_binder(estimate: CurieEstimate, ax=None, title: str | None = None):
    """Binder cumulant U(T) per size (bootstrap error bars) with the T_C estimate as a band."""
    if ax is None:
        fig, ax = figure(figsize=(6.4, 4.2))
    else:
        fig = ax.figure
    b = estimate.binder
    for size, g in b.groupby("size", sort=False):
        ax.errorbar(
            g["T"], g["U"], yerr=g["U_std"], marker="o", ms=3.5, capsize=2, lw=1.2, label=f"{size} ({g['n_sites'].iloc[0]} sites)"
        )
    if estimate.status == "ordered":
        ax.axvspan(estimate.tc - estimate.error, estimate.tc + estimate.error, color="0.85", zorder=0)
        ax.axvline(
            estimate.tc, color="k", lw=0.8, ls="--", label=f"$T_\\mathrm{{C}}$ = {estimate.tc:.2f} ± {estimate.error:.2f} K"
        )
    ax.axhline(2 / 3, color="0.5", lw=0.6, ls=":")
    ax.axhline(4 / 9, color="0.5", lw=0.6, ls=":")
    _log_temperature_axis(ax, b["T"])
    ax.set_xlabel("temperature T (K)")
    ax.set_ylabel("Binder cumulant U = 1 − ⟨m⁴⟩/3⟨m²⟩²")
    ax.set_title(title or "Binder cumulants")
    ax.legend(fontsize=8)
    return fig, ax


def _log_temperature_axis(ax, temperatures) -> None:
    """Logarithmic temperature axis with plain-number tick labels."""
    from matplotlib.ticker import (
        FixedLocator,
        NullFormatter,
        NullLocator,
        ScalarFormatter,
    )

    t = np.asarray(temperatures, dtype=float)
    ax.set_xscale("log")
    ticks = [x for x in (0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500) if t.min() / 1.2 <= x <= t.max() * 1.2]
    if len(ticks) >= 2:
        ax.xaxis.set_major_locator(FixedLocator(ticks))
        ax.xaxis.set_minor_locator(NullLocator())
    ax.xaxis.set_major_formatter(ScalarFormatter())
    ax.xaxis.set_minor_formatter(NullFormatter())


def plot_tc_vs_concentration(summary: pd.DataFrame, ax=None, title: str = "Curie temperature of single dopants"):
    """Monte Carlo T_C (filled markers with error bars), mean field (dashed) per dopant; downward triangles at the
    lowest temperature simulated where T_C lies below it ('below'), open circles at 0 where there is no
    ferromagnetic order ('none'), upward triangles at the highest temperature simulated where T_C lies above it.

    ``summary``: rows of :attr:`SweepResult.summary` with one element per composition (``c_<El>``).
    """
    from matplotlib.lines import Line2D

    if ax is None:
        fig, ax = figure(figsize=(6.6, 4.3))
    else:
        fig = ax.figure
    handles = []
    k = 0
    for element in [c[2:] for c in summary.columns if c.startswith("c_")]:
        g = summary[summary[f"c_{element}"].notna() & summary["concentration"].eq(summary[f"c_{element}"])]
        if g.empty:
            continue
        g = g.sort_values("concentration")
        colour = f"C{k}"
        k += 1
        x = 100 * g["concentration"].to_numpy()
        ordered = g["status"].eq("ordered").to_numpy()
        above = g["status"].eq("above").to_numpy()
        below = g["status"].eq("below").to_numpy()
        nothing = ~ordered & ~above & ~below
        if (g["T_MF"] > 0).any():
            ax.plot(x, g["T_MF"], ls="--", color=colour, lw=1.2)
        if ordered.any():
            ax.errorbar(x[ordered], g["T_C"][ordered], yerr=g["error"][ordered], marker="o", color=colour, capsize=3)
        if nothing.any():  # side by side, so that several dopants at 0 stay visible
            ax.plot(x[nothing] + 0.12 * (k - 2.5), np.zeros(nothing.sum()), marker="o", mfc="white", color=colour, ls="none")
        if above.any():
            ax.plot(x[above], g["T_max"][above], marker="^", mfc="white", color=colour, ls="none")
        if below.any():
            ax.plot(x[below], g["upper_bound"][below], marker="v", mfc="white", color=colour, ls="none")
        handles.append(Line2D([], [], color=colour, marker="o", label=element))
    handles += [
        Line2D([], [], color="k", ls="--", label="mean field"),
        Line2D([], [], color="k", marker="o", ls="-", label="Monte Carlo"),
        Line2D([], [], color="k", marker="v", mfc="white", ls="none", label="$T_\\mathrm{C}$ below the range"),
        Line2D([], [], color="k", marker="o", mfc="white", ls="none", label="no ferromagnetic order"),
        Line2D([], [], color="k", marker="^", mfc="white", ls="none", label="$T_\\mathrm{C}$ above the range"),
    ]
    ax.set_xlabel("dopant concentration (% of Bi sites)")
    ax.set_ylabel("$T_\\mathrm{C}$ (K)")
    ax.set_ylim(bottom=-1)
    ax.set_title(title)
    ax.legend(handles=handles, fontsize=8, ncol=2)
    return fig, ax


def plot_codoping(
    mean_field: pd.DataFrame,
    monte_carlo: pd.DataFrame | None = None,
    ax=None,
    title: str = "Co-doping at fixed total concentration",
):
    """Mean-field T_C map (partner × share of the base dopant) with the Monte Carlo T_C of the 50/50 mixes beside it.

    ``mean_field``: columns partner, share (fraction of the total that is the base dopant), T_MF.
    ``monte_carlo``: columns label, T_C, error, status, upper_bound, T_max (optional; a summary of
    :func:`jijtutorial.spins.curie_sweep`).
    """
    import matplotlib.pyplot as plt

    from ..plotting import use_style

    use_style()
    fig, axes = plt.subplots(1, 2, figsize=(10.5, 4.4), gridspec_kw={"width_ratios": [1.35, 1]})
    fig.patch.set_facecolor("white")
    # partners top to bottom in the order given (the chapters give them in periodic-table order)
    grid = mean_field.pivot_table(index="partner", columns="share", values="T_MF", sort=False).sort_index(axis=1)
    im = axes[0].imshow(grid.to_numpy(), aspect="auto", cmap="viridis", origin="upper")
    axes[0].set_yticks(range(len(grid.index)), grid.index)
    shares = grid.columns.to_numpy()
    ticks = np.linspace(0, len(shares) - 1, min(6, len(shares))).round().astype(int)
    axes[0].set_xticks(ticks, [f"{100 * shares[t]:.0f}" for t in ticks])
    axes[0].set_xlabel("share of the base dopant in the total (%)")
    axes[0].set_ylabel("partner")
    axes[0].grid(False)
    fig.colorbar(im, ax=axes[0], label="mean-field $T_\\mathrm{C}$ (K)")
    axes[0].set_title("mean field")
    if monte_carlo is not None and len(monte_carlo):
        mc = monte_carlo.reset_index(drop=True)
        y = np.arange(len(mc))
        ordered = mc["status"].eq("ordered").to_numpy()
        above = mc["status"].eq("above").to_numpy()
        below = mc["status"].eq("below").to_numpy()
        axes[1].barh(
            y[ordered], mc["T_C"][ordered], xerr=mc["error"][ordered], color="C1", capsize=3, label="Monte Carlo $T_\\mathrm{C}$"
        )
        if below.any():
            axes[1].plot(mc["upper_bound"][below], y[below], "<", mfc="white", color="C1", label="$T_\\mathrm{C}$ below this")
        if (~ordered & ~above & ~below).any():
            axes[1].plot(
                np.zeros((~ordered & ~above & ~below).sum()),
                y[~ordered & ~above & ~below],
                "o",
                mfc="white",
                color="C1",
                label="no ferromagnetic order",
            )
        if above.any():
            axes[1].plot(mc["T_max"][above], y[above], ">", mfc="white", color="C1", label="$T_\\mathrm{C}$ above the range")
        if "T_MF" in mc:
            axes[1].plot(mc["T_MF"], y, "k|", ms=14, label="mean field")
        axes[1].set_yticks(y, mc["label"])
        axes[1].set_xlabel("$T_\\mathrm{C}$ (K)")
        axes[1].legend(fontsize=8)
        axes[1].set_title("Monte Carlo, equal shares")
    else:
        axes[1].axis("off")
    fig.suptitle(title)
    fig.tight_layout()
    return fig, axes


def plot_llg(thermal: dict, precession=None, title: str = "Spin dynamics (stochastic LLG)"):
    """Left: the x component of m in a field (precession and damping) of the run ``precession``;
    right: |m|(t) of the thermal runs ``thermal`` (label -> (LLGResult, Monte Carlo ⟨|m|⟩ or None)),
    the Monte Carlo values as dashed lines."""
    import matplotlib.pyplot as plt

    from ..plotting import use_style

    use_style()
    fig, axes = plt.subplots(1, 2, figsize=(10.5, 3.9))
    fig.patch.set_facecolor("white")
    if precession is not None:
        m = precession.magnetisation
        axes[0].plot(precession.times, m[:, 0], lw=1.0, label="$m_x$")
        axes[0].plot(precession.times, m[:, 2], lw=1.0, label="$m_z$")
        axes[0].set_xlabel("time t (ps)")
        axes[0].set_ylabel("magnetisation component")
        axes[0].set_title(f"precession in a field along z, T = 0, α = {precession.alpha:g}")
        axes[0].legend(fontsize=8)
    else:
        axes[0].axis("off")
    ax = axes[1]
    for k, (label, item) in enumerate(thermal.items()):
        res, mc = item if isinstance(item, tuple) else (item, None)
        colour = f"C{k}"
        ax.plot(res.times, np.linalg.norm(res.magnetisation, axis=1), color=colour, lw=0.8, label=f"{label}, LLG")
        if mc is not None:
            ax.axhline(mc, color=colour, ls="--", lw=1.2, label=f"{label}, Monte Carlo")
    ax.set_xlabel("time t (ps)")
    ax.set_ylabel("$|m| = |\\sum_i \\mathbf{S}_i| / N$")
    ax.set_ylim(0, 1.05)
    ax.set_title("thermal relaxation from full polarisation")
    ax.legend(fontsize=7)
    fig.suptitle(title)
    fig.tight_layout()
    return fig, axes


def plot_percolation(curve: pd.DataFrame, ax=None, title: str = "Who is connected to whom"):
    """Fraction of dopants in the largest cluster against concentration, one line per coupling threshold."""
    if ax is None:
        fig, ax = figure(figsize=(6.4, 4.0))
    else:
        fig = ax.figure
    for k, (t, g) in enumerate(curve.groupby("threshold")):
        m = g.groupby("concentration")["fraction"].agg(["mean", "std"]).reset_index()
        label = "any coupling (|J| > 0)" if t == 0 else f"strong bonds, |J| > {t:g} meV"
        ax.errorbar(100 * m["concentration"], m["mean"], yerr=m["std"], marker="o", capsize=3, color=f"C{k}", label=label)
    ax.set_xlabel("dopant concentration (% of Bi sites)")
    ax.set_ylabel("fraction of dopants in the largest cluster")
    ax.set_ylim(0, 1.02)
    ax.set_title(title)
    ax.legend(fontsize=8)
    return fig, ax
