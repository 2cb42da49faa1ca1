"""What random splits hide: twins (A, B)/(B, A) on both sides of a split."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..protocols import get_protocol


def twin_rows(frame: pd.DataFrame) -> np.ndarray:
    """Row of the twin of each row -- (B, A) at the same pair vector as (A, B) -- or -1 if none; shape (n,)."""
    vec = frame[["rx", "ry", "rz"]].to_numpy(float).round(4) + 0.0
    key = {(a, b, tuple(v)): k for k, (a, b, v) in enumerate(zip(frame["element_i"], frame["element_j"], vec))}
    out = np.full(len(frame), -1)
    for k, (a, b, v) in enumerate(zip(frame["element_i"], frame["element_j"], vec)):
        if a != b:
            out[k] = key.get((b, a, tuple(v)), -1)
    return out


#: Row of :func:`leakage_breakdown` (``twin_lookup=True``): each test pair predicted by its twin's J.
TWIN_LOOKUP = "twin's J (look-up)"


def leakage_breakdown(result, twin_lookup: bool = False) -> pd.DataFrame:
    """Out-of-fold MAE (meV) per model, split by whether the test row's twin was in the training fold.

    Rebuilds the outer splits of ``result`` (a :class:`BenchmarkResult`; same seed) and labels each
    test row: ``twin in training`` (its (B, A) partner was trained on), ``twin also in test`` or
    ``no twin`` (A = B, or the partner is missing). Columns: ``('MAE', case)`` and ``('share', case)``.

    ``twin_lookup=True`` adds the row :data:`TWIN_LOOKUP`: every test pair that has a twin predicted
    by the twin's own J, so its MAE is the mean |J(A, B) − J(B, A)| of those pairs (NaN for ``no
    twin``). A model that only recalls the twin it was trained on has exactly that error.
    """
    c = result.config
    frame = result.frame
    twin = twin_rows(frame)
    label = np.empty((c["n_repeats"], len(frame)), dtype=object)
    for r, _f, tr, te in get_protocol(result.protocol).outer_splits(frame, c["n_splits"], c["n_repeats"], c["seed"]):
        in_train = np.zeros(len(frame), bool)
        in_train[tr] = True
        t = twin[te]
        label[r, te] = np.where(t < 0, "no twin", np.where(in_train[np.maximum(t, 0)], "twin in training", "twin also in test"))
    p = result.predictions.copy()
    models = list(dict.fromkeys(result.table["model"]))
    if twin_lookup:
        first = p[p["model"] == p["model"].iloc[0]].copy()
        y = frame["J"].to_numpy(float)
        t = twin[first["row"].to_numpy()]
        first["J_pred"] = np.where(t >= 0, y[np.maximum(t, 0)], np.nan)
        first["model"] = TWIN_LOOKUP
        p = pd.concat([p, first], ignore_index=True)
        models.append(TWIN_LOOKUP)
    p["case"] = label[p["repeat"].to_numpy(), p["row"].to_numpy()]
    p["abs_error"] = (p["J_pred"] - p["J"]).abs()
    out = p.groupby(["model", "case"]).agg(MAE=("abs_error", "mean"), share=("abs_error", "size")).reset_index()
    out["share"] = out["share"] / out.groupby("model")["share"].transform("sum")
    return out.pivot(index="model", columns="case", values=["MAE", "share"]).reindex(models)
