"""Reports of benchmark runs: Markdown tables, the description of a run, protocols side by side, the ladder."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..protocols import LADDER, get_protocol
from ..tables import Table, present
from ._registry import STUDY_N, STUDY_RESULTS

#: Units of the columns of a benchmark table (times per fold in s, errors in meV).
UNITS = {
    "t_train": "s",
    "t_test": "s",
    "t_prep": "s",
    "MAE": "meV",
    "MAE_std": "meV",
    "test_MAE": "meV",
    "study_t_train": "s",
    "study_t_test": "s",
    "study_MAE": "meV",
    "study_test_MAE": "meV",
}
#: Readable headers of a benchmark table.
HEADERS = {
    "R2": "R²",
    "MAE_std": "MAE std",
    "test_MAE": "test MAE",
    "test_R2": "test R²",
    "test_params": "test parameters",
    "study_t_train": "study t_train",
    "study_t_test": "study t_test",
    "study_MAE": "study MAE",
    "study_R2": "study R²",
    "study_test_MAE": "study test MAE",
    "study_test_R2": "study test R²",
}
#: Column order of a benchmark table on a page: the errors first, then the study's, then the times.
PAGE_COLUMNS = (
    "model",
    "protocol",
    "MAE",
    "R2",
    "test_MAE",
    "test_R2",
    "study_MAE",
    "study_R2",
    "study_test_MAE",
    "study_test_R2",
    "t_train",
    "t_test",
    "t_prep",
    "study_t_train",
)
#: The same split in two tables that fit the text column of a page: the errors (ours beside the study's) ...
ERROR_COLUMNS = ("model", "MAE", "R2", "test_MAE", "test_R2", "study_MAE", "study_R2", "study_test_MAE", "study_test_R2")
#: ... and the times.
TIME_COLUMNS = ("model", "t_train", "t_test", "t_prep", "study_t_train")


#: What each rung of the ladder asks, in one line (:attr:`jijtutorial.protocols.Protocol.question`).
QUESTIONS = {p.name: p.question for p in LADDER}


def describe_config(config: dict) -> str:
    """One paragraph saying how a run was done (protocol, folds, N, inner selection, held-out set)."""
    c = config
    rung = get_protocol(c.get("protocol", "study"))
    if rung.leave_one_out:
        what = rung.held
        return (
            f"Leave-one-{what}-out CV ({c.get('protocol')} protocol): {c.get('n_splits')} folds, one per "
            f"{what}, over all N = {c.get('n_rows')} pairs"
            + (" (a pair of two different elements is tested in both elements' folds)" if rung.blocks == "element" else "")
            + f"; hyperparameters chosen inside each training fold by exact closed-form leave-one-{what}-out CV "
            "over the training rows. MAE and R² pooled over the test pairs of all folds; MAE std is the spread "
            "of the per-fold MAE. No separate held-out set: every "
            f"{what} is held out once. t_train, t_test: mean per fold; t_prep: once per model (featurisation, "
            "distance matrix). MAE in meV, times in s."
        )
    inner = "leave-one-out" if rung.blocks == "rows" else "leave-one-group-out"
    return (
        f"{c.get('n_splits')}-fold x {c.get('n_repeats')}-repeat CV ({c.get('protocol')} protocol, seed "
        f"{c.get('seed')}) over all N = {c.get('n_rows')} pairs; hyperparameters chosen inside each training "
        f"fold by exact {inner} CV. Held-out test: a separate {c.get('protocol')} split, tuned on "
        f"{c.get('n_dev')} pairs, scored on the other {c.get('n_test')}. t_train, t_test: mean per fold; "
        f"t_prep: once per model (featurisation, distance matrix). MAE in meV, times in s. "
        + (
            f"The study's columns are its own figures on the same published table (N = {STUDY_N})."
            if c.get("published_table")
            else f"The study's columns are its figures for the published JuKKR table (N = {STUDY_N}); this run used "
            f"another data set (N = {c.get('n_rows')}), so they are not comparable."
        )
    )


def table_markdown(table: pd.DataFrame, digits: int = 3) -> str:
    """The benchmark table as Markdown: ours beside the study's figures (N = 1728)."""
    cols = [
        ("model", "model"),
        ("protocol", "protocol"),
        ("t_train", "t_train"),
        ("t_test", "t_test"),
        ("t_prep", "t_prep"),
        ("MAE", "MAE"),
        ("R2", "R²"),
        ("test_MAE", "test MAE"),
        ("test_R2", "test R²"),
        ("study_t_train", "study t_train"),
        ("study_MAE", "study MAE"),
        ("study_R2", "study R²"),
        ("study_test_MAE", "study test MAE"),
        ("study_test_R2", "study test R²"),
    ]
    cols = [(c, h) for c, h in cols if c in table.columns]

    def fmt(v, c):
        if isinstance(v, str):
            return v
        if v is None or (isinstance(v, float) and np.isnan(v)):
            return "–"
        if c.startswith("t_") or c.endswith("t_train") or c.endswith("t_test"):
            return f"{v:.3g}" if c.startswith("study") else f"{v:.3f}"
        if c.startswith("study"):
            return f"{v:.2f}"  # the study's figures, as printed
        if "MAE" in c and abs(v) < 0.1:
            return f"{v:.{digits}g}"  # small couplings (the model data set): significant digits
        return f"{v:.{digits}f}"

    lines = ["| " + " | ".join(h for _, h in cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    for _, row in table.iterrows():
        lines.append("| " + " | ".join(fmt(row[c], c) for c, _ in cols) + " |")
    return "\n".join(lines)


def compare_protocols(*results) -> pd.DataFrame:
    """One long table of several runs (e.g. the study and the grouped protocol), one row per model and run."""
    return pd.concat([r.table for r in results], ignore_index=True)


def protocols_side_by_side(*results) -> pd.DataFrame:
    """MAE (meV) and R² of every model under each run's protocol, with the study's (2023, N = 1728) figures.

    One row per model (in the runs' order); columns ``('MAE', protocol)``, ``('R2', protocol)``
    and ``('MAE'|'R2', 'study (2023)')``.
    """
    both = compare_protocols(*results)
    wide = both.pivot(index="model", columns="protocol", values=["MAE", "R2"])
    wide = wide.reindex(list(dict.fromkeys(both["model"])))
    for metric in ("MAE", "R2"):
        wide[(metric, f"study ({STUDY_N} pairs, 2023)")] = [
            getattr(STUDY_RESULTS[m], metric) if m in STUDY_RESULTS else np.nan for m in wide.index
        ]
    return wide.sort_index(axis=1)


def chosen_parameters(result) -> pd.DataFrame:
    """How often the inner cross-validation chose each hyperparameter value, per model and parameter.

    Parameters
    ----------
    result : BenchmarkResult
        A run; its ``folds`` table holds the parameters chosen in every outer training fold.

    Returns
    -------
    pandas.DataFrame
        One row per model, parameter and value, in the run's model order and by value: columns
        ``model``, ``parameter`` (e.g. ``gamma``), ``value`` (float, or text for a named choice such
        as PairGP's ``element_mode``), ``folds`` (how many outer folds
        chose it) and ``share`` (of that model's folds). The mean baseline, which has no
        hyperparameters, has no rows.
    """
    rows = []
    for model, folds in result.folds.groupby("model", sort=False):
        for text in folds["params"]:
            for item in filter(None, (p.strip() for p in str(text).split(","))):
                name, _, value = item.partition("=")
                try:
                    value = float(value)
                except ValueError:  # a named choice (PairGP's element and geometry modes)
                    value = value.strip()
                rows.append({"model": model, "parameter": name.strip(), "value": value})
    if not rows:
        return pd.DataFrame(columns=["model", "parameter", "value", "folds", "share"])
    chosen = pd.DataFrame(rows)
    order = {m: k for k, m in enumerate(dict.fromkeys(result.folds["model"]))}
    chosen["text"] = chosen["value"].astype(str)
    counts = (
        chosen.groupby(["model", "parameter", "text"], sort=False)
        .agg(value=("value", "first"), folds=("value", "size"))
        .reset_index()
        .drop(columns="text")
    )
    n_folds = result.folds.groupby("model").size()
    counts["share"] = counts["folds"] / counts["model"].map(n_folds)
    counts["_num"] = [v if isinstance(v, float) else np.nan for v in counts["value"]]
    counts["_txt"] = [v if isinstance(v, str) else "" for v in counts["value"]]
    counts = counts.sort_values(["model", "parameter", "_num", "_txt"], key=lambda c: c.map(order) if c.name == "model" else c)
    return counts.drop(columns=["_num", "_txt"]).reset_index(drop=True)


def present_results(result_or_table, columns=PAGE_COLUMNS, caption: str | None = None) -> Table:
    """A benchmark table as a page shows it: errors first, units in the headers, the study's figures as printed.

    Parameters
    ----------
    result_or_table : BenchmarkResult or pandas.DataFrame
        A run (its ``table``) or a table with the columns of :attr:`BenchmarkResult.table`.
    columns : sequence of str
        The columns to show, in this order (those missing from the table are skipped):
        :data:`PAGE_COLUMNS` (all), or :data:`ERROR_COLUMNS` and :data:`TIME_COLUMNS` for two tables
        narrow enough for a page.
    caption : str, optional
        A caption above the table.

    Returns
    -------
    jijtutorial.tables.Table
        Errors with 3 significant digits, R² with 3 decimals, the study's figures with the 2 decimals
        they were published with; the model name first.
    """
    table = getattr(result_or_table, "table", result_or_table)
    shown = [c for c in columns if c in table.columns]
    fixed = {c: 2 for c in shown if c.startswith("study_") and c != "study_t_train"}
    fixed.update({c: 3 for c in ("R2", "test_R2") if c in shown})
    return present(
        table[shown],
        units={c: u for c, u in UNITS.items() if c in shown},
        rename={c: h for c, h in HEADERS.items() if c in shown},
        decimals=fixed,
        caption=caption,
    )


def present_side_by_side(*results, caption: str | None = None) -> Table:
    """:func:`protocols_side_by_side` as a page shows it (MAE in meV, R² with 3 decimals, the study's figures with 2)."""
    wide = protocols_side_by_side(*results)
    published = f"study ({STUDY_N} pairs, 2023)"  # the study's own figures, printed with 2 decimals
    fixed = {c: 2 if c[1] == published else 3 for c in wide.columns if c[0] == "R2" or c[1] == published}
    return present(wide, units={"MAE": "meV"}, rename={"R2": "R²"}, decimals=fixed, caption=caption)


# --------------------------------------------------------------------------------------------
# the ladder
# --------------------------------------------------------------------------------------------
def _rung_results(ladder) -> list:
    rungs = getattr(ladder, "rungs", None)
    return list(rungs.values()) if rungs is not None else list(ladder)


def ladder_table(ladder) -> pd.DataFrame:
    """Every model on every rung: MAE (meV) and R², one row per model.

    Parameters
    ----------
    ladder : LadderResult or sequence of BenchmarkResult
        Runs of several protocols on one data set.

    Returns
    -------
    pandas.DataFrame
        Index ``model`` (in the runs' order); columns ``(metric, protocol)`` with metric ``MAE``
        or ``R2``. ``study`` and ``pairs``: means over the folds; ``element`` and ``distance``:
        pooled over the test pairs of all folds (see :class:`BenchmarkResult`).
    """
    results = _rung_results(ladder)
    long = pd.concat([r.table for r in results], ignore_index=True)
    models = list(dict.fromkeys(long["model"]))
    protocols = list(dict.fromkeys(long["protocol"]))
    wide = long.pivot(index="model", columns="protocol", values=["MAE", "R2"]).reindex(models)
    cols = [(m, p) for p in protocols for m in ("MAE", "R2")]
    wide = wide[cols]
    wide.columns = pd.MultiIndex.from_tuples(cols, names=[None, "protocol"])
    return wide


def ladder_markdown(ladder, digits: int = 3) -> str:
    """The ladder table as Markdown (MAE / R² per rung), what each rung asks and the time of each rung."""
    results = _rung_results(ladder)
    wide = ladder_table(results)
    protocols = list(dict.fromkeys(p for _, p in wide.columns))
    lines = [
        "| model | " + " | ".join(f"{p} MAE (meV) | {p} R²" for p in protocols) + " |",
        "|---|" + "---:|---:|" * len(protocols),
    ]
    for model, row in wide.iterrows():
        cells = []
        for p in protocols:
            mae, r2 = row[("MAE", p)], row[("R2", p)]
            cells += [
                "–" if not np.isfinite(mae) else (f"{mae:.{digits}g}" if abs(mae) < 0.1 else f"{mae:.{digits}f}"),
                "–" if not np.isfinite(r2) else f"{r2:.{digits}f}",
            ]
        lines.append(f"| {model} | " + " | ".join(cells) + " |")
    notes = [
        "",
        "What each rung asks: " + "; ".join(f"**{p}**: {get_protocol(p).question}" for p in protocols) + ".",
        _averaging_note(protocols),
    ]
    seconds = [f"{r.protocol} {r.seconds:.1f} s" for r in results]
    prep = getattr(ladder, "prepare_seconds", {}) or results[0].config.get("prepare_seconds", {})
    total = getattr(ladder, "seconds", None)
    in_processes = bool(results[0].config.get("processes", False))
    notes.append(
        (
            "Time of each rung (its folds' summed wall time over the parallel worker processes; the rungs ran side by side): "
            if in_processes
            else "Time of each rung (wall, folds of all models): "
        )
        + ", ".join(seconds)
        + (
            f"; preparing the models once (featurisation, matrices"
            f"{', before the folds' if in_processes else ', overlapping the first rung' + chr(39) + 's folds'}): "
            f"{sum(prep.values()):.1f} s"
            if prep
            else ""
        )
        + (f"; whole run {total:.1f} s." if total else ".")
    )
    cal = [r.calibration for r in results if len(r.calibration)]
    if cal:
        c = pd.concat(cal, ignore_index=True)
        notes += [
            "",
            "Error bars (fraction of test pairs inside; goal 0.683, 0.954 and 0.95):",
            "",
            "| model | protocol | ±1σ | ±2σ | ±J_95 | mean σ (meV) |",
            "|---|---|---:|---:|---:|---:|",
        ]
        notes += [
            f"| {r.model} | {r.protocol} | {r.within_1sigma:.3f} | {r.within_2sigma:.3f} | {r.within_J95:.3f} | "
            f"{r.mean_sigma:.3g} |"
            for r in c.itertuples()
        ]
    return "\n".join(lines + notes)


def d_table(results) -> pd.DataFrame:
    """Runs of the target D side by side: one row per model and rung (see :func:`d_table_markdown`)."""
    results = _rung_results(results)
    cols = ["model", "protocol", "MAE", "MAE_raw", "R2_Dx", "R2_Dy", "R2_Dz", "within_1sigma", "within_2sigma", "test_MAE"]
    return pd.concat([r.table[[c for c in cols if c in r.table.columns]] for r in results], ignore_index=True)


def d_table_markdown(results, digits: int = 3) -> str:
    """The D table as Markdown: MAE of |D_pred - D| (meV, symmetrised and raw D), R² per component, coverage."""
    t = d_table(results)
    lines = [
        "| model | protocol | MAE (meV) | MAE vs raw D (meV) | R² Dx | R² Dy | R² Dz | ±1σ | ±2σ | test MAE (meV) |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]

    def f(v, fmt):
        return "–" if v is None or not np.isfinite(v) else format(v, fmt)

    for r in t.itertuples(index=False):
        lines.append(
            f"| {r.model} | {r.protocol} | {f(r.MAE, f'.{digits}f')} | {f(r.MAE_raw, f'.{digits}f')} | "
            f"{f(r.R2_Dx, f'.{digits}f')} | {f(r.R2_Dy, f'.{digits}f')} | {f(r.R2_Dz, f'.{digits}f')} | "
            f"{f(r.within_1sigma, '.3f')} | {f(r.within_2sigma, '.3f')} | {f(r.test_MAE, f'.{digits}f')} |"
        )
    notes = [
        "",
        "MAE: mean |D_pred - D| against the symmetrised D (every row averaged over the rows the crystal's "
        "symmetry maps onto it: what the spin model uses); MAE vs raw D: against the data's own D, which holds "
        "symmetry-forbidden parts. R² per Cartesian component against the symmetrised D. ±1σ, ±2σ: fraction of "
        "the components within the model's σ (all three pooled, those the symmetry fixes -- σ = 0, known exactly -- "
        "left out); goal 0.683 and 0.954. study and pairs: mean over "
        "the folds; element: pooled over the test pairs of all folds.",
    ]
    return "\n".join(lines + notes)


def _averaging_note(protocols) -> str:
    """How each rung's figures are averaged: over the folds (shuffled rungs) or pooled (leave-one-out rungs)."""
    rungs = [get_protocol(p) for p in protocols]
    mean = [r.name for r in rungs if not r.leave_one_out]
    pooled = [r.name for r in rungs if r.leave_one_out]
    parts = ([f"{' and '.join(mean)}: mean over the folds"] if mean else []) + (
        [f"{' and '.join(pooled)}: pooled over the test pairs of all folds"] if pooled else []
    )
    return "; ".join(parts) + "."


def fold_breakdown(result) -> pd.DataFrame:
    """MAE (meV) of every model per held-out element or geometry (the folds of ``element``/``distance``).

    Parameters
    ----------
    result : BenchmarkResult
        A run of the ``element`` or ``distance`` protocol.

    Returns
    -------
    pandas.DataFrame
        One row per fold in fold order: ``held out`` (element or geometry), ``pairs`` (test pairs),
        ``mean |J|`` (meV) of those pairs, then one column per model with its MAE (meV).
    """
    if not get_protocol(result.protocol).leave_one_out:
        raise ValueError(
            f"fold_breakdown: the {result.protocol!r} protocol has no folds per element or geometry; "
            "use a run of the 'element' or 'distance' protocol."
        )
    p = result.predictions.assign(abs_error=lambda d: (d["J_pred"] - d["J"]).abs())
    order = list(dict.fromkeys(p.sort_values("fold", kind="stable")["label"]))
    wide = p.pivot_table(index="label", columns="model", values="abs_error", aggfunc="mean", sort=False)
    wide = wide.reindex(index=order, columns=list(dict.fromkeys(p["model"])))
    first = p[p["model"] == p["model"].iloc[0]]
    info = first.groupby("label", sort=False).agg(pairs=("J", "size"), mean_abs_J=("J", lambda j: j.abs().mean()))
    out = info.reindex(order).join(wide)
    out.index.name = "held out"
    return out.rename(columns={"mean_abs_J": "mean |J|"}).reset_index()


def present_ladder(ladder, caption: str | None = None, metric: str | None = None) -> Table:
    """:func:`ladder_table` as a page shows it: MAE in meV with 3 significant digits, R² with 3 decimals.

    ``metric`` ``"MAE"`` or ``"R2"`` gives that metric alone, one column per rung: a table that fits
    the text column of a page (both metrics of four rungs make nine columns, and the last ones
    scroll out of view).
    """
    wide = ladder_table(ladder)
    if metric is not None:
        if metric not in ("MAE", "R2"):
            raise ValueError(f"metric must be 'MAE', 'R2' or None (both), not {metric!r}.")
        wide = wide[metric]
        unit = " (meV)" if metric == "MAE" else ""
        wide.columns = [f"{p}{unit}" for p in wide.columns]
        return present(wide, decimals={c: 3 for c in wide.columns} if metric == "R2" else None, caption=caption)
    return present(
        wide, units={"MAE": "meV"}, rename={"R2": "R²"}, decimals={c: 3 for c in wide.columns if c[0] == "R2"}, caption=caption
    )
