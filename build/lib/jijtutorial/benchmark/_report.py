"""Reports of benchmark runs: Markdown tables, the description of a run, protocols side by side."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..tables import Table, present
from ._registry import STUDY_N, STUDY_RESULTS

#: Units of the columns of a benchmark table (times per fold in s, errors in meV).
UNITS = {"t_train": "s", "t_test": "s", "t_prep": "s", "MAE": "meV", "MAE_std": "meV", "test_MAE": "meV",
         "study_t_train": "s", "study_t_test": "s", "study_MAE": "meV", "study_test_MAE": "meV"}
#: Readable headers of a benchmark table.
HEADERS = {"R2": "R²", "MAE_std": "MAE std", "test_MAE": "test MAE", "test_R2": "test R²", "test_params": "test parameters",
           "study_t_train": "study t_train", "study_t_test": "study t_test", "study_MAE": "study MAE",
           "study_R2": "study R²", "study_test_MAE": "study test MAE", "study_test_R2": "study test R²"}
#: Column order of a benchmark table on a page: the errors first, then the study's, then the times.
PAGE_COLUMNS = ("model", "protocol", "MAE", "R2", "test_MAE", "test_R2", "study_MAE", "study_R2", "study_test_MAE",
                "study_test_R2", "t_train", "t_test", "t_prep", "study_t_train")


def describe_config(config: dict) -> str:
    """One paragraph saying how a run was done (protocol, folds, N, inner selection, held-out set)."""
    c = config
    inner = "leave-one-out" if c.get("protocol") == "study" else "leave-one-group-out"
    return (f"{c.get('n_splits')}-fold x {c.get('n_repeats')}-repeat CV ({c.get('protocol')} protocol, seed "
            f"{c.get('seed')}) over all N = {c.get('n_rows')} pairs; hyperparameters chosen inside each training "
            f"fold by exact {inner} CV. Held-out test: a separate {c.get('protocol')} split, tuned on "
            f"{c.get('n_dev')} pairs, scored on the other {c.get('n_test')}. t_train, t_test: mean per fold; "
            f"t_prep: once per model (featurisation, distance matrix). MAE in meV, times in s. "
            + (f"The study's columns are its own figures on the same published table (N = {STUDY_N})."
               if c.get("published_table") else
               f"The study's columns are its figures for the published JuKKR table (N = {STUDY_N}); this run used "
               f"another data set (N = {c.get('n_rows')}), so they are not comparable."))


def table_markdown(table: pd.DataFrame, digits: int = 3) -> str:
    """The benchmark table as Markdown: ours beside the study's figures (N = 1728)."""
    cols = [("model", "model"), ("protocol", "protocol"), ("t_train", "t_train"), ("t_test", "t_test"),
            ("t_prep", "t_prep"), ("MAE", "MAE"), ("R2", "R²"), ("test_MAE", "test MAE"), ("test_R2", "test R²"),
            ("study_t_train", "study t_train"), ("study_MAE", "study MAE"), ("study_R2", "study R²"),
            ("study_test_MAE", "study test MAE"), ("study_test_R2", "study test R²")]
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
            getattr(STUDY_RESULTS[m], metric) if m in STUDY_RESULTS else np.nan for m in wide.index]
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
        ``model``, ``parameter`` (e.g. ``gamma``), ``value`` (float), ``folds`` (how many outer folds
        chose it) and ``share`` (of that model's folds). The mean baseline, which has no
        hyperparameters, has no rows.
    """
    rows = []
    for model, folds in result.folds.groupby("model", sort=False):
        for text in folds["params"]:
            for item in filter(None, (p.strip() for p in str(text).split(","))):
                name, _, value = item.partition("=")
                rows.append({"model": model, "parameter": name.strip(), "value": float(value)})
    if not rows:
        return pd.DataFrame(columns=["model", "parameter", "value", "folds", "share"])
    chosen = pd.DataFrame(rows)
    order = {m: k for k, m in enumerate(dict.fromkeys(result.folds["model"]))}
    counts = chosen.groupby(["model", "parameter", "value"]).size().rename("folds").reset_index()
    n_folds = result.folds.groupby("model").size()
    counts["share"] = counts["folds"] / counts["model"].map(n_folds)
    counts = counts.sort_values(["model", "parameter", "value"], key=lambda c: c.map(order) if c.name == "model" else c)
    return counts.reset_index(drop=True)


def present_results(result_or_table, columns=PAGE_COLUMNS, caption: str | None = None) -> Table:
    """A benchmark table as a page shows it: errors first, units in the headers, the study's figures as printed.

    Parameters
    ----------
    result_or_table : BenchmarkResult or pandas.DataFrame
        A run (its ``table``) or a table with the columns of :attr:`BenchmarkResult.table`.
    columns : sequence of str
        The columns to show, in this order (those missing from the table are skipped).
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
    return present(table[shown], units={c: u for c, u in UNITS.items() if c in shown},
                   rename={c: h for c, h in HEADERS.items() if c in shown}, decimals=fixed, caption=caption)


def present_side_by_side(*results, caption: str | None = None) -> Table:
    """:func:`protocols_side_by_side` as a page shows it (MAE in meV, R² with 3 decimals, the study's figures with 2)."""
    wide = protocols_side_by_side(*results)
    published = f"study ({STUDY_N} pairs, 2023)"  # the study's own figures, printed with 2 decimals
    fixed = {c: 2 if c[1] == published else 3 for c in wide.columns if c[0] == "R2" or c[1] == published}
    return present(wide, units={"MAE": "meV"}, rename={"R2": "R²"}, decimals=fixed, caption=caption)
