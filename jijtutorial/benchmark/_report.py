"""Reports of benchmark runs: Markdown tables, the description of a run, protocols side by side."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._registry import STUDY_N, STUDY_RESULTS


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
