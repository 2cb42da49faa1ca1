"""Figures of the kernel ridge benchmark: parity plots, errors per element pair and shell, learning curves.

All figures are made with :func:`jijtutorial.plotting.figure` (the project style: opaque white
background) and carry axis labels with units and a title.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..plotting import figure, log_ticks


def parity_grid(result, models=None, repeat: int = 0, ncols: int = 4, panel: float = 2.6):
    """Out-of-fold predicted against computed J (meV), one panel per model, for one CV repeat.

    The horizontal axis is the data set's J: "DFT J" for the JuKKR table, "model J" for the package's
    own data set (computed with the tight-binding engine, not DFT).

    Panels are ``panel`` inches square (``ncols`` per row) with titles and labels in 10–11 pt, so
    that a grid of four panels scaled to the width of a page stays readable.
    """
    pred = result.predictions
    models = list(models or pred["model"].unique())
    ncols = min(ncols, len(models))
    nrows = int(np.ceil(len(models) / ncols))
    fig, axes = figure(nrows, ncols, figsize=(panel * ncols, panel * nrows + 0.5), squeeze=False, sharex=True, sharey=True)
    lo, hi = float(pred["J"].min()), float(pred["J"].max())
    pad = 0.05 * (hi - lo)
    reference = {"jukkr": "DFT", "model": "model"}.get(result.dataset, "reference")
    for ax, name in zip(axes.flat, models):
        p = pred[(pred["model"] == name) & (pred["repeat"] == repeat)]
        ax.plot([lo - pad, hi + pad], [lo - pad, hi + pad], color="0.5", lw=0.8, zorder=0)
        ax.scatter(p["J"], p["J_pred"], s=6, alpha=0.6, color="C0", edgecolor="none")
        mae = np.mean(np.abs(p["J_pred"] - p["J"]))
        ax.set_title(name, fontsize=11)
        ax.text(0.04, 0.96, f"MAE {mae:.2g} meV", transform=ax.transAxes, va="top", fontsize=10)
        ax.set_xlim(lo - pad, hi + pad)
        ax.set_ylim(lo - pad, hi + pad)
        ax.tick_params(labelsize=9)
    for ax in axes[-1]:
        ax.set_xlabel(f"{reference} J (meV)", fontsize=11)
    for ax in axes[:, 0]:
        ax.set_ylabel("predicted J (meV)", fontsize=11)
    for ax in list(axes.flat)[len(models) :]:
        ax.set_visible(False)
    fig.suptitle(f"Parity: {result.dataset} data, {result.protocol} protocol (out-of-fold, repeat {repeat})", fontsize=12)
    fig.tight_layout()
    return fig


def learning_curve_plot(curve: pd.DataFrame, ax=None, baseline: float | None = None):
    """MAE (meV) against training-set size (mean over folds of each fraction), ± std, per model (log-log)."""
    if ax is None:
        fig, ax = figure(figsize=(5.5, 4))
    else:
        fig = ax.figure
    colours = {m: f"C{k}" for k, m in enumerate(dict.fromkeys(curve["model"]))}
    for (model, protocol), d in curve.groupby(["model", "protocol"], sort=False):
        g = d.groupby("fraction").agg(n=("n_train", "mean"), mean=("MAE", "mean"), std=("MAE", "std")).reset_index()
        grouped = protocol != "study"
        ax.errorbar(
            g["n"],
            g["mean"],
            yerr=g["std"],
            marker="o" if grouped else "s",
            capsize=2,
            color=colours[model],
            ls="-" if grouped else "--",
            label=f"{model} ({protocol})",
        )
    if baseline is not None:
        ax.axhline(baseline, color="0.4", ls="--", lw=1, label="predict the mean")
    ax.set_xscale("log")
    ax.set_yscale("log")
    log_ticks(ax, "x")
    log_ticks(ax, "y")  # an MAE that falls by less than a decade would otherwise have no labelled tick
    ax.set_xlabel("training pairs")
    ax.set_ylabel("test MAE (meV)")
    # The title says what the line styles mean for the protocols drawn (the mean's line is in the legend).
    protocols = {"study" if p == "study" else "grouped" for p in curve["protocol"]}
    ax.set_title(
        "Learning curves: element pairs kept together"
        if protocols == {"grouped"}
        else "Learning curves: random splits"
        if protocols == {"study"}
        else "Learning curves (dashed: random splits, solid: element pairs kept together)",
        fontsize=10,
    )
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def study_comparison_plot(table: pd.DataFrame, ax=None, metric: str = "MAE"):
    """Our cross-validation ``metric`` (both protocols) beside the study's, per model.

    Parameters
    ----------
    table : pandas.DataFrame
        :func:`compare_protocols` of the runs (one row per model and protocol).
    ax : matplotlib Axes, optional
        Where to draw; a new figure otherwise.
    metric : {"MAE", "R2"}
        MAE (meV) compares errors on the JuKKR table, which the study used; R² (dimensionless) also
        compares runs on data with another scale of J, such as the package's model data.
    """
    if metric not in ("MAE", "R2"):
        raise ValueError(f"metric must be 'MAE' or 'R2', not {metric!r}.")
    if ax is None:
        fig, ax = figure(figsize=(8, 3.8))
    else:
        fig = ax.figure
    models = list(dict.fromkeys(table["model"]))
    protocols = list(dict.fromkeys(table["protocol"]))
    bars = [("study (2023)", None)] + [(f"ours, {p} protocol", p) for p in protocols]
    w = 0.8 / len(bars)
    for k, (label, prot) in enumerate(bars):
        vals = []
        for m in models:
            t = table[table["model"] == m]
            if prot is None:
                vals.append(t[f"study_{metric}"].iloc[0] if f"study_{metric}" in t and len(t) else np.nan)
            else:
                t = t[t["protocol"] == prot]
                vals.append(t[metric].iloc[0] if len(t) else np.nan)
        ax.bar(np.arange(len(models)) + (k - (len(bars) - 1) / 2) * w, vals, w, label=label)
    ax.set_xticks(range(len(models)), [m.replace("-rcut", "\nrcut") for m in models], fontsize=8)
    if metric == "MAE":
        ax.set_ylabel("CV MAE (meV)")
        ax.set_title("Cross-validation MAE: the study and this benchmark")
    else:
        ax.axhline(0, color="k", lw=0.8)
        ax.set_ylim(max(-0.5, ax.get_ylim()[0]), 1.05)
        ax.set_ylabel("CV R² (dimensionless)")
        ax.set_title("Cross-validation R²: the study and this benchmark (negative values cut at −0.5)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def ladder_plot(ladder, metric: str = "R2", ax=None):
    """Every model's cross-validation ``metric`` on every rung of the ladder, one line per model.

    Parameters
    ----------
    ladder : LadderResult or sequence of BenchmarkResult
    metric : {"R2", "MAE"}
        R² (dimensionless; below −0.5 drawn at −0.5) or MAE (meV, log scale).
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.figure.Figure
        The rungs from left to right (study, pairs, element, distance); the mean predictor dashed grey.
    """
    from ._report import ladder_table

    if metric not in ("MAE", "R2"):
        raise ValueError(f"metric must be 'MAE' or 'R2', not {metric!r}.")
    wide = ladder_table(ladder)[metric]
    if ax is None:
        fig, ax = figure(figsize=(7.5, 4.2))
    else:
        fig = ax.figure
    x = np.arange(wide.shape[1])
    markers = "osD^v<>ph*"
    for k, (model, row) in enumerate(wide.iterrows()):
        vals = row.to_numpy(float)
        if metric == "R2":
            vals = np.maximum(vals, -0.5)
        mean = "mean" in model.lower() or model == "Mean-baseline"
        ax.plot(
            x,
            vals,
            marker=markers[k % len(markers)],
            ls="--" if mean else "-",
            color="0.5" if mean else f"C{k}",
            lw=2.2 if model == "PairGP" else 1.3,
            label=model,
        )
    ax.set_xticks(x, list(wide.columns))
    ax.set_xlabel("protocol (each rung further from the training data)")
    if metric == "R2":
        ax.axhline(0, color="k", lw=0.7)
        ax.set_ylim(-0.55, 1.02)
        ax.set_ylabel("CV R² (dimensionless; below −0.5 drawn at −0.5)")
    else:
        ax.set_yscale("log")
        ax.set_ylabel("CV MAE (meV)")
    ax.set_title("The ladder: every model on every protocol", fontsize=11)
    ax.legend(fontsize=7.5, loc="center left", bbox_to_anchor=(1.01, 0.5))
    fig.tight_layout()
    return fig


def breakdown_plot(result, models=None, ax=None):
    """MAE (meV) per held-out element or geometry (the folds of ``element`` / ``distance``), one series per model.

    ``element``: grouped bars per element (in order of atomic number); ``distance``: MAE against the
    distance of the held-out geometry (log scale), with the mean |J| of its pairs for scale.
    """
    from ._report import fold_breakdown

    b = fold_breakdown(result)
    models = list(models or [c for c in b.columns[3:]])
    if ax is None:
        fig, ax = figure(figsize=(9, 3.8))
    else:
        fig = ax.figure
    held = result.rung.held
    if held != "pair geometry":  # one bar group per held-out element (or other unit)
        x = np.arange(len(b))
        w = 0.8 / len(models)
        for k, m in enumerate(models):
            ax.bar(x + (k - (len(models) - 1) / 2) * w, b[m], w, label=m, color="0.6" if m == "Mean-baseline" else f"C{k}")
        ax.set_xticks(x, b["held out"])
        ax.set_xlabel(f"{held} held out (every pair holding it)")
        ax.set_title(f"Errors per held-out {held}", fontsize=11)
    else:
        d = b["held out"].str.extract(r"([0-9.]+) Å")[0].astype(float).to_numpy()
        order = np.argsort(d, kind="stable")
        for k, m in enumerate(models):
            mean = m == "Mean-baseline"
            ax.plot(
                d[order], b[m].to_numpy()[order], marker="o", ls="--" if mean else "-", color="0.5" if mean else f"C{k}", label=m
            )
        ax.plot(d[order], b["mean |J|"].to_numpy()[order], color="k", ls=":", label="mean |J| of the held-out pairs")
        ax.set_yscale("log")
        ax.set_xlabel("distance of the held-out geometry (Å)")
        ax.set_title("Errors per held-out geometry", fontsize=11)
    ax.set_ylabel("MAE (meV)")
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    return fig
