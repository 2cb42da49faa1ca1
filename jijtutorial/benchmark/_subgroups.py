"""Are the error bars honest for every kind of pair? Coverage and reliability per subgroup.

A σ calibrated over all test pairs can still be wrong for a kind of pair: too wide for the many
pairs of non-magnetic impurities (J ≈ 0) and too narrow for the few whose J the model gets badly
wrong. This module splits the out-of-fold predictions of a benchmark run into subgroups and
gives each its coverage (fraction of test pairs with |J − μ| ≤ kσ, goal 0.683 at k = 1 and 0.954
at k = 2) and its reliability curve:

* ``magnetism``: both impurities magnetic, one, or neither. An element is magnetic when the median
  |moment| of its own rows in the data is at least :data:`MAGNETIC_MOMENT` (μB); this reads the
  data's moments to *group* the test pairs after the fact, never to predict them;
* ``shell``: the pair geometry (layer class and distance, as in the data's ``geometry`` column);
* ``element``: every pair holding the element (a pair A–B counts in A's and in B's group).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._calibration import NOMINAL, coverage, reliability_curve

#: Smallest median |moment| (μB) of an element's own rows for it to count as magnetic.
MAGNETIC_MOMENT = 0.1
#: Kinds of subgroups.
SUBGROUP_KINDS = ("magnetism", "shell", "element")
_MAGNETISM = ("both magnetic", "one magnetic", "neither magnetic")


def magnetic_elements(frame: pd.DataFrame, threshold: float = MAGNETIC_MOMENT) -> set:
    """Elements whose rows in ``frame`` have a median |moment_i| of at least ``threshold`` (μB)."""
    if "moment_i" not in frame.columns:
        raise ValueError("frame: column 'moment_i' (μB) is needed to tell magnetic from non-magnetic elements.")
    med = frame.groupby(frame["element_i"].astype(str))["moment_i"].agg(lambda m: float(np.median(np.abs(m))))
    return {str(e) for e, m in med.items() if m >= threshold}


def _predictions(result) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(predictions with σ of every rung, the run's frame) of a BenchmarkResult or LadderResult."""
    rungs = list(result.rungs.values()) if hasattr(result, "rungs") else [result]
    parts = []
    for r in rungs:
        p = r.predictions
        if "J_std" not in p.columns:
            continue
        parts.append(p[np.isfinite(p["J_std"])].assign(protocol=r.protocol))
    if not parts:
        raise ValueError("the run has no model with error bars (J_std): nothing to calibrate.")
    return pd.concat(parts, ignore_index=True), rungs[0].frame


def subgroup_labels(frame: pd.DataFrame, rows, kind: str) -> list[np.ndarray]:
    """Subgroup label(s) of each of ``rows`` of ``frame``: one array per membership (two for ``element``)."""
    f = frame.iloc[np.asarray(rows)]
    if kind == "magnetism":
        mag = magnetic_elements(frame)
        n = f["element_i"].astype(str).isin(mag).to_numpy(int) + f["element_j"].astype(str).isin(mag).to_numpy(int)
        return [np.array(_MAGNETISM)[2 - n]]
    if kind == "shell":
        return [f["geometry"].astype(str).to_numpy()]
    if kind == "element":
        a, b = f["element_i"].astype(str).to_numpy(), f["element_j"].astype(str).to_numpy()
        return [a, np.where(a == b, None, b)]  # A–A counts once
    raise ValueError(f"kind must be one of {SUBGROUP_KINDS}, not {kind!r}.")


def _names(labs, kind) -> list:
    """The distinct labels of a kind, in a reading order (shells by distance)."""
    names = list(pd.unique(np.concatenate([np.asarray(lab[pd.notna(lab)], dtype=object) for lab in labs])))
    if kind == "shell":
        names.sort(key=lambda s: float(str(s).rsplit(",", 1)[-1].replace("Å", "")))
    return names


def subgroup_calibration(result, kinds=SUBGROUP_KINDS, models=None) -> pd.DataFrame:
    """Coverage of ±1σ and ±2σ, MAE and mean σ per model, rung and subgroup of a benchmark run.

    Parameters
    ----------
    result : :class:`BenchmarkResult` or :class:`LadderResult`
        A run whose models give error bars (out-of-fold J, J_pred, J_std in meV).
    kinds : subset of :data:`SUBGROUP_KINDS`.
    models : model names to keep (default: every model with σ).

    Returns
    -------
    DataFrame: model, protocol, kind, subgroup, n, within_1sigma, within_2sigma (fractions),
    MAE, mean_sigma (meV); one row per subgroup, the rung's overall row as kind 'all'.
    """
    p, frame = _predictions(result)
    if models is not None:
        p = p[p["model"].isin(list(models))]
    rows = []
    for (model, protocol), g in p.groupby(["model", "protocol"], sort=False):
        y, mu, sd = g["J"].to_numpy(float), g["J_pred"].to_numpy(float), g["J_std"].to_numpy(float)
        groups = [("all", [np.full(len(g), "all pairs", dtype=object)])]
        groups += [(kind, subgroup_labels(frame, g["row"].to_numpy(int), kind)) for kind in kinds]
        for kind, labs in groups:
            for name in _names(labs, kind):
                m = np.logical_or.reduce([lab == name for lab in labs])
                c = coverage(y[m], mu[m], sd[m])
                rows.append(
                    {
                        "model": model,
                        "protocol": protocol,
                        "kind": kind,
                        "subgroup": name,
                        "n": int(m.sum()),
                        "within_1sigma": c[1.0],
                        "within_2sigma": c[2.0],
                        "MAE": float(np.mean(np.abs(y[m] - mu[m]))),
                        "mean_sigma": float(np.mean(sd[m])),
                    }
                )
    return pd.DataFrame(rows)


def worst_subgroups(table: pd.DataFrame) -> pd.DataFrame:
    """Per model and rung: overall ±1σ/±2σ coverage and the lowest ±1σ coverage of any subgroup (and which)."""
    out = []
    for (model, protocol), g in table.groupby(["model", "protocol"], sort=False):
        allr = g[g["kind"] == "all"].iloc[0]
        sub = g[g["kind"] != "all"]
        w = sub.loc[sub["within_1sigma"].idxmin()] if len(sub) else None
        out.append(
            {
                "model": model,
                "protocol": protocol,
                "within_1sigma": allr["within_1sigma"],
                "within_2sigma": allr["within_2sigma"],
                "lowest_1sigma": np.nan if w is None else w["within_1sigma"],
                "lowest_subgroup": "" if w is None else f"{w['kind']}: {w['subgroup']}",
                "subgroups_below_half": int((sub["within_1sigma"] < 0.5).sum()),
            }
        )
    return pd.DataFrame(out)


def subgroup_reliability_plot(result, model: str, protocol: str, kinds=SUBGROUP_KINDS, nominal=NOMINAL):
    """Reliability curves of one model on one rung, one panel per kind of subgroup, one line per subgroup.

    Returns
    -------
    matplotlib.figure.Figure
        White background; x: nominal coverage of μ ± zσ, y: observed fraction of the subgroup's test
        pairs inside; the dashed diagonal is perfect calibration, points below it over-confident σ.
    """
    from matplotlib import colormaps

    from ..plotting import figure

    p, frame = _predictions(result)
    g = p[(p["model"] == model) & (p["protocol"] == protocol)]
    if g.empty:
        raise ValueError(f"no predictions with σ of model {model!r} on rung {protocol!r} in this run.")
    y, mu, sd = g["J"].to_numpy(float), g["J_pred"].to_numpy(float), g["J_std"].to_numpy(float)
    fig, axes = figure(ncols=len(kinds), figsize=(3.6 * len(kinds), 3.8))
    axes = np.atleast_1d(axes)
    mag = magnetic_elements(frame)
    for ax, kind in zip(axes, kinds):
        labs = subgroup_labels(frame, g["row"].to_numpy(int), kind)
        names = _names(labs, kind)
        cmap = colormaps["viridis"]
        ax.plot([0, 1], [0, 1], color="0.5", lw=1, ls="--")
        for k, name in enumerate(names):
            m = np.logical_or.reduce([lab == name for lab in labs])
            c = reliability_curve(y[m], mu[m], sd[m], nominal)
            if kind == "element":
                color, lw, label = ("C3" if name in mag else "C0"), 0.9, None
            else:
                color, lw, label = cmap(k / max(len(names) - 1, 1)), 1.4, f"{name} ({int(m.sum())})"
            ax.plot(c["nominal"], c["observed"], color=color, lw=lw, label=label)
        if kind == "element":
            ax.plot([], [], color="C3", label="magnetic element")
            ax.plot([], [], color="C0", label="non-magnetic element")
        for q in (0.6827, 0.9545):
            ax.axvline(q, color="0.85", lw=0.8, zorder=0)
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.set_xlabel("nominal coverage of μ ± zσ")
        ax.set_title(
            {
                "magnetism": "by magnetism of the pair",
                "shell": "by shell (pair geometry)",
                "element": "by element (one line each)",
            }[kind],
            fontsize=9,
        )
        ax.legend(fontsize=6, loc="upper left")
    axes[0].set_ylabel("observed fraction inside")
    fig.suptitle(f"Reliability of σ of J (meV) per subgroup: {model}, {protocol} rung", fontsize=10)
    fig.tight_layout()
    return fig


__all__ = [
    "MAGNETIC_MOMENT",
    "SUBGROUP_KINDS",
    "magnetic_elements",
    "subgroup_calibration",
    "subgroup_labels",
    "subgroup_reliability_plot",
    "worst_subgroups",
]
